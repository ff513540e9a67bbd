// Following another service's events (ARCHITECTURE.md § How messages move): the consumer
// reads a Subscribe stream from its stored cursor, and applies the events that have arrived
// (one, or up to a batch when the feed is busy) and stores the new cursor in one transaction
// of its own schema, so each event takes effect exactly once.
// It reconnects and resumes from the stored cursor after either side restarts. Replicas
// may run it concurrently: the cursor update is a compare-and-set, and a replica that
// lost the race rolls back and resumes from the cursor the other stored.
//
// Table (the consumer's migration creates it):
//   consumer_cursors(name text PRIMARY KEY, cursor text NOT NULL, updated_at timestamptz)
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <absl/status/status.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/sync_stream.h>

#include "common/db/pool.h"
#include "common/log.h"
#include "common/metrics.h"

namespace sm::consumer {

// The stored cursor for `name` ("" when none yet).
absl::StatusOr<std::string> LoadCursor(db::Pool& pool, const std::string& schema, const std::string& name);
// Moves the cursor from `from` to `to` in `tx`. ABORTED when another replica moved it first.
absl::Status AdvanceCursor(db::Tx& tx, const std::string& schema, const std::string& name, const std::string& from,
                           const std::string& to);
// Publishes sm_consumer_lag_seconds{name} and counts applied events.
void RecordApplied(const std::string& name, double lag_seconds);

// `Event` is a generated message with `cursor()` and `at()` (e.g. supervision.v1.ClueEvent).
template <typename Event>
class Consumer {
 public:
  // Opens the stream after `cursor` on a fresh context (the caller sets token and deadline).
  using Open = std::function<std::unique_ptr<grpc::ClientReaderInterface<Event>>(grpc::ClientContext* ctx,
                                                                                 const std::string& cursor)>;
  // Applies one event inside the consumer's transaction.
  using Apply = std::function<absl::Status(db::Tx& tx, const Event& event)>;
  using Prepare = std::function<void(grpc::ClientContext* ctx)>;

  Consumer(db::Pool* pool, std::string schema, std::string name, Prepare prepare, Open open, Apply apply)
      : pool_(pool),
        schema_(std::move(schema)),
        name_(std::move(name)),
        prepare_(std::move(prepare)),
        open_(std::move(open)),
        apply_(std::move(apply)) {}
  ~Consumer() { Stop(); }

  void Start() {
    stop_ = false;
    thread_ = std::thread([this] { Loop(); });
  }
  void Stop() {
    stop_ = true;
    {
      std::lock_guard lock(mu_);
      if (ctx_) ctx_->TryCancel();
    }
    if (thread_.joinable()) thread_.join();
  }
  int64_t applied() const { return applied_.load(); }
  // Runs after each batch's transaction committed (before Start): e.g. moving the service's
  // statistics version, which must follow the commit, never precede it.
  void OnCommitted(std::function<void()> fn) { committed_ = std::move(fn); }

