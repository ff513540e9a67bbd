// Idempotent mutations: every mutating RPC carries a client request_id. The first call does
// the work and stores its response under that key in the same transaction; a repeat with
// the same parameters gets the stored response; a repeat with different parameters is
// refused. Each service's schema has the table (see its first migration):
//   idempotency(request_id text PRIMARY KEY, method text, request_sha256 text,
//               response bytea, created_at timestamptz)
#pragma once

#include <functional>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include <absl/status/statusor.h>
#include <google/protobuf/message.h>

#include "common/auth.h"
#include "common/db/pool.h"
#include "common/status.h"

namespace sm::db {

// The key under which a caller's request_id is stored: scoped to the caller (as payment
// APIs scope keys to the account), so one caller's request id never collides with,
// replays or blocks another's. Services and people are kept apart (a person whose token
// says `sub: audit-service` is not audit-service), and the caller's name is length-prefixed
// so that no (caller, request id) pair can spell another's key.
std::string CallerKey(const auth::Principal& caller, const std::string& request_id);

class Idempotency {
 public:
  // `schema` is the owning service's schema.
  explicit Idempotency(std::string schema);

  // For a batch of writes in one transaction (registrations' group commit): takes a
  // transaction-scoped lock on each key (so concurrent repeats wait for the first), in one
  // fixed order so that batches cannot deadlock on them, then returns each stored response,
  // or nullopt when the key is new — two statements whatever their number. Errors per
  // request: INVALID_ARGUMENT naming `request_id` when the key was used for another method
  // or other parameters. One result per request, in order.
  struct Request {
    std::string request_id;
    std::string method;
    std::string fingerprint;
  };
  std::vector<absl::StatusOr<std::optional<std::string>>> Begin(Tx& tx, const std::vector<Request>& requests) const;
  // Stores each request's response (`responses[i]` for `requests[i]`) with one statement,
  // unless a reply is stored under its key already (waiting for a transaction that is
  // storing one). Returns how many were stored: fewer than asked when a key was taken.
  size_t Claim(Tx& tx, const std::vector<Request>& requests, const std::vector<std::string>& responses) const;

  // Looks the key up outside any write: used to resolve a commit whose outcome is unknown.
  absl::StatusOr<std::optional<std::string>> Lookup(Pool& pool, const std::string& request_id) const;

  // After a write under `request_id` failed with `s`: when the commit was in doubt
  // (IsInDoubt) and the key holds a reply, the write happened and that reply is returned;
  // otherwise `s`.
  template <typename Reply>
  absl::StatusOr<Reply> Resolve(Pool& pool, const absl::Status& s, const std::string& request_id) const {
    if (!IsInDoubt(s)) return s;
    auto stored = Lookup(pool, request_id);
    if (!stored.ok() || !stored->has_value()) return s;
    Reply first;
    if (!first.ParseFromString(**stored)) return absl::InternalError("stored reply unreadable");
    return first;
  }

  // What a write's key is bound to: the caller-scoped key (CallerKey), the method and the
  // request's fingerprint.
  using Key = Request;

  // The one shape of an idempotent write, for every store. Optimistic, as nearly every key
  // is new: in one transaction `body` writes and fills the reply, which is stored under the
  // key before the commit. When the key turns out to be taken — the store of the reply finds
  // it (a concurrent call's store waits on the first's, by the primary key), or `body` was
  // refused and a reply is stored under the key by now (a repeat finds its own step already
  // taken) — the transaction is rolled back and runs again, looking the key up first: its
  // stored reply is returned with mutation.replayed set (INVALID_ARGUMENT naming
  // `request_id` when the key was used for another method or other parameters). A commit
  // whose outcome is unknown (IsInDoubt) is resolved by the key: the stored reply when the
  // commit happened, else the in-doubt error. `committed` (may be null) runs after a write of
  // this call committed (not after a replay). `Reply` is a reply message with a `mutation`
  // (MutationInfo) field. Round trips: the store of the reply, besides the body's and
  // BEGIN/COMMIT; a repeat pays a rolled-back attempt and the look-up.
  template <typename Reply>
  absl::StatusOr<Reply> Write(Pool& pool, const Key& key, const std::function<absl::Status(Tx&, Reply&)>& body,
                              const std::function<void()>& committed = nullptr, TxOptions options = {}) const {
    Reply out;
    bool replayed = false;
    absl::Status s;
    for (int round = 0; round < 2; ++round) {
      bool taken = false;  // another call stored a reply under the key meanwhile
      s = WithTransaction(
          pool,
          [&](Tx& tx) -> absl::Status {
            out.Clear();
            taken = false;
            replayed = false;
            if (round > 0) {  // the key was taken: look it up before anything else
              SM_ASSIGN_OR_RETURN(std::optional<std::string> prior, Find(tx, key));
              replayed = prior.has_value();
              if (replayed) {
                if (!out.ParseFromString(*prior)) return absl::InternalError("stored reply unreadable");
                out.mutable_mutation()->set_replayed(true);
                return absl::OkStatus();
              }
            }
            absl::Status done = body(tx, out);
            if (!done.ok()) {
              taken = !IsInDoubt(done) && Taken(tx, key);
              return done;
            }
            if (Claim(tx, {key}, {out.SerializeAsString()}) != 1) {
              taken = true;
              return absl::AbortedError("request_id taken by a concurrent call");
            }
            return absl::OkStatus();
          },
          options);
      if (!taken) break;
    }
    if (!s.ok()) {
      absl::StatusOr<Reply> resolved = Resolve<Reply>(pool, s, key.request_id);
      if (resolved.ok() && committed) committed();
      return resolved;
    }
    if (!replayed && committed) committed();
    return out;
  }

 private:
  // The reply stored under `key`, without a lock; INVALID_ARGUMENT naming `request_id` when
  // the key was used for another method or other parameters.
  absl::StatusOr<std::optional<std::string>> Find(Tx& tx, const Key& key) const;
  // Whether a reply is stored under `key` now, as another committed transaction left it (a
  // statement of its own in `tx`: READ COMMITTED sees what committed since).
  bool Taken(Tx& tx, const Key& key) const;

  std::string table_;
  std::string statement_;  // prefix of its prepared statements' names
};

// The key of a request message: CallerKey(caller, request_id), `method`, and the SHA-256 of
// the message's bytes as its fingerprint (a request id reused with other content is
// refused, naming request_id).
Idempotency::Key KeyOf(const auth::Principal& caller, const std::string& request_id, std::string_view method,
                       const google::protobuf::Message& request);

}  // namespace sm::db
