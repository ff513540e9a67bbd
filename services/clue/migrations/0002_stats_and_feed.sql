-- Bumped after every committed change (pg_store.cc): the key of cached statistics.
CREATE SEQUENCE stats_version;
CREATE INDEX clue_events_gseq ON clue_events (gseq);
