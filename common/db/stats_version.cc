#include "common/db/stats_version.h"

#include "common/log.h"

namespace sm::db {

StatsVersion::StatsVersion(Pool* pool, std::string sequence)
    : pool_(pool),
      sequence_(std::move(sequence)),
      moves_({.max_batch = 4096, .max_running = 1, .name = "stats_version"}, [this](const std::vector<Waiter*>&) {
        absl::Status s = Autocommit(*pool_, "SELECT nextval('" + sequence_ + "')");
        if (!s.ok()) log::Warn("statistics cache key not advanced", {{"error", std::string(s.message())}});
      }) {}

absl::StatusOr<int64_t> StatsVersion::Read() {
  return ReadInt64(*pool_, "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM " + sequence_);
}

void StatsVersion::Changed() {
  Waiter mine;
  moves_.Submit(&mine);
}

}  // namespace sm::db
