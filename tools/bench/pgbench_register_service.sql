-- pgbench (a'): every statement clue-service sends PostgreSQL for one RegisterClue, in the
-- same order and transactions (services/clue/service.cc RegisterClue, pg_store.cc Unit,
-- Person, Register, Changed; common/db/idempotency.cc; common/event_log.cc Append), with
-- libpqxx's BEGIN / SET TRANSACTION READ ONLY / COMMIT round trips. Run with as many
-- clients as the service's pool has connections (db.pool_size, 8): the most the service
-- could get from PostgreSQL if its own CPU cost nothing.
-- Variables: -D origin=<unit uuid> -D person=<person uuid>
\set r random(1, 9000000000000000000)
-- store_->Unit(origin_unit_id)
BEGIN;
SET TRANSACTION READ ONLY;
WITH RECURSIVE up AS (
  SELECT id, parent_id, name, active, kind, 0 AS n FROM directory.v_units WHERE id = :origin::uuid
  UNION ALL SELECT p.id, p.parent_id, p.name, p.active, p.kind, up.n + 1 FROM directory.v_units p
  JOIN up ON p.id = up.parent_id WHERE up.n < 1000)
SELECT id::text, name, active, kind FROM up ORDER BY n DESC;
END;
-- store_->Person(subject)
BEGIN;
SET TRANSACTION READ ONLY;
SELECT id::text, name, unit_id::text, active, leader FROM directory.v_people WHERE id = :person::uuid;
END;
-- store_->Register
BEGIN;
SELECT pg_advisory_xact_lock(hashtext('clue.idempotency' || chr(58) || 'bench-' || :r::text));
SELECT method, request_sha256, response FROM clue.idempotency WHERE request_id = 'bench-' || :r::text;
SELECT nextval('clue.clue_number_seq') AS n, gen_random_uuid() AS id \gset
INSERT INTO clue.clues (id, number, state, source, channel, source_system, source_ref, origin_unit_id,
  holding_unit_id, offered_to_unit_id, handler_person_id, categories, summary, details_sealed,
  reporter_sealed, has_reporter, severity, received_at, registered_at, disposition_method,
  disposition_reason, disposition_by, disposition_at, outcome_form, outcome_case_filed,
  outcome_sanctions, outcome_feedback, concluded_at, deadline_at, deadline_stage, overdue, version,
  merged_into, intervened)
VALUES (:id::uuid, 'XS-2026-' || lpad(:n::text, 7, '0'), 'CLUE_STATE_REGISTERED', 'CLUE_SOURCE_PETITION',
  'RECEIPT_CHANNEL_LETTER', NULL, NULL, :origin::uuid, :origin::uuid, NULL::uuid, NULL::uuid,
  '{"CLUE_CATEGORY_WORK","CLUE_CATEGORY_ALCOHOL"}'::text[],
  '压测：反映城郊派出所民警工作日午间饮酒（第' || :n::text || '件）',
  'dev1' || chr(58) || 'ZkcUqXujHbQouDuTMDJZoDsT3jHL2rrhFFheykTjtoKp4qAOX3UpykYm7CdhGMvXcGPS9YK7s69ZrkMX3ofmGLlsxH7UO6xq0jyl3gbO0jP7EO/QP38kwUQVTTBs+Pz6QDRA2PI3WaKYmi0ln3q0yz33',
  'dev1' || chr(58) || 'Xz8pQ2mR7vK1nB4cL9sT3wY6hJ0dF5gA2eU8iO1pZ4xC7vB3nM6qW9rT2yE5uI8oP1aS4d',
  true, 'SEVERITY_MEDIUM',
  ('epoch'::timestamptz + (extract(epoch FROM now()) * 1000000)::bigint * interval '1 microsecond'),
  ('epoch'::timestamptz + (extract(epoch FROM now()) * 1000000)::bigint * interval '1 microsecond'),
  NULL, NULL, NULL, NULL, NULL, NULL, NULL::text[], NULL, NULL,
  now() + interval '7 days', 'dispose', false, 1, NULL::uuid, false);
INSERT INTO clue.clue_subjects (clue_id, ord, person_id, unit_id, display_name)
VALUES (:id::uuid, 0, :person::uuid, NULL::uuid, '梁晨阳');
INSERT INTO clue.clue_custody (clue_id, unit_id) VALUES (:id::uuid, :origin::uuid) ON CONFLICT DO NOTHING;
INSERT INTO clue.clue_custody (clue_id, unit_id) VALUES (:id::uuid, :origin::uuid) ON CONFLICT DO NOTHING;
SELECT chain_len, chain_head FROM clue.clues WHERE id = :id::uuid;
INSERT INTO clue.clue_events (clue_id, seq, type, actor, actor_unit_id, at, data, prev_hash, hash)
VALUES (:id::uuid, 1, 'registered', 'sm-bench', :origin::text, now(),
  '{"channel":"RECEIPT_CHANNEL_LETTER","number":"XS-2026-' || lpad(:n::text, 7, '0') || '","origin_unit_id":"' || :origin::text || '","reporter":"named","source":"CLUE_SOURCE_PETITION"}',
  '', md5(:id::text) || md5(:n::text));
UPDATE clue.clues SET chain_len = 1, chain_head = md5(:id::text) || md5(:n::text) WHERE id = :id::uuid;
NOTIFY clue_events;
INSERT INTO clue.idempotency (request_id, method, request_sha256, response)
VALUES ('bench-' || :r::text, 'RegisterClue', md5(:r::text) || md5(:id::text), decode(repeat('0a', 323), 'hex'));
END;
-- store_->Changed()
BEGIN;
SELECT nextval('clue.stats_version');
END;
