-- Bulk clues for the ListClues benchmark (scripts/bench): rows g = :lo .. :hi of :total,
-- registered evenly over the last three years (newest last), with UUIDv7 ids from their
-- registration time like common/uuid.h, states that follow their age (old clues mostly
-- concluded, recent ones open, open deadlines in the future so the overdue scanner stays
-- idle), dispositions and outcomes that fit the state, one subject person each, and the
-- custody rows the service keeps (origin, holder after a transfer, offeree). Registered by
-- the discipline units of the demo directory. Not written: events (the chain is empty,
-- chain_len 0), sealed details and reporters (NULL) — ListClues and GetClueStats read
-- neither. Run as the postgres superuser (FK triggers are skipped for the bulk load).
SET search_path = clue, public;
SET session_replication_role = replica;  -- bulk load: FK triggers off (rows are consistent by construction)
SET synchronous_commit = off;
SET work_mem = '256MB';
SELECT setseed(((:lo % 997) + 1) / 1000.0) AS seeded \gset
WITH cfg AS (
  SELECT now() - interval '3 years' AS t0, (interval '3 years' - interval '1 day') / :total AS step
), du AS (
  SELECT array_agg(id ORDER BY code) AS ids FROM directory.v_units
  WHERE active AND kind IN ('DISCIPLINE_GROUP', 'DISCIPLINE_COMMISSION', 'ORGAN_DISCIPLINE_COMMITTEE')
), pp AS (
  SELECT array_agg(id ORDER BY badge_no) AS ids, array_agg(name ORDER BY badge_no) AS names FROM directory.v_people WHERE active
), rnd AS MATERIALIZED (
  SELECT g, random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5
  FROM generate_series(:lo, :hi) g
), base AS MATERIALIZED (
  SELECT rnd.*,
         cfg.t0 + cfg.step * g AS reg_at,
         du.ids[1 + (g % cardinality(du.ids))] AS origin,
         CASE WHEN r2 < 0.3 THEN du.ids[1 + ((g * 7 + 3) % cardinality(du.ids))] END AS moved_to,
         pp.ids[1 + ((g * 31) % cardinality(pp.ids))] AS person,
         pp.names[1 + ((g * 31) % cardinality(pp.ids))] AS person_name
  FROM rnd, cfg, du, pp
), c AS MATERIALIZED (
  SELECT b.*,
         (lpad(to_hex((extract(epoch FROM reg_at) * 1000)::bigint), 12, '0')) AS tms,
         CASE WHEN age < interval '90 days' THEN 0.7 WHEN age < interval '1 year' THEN 0.25 ELSE 0.04 END AS p_open
  FROM (SELECT b.*, now() - b.reg_at AS age FROM base b) b
), s0 AS MATERIALIZED (
  SELECT c.*,
         (substr(tms, 1, 8) || '-' || substr(tms, 9, 4) || '-7' || substr(gen_random_uuid()::text, 16))::uuid AS id,
         CASE WHEN r1 >= p_open THEN (CASE WHEN r3 < 0.06 THEN 'CLUE_STATE_SHELVED' ELSE 'CLUE_STATE_CONCLUDED' END)
              ELSE (ARRAY['CLUE_STATE_REGISTERED', 'CLUE_STATE_OFFERED', 'CLUE_STATE_HELD', 'CLUE_STATE_HELD',
                          'CLUE_STATE_IN_HANDLING', 'CLUE_STATE_IN_HANDLING', 'CLUE_STATE_IN_HANDLING',
                          'CLUE_STATE_CASE_FILED'])[1 + floor(r3 * 8)::int] END AS state
  FROM c
), s AS MATERIALIZED (
  SELECT s0.*, CASE WHEN state = 'CLUE_STATE_OFFERED' THEN du.ids[1 + ((g * 11 + 5) % cardinality(du.ids))] END AS offered
  FROM s0, du
), ins_clues AS (
  INSERT INTO clues (id, number, state, source, channel, origin_unit_id, holding_unit_id, offered_to_unit_id,
                     handler_person_id, categories, summary, has_reporter, severity, received_at, registered_at,
                     disposition_method, disposition_reason, disposition_by, disposition_at,
                     outcome_form, outcome_case_filed, outcome_sanctions, outcome_feedback, concluded_at,
                     deadline_at, deadline_stage, overdue, intervened, version, updated_at)
  SELECT id, 'XS-' || extract(year FROM reg_at)::int || '-' || lpad(nextval('clue_number_seq')::text, 7, '0'),
         state,
         (ARRAY['CLUE_SOURCE_PETITION', 'CLUE_SOURCE_PETITION', 'CLUE_SOURCE_PETITION', 'CLUE_SOURCE_AUDIT',
                'CLUE_SOURCE_INSPECTION', 'CLUE_SOURCE_CIRCUIT_INSPECTION', 'CLUE_SOURCE_RISK_SCREENING',
                'CLUE_SOURCE_CASE_HANDLING', 'CLUE_SOURCE_SUPERIOR'])[1 + floor(r4 * 9)::int],
         (ARRAY['RECEIPT_CHANNEL_ONLINE', 'RECEIPT_CHANNEL_PHONE', 'RECEIPT_CHANNEL_LETTER',
                'RECEIPT_CHANNEL_IN_PERSON', 'RECEIPT_CHANNEL_SYSTEM'])[1 + floor(r5 * 5)::int],
         origin, coalesce(moved_to, origin),
         offered,
         CASE WHEN state IN ('CLUE_STATE_IN_HANDLING', 'CLUE_STATE_CASE_FILED', 'CLUE_STATE_CONCLUDED') THEN person END,
         CASE WHEN r5 < 0.5
              THEN ARRAY[(ARRAY['CLUE_CATEGORY_WORK', 'CLUE_CATEGORY_INTEGRITY', 'CLUE_CATEGORY_MASS', 'CLUE_CATEGORY_LIFE',
                                'CLUE_CATEGORY_BRIBERY', 'CLUE_CATEGORY_GAMBLING'])[1 + floor(r2 * 6)::int]]
              ELSE ARRAY['CLUE_CATEGORY_WORK', (ARRAY['CLUE_CATEGORY_ALCOHOL', 'CLUE_CATEGORY_VEHICLES', 'CLUE_CATEGORY_GAMBLING',
                                'CLUE_CATEGORY_DRUGS'])[1 + floor(r2 * 4)::int]] END,
         (ARRAY['信访举报：反映派出所民警工作日午间饮酒后返岗', '审计发现：专项经费报销凭证不全、存在虚列支出',
                '督察发现：值班民警脱岗、接处警记录补录', '巡察移交：违规插手经济纠纷、收受当事人礼金',
                '风险排查：民警与涉赌人员交往密切', '反映辅警违规查询公民个人信息并泄露',
                '反映交警大队违规处理交通事故、吃拿卡要', '反映某所长违规使用公务用车接送家属'])[1 + (g % 8)]
           || '（第' || g || '件）',
         false,
         (ARRAY['SEVERITY_LOW', 'SEVERITY_MEDIUM', 'SEVERITY_MEDIUM', 'SEVERITY_HIGH', 'SEVERITY_CRITICAL'])[1 + floor(r4 * 5)::int],
         reg_at - (r3 * interval '10 days'), reg_at,
         CASE WHEN state IN ('CLUE_STATE_IN_HANDLING', 'CLUE_STATE_CASE_FILED') THEN 'DISPOSITION_METHOD_VERIFICATION'
              WHEN state = 'CLUE_STATE_SHELVED' THEN 'DISPOSITION_METHOD_SHELVE'
              WHEN state = 'CLUE_STATE_CONCLUDED' THEN (CASE WHEN r4 < 0.5 THEN 'DISPOSITION_METHOD_TALK_OR_LETTER'
                   WHEN r4 < 0.8 THEN 'DISPOSITION_METHOD_VERIFICATION' ELSE 'DISPOSITION_METHOD_CLOSE' END) END,
         CASE WHEN state IN ('CLUE_STATE_IN_HANDLING', 'CLUE_STATE_CASE_FILED', 'CLUE_STATE_SHELVED', 'CLUE_STATE_CONCLUDED')
              THEN '经研究，按规定处置' END,
         CASE WHEN state IN ('CLUE_STATE_IN_HANDLING', 'CLUE_STATE_CASE_FILED', 'CLUE_STATE_SHELVED', 'CLUE_STATE_CONCLUDED')
              THEN 'bench-leader' END,
         CASE WHEN state IN ('CLUE_STATE_IN_HANDLING', 'CLUE_STATE_CASE_FILED', 'CLUE_STATE_SHELVED', 'CLUE_STATE_CONCLUDED')
              THEN reg_at + interval '4 days' END,
         CASE WHEN state = 'CLUE_STATE_CONCLUDED' THEN 1 + floor(r2 * 4)::int WHEN state = 'CLUE_STATE_CASE_FILED' THEN 4 END,
         CASE WHEN state = 'CLUE_STATE_CONCLUDED' THEN r2 >= 0.75 WHEN state = 'CLUE_STATE_CASE_FILED' THEN true END,
         CASE WHEN state = 'CLUE_STATE_CONCLUDED' AND r2 >= 0.25 THEN ARRAY['党内警告'] WHEN state = 'CLUE_STATE_CONCLUDED' THEN ARRAY[]::text[] END,
         CASE WHEN state = 'CLUE_STATE_CONCLUDED' THEN '经核查，已按规定处理并反馈' END,
         CASE WHEN state = 'CLUE_STATE_CONCLUDED' THEN reg_at + interval '40 days' END,
         CASE WHEN state IN ('CLUE_STATE_REGISTERED', 'CLUE_STATE_OFFERED', 'CLUE_STATE_HELD', 'CLUE_STATE_IN_HANDLING', 'CLUE_STATE_CASE_FILED')
              THEN (CASE WHEN r5 < 0.05 THEN now() - interval '2 days' ELSE now() + (1 + r5 * 60) * interval '1 day' END) END,
         CASE WHEN state IN ('CLUE_STATE_REGISTERED', 'CLUE_STATE_HELD') THEN 'dispose' WHEN state = 'CLUE_STATE_OFFERED' THEN 'accept'
              WHEN state = 'CLUE_STATE_IN_HANDLING' THEN 'handle' WHEN state = 'CLUE_STATE_CASE_FILED' THEN 'conclude' END,
         state IN ('CLUE_STATE_REGISTERED', 'CLUE_STATE_OFFERED', 'CLUE_STATE_HELD', 'CLUE_STATE_IN_HANDLING', 'CLUE_STATE_CASE_FILED') AND r5 < 0.05,
         r4 < 0.02,
         CASE WHEN state = 'CLUE_STATE_CONCLUDED' THEN 6 WHEN state IN ('CLUE_STATE_REGISTERED') THEN 1 ELSE 3 END,
         reg_at + interval '1 day'
  FROM s RETURNING 1
), ins_subjects AS (
  INSERT INTO clue_subjects (clue_id, ord, person_id, display_name)
  SELECT id, 0, person, person_name FROM s RETURNING 1
), ins_custody AS (
  INSERT INTO clue_custody (clue_id, unit_id, standing)
  SELECT id, origin, 'sender' FROM s
  UNION ALL SELECT id, moved_to, 'offered' FROM s WHERE moved_to IS NOT NULL AND moved_to <> origin
  UNION ALL SELECT id, offered, 'offered' FROM s WHERE offered IS NOT NULL AND offered <> coalesce(moved_to, origin)
  RETURNING 1
)
SELECT (SELECT count(*) FROM ins_clues) AS clues, (SELECT count(*) FROM ins_subjects) AS subjects,
       (SELECT count(*) FROM ins_custody) AS custody;
