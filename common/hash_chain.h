// Tamper evidence: an aggregate's events form a SHA-256 hash chain, each hash covering the
// previous hash and the event's canonical bytes. From chain version 2 an event's bytes also
// cover `state_digest`, the digest of the aggregate's row as the event left it, so the row
// cannot be edited alone. Verify() finds the first broken link: an edited event (its hash no
// longer matches), a deleted one (a gap in seq, or a prev_hash that does not match), a
// truncated tail (the head stored on the aggregate differs), a row that is not the state the
// last event committed to, and a chain that is shorter than, or differs from, what the latest
// signed checkpoint (chain_anchor.h) recorded for it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sm::chain {

// Version 1: hash over the event alone (chains written before state digests; they verify
// the old way, never re-chained, since a re-chain would launder tampering). Version 2: the
// event also commits to the aggregate's resulting state.
inline constexpr int kChainVersion = 2;

struct Event {
  int64_t seq = 0;  // 1, 2, 3 ... per aggregate
  std::string aggregate_id;
  std::string type;
  std::string actor;
  std::string actor_unit;
  int64_t at_micros = 0;
  std::string data;  // JSON
  int chain_version = 1;
  std::string state_digest;  // version 2: digest of the aggregate's row after this event
  std::string prev_hash;     // "" for seq 1
  std::string hash;
};

// The digest of an aggregate's stored state (what a version-2 event's state_digest is): the
// values of its row (and of rows that belong to it) in a fixed order under a layout tag, each
// length-prefixed, a null distinct from "", UUIDs lower-cased as PostgreSQL returns them, so
// the digest the writer commits to and the one verification recomputes from the row agree
// however a value was spelt on input.
class StateDigester {
 public:
  explicit StateDigester(std::string_view layout);  // e.g. "sm-clue-state-v1"
  void Add(const std::optional<std::string>& value);
  void AddUuid(const std::optional<std::string>& value);
  // SHA-256 hex of everything added.
  std::string Hex() const;

 private:
  std::string bytes_;
};

// Unambiguous bytes of everything but the hashes (length-prefixed fields), by the event's
// chain version.
std::string CanonicalBytes(const Event& e);
// SHA-256 hex of prev_hash and the canonical bytes.
std::string Hash(const std::string& prev_hash, const Event& e);

struct Check {
  bool intact = true;
  int64_t events = 0;
  int64_t first_broken_seq = 0;  // 0 when intact
  std::string problem;
};

// What the chain is checked against besides its own links.
struct Expected {
  int64_t head_len = 0;  // chain length and last hash as the aggregate row says
  std::string head_hash;
  // Digest of the aggregate's row as it is now; compared with the last event's
  // state_digest when that event is version 2. nullopt: not checked.
  std::optional<std::string> state_digest;
  // The aggregate's (length, head) in the latest checkpoint, if it was in it. The chain
  // must be at least that long and its prefix must end in that head.
  struct Anchor {
    int64_t checkpoint_id = 0;
    int64_t len = 0;
    std::string head;
  };
  std::optional<Anchor> anchor;
};

// `events` in seq order. The first problem found, in this order: a link (gap, previous
// hash, content, a version going backwards), the checkpoint, the row's head, the row's state.
// A rewritten-and-rehashed prefix can only be located by the checkpoint: it is reported at
// the checkpointed length (the tampered event is at or before it).
Check Verify(const std::vector<Event>& events, const Expected& expected);
Check Verify(const std::vector<Event>& events, int64_t head_len, const std::string& head_hash);

}  // namespace sm::chain
