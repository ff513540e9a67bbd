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

// True for the canonical 36-character form (any version, either case).
bool IsUuid(std::string_view s);

}  // namespace sm
