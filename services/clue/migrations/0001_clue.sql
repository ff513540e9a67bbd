-- clue schema: clues, their subjects, chain of custody and hash-chained events.

CREATE SEQUENCE clue_number_seq;

CREATE TABLE clues (
  id                  uuid PRIMARY KEY,
  number              text NOT NULL UNIQUE,
  state               text NOT NULL,
  source              text NOT NULL,
  channel             text NOT NULL,
  source_system       text,
  source_ref          text,
  origin_unit_id      uuid NOT NULL,
  holding_unit_id     uuid NOT NULL,
  offered_to_unit_id  uuid,
  handler_person_id   uuid,
  categories          text[] NOT NULL,
  summary             text NOT NULL,
  details_sealed      text,            -- AES-256-GCM, key id inside (common/sealed.h)
  reporter_sealed     text,
  has_reporter        boolean NOT NULL DEFAULT false,
  severity            text NOT NULL,
  received_at         timestamptz NOT NULL,
  registered_at       timestamptz NOT NULL,
  disposition_method  text,
  disposition_reason  text,
  disposition_by      text,
  disposition_at      timestamptz,
  outcome_form        integer,
  outcome_case_filed  boolean,
  outcome_sanctions   text[],
  outcome_feedback    text,
  concluded_at        timestamptz,
  deadline_at         timestamptz,
  deadline_stage      text,
  overdue             boolean NOT NULL DEFAULT false,
  merged_into         uuid REFERENCES clues (id),
  intervened          boolean NOT NULL DEFAULT false,
  version             bigint NOT NULL DEFAULT 1,
  chain_len           integer NOT NULL DEFAULT 0,  -- events so far (hash_chain.h)
  chain_head          text NOT NULL DEFAULT '',    -- hash of the last event
  updated_at          timestamptz NOT NULL DEFAULT now(),
  -- One clue per referral, whatever retries happen (ARCHITECTURE.md § How messages move).
  UNIQUE (source_system, source_ref),
  CHECK ((source_system IS NULL) = (source_ref IS NULL))
);
CREATE INDEX clues_holding ON clues (holding_unit_id, received_at DESC, id);
CREATE INDEX clues_origin ON clues (origin_unit_id, received_at DESC, id);
CREATE INDEX clues_received ON clues (received_at DESC, id);
CREATE INDEX clues_deadline ON clues (deadline_at) WHERE deadline_at IS NOT NULL;
CREATE INDEX clues_summary_trgm ON clues USING gin (summary public.gin_trgm_ops);

CREATE TABLE clue_subjects (
  clue_id       uuid NOT NULL REFERENCES clues (id),
  ord           integer NOT NULL,
  person_id     uuid,
  unit_id       uuid,
  display_name  text NOT NULL,
  PRIMARY KEY (clue_id, ord),
  CHECK ((person_id IS NULL) <> (unit_id IS NULL))
);
CREATE INDEX clue_subjects_person ON clue_subjects (person_id) WHERE person_id IS NOT NULL;

-- Every unit that registered, held or was offered the clue: the units that may see it.
CREATE TABLE clue_custody (
  clue_id   uuid NOT NULL REFERENCES clues (id),
  unit_id   uuid NOT NULL,
  PRIMARY KEY (clue_id, unit_id)
);
CREATE INDEX clue_custody_unit ON clue_custody (unit_id, clue_id);

-- The event log. Per clue, events form a SHA-256 hash chain (hash = H(prev_hash, event)).
-- xid + gseq give the commit-safe global order for subscribers (ARCHITECTURE.md).
CREATE TABLE clue_events (
  clue_id        uuid NOT NULL REFERENCES clues (id),
  seq            integer NOT NULL,
  type           text NOT NULL,
  actor          text NOT NULL,
  actor_unit_id  text NOT NULL,
  at             timestamptz NOT NULL,
  data           text NOT NULL,           -- JSON, never sensitive content
  prev_hash      text NOT NULL,
  hash           text NOT NULL,
  xid            xid8 NOT NULL DEFAULT pg_current_xact_id(),
  gseq           bigserial NOT NULL,
  PRIMARY KEY (clue_id, seq)
);
CREATE INDEX clue_events_order ON clue_events (xid, gseq);

CREATE TABLE idempotency (
  request_id     text PRIMARY KEY,
  method         text NOT NULL,
  request_sha256 text NOT NULL,
  response       bytea NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now()
);
