// PostgreSQL access through libpqxx: a fixed-size connection pool with an acquire timeout
// and a statement timeout, which reconnects by itself after PostgreSQL restarts, and a
// transaction helper that retries serialization failures.
//
// Exceptions from libpqxx stop here (and in stores) and become absl::Status values.
#pragma once

#define PQXX_HAVE_OPTIONAL 1
#include <pqxx/pqxx>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

namespace sm::db {

struct PoolConfig {
  std::string host = "127.0.0.1";
  int port = 5432;
  std::string dbname = "supervision";
  std::string user;
  std::string password;  // empty: none (trust, or ~/.pgpass)
  std::string application_name = "supervision-mesh";
  std::string search_path;  // e.g. the service's schema; empty: the server default
  // TLS (libpq's own keywords; empty: libpq's default). sslmode: disable, allow, prefer,
  // require, verify-ca or verify-full; sslrootcert: the CA that signed the server's
  // certificate; sslcert/sslkey: a client certificate, when the server asks for one.
  std::string sslmode;
  std::string sslrootcert;
  std::string sslcert;
  std::string sslkey;
  int size = 8;
  std::chrono::milliseconds acquire_timeout{2000};
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds statement_timeout{5000};
};

// libpq keyword=value connection string for `c`, every value quoted and escaped (a quote
// or backslash in a value cannot start another keyword).
std::string ConnectionString(const PoolConfig& c);

class Pool;

// A connection on loan from the pool; returned when destroyed.
class Lease {
 public:
  Lease(Lease&& other) noexcept;
  Lease& operator=(Lease&&) = delete;
  ~Lease();
  pqxx::connection& conn() { return *conn_; }
  // The connection failed: the pool drops it and opens a new one on next use.
  void MarkBroken() { broken_ = true; }

 private:
  friend class Pool;
  Lease(Pool* pool, size_t slot, pqxx::connection* conn) : pool_(pool), slot_(slot), conn_(conn) {}
  Pool* pool_;
  size_t slot_;
  pqxx::connection* conn_;
  bool broken_ = false;
};

class Pool {
 public:
  explicit Pool(PoolConfig config);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Waits up to acquire_timeout for a free connection, opening it if needed.
  // Errors: RESOURCE_EXHAUSTED when none frees up in time; UNAVAILABLE when PostgreSQL
  // cannot be reached.
  absl::StatusOr<Lease> Acquire();

  // Runs `SELECT 1`: OK when the database answers; when it cannot connect, UNAVAILABLE
  // with libpq's reason for the last failed connection (for start-up and /healthz, not for
  // callers of RPCs).
  absl::Status Ping();

  const PoolConfig& config() const { return config_; }
  int in_use() const;

 private:
  friend class Lease;
  void Release(size_t slot, bool broken);
  void PublishGauges() const;  // under mu_

  PoolConfig config_;
  std::string conninfo_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  struct Slot {
    std::unique_ptr<pqxx::connection> conn;
    bool busy = false;
  };
  std::vector<Slot> slots_;
  int in_use_ = 0;
  std::string last_connect_error_;  // under mu_
};

// Converts an exception thrown by libpqxx into a Status without leaking SQL text or data:
// statement timeout -> DEADLINE_EXCEEDED, serialization failure or deadlock -> ABORTED,
// unique violation -> ALREADY_EXISTS, lost connection -> UNAVAILABLE, commit outcome
// unknown -> UNAVAILABLE (callers resolve it by looking up their idempotency key).
absl::Status FromException(const std::exception& e);

// A commit whose outcome is unknown: the connection broke during COMMIT, so the write may or
// may not have happened. UNAVAILABLE, carrying a typed marker (a status payload) that
// IsInDoubt recognises; callers resolve it by the write's idempotency key
// (Idempotency::Write), never by reading the message.
absl::Status InDoubtError();
bool IsInDoubt(const absl::Status& s);

using Tx = pqxx::transaction_base;

struct TxOptions {
  bool serializable = false;
  bool read_only = false;
  int attempts = 4;  // serialization failures and lost connections before COMMIT retry
};

// The one bigint that `sql` (a single-row, single-column SELECT) returns, read in a read-only
// transaction: a version, a generation, a count.
absl::StatusOr<int64_t> ReadInt64(Pool& pool, const std::string& sql);

// Runs one statement outside a transaction (autocommit): one round trip, where a
// transaction would take three (BEGIN, the statement, COMMIT).
absl::Status Autocommit(Pool& pool, const std::string& sql);

// Runs `fn` in a transaction on a pooled connection and commits when it returns OK (rolls
// back and returns its status otherwise). Retries the whole of `fn` on serialization
// failure, deadlock, or a connection lost before COMMIT; never after an in-doubt COMMIT.
absl::Status WithTransaction(Pool& pool, const std::function<absl::Status(Tx&)>& fn, TxOptions options = {});

// A read-only transaction giving `T`: `body(tx, out)` fills it.
template <typename T, typename Body>
absl::StatusOr<T> Read(Pool& pool, Body body) {
  T out;
  absl::Status s = WithTransaction(
      pool, [&](Tx& tx) { return body(tx, out); }, TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return out;
}

}  // namespace sm::db
