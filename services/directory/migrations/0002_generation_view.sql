-- The directory generation for readers in other services: they cache what they look up
-- under it and drop their copies when it moves (an import changed something).
CREATE VIEW v_generation AS
  SELECT generation FROM meta;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sm_directory_reader') THEN
    GRANT SELECT ON v_generation TO sm_directory_reader;
  END IF;
END
$$;
