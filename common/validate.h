// Field checks shared by every service's request validation; each adds a violation naming
// the field to a FieldErrors (status.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <google/protobuf/repeated_field.h>
#include <google/protobuf/timestamp.pb.h>

#include "common/status.h"

namespace sm::validate {

// Unicode code points in well-formed UTF-8.
size_t CodePoints(std::string_view s);

// "is required" when empty and required; "is longer than N characters" past `max`.
void Length(FieldErrors& e, const std::string& field, const std::string& v, size_t max, bool required);
// "is required" / "must be a UUID".
void Uuid(FieldErrors& e, const std::string& field, const std::string& v, bool required = true);
// request_id: required, at most 128 characters.
void RequestId(FieldErrors& e, const std::string& v);
// expected_version: required (positive).
void Version(FieldErrors& e, int64_t v);

// What every step request validates alike: request_id, the id of the item it is on
// (`field`, a required UUID) and, when the request has one, expected_version.
template <typename Request>
FieldErrors StepFields(const Request& req, const std::string& field, const std::string& id) {
  FieldErrors e;
  RequestId(e, req.request_id());
  Uuid(e, field, id);
  if constexpr (requires { req.expected_version(); }) Version(e, req.expected_version());
  return e;
}

// A timestamp a caller sent, as microseconds since the epoch, checked before any
// conversion (huge seconds would overflow a time_point): seconds in [1970, 2100) and nanos
// in [0, 1e9), else "is out of range" and nullopt. nullopt without error for `t` null.
std::optional<int64_t> TimestampMicros(FieldErrors& e, const std::string& field, const google::protobuf::Timestamp* t);

// A repeated text field: at most `max_count` entries, each non-empty, at most `max_length`
// characters, and none repeating an earlier one (named as `field[i]`).
void DistinctTexts(FieldErrors& e, const std::string& field, const google::protobuf::RepeatedPtrField<std::string>& v,
                   int max_count, size_t max_length);

// A half-open range [from_us, to_us) of whole UTC days, in microseconds since the epoch;
// an absent bound is open.
struct DayRange {
  std::optional<int64_t> from_us, to_us;
};
inline constexpr int64_t kMaxDayRangeDays = 20 * 366;  // about 20 years
// Snaps the timestamps a caller sent to whole UTC days — `from` down to the start of its
// day, `to` up to the start of the next day unless it is one already — so that ranges that
// differ within a day are one range (statistics cache keys stay few; the answer computed
// for a key is the answer to that key's range). Each bound must lie in [1970, 2100) with
// valid nanos ("is out of range"); `to` must not be before `from`, and the snapped range
// may span at most kMaxDayRangeDays days (violations under `to_field`).
DayRange WholeDays(FieldErrors& e, const std::string& from_field, const google::protobuf::Timestamp* from,
                   const std::string& to_field, const google::protobuf::Timestamp* to);

}  // namespace sm::validate
