// Idempotent mutations: every mutating RPC carries a client request_id. The first call does
// the work and stores its response under that key in the same transaction; a repeat with
// the same parameters gets the stored response; a repeat with different parameters is
// refused. Each service's schema has the table (see its first migration):
//   idempotency(request_id text PRIMARY KEY, method text, request_sha256 text,
//               response bytea, created_at timestamptz)
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <absl/status/statusor.h>

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

  // Takes a transaction-scoped lock on the key (so concurrent repeats wait for the first),
  // then returns the stored response, or nullopt when the key is new. Errors:
  // INVALID_ARGUMENT naming `request_id` when the key was used for another method or
  // other parameters.
  absl::StatusOr<std::optional<std::string>> Begin(Tx& tx, const std::string& request_id,
                                                   const std::string& method,
                                                   const std::string& request_fingerprint) const;

  // Stores `response` for the key in `tx`.
  void Finish(Tx& tx, const std::string& request_id, const std::string& method,
              const std::string& request_fingerprint, const std::string& response) const;

  // The same for several keys in one transaction (a batch of registrations), with two
  // statements whatever their number: the locks are taken in one fixed order, so batches
  // cannot deadlock on them. One result per request, in order.
  struct Request {
    std::string request_id;
    std::string method;
    std::string fingerprint;
  };
  std::vector<absl::StatusOr<std::optional<std::string>>> Begin(Tx& tx, const std::vector<Request>& requests) const;
  // Stores each request's response (`responses[i]` for `requests[i]`) with one statement.
  void Finish(Tx& tx, const std::vector<Request>& requests, const std::vector<std::string>& responses) const;

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
  struct Key {
    std::string request_id;
    std::string method;
    std::string fingerprint;
  };

  // The one shape of an idempotent write, for every store. In one transaction: Begin on the
  // key; a reply stored by an earlier call is returned with mutation.replayed set; otherwise
  // `body` writes and fills the reply, which is stored under the key before the commit. A
  // commit whose outcome is unknown (IsInDoubt) is resolved by the key: the stored reply
  // when the commit happened, else the in-doubt error. `committed` (may be null) runs after
  // a write of this call committed (not after a replay). `Reply` is a reply message with a
  // `mutation` (MutationInfo) field.
  template <typename Reply>
  absl::StatusOr<Reply> Write(Pool& pool, const Key& key, const std::function<absl::Status(Tx&, Reply&)>& body,
                              const std::function<void()>& committed = nullptr, TxOptions options = {}) const {
    Reply out;
    bool replayed = false;
    absl::Status s = WithTransaction(pool, [&](Tx& tx) -> absl::Status {
      out.Clear();
      SM_ASSIGN_OR_RETURN(std::optional<std::string> prior, Begin(tx, key.request_id, key.method, key.fingerprint));
      replayed = prior.has_value();
      if (replayed) {
        if (!out.ParseFromString(*prior)) return absl::InternalError("stored reply unreadable");
        out.mutable_mutation()->set_replayed(true);
        return absl::OkStatus();
      }
      SM_RETURN_IF_ERROR(body(tx, out));
      Finish(tx, key.request_id, key.method, key.fingerprint, out.SerializeAsString());
      return absl::OkStatus();
    }, options);
    if (!s.ok()) {
      absl::StatusOr<Reply> resolved = Resolve<Reply>(pool, s, key.request_id);
      if (resolved.ok() && committed) committed();
      return resolved;
    }
    if (!replayed && committed) committed();
    return out;
  }

 private:
  std::string table_;
};

}  // namespace sm::db
