-- pgbench (a): the bare SQL of one clue registration, as clue-service writes it
-- (services/clue/pg_store.cc WriteRow, AddCustody, common/event_log.cc Append): one clues
-- row with the same columns, types and value sizes (sealed details and reporter, a 64-hex
-- chain head), its subject, its custody row and its first hash-chained event, in one
-- transaction. No directory look-ups, idempotency, advisory lock, NOTIFY or second update:
-- the floor of what a registration must cost PostgreSQL.
-- Variables: -D origin=<unit uuid> -D person=<person uuid>
BEGIN;
SELECT gen_random_uuid() AS id, nextval('clue.clue_number_seq') AS n \gset
INSERT INTO clue.clues (id, number, state, source, channel, source_system, source_ref, origin_unit_id,
  holding_unit_id, offered_to_unit_id, handler_person_id, categories, summary, details_sealed,
  reporter_sealed, has_reporter, severity, received_at, registered_at, deadline_at, deadline_stage,
  overdue, version, merged_into, intervened, chain_len, chain_head)
VALUES (:id::uuid, 'XS-2026-' || lpad(:n::text, 7, '0'), 'CLUE_STATE_REGISTERED', 'CLUE_SOURCE_PETITION',
  'RECEIPT_CHANNEL_LETTER', NULL, NULL, :origin::uuid, :origin::uuid, NULL, NULL,
  '{"CLUE_CATEGORY_WORK","CLUE_CATEGORY_ALCOHOL"}'::text[],
  '压测：反映城郊派出所民警工作日午间饮酒（第' || :n::text || '件）',
  'dev1' || chr(58) || 'ZkcUqXujHbQouDuTMDJZoDsT3jHL2rrhFFheykTjtoKp4qAOX3UpykYm7CdhGMvXcGPS9YK7s69ZrkMX3ofmGLlsxH7UO6xq0jyl3gbO0jP7EO/QP38kwUQVTTBs+Pz6QDRA2PI3WaKYmi0ln3q0yz33',
  'dev1' || chr(58) || 'Xz8pQ2mR7vK1nB4cL9sT3wY6hJ0dF5gA2eU8iO1pZ4xC7vB3nM6qW9rT2yE5uI8oP1aS4d',
  true, 'SEVERITY_MEDIUM', now(), now(), now() + interval '7 days', 'dispose', false, 1, NULL, false, 1,
  md5(:id::text) || md5(:n::text));
INSERT INTO clue.clue_subjects (clue_id, ord, person_id, unit_id, display_name)
VALUES (:id::uuid, 0, :person::uuid, NULL, '梁晨阳');
INSERT INTO clue.clue_custody (clue_id, unit_id) VALUES (:id::uuid, :origin::uuid) ON CONFLICT DO NOTHING;
INSERT INTO clue.clue_events (clue_id, seq, type, actor, actor_unit_id, at, data, prev_hash, hash)
VALUES (:id::uuid, 1, 'registered', 'sm-bench', :origin::text, now(),
  '{"channel":"RECEIPT_CHANNEL_LETTER","number":"XS-2026-' || lpad(:n::text, 7, '0') || '","origin_unit_id":"' || :origin::text || '","reporter":"named","source":"CLUE_SOURCE_PETITION"}',
  '', md5(:id::text) || md5(:n::text));
END;
