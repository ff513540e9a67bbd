// Commands across services, delivered exactly once in effect (ARCHITECTURE.md § How
// messages move): the producer writes a command into its own `outbox` table in the same
// transaction as its change (Enqueue); the relay delivers it with a gRPC call until the
// receiver answers, with a deadline per attempt and exponential backoff with jitter. An
// answer that can never succeed (INVALID_ARGUMENT, PERMISSION_DENIED, FAILED_PRECONDITION,
// NOT_FOUND, UNIMPLEMENTED) parks the command as dead: visible, counted, never retried
// forever, never dropped. Receivers deduplicate (e.g. on (source_system, source_ref)), so
// a command delivered twice after a crash still has one effect.
//
// The relay wakes at once on NOTIFY <schema>_outbox and polls only as a fallback. It is a
// pipeline, not a series of passes: a dispatcher claims due commands into memory as soon as
// it is woken, and `parallel` lanes deliver them one after another, each lane taking the
// next claimed command the moment it has recorded the previous one. A command never waits
// for another command's delivery or bookkeeping (a pass would hold every command that
// arrived during it until its slowest delivery was recorded). The relay never has one
// command in flight twice; commands are independent (each has its own dedupe_key), so they
// are not ordered among themselves. One relay works at a time at any replica count: it
// holds a session advisory lock on a dedicated connection, and others wait to take over
// when that connection goes away.
//
// Table (each producer's migration creates it):
//   outbox(id bigserial PRIMARY KEY, kind text, dedupe_key text UNIQUE, payload bytea,
//          state text ('pending'|'delivered'|'dead'), attempts integer, next_attempt_at
//          timestamptz, last_error text, created_at timestamptz, delivered_at timestamptz,
//          response bytea)
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <absl/status/statusor.h>

#include "common/clock.h"
#include "common/db/pool.h"
#include "common/pg_listen.h"

namespace sm::outbox {

// Adds a command in the caller's transaction. A second command with the same dedupe_key is
// ignored (the first stands). Returns whether it was added.
bool Enqueue(db::Tx& tx, const std::string& schema, const std::string& kind, const std::string& dedupe_key,
             const std::string& payload);

struct Row {
  int64_t id = 0;
  std::string kind, dedupe_key, payload;
  int attempts = 0;
};

// Delivers one command; `deadline` bounds the call. Returns the receiver's status and, on
// success, its serialized answer.
struct Delivery {
  absl::Status status;
  std::string response;
};
using Deliver = std::function<Delivery(const Row& row, std::chrono::milliseconds deadline)>;
// Runs in the transaction that marks the command delivered (e.g. store the clue id on the
// finding). An error rolls back and the command is retried.
using OnDelivered = std::function<absl::Status(db::Tx& tx, const Row& row, const std::string& response)>;
// Runs in the transaction that parks a command as dead (e.g. show it on the finding).
using OnDead = std::function<absl::Status(db::Tx& tx, const Row& row, const absl::Status& why)>;

struct Options {
  std::chrono::milliseconds deadline{5000};
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{15000};
  std::chrono::milliseconds poll{2000};           // fallback when no NOTIFY arrives
  int batch = 50;                                 // commands claimed at once (in flight and waiting for a lane)
  int parallel = 8;                               // lanes: deliveries in flight at once
  std::chrono::milliseconds measure_every{1000};  // backlog figures (a count over the table)
};

// Sends a command parked as dead again (its cause fixed): pending, attempts from zero, due
// now; the relay is woken. Returns false when no dead command has that key.
bool Requeue(db::Tx& tx, const std::string& schema, const std::string& dedupe_key);

// Whether a receiver's answer can never succeed on retry.
bool Permanent(const absl::Status& s);

class Relay {
 public:
  // `lock_config` opens the dedicated connection that holds the leadership lock and listens
  // for NOTIFY; `pool` serves the relay's own transactions.
  Relay(db::PoolConfig lock_config, db::Pool* pool, std::string schema, Deliver deliver, OnDelivered on_delivered,
        OnDead on_dead, Options options = {}, const Clock& clock = SystemClock::Default());
  ~Relay();

  void Start();
  void Stop();

  // One pass over the due commands not already claimed by the running relay (the caller
  // must be the leader or a test): delivers them on up to `parallel` lanes and returns
  // when all are recorded. Returns how many were delivered or parked.
  absl::StatusOr<int> RunOnce();

  bool leader() const { return leader_.load(); }

  // Backlog figures, also published as metrics.
  struct Depth {
    int64_t pending = 0, dead = 0;
    double oldest_pending_age_s = 0;
  };
  absl::StatusOr<Depth> Measure();

 private:
  using Steady = std::chrono::steady_clock;
  // The dispatcher: leadership, claiming due commands, backlog figures.
  void Loop();
  // A lane: delivers claimed commands until stopped.
  void Lane();
  // Due commands, oldest first, at most `limit`, none of `exclude`.
  absl::StatusOr<std::vector<Row>> Fetch(int limit, const std::vector<int64_t>& exclude);
  // Delivers one command and records the outcome; false when the bookkeeping failed.
  // `claimed` (when it was taken from the table) is for the debug timing line only.
  bool Handle(const Row& row, Steady::time_point claimed);
  std::chrono::milliseconds Backoff(int attempts);
  // Fetches up to `limit` due commands that are not claimed yet (nor, with `skip_cooling`,
  // cooling down after failed bookkeeping) and claims them.
  absl::StatusOr<std::vector<Row>> Claim(int limit, bool skip_cooling);
  // Unclaims a handled command (and wakes the dispatcher if it left commands for want of room).
  void Release(int64_t id);
  void Wake();

  db::PoolConfig lock_config_;
  db::Pool* pool_;
  std::string schema_;
  Deliver deliver_;
  OnDelivered on_delivered_;
  OnDead on_dead_;
  Options options_;
  const Clock& clock_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> leader_{false};
  std::unique_ptr<db::Listener> listener_;
  std::thread thread_;
  std::vector<std::thread> lanes_;

  // Shared by the dispatcher and the lanes.
  struct Claimed {
    Row row;
    Steady::time_point at;
  };
  std::mutex claim_mu_;  // one Claim at a time
  std::mutex mu_;
  std::condition_variable ready_;                  // a claimed command waits for a lane, or stop
  std::deque<Claimed> queue_;                      // claimed, waiting for a lane
  std::set<int64_t> claimed_;                      // queued or in flight
  std::map<int64_t, Steady::time_point> cooling_;  // bookkeeping failed: not fetched until then
  bool backlog_ = false;                           // the last fetch was cut short by `batch`
  // When a retry this relay scheduled falls due (the dispatcher wakes for it).
  std::optional<Steady::time_point> retry_at_;
};

}  // namespace sm::outbox
