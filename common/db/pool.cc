#include "common/db/pool.h"

#include <thread>

#include "common/log.h"
#include "common/metrics.h"

namespace sm::db {
namespace {

std::string Quote(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

bool IsRetryableSqlState(const std::string& state) { return state == "40001" || state == "40P01"; }

// States after which the server ended the session (restart, shutdown, crash recovery).
bool IsConnectionLostState(const std::string& state) {
  return state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03";
}

}  // namespace

std::string ConnectionString(const PoolConfig& c) {
  std::string s = "host=" + Quote(c.host) + " port=" + std::to_string(c.port) + " dbname=" + Quote(c.dbname) +
                  " user=" + Quote(c.user) + " application_name=" + Quote(c.application_name) +
                  " connect_timeout=" + std::to_string(std::max<int64_t>(1, c.connect_timeout.count() / 1000));
  if (!c.password.empty()) s += " password=" + Quote(c.password);
  if (!c.sslmode.empty()) s += " sslmode=" + Quote(c.sslmode);
  if (!c.sslrootcert.empty()) s += " sslrootcert=" + Quote(c.sslrootcert);
  if (!c.sslcert.empty()) s += " sslcert=" + Quote(c.sslcert);
  if (!c.sslkey.empty()) s += " sslkey=" + Quote(c.sslkey);
  return s;
}

Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), slot_(other.slot_), conn_(other.conn_), broken_(other.broken_) {
  other.pool_ = nullptr;
}

Lease::~Lease() {
  if (pool_ != nullptr) pool_->Release(slot_, broken_ || !conn_->is_open());
}

Pool::Pool(PoolConfig config) : config_(std::move(config)), conninfo_(ConnectionString(config_)), slots_(config_.size) {
  std::lock_guard lock(mu_);
  PublishGauges();
}

Pool::~Pool() = default;

int Pool::in_use() const {
  std::lock_guard lock(mu_);
  return in_use_;
}

void Pool::PublishGauges() const {
  auto& g = metrics::Metrics::Global().db_pool;
  g.Add({{"state", "size"}}).Set(static_cast<double>(slots_.size()));
  g.Add({{"state", "in_use"}}).Set(in_use_);
  g.Add({{"state", "idle"}}).Set(static_cast<double>(slots_.size()) - in_use_);
}

absl::StatusOr<Lease> Pool::Acquire() {
  size_t slot = 0;
  {
    std::unique_lock lock(mu_);
    auto free_slot = [&] {
      for (size_t i = 0; i < slots_.size(); ++i) {
        if (!slots_[i].busy) {
          slot = i;
          return true;
        }
      }
      return false;
    };
    if (!cv_.wait_for(lock, config_.acquire_timeout, free_slot)) {
      metrics::Metrics::Global().db_events.Add({{"event", "acquire_timeout"}}).Increment();
      return absl::ResourceExhaustedError("no database connection free within " +
                                          std::to_string(config_.acquire_timeout.count()) + " ms");
    }
    slots_[slot].busy = true;
    ++in_use_;
    PublishGauges();
  }
  // Open or reopen outside the lock: connecting can take a while.
  Slot& s = slots_[slot];
  if (!s.conn || !s.conn->is_open()) {
    bool reconnect = s.conn != nullptr;
    s.conn.reset();
    try {
      auto conn = std::make_unique<pqxx::connection>(conninfo_);
      pqxx::nontransaction setup(*conn);
      setup.exec0("SET statement_timeout = " + std::to_string(config_.statement_timeout.count()));
      if (!config_.search_path.empty()) {
        setup.exec0("SET search_path = " + setup.quote_name(config_.search_path) + ", public");
      }
      setup.exec0("SET idle_in_transaction_session_timeout = " +
                  std::to_string(std::max<int64_t>(config_.statement_timeout.count() * 4, 10000)));
      setup.commit();
      s.conn = std::move(conn);
      {
        std::lock_guard<std::mutex> lock(mu_);
        last_connect_error_.clear();
      }
      if (reconnect) {
        metrics::Metrics::Global().db_events.Add({{"event", "reconnect"}}).Increment();
        log::Info("database connection re-established", {{"slot", slot}});
      }
    } catch (const std::exception& e) {
      {
        // libpq's reason (refused, authentication, certificate verify failed, ...): no SQL
        // and no data, but it names hosts, so Ping reports it and callers' errors do not.
        std::string why = e.what();
        why = why.substr(0, why.find('\n'));
        std::lock_guard<std::mutex> lock(mu_);
        last_connect_error_ = std::move(why);
      }
      Release(slot, true);
      metrics::Metrics::Global().db_events.Add({{"event", "connect_failed"}}).Increment();
      return absl::UnavailableError("database unavailable");
    }
  }
  return Lease(this, slot, s.conn.get());
}

void Pool::Release(size_t slot, bool broken) {
  {
    std::lock_guard lock(mu_);
    if (broken && slots_[slot].conn) {
      slots_[slot].conn.reset();
      metrics::Metrics::Global().db_events.Add({{"event", "broken"}}).Increment();
    }
    slots_[slot].busy = false;
    --in_use_;
    PublishGauges();
  }
  cv_.notify_one();
}

absl::Status Pool::Ping() {
  absl::Status s = WithTransaction(
      *this,
      [](Tx& tx) {
        tx.exec1("SELECT 1");
        return absl::OkStatus();
      },
      TxOptions{.read_only = true, .attempts = 1});
  if (s.code() == absl::StatusCode::kUnavailable) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!last_connect_error_.empty())
      return absl::UnavailableError(std::string(s.message()) + ": " + last_connect_error_);
  }
  return s;
}