 private:
  void Loop() {
    int failures = 0;
    while (!stop_) {
      auto cursor = LoadCursor(*pool_, schema_, name_);
      if (!cursor.ok()) {
        Backoff(++failures);
        continue;
      }
      std::string at = *cursor;
      auto ctx = std::make_unique<grpc::ClientContext>();
      prepare_(ctx.get());
      {
        std::lock_guard lock(mu_);
        ctx_ = ctx.get();
      }
      auto reader = open_(ctx.get(), at);
      // A reader thread takes events off the stream while this thread applies what has
      // arrived, up to kBatch events in one transaction with one move of the cursor: a busy
      // feed costs one commit per batch, not per event; a quiet one still applies each event
      // as it comes.
      Inbox in;
      std::thread reading([&] {
        Event ev;
        while (reader->Read(&ev)) {
          std::unique_lock lock(in.mu);
          in.cv.wait(lock, [&] { return in.queue.size() < kInbox || in.closed; });
          if (in.closed) break;
          in.queue.push_back(std::move(ev));
          in.cv.notify_all();
        }
        std::lock_guard lock(in.mu);
        in.ended = true;
        in.cv.notify_all();
      });
      bool progressed = false;
      std::vector<Event> batch;
      while (!stop_) {
        batch.clear();
        {
          std::unique_lock lock(in.mu);
          in.cv.wait_for(lock, std::chrono::milliseconds(200), [&] { return !in.queue.empty() || in.ended || stop_; });
          if (in.queue.empty()) {
            if (in.ended) break;
            continue;
          }
          while (!in.queue.empty() && batch.size() < kBatch) {
            batch.push_back(std::move(in.queue.front()));
            in.queue.pop_front();
          }
          in.cv.notify_all();
        }
        absl::Status s = db::WithTransaction(*pool_, [&](db::Tx& tx) -> absl::Status {
          for (const Event& ev : batch) {
            absl::Status applied = apply_(tx, ev);
            if (!applied.ok()) return applied;
          }
          return AdvanceCursor(tx, schema_, name_, at, batch.back().cursor());
        });
        if (!s.ok()) {
          log::Warn("events not applied; resuming from the stored cursor",
                    {{"consumer", name_},
                     {"events", static_cast<int64_t>(batch.size())},
                     {"error", std::string(s.message())}});
          break;
        }
        at = batch.back().cursor();
        applied_ += static_cast<int64_t>(batch.size());
        if (committed_) committed_();
        progressed = true;
        const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
        for (const Event& ev : batch) {
          RecordApplied(name_, now - (static_cast<double>(ev.at().seconds()) + ev.at().nanos() / 1e9));
        }
      }
      ctx->TryCancel();
      {
        std::lock_guard lock(in.mu);
        in.closed = true;
        in.cv.notify_all();
      }
      reading.join();
      grpc::Status st = reader->Finish();
      {
        std::lock_guard lock(mu_);
        ctx_ = nullptr;
      }
      if (stop_) break;
      failures = progressed ? 0 : failures + 1;
      if (!st.ok() && st.error_code() != grpc::StatusCode::CANCELLED) {
        log::Warn("event stream ended; reconnecting",
                  {{"consumer", name_}, {"code", static_cast<int>(st.error_code())}, {"error", st.error_message()}});
      }
      Backoff(std::max(failures, 1));
    }
  }

  static constexpr size_t kBatch = 100;   // events per transaction
  static constexpr size_t kInbox = 1000;  // events read ahead of the transactions
  struct Inbox {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<Event> queue;
    bool ended = false;   // the stream ended (the reader thread is done)
    bool closed = false;  // the applier stopped taking events
  };

  void Backoff(int failures) {
    const int ms = std::min(5000, 100 * (1 << std::min(failures, 6)));
    for (int waited = 0; waited < ms && !stop_; waited += 50)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  db::Pool* pool_;
  std::string schema_, name_;
  Prepare prepare_;
  Open open_;
  Apply apply_;
  std::function<void()> committed_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> applied_{0};
  std::mutex mu_;
  grpc::ClientContext* ctx_ = nullptr;
  std::thread thread_;
};

// A consumer's Prepare that authenticates with the service's own token (`token()` per
// connection, so it can be renewed).
inline std::function<void(grpc::ClientContext*)> Bearer(std::function<std::string()> token) {
  return
      [token = std::move(token)](grpc::ClientContext* ctx) { ctx->AddMetadata("authorization", "Bearer " + token()); };
}

// A consumer's Open on `Service`'s Subscribe feed over `channel` (every service's feed
// takes a SubscribeRequest after a cursor).
template <typename Service, typename Event, typename Request>
typename Consumer<Event>::Open SubscribeOn(std::shared_ptr<grpc::Channel> channel) {
  return [stub = std::shared_ptr<typename Service::Stub>(Service::NewStub(channel))](grpc::ClientContext* ctx,
                                                                                     const std::string& cursor) {
    Request req;
    req.set_after_cursor(cursor);
    return stub->Subscribe(ctx, req);
  };
}

}  // namespace sm::consumer
