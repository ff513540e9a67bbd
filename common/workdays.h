// The working-day clock (工作日): deadlines that count working days from a holiday
// calendar with public holidays and make-up workdays (调休). One YAML file per year
// (deploy/calendar/YYYY.yaml). Dates are civil dates in China Standard Time (UTC+8, no
// daylight saving), which is where every deadline in the domain is reckoned.
#pragma once

#include <compare>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <absl/status/statusor.h>

#include "common/clock.h"

namespace sm::workdays {

struct Date {
  int year = 1970, month = 1, day = 1;
  auto operator<=>(const Date&) const = default;
  std::string ToString() const;  // YYYY-MM-DD
};

// Parses YYYY-MM-DD (a real calendar date). Errors: INVALID_ARGUMENT.
absl::StatusOr<Date> ParseDate(const std::string& s);
int64_t DaysFromCivil(const Date& d);  // days since 1970-01-01
Date CivilFromDays(int64_t days);
int Weekday(const Date& d);  // 0 = Sunday ... 6 = Saturday

// The China Standard Time date of an instant.
Date LocalDate(TimePoint t);
// The instant a local date ends (its last moment, 23:59:59 CST), as UTC.
TimePoint EndOfDay(const Date& d);

class Calendar {
 public:
  // Adds one year file. Errors: INVALID_ARGUMENT naming the entry (a bad date, a date
  // outside the year, a range backwards, a make-up day that is not a weekend, a year
  // given twice).
  absl::Status AddYaml(const std::string& text, const std::string& origin);
  // Loads every *.yaml in `dir`. Errors: as AddYaml; NOT_FOUND when `dir` has no file.
  static absl::StatusOr<Calendar> LoadDir(const std::string& dir);

  // Whether a file for `year` was loaded. For years not covered, Monday to Friday are
  // working days (callers may warn: a deadline there may be off by the holidays).
  bool Covers(int year) const { return years_.count(year) > 0; }
  std::vector<int> Years() const { return {years_.begin(), years_.end()}; }

  bool IsWorkday(const Date& d) const;
  // The date `n` working days after `start` (`start` itself does not count; n = 0 gives
  // `start`). A limit of "3 working days" received on Friday before a holiday lands on
  // the third working day after it.
  Date AddWorkdays(const Date& start, int n) const;
  // Working days in (from, to]; negative when `to` is before `from`.
  int WorkdaysBetween(const Date& from, const Date& to) const;

  // The deadline instant for a limit of `n` working days counted from instant `start`:
  // the end of the n-th working day after start's local date.
  TimePoint Deadline(TimePoint start, int n) const;

 private:
  std::set<int> years_;
  std::set<int64_t> holidays_;  // days since epoch
  std::set<int64_t> makeup_;
};

}  // namespace sm::workdays
