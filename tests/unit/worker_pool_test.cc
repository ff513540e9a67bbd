// WorkerPool: a bounded queue that refuses at once when full, and a stop that hands every
// queued task its `false` so that no call is left unanswered.
#include "common/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

namespace sm {
namespace {

TEST(WorkerPool, RefusesWhenTheQueueIsFullAndRunsWhatItTook) {
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::atomic<int> started{0}, ran{0};
  WorkerPool pool("test", 2, 3);
  auto blocking = [&](bool run) {
    if (!run) return;
    ++started;
    gate.wait();
    ++ran;
  };
  ASSERT_TRUE(pool.TrySubmit(blocking));
  ASSERT_TRUE(pool.TrySubmit(blocking));
  // Both workers busy before the queue is counted.
  for (int i = 0; i < 1000 && started.load() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(started.load(), 2);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(pool.TrySubmit(blocking)) << i;
  EXPECT_FALSE(pool.TrySubmit(blocking)) << "a fourth waiting task is refused";
  release.set_value();
  for (int i = 0; i < 1000 && ran.load() < 5; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(ran.load(), 5);
  pool.Stop();
  EXPECT_FALSE(pool.TrySubmit(blocking)) << "nothing is taken after Stop";
}

TEST(WorkerPool, StopHandsQueuedTasksFalse) {
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::atomic<int> started{0}, dropped{0};
  WorkerPool pool("test", 1, 4);
  ASSERT_TRUE(pool.TrySubmit([&](bool run) {
    if (run) {
      ++started;
      gate.wait();
    }
  }));
  for (int i = 0; i < 1000 && started.load() < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(pool.TrySubmit([&](bool run) { dropped += run ? 0 : 1; }));
  std::thread stopper([&] { pool.Stop(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  release.set_value();
  stopper.join();
  EXPECT_EQ(dropped.load(), 3);
}

}  // namespace
}  // namespace sm
