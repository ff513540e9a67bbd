// One reader of a service's event feed shared by all of its Subscribe streams
// (ARCHITECTURE.md § How messages move), and the admission limits on those streams.
//
// The hub's thread reads new events once — woken by NOTIFY through db::Listener, polling as
// the fallback — and hands each batch to every stream that is caught up ("live"). A stream
// that is behind (a new subscriber with an old cursor, or one whose buffer filled because
// its client reads slowly) reads its backlog itself, a page at a time, with the same feed
// query, and joins the shared feed once its cursor reaches what the hub still holds.
//
// Why this is exactly once and in order: the feed hands out only events whose writer
// transaction is below the oldest running one (event_log.h), so the sequence of events
// after any cursor never changes once read — a late-committing transaction always sorts
// after every event already handed out. The hub and the page readers read that one
// sequence; a stream moves between them only at its own cursor, and the hub gives a live
// stream only events after that cursor.
//
// Memory is bounded: each live stream buffers at most `stream_buffer` events (a stream that
// would exceed it leaves the shared feed and reads pages again), and the hub keeps the last
// `ring` events so that streams a little behind join without a database read.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <absl/status/statusor.h>

#include "common/event_log.h"
#include "common/pg_listen.h"

namespace sm::events {

using FeedFn = std::function<absl::StatusOr<std::vector<FeedEvent>>(const Cursor& after, int limit)>;
using SharedEvent = std::shared_ptr<const FeedEvent>;

struct HubOptions {
  int max_streams_per_caller = 4;       // grpc.max_streams_per_caller
  int max_streams = 64;                 // grpc.max_streams: all callers together
  int page = 500;                       // events per feed read (hub and page readers)
  size_t stream_buffer = 1000;          // events a live stream may hold before it falls back to pages
  size_t ring = 500;                    // recent events the hub keeps for joining (<= stream_buffer)
  std::chrono::milliseconds poll{200};  // polling fallback when no NOTIFY arrives
};

class FeedHub {
 public:
  class Subscription;

  // `name` labels the metrics ("clue"); `feed` is the service's EventLog::Feed; `listener`
  // (may be null: polling only) wakes the hub. Start() runs the hub thread.
  FeedHub(std::string name, FeedFn feed, db::Listener* listener, HubOptions options);
  ~FeedHub();
  FeedHub(const FeedHub&) = delete;
  FeedHub& operator=(const FeedHub&) = delete;

  void Start();
  // Stops the hub thread; open subscriptions' Next() answers UNAVAILABLE from then on.
  void Stop();

  // Admits a stream for `caller` (the token's subject) starting after `after`. Errors:
  // RESOURCE_EXHAUSTED naming the limit when the caller already has max_streams_per_caller
  // streams or the service max_streams. The slot is released when the subscription is
  // destroyed. The hub must outlive its subscriptions.
  absl::StatusOr<std::unique_ptr<Subscription>> Open(const std::string& caller, const Cursor& after);

  struct Counts {
    int open = 0;
    int live = 0;
    uint64_t hub_reads = 0;    // feed reads by the hub thread
    uint64_t page_reads = 0;   // feed reads by streams that were behind
    uint64_t fell_behind = 0;  // live streams that left the shared feed because their buffer was full
  };
  Counts counts() const;

  class Subscription {
   public:
    ~Subscription();
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;

    // The next events after the cursor, in order: buffered events from the shared feed at
    // once, else one page from the database while behind, else waits up to `wait` for the
    // hub and returns what came (possibly nothing). Errors: the page read's error;
    // UNAVAILABLE once the hub stopped.
    absl::StatusOr<std::vector<SharedEvent>> Next(std::chrono::milliseconds wait);

    // Whether the stream currently takes the shared feed (for tests and metrics).
    bool live() const;

   private:
    friend class FeedHub;
    Subscription(FeedHub* hub, std::string caller, Cursor after)
        : hub_(hub), caller_(std::move(caller)), tail_(after) {}

    FeedHub* hub_;
    std::string caller_;
    // Guarded by hub_->mu_.
    Cursor tail_;                     // the last event handed to this stream (buffered or returned)
    std::deque<SharedEvent> buffer_;  // from the shared feed, not yet returned
    bool live_ = false;
    std::condition_variable cv_;
  };

 private:
  void Run();
  // With mu_ held: hands a batch the hub read after head_ to every live stream.
  void Deliver(const std::vector<FeedEvent>& batch);
  // With mu_ held: joins `s` to the shared feed if the hub can give it everything after its
  // cursor; `at_horizon` says its last page reached the feed's end (needed to start the
  // hub when no stream is live).
  void TryJoin(Subscription* s, bool at_horizon);
  void Leave(Subscription* s);
  void Close(Subscription* s);
  void UpdateGauges();

  const std::string name_;
  const FeedFn feed_;
  db::Listener* const listener_;
  const HubOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;  // the hub thread: a stream joined, or stop
  bool stop_ = false;
  bool started_ = false;
  // The hub's position; unset while no stream is live (the first joiner sets it). The ring
  // holds the events in (ring_base_, *head_], oldest first.
  std::optional<Cursor> head_;
  Cursor ring_base_;
  std::deque<SharedEvent> ring_;
  std::set<Subscription*> live_;
  std::map<std::string, int> per_caller_;
  int open_ = 0;
  uint64_t hub_reads_ = 0;
  uint64_t page_reads_ = 0;
  uint64_t fell_behind_ = 0;
  std::thread thread_;
};

}  // namespace sm::events
