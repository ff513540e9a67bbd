-- EXPLAIN (ANALYZE, BUFFERS) of ListClues' query (services/clue/pg_store.cc PgStore::List),
-- planned the way libpqxx runs it (an unnamed statement: a custom plan for these values),
-- then of the per-row subject look-up (LoadSubjects). Variables: -v unit=<uuid> (a unit
-- holding many clues), -v rare=<uuid> (a unit in custody of none). Needs 10,000 clues or more
-- for the later-page plan to be deep.
SET search_path = clue, public;
PREPARE list_q(uuid, uuid, uuid, text, text, uuid, text, bigint, bigint, boolean, bigint, uuid, int) AS
SELECT c.id::text, c.number, c.state, c.source, c.channel, c.source_system, c.source_ref,
    c.origin_unit_id::text, c.holding_unit_id::text, c.offered_to_unit_id::text, c.handler_person_id::text,
    c.categories, c.summary, c.details_sealed, c.reporter_sealed, c.has_reporter, c.severity,
    (extract(epoch FROM c.received_at) * 1000000)::bigint, (extract(epoch FROM c.registered_at) * 1000000)::bigint,
    c.disposition_method, c.disposition_reason, c.disposition_by,
    (extract(epoch FROM c.disposition_at) * 1000000)::bigint,
    c.outcome_form, c.outcome_case_filed, c.outcome_sanctions, c.outcome_feedback,
    (extract(epoch FROM c.concluded_at) * 1000000)::bigint,
    (extract(epoch FROM c.deadline_at) * 1000000)::bigint, c.deadline_stage, c.overdue,
    c.merged_into::text, c.intervened, c.version, c.chain_len, c.chain_head
FROM clues c WHERE
 ($1::uuid IS NULL OR EXISTS (SELECT 1 FROM clue_custody cc WHERE cc.clue_id = c.id AND cc.unit_id = $1::uuid))
 AND ($2::uuid IS NULL OR c.holding_unit_id = $2::uuid)
 AND ($3::uuid IS NULL OR c.origin_unit_id = $3::uuid)
 AND ($4::text IS NULL OR c.state = $4)
 AND ($5::text IS NULL OR $5 = ANY (c.categories))
 AND ($6::uuid IS NULL OR EXISTS (SELECT 1 FROM clue_subjects s WHERE s.clue_id = c.id AND s.person_id = $6::uuid))
 AND ($7::text IS NULL OR c.summary ILIKE $7)
 AND ($8::bigint IS NULL OR c.received_at >= ('epoch'::timestamptz + $8::bigint * interval '1 microsecond'))
 AND ($9::bigint IS NULL OR c.received_at < ('epoch'::timestamptz + $9::bigint * interval '1 microsecond'))
 AND (NOT $10 OR c.overdue)
 AND ($11::bigint IS NULL OR (c.received_at, c.id) < (('epoch'::timestamptz + $11::bigint * interval '1 microsecond'), $12::uuid))
 ORDER BY c.received_at DESC, c.id DESC LIMIT $13;
\echo '--- oversight, no filter, first page of 50 (+1)'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_q(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, false, NULL, NULL, 51);
\echo '--- discipline staff of a unit holding many clues (custody scope)'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_q(:'unit', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, false, NULL, NULL, 51);
\echo '--- discipline staff of a unit in custody of no clue (custody scope)'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_q(:'rare', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, false, NULL, NULL, 51);
\echo '--- oversight, holding unit filter'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_q(NULL, :'unit', NULL, NULL, NULL, NULL, NULL, NULL, NULL, false, NULL, NULL, 51);
\echo '--- oversight, a later page: the keyset token after the 10,000th newest clue (page 201 of 50; half the clues if fewer)'
SELECT (extract(epoch FROM received_at) * 1000000)::bigint AS k_us, id AS k_id
  FROM clues ORDER BY received_at DESC, id DESC OFFSET least(9999, (SELECT count(*) FROM clues) / 2) LIMIT 1 \gset
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_q(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, false, :k_us, :'k_id', 51);
\echo '--- per listed clue: its subjects (LoadSubjects, one query per row)'
EXPLAIN (ANALYZE, BUFFERS) SELECT person_id::text, unit_id::text, display_name FROM clue_subjects
  WHERE clue_id = (SELECT id FROM clues ORDER BY received_at DESC LIMIT 1) ORDER BY ord;
