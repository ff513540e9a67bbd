#include "common/outbox.h"

#include <random>

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
  pqxx::result r = tx.exec_params(
      "WITH added AS (INSERT INTO " + tx.quote_name(schema) + ".outbox (kind, dedupe_key, payload) "
      "VALUES ($1, $2, $3) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id) "
      "SELECT id, pg_notify($4, '') FROM added",
      kind, dedupe_key, bytes, Channel(schema));
  return !r.empty();
}

bool Requeue(db::Tx& tx, const std::string& schema, const std::string& dedupe_key) {
  pqxx::result r = tx.exec_params(
      "UPDATE " + tx.quote_name(schema) + ".outbox SET state = 'pending', attempts = 0, next_attempt_at = now() "
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
    case absl::StatusCode::kOutOfRange:
      return true;
    default:
      return false;
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

absl::StatusOr<int> Relay::RunOnce() {
  std::vector<Row> due;
  const std::string table = schema_ + ".outbox";
  absl::Status s = db::WithTransaction(*pool_, [&](db::Tx& tx) -> absl::Status {
    due.clear();
    for (const auto& r : tx.exec_params(
             "SELECT id, kind, dedupe_key, payload, attempts FROM " + table +
             " WHERE state = 'pending' AND next_attempt_at <= 'epoch'::timestamptz + $1::bigint * interval '1 microsecond'"
             " ORDER BY id LIMIT $2",
             std::chrono::duration_cast<std::chrono::microseconds>(clock_.Now().time_since_epoch()).count(),
             options_.batch)) {
      Row row;
      row.id = r[0].as<int64_t>();
      row.kind = r[1].as<std::string>();
      row.dedupe_key = r[2].as<std::string>();
      row.payload = pqxx::binarystring(r[3]).str();
      row.attempts = r[4].as<int>();
      due.push_back(std::move(row));
    }
    return absl::OkStatus();
  }, db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  // Deliver up to `parallel` commands at once: a synchronous call per command would cap
  // the relay at one receiver round trip per command.
  std::atomic<size_t> next{0};
  std::atomic<int> handled{0};
  auto work = [&] {
    for (size_t i; (i = next++) < due.size() && !stop_;) {
      if (Handle(due[i])) ++handled;
    }
  };
  const size_t lanes = std::min<size_t>(due.size(), static_cast<size_t>(std::max(1, options_.parallel)));
  std::vector<std::thread> threads;
  for (size_t k = 1; k < lanes; ++k) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  return handled.load();
}

bool Relay::Handle(const Row& row) {
  const std::string table = schema_ + ".outbox";
  Delivery d = deliver_(row, options_.deadline);
  absl::Status w;
  if (d.status.ok()) {
    w = db::WithTransaction(*pool_, [&](db::Tx& tx) -> absl::Status {
      pqxx::binarystring resp(d.response.data(), d.response.size());
      tx.exec_params0("UPDATE " + table + " SET state = 'delivered', delivered_at = now(), response = $2, "
                      "attempts = attempts + 1, last_error = NULL WHERE id = $1 AND state = 'pending'",
                      row.id, resp);
      return on_delivered_ ? on_delivered_(tx, row, d.response) : absl::OkStatus();
    });
    OutboxCounter().Add({{"schema", schema_}, {"result", "delivered"}}).Increment();
  } else if (Permanent(d.status)) {
    w = db::WithTransaction(*pool_, [&](db::Tx& tx) -> absl::Status {
      tx.exec_params0("UPDATE " + table + " SET state = 'dead', attempts = attempts + 1, last_error = $2 "
                      "WHERE id = $1 AND state = 'pending'",
                      row.id, std::string(d.status.ToString()));
      return on_dead_ ? on_dead_(tx, row, d.status) : absl::OkStatus();
    });
    OutboxCounter().Add({{"schema", schema_}, {"result", "dead"}}).Increment();
    log::Error("outbox command parked as dead",
               {{"schema", schema_}, {"id", row.id}, {"kind", row.kind}, {"error", d.status.ToString()}});
  } else {
    const auto wait = Backoff(row.attempts + 1);
    w = db::WithTransaction(*pool_, [&](db::Tx& tx) -> absl::Status {
      tx.exec_params0("UPDATE " + table + " SET attempts = attempts + 1, last_error = $2, "
                      "next_attempt_at = 'epoch'::timestamptz + $3::bigint * interval '1 microsecond' "
                      "WHERE id = $1 AND state = 'pending'",
                      row.id, std::string(d.status.ToString()),
                      std::chrono::duration_cast<std::chrono::microseconds>((clock_.Now() + wait).time_since_epoch())
                          .count());
      return absl::OkStatus();
    });
    OutboxCounter().Add({{"schema", schema_}, {"result", "retry"}}).Increment();
  }
  if (!w.ok()) {
    log::Warn("outbox bookkeeping failed; the command will be retried",
              {{"schema", schema_}, {"id", row.id}, {"error", std::string(w.message())}});
    return false;
  }
  return true;
}

absl::StatusOr<Relay::Depth> Relay::Measure() {
  Depth d;
  absl::Status s = db::WithTransaction(*pool_, [&](db::Tx& tx) {
    auto r = tx.exec1("SELECT count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state = 'dead'), "
                      "coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE state = 'pending')), 0)::float8 "
                      "FROM " + schema_ + ".outbox");
    d.pending = r[0].as<int64_t>();
    d.dead = r[1].as<int64_t>();
    d.oldest_pending_age_s = r[2].as<double>();
    return absl::OkStatus();
  }, db::TxOptions{.read_only = true});
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
  thread_ = std::thread([this] { Loop(); });
}

void Relay::Stop() {
  stop_ = true;
  if (listener_) listener_->Stop();
  if (thread_.joinable()) thread_.join();
  listener_.reset();
  leader_ = false;
}

void Relay::Loop() {
  std::unique_ptr<pqxx::connection> lock_conn;
  while (!stop_) {
    try {
      if (!lock_conn || !lock_conn->is_open()) {
        leader_ = false;
        lock_conn = std::make_unique<pqxx::connection>(db::ConnectionString(lock_config_));
      }
      if (!leader_) {
        pqxx::nontransaction tx(*lock_conn);
        leader_ = tx.exec_params1("SELECT pg_try_advisory_lock(hashtext($1))", "sm-outbox-relay:" + schema_)[0]
                      .as<bool>();
        if (leader_) log::Info("outbox relay is the leader", {{"schema", schema_}});
      } else {
        pqxx::nontransaction tx(*lock_conn);
        tx.exec("SELECT 1");  // notice a lost lock connection promptly
      }
    } catch (const std::exception&) {
      leader_ = false;
      lock_conn.reset();
    }
    const uint64_t seen = listener_ ? listener_->count() : 0;
    if (leader_) {
      auto n = RunOnce();
      if (!n.ok()) log::Warn("outbox pass failed", {{"schema", schema_}, {"error", std::string(n.status().message())}});
      (void)Measure();
      if (n.ok() && *n >= options_.batch) continue;  // more may be due right away
    }
    if (listener_) {
      listener_->Wait(seen, options_.poll);
    } else {
      std::this_thread::sleep_for(options_.poll);
    }
  }
}

}  // namespace sm::outbox
