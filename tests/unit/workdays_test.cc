// The working-day clock against the shipped State Council calendars (deploy/calendar).
#include "common/workdays.h"

#include <gtest/gtest.h>

namespace sm::workdays {
namespace {

Date D(const char* s) { return *ParseDate(s); }

const Calendar& Shipped() {
  static const Calendar* cal = new Calendar(*Calendar::LoadDir(std::string(SM_SOURCE_DIR) + "/deploy/calendar"));
  return *cal;
}

TEST(WorkdaysTest, CivilDateArithmetic) {
  EXPECT_EQ(DaysFromCivil(D("1970-01-01")), 0);
  EXPECT_EQ(CivilFromDays(DaysFromCivil(D("2024-02-29"))), D("2024-02-29"));
  EXPECT_EQ(Weekday(D("2026-11-23")), 1);  // a Monday
  EXPECT_EQ(Weekday(D("2025-01-26")), 0);  // a Sunday
  EXPECT_FALSE(ParseDate("2025-02-29").ok());
  EXPECT_FALSE(ParseDate("2025-1-5").ok());
  EXPECT_FALSE(ParseDate("2025-01-05x").ok());
}

TEST(WorkdaysTest, LocalDateIsChinaStandardTime) {
  // 16:30 UTC is 00:30 the next day in Beijing.
  TimePoint t = FromUnixSeconds(DaysFromCivil(D("2026-11-23")) * 86400 + 16 * 3600 + 1800);
  EXPECT_EQ(LocalDate(t), D("2026-11-24"));
  EXPECT_EQ(ToUnixSeconds(EndOfDay(D("2026-11-24"))), DaysFromCivil(D("2026-11-24")) * 86400 + 16 * 3600 - 1);
}

TEST(WorkdaysTest, ShippedYearsAreCovered) {
  EXPECT_EQ(Shipped().Years(), (std::vector<int>{2024, 2025, 2026}));
  EXPECT_FALSE(Shipped().Covers(2027));
}

struct Case {
  const char* start;
  int n;
  const char* expected;
  const char* why;
};

TEST(WorkdaysTest, AddWorkdaysAcrossHolidaysAndMakeUpDays) {
  const Case cases[] = {
      {"2026-11-23", 0, "2026-11-23", "zero days is the start"},
      {"2026-11-23", 3, "2026-11-26", "plain week"},
      {"2026-11-27", 1, "2026-11-30", "Friday + 1 is Monday"},
      {"2025-01-24", 1, "2025-01-26", "Sunday 2025-01-26 is a make-up workday"},
      {"2025-01-24", 3, "2025-02-05", "Spring Festival 01-28..02-04 is off"},
      {"2025-02-05", 3, "2025-02-08", "Saturday 2025-02-08 is a make-up workday"},
      {"2025-09-30", 1, "2025-10-09", "National Day and Mid-Autumn 10-01..10-08"},
      {"2026-09-30", 3, "2026-10-10", "10-08, 10-09, then make-up Saturday 10-10"},
      {"2024-02-08", 2, "2024-02-18", "2024 Spring Festival, make-up Sunday 02-18"},
      {"2026-12-31", 1, "2027-01-01", "an uncovered year counts Monday to Friday"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Shipped().AddWorkdays(D(c.start), c.n), D(c.expected)) << c.start << " + " << c.n << ": " << c.why;
  }
}

TEST(WorkdaysTest, IsWorkdayAndCounting) {
  EXPECT_TRUE(Shipped().IsWorkday(D("2024-02-04")));   // make-up Sunday
  EXPECT_FALSE(Shipped().IsWorkday(D("2024-02-12")));  // holiday Monday
  EXPECT_FALSE(Shipped().IsWorkday(D("2026-11-22")));  // ordinary Sunday
  EXPECT_EQ(Shipped().WorkdaysBetween(D("2025-01-24"), D("2025-02-05")), 3);
  EXPECT_EQ(Shipped().WorkdaysBetween(D("2025-02-05"), D("2025-01-24")), -3);
  EXPECT_EQ(Shipped().WorkdaysBetween(D("2026-11-23"), D("2026-11-23")), 0);
}

TEST(WorkdaysTest, DeadlineIsTheEndOfTheLastWorkingDay) {
  // Received Friday 2025-01-24 at 10:00 Beijing time, 3 working days: due 2025-02-05 end.
  TimePoint received = FromUnixSeconds(DaysFromCivil(D("2025-01-24")) * 86400 + 2 * 3600);
  EXPECT_EQ(Shipped().Deadline(received, 3), EndOfDay(D("2025-02-05")));
}

TEST(WorkdaysTest, BadCalendarFilesAreRefusedNamingTheEntry) {
  struct Bad {
    const char* yaml;
    const char* expect;
  };
  const Bad bad[] = {
      {"holidays: []", "year"},
      {"year: 2030\nholidays:\n  - {from: 2030-13-01, to: 2030-13-02}", "holidays[0].from"},
      {"year: 2030\nholidays:\n  - {from: 2031-01-01, to: 2031-01-02}", "not in 2030"},
      {"year: 2030\nholidays:\n  - {from: 2030-02-05, to: 2030-02-01}", "before"},
      {"year: 2030\nworkdays:\n  - {date: 2030-01-02}", "weekend"},  // a Wednesday
      {"year: 2030\nholidays:\n  - {from: 2030-01-05, to: 2030-01-05}\nworkdays:\n  - {date: 2030-01-05}",
       "also a holiday"},
  };
  for (const auto& b : bad) {
    Calendar cal;
    absl::Status s = cal.AddYaml(b.yaml, "test.yaml");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << b.yaml;
    EXPECT_NE(std::string(s.message()).find(b.expect), std::string::npos) << s.message();
  }
  Calendar twice;
  ASSERT_TRUE(twice.AddYaml("year: 2030", "a.yaml").ok());
  EXPECT_FALSE(twice.AddYaml("year: 2030", "b.yaml").ok());
  EXPECT_EQ(Calendar::LoadDir("/nonexistent").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace sm::workdays
