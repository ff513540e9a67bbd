-- The leader duty a post carries in accountability checks (一案双查): PRINCIPAL (主体责任,
-- the unit's principal leader) or SUPERVISING (监督责任); NULL for a post without one.
-- Readers in other services find a unit's responsible leaders through v_posts.
ALTER TABLE posts ADD COLUMN duty text CHECK (duty IN ('PRINCIPAL', 'SUPERVISING'));

-- A new column goes at the end of the view (CREATE OR REPLACE VIEW may only append). The
-- grant of 0001 stays with a replaced view; it is repeated so this file states who reads it.
CREATE OR REPLACE VIEW v_posts AS
  SELECT id, code, name, name_en, powers, active, duty FROM posts;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sm_directory_reader') THEN
    GRANT SELECT ON v_posts TO sm_directory_reader;
  END IF;
END
$$;
