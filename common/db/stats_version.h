// A service's statistics cache key: a sequence (`stats_version` in its schema) moved on after
// every commit that changes what the statistics count, and read by the service's refresher.
// Moved after the commit, never inside it: a version read before the change is visible would
// have figures without it cached under the new version. Concurrent writers share one move
// (group commit, common/coalesce.h): Changed() returns once a nextval that began after the
// call has run, so the writer's next statistics read sees its change, at one round trip per
// group of writers instead of one per write.
#pragma once

#include <string>

#include <absl/status/statusor.h>

#include "common/coalesce.h"
#include "common/db/pool.h"

namespace sm::db {

class StatsVersion {
 public:
  explicit StatsVersion(Pool* pool, std::string sequence = "stats_version");

  // The current version (0 before the first change).
  absl::StatusOr<int64_t> Read();
  // After a commit. A failure is logged (statistics then lag until the next change).
  void Changed();

 private:
  struct Waiter {};
  Pool* pool_;
  std::string sequence_;
  Coalescer<Waiter> moves_;
};

}  // namespace sm::db
