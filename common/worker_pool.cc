#include "common/worker_pool.h"

#include "common/metrics.h"

namespace sm {

WorkerPool::WorkerPool(std::string name, int threads, size_t queue_limit)
    : name_(std::move(name)), queue_limit_(queue_limit) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
}

WorkerPool::~WorkerPool() { Stop(); }

bool WorkerPool::TrySubmit(Task task) {
  auto& counter = metrics::Metrics::Global().offload;
  {
    std::lock_guard lock(mu_);
    if (stop_ || queue_.size() >= queue_limit_) {
      counter.Add({{"pool", name_}, {"result", "rejected"}}).Increment();
      return false;
    }
    queue_.push_back(std::move(task));
  }
  counter.Add({{"pool", name_}, {"result", "queued"}}).Increment();
  cv_.notify_one();
  return true;
}

void WorkerPool::Stop() {
  std::deque<Task> dropped;
  {
    std::lock_guard lock(mu_);
    if (stop_ && threads_.empty()) return;
    stop_ = true;
    dropped.swap(queue_);
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  for (Task& t : dropped) t(false);
}

void WorkerPool::Work() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    Task task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    task(true);
    lock.lock();
  }
}

}  // namespace sm
