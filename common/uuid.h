// UUIDs for every id in the system (ARCHITECTURE.md: ids are UUIDs).
#pragma once

#include <string>
#include <string_view>

#include "common/clock.h"

namespace sm {

// A version-7 UUID (RFC 9562): 48 bits of Unix milliseconds from `clock`, then random bits,
// so ids created later sort later and B-tree inserts stay local. Lower-case canonical text.
std::string NewUuid(const Clock& clock = SystemClock::Default());

// A random version-4 UUID, for tokens and ids that must not reveal time.
std::string NewRandomUuid();

// Labels for calls (request ids, trace ids): the same forms as NewUuid and random hex, but
// their random bits come from a per-thread generator seeded once from the OS, so making one
// costs no system call (libuuid's uuid_generate_random and OpenSSL's RAND_bytes were 9 % of
// a cached read's server CPU). Unique, not unpredictable: never for anything a caller must
// not guess (tokens, secrets, ids that grant access).
std::string NewLabelUuid(const Clock& clock = SystemClock::Default());
// 2 * `bytes` lower-case hex characters.
std::string NewLabelHex(size_t bytes);

// True for the canonical 36-character form (any version, either case).
bool IsUuid(std::string_view s);

}  // namespace sm
