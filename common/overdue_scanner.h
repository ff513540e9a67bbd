// The background overdue scanner every service with deadlines runs: `store->MarkOverdue(now)`
// every `interval` (the store takes an advisory lock, so any replica count is safe), failures
// logged and the run retried at the next tick. Tests call ScanOnce() with a fake clock.
#pragma once

#include <chrono>

#include <absl/status/statusor.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/periodic.h"

namespace sm {

template <typename Store>
class OverdueScanner {
 public:
  OverdueScanner(Store* store, const Clock& clock) : store_(store), clock_(clock) {}
  ~OverdueScanner() { Stop(); }

  absl::StatusOr<int> ScanOnce() { return store_->MarkOverdue(clock_.Now()); }

  void Start(std::chrono::milliseconds interval) {
    worker_.Start(interval, [this] {
      auto n = ScanOnce();
      if (!n.ok()) {
        log::Warn("overdue scan failed", {{"error", std::string(n.status().message())}});
      } else if (*n > 0) {
        log::Info("overdue items escalated", {{"count", *n}});
      }
    });
  }
  void Stop() { worker_.Stop(); }

 private:
  Store* store_;
  const Clock& clock_;
  Periodic worker_;
};

}  // namespace sm
