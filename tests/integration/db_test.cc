// common/db against a real PostgreSQL: pool limits and timeouts, reconnection after a
// restart, serialization retries, migrations and idempotency keys.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/db/idempotency.h"
#include "common/db/migrate.h"
#include "common/db/pool.h"
#include "common/db/sql.h"
#include "common/event_log.h"
#include "supervision/v1/directory.pb.h"
#include "tests/support/pg_redis.h"

namespace sm::db {
namespace {

using ::sm::testing::PgRedis;

class DbTest : public ::testing::Test {
 protected:
  void SetUp() override { PgRedis::Get().ResetSchemas(); }
  PoolConfig Config(int size = 2) { return PgRedis::Get().Pool("sm_risk", "risk", size); }
};

TEST_F(DbTest, AcquireTimesOutWhenThePoolIsExhausted) {
  PoolConfig c = Config(1);
  c.acquire_timeout = std::chrono::milliseconds(50);
  Pool pool(c);
  auto held = pool.Acquire();
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(pool.in_use(), 1);
  auto second = pool.Acquire();
  EXPECT_EQ(second.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(DbTest, StatementTimeoutIsDeadlineExceeded) {
  PoolConfig c = Config();
  c.statement_timeout = std::chrono::milliseconds(100);
  Pool pool(c);
  absl::Status s = WithTransaction(pool, [](Tx& tx) {
    tx.exec("SELECT pg_sleep(2)");
    return absl::OkStatus();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_TRUE(pool.Ping().ok());  // the connection is still usable
}

TEST_F(DbTest, HandlerErrorRollsBack) {
  Pool pool(Config());
  ASSERT_TRUE(WithTransaction(pool, [](Tx& tx) {
                tx.exec("CREATE TABLE t (v int)");
                return absl::OkStatus();
              }).ok());
  absl::Status s = WithTransaction(pool, [](Tx& tx) {
    tx.exec("INSERT INTO t VALUES (1)");
    return absl::FailedPreconditionError("no");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  int n = -1;
  ASSERT_TRUE(WithTransaction(pool, [&](Tx& tx) {
                n = tx.exec1("SELECT count(*) FROM t")[0].as<int>();
                return absl::OkStatus();
              }).ok());
  EXPECT_EQ(n, 0);
}

TEST_F(DbTest, SerializationFailuresAreRetried) {
  Pool pool(Config(4));
  ASSERT_TRUE(WithTransaction(pool, [](Tx& tx) {
                tx.exec("CREATE TABLE counter (id int PRIMARY KEY, v int NOT NULL)");
                tx.exec("INSERT INTO counter VALUES (1, 0)");
                return absl::OkStatus();
              }).ok());
  std::atomic<int> attempts{0};
  std::atomic<int> arrived{0};
  auto work = [&] {
    return WithTransaction(
        pool,
        [&](Tx& tx) {
          int attempt = ++attempts;
          tx.exec1("SELECT v FROM counter WHERE id = 1");
          if (attempt <= 2) {  // both first attempts read before either writes
            ++arrived;
            while (arrived.load() < 2) std::this_thread::yield();
          }
          tx.exec("UPDATE counter SET v = v + 1 WHERE id = 1");
          return absl::OkStatus();
        },
        TxOptions{.serializable = true});
  };
  absl::Status s1, s2;
  std::thread t1([&] { s1 = work(); });
  std::thread t2([&] { s2 = work(); });
  t1.join();
  t2.join();
  EXPECT_TRUE(s1.ok()) << s1;
  EXPECT_TRUE(s2.ok()) << s2;
  EXPECT_GE(attempts.load(), 3);  // one of them was retried
  int v = 0;
  ASSERT_TRUE(WithTransaction(pool, [&](Tx& tx) {
                v = tx.exec1("SELECT v FROM counter WHERE id = 1")[0].as<int>();
                return absl::OkStatus();
              }).ok());
  EXPECT_EQ(v, 2);
}

TEST_F(DbTest, ReconnectsAfterPostgresRestarts) {
  Pool pool(Config(2));
  ASSERT_TRUE(pool.Ping().ok());
  PgRedis::Get().RestartPostgres();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  absl::Status s;
  while (!(s = pool.Ping()).ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(s.ok()) << s;
}

const std::vector<Migration> kTwo = {
    {1, "0001_items", "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);"},
    {2, "0002_seed", "INSERT INTO items VALUES (1, 'one');"},
};

int Count(Pool& pool, const std::string& sql) {
  int n = -1;
  EXPECT_TRUE(WithTransaction(pool, [&](Tx& tx) {
                n = tx.exec1(sql)[0].as<int>();
                return absl::OkStatus();
              }).ok());
  return n;
}

TEST_F(DbTest, MigrationsApplyOnceEvenConcurrently) {
  Pool pool(Config(8));
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      if (!ApplyMigrations(pool, "risk", kTwo).ok()) ++failures;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Count(pool, "SELECT count(*) FROM items"), 1);
  EXPECT_EQ(Count(pool, "SELECT count(*) FROM schema_migrations"), 2);
  EXPECT_TRUE(ApplyMigrations(pool, "risk", kTwo).ok());
  EXPECT_EQ(Count(pool, "SELECT count(*) FROM items"), 1);
}

TEST_F(DbTest, EditedMigrationIsRefused) {
  Pool pool(Config());
  ASSERT_TRUE(ApplyMigrations(pool, "risk", kTwo).ok());
  std::vector<Migration> edited = kTwo;
  edited[1].sql = "INSERT INTO items VALUES (2, 'two');";
  absl::Status s = ApplyMigrations(pool, "risk", edited);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(s.message()).find("0002_seed"), std::string::npos);
}

TEST_F(DbTest, FailingMigrationAppliesNothing) {
  Pool pool(Config());
  std::vector<Migration> bad = kTwo;
  bad.push_back({3, "0003_broken", "ALTER TABLE nowhere ADD COLUMN x int;"});
  absl::Status s = ApplyMigrations(pool, "risk", bad);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("0003_broken"), std::string::npos);
  EXPECT_EQ(Count(pool, "SELECT count(*) FROM pg_tables WHERE schemaname = 'risk' AND tablename = 'items'"), 0);
}

TEST_F(DbTest, IdempotencyKeysReplayAndRefuseOtherContent) {
  Pool pool(Config());
  ASSERT_TRUE(
      ApplyMigrations(
          pool, "risk",
          {{1, "0001_idem",
            "CREATE TABLE idempotency (request_id text PRIMARY KEY, method text NOT NULL,"
            " request_sha256 text NOT NULL, response bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now());"}})
          .ok());
  Idempotency idem("risk");
  const std::string response("resp\0bytes", 10);
  ASSERT_TRUE(WithTransaction(pool, [&](Tx& tx) -> absl::Status {
                auto prior = idem.Begin(tx, {{"k1", "M", "payload"}})[0];
                if (!prior.ok()) return prior.status();
                EXPECT_FALSE(prior->has_value());
                EXPECT_EQ(idem.Claim(tx, {{"k1", "M", "payload"}}, {response}), 1u);
                return absl::OkStatus();
              }).ok());
  ASSERT_TRUE(WithTransaction(pool, [&](Tx& tx) -> absl::Status {
                auto prior = idem.Begin(tx, {{"k1", "M", "payload"}})[0];
                EXPECT_TRUE(prior.ok());
                EXPECT_TRUE(prior.ok() && prior->has_value() && **prior == response);
                auto other = idem.Begin(tx, {{"k1", "M", "other payload"}})[0];
                EXPECT_EQ(other.status().code(), absl::StatusCode::kInvalidArgument);
                // A claim stores the new keys and counts them; a taken key keeps its reply.
                EXPECT_EQ(idem.Claim(tx, {{"k3", "M", "p3"}, {"k1", "M", "payload"}}, {"r3", "r1 again"}), 1u);
                return absl::OkStatus();
              }).ok());
  auto looked = idem.Lookup(pool, "k1");
  ASSERT_TRUE(looked.ok());
  EXPECT_EQ(looked->value_or(""), response);
}

// An idempotency table and a table the writes put rows in, as a service's migration has them.
void ApplyIdempotencyMigration(Pool& pool) {
  ASSERT_TRUE(ApplyMigrations(pool, "risk",
                              {{1, "0001_idem",
                                "CREATE TABLE idempotency (request_id text PRIMARY KEY, method text NOT NULL,"
                                " request_sha256 text NOT NULL, response bytea NOT NULL,"
                                " created_at timestamptz NOT NULL DEFAULT now());"
                                "CREATE TABLE items (n integer);"}})
                  .ok());
}

TEST_F(DbTest, IdempotentWriteReplaysAndResolvesAnInDoubtCommitByItsKeyOnly) {
  Pool pool(Config());
  ApplyIdempotencyMigration(pool);
  Idempotency idem("risk");
  using Reply = supervision::v1::ImportDirectoryResponse;
  int bodies = 0, commits = 0;
  auto write = [&](const Idempotency::Key& key, absl::Status outcome = absl::OkStatus()) {
    return idem.Write<Reply>(
        pool, key,
        [&](Tx& tx, Reply& out) -> absl::Status {
          ++bodies;
          tx.exec0("INSERT INTO items VALUES (1)");
          out.set_generation(42);
          return outcome;
        },
        [&] { ++commits; });
  };
  auto first = write({"k1", "Import", "doc"});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->mutation().replayed());
  auto again = write({"k1", "Import", "doc"});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->mutation().replayed());
  EXPECT_EQ(again->generation(), 42);
  EXPECT_EQ(write({"k1", "Import", "other doc"}).status().code(), absl::StatusCode::kInvalidArgument);
  // A refusal writes nothing and stores nothing under the key.
  EXPECT_EQ(write({"k2", "Import", "doc"}, absl::FailedPreconditionError("no")).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Optimistic: every call ran its body once (the repeat and the mismatch in a transaction
  // rolled back when the key was found taken), and only the first committed anything.
  EXPECT_EQ(bodies, 4);
  EXPECT_EQ(commits, 1);
  EXPECT_EQ(*ReadInt64(pool, "SELECT count(*) FROM risk.items"), 1);

  // An in-doubt commit is known by its typed marker, not by its message.
  EXPECT_TRUE(IsInDoubt(InDoubtError()));
  EXPECT_FALSE(IsInDoubt(absl::UnavailableError(InDoubtError().message())));
  // It resolves to the stored reply when the key holds one (the commit happened) ...
  auto resolved = idem.Resolve<Reply>(pool, InDoubtError(), "k1");
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->generation(), 42);
  // ... and stays in doubt when it does not; any other error is returned as it is.
  EXPECT_TRUE(IsInDoubt(idem.Resolve<Reply>(pool, InDoubtError(), "k2").status()));
  EXPECT_EQ(idem.Resolve<Reply>(pool, absl::UnavailableError("down"), "k1").status().message(), "down");
}

// Eight calls with one key at once: one body commits, the others find the key taken (at the
// store of the reply, which waits on the first's) and replay the first's reply.
TEST_F(DbTest, ConcurrentCallsWithOneKeyCommitOnceAndReplayTheFirst) {
  Pool pool(Config());
  ApplyIdempotencyMigration(pool);
  Idempotency idem("risk");
  using Reply = supervision::v1::ImportDirectoryResponse;
  std::atomic<int> commits{0}, replayed{0}, failed{0};
  std::atomic<int64_t> next{1};
  std::vector<int64_t> generations(8);
  std::vector<std::thread> callers;
  for (int i = 0; i < 8; ++i) {
    callers.emplace_back([&, i] {
      auto r = idem.Write<Reply>(
          pool, {"same", "Import", "doc"},
          [&](Tx& tx, Reply& out) -> absl::Status {
            const int64_t n = next.fetch_add(1);
            tx.exec_params0("INSERT INTO items VALUES ($1)", n);
            out.set_generation(n);
            return absl::OkStatus();
          },
          [&] { ++commits; });
      if (!r.ok()) {
        ++failed;
        return;
      }
      if (r->mutation().replayed()) ++replayed;
      generations[i] = r->generation();
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(commits.load(), 1);
  EXPECT_EQ(replayed.load(), 7);
  EXPECT_EQ(*ReadInt64(pool, "SELECT count(*) FROM risk.items"), 1);
  for (int64_t g : generations) EXPECT_EQ(g, generations[0]);
  EXPECT_EQ(*ReadInt64(pool, "SELECT n FROM risk.items"), generations[0]);
}

// The feed's order is the writer transactions' ids as numbers: a regression test for
// ordering by the text of the id ("1000" before "999"), which handed a subscriber events
// out of order, and then again, once the ids crossed a power of ten.
TEST_F(DbTest, EventFeedOrdersByTransactionIdAcrossAPowerOfTen) {
  Pool pool(Config());
  ASSERT_TRUE(
      ApplyMigrations(
          pool, "risk",
          {{1, "0001_feed",
            "CREATE TABLE agg (id uuid PRIMARY KEY, chain_len integer NOT NULL DEFAULT 0, chain_head text NOT NULL "
            "DEFAULT '');"
            "CREATE TABLE ev (agg_id uuid NOT NULL, seq integer NOT NULL, type text NOT NULL, actor text NOT NULL,"
            " actor_unit_id text NOT NULL, at timestamptz NOT NULL, data text NOT NULL, prev_hash text NOT NULL,"
            " hash text NOT NULL, xid xid8 NOT NULL DEFAULT pg_current_xact_id(), gseq bigserial NOT NULL,"
            " PRIMARY KEY (agg_id, seq));"
            "CREATE TABLE burn (n integer);"}})
          .ok());
  events::EventLog log("ev", "agg_id", "agg", "ev_feed");
  auto append = [&](const std::string& id) {
    ASSERT_TRUE(WithTransaction(pool, [&](Tx& tx) {
                  tx.exec_params0("INSERT INTO agg (id) VALUES ($1::uuid) ON CONFLICT DO NOTHING", id);
                  log.Append(tx, id, {"tester", ""}, "step", "{}", 0);
                  return absl::OkStatus();
                }).ok());
  };
  const std::string a = "00000000-0000-7000-8000-000000000001", b = "00000000-0000-7000-8000-000000000002";
  append(a);
  int64_t xid = 0;
  ASSERT_TRUE(WithTransaction(pool, [&](Tx& tx) {
                xid = tx.exec1("SELECT xid::text::bigint FROM ev WHERE agg_id = '" + a + "'")[0].as<int64_t>();
                return absl::OkStatus();
              }).ok());
  int64_t power = 10;
  while (power <= xid) power *= 10;
  // Burn transaction ids (one per subtransaction) up to the next power of ten.
  ASSERT_TRUE(WithTransaction(pool, [&](Tx& tx) {
                tx.exec("DO $$ BEGIN FOR i IN 1.." + std::to_string(power - xid) +
                        " LOOP BEGIN INSERT INTO burn VALUES (i); "
                        "EXCEPTION WHEN others THEN NULL; END; END LOOP; END $$");
                return absl::OkStatus();
              }).ok());
  append(b);
  append(a);
  auto feed = log.Feed(pool, events::Cursor{}, 10);
  ASSERT_TRUE(feed.ok()) << feed.status();
  ASSERT_EQ(feed->size(), 3u);
  EXPECT_EQ((*feed)[0].event.aggregate_id, a);
  EXPECT_LT((*feed)[0].cursor.xid, static_cast<uint64_t>(power));
  EXPECT_GE((*feed)[1].cursor.xid, static_cast<uint64_t>(power));
  EXPECT_EQ((*feed)[1].event.aggregate_id, b);
  EXPECT_EQ((*feed)[2].event.seq, 2);
  // Resuming after the first event gives the other two, once each.
  auto rest = log.Feed(pool, (*feed)[0].cursor, 10);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 2u);
  EXPECT_EQ((*rest)[0].event.aggregate_id, b);
  EXPECT_TRUE(log.Feed(pool, (*feed)[2].cursor, 10)->empty());
}

TEST_F(DbTest, WhereJoinsOnlyTheConditionsGivenAndNumbersTheirParameters) {
  Where none;
  EXPECT_EQ(none.Sql(), "true");
  Where w;
  w.Add("a = ?", {std::string("x")});
  w.Add("b");
  w.Add("(c, d) < (?, ?::uuid)", {std::string("1"), std::nullopt});
  const std::string limit = w.Param(std::string("5"));
  EXPECT_EQ(w.Sql(), "(a = $1) AND (b) AND ((c, d) < ($2, $3::uuid))");
  EXPECT_EQ(limit, "$4");
  ASSERT_EQ(w.params().size(), 4u);
  EXPECT_FALSE(w.params()[2].has_value());
  // Against PostgreSQL: the parameters line up with their placeholders.
  Pool pool(Config());
  Where q;
  q.Add("n > ?::integer", {std::string("2")});
  q.Add("n <> ?::integer", {std::string("4")});
  const std::string lim = q.Param(std::string("10"));
  int64_t count = 0;
  ASSERT_TRUE(WithTransaction(pool, [&](Tx& tx) {
                count = tx.exec_params("SELECT n FROM generate_series(1, 6) AS g(n) WHERE " + q.Sql() + " LIMIT " + lim,
                                       pqxx::prepare::make_dynamic_params(q.params()))
                            .size();
                return absl::OkStatus();
              }).ok());
  EXPECT_EQ(count, 3);  // 3, 5, 6
}

TEST_F(DbTest, RowSetPassesAnyNumberOfRowsThroughOneStatementText) {
  RowSet empty({"?::integer"});
  RowSet rows({"?::uuid", "?::integer", "?", "?::text[]", kTimestampExpr});
  // The text does not depend on the rows: one prepared statement serves every batch.
  EXPECT_EQ(empty.Select(), "SELECT u.c0::integer AS c0 FROM unnest(?::text[]) AS u(c0)");
  rows.Add({std::string("00000000-0000-0000-0000-000000000001"), std::string("1"), std::string("a \"quoted\" \\ text"),
            TextArrayLiteral(std::vector<std::string>{"x", "y,z"}), std::string("1700000000123456")});
  rows.Add({std::nullopt, std::string("2"), std::string("NULL"), std::nullopt, std::nullopt});
  EXPECT_EQ(rows.size(), 2u);
  Pool pool(Config());
  ASSERT_TRUE(
      WithTransaction(pool, [&](Tx& tx) {
        int next = 1;
        const std::string sql = "SELECT c0::text, c1, c2, array_length(c3, 1), c3[2], " + MicrosOf("c4") + " FROM (" +
                                Numbered(rows.Select(), next) + ") AS v ORDER BY c1";
        pqxx::result r = tx.exec_params(sql, pqxx::prepare::make_dynamic_params(rows.Params()));
        EXPECT_EQ(r.size(), 2u);
        EXPECT_EQ(r[0][0].as<std::string>(), "00000000-0000-0000-0000-000000000001");
        EXPECT_EQ(r[0][2].as<std::string>(), "a \"quoted\" \\ text");
        EXPECT_EQ(r[0][3].as<int>(), 2);
        EXPECT_EQ(r[0][4].as<std::string>(), "y,z");
        EXPECT_EQ(r[0][5].as<int64_t>(), 1700000000123456);
        EXPECT_TRUE(r[1][0].is_null());
        EXPECT_EQ(r[1][2].as<std::string>(), "NULL");  // the text, not a NULL
        EXPECT_TRUE(r[1][3].is_null());
        EXPECT_TRUE(r[1][5].is_null());
        next = 1;
        EXPECT_TRUE(
            tx.exec_params(Numbered(empty.Select(), next), pqxx::prepare::make_dynamic_params(empty.Params())).empty());
        return absl::OkStatus();
      }).ok());
}

}  // namespace
}  // namespace sm::db
