#include "common/hash_chain.h"

#include <algorithm>
#include <cctype>

#include "common/crypto.h"

namespace sm::chain {
namespace {

void Put(std::string& out, const std::string& field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
  out += ';';
}

}  // namespace

StateDigester::StateDigester(std::string_view layout) : bytes_(std::string(layout) + ";") {}

void StateDigester::Add(const std::optional<std::string>& value) {
  if (value) {
    Put(bytes_, *value);
  } else {
    bytes_ += "-;";
  }
}

void StateDigester::AddUuid(const std::optional<std::string>& value) {
  if (!value) return Add(value);
  std::string lower = *value;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  Add(lower);
}

std::string StateDigester::Hex() const { return crypto::Sha256Hex(bytes_); }

std::string CanonicalBytes(const Event& e) {
  std::string out = e.chain_version >= 2 ? "sm-event-v2;" : "sm-event-v1;";
  Put(out, std::to_string(e.seq));
  Put(out, e.aggregate_id);
  Put(out, e.type);
  Put(out, e.actor);
  Put(out, e.actor_unit);
  Put(out, std::to_string(e.at_micros));
  Put(out, e.data);
  if (e.chain_version >= 2) Put(out, e.state_digest);
  return out;
}

std::string Hash(const std::string& prev_hash, const Event& e) {
  return crypto::Sha256Hex(prev_hash + "\n" + CanonicalBytes(e));
}

Check Verify(const std::vector<Event>& events, const Expected& x) {
  Check c;
  c.events = static_cast<int64_t>(events.size());
  std::string prev;
  int64_t expected = 1;
  int version = 1;
  auto broken = [&](int64_t seq, std::string problem) {
    c.intact = false;
    c.first_broken_seq = seq;
    c.problem = std::move(problem);
    return c;
  };
  for (const Event& e : events) {
    if (e.seq != expected) return broken(expected, "event " + std::to_string(expected) + " is missing");
    if (e.prev_hash != prev) return broken(e.seq, "previous-hash link does not match");
    if (e.chain_version < version || e.chain_version < 1 || e.chain_version > kChainVersion) {
      return broken(e.seq, "chain version " + std::to_string(e.chain_version) + " after version " +
                               std::to_string(version) + " (or unknown)");
    }
    if (Hash(prev, e) != e.hash) return broken(e.seq, "event content does not match its hash");
    version = e.chain_version;
    prev = e.hash;
    ++expected;
  }
  if (x.anchor) {
    const auto& a = *x.anchor;
    const std::string at = " (checkpoint " + std::to_string(a.checkpoint_id) + ")";
    if (c.events < a.len) {
      return broken(c.events + 1, "events after " + std::to_string(c.events) + " are missing: the checkpoint had " +
                                      std::to_string(a.len) + at);
    }
    if (a.len > 0 && events[static_cast<size_t>(a.len - 1)].hash != a.head) {
      return broken(a.len, "chain up to event " + std::to_string(a.len) +
                               " differs from the checkpoint: an event at or before it was rewritten" + at);
    }
  }
  if (x.head_len != c.events) {
    return broken(std::min(x.head_len, c.events) + 1, x.head_len > c.events
                                                          ? "events after " + std::to_string(c.events) + " are missing"
                                                          : "more events than the record says");
  }
  if (x.head_hash != prev) return broken(c.events, "last hash does not match the record");
  if (x.state_digest && !events.empty() && events.back().chain_version >= 2 &&
      events.back().state_digest != *x.state_digest) {
    return broken(c.events, "the record is not the state its last event committed to");
  }
  return c;
}

Check Verify(const std::vector<Event>& events, int64_t head_len, const std::string& head_hash) {
  return Verify(events, Expected{.head_len = head_len, .head_hash = head_hash});
}

}  // namespace sm::chain
