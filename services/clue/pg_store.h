// PostgreSQL implementation of the clue Store (SQL only; rules live in workflow.h and the
// service).
#pragma once

#include "common/clock.h"
#include "common/db/idempotency.h"
#include "common/db/pool.h"
#include "services/clue/store.h"

namespace sm::clue {

class PgStore final : public Store {
 public:
  PgStore(db::Pool* pool, const Clock& clock);

  absl::StatusOr<v1::ClueReply> Register(const StoredClue& clue, const Actor& actor, const std::string& request_id,
                                         const std::string& fingerprint, const nlohmann::json& event_data,
                                         const Render& render) override;
  absl::StatusOr<v1::ClueReply> Mutate(const std::string& clue_id, int64_t expected_version, const Actor& actor,
                                       const std::string& request_id, const std::string& method,
                                       const std::string& fingerprint,
                                       const std::function<absl::StatusOr<Change>(const StoredClue&)>& apply,
                                       const Render& render) override;
  absl::Status AppendEvent(const std::string& clue_id, const Actor& actor, const std::string& type,
                           const nlohmann::json& data) override;
  absl::StatusOr<StoredClue> Get(const std::string& clue_id) override;
  absl::StatusOr<bool> InCustody(const std::string& clue_id, const std::string& unit_id) override;
  absl::StatusOr<std::vector<StoredClue>> List(const ListQuery& q) override;
  absl::StatusOr<std::vector<chain::Event>> Events(const std::string& clue_id) override;
  absl::StatusOr<UnitInfo> Unit(const std::string& id) override;
  absl::StatusOr<PersonInfo> Person(const std::string& id) override;

 private:
  db::Pool* pool_;
  const Clock& clock_;
  db::Idempotency idempotency_{"clue"};
};

}  // namespace sm::clue
