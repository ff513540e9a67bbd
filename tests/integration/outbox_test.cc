// common/outbox against a real PostgreSQL: the running relay (Start) as a pipeline. A slow
// delivery holds back no other command, a command is never in flight twice, a retry goes
// out when it falls due (not at the next poll), and a command whose bookkeeping failed is
// not sent again at every wake-up. The relay's poll is set to a minute throughout, so
// every delivery here is woken by NOTIFY or by the relay itself.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "common/db/pool.h"
#include "common/outbox.h"
#include "tests/support/pg_redis.h"

namespace sm::outbox {
namespace {

using ::sm::testing::PgRedis;
using namespace std::chrono_literals;

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PgRedis::Get().ResetSchemas();
    pool_ = std::make_unique<db::Pool>(Config());
    ASSERT_TRUE(
        db::WithTransaction(*pool_, [](db::Tx& tx) {
          tx.exec(
              "CREATE TABLE outbox (id bigserial PRIMARY KEY, kind text NOT NULL, dedupe_key text NOT NULL UNIQUE, "
              "payload bytea NOT NULL, state text NOT NULL DEFAULT 'pending', attempts integer NOT NULL DEFAULT 0, "
              "next_attempt_at timestamptz NOT NULL DEFAULT now(), last_error text, "
              "created_at timestamptz NOT NULL DEFAULT now(), delivered_at timestamptz, response bytea)");
          tx.exec("CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE state = 'pending'");
          return absl::OkStatus();
        }).ok());
  }

  db::PoolConfig Config() { return PgRedis::Get().Pool("sm_risk", "risk", 4); }

  static Options Quick() {
    Options o;
    o.poll = std::chrono::minutes(1);
    o.deadline = 2000ms;
    return o;
  }

  bool Add(const std::string& key) {
    bool added = false;
    EXPECT_TRUE(db::WithTransaction(*pool_, [&](db::Tx& tx) {
                  added = Enqueue(tx, "risk", "test.kind", key, "payload of " + key);
                  return absl::OkStatus();
                }).ok());
    return added;
  }

  std::string State(const std::string& key) {
    std::string state;
    EXPECT_TRUE(db::WithTransaction(*pool_, [&](db::Tx& tx) {
                  auto r = tx.exec_params("SELECT state FROM outbox WHERE dedupe_key = $1", key);
                  state = r.empty() ? "" : r[0][0].as<std::string>();
                  return absl::OkStatus();
                }).ok());
    return state;
  }

  int64_t Count(const std::string& where) {
    int64_t n = -1;
    EXPECT_TRUE(db::WithTransaction(*pool_, [&](db::Tx& tx) {
                  n = tx.exec("SELECT count(*) FROM outbox WHERE " + where)[0][0].as<int64_t>();
                  return absl::OkStatus();
                }).ok());
    return n;
  }

  // Polls `pred` for up to `budget`.
  template <typename Pred>
  static bool Eventually(Pred pred, std::chrono::milliseconds budget) {
    const auto until = std::chrono::steady_clock::now() + budget;
    while (std::chrono::steady_clock::now() < until) {
      if (pred()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return pred();
  }

  std::unique_ptr<db::Pool> pool_;
};

TEST_F(OutboxTest, EnqueueKeepsTheFirstCommandOfAKey) {
  EXPECT_TRUE(Add("k1"));
  EXPECT_FALSE(Add("k1"));
  EXPECT_EQ(Count("dedupe_key = 'k1'"), 1);
}

TEST_F(OutboxTest, ASlowDeliveryHoldsBackNoOtherCommand) {
  std::mutex mu;
  std::condition_variable cv;
  bool slow_started = false, release = false;
  Deliver deliver = [&](const Row& row, std::chrono::milliseconds) -> Delivery {
    if (row.dedupe_key == "slow") {
      std::unique_lock lock(mu);
      slow_started = true;
      cv.notify_all();
      cv.wait_for(lock, 10s, [&] { return release; });
    }
    return {absl::OkStatus(), "ok"};
  };
  Relay relay(Config(), pool_.get(), "risk", deliver, nullptr, nullptr, Quick());
  relay.Start();
  ASSERT_TRUE(Eventually([&] { return relay.leader(); }, 5000ms));
  Add("slow");
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 5s, [&] { return slow_started; }));
  }
  // Commands that arrive while the slow one is in flight go out at once: the relay does
  // not wait for the slow delivery to finish first.
  for (int i = 0; i < 5; ++i) Add("fast-" + std::to_string(i));
  EXPECT_TRUE(Eventually([&] { return Count("dedupe_key LIKE 'fast-%' AND state = 'delivered'") == 5; }, 3000ms));
  EXPECT_EQ(State("slow"), "pending");
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  EXPECT_TRUE(Eventually([&] { return State("slow") == "delivered"; }, 3000ms));
  relay.Stop();
}

