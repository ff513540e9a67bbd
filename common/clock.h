// Time is injected: code asks a Clock, tests use FakeClock and never sleep.
#pragma once

#include <chrono>
#include <mutex>

namespace sm {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
  // A process-wide instance; never destroyed.
  static const Clock& Default();
};

// A clock that moves only when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start) : now_(start) {}
  TimePoint Now() const override;
  void Set(TimePoint t);
  void Advance(std::chrono::nanoseconds d);

 private:
  mutable std::mutex mu_;
  TimePoint now_;
};

// Seconds since the Unix epoch.
int64_t ToUnixSeconds(TimePoint t);
int64_t ToUnixMicros(TimePoint t);
TimePoint FromUnixSeconds(int64_t s);
TimePoint FromUnixMicros(int64_t us);
// The clock's now as Unix microseconds.
inline int64_t NowMicros(const Clock& c) { return ToUnixMicros(c.Now()); }

}  // namespace sm
