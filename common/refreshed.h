// A value that lives elsewhere (a statistics version, the directory generation), kept in
// memory and read again at most every `every`: callers on a hot path pay for one read per
// interval, and see a change made elsewhere within that interval. Forget() makes the next
// Get() read at once (after a change made by this process).
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>

#include <absl/status/statusor.h>

namespace sm {

template <typename T>
class Refreshed {
 public:
  explicit Refreshed(std::chrono::milliseconds every) : every_(every) {}

  // The value, read through `read` when none is held or it is older than `every`. A failed
  // read is returned and nothing is kept.
  absl::StatusOr<T> Get(const std::function<absl::StatusOr<T>()>& read) {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (value_ && now - read_at_ < every_) return *value_;
    absl::StatusOr<T> fresh = read();
    if (!fresh.ok()) return fresh.status();
    value_ = *fresh;
    read_at_ = now;
    return *value_;
  }

  void Forget() {
    std::lock_guard lock(mu_);
    value_.reset();
  }

 private:
  std::chrono::milliseconds every_;
  std::mutex mu_;
  std::optional<T> value_;
  std::chrono::steady_clock::time_point read_at_{};
};

}  // namespace sm
