// Field checks shared by every service's request validation; each adds a violation naming
// the field to a FieldErrors (status.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

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

}  // namespace sm::validate
