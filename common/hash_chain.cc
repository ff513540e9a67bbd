#include "common/hash_chain.h"

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

std::string CanonicalBytes(const Event& e) {
  std::string out = "sm-event-v1;";
  Put(out, std::to_string(e.seq));
  Put(out, e.aggregate_id);
  Put(out, e.type);
  Put(out, e.actor);
  Put(out, e.actor_unit);
  Put(out, std::to_string(e.at_micros));
  Put(out, e.data);
  return out;
}

std::string Hash(const std::string& prev_hash, const Event& e) {
  return crypto::Sha256Hex(prev_hash + "\n" + CanonicalBytes(e));
}

Check Verify(const std::vector<Event>& events, int64_t head_len, const std::string& head_hash) {
  Check c;
  c.events = static_cast<int64_t>(events.size());
  std::string prev;
  int64_t expected = 1;
  auto broken = [&](int64_t seq, std::string problem) {
    c.intact = false;
    c.first_broken_seq = seq;
    c.problem = std::move(problem);
    return c;
  };
  for (const Event& e : events) {
    if (e.seq != expected) return broken(expected, "event " + std::to_string(expected) + " is missing");
    if (e.prev_hash != prev) return broken(e.seq, "previous-hash link does not match");
    if (Hash(prev, e) != e.hash) return broken(e.seq, "event content does not match its hash");
    prev = e.hash;
    ++expected;
  }
  if (head_len != c.events) {
    return broken(std::min(head_len, c.events) + 1,
                  head_len > c.events ? "events after " + std::to_string(c.events) + " are missing"
                                      : "more events than the record says");
  }
  if (head_hash != prev) return broken(c.events, "last hash does not match the record");
  return c;
}

}  // namespace sm::chain
