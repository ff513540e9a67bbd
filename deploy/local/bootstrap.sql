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
