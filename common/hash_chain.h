// Tamper evidence: an aggregate's events form a SHA-256 hash chain, each hash covering the
// previous hash and the event's canonical bytes. Verify() finds the first broken link: an
// edited event (its hash no longer matches), a deleted one (a gap in seq, or a prev_hash
// that does not match), or a truncated tail (the head stored on the aggregate differs).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sm::chain {

struct Event {
  int64_t seq = 0;           // 1, 2, 3 ... per aggregate
  std::string aggregate_id;
  std::string type;
  std::string actor;
  std::string actor_unit;
  int64_t at_micros = 0;
  std::string data;          // JSON
  std::string prev_hash;     // "" for seq 1
  std::string hash;
};

// Unambiguous bytes of everything but the hashes (length-prefixed fields).
std::string CanonicalBytes(const Event& e);
// SHA-256 hex of prev_hash and the canonical bytes.
std::string Hash(const std::string& prev_hash, const Event& e);

struct Check {
  bool intact = true;
  int64_t events = 0;
  int64_t first_broken_seq = 0;  // 0 when intact
  std::string problem;
};

// `events` in seq order; `head_len`/`head_hash`: what the aggregate row says the chain's
// length and last hash are.
Check Verify(const std::vector<Event>& events, int64_t head_len, const std::string& head_hash);

}  // namespace sm::chain
