// common/redis against a real redis-server: commands, outage detection and recovery, and
// the read-through cache falling back to its loader.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/redis.h"
#include "tests/support/pg_redis.h"

namespace sm::redis {
namespace {

using ::sm::testing::PgRedis;

TEST(RedisTest, CommandsAreBinarySafeAndPrefixed) {
  Client c(PgRedis::Get().Redis());
  const std::string value("a\0b\xff", 4);
  ASSERT_TRUE(c.Set("k", value, std::chrono::seconds(10)).ok());
  auto got = c.Get("k");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->value_or(""), value);
  auto raw = c.Command({"EXISTS", "sm:k"});
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ((*raw)->integer, 1);
  EXPECT_EQ(*c.Incr("n"), 1);
  EXPECT_EQ(*c.Incr("n"), 2);
  ASSERT_TRUE(c.Del({"k", "n"}).ok());
  EXPECT_FALSE(c.Get("k")->has_value());
  EXPECT_EQ(c.Command({"NOSUCHCOMMAND"}).status().code(), absl::StatusCode::kInternal);
}

TEST(RedisTest, OutageIsDetectedQuicklyAndRecovered) {
  Client c(PgRedis::Get().Redis());
  ASSERT_TRUE(c.Set("x", "1", std::chrono::seconds(10)).ok());
  PgRedis::Get().StopRedis();
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(c.Get("x").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(c.up());
  for (int i = 0; i < 20; ++i) EXPECT_EQ(c.Get("x").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  PgRedis::Get().StartRedis();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  absl::Status s;
  while (!(s = c.Set("x", "2", std::chrono::seconds(10))).ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_TRUE(c.up());
}

TEST(RedisTest, CacheLoadsOnMissAndFallsBackWhenRedisIsDown) {
  Client c(PgRedis::Get().Redis());
  ASSERT_TRUE(c.Command({"FLUSHALL"}).ok());
  Cache cache(&c, "test", std::chrono::seconds(60));
  int loads = 0;
  auto loader = [&]() -> absl::StatusOr<std::string> {
    ++loads;
    return std::string("value");
  };
  EXPECT_EQ(*cache.Get("key", loader), "value");
  EXPECT_EQ(*cache.Get("key", loader), "value");
  EXPECT_EQ(loads, 1);
  // Errors are not cached.
  int failing = 0;
  auto not_found = [&]() -> absl::StatusOr<std::string> {
    ++failing;
    return absl::NotFoundError("nope");
  };
  EXPECT_EQ(cache.Get("missing", not_found).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(cache.Get("missing", not_found).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(failing, 2);
  PgRedis::Get().StopRedis();
  EXPECT_EQ(*cache.Get("key", loader), "value");
  EXPECT_EQ(*cache.Get("key", loader), "value");
  EXPECT_EQ(loads, 3);
  PgRedis::Get().StartRedis();
}

TEST(RedisTest, ConcurrentMissesOfOneKeyLoadOnce) {
  Client c(PgRedis::Get().Redis());
  ASSERT_TRUE(c.Command({"FLUSHALL"}).ok());
  Cache cache(&c, "test", std::chrono::seconds(60));
  std::atomic<int> loads{0};
  std::atomic<int> inside{0};
  auto slow = [&]() -> absl::StatusOr<std::string> {
    ++loads;
    ++inside;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the others arrive meanwhile
    --inside;
    return std::string("stats");
  };
  std::vector<std::thread> callers;
  std::vector<std::string> got(16);
  for (int i = 0; i < 16; ++i) {
    callers.emplace_back([&, i] { got[i] = cache.Get("burst", slow).value_or("error"); });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(loads.load(), 1) << "one recomputation for the whole burst";
  for (const auto& g : got) EXPECT_EQ(g, "stats");
  // A failed load is shared with the waiters but not kept: the next call loads again.
  std::atomic<int> failing{0};
  auto fail = [&]() -> absl::StatusOr<std::string> {
    ++failing;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return absl::UnavailableError("db down");
  };
  callers.clear();
  std::atomic<int> errors{0};
  for (int i = 0; i < 8; ++i) {
    callers.emplace_back([&] {
      if (cache.Get("failing", fail).status().code() == absl::StatusCode::kUnavailable) ++errors;
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(errors.load(), 8);
  EXPECT_LT(failing.load(), 8) << "waiters took the first caller's answer";
  EXPECT_EQ(cache.Get("failing", [] { return absl::StatusOr<std::string>("ok"); }).value_or(""), "ok");
  // A loader that throws releases the waiters and the key.
  EXPECT_THROW(cache.Get("throws", []() -> absl::StatusOr<std::string> { throw std::runtime_error("x"); }),
               std::runtime_error);
  EXPECT_EQ(cache.Get("throws", [] { return absl::StatusOr<std::string>("fine"); }).value_or(""), "fine");
}

TEST(RedisTest, LocalLayerAnswersWithoutRedisAndIsBounded) {
  Client c(PgRedis::Get().Redis());
  ASSERT_TRUE(c.Command({"FLUSHALL"}).ok());
  Cache local(&c, "test", std::chrono::seconds(60), /*local_entries=*/2);
  Cache shared_only(&c, "test", std::chrono::seconds(60));
  int loads = 0;
  auto loader = [&]() -> absl::StatusOr<std::string> {
    ++loads;
    return "v" + std::to_string(loads);
  };
  EXPECT_EQ(*local.Get("k:v1", loader), "v1");
  ASSERT_TRUE(c.Command({"FLUSHALL"}).ok());
  EXPECT_EQ(*local.Get("k:v1", loader), "v1") << "the in-process copy answers";
  EXPECT_EQ(*shared_only.Get("k:v1", loader), "v2") << "without a local layer a flush costs a load";
  EXPECT_EQ(loads, 2);
  // Beyond its bound the local layer starts afresh: a third key pushes the first out.
  EXPECT_EQ(*local.Get("k:v2", loader), "v3");
  EXPECT_EQ(*local.Get("k:v3", loader), "v4");
  ASSERT_TRUE(c.Command({"FLUSHALL"}).ok());
  EXPECT_EQ(*local.Get("k:v1", loader), "v5");
  // Not up at all: the local layer still answers what it holds.
  PgRedis::Get().StopRedis();
  EXPECT_EQ(*local.Get("k:v1", loader), "v5");
  EXPECT_EQ(loads, 5);
  PgRedis::Get().StartRedis();
}

// Past its ttl a hot key's copy costs one reload, not a burst: the first caller to find it
// expired goes to reload it, the others are served the copy (the key names a version, so it
// is still right) until the reload lands.
TEST(RedisTest, AnExpiredLocalCopyIsReloadedByOneCallerWhileTheOthersGetIt) {
  Client c(PgRedis::Get().Redis());
  ASSERT_TRUE(c.Command({"FLUSHALL"}).ok());
  Cache cache(&c, "test", std::chrono::seconds(1), /*local_entries=*/4);
  int loads = 0;
  auto loader = [&]() -> absl::StatusOr<std::string> { return "v" + std::to_string(++loads); };
  EXPECT_EQ(cache.PeekShared("k:v1"), nullptr) << "nothing held yet";
  EXPECT_EQ(*cache.Get("k:v1", loader), "v1");
  ASSERT_NE(cache.PeekShared("k:v1"), nullptr);
  EXPECT_EQ(*cache.PeekShared("k:v1"), "v1");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // past the ttl, here and in Redis
  EXPECT_EQ(cache.PeekShared("k:v1"), nullptr) << "the first caller reloads";
  for (int i = 0; i < 3; ++i) {
    auto stale = cache.PeekShared("k:v1");
    ASSERT_NE(stale, nullptr) << "the others are served the copy meanwhile";
    EXPECT_EQ(*stale, "v1");
  }
  EXPECT_EQ(cache.Peek("k:v1").value_or(""), "v1");
  EXPECT_EQ(*cache.Get("k:v1", loader), "v2") << "the reload";
  EXPECT_EQ(loads, 2);
  EXPECT_EQ(*cache.PeekShared("k:v1"), "v2") << "fresh again";
}

}  // namespace
}  // namespace sm::redis
