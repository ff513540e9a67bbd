// validate::WholeDays: statistics ranges snapped to whole UTC days, and their checks.
#include <gtest/gtest.h>

#include "common/validate.h"

namespace sm::validate {
namespace {

constexpr int64_t kDay = 86400;
constexpr int64_t kUs = 1000000;
constexpr int64_t k2025 = 1735689600;  // 2025-01-01T00:00:00Z

google::protobuf::Timestamp Ts(int64_t seconds, int32_t nanos = 0) {
  google::protobuf::Timestamp t;
  t.set_seconds(seconds);
  t.set_nanos(nanos);
  return t;
}

TEST(WholeDays, SnapsOutwardToUtcDaysAndKeepsOpenBoundsOpen) {
  struct Case {
    std::optional<int64_t> from, to;
    int32_t to_nanos;
    std::optional<int64_t> want_from_day, want_to_day;  // days after 2025-01-01
  };
  const Case cases[] = {
      {k2025 + 3600, k2025 + 5 * kDay + 7200, 0, 0, 6},  // inside days: whole days
      {k2025, k2025 + 5 * kDay, 0, 0, 5},                // already midnight: unchanged
      {k2025, k2025 + 5 * kDay, 1, 0, 6},                // a nanosecond past midnight takes the day
      {k2025 + kDay - 1, k2025 + kDay - 1, 0, 0, 1},     // one instant: its day
      {std::nullopt, k2025 + 10, 0, std::nullopt, 1},
      {k2025 + 10, std::nullopt, 0, 0, std::nullopt},
      {std::nullopt, std::nullopt, 0, std::nullopt, std::nullopt},
  };
  for (const Case& c : cases) {
    FieldErrors e;
    google::protobuf::Timestamp f = Ts(c.from.value_or(0)), t = Ts(c.to.value_or(0), c.to_nanos);
    DayRange r = WholeDays(e, "from", c.from ? &f : nullptr, "to", c.to ? &t : nullptr);
    ASSERT_TRUE(e.empty());
    auto day = [](std::optional<int64_t> us) -> std::optional<int64_t> {
      if (!us) return std::nullopt;
      EXPECT_EQ(*us % (kDay * kUs), 0);
      return (*us / kUs - k2025) / kDay;
    };
    EXPECT_EQ(day(r.from_us), c.want_from_day) << c.from.value_or(-1) << " " << c.to.value_or(-1);
    EXPECT_EQ(day(r.to_us), c.want_to_day) << c.from.value_or(-1) << " " << c.to.value_or(-1);
  }
}

TEST(WholeDays, RangesThatDifferWithinADayAreOneRange) {
  FieldErrors e;
  auto a_from = Ts(k2025 + 60), a_to = Ts(k2025 + 3 * kDay + 60);
  auto b_from = Ts(k2025 + kDay - 60), b_to = Ts(k2025 + 4 * kDay - 60);
  DayRange a = WholeDays(e, "from", &a_from, "to", &a_to);
  DayRange b = WholeDays(e, "from", &b_from, "to", &b_to);
  ASSERT_TRUE(e.empty());
  EXPECT_EQ(a.from_us, b.from_us);
  EXPECT_EQ(a.to_us, b.to_us);
}

TEST(WholeDays, BadRangesNameTheField) {
  struct Case {
    google::protobuf::Timestamp from, to;
    std::string field;
  };
  const Case cases[] = {
      {Ts(k2025 + kDay), Ts(k2025), "to"},        // to before from
      {Ts(k2025, 5), Ts(k2025, 4), "to"},         // by nanoseconds
      {Ts(-1), Ts(k2025), "from"},                // before 1970
      {Ts(k2025), Ts(4102444800), "to"},          // 2100 and later
      {Ts(k2025, -1), Ts(k2025 + kDay), "from"},  // bad nanos
      {Ts(k2025), Ts(k2025 + kDay, 1000000000), "to"},
      {Ts(0), Ts((kMaxDayRangeDays + 1) * kDay), "to"},  // too long
  };
  for (const Case& c : cases) {
    FieldErrors e;
    WholeDays(e, "from", &c.from, "to", &c.to);
    auto v = FieldViolations(e.ToStatus());
    ASSERT_EQ(v.size(), 1u) << c.from.seconds() << " " << c.to.seconds();
    EXPECT_EQ(v[0].field, c.field);
  }
  FieldErrors ok;
  auto f = Ts(0), t = Ts(kMaxDayRangeDays * kDay);
  WholeDays(ok, "from", &f, "to", &t);
  EXPECT_TRUE(ok.empty()) << "the longest range allowed";
}

}  // namespace
}  // namespace sm::validate
