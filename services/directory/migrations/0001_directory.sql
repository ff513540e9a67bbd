-- directory schema: units (a tree), posts and people. Applied with search_path set to the
-- directory schema by common/db/migrate.cc.

CREATE TABLE units (
  id          uuid PRIMARY KEY,
  code        text NOT NULL UNIQUE,
  name        text NOT NULL,
  name_en     text NOT NULL DEFAULT '',
  kind        text NOT NULL,
  parent_id   uuid REFERENCES units (id) DEFERRABLE INITIALLY DEFERRED,
  sort_order  integer NOT NULL,
  active      boolean NOT NULL DEFAULT true,
  version     bigint NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE INDEX units_parent ON units (parent_id, sort_order);

CREATE TABLE posts (
  id          uuid PRIMARY KEY,
  code        text NOT NULL UNIQUE,
  name        text NOT NULL,
  name_en     text NOT NULL DEFAULT '',
  powers      text[] NOT NULL DEFAULT '{}',
  sort_order  integer NOT NULL,
  active      boolean NOT NULL DEFAULT true,
  version     bigint NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Names sort by pinyin (ICU Chinese collation), which is what users expect of a list.
CREATE TABLE people (
  id          uuid PRIMARY KEY,
  badge_no    text NOT NULL UNIQUE,
  name        text COLLATE "zh-x-icu" NOT NULL,
  unit_id     uuid NOT NULL REFERENCES units (id) DEFERRABLE INITIALLY DEFERRED,
  post_id     uuid REFERENCES posts (id) DEFERRABLE INITIALLY DEFERRED,
  grade       text NOT NULL DEFAULT '',
  leader      boolean NOT NULL DEFAULT false,
  category    text NOT NULL,
  active      boolean NOT NULL DEFAULT true,
  version     bigint NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX people_unit ON people (unit_id);
CREATE INDEX people_name ON people (name, id);
CREATE INDEX people_badge_prefix ON people (badge_no text_pattern_ops);

-- One row: the generation, bumped by every import that changes something. Cache keys
-- carry it, so a new generation invalidates every cached answer at once.
CREATE TABLE meta (
  singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  generation  bigint NOT NULL
);
INSERT INTO meta (singleton, generation) VALUES (true, 0);

-- Who imported what, when (the import trail).
CREATE TABLE imports (
  id          uuid PRIMARY KEY,
  request_id  text NOT NULL,
  imported_by text NOT NULL,
  generation  bigint NOT NULL,
  summary     jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE idempotency (
  request_id     text PRIMARY KEY,
  method         text NOT NULL,
  request_sha256 text NOT NULL,
  response       bytea NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now()
);

-- What other services may read: these views, through the sm_directory_reader role that
-- the deployment creates (deploy/local/bootstrap.sql). They never see the tables.
CREATE VIEW v_units AS
  SELECT id, code, name, name_en, kind, parent_id, active FROM units;
CREATE VIEW v_posts AS
  SELECT id, code, name, name_en, powers, active FROM posts;
CREATE VIEW v_people AS
  SELECT id, badge_no, name, unit_id, post_id, grade, leader, category, active FROM people;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sm_directory_reader') THEN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO sm_directory_reader', current_schema());
    GRANT SELECT ON v_units, v_posts, v_people TO sm_directory_reader;
  END IF;
END
$$;
