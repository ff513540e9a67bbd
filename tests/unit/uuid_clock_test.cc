// Tests for common/clock.h and common/uuid.h: FakeClock arithmetic, Unix seconds, UUIDv7
// layout and ordering, random v4 ids, label ids and IsUuid.
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/uuid.h"

namespace sm {
namespace {

const TimePoint kT0 = FromUnixSeconds(1'700'000'000);

TEST(Clock, FakeClockMovesOnlyWhenTold) {
  FakeClock clock(kT0);
  EXPECT_EQ(clock.Now(), kT0);
  EXPECT_EQ(clock.Now(), kT0);
  clock.Advance(std::chrono::milliseconds(1500));
  EXPECT_EQ(clock.Now(), kT0 + std::chrono::milliseconds(1500));
  clock.Advance(std::chrono::nanoseconds(1000));
  EXPECT_EQ(clock.Now(), kT0 + std::chrono::milliseconds(1500) + std::chrono::microseconds(1));
  clock.Set(kT0 - std::chrono::hours(1));
  EXPECT_EQ(clock.Now(), kT0 - std::chrono::hours(1));
}

TEST(Clock, FakeClockIsThreadSafe) {
  FakeClock clock(kT0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) clock.Advance(std::chrono::milliseconds(1));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(clock.Now(), kT0 + std::chrono::seconds(4));
}

TEST(Clock, UnixSeconds) {
  EXPECT_EQ(ToUnixSeconds(FromUnixSeconds(0)), 0);
  EXPECT_EQ(ToUnixSeconds(kT0), 1'700'000'000);
  EXPECT_EQ(ToUnixSeconds(kT0 + std::chrono::milliseconds(999)), 1'700'000'000) << "truncates";
  EXPECT_EQ(FromUnixSeconds(1).time_since_epoch(), std::chrono::seconds(1));
}

TEST(Clock, SystemClockIsNow) {
  const auto before = std::chrono::system_clock::now();
  const auto got = SystemClock::Default().Now();
  const auto after = std::chrono::system_clock::now();
  EXPECT_LE(before, got);
  EXPECT_LE(got, after);
  EXPECT_EQ(&SystemClock::Default(), &SystemClock::Default());
}

bool IsLowerHex(const std::string& s) {
  for (char c : s) {
    if (c != '-' && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

TEST(Uuid, V7LayoutCarriesTheMilliseconds) {
  // 2023-11-14T22:13:20.123Z = 1700000000123 ms = 0x018bcfe5687b.
  FakeClock clock(kT0 + std::chrono::milliseconds(123));
  for (int i = 0; i < 200; ++i) {
    std::string id = i % 2 ? NewUuid(clock) : NewLabelUuid(clock);
    SCOPED_TRACE(id);
    ASSERT_EQ(id.size(), 36u);
    EXPECT_TRUE(IsUuid(id));
    EXPECT_TRUE(IsLowerHex(id)) << "canonical text is lower case";
    EXPECT_EQ(id.substr(0, 8), "018bcfe5");
    EXPECT_EQ(id.substr(9, 4), "687b");
    EXPECT_EQ(id[14], '7') << "version nibble";
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << "RFC 9562 variant";
  }
}

TEST(Uuid, V7SortsByTimeAcrossMilliseconds) {
  FakeClock clock(kT0);
  std::string prev = NewUuid(clock);
  for (int i = 0; i < 1000; ++i) {
    clock.Advance(std::chrono::milliseconds(1));
    std::string next = NewUuid(clock);
    ASSERT_LT(prev, next) << "at step " << i;
    prev = next;
  }
}

TEST(Uuid, V7IsUniqueWithinAMillisecond) {
  FakeClock clock(kT0);
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.insert(NewUuid(clock));
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(Uuid, LabelsAreUniqueAcrossThreadsAndHex) {
  // Each thread seeds its own generator from the OS: threads must not repeat each other.
  constexpr int kThreads = 4, kEach = 2000;
  std::vector<std::vector<std::string>> made(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&made, t] {
      for (int i = 0; i < kEach; ++i) made[t].push_back(i % 2 ? NewLabelUuid() : NewLabelHex(16));
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& ids : made) {
    for (const auto& id : ids) {
      EXPECT_TRUE(IsLowerHex(id)) << id;
      EXPECT_TRUE(id.size() == 32 || IsUuid(id)) << id;
      all.insert(id);
    }
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(NewLabelHex(3).size(), 6u);
  EXPECT_EQ(NewLabelHex(0), "");
}

TEST(Uuid, V7DefaultsToTheSystemClock) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  std::string id = NewUuid();
  std::string hex = id.substr(0, 8) + id.substr(9, 4);
  const long long got = std::stoll(hex, nullptr, 16);
  EXPECT_GE(got, ms);
  EXPECT_LE(got, ms + 5000);
}

TEST(Uuid, RandomIsVersion4AndUnique) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewRandomUuid();
    ASSERT_TRUE(IsUuid(id)) << id;
    EXPECT_TRUE(IsLowerHex(id)) << id;
    EXPECT_EQ(id[14], '4') << id;
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(Uuid, IsUuidAcceptsAndRejects) {
  struct Case {
    std::string text;
    bool want;
  };
  const Case cases[] = {
      {"018bcfe5-687b-7abc-8def-0123456789ab", true},
      {"018BCFE5-687B-7ABC-8DEF-0123456789AB", true},
      {"00000000-0000-0000-0000-000000000000", true},
      {"", false},
      {"018bcfe5687b7abc8def0123456789ab", false},        // no hyphens
      {"018bcfe5-687b-7abc-8def-0123456789a", false},     // 35 chars
      {"018bcfe5-687b-7abc-8def-0123456789abc", false},   // 37 chars
      {"018bcfe5-687b-7abc-8def-0123456789ag", false},    // not hex
      {"018bcfe5+687b-7abc-8def-0123456789ab", false},    // wrong separator
      {"018bcfe-5687b-7abc-8def-0123456789ab", false},    // hyphen misplaced
      {"{018bcfe5-687b-7abc-8def-0123456789ab}", false},  // braces
      {" 018bcfe5-687b-7abc-8def-0123456789a", false},    // leading space
      {std::string("018bcfe5-687b-7abc-8def-0123456789a\0", 36), false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(IsUuid(c.text), c.want) << "'" << c.text << "'";
  }
}

}  // namespace
}  // namespace sm
