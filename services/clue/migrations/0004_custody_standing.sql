-- What a unit in a clue's chain of custody keeps: custody no longer means "sees all of it
-- forever". A unit is, besides the clue's current holder or offeree (read from the clue row):
--   sender     registered it, or held it and handed it on: sees what it sent and the outcome
--              it is owed as feedback (docs/clue.md § Access);
--   supervisor an overdue clue was escalated to it, or it intervened in step: follows the
--              case record without its sealed details;
--   offered    was offered it once (and returned it, or it moved on): nothing any more.
ALTER TABLE clue_custody ADD COLUMN standing text NOT NULL DEFAULT 'offered'
  CHECK (standing IN ('offered', 'supervisor', 'sender'));

UPDATE clue_custody cc SET standing = 'sender'
  FROM clues c WHERE c.id = cc.clue_id AND c.origin_unit_id = cc.unit_id;
UPDATE clue_custody cc SET standing = 'sender'
  FROM clue_events e
  WHERE e.clue_id = cc.clue_id AND e.type = 'accepted' AND e.data::jsonb->>'from_unit_id' = cc.unit_id::text;
UPDATE clue_custody cc SET standing = 'supervisor'
  FROM clue_events e
  WHERE cc.standing = 'offered' AND e.clue_id = cc.clue_id
    AND ((e.type = 'escalated' AND e.data::jsonb->>'escalated_to_unit_id' = cc.unit_id::text)
      OR (e.type = 'intervened' AND e.data::jsonb->>'unit_id' = cc.unit_id::text));
