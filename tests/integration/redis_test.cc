// common/redis against a real redis-server: commands, outage detection and recovery, and
// the read-through cache falling back to its loader.
#include <gtest/gtest.h>

#include <thread>

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

}  // namespace
}  // namespace sm::redis