namespace {
constexpr char kInDoubtPayload[] = "type.supervision-mesh/db.InDoubt";
}  // namespace

absl::Status InDoubtError() {
  absl::Status s = absl::UnavailableError("database connection lost during commit; outcome unknown");
  s.SetPayload(kInDoubtPayload, absl::Cord("1"));
  return s;
}

bool IsInDoubt(const absl::Status& s) { return absl::IsUnavailable(s) && s.GetPayload(kInDoubtPayload).has_value(); }

absl::Status FromException(const std::exception& e) {
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
    return InDoubtError();
  }
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    return absl::UnavailableError("database unavailable");
  }
  // libpqxx 6 derives serialization_failure and deadlock_detected from
  // transaction_rollback, not from sql_error.
  if (dynamic_cast<const pqxx::transaction_rollback*>(&e) != nullptr) {
    return absl::AbortedError("concurrent update; try again");
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string state = sql->sqlstate();
    if (state == "57014") return absl::DeadlineExceededError("database statement timed out");
    if (IsRetryableSqlState(state)) return absl::AbortedError("concurrent update; try again");
    if (state == "23505") return absl::AlreadyExistsError("record already exists");
    if (state == "55P03") return absl::AbortedError("record is locked; try again");
    if (IsConnectionLostState(state)) return absl::UnavailableError("database unavailable");
    log::Error("database error", {{"sqlstate", state}});
    return absl::InternalError("database error (sqlstate " + state + ")");
  }
  log::Error("unexpected exception in database code", {{"what", e.what()}});
  return absl::InternalError("internal error");
}

absl::Status WithTransaction(Pool& pool, const std::function<absl::Status(Tx&)>& fn, TxOptions options) {
  absl::Status last;
  for (int attempt = 1; attempt <= std::max(1, options.attempts); ++attempt) {
    if (attempt > 1) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20 * (1 << std::min(attempt, 6))));
    }
    auto lease = pool.Acquire();
    if (!lease.ok()) {
      last = lease.status();
      if (absl::IsUnavailable(last)) continue;
      return last;
    }
    bool committing = false;
    try {
      // The read-only forms begin with "BEGIN ... READ ONLY": no extra round trip.
      std::unique_ptr<pqxx::transaction_base> tx;
      if (options.serializable && options.read_only) {
        tx = std::make_unique<pqxx::transaction<pqxx::serializable, pqxx::read_only>>(lease->conn());
      } else if (options.serializable) {
        tx = std::make_unique<pqxx::transaction<pqxx::serializable>>(lease->conn());
      } else if (options.read_only) {
        tx = std::make_unique<pqxx::read_transaction>(lease->conn());
      } else {
        tx = std::make_unique<pqxx::work>(lease->conn());
      }
      absl::Status s = fn(*tx);
      if (!s.ok()) {
        tx->abort();
        return s;
      }
      committing = true;
      tx->commit();
      return absl::OkStatus();
    } catch (const pqxx::in_doubt_error& e) {
      lease->MarkBroken();
      return FromException(e);
    } catch (const pqxx::broken_connection& e) {
      lease->MarkBroken();
      last = FromException(e);
      if (committing) {
        return InDoubtError();
      }
    } catch (const pqxx::transaction_rollback& e) {
      last = FromException(e);  // serialization failure or deadlock: run fn again
    } catch (const pqxx::sql_error& e) {
      const std::string state = e.sqlstate();
      if (IsConnectionLostState(state)) {
        lease->MarkBroken();
        last = FromException(e);
        if (committing) {
          return InDoubtError();
        }
        continue;
      }
      last = FromException(e);
      if (!IsRetryableSqlState(state)) return last;
    } catch (const std::exception& e) {
      return FromException(e);
    }
  }
  return last;
}

absl::Status Autocommit(Pool& pool, const std::string& sql) {
  auto lease = pool.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    pqxx::nontransaction tx(lease->conn());
    tx.exec(sql);
    return absl::OkStatus();
  } catch (const pqxx::broken_connection& e) {
    lease->MarkBroken();
    return FromException(e);
  } catch (const std::exception& e) {
    return FromException(e);
  }
}

absl::StatusOr<int64_t> ReadInt64(Pool& pool, const std::string& sql) {
  int64_t v = 0;
  absl::Status s = WithTransaction(
      pool,
      [&](Tx& tx) {
        v = tx.exec1(sql)[0].as<int64_t>();
        return absl::OkStatus();
      },
      TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return v;
}

}  // namespace sm::db
