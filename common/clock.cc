#include "common/clock.h"

namespace sm {

const Clock& SystemClock::Default() {
  static const SystemClock* clock = new SystemClock();
  return *clock;
}

TimePoint FakeClock::Now() const {
  std::lock_guard lock(mu_);
  return now_;
}

void FakeClock::Set(TimePoint t) {
  std::lock_guard lock(mu_);
  now_ = t;
}

void FakeClock::Advance(std::chrono::nanoseconds d) {
  std::lock_guard lock(mu_);
  now_ += std::chrono::duration_cast<TimePoint::duration>(d);
}

int64_t ToUnixMicros(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

int64_t ToUnixSeconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

TimePoint FromUnixSeconds(int64_t s) { return TimePoint(std::chrono::seconds(s)); }
TimePoint FromUnixMicros(int64_t us) { return TimePoint(std::chrono::microseconds(us)); }

}  // namespace sm
