// A few threads with a bounded queue, for blocking work (PostgreSQL, Redis) that a
// gRPC callback handler must not do on its own thread: those threads are shared by every
// callback method, grpc.health among them, so one stuck database call must not hold one.
// When the queue is full the work is refused at once rather than queued without bound —
// during a database outage callers get a quick error instead of piling up.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sm {

class WorkerPool {
 public:
  // A task is called once: with `true` on a worker thread, or with `false` when the pool
  // stops before running it (it must then only finish what it owes, e.g. answer its call).
  using Task = std::function<void(bool run)>;

  // `name` labels sm_offload_total; `queue_limit` counts tasks waiting, not running.
  WorkerPool(std::string name, int threads, size_t queue_limit);
  ~WorkerPool();  // Stop()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`; false (and `task` is not kept) when the queue is full or the pool stopped.
  bool TrySubmit(Task task);
  // Lets running tasks finish, calls the queued ones with `false`, joins the threads.
  void Stop();

 private:
  void Work();

  const std::string name_;
  const size_t queue_limit_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> queue_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace sm
