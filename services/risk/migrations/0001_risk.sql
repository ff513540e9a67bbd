-- risk schema: risk points, screening campaigns (and who was screened), risk items, talks
-- and person scores — each stored as a document (common/doc_table.h) — the signals the
-- scores are computed from (one row per signal, keyed by the event it came from, so a
-- replay adds nothing), their hash-chained events, the cursors of the three feeds it
-- follows (clue, audit, inspection), idempotency and statistics.

CREATE SEQUENCE risk_item_number_seq;

CREATE TABLE risk_points (
  id          uuid PRIMARY KEY,
  body        bytea NOT NULL,
  chain_len   integer NOT NULL DEFAULT 0,
  chain_head  text NOT NULL DEFAULT '',
  post_id     uuid NOT NULL,
  power       text NOT NULL,
  active      boolean NOT NULL,
  created_us  bigint NOT NULL
);
CREATE INDEX risk_points_post ON risk_points (post_id, created_us, id);
CREATE INDEX risk_points_order ON risk_points (created_us, id);

CREATE TABLE campaigns (
  id              uuid PRIMARY KEY,
  body            bytea NOT NULL,
  chain_len       integer NOT NULL DEFAULT 0,
  chain_head      text NOT NULL DEFAULT '',
  state           text NOT NULL,
  unit_id         uuid NOT NULL,
  scope_unit_ids  uuid[] NOT NULL,
  created_us      bigint NOT NULL
);
CREATE INDEX campaigns_order ON campaigns (created_us, id);

-- One row per person screened in a campaign (the campaign's chain records each).
CREATE TABLE screenings (
  campaign_id   uuid NOT NULL REFERENCES campaigns (id),
  person_id     uuid NOT NULL,
  unit_id       uuid NOT NULL,
  outcome       text NOT NULL,
  note          text NOT NULL DEFAULT '',
  screened_by   text NOT NULL,
  at_us         bigint NOT NULL,
  risk_item_id  uuid,
  PRIMARY KEY (campaign_id, person_id)
);
CREATE INDEX screenings_unit ON screenings (campaign_id, unit_id);

CREATE TABLE risk_items (
  id                     uuid PRIMARY KEY,
  body                   bytea NOT NULL,
  chain_len              integer NOT NULL DEFAULT 0,
  chain_head             text NOT NULL DEFAULT '',
  number                 text NOT NULL UNIQUE,
  person_id              uuid,
  unit_id                uuid NOT NULL,
  category               text NOT NULL,
  level                  text NOT NULL,
  source                 text NOT NULL,
  state                  text NOT NULL,
  campaign_id            uuid,
  responsible_leader_id  uuid NOT NULL,
  next_deadline_us       bigint,          -- the earliest open mitigation's deadline not yet escalated
  created_us             bigint NOT NULL
);
CREATE INDEX risk_items_order ON risk_items (created_us, id);
CREATE INDEX risk_items_person ON risk_items (person_id, created_us, id);
CREATE INDEX risk_items_unit ON risk_items (unit_id, created_us, id);
CREATE INDEX risk_items_due ON risk_items (next_deadline_us) WHERE next_deadline_us IS NOT NULL;

-- The summary is sealed inside `body` (crypto::Keyring), never stored in the clear.
CREATE TABLE talks (
  id           uuid PRIMARY KEY,
  body         bytea NOT NULL,
  chain_len    integer NOT NULL DEFAULT 0,
  chain_head   text NOT NULL DEFAULT '',
  person_id    uuid NOT NULL,
  unit_id      uuid NOT NULL,
  kind         text NOT NULL,
  held_us      bigint NOT NULL,
  created_us   bigint NOT NULL
);
CREATE INDEX talks_person ON talks (person_id, held_us, id);
CREATE INDEX talks_unit ON talks (unit_id, held_us, id);

-- A person's score as last recomputed (id = the person's id); the explanation is
-- recomputed from the signals on read.
CREATE TABLE person_scores (
  id          uuid PRIMARY KEY,
  body        bytea NOT NULL,
  chain_len   integer NOT NULL DEFAULT 0,
  chain_head  text NOT NULL DEFAULT '',
  unit_id     uuid,
  score       double precision NOT NULL,
  above       boolean NOT NULL,
  updated_us  bigint NOT NULL
);
CREATE INDEX person_scores_unit ON person_scores (unit_id, score DESC);
CREATE INDEX person_scores_order ON person_scores (score DESC, id);

-- Every signal about a person, once: `key` names the event it came from
-- ("clue:<clue id>:<seq>:<person id>", "risk:<item id>:1", ...).
CREATE TABLE signals (
  key        text PRIMARY KEY,
  person_id  uuid NOT NULL,
  unit_id    uuid,
  kind       text NOT NULL,
  grade      text NOT NULL DEFAULT '',
  source     text NOT NULL,
  ref        text NOT NULL,
  at_us      bigint NOT NULL
);
CREATE INDEX signals_person ON signals (person_id, at_us DESC);

CREATE TABLE risk_events (
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
CREATE INDEX risk_events_order ON risk_events (xid, gseq);

CREATE VIEW risk_chains AS
  SELECT id, chain_len, chain_head FROM risk_points
  UNION ALL SELECT id, chain_len, chain_head FROM campaigns
  UNION ALL SELECT id, chain_len, chain_head FROM risk_items
  UNION ALL SELECT id, chain_len, chain_head FROM talks
  UNION ALL SELECT id, chain_len, chain_head FROM person_scores;

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
