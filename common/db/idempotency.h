// Idempotent mutations: every mutating RPC carries a client request_id. The first call does
// the work and stores its response under that key in the same transaction; a repeat with
// the same parameters gets the stored response; a repeat with different parameters is
// refused. Each service's schema has the table (see its first migration):
//   idempotency(request_id text PRIMARY KEY, method text, request_sha256 text,
//               response bytea, created_at timestamptz)
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <absl/status/statusor.h>

#include "common/auth.h"
#include "common/db/pool.h"

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

 private:
  std::string table_;
};

}  // namespace sm::db
