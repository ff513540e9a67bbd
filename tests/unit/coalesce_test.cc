// Tests for common/coalesce.h (group commit) and common/refreshed.h: a lone caller runs at
// once; concurrent callers share batches, never more than max_batch per batch nor more than
// max_running at once; conflicting items never share a batch; every item runs exactly once;
// an exception reaches the caller that ran the batch and releases the others.
#include "common/coalesce.h"
#include "common/refreshed.h"

#include <atomic>
#include <chrono>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace sm {
namespace {

struct Job {
  std::string key;
  int runs = 0;
  size_t batch_size = 0;
};

TEST(CoalescerTest, ALoneCallerRunsAtOnceInABatchOfOne) {
  int batches = 0;
  Coalescer<Job> c({.max_batch = 8, .max_running = 1}, [&](const std::vector<Job*>& b) {
    ++batches;
    for (Job* j : b) {
      ++j->runs;
      j->batch_size = b.size();
    }
  });
  Job a{"a"};
  c.Submit(&a);
  EXPECT_EQ(a.runs, 1);
  EXPECT_EQ(a.batch_size, 1u);
  Job b{"b"};
  c.Submit(&b);
  EXPECT_EQ(batches, 2);
  EXPECT_EQ(c.batches(), 2u);
  EXPECT_EQ(c.items(), 2u);
}

TEST(CoalescerTest, ConcurrentCallersShareBatchesWithinTheLimits) {
  constexpr int kThreads = 32, kEach = 20;
  std::atomic<int> running{0}, most_running{0};
  std::atomic<size_t> largest{0};
  std::mutex seen_mu;
  std::set<std::string> conflicts_seen_together;
  Coalescer<Job> c(
      {.max_batch = 8, .max_running = 2},
      [&](const std::vector<Job*>& b) {
        int now = ++running;
        int prev = most_running.load();
        while (now > prev && !most_running.compare_exchange_weak(prev, now)) {
        }
        size_t big = largest.load();
        while (b.size() > big && !largest.compare_exchange_weak(big, b.size())) {
        }
        std::set<std::string> keys;
        for (Job* j : b) {
          if (!keys.insert(j->key).second) {
            std::lock_guard lock(seen_mu);
            conflicts_seen_together.insert(j->key);
          }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a commit
        for (Job* j : b) ++j->runs;
        --running;
      },
      [](const Job& x, const Job& y) { return x.key == y.key; });
  std::vector<std::vector<Job>> jobs(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kEach; ++i) jobs[t].push_back(Job{"k" + std::to_string(i % 3)});  // many clashing keys
    threads.emplace_back([&, t] {
      for (Job& j : jobs[t]) c.Submit(&j);
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& per : jobs) {
    for (const Job& j : per) EXPECT_EQ(j.runs, 1);
  }
  EXPECT_EQ(c.items(), static_cast<size_t>(kThreads * kEach));
  EXPECT_LT(c.batches(), c.items()) << "callers shared batches";
  EXPECT_LE(largest.load(), 3u) << "three distinct keys: clashing items never share a batch";
  EXPECT_GT(largest.load(), 1u);
  EXPECT_LE(most_running.load(), 2);
  EXPECT_TRUE(conflicts_seen_together.empty());
}

TEST(CoalescerTest, BatchesGrowToMaxBatchUnderLoad) {
  constexpr int kThreads = 24;
  std::atomic<size_t> largest{0};
  Coalescer<Job> c({.max_batch = 5, .max_running = 1}, [&](const std::vector<Job*>& b) {
    size_t big = largest.load();
    while (b.size() > big && !largest.compare_exchange_weak(big, b.size())) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    for (Job* j : b) ++j->runs;
  });
  std::vector<Job> jobs(kThreads * 5);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) c.Submit(&jobs[t * 5 + i]);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(largest.load(), 5u);
  for (const Job& j : jobs) EXPECT_EQ(j.runs, 1);
}

TEST(CoalescerTest, AnExceptionReachesTheLeaderAndReleasesTheOthers) {
  std::atomic<int> calls{0};
  Coalescer<Job> c({.max_batch = 16, .max_running = 1}, [&](const std::vector<Job*>& b) {
    if (++calls == 1) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // others queue meanwhile
      throw std::runtime_error("database gone");
    }
    for (Job* j : b) ++j->runs;
  });
  std::atomic<int> threw{0};
  std::vector<Job> jobs(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      try {
        c.Submit(&jobs[i]);
      } catch (const std::runtime_error&) {
        ++threw;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(threw.load(), 1);
  EXPECT_EQ(jobs[0].runs, 0) << "the first batch failed";
  int ran = 0;
  for (const Job& j : jobs) ran += j.runs;
  EXPECT_EQ(ran, 7) << "everyone else ran in later batches";
}

TEST(RefreshedTest, ReadsAtMostOncePerIntervalAndAgainAfterForget) {
  Refreshed<int> r(std::chrono::milliseconds(200));
  int reads = 0;
  auto read = [&]() -> absl::StatusOr<int> { return ++reads; };
  EXPECT_EQ(*r.Get(read), 1);
  EXPECT_EQ(*r.Get(read), 1);
  r.Forget();
  EXPECT_EQ(*r.Get(read), 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(220));
  EXPECT_EQ(*r.Get(read), 3);
  EXPECT_EQ(reads, 3);
  Refreshed<int> failing(std::chrono::milliseconds(200));
  EXPECT_FALSE(failing.Get([]() -> absl::StatusOr<int> { return absl::UnavailableError("down"); }).ok());
  EXPECT_EQ(*failing.Get(read), 4) << "a failed read keeps nothing";
}

TEST(RefreshedTest, RefreshKeepsTheValueFreshButAForgetDuringItWins) {
  Refreshed<int> r(std::chrono::milliseconds(50));
  int source = 1;
  auto read = [&]() -> absl::StatusOr<int> { return source; };
  r.Refresh(read);
  source = 2;
  EXPECT_EQ(*r.Get(read), 1) << "fresh: no read on the caller's path";
  r.Refresh(read);
  EXPECT_EQ(*r.Get(read), 2);
  // A change made here while a refresh is reading: the refresh's (older) answer is dropped.
  source = 3;
  r.Refresh([&]() -> absl::StatusOr<int> {
    r.Forget();  // the local change lands mid-read
    return 2;    // what the read saw before it
  });
  EXPECT_EQ(*r.Get(read), 3);
  // A failed refresh keeps the held value.
  r.Refresh([]() -> absl::StatusOr<int> { return absl::UnavailableError("down"); });
  EXPECT_EQ(*r.Get(read), 3);
}

TEST(RefreshedTest, GetHeldNeverReadsWhileAValueIsHeld) {
  Refreshed<int> r(std::chrono::milliseconds(1));
  int reads = 0;
  auto read = [&]() -> absl::StatusOr<int> { return ++reads; };
  EXPECT_EQ(*r.GetHeld(read), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // long past `every`
  auto down = []() -> absl::StatusOr<int> { return absl::UnavailableError("database down"); };
  EXPECT_EQ(*r.GetHeld(down), 1) << "held: no read, even a failing one";
  r.Refresh(down);
  EXPECT_EQ(*r.GetHeld(down), 1) << "a failed background refresh keeps the value";
  r.Forget();
  EXPECT_FALSE(r.GetHeld(down).ok()) << "nothing held: the read's error";
  EXPECT_EQ(*r.GetHeld(read), 2);
}

}  // namespace
}  // namespace sm
