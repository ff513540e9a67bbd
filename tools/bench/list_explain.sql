-- EXPLAIN (ANALYZE, BUFFERS) of ListClues' queries (services/clue/pg_store.cc PgStore::List)
-- in the shapes the service sends: only the conditions of the filters given (db::Where),
-- so the custody scope is a plain EXISTS the planner can run as a semi-join; then the
-- subjects of a whole page in one query (LoadSubjects). The select list is shortened (the
-- plan depends on WHERE, ORDER BY and LIMIT). Variables: -v unit=<uuid> (a unit holding
-- many clues), -v rare=<uuid> (a unit in custody of none). Needs 10,000 clues or more for the
-- later-page plan to be deep.
SET search_path = clue, public;
\echo '--- oversight, no filter, first page of 50 (+1)'
EXPLAIN (ANALYZE, BUFFERS) SELECT c.id, c.number, c.summary FROM clues c WHERE true
  ORDER BY c.received_at DESC, c.id DESC LIMIT 51;
\echo '--- discipline staff of a unit holding many clues (custody scope)'
EXPLAIN (ANALYZE, BUFFERS) SELECT c.id, c.number, c.summary FROM clues c
  WHERE (EXISTS (SELECT 1 FROM clue_custody cc WHERE cc.clue_id = c.id AND cc.unit_id = :'unit'::uuid))
  ORDER BY c.received_at DESC, c.id DESC LIMIT 51;
\echo '--- discipline staff of a unit in custody of no clue (custody scope)'
EXPLAIN (ANALYZE, BUFFERS) SELECT c.id, c.number, c.summary FROM clues c
  WHERE (EXISTS (SELECT 1 FROM clue_custody cc WHERE cc.clue_id = c.id AND cc.unit_id = :'rare'::uuid))
  ORDER BY c.received_at DESC, c.id DESC LIMIT 51;
\echo '--- oversight, holding unit filter'
EXPLAIN (ANALYZE, BUFFERS) SELECT c.id, c.number, c.summary FROM clues c
  WHERE (c.holding_unit_id = :'unit'::uuid) ORDER BY c.received_at DESC, c.id DESC LIMIT 51;
\echo '--- oversight, a later page: the keyset token after the 10,000th newest clue (page 201 of 50; half the clues if fewer)'
SELECT (extract(epoch FROM received_at) * 1000000)::bigint AS k_us, id AS k_id
  FROM clues ORDER BY received_at DESC, id DESC OFFSET least(9999, (SELECT count(*) FROM clues) / 2) LIMIT 1 \gset
EXPLAIN (ANALYZE, BUFFERS) SELECT c.id, c.number, c.summary FROM clues c
  WHERE ((c.received_at, c.id) < (('epoch'::timestamptz + :k_us::bigint * interval '1 microsecond'), :'k_id'::uuid))
  ORDER BY c.received_at DESC, c.id DESC LIMIT 51;
\echo '--- the subjects of a page of 51 clues, one query (LoadSubjects)'
EXPLAIN (ANALYZE, BUFFERS) SELECT clue_id::text, person_id::text, unit_id::text, display_name FROM clue_subjects
  WHERE clue_id = ANY (ARRAY(SELECT id FROM clues ORDER BY received_at DESC, id DESC LIMIT 51)) ORDER BY clue_id, ord;
