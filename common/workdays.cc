#include "common/workdays.h"

#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/status.h"

namespace sm::workdays {
namespace {

constexpr int64_t kCstOffsetSeconds = 8 * 3600;

bool ValidDate(int y, int m, int d) {
  if (m < 1 || m > 12 || d < 1) return false;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int max = kDays[m - 1];
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) max = 29;
  return d <= max;
}

}  // namespace

std::string Date::ToString() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year % 10000, month % 100, day % 100);
  return buf;
}

absl::StatusOr<Date> ParseDate(const std::string& s) {
  int y, m, d;
  char tail;
  if (s.size() != 10 || std::sscanf(s.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || !ValidDate(y, m, d)) {
    return absl::InvalidArgumentError("'" + s + "' is not a date YYYY-MM-DD");
  }
  return Date{y, m, d};
}

// Howard Hinnant's days_from_civil / civil_from_days.
int64_t DaysFromCivil(const Date& date) {
  int64_t y = date.year - (date.month <= 2 ? 1 : 0);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t mp = (date.month + 9) % 12;
  const int64_t doy = (153 * mp + 2) / 5 + date.day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Date CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return Date{static_cast<int>(yoe + era * 400 + (m <= 2 ? 1 : 0)), m, d};
}

int Weekday(const Date& d) {
  const int64_t z = DaysFromCivil(d);
  return static_cast<int>(z >= -4 ? (z + 4) % 7 : (z + 5) % 7 + 6);
}

Date LocalDate(TimePoint t) {
  int64_t s = ToUnixSeconds(t) + kCstOffsetSeconds;
  int64_t days = s >= 0 ? s / 86400 : (s - 86399) / 86400;
  return CivilFromDays(days);
}

TimePoint EndOfDay(const Date& d) { return FromUnixSeconds((DaysFromCivil(d) + 1) * 86400 - kCstOffsetSeconds - 1); }

absl::Status Calendar::AddYaml(const std::string& text, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(origin + ": " + e.what());
  }
  if (!root.IsMap() || !root["year"]) return absl::InvalidArgumentError(origin + ": needs `year`");
  int year = 0;
  try {
    year = root["year"].as<int>();
  } catch (const YAML::Exception&) {
    return absl::InvalidArgumentError(origin + ": year: not a number");
  }
  if (years_.count(year)) return absl::InvalidArgumentError(origin + ": year " + std::to_string(year) + " given twice");
  std::set<int64_t> holidays, makeup;
  auto date_of = [&](const YAML::Node& n, const std::string& field) -> absl::StatusOr<int64_t> {
    if (!n || !n.IsScalar()) return absl::InvalidArgumentError(origin + ": " + field + ": missing");
    auto d = ParseDate(n.Scalar());
    if (!d.ok()) return absl::InvalidArgumentError(origin + ": " + field + ": " + std::string(d.status().message()));
    if (d->year != year) return absl::InvalidArgumentError(origin + ": " + field + ": not in " + std::to_string(year));
    return DaysFromCivil(*d);
  };
  const YAML::Node hs = root["holidays"];
  for (size_t i = 0; hs && i < hs.size(); ++i) {
    const std::string field = "holidays[" + std::to_string(i) + "]";
    auto from = date_of(hs[i]["from"], field + ".from");
    if (!from.ok()) return from.status();
    auto to = date_of(hs[i]["to"], field + ".to");
    if (!to.ok()) return to.status();
    if (*to < *from) return absl::InvalidArgumentError(origin + ": " + field + ": `to` is before `from`");
    for (int64_t d = *from; d <= *to; ++d) holidays.insert(d);
  }
  const YAML::Node ws = root["workdays"];
  for (size_t i = 0; ws && i < ws.size(); ++i) {
    const std::string field = "workdays[" + std::to_string(i) + "]";
    auto d = date_of(ws[i]["date"], field + ".date");
    if (!d.ok()) return d.status();
    int wd = Weekday(CivilFromDays(*d));
    if (wd != 0 && wd != 6)
      return absl::InvalidArgumentError(origin + ": " + field + ": a make-up workday must be a weekend day");
    if (holidays.count(*d)) return absl::InvalidArgumentError(origin + ": " + field + ": is also a holiday");
    makeup.insert(*d);
  }
  years_.insert(year);
  holidays_.insert(holidays.begin(), holidays.end());
  makeup_.insert(makeup.begin(), makeup.end());
  return absl::OkStatus();
}

absl::StatusOr<Calendar> Calendar::LoadDir(const std::string& dir) {
  Calendar cal;
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  }
  if (files.empty()) return absl::NotFoundError("no calendar files (*.yaml) in '" + dir + "'");
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f);
    std::stringstream buf;
    buf << in.rdbuf();
    SM_RETURN_IF_ERROR(cal.AddYaml(buf.str(), f.string()));
  }
  return cal;
}

bool Calendar::IsWorkday(const Date& d) const {
  const int64_t z = DaysFromCivil(d);
  if (holidays_.count(z)) return false;
  if (makeup_.count(z)) return true;
  const int wd = Weekday(d);
  return wd != 0 && wd != 6;
}

Date Calendar::AddWorkdays(const Date& start, int n) const {
  int64_t z = DaysFromCivil(start);
  for (int left = n; left > 0;) {
    ++z;
    if (IsWorkday(CivilFromDays(z))) --left;
  }
  return CivilFromDays(z);
}

int Calendar::WorkdaysBetween(const Date& from, const Date& to) const {
  int64_t a = DaysFromCivil(from), b = DaysFromCivil(to);
  int sign = 1;
  if (b < a) {
    std::swap(a, b);
    sign = -1;
  }
  int n = 0;
  for (int64_t z = a + 1; z <= b; ++z) n += IsWorkday(CivilFromDays(z)) ? 1 : 0;
  return sign * n;
}

TimePoint Calendar::Deadline(TimePoint start, int n) const { return EndOfDay(AddWorkdays(LocalDate(start), n)); }

}  // namespace sm::workdays
