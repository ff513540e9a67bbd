// Group commit: concurrent callers' requests are gathered into batches, and each batch is
// run by one of the waiting callers (no extra thread), so that many writes share one
// transaction, one set of round trips and one commit.
//
// A caller Submit()s its item and blocks until some batch has run it. Whenever fewer than
// `max_running` batches are running and items wait, a waiting caller takes up to
// `max_batch` of the oldest waiting items (skipping any that conflict with an item already
// taken: those wait for a later batch) and runs them. A lone caller therefore runs at once,
// in a batch of one; under load, batches grow by themselves while the running ones commit.
//
// `run` must settle every item of the batch (each item carries its own result) and should
// not throw: if it does, the exception goes to the caller that ran the batch, and the
// other items keep whatever result they had.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/metrics.h"

namespace sm {

template <typename Item>
class Coalescer {
 public:
  struct Options {
    int max_batch = 64;
    int max_running = 2;
    std::string name;  // set: each batch's size goes to sm_batch_size{batch=name}
  };
  using Run = std::function<void(const std::vector<Item*>&)>;
  // True when two items must not share a batch (e.g. the same idempotency key).
  using Conflict = std::function<bool(const Item&, const Item&)>;

  Coalescer(Options options, Run run, Conflict conflict = nullptr)
      : options_(options), run_(std::move(run)), conflict_(std::move(conflict)) {
    if (options_.max_batch < 1) options_.max_batch = 1;
    if (options_.max_running < 1) options_.max_running = 1;
  }

  void Submit(Item* item) {
    Entry mine{item};
    std::unique_lock lock(mu_);
    waiting_.push_back(&mine);
    for (;;) {
      ready_.wait(lock, [&] { return mine.done || (running_ < options_.max_running && !waiting_.empty()); });
      if (mine.done) return;
      std::vector<Entry*> batch = Take();
      ++running_;
      lock.unlock();
      std::vector<Item*> items;
      items.reserve(batch.size());
      for (Entry* e : batch) items.push_back(e->item);
      try {
        run_(items);
      } catch (...) {
        Finish(batch);
        std::lock_guard relock(mu_);
        std::erase(waiting_, &mine);  // this caller leaves with the exception
        throw;
      }
      Finish(batch);
      lock.lock();
    }
  }

  // Batches run and items they held, since construction.
  size_t batches() const {
    std::lock_guard lock(mu_);
    return batches_;
  }
  size_t items() const {
    std::lock_guard lock(mu_);
    return items_;
  }

 private:
  struct Entry {
    Item* item;
    bool done = false;
  };

  void Finish(const std::vector<Entry*>& batch) {
    {
      std::lock_guard lock(mu_);
      --running_;
      for (Entry* e : batch) e->done = true;
      ++batches_;
      items_ += batch.size();
    }
    ready_.notify_all();
    if (!options_.name.empty()) metrics::Metrics::Global().ObserveBatch(options_.name, batch.size());
  }

  // The oldest waiting entries that fit in one batch. Called with mu_ held.
  std::vector<Entry*> Take() {
    std::vector<Entry*> batch;
    for (auto it = waiting_.begin(); it != waiting_.end() && static_cast<int>(batch.size()) < options_.max_batch;) {
      bool clash = false;
      if (conflict_) {
        for (Entry* b : batch) {
          if (conflict_(*b->item, *(*it)->item)) {
            clash = true;
            break;
          }
        }
      }
      if (clash) {
        ++it;
      } else {
        batch.push_back(*it);
        it = waiting_.erase(it);
      }
    }
    return batch;
  }

  Options options_;
  Run run_;
  Conflict conflict_;
  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::deque<Entry*> waiting_;
  int running_ = 0;
  size_t batches_ = 0;
  size_t items_ = 0;
};

}  // namespace sm
