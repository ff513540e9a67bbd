-- ListFindingsRequest.responsible_person_id: findings naming a person, in list order
-- (risk-service and oversight read a person's findings across engagements).
CREATE INDEX findings_person ON findings (responsible_person_id, created_at, id)
  WHERE responsible_person_id IS NOT NULL;
