-- pgbench (lifecycle): the bare SQL of one clue's life as clue-service writes it, six steps
-- of one transaction each: register → transfer → accept → assign → dispose → conclude
-- (scripts/bench-lifecycle; the service's path: services/clue/pg_store.cc Step). Each step
-- updates the clues row (state, custody columns, deadline, version and chain head in one
-- statement), adds custody where the step does, and inserts its hash-chained event with its
-- state digest. No idempotency keys, locking reads, NOTIFY or reply: the floor of what the
-- six steps must cost PostgreSQL. One pgbench transaction is one life (six steps).
-- (pgbench substitutes :name even inside string literals: a colon before a letter or digit
-- in the JSON is written chr(58).)
-- Variables: -D origin=<unit uuid> -D to=<unit uuid> -D person=<subject uuid> -D handler=<person uuid>
BEGIN;
SELECT gen_random_uuid() AS id, nextval('clue.clue_number_seq') AS n \gset
INSERT INTO clue.clues (id, number, state, source, channel, source_system, source_ref, origin_unit_id,
  holding_unit_id, offered_to_unit_id, handler_person_id, categories, summary, details_sealed,
  reporter_sealed, has_reporter, severity, received_at, registered_at, deadline_at, deadline_stage,
  overdue, version, merged_into, intervened, chain_len, chain_head)
VALUES (:id::uuid, 'XS-2026-' || lpad(:n::text, 7, '0'), 'CLUE_STATE_REGISTERED', 'CLUE_SOURCE_PETITION',
  'RECEIPT_CHANNEL_LETTER', NULL, NULL, :origin::uuid, :origin::uuid, NULL, NULL,
  '{"CLUE_CATEGORY_WORK"}'::text[], '压测：线索全流程（登记、移交、接收、指定承办人、处置、办结）',
  'dev1' || chr(58) || 'ZkcUqXujHbQouDuTMDJZoDsT3jHL2rrhFFheykTjtoKp4qAOX3UpykYm7CdhGMvXcGPS9YK7s69Zrk',
  'dev1' || chr(58) || 'Xz8pQ2mR7vK1nB4cL9sT3wY6hJ0dF5gA2eU8iO1pZ4xC7vB3nM6qW9rT2yE5uI8oP1aS4d',
  true, 'SEVERITY_MEDIUM', now(), now(), now() + interval '7 days', 'dispose', false, 1, NULL, false, 1,
  md5(:id::text) || md5(:n::text));
INSERT INTO clue.clue_subjects (clue_id, ord, person_id, unit_id, display_name)
VALUES (:id::uuid, 0, :person::uuid, NULL, '梁晨阳');
INSERT INTO clue.clue_custody (clue_id, unit_id, standing) VALUES (:id::uuid, :origin::uuid, 'sender');
INSERT INTO clue.clue_events (clue_id, seq, type, actor, actor_unit_id, at, data, prev_hash, hash, chain_version, state_digest)
VALUES (:id::uuid, 1, 'registered', 'bench-origin', :origin::text, now(),
  '{"channel":"RECEIPT_CHANNEL_LETTER","origin_unit_id":"' || :origin::text || '","reporter":"named","source":"CLUE_SOURCE_PETITION"}',
  '', md5(:id::text) || md5(:n::text), 2, md5(:n::text) || md5(:id::text));
END;
BEGIN;
UPDATE clue.clues SET state = 'CLUE_STATE_OFFERED', offered_to_unit_id = :to::uuid,
  deadline_at = now() + interval '3 days', deadline_stage = 'accept', version = 2, chain_len = 2,
  chain_head = md5(:id::text || '2') || md5(:n::text), updated_at = now() WHERE id = :id::uuid;
INSERT INTO clue.clue_custody (clue_id, unit_id, standing) VALUES (:id::uuid, :to::uuid, 'offered');
INSERT INTO clue.clue_events (clue_id, seq, type, actor, actor_unit_id, at, data, prev_hash, hash, chain_version, state_digest)
VALUES (:id::uuid, 2, 'offered', 'bench-origin', :origin::text, now(),
  '{"from_unit_id":"' || :origin::text || '","reason":"属地管辖","to_unit_id":"' || :to::text || '"}',
  md5(:id::text) || md5(:n::text), md5(:id::text || '2') || md5(:n::text), 2, md5(:n::text || '2'));
END;
BEGIN;
UPDATE clue.clues SET state = 'CLUE_STATE_HELD', holding_unit_id = :to::uuid, offered_to_unit_id = NULL,
  deadline_at = now() + interval '5 days', deadline_stage = 'dispose', version = 3, chain_len = 3,
  chain_head = md5(:id::text || '3') || md5(:n::text), updated_at = now() WHERE id = :id::uuid;
INSERT INTO clue.clue_custody (clue_id, unit_id, standing) VALUES (:id::uuid, :origin::uuid, 'sender')
  ON CONFLICT (clue_id, unit_id) DO UPDATE SET standing = EXCLUDED.standing;
INSERT INTO clue.clue_events (clue_id, seq, type, actor, actor_unit_id, at, data, prev_hash, hash, chain_version, state_digest)
VALUES (:id::uuid, 3, 'accepted', 'bench-receiver', :to::text, now(),
  '{"from_unit_id":"' || :origin::text || '","to_unit_id":"' || :to::text || '"}',
  md5(:id::text || '2') || md5(:n::text), md5(:id::text || '3') || md5(:n::text), 2, md5(:n::text || '3'));
END;
BEGIN;
UPDATE clue.clues SET handler_person_id = :handler::uuid, version = 4, chain_len = 4,
  chain_head = md5(:id::text || '4') || md5(:n::text), updated_at = now() WHERE id = :id::uuid;
INSERT INTO clue.clue_events (clue_id, seq, type, actor, actor_unit_id, at, data, prev_hash, hash, chain_version, state_digest)
VALUES (:id::uuid, 4, 'handler_assigned', 'bench-receiver', :to::text, now(),
  '{"handler_person_id":"' || :handler::text || '"}',
  md5(:id::text || '3') || md5(:n::text), md5(:id::text || '4') || md5(:n::text), 2, md5(:n::text || '4'));
END;
BEGIN;
UPDATE clue.clues SET state = 'CLUE_STATE_IN_HANDLING', disposition_method = 'DISPOSITION_METHOD_TALK_OR_LETTER',
  disposition_reason = '', disposition_by = 'bench-receiver', disposition_at = now(),
  deadline_at = now() + interval '30 days', deadline_stage = 'handle', version = 5, chain_len = 5,
  chain_head = md5(:id::text || '5') || md5(:n::text), updated_at = now() WHERE id = :id::uuid;
INSERT INTO clue.clue_events (clue_id, seq, type, actor, actor_unit_id, at, data, prev_hash, hash, chain_version, state_digest)
VALUES (:id::uuid, 5, 'disposed', 'bench-receiver', :to::text, now(),
  '{"method":"DISPOSITION_METHOD_TALK_OR_LETTER","reason":""}',
  md5(:id::text || '4') || md5(:n::text), md5(:id::text || '5') || md5(:n::text), 2, md5(:n::text || '5'));
END;
BEGIN;
UPDATE clue.clues SET state = 'CLUE_STATE_CONCLUDED', outcome_form = 1, outcome_case_filed = false,
  outcome_sanctions = '{}'::text[], outcome_feedback = '谈话提醒，已办结。', concluded_at = now(),
  deadline_at = NULL, deadline_stage = NULL, version = 6, chain_len = 6,
  chain_head = md5(:id::text || '6') || md5(:n::text), updated_at = now() WHERE id = :id::uuid;
INSERT INTO clue.clue_events (clue_id, seq, type, actor, actor_unit_id, at, data, prev_hash, hash, chain_version, state_digest)
VALUES (:id::uuid, 6, 'concluded', 'bench-receiver', :to::text, now(),
  '{"case_filed"' || chr(58) || 'false,"feedback":"谈话提醒，已办结。","feedback_to_unit_id":"' || :origin::text ||
  '","form"' || chr(58) || '1}',
  md5(:id::text || '5') || md5(:n::text), md5(:id::text || '6') || md5(:n::text), 2, md5(:n::text || '6'));
END;
