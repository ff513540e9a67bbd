#include "common/outbox.h"

#include <random>

#include <spdlog/spdlog.h>

#include "common/log.h"
#include "common/metrics.h"

namespace sm::outbox {
namespace {

std::string Channel(const std::string& schema) { return schema + "_outbox"; }

prometheus::Family<prometheus::Gauge>& OutboxGauge() {
  static auto& f = prometheus::BuildGauge()
                       .Name("sm_outbox")
                       .Help("Outbox backlog: pending and dead commands, age of the oldest pending (seconds)")
                       .Register(metrics::Metrics::Global().registry());
  return f;
}

prometheus::Family<prometheus::Counter>& OutboxCounter() {
  static auto& f = prometheus::BuildCounter()
                       .Name("sm_outbox_deliveries_total")
                       .Help("Outbox delivery attempts by result (delivered, retry, dead)")
                       .Register(metrics::Metrics::Global().registry());
  return f;
}

}  // namespace

bool Enqueue(db::Tx& tx, const std::string& schema, const std::string& kind, const std::string& dedupe_key,
             const std::string& payload) {
  pqxx::binarystring bytes(payload.data(), payload.size());
  // The insert and the wake-up in one round trip; a command already there needs none.
  pqxx::result r = tx.exec_params("WITH added AS (INSERT INTO " + tx.quote_name(schema) +
                                      ".outbox (kind, dedupe_key, payload) "
                                      "VALUES ($1, $2, $3) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id) "
                                      "SELECT id, pg_notify($4, '') FROM added",
                                  kind, dedupe_key, bytes, Channel(schema));
  return !r.empty();
}

bool Requeue(db::Tx& tx, const std::string& schema, const std::string& dedupe_key) {
  pqxx::result r = tx.exec_params("UPDATE " + tx.quote_name(schema) +
                                      ".outbox SET state = 'pending', attempts = 0, next_attempt_at = now() "
                                      "WHERE dedupe_key = $1 AND state = 'dead' RETURNING id",
                                  dedupe_key);
  if (r.empty()) return false;
  tx.exec("NOTIFY " + tx.quote_name(Channel(schema)));
  return true;
}

bool Permanent(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kUnimplemented:
    case absl::StatusCode::kOutOfRange: return true;
    default: return false;
  }
}

Relay::Relay(db::PoolConfig lock_config, db::Pool* pool, std::string schema, Deliver deliver, OnDelivered on_delivered,
             OnDead on_dead, Options options, const Clock& clock)
    : lock_config_(std::move(lock_config)),
      pool_(pool),
      schema_(std::move(schema)),
      deliver_(std::move(deliver)),
      on_delivered_(std::move(on_delivered)),
      on_dead_(std::move(on_dead)),
      options_(options),
      clock_(clock) {}

Relay::~Relay() { Stop(); }

std::chrono::milliseconds Relay::Backoff(int attempts) {
  // Exponential with full jitter: uniform in [base/2, base], base = initial * 2^attempts.
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const int64_t cap = options_.max_backoff.count();
  int64_t base = options_.initial_backoff.count();
  for (int i = 1; i < attempts && base < cap; ++i) base *= 2;
  base = std::min(base, cap);
  std::uniform_int_distribution<int64_t> dist(base / 2, std::max<int64_t>(base / 2, base));
  return std::chrono::milliseconds(dist(rng));
}

