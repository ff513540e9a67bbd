-- Roles and schemas of Supervision Mesh in one database. Run once by a superuser
-- (deploy/local/stack and the test fixture do). Each service logs in as its own role and
-- owns only its own schema; other services read the directory through views granted to
-- sm_directory_reader. Idempotent.
DO $$
DECLARE
  svc text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sm_directory_reader') THEN
    CREATE ROLE sm_directory_reader NOLOGIN;
  END IF;
  FOREACH svc IN ARRAY ARRAY['directory', 'clue', 'audit', 'inspection', 'risk'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sm_' || svc) THEN
      EXECUTE format('CREATE ROLE %I LOGIN', 'sm_' || svc);
    END IF;
    EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', svc, 'sm_' || svc);
    EXECUTE format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', svc);
    IF svc <> 'directory' THEN
      EXECUTE format('GRANT sm_directory_reader TO %I', 'sm_' || svc);
    END IF;
  END LOOP;
END
$$;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- Chain checkpoints (common/chain_anchor.h): per service with hash chains, a schema
-- `<svc>_anchor` owned by `sm_<svc>_anchor`, a role nobody logs in as. The service may only
-- INSERT and SELECT there; the owner's triggers refuse UPDATE, DELETE and TRUNCATE (to the
-- owner too) and heads added to a checkpoint that another transaction wrote. The schema is
-- apart from the service's own, because a schema's owner may drop any table in it.
DO $$
DECLARE
  svc text;
  anchor text;
  owner text;
BEGIN
  FOREACH svc IN ARRAY ARRAY['clue', 'audit', 'inspection', 'risk'] LOOP  -- the services that sign checkpoints
    anchor := svc || '_anchor';
    owner := 'sm_' || svc || '_anchor';
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = owner) THEN
      EXECUTE format('CREATE ROLE %I NOLOGIN', owner);
    END IF;
    EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', anchor, owner);
    EXECUTE format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', anchor);
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', anchor, 'sm_' || svc);
    EXECUTE format($f$
      CREATE TABLE IF NOT EXISTS %1$I.chain_checkpoints (
        id           bigint PRIMARY KEY CHECK (id > 0),
        service      text NOT NULL,
        taken_at     timestamptz NOT NULL,
        aggregates   bigint NOT NULL,
        merkle_root  text NOT NULL,
        kid          text NOT NULL,
        signature    text NOT NULL,
        xid          xid8 NOT NULL DEFAULT pg_current_xact_id(),
        inserted_at  timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE IF NOT EXISTS %1$I.chain_checkpoint_heads (
        checkpoint_id  bigint NOT NULL REFERENCES %1$I.chain_checkpoints (id),
        aggregate_id   uuid NOT NULL,
        chain_len      integer NOT NULL,
        chain_head     text NOT NULL,
        PRIMARY KEY (aggregate_id, checkpoint_id)
      );
      CREATE OR REPLACE FUNCTION %1$I.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $b$
      BEGIN
        RAISE EXCEPTION '%% on %%.%% refused: chain checkpoints are append-only', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
          USING ERRCODE = 'insufficient_privilege';
      END $b$;
      CREATE OR REPLACE FUNCTION %1$I.heads_of_own_checkpoint() RETURNS trigger LANGUAGE plpgsql AS $b$
      BEGIN
        IF NOT EXISTS (SELECT 1 FROM %1$I.chain_checkpoints c
                       WHERE c.id = NEW.checkpoint_id AND c.xid = pg_current_xact_id()) THEN
          RAISE EXCEPTION 'heads may be added only to a checkpoint of the same transaction'
            USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
      END $b$;
      CREATE OR REPLACE TRIGGER append_only BEFORE UPDATE OR DELETE ON %1$I.chain_checkpoints
        FOR EACH ROW EXECUTE FUNCTION %1$I.refuse_change();
      CREATE OR REPLACE TRIGGER append_only_truncate BEFORE TRUNCATE ON %1$I.chain_checkpoints
        FOR EACH STATEMENT EXECUTE FUNCTION %1$I.refuse_change();
      CREATE OR REPLACE TRIGGER append_only BEFORE UPDATE OR DELETE ON %1$I.chain_checkpoint_heads
        FOR EACH ROW EXECUTE FUNCTION %1$I.refuse_change();
      CREATE OR REPLACE TRIGGER append_only_truncate BEFORE TRUNCATE ON %1$I.chain_checkpoint_heads
        FOR EACH STATEMENT EXECUTE FUNCTION %1$I.refuse_change();
      CREATE OR REPLACE TRIGGER own_checkpoint BEFORE INSERT ON %1$I.chain_checkpoint_heads
        FOR EACH ROW EXECUTE FUNCTION %1$I.heads_of_own_checkpoint();
      ALTER TABLE %1$I.chain_checkpoints OWNER TO %2$I;
      ALTER TABLE %1$I.chain_checkpoint_heads OWNER TO %2$I;
      ALTER FUNCTION %1$I.refuse_change() OWNER TO %2$I;
      ALTER FUNCTION %1$I.heads_of_own_checkpoint() OWNER TO %2$I;
      REVOKE ALL ON %1$I.chain_checkpoints, %1$I.chain_checkpoint_heads FROM PUBLIC;
      GRANT SELECT, INSERT ON %1$I.chain_checkpoints, %1$I.chain_checkpoint_heads TO %3$I;
    $f$, anchor, owner, 'sm_' || svc);
  END LOOP;
END
$$;
