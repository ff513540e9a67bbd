#include "common/validate.h"

#include "common/uuid.h"

#include <set>

namespace sm::validate {

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

void Length(FieldErrors& e, const std::string& field, const std::string& v, size_t max, bool required) {
  if (required && v.empty()) {
    e.Add(field, "is required");
  } else if (CodePoints(v) > max) {
    e.Add(field, "is longer than " + std::to_string(max) + " characters");
  }
}

void Uuid(FieldErrors& e, const std::string& field, const std::string& v, bool required) {
  if (v.empty()) {
    if (required) e.Add(field, "is required");
  } else if (!IsUuid(v)) {
    e.Add(field, "must be a UUID");
  }
}

void RequestId(FieldErrors& e, const std::string& v) { Length(e, "request_id", v, 128, true); }

void Version(FieldErrors& e, int64_t v) {
  if (v <= 0) e.Add("expected_version", "is required (the version you last read)");
}

namespace {

constexpr int64_t kDaySeconds = 86400;
constexpr int64_t kMinSeconds = 0;           // 1970-01-01
constexpr int64_t kMaxSeconds = 4102444800;  // 2100-01-01

std::optional<int64_t> Seconds(FieldErrors& e, const std::string& field, const google::protobuf::Timestamp* t) {
  if (t == nullptr) return std::nullopt;
  if (t->seconds() < kMinSeconds || t->seconds() >= kMaxSeconds || t->nanos() < 0 || t->nanos() > 999999999) {
    e.Add(field, "is out of range (1970-01-01 to 2099-12-31 UTC)");
    return std::nullopt;
  }
  return t->seconds();
}

}  // namespace

std::optional<int64_t> TimestampMicros(FieldErrors& e, const std::string& field, const google::protobuf::Timestamp* t) {
  std::optional<int64_t> s = Seconds(e, field, t);
  if (!s) return std::nullopt;
  return *s * 1000000 + t->nanos() / 1000;
}

void DistinctTexts(FieldErrors& e, const std::string& field, const google::protobuf::RepeatedPtrField<std::string>& v,
                   int max_count, size_t max_length) {
  if (v.size() > max_count) e.Add(field, "at most " + std::to_string(max_count));
  std::set<std::string_view> seen;
  for (int i = 0; i < v.size() && i < max_count; ++i) {
    const std::string f = field + "[" + std::to_string(i) + "]";
    Length(e, f, v.Get(i), max_length, true);
    if (!seen.insert(v.Get(i)).second) e.Add(f, "repeats an earlier entry");
  }
}

DayRange WholeDays(FieldErrors& e, const std::string& from_field, const google::protobuf::Timestamp* from,
                   const std::string& to_field, const google::protobuf::Timestamp* to) {
  const size_t before = e.size();
  std::optional<int64_t> f = Seconds(e, from_field, from);
  std::optional<int64_t> t = Seconds(e, to_field, to);
  if (e.size() != before) return {};
  if (f && t && (*t < *f || (*t == *f && to->nanos() < from->nanos()))) {
    e.Add(to_field, "must not be before " + from_field);
    return {};
  }
  DayRange r;
  if (f) r.from_us = (*f / kDaySeconds) * kDaySeconds * 1000000;
  if (t) {
    // A bound with any part of a day past midnight takes the whole day.
    const bool midnight = *t % kDaySeconds == 0 && to->nanos() == 0;
    r.to_us = ((*t / kDaySeconds) + (midnight ? 0 : 1)) * kDaySeconds * 1000000;
  }
  if (r.from_us && r.to_us && (*r.to_us - *r.from_us) / (kDaySeconds * 1000000) > kMaxDayRangeDays) {
    e.Add(to_field, "is more than " + std::to_string(kMaxDayRangeDays) + " days after " + from_field);
    return {};
  }
  return r;
}

}  // namespace sm::validate
