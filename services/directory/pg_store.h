// PostgreSQL implementation of the directory Store (SQL only; rules are in workflow.h).
#pragma once

#include <functional>
#include <string>

#include "common/db/idempotency.h"
#include "common/db/pool.h"
#include "services/directory/store.h"

namespace sm::directory {

class PgStore final : public Store {
 public:
  // `new_id` makes ids for new rows (UUIDv7 in production).
  PgStore(db::Pool* pool, std::function<std::string()> new_id);

  absl::StatusOr<v1::ImportDirectoryResponse> Import(const ImportRequest& req) override;
  absl::StatusOr<int64_t> Generation() override;
  absl::StatusOr<v1::Unit> GetUnit(const std::string& id, const std::string& code) override;
  absl::StatusOr<std::vector<v1::Unit>> ListUnits(const std::string& root_id, int max_depth,
                                                  bool include_inactive) override;
  absl::StatusOr<v1::Person> GetPerson(const std::string& id, const std::string& badge) override;
  absl::StatusOr<std::vector<v1::Person>> SearchPeople(const PeopleQuery& q) override;
  absl::StatusOr<v1::Post> GetPost(const std::string& id, const std::string& code) override;
  absl::StatusOr<std::vector<v1::Post>> ListPosts(bool include_inactive) override;

 private:
  db::Pool* pool_;
  std::function<std::string()> new_id_;
  db::Idempotency idempotency_{"directory"};
};

}  // namespace sm::directory
