-- The custody scope of ListClues asks, per clue, for the caller's unit's custody row and
-- its standing (a past offeree sees nothing): keep the standing in the index so the check
-- stays an index-only scan, as it was before standings existed.
DROP INDEX IF EXISTS clue_custody_unit;
CREATE INDEX clue_custody_unit ON clue_custody (unit_id, clue_id) INCLUDE (standing);
