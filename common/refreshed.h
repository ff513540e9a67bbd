// A value that lives elsewhere (a statistics version, the directory generation), kept in
// memory and read again at most every `every`: callers on a hot path pay for one read per
// interval, and see a change made elsewhere within that interval. Forget() makes the next
// Get() read at once (after a change made by this process). Refresh() from a background
// thread keeps the value fresh so that Get() does not read on the caller's path.
#pragma once

#include <chrono>
#include <cstdint>
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

  // The value held, however old, reading through `read` only when none is held (at start,
  // after Forget()). For a value that a background Refresh() keeps fresh: a caller never
  // waits on a read while one is held, even when reads fail (the source is down, so the
  // value cannot have moved either).
  absl::StatusOr<T> GetHeld(const std::function<absl::StatusOr<T>()>& read) {
    std::lock_guard lock(mu_);
    if (value_) return *value_;
    absl::StatusOr<T> fresh = read();
    if (!fresh.ok()) return fresh.status();
    value_ = *fresh;
    read_at_ = std::chrono::steady_clock::now();
    return *value_;
  }

  // The value held, however old, without ever reading: nothing at start and after Forget().
  std::optional<T> Held() {
    std::lock_guard lock(mu_);
    return value_;
  }

  // Reads the value now, outside the lock (callers of Get() keep the held value meanwhile):
  // for a background thread that keeps the value fresh, so that Get() never waits on a
  // read. A Forget() during the read wins: the read may predate the change.
  void Refresh(const std::function<absl::StatusOr<T>()>& read) {
    uint64_t forgotten;
    {
      std::lock_guard lock(mu_);
      forgotten = forgotten_;
    }
    const auto at = std::chrono::steady_clock::now();
    absl::StatusOr<T> fresh = read();
    if (!fresh.ok()) return;
    std::lock_guard lock(mu_);
    if (forgotten != forgotten_) return;
    value_ = *fresh;
    read_at_ = at;
  }

  void Forget() {
    std::lock_guard lock(mu_);
    value_.reset();
    ++forgotten_;
  }

 private:
  std::chrono::milliseconds every_;
  std::mutex mu_;
  std::optional<T> value_;
  std::chrono::steady_clock::time_point read_at_{};
  uint64_t forgotten_ = 0;
};

}  // namespace sm
