-- Chain version 2 (common/hash_chain.h): each new event also commits to the digest of the
-- clue row it leaves behind. Existing events stay version 1 and verify the old way; they are
-- not re-chained, since a re-chain would launder any tampering done before it.
ALTER TABLE clue_events
  ADD COLUMN chain_version integer NOT NULL DEFAULT 1 CHECK (chain_version IN (1, 2)),
  ADD COLUMN state_digest text NOT NULL DEFAULT '';
