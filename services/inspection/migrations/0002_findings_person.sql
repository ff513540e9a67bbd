-- ListInspectionFindingsRequest.subject_person_id: the person a finding names, as a key
-- column of the findings documents (services/inspection/pg_store.cc keys it from the body).
-- Rows written before this migration keep NULL until their next write: the body is a
-- serialized proto, so SQL cannot backfill it, and until then the person filter does not
-- list them.
ALTER TABLE findings ADD COLUMN subject_person_id uuid;
CREATE INDEX findings_person ON findings (subject_person_id, created_us, id)
  WHERE subject_person_id IS NOT NULL;
