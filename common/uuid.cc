#include "common/uuid.h"

#include <uuid/uuid.h>

#include <array>
#include <cctype>
#include <chrono>

namespace sm {
namespace {

std::string Format(const unsigned char bytes[16]) {
  char out[37];
  uuid_unparse_lower(bytes, out);
  return std::string(out, 36);
}

}  // namespace

std::string NewUuid(const Clock& clock) {
  uuid_t bytes;
  uuid_generate_random(bytes);  // random bits for everything but the time and the tags
  uint64_t ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          clock.Now().time_since_epoch())
                                          .count());
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0F) | 0x70);  // version 7
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
  return Format(bytes);
}

std::string NewRandomUuid() {
  uuid_t bytes;
  uuid_generate_random(bytes);
  return Format(bytes);
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace sm