TEST_F(OutboxTest, ACommandIsNeverInFlightTwice) {
  std::mutex mu;
  std::set<std::string> in_flight;
  std::map<std::string, int> sent;
  std::atomic<int> overlaps{0}, concurrent{0}, max_concurrent{0};
  Deliver deliver = [&](const Row& row, std::chrono::milliseconds) -> Delivery {
    {
      std::lock_guard lock(mu);
      if (!in_flight.insert(row.dedupe_key).second) ++overlaps;
      ++sent[row.dedupe_key];
    }
    const int now = ++concurrent;
    for (int seen = max_concurrent.load(); now > seen && !max_concurrent.compare_exchange_weak(seen, now);) {
    }
    std::this_thread::sleep_for(5ms);
    --concurrent;
    {
      std::lock_guard lock(mu);
      in_flight.erase(row.dedupe_key);
    }
    return {absl::OkStatus(), "ok"};
  };
  Options o = Quick();
  o.parallel = 4;
  o.batch = 6;  // fewer claimed at once than waiting: lanes must call for more
  Relay relay(Config(), pool_.get(), "risk", deliver, nullptr, nullptr, o);
  relay.Start();
  ASSERT_TRUE(Eventually([&] { return relay.leader(); }, 5000ms));
  // Every Enqueue wakes the relay while earlier commands are still in flight.
  for (int i = 0; i < 60; ++i) Add("c-" + std::to_string(i));
  EXPECT_TRUE(Eventually([&] { return Count("state = 'delivered'") == 60; }, 10000ms));
  relay.Stop();
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_LE(max_concurrent.load(), 4);
  std::lock_guard lock(mu);
  EXPECT_EQ(sent.size(), 60u);
  for (const auto& [key, n] : sent) EXPECT_EQ(n, 1) << key;
}

TEST_F(OutboxTest, ARetryGoesOutWhenDueNotAtTheNextPoll) {
  std::atomic<int> attempts{0};
  Deliver deliver = [&](const Row&, std::chrono::milliseconds) -> Delivery {
    if (++attempts == 1) return {absl::UnavailableError("receiver restarting"), ""};
    return {absl::OkStatus(), "ok"};
  };
  Options o = Quick();
  o.initial_backoff = 200ms;
  Relay relay(Config(), pool_.get(), "risk", deliver, nullptr, nullptr, o);
  relay.Start();
  ASSERT_TRUE(Eventually([&] { return relay.leader(); }, 5000ms));
  Add("r");
  // The backoff is 100-200 ms; the poll a minute.
  EXPECT_TRUE(Eventually([&] { return State("r") == "delivered"; }, 3000ms));
  EXPECT_EQ(attempts.load(), 2);
  relay.Stop();
}

TEST_F(OutboxTest, FailedBookkeepingIsNotRetriedAtEveryWakeUp) {
  std::mutex mu;
  std::map<std::string, int> sent;
  Deliver deliver = [&](const Row& row, std::chrono::milliseconds) -> Delivery {
    std::lock_guard lock(mu);
    ++sent[row.dedupe_key];
    return {absl::OkStatus(), "ok"};
  };
  std::atomic<int> recorded{0};
  OnDelivered on_delivered = [&](db::Tx&, const Row& row, const std::string&) -> absl::Status {
    if (row.dedupe_key == "x" && ++recorded == 1) return absl::InternalError("the receiving row is locked");
    return absl::OkStatus();
  };
  Options o = Quick();
  o.initial_backoff = 3000ms;
  Relay relay(Config(), pool_.get(), "risk", deliver, on_delivered, nullptr, o);
  relay.Start();
  ASSERT_TRUE(Eventually([&] { return relay.leader(); }, 5000ms));
  Add("x");
  ASSERT_TRUE(Eventually([&] { return recorded.load() >= 1; }, 3000ms));
  // Other commands wake the relay again and again meanwhile; "x" stays pending but is not
  // sent again until its cool-down (1.5-3 s) has passed.
  for (int i = 0; i < 5; ++i) {
    Add("other-" + std::to_string(i));
    std::this_thread::sleep_for(40ms);
  }
  ASSERT_TRUE(Eventually([&] { return Count("dedupe_key LIKE 'other-%' AND state = 'delivered'") == 5; }, 3000ms));
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(sent["x"], 1);
  }
  EXPECT_EQ(State("x"), "pending");
  EXPECT_TRUE(Eventually([&] { return State("x") == "delivered"; }, 6000ms));
  relay.Stop();
  std::lock_guard lock(mu);
  EXPECT_EQ(sent["x"], 2);
}

}  // namespace
}  // namespace sm::outbox
