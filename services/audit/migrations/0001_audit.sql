-- audit schema: engagements, findings, rectifications, their hash-chained events, the
-- outbox of referrals to clue-service, and the cursor of the clue-event consumer.

CREATE SEQUENCE engagement_number_seq;

CREATE TABLE engagements (
  id                 uuid PRIMARY KEY,
  number             text NOT NULL UNIQUE,
  kind               text NOT NULL,
  title              text NOT NULL,
  audit_unit_id      uuid NOT NULL,
  audited_unit_id    uuid NOT NULL,
  audited_person_id  uuid,
  period_from        date NOT NULL,
  period_to          date NOT NULL,
  it_stage           text NOT NULL,
  state              text NOT NULL,
  version            bigint NOT NULL DEFAULT 1,
  created_at         timestamptz NOT NULL DEFAULT now(),
  chain_len          integer NOT NULL DEFAULT 0,
  chain_head         text NOT NULL DEFAULT '',
  CHECK (period_from <= period_to)
);
CREATE INDEX engagements_audited ON engagements (audited_unit_id, created_at DESC, id);

CREATE TABLE findings (
  id                     uuid PRIMARY KEY,
  number                 text NOT NULL UNIQUE,
  engagement_id          uuid NOT NULL REFERENCES engagements (id),
  title                  text NOT NULL,
  description            text NOT NULL,
  category               text NOT NULL,
  amount_fen             bigint NOT NULL CHECK (amount_fen >= 0),
  severity               text NOT NULL,
  responsible_unit_id    uuid NOT NULL,
  responsible_person_id  uuid,
  evidence_refs          text[] NOT NULL DEFAULT '{}',
  referral_state         text NOT NULL DEFAULT 'REFERRAL_STATE_UNSPECIFIED',
  referral_to            uuid,
  clue_id                uuid,
  clue_number            text,
  clue_state             text,
  disposition            text,
  outcome_form           integer,
  outcome_feedback       text,
  referral_error         text,
  recurring              boolean NOT NULL DEFAULT false,
  recurs_finding_id      uuid,
  version                bigint NOT NULL DEFAULT 1,
  created_at             timestamptz NOT NULL DEFAULT now(),
  chain_len              integer NOT NULL DEFAULT 0,
  chain_head             text NOT NULL DEFAULT ''
);
CREATE INDEX findings_engagement ON findings (engagement_id, created_at, id);
CREATE INDEX findings_unit ON findings (responsible_unit_id, category, created_at);
CREATE UNIQUE INDEX findings_clue ON findings (clue_id) WHERE clue_id IS NOT NULL;

CREATE TABLE rectifications (
  id              uuid PRIMARY KEY,
  finding_id      uuid NOT NULL REFERENCES findings (id),
  measure         text NOT NULL,
  owner_unit_id   uuid NOT NULL,
  deadline_at     timestamptz NOT NULL,
  state           text NOT NULL,
  overdue         boolean NOT NULL DEFAULT false,
  spot_check      boolean NOT NULL DEFAULT false,
  signed_off_at   timestamptz,
  lookback_until  timestamptz,
  reopened        integer NOT NULL DEFAULT 0,
  last_note       text NOT NULL DEFAULT '',
  version         bigint NOT NULL DEFAULT 1,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rectifications_finding ON rectifications (finding_id);
CREATE INDEX rectifications_owner ON rectifications (owner_unit_id, state);

CREATE TABLE audit_events (
  aggregate_id   uuid NOT NULL,
  seq            integer NOT NULL,
  type           text NOT NULL,
  actor          text NOT NULL,
  actor_unit_id  text NOT NULL,
  at             timestamptz NOT NULL,
  data           text NOT NULL,
  prev_hash      text NOT NULL,
  hash           text NOT NULL,
  xid            xid8 NOT NULL DEFAULT pg_current_xact_id(),
  gseq           bigserial NOT NULL,
  PRIMARY KEY (aggregate_id, seq)
);
CREATE INDEX audit_events_order ON audit_events (xid, gseq);

CREATE TABLE outbox (
  id               bigserial PRIMARY KEY,
  kind             text NOT NULL,
  dedupe_key       text NOT NULL UNIQUE,
  payload          bytea NOT NULL,
  state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  delivered_at     timestamptz,
  response         bytea
);
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE state = 'pending';

CREATE TABLE consumer_cursors (
  name        text PRIMARY KEY,
  cursor      text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE idempotency (
  request_id     text PRIMARY KEY,
  method         text NOT NULL,
  request_sha256 text NOT NULL,
  response       bytea NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE SEQUENCE stats_version;
