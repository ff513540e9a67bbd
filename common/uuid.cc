#include "common/uuid.h"

#include <sys/random.h>
#include <uuid/uuid.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstring>
#include <random>

namespace sm {
namespace {

std::string Format(const unsigned char bytes[16]) {
  char out[37];
  uuid_unparse_lower(bytes, out);
  return std::string(out, 36);
}

// Version 7 over `bytes` (random): the time in the first 48 bits, then the tags.
void StampV7(unsigned char bytes[16], const Clock& clock) {
  uint64_t ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(clock.Now().time_since_epoch()).count());
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0F) | 0x70);  // version 7
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
}

// This thread's label generator, seeded from the OS on first use (a failed getrandom falls
// back to random_device, which reads the same source).
std::mt19937_64& LabelRandom() {
  thread_local std::mt19937_64 gen = [] {
    std::array<uint32_t, 8> seed{};
    if (getrandom(seed.data(), sizeof seed, 0) != static_cast<ssize_t>(sizeof seed)) {
      std::random_device dev;
      for (auto& s : seed) s = dev();
    }
    std::seed_seq seq(seed.begin(), seed.end());
    return std::mt19937_64(seq);
  }();
  return gen;
}

void LabelBytes(unsigned char* out, size_t n) {
  auto& gen = LabelRandom();
  for (size_t i = 0; i < n; i += 8) {
    const uint64_t r = gen();
    std::memcpy(out + i, &r, std::min<size_t>(8, n - i));
  }
}

}  // namespace

std::string NewUuid(const Clock& clock) {
  uuid_t bytes;
  uuid_generate_random(bytes);  // random bits for everything but the time and the tags
  StampV7(bytes, clock);
  return Format(bytes);
}

std::string NewLabelUuid(const Clock& clock) {
  uuid_t bytes;
  LabelBytes(bytes, sizeof bytes);
  StampV7(bytes, clock);
  return Format(bytes);
}

std::string NewLabelHex(size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string raw(n, '\0');
  LabelBytes(reinterpret_cast<unsigned char*>(raw.data()), n);
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    const auto b = static_cast<unsigned char>(raw[i]);
    out[2 * i] = kHex[b >> 4];
    out[2 * i + 1] = kHex[b & 0x0F];
  }
  return out;
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
