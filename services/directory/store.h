// Storage interface of directory-service; pg_store.h is its PostgreSQL implementation.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <absl/status/statusor.h>

#include "services/directory/workflow.h"
#include "supervision/v1/directory.pb.h"

namespace sm::directory {

struct ImportRequest {
  const Document* document;
  std::string request_id;       // as the caller gave it (the import trail)
  std::string idempotency_key;  // db::CallerKey of the caller and request_id
  std::string fingerprint;      // the request's identity for idempotency (hash of its bytes)
  std::string user;             // who imports, for the import trail
  bool dry_run = false;
};

struct PeopleQuery {
  std::optional<std::string> unit_id;
  bool include_subunits = false;
  std::optional<std::string> name_contains;
  std::optional<std::string> badge_prefix;
  std::optional<bool> leader;
  std::optional<std::string> category;  // document name: POLICE ...
  bool include_inactive = false;
  std::optional<std::pair<std::string, std::string>> after;  // (name, id) of the last row seen
  int limit = 50;
};

class Store {
 public:
  virtual ~Store() = default;

  // Applies (or, for a dry run, only plans) the import in one transaction. A repeated
  // request_id returns the first response with mutation.replayed set. Errors:
  // INVALID_ARGUMENT (request_id reused for other content), UNAVAILABLE, ABORTED.
  virtual absl::StatusOr<v1::ImportDirectoryResponse> Import(const ImportRequest& req) = 0;

  // The current directory generation.
  virtual absl::StatusOr<int64_t> Generation() = 0;

  // By id or by code (exactly one non-empty). NOT_FOUND when absent.
  virtual absl::StatusOr<v1::Unit> GetUnit(const std::string& id, const std::string& code) = 0;
  // Pre-order list of the subtree under `root_id` (every root when empty), to `max_depth`
  // levels below it (0: all). NOT_FOUND when root_id does not exist.
  virtual absl::StatusOr<std::vector<v1::Unit>> ListUnits(const std::string& root_id, int max_depth,
                                                          bool include_inactive) = 0;
  virtual absl::StatusOr<v1::Person> GetPerson(const std::string& id, const std::string& badge) = 0;
  virtual absl::StatusOr<std::vector<v1::Person>> SearchPeople(const PeopleQuery& q) = 0;
  virtual absl::StatusOr<v1::Post> GetPost(const std::string& id, const std::string& code) = 0;
  virtual absl::StatusOr<std::vector<v1::Post>> ListPosts(bool include_inactive) = 0;
};

}  // namespace sm::directory
