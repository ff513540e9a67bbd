#include "common/validate.h"

#include "common/uuid.h"

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

}  // namespace sm::validate