absl::StatusOr<std::vector<Row>> Relay::Fetch(int limit, const std::vector<int64_t>& exclude) {
  std::vector<Row> due;
  std::string ids = "{";
  for (size_t i = 0; i < exclude.size(); ++i) ids += (i ? "," : "") + std::to_string(exclude[i]);
  ids += "}";
  absl::Status s = db::WithTransaction(
      *pool_,
      [&](db::Tx& tx) -> absl::Status {
        due.clear();
        for (const auto& r : tx.exec_params(
                 "SELECT id, kind, dedupe_key, payload, attempts FROM " + schema_ +
                     ".outbox"
                     " WHERE state = 'pending' AND next_attempt_at <= 'epoch'::timestamptz + $1::bigint * interval '1 "
                     "microsecond'"
                     " AND id <> ALL($3::bigint[]) ORDER BY id LIMIT $2",
                 std::chrono::duration_cast<std::chrono::microseconds>(clock_.Now().time_since_epoch()).count(), limit,
                 ids)) {
          Row row;
          row.id = r[0].as<int64_t>();
          row.kind = r[1].as<std::string>();
          row.dedupe_key = r[2].as<std::string>();
          row.payload = pqxx::binarystring(r[3]).str();
          row.attempts = r[4].as<int>();
          due.push_back(std::move(row));
        }
        return absl::OkStatus();
      },
      db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return due;
}

absl::StatusOr<std::vector<Row>> Relay::Claim(int limit, bool skip_cooling) {
  // One claim at a time: a command fetched by one is excluded by the next.
  std::lock_guard claiming(claim_mu_);
  std::vector<int64_t> exclude;
  {
    std::lock_guard lock(mu_);
    exclude.assign(claimed_.begin(), claimed_.end());
    const auto now = Steady::now();
    for (auto it = cooling_.begin(); it != cooling_.end();) {
      if (it->second <= now) {
        it = cooling_.erase(it);
        continue;
      }
      if (skip_cooling) exclude.push_back(it->first);
      ++it;
    }
  }
  auto due = Fetch(limit, exclude);
  if (!due.ok()) return due.status();
  std::lock_guard lock(mu_);
  for (const Row& r : *due) claimed_.insert(r.id);
  return due;
}

void Relay::Release(int64_t id) {
  std::lock_guard lock(mu_);
  claimed_.erase(id);
  // Room again: commands left in the table for want of it are claimed now.
  if (backlog_) {
    backlog_ = false;
    Wake();
  }
}

void Relay::Wake() {
  if (listener_) listener_->Poke();
}

absl::StatusOr<int> Relay::RunOnce() {
  // A test may retry at once what the running relay would let cool down.
  auto due = Claim(options_.batch, /*skip_cooling=*/false);
  if (!due.ok()) return due.status();
  const auto claimed = Steady::now();
  std::atomic<size_t> next{0};
  std::atomic<int> handled{0};
  auto work = [&] {
    for (size_t i; (i = next++) < due->size();) {
      if (!stop_ && Handle((*due)[i], claimed)) ++handled;
      Release((*due)[i].id);
    }
  };
  const size_t lanes = std::min<size_t>(due->size(), static_cast<size_t>(std::max(1, options_.parallel)));
  std::vector<std::thread> threads;
  for (size_t k = 1; k < lanes; ++k) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  return handled.load();
}

bool Relay::Handle(const Row& row, Steady::time_point claimed) {
  const std::string table = schema_ + ".outbox";
  const auto started = Steady::now();
  Delivery d = deliver_(row, options_.deadline);
  const auto answered = Steady::now();
  absl::Status w;
  const char* result = "delivered";
  Steady::time_point began{}, applied{};  // the bookkeeping transaction's body (last attempt)
  if (d.status.ok()) {
    w = db::WithTransaction(*pool_, [&](db::Tx& tx) -> absl::Status {
      began = Steady::now();
      const auto done = [&](absl::Status s) {
        applied = Steady::now();
        return s;
      };
      pqxx::binarystring resp(d.response.data(), d.response.size());
      tx.exec_params0("UPDATE " + table +
                          " SET state = 'delivered', delivered_at = now(), response = $2, "
                          "attempts = attempts + 1, last_error = NULL WHERE id = $1 AND state = 'pending'",
                      row.id, resp);
      return done(on_delivered_ ? on_delivered_(tx, row, d.response) : absl::OkStatus());
    });
    OutboxCounter().Add({{"schema", schema_}, {"result", "delivered"}}).Increment();
  } else if (Permanent(d.status)) {
    result = "dead";
    w = db::WithTransaction(*pool_, [&](db::Tx& tx) -> absl::Status {
      tx.exec_params0("UPDATE " + table +
                          " SET state = 'dead', attempts = attempts + 1, last_error = $2 "
                          "WHERE id = $1 AND state = 'pending'",
                      row.id, std::string(d.status.ToString()));
      return on_dead_ ? on_dead_(tx, row, d.status) : absl::OkStatus();
    });
    OutboxCounter().Add({{"schema", schema_}, {"result", "dead"}}).Increment();
    log::Error("outbox command parked as dead",
               {{"schema", schema_}, {"id", row.id}, {"kind", row.kind}, {"error", d.status.ToString()}});
  } else {
    result = "retry";
    const auto wait = Backoff(row.attempts + 1);
    w = db::WithTransaction(*pool_, [&](db::Tx& tx) -> absl::Status {
      tx.exec_params0(
          "UPDATE " + table +
              " SET attempts = attempts + 1, last_error = $2, "
              "next_attempt_at = 'epoch'::timestamptz + $3::bigint * interval '1 microsecond' "
              "WHERE id = $1 AND state = 'pending'",
          row.id, std::string(d.status.ToString()),
          std::chrono::duration_cast<std::chrono::microseconds>((clock_.Now() + wait).time_since_epoch()).count());
      return absl::OkStatus();
    });
    OutboxCounter().Add({{"schema", schema_}, {"result", "retry"}}).Increment();
    if (w.ok()) {
      std::lock_guard lock(mu_);
      const auto due = Steady::now() + wait;
      if (!retry_at_ || due < *retry_at_) {
        retry_at_ = due;
        Wake();  // the dispatcher waits until then, not until its next poll
      }
    }
  }
  if (spdlog::default_logger_raw()->should_log(spdlog::level::debug)) {
    using Ms = std::chrono::duration<double, std::milli>;
    log::Debug("outbox command handled",
               {{"schema", schema_},
                {"id", row.id},
                {"result", result},
                {"queued_ms", Ms(started - claimed).count()},
                {"deliver_ms", Ms(answered - started).count()},
                {"record_ms", Ms(Steady::now() - answered).count()},
                {"record_begin_ms", began == Steady::time_point{} ? 0.0 : Ms(began - answered).count()},
                {"record_commit_ms", applied == Steady::time_point{} ? 0.0 : Ms(Steady::now() - applied).count()}});
  }
  if (!w.ok()) {
    log::Warn("outbox bookkeeping failed; the command will be retried",
              {{"schema", schema_}, {"id", row.id}, {"error", std::string(w.message())}});
    // Not fetched again at once (it is still due): a bookkeeping that keeps failing must
    // not turn into a stream of deliveries.
    std::lock_guard lock(mu_);
    const auto until = Steady::now() + Backoff(row.attempts + 1);
    cooling_[row.id] = until;
    if (!retry_at_ || until < *retry_at_) {
      retry_at_ = until;
      Wake();
    }
    return false;
  }
  return true;
}

absl::StatusOr<Relay::Depth> Relay::Measure() {
  Depth d;
  absl::Status s = db::WithTransaction(
      *pool_,
      [&](db::Tx& tx) {
        auto r = tx.exec1(
            "SELECT count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state = 'dead'), "
            "coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE state = 'pending')), 0)::float8 "
            "FROM " +
            schema_ + ".outbox");
        d.pending = r[0].as<int64_t>();
        d.dead = r[1].as<int64_t>();
        d.oldest_pending_age_s = r[2].as<double>();
        return absl::OkStatus();
      },
      db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  OutboxGauge().Add({{"schema", schema_}, {"value", "pending"}}).Set(static_cast<double>(d.pending));
  OutboxGauge().Add({{"schema", schema_}, {"value", "dead"}}).Set(static_cast<double>(d.dead));
  OutboxGauge().Add({{"schema", schema_}, {"value", "oldest_pending_age_seconds"}}).Set(d.oldest_pending_age_s);
  return d;
}

void Relay::Start() {
  stop_ = false;
  listener_ = std::make_unique<db::Listener>(lock_config_, Channel(schema_));
  listener_->Start();
  for (int i = 0; i < std::max(1, options_.parallel); ++i) lanes_.emplace_back([this] { Lane(); });
  thread_ = std::thread([this] { Loop(); });
}

void Relay::Stop() {
  stop_ = true;
  {
    std::lock_guard lock(mu_);
    for (const Claimed& c : queue_) claimed_.erase(c.row.id);
    queue_.clear();
  }
  ready_.notify_all();
  if (listener_) listener_->Stop();
  if (thread_.joinable()) thread_.join();
  for (auto& t : lanes_) t.join();  // a lane finishes the delivery it is in
  lanes_.clear();
  listener_.reset();
  leader_ = false;
}

void Relay::Lane() {
  std::unique_lock lock(mu_);
  for (;;) {
    ready_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    Claimed c = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    Handle(c.row, c.at);
    Release(c.row.id);
    lock.lock();
  }
}

void Relay::Loop() {
  // How often the leader checks its lock connection (between checks, a lost lock means at
  // worst that two relays deliver for a moment: receivers deduplicate).
  constexpr auto kLeaseCheck = std::chrono::milliseconds(500);
  std::unique_ptr<pqxx::connection> lock_conn;
  Steady::time_point checked{}, measured{};
  while (!stop_) {
    const uint64_t seen = listener_->count();
    auto now = Steady::now();
    if (!leader_ || now - checked >= kLeaseCheck) {
      checked = now;
      const bool was_leader = leader_;
      try {
        if (!lock_conn || !lock_conn->is_open()) {
          leader_ = false;
          lock_conn = std::make_unique<pqxx::connection>(db::ConnectionString(lock_config_));
        }
        if (!leader_) {
          pqxx::nontransaction tx(*lock_conn);
          leader_ =
              tx.exec_params1("SELECT pg_try_advisory_lock(hashtext($1))", "sm-outbox-relay:" + schema_)[0].as<bool>();
          if (leader_) log::Info("outbox relay is the leader", {{"schema", schema_}});
        } else {
          pqxx::nontransaction tx(*lock_conn);
          tx.exec("SELECT 1");  // notice a lost lock connection promptly
        }
      } catch (const std::exception&) {
        leader_ = false;
        lock_conn.reset();
      }
      if (was_leader && !leader_) {
        // Commands not yet on a lane are left to the next leader.
        std::lock_guard lock(mu_);
        for (const Claimed& c : queue_) claimed_.erase(c.row.id);
        queue_.clear();
      }
    }
    auto wait = options_.poll;
    if (leader_) {
      int room = 0;
      {
        std::lock_guard lock(mu_);
        room = options_.batch - static_cast<int>(claimed_.size());
        if (retry_at_ && *retry_at_ <= now) retry_at_.reset();
      }
      if (room > 0) {
        auto due = Claim(room, /*skip_cooling=*/true);
        if (!due.ok()) {
          log::Warn("outbox fetch failed", {{"schema", schema_}, {"error", std::string(due.status().message())}});
        } else {
          const auto at = Steady::now();
          std::lock_guard lock(mu_);
          for (Row& r : *due) queue_.push_back({std::move(r), at});
          backlog_ = static_cast<int>(due->size()) >= room;
        }
        ready_.notify_all();
      } else {
        std::lock_guard lock(mu_);
        backlog_ = true;  // a lane wakes the dispatcher when it has room
      }
      if (now - measured >= options_.measure_every) {
        measured = now;
        (void)Measure();
      }
      std::lock_guard lock(mu_);
      if (retry_at_) {
        wait = std::min(wait, std::chrono::ceil<std::chrono::milliseconds>(*retry_at_ - Steady::now()));
      }
    }
    wait = std::max(wait, std::chrono::milliseconds(1));
    listener_->Wait(seen, wait);
  }
}

}  // namespace sm::outbox
