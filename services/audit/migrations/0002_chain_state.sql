-- Chain version 2 (common/hash_chain.h): each new event also commits to the digest of the
-- engagement or finding row it leaves behind (a finding with its rectifications). Existing
-- events stay version 1 and verify the old way; they are not re-chained, since a re-chain
-- would launder any tampering done before it.
ALTER TABLE audit_events
  ADD COLUMN chain_version integer NOT NULL DEFAULT 1 CHECK (chain_version IN (1, 2)),
  ADD COLUMN state_digest text NOT NULL DEFAULT '';

-- Every chain's head, engagements and findings alike: what a signed checkpoint
-- (common/chain_anchor.h) covers. Ordered by id it is a merge of the two primary keys.
CREATE VIEW audit_chains AS
  SELECT id, chain_len, chain_head FROM engagements
  UNION ALL
  SELECT id, chain_len, chain_head FROM findings;
