-- inspection schema: checklist templates, inspections (with their checklists), findings,
-- measures — each stored as a document (common/doc_table.h: the message in `body`, the
-- columns queries use beside it, the chain head) — accountability checks (一案双查),
-- rectifications (the shared table of common/rectification_store.h), their hash-chained
-- events, the outbox of referrals to clue-service, the clue-feed cursor, idempotency and
-- statistics.

CREATE SEQUENCE inspection_number_seq;

CREATE TABLE templates (
  id          uuid PRIMARY KEY,
  body        bytea NOT NULL,
  chain_len   integer NOT NULL DEFAULT 0,
  chain_head  text NOT NULL DEFAULT '',
  code        text NOT NULL,
  version     integer NOT NULL,
  UNIQUE (code, version)
);

CREATE TABLE inspections (
  id                  uuid PRIMARY KEY,
  body                bytea NOT NULL,
  chain_len           integer NOT NULL DEFAULT 0,
  chain_head          text NOT NULL DEFAULT '',
  number              text NOT NULL UNIQUE,
  kind                text NOT NULL,
  state               text NOT NULL,
  inspection_unit_id  uuid NOT NULL,
  target_unit_ids     uuid[] NOT NULL,
  created_us          bigint NOT NULL
);
CREATE INDEX inspections_order ON inspections (created_us, id);
CREATE INDEX inspections_targets ON inspections USING gin (target_unit_ids);
CREATE INDEX inspections_unit ON inspections (inspection_unit_id);

CREATE TABLE findings (
  id               uuid PRIMARY KEY,
  body             bytea NOT NULL,
  chain_len        integer NOT NULL DEFAULT 0,
  chain_head       text NOT NULL DEFAULT '',
  inspection_id    uuid NOT NULL REFERENCES inspections (id),
  subject_unit_id  uuid NOT NULL,
  category         text NOT NULL,
  clue_id          uuid,            -- the clue its referral became
  created_us       bigint NOT NULL
);
CREATE INDEX findings_inspection ON findings (inspection_id, created_us, id);
CREATE UNIQUE INDEX findings_clue ON findings (clue_id) WHERE clue_id IS NOT NULL;
CREATE INDEX findings_unit ON findings (subject_unit_id, created_us, id);

CREATE TABLE measures (
  id             uuid PRIMARY KEY,
  body           bytea NOT NULL,
  chain_len      integer NOT NULL DEFAULT 0,
  chain_head     text NOT NULL DEFAULT '',
  inspection_id  uuid NOT NULL REFERENCES inspections (id),
  person_id      uuid NOT NULL,
  unit_id        uuid NOT NULL,
  kind           text NOT NULL,
  state          text NOT NULL,
  ends_us        bigint,
  created_us     bigint NOT NULL
);
CREATE INDEX measures_inspection ON measures (inspection_id, created_us, id);
CREATE INDEX measures_person ON measures (person_id, created_us, id);
CREATE INDEX measures_in_force ON measures (ends_us) WHERE state = 'MEASURE_STATE_IN_FORCE';

-- 一案双查: one check per (concluded clue, duty).
CREATE TABLE accountability_checks (
  id                uuid PRIMARY KEY,
  body              bytea NOT NULL,
  chain_len         integer NOT NULL DEFAULT 0,
  chain_head        text NOT NULL DEFAULT '',
  clue_id           uuid NOT NULL,
  duty              text NOT NULL,
  owner_unit_id     uuid NOT NULL,
  leader_person_id  uuid,
  subject_unit_id   uuid NOT NULL,
  outcome           text NOT NULL,
  deadline_us       bigint NOT NULL,
  referral_clue_id  uuid,            -- the clue its referral (outcome REFERRED) became
  created_us        bigint NOT NULL,
  UNIQUE (clue_id, duty)
);
CREATE INDEX accountability_order ON accountability_checks (created_us, id);
CREATE INDEX accountability_leader ON accountability_checks (leader_person_id);
CREATE UNIQUE INDEX accountability_referral ON accountability_checks (referral_clue_id)
  WHERE referral_clue_id IS NOT NULL;

-- common/rectification_store.h
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

CREATE TABLE inspection_events (
  aggregate_id   uuid NOT NULL,
  seq            integer NOT NULL,
  type           text NOT NULL,
  actor          text NOT NULL,
  actor_unit_id  text NOT NULL,
  at             timestamptz NOT NULL,
  data           text NOT NULL,
  prev_hash      text NOT NULL,
  hash           text NOT NULL,
  chain_version  integer NOT NULL DEFAULT 1 CHECK (chain_version IN (1, 2)),
  state_digest   text NOT NULL DEFAULT '',
  xid            xid8 NOT NULL DEFAULT pg_current_xact_id(),
  gseq           bigserial NOT NULL,
  PRIMARY KEY (aggregate_id, seq)
);
CREATE INDEX inspection_events_order ON inspection_events (xid, gseq);

-- Every chain's head (what a signed checkpoint covers).
CREATE VIEW inspection_chains AS
  SELECT id, chain_len, chain_head FROM templates
  UNION ALL SELECT id, chain_len, chain_head FROM inspections
  UNION ALL SELECT id, chain_len, chain_head FROM findings
  UNION ALL SELECT id, chain_len, chain_head FROM measures
  UNION ALL SELECT id, chain_len, chain_head FROM accountability_checks;

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
