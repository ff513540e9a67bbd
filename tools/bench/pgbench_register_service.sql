-- pgbench (a'): every statement clue-service sends PostgreSQL for one RegisterClue that
-- arrives alone (a batch of one: services/clue/pg_store.cc WriteRegistrations, InsertRows;
-- common/db/idempotency.cc; common/event_log.cc Insert; then Changed), in the same
-- transactions and order, with libpqxx's BEGIN / COMMIT round trips. Directory look-ups
-- are not here: the service keeps them per directory generation (re-read every 250 ms).
-- Under concurrent load the service writes many registrations with these same statements
-- in one transaction (group commit); this script is the cost of one without that sharing.
-- Run with as many clients as the service's pool has connections (db.pool_size, 8).
-- Variables: -D origin=<unit uuid> -D person=<person uuid>
\set r random(1, 9000000000000000000)
BEGIN;
SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtext(key) AS k
  FROM unnest(ARRAY['clue.idempotency' || chr(58) || 'bench-' || :r::text]) AS key ORDER BY 1) AS keys;
SELECT request_id, method, request_sha256, response FROM clue.idempotency
  WHERE request_id = ANY(ARRAY['bench-' || :r::text]);
SELECT nextval('clue.clue_number_seq') AS n, gen_random_uuid() AS id FROM generate_series(1, 1) \gset
INSERT INTO clue.clues (id, number, state, source, channel, source_system, source_ref, origin_unit_id,
  holding_unit_id, offered_to_unit_id, handler_person_id, categories, summary, details_sealed,
  reporter_sealed, has_reporter, severity, received_at, registered_at, disposition_method,
  disposition_reason, disposition_by, disposition_at, outcome_form, outcome_case_filed,
  outcome_sanctions, outcome_feedback, concluded_at, deadline_at, deadline_stage, overdue, version,
  merged_into, intervened, chain_len, chain_head)
VALUES (:id::uuid, 'XS-2026-' || lpad(:n::text, 7, '0'), 'CLUE_STATE_REGISTERED', 'CLUE_SOURCE_PETITION',
  'RECEIPT_CHANNEL_LETTER', NULL, NULL, :origin::uuid, :origin::uuid, NULL::uuid, NULL::uuid,
  '{"CLUE_CATEGORY_WORK","CLUE_CATEGORY_ALCOHOL"}'::text[],
  '压测：反映城郊派出所民警工作日午间饮酒（第' || :n::text || '件）',
  'dev1' || chr(58) || 'ZkcUqXujHbQouDuTMDJZoDsT3jHL2rrhFFheykTjtoKp4qAOX3UpykYm7CdhGMvXcGPS9YK7s69ZrkMX3ofmGLlsxH7UO6xq0jyl3gbO0jP7EO/QP38kwUQVTTBs+Pz6QDRA2PI3WaKYmi0ln3q0yz33',
  'dev1' || chr(58) || 'Xz8pQ2mR7vK1nB4cL9sT3wY6hJ0dF5gA2eU8iO1pZ4xC7vB3nM6qW9rT2yE5uI8oP1aS4d',
  true::boolean, 'SEVERITY_MEDIUM',
  ('epoch'::timestamptz + (extract(epoch FROM now()) * 1000000)::bigint * interval '1 microsecond'),
  ('epoch'::timestamptz + (extract(epoch FROM now()) * 1000000)::bigint * interval '1 microsecond'),
  NULL, NULL, NULL, NULL, NULL::integer, NULL::boolean, NULL::text[], NULL, NULL,
  now() + interval '7 days', 'dispose', false::boolean, 1::bigint, NULL::uuid, false::boolean, 1::integer,
  md5(:id::text) || md5(:n::text));
INSERT INTO clue.clue_subjects (clue_id, ord, person_id, unit_id, display_name)
VALUES (:id::uuid, 0::integer, :person::uuid, NULL::uuid, '梁晨阳');
INSERT INTO clue.clue_custody (clue_id, unit_id) VALUES (:id::uuid, :origin::uuid) ON CONFLICT DO NOTHING;
WITH written AS (INSERT INTO clue.clue_events (clue_id, seq, type, actor, actor_unit_id, at, data, prev_hash, hash)
VALUES (:id::uuid, 1::integer, 'registered', 'sm-bench', :origin::text, now(),
  '{"channel":"RECEIPT_CHANNEL_LETTER","number":"XS-2026-' || lpad(:n::text, 7, '0') || '","origin_unit_id":"' || :origin::text || '","reporter":"named","source":"CLUE_SOURCE_PETITION"}',
  '', md5(:id::text) || md5(:n::text))) SELECT pg_notify('clue_events', '');
INSERT INTO clue.idempotency (request_id, method, request_sha256, response)
SELECT id, method, sha, decode(hex, 'hex') FROM unnest(ARRAY['bench-' || :r::text], ARRAY['RegisterClue'],
  ARRAY[md5(:r::text) || md5(:id::text)], ARRAY[repeat('0a', 323)]) AS r(id, method, sha, hex);
END;
-- store_->Changed(): one autocommit statement
SELECT nextval('clue.stats_version');
