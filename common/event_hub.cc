#include "common/event_hub.h"

#include <algorithm>

#include "common/log.h"
#include "common/metrics.h"

namespace sm::events {

FeedHub::FeedHub(std::string name, FeedFn feed, db::Listener* listener, HubOptions options)
    : name_(std::move(name)), feed_(std::move(feed)), listener_(listener), options_(options) {}

FeedHub::~FeedHub() { Stop(); }

void FeedHub::Start() {
  std::lock_guard lock(mu_);
  if (started_) return;
  started_ = true;
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void FeedHub::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    for (Subscription* s : live_) s->cv_.notify_all();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<std::unique_ptr<FeedHub::Subscription>> FeedHub::Open(const std::string& caller, const Cursor& after) {
  std::lock_guard lock(mu_);
  if (stop_) return absl::UnavailableError("server shutting down; reconnect");
  int& mine = per_caller_[caller];
  if (mine >= options_.max_streams_per_caller) {
    return absl::ResourceExhaustedError("at most " + std::to_string(options_.max_streams_per_caller) +
                                        " streams per caller (grpc.max_streams_per_caller); close one first");
  }
  if (open_ >= options_.max_streams) {
    if (mine == 0) per_caller_.erase(caller);
    return absl::ResourceExhaustedError("at most " + std::to_string(options_.max_streams) +
                                        " streams on this server (grpc.max_streams); retry later");
  }
  ++mine;
  ++open_;
  auto s = std::unique_ptr<Subscription>(new Subscription(this, caller, after));
  UpdateGauges();
  return s;
}

FeedHub::Counts FeedHub::counts() const {
  std::lock_guard lock(mu_);
  return Counts{open_, static_cast<int>(live_.size()), hub_reads_, page_reads_, fell_behind_};
}

void FeedHub::Close(Subscription* s) {
  std::lock_guard lock(mu_);
  live_.erase(s);
  if (--per_caller_[s->caller_] <= 0) per_caller_.erase(s->caller_);
  --open_;
  UpdateGauges();
}

void FeedHub::UpdateGauges() {
  auto& g = metrics::Metrics::Global().streams;
  const auto live = static_cast<double>(live_.size());
  g.Add({{"feed", name_}, {"state", "live"}}).Set(live);
  g.Add({{"feed", name_}, {"state", "behind"}}).Set(static_cast<double>(open_) - live);
}

void FeedHub::Leave(Subscription* s) {
  live_.erase(s);
  s->live_ = false;
  ++fell_behind_;
  metrics::Metrics::Global().feed_fell_behind.Add({{"feed", name_}}).Increment();
  UpdateGauges();
}

void FeedHub::TryJoin(Subscription* s, bool at_horizon) {
  if (head_) {
    // The ring holds every event after ring_base_ up to head_: a stream at or past
    // ring_base_ finds all it lacks there (a stream past head_ read further than the hub
    // has so far; Deliver skips what it already has).
    if (s->tail_ < ring_base_) return;
    for (const SharedEvent& e : ring_) {
      if (e->cursor > s->tail_) {
        s->buffer_.push_back(e);
        s->tail_ = e->cursor;
      }
    }
  } else {
    // No stream is live, so the hub is idle and has no position: a stream that has just
    // read to the end of the feed gives it one.
    if (!at_horizon) return;
    head_ = s->tail_;
    ring_base_ = s->tail_;
    ring_.clear();
    cv_.notify_all();
  }
  s->live_ = true;
  live_.insert(s);
  UpdateGauges();
}

void FeedHub::Deliver(const std::vector<FeedEvent>& batch) {
  if (batch.empty()) return;
  std::vector<SharedEvent> shared;
  shared.reserve(batch.size());
  for (const FeedEvent& f : batch) shared.push_back(std::make_shared<const FeedEvent>(f));
  for (const SharedEvent& e : shared) {
    ring_.push_back(e);
    while (ring_.size() > options_.ring) {
      ring_base_ = ring_.front()->cursor;
      ring_.pop_front();
    }
  }
  head_ = shared.back()->cursor;
  std::vector<Subscription*> overflowing;
  for (Subscription* s : live_) {
    auto first = std::find_if(shared.begin(), shared.end(), [&](const SharedEvent& e) { return e->cursor > s->tail_; });
    const size_t n = static_cast<size_t>(shared.end() - first);
    if (n == 0) continue;
    if (s->buffer_.size() + n > options_.stream_buffer) {
      // Its client reads slowly: rather than hold more for it, let it read pages from
      // its cursor (tail_ stays the last event it has).
      overflowing.push_back(s);
    } else {
      s->buffer_.insert(s->buffer_.end(), first, shared.end());
      s->tail_ = shared.back()->cursor;
    }
    s->cv_.notify_all();
  }
  for (Subscription* s : overflowing) Leave(s);
}

void FeedHub::Run() {
  auto& reads = metrics::Metrics::Global().feed_reads.Add({{"feed", name_}, {"reader", "hub"}});
  auto& read_at = metrics::Metrics::Global().feed_read_time.Add({{"feed", name_}});
  bool warned = false;
  uint64_t last_seen = listener_ ? listener_->count() : 0;
  int held_back = 0;  // quick re-reads since the last NOTIFY found nothing readable
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (live_.empty()) {
      // Nobody takes the shared feed: read nothing. The position is dropped because it
      // goes stale; the next stream to join brings a fresh one.
      head_.reset();
      ring_.clear();
      cv_.wait_for(lock, options_.poll, [this] { return stop_ || !live_.empty(); });
      continue;
    }
    const Cursor from = *head_;
    const uint64_t seen = listener_ ? listener_->count() : 0;
    const bool notified = listener_ && seen != last_seen;
    last_seen = seen;
    ++hub_reads_;
    lock.unlock();
    reads.Increment();
    auto batch = feed_(from, options_.page);
    lock.lock();
    if (!batch.ok()) {
      // Live streams stay open and wait: the hub resumes from the same position once
      // PostgreSQL answers, and subscribers need not reconnect all at once.
      if (!warned) {
        log::Warn("event feed read failed; retrying",
                  {{"feed", name_}, {"error", std::string(batch.status().message())}});
        warned = true;
      }
      cv_.wait_for(lock, options_.poll, [this] { return stop_; });
      continue;
    }
    warned = false;
    read_at.SetToCurrentTime();
    // head_ moves only here while a stream is live, so `from` is still the position.
    Deliver(*batch);
    if (static_cast<int>(batch->size()) == options_.page) continue;
    // Woken by a commit's NOTIFY but nothing readable yet: the events are held back by the
    // horizon (a transaction that began before them is still running, in any schema), which
    // ends within milliseconds, not at the next NOTIFY or poll. Look again soon, backing off.
    if (notified && batch->empty() && held_back < 6) {
      const auto again = std::min(options_.poll, std::chrono::milliseconds(2 << held_back));
      ++held_back;
      cv_.wait_for(lock, again, [this] { return stop_; });
      last_seen = 0;  // the next read counts as woken again
      continue;
    }
    held_back = 0;
    // NOTIFY wakes the hub at once; the timeout is the fallback, and re-checks the horizon
    // when a slow older transaction finally commits (its NOTIFY may have come too early).
    if (listener_) {
      lock.unlock();
      listener_->Wait(seen, options_.poll);
      lock.lock();
    } else {
      cv_.wait_for(lock, options_.poll, [this] { return stop_; });
    }
  }
  for (Subscription* s : live_) s->cv_.notify_all();
}

FeedHub::Subscription::~Subscription() { hub_->Close(this); }

bool FeedHub::Subscription::live() const {
  std::lock_guard lock(hub_->mu_);
  return live_;
}

absl::StatusOr<std::vector<SharedEvent>> FeedHub::Subscription::Next(std::chrono::milliseconds wait) {
  std::unique_lock lock(hub_->mu_);
  auto take = [this] {
    std::vector<SharedEvent> out(buffer_.begin(), buffer_.end());
    buffer_.clear();
    return out;
  };
  if (hub_->stop_) return absl::UnavailableError("server shutting down; reconnect");
  if (!buffer_.empty()) return take();
  if (live_) {
    cv_.wait_for(lock, wait, [this] { return !buffer_.empty() || !live_ || hub_->stop_; });
    if (hub_->stop_) return absl::UnavailableError("server shutting down; reconnect");
    return take();  // empty when the wait ended or the stream fell behind (pages next time)
  }
  const Cursor from = tail_;
  ++hub_->page_reads_;
  lock.unlock();
  metrics::Metrics::Global().feed_reads.Add({{"feed", hub_->name_}, {"reader", "page"}}).Increment();
  auto page = hub_->feed_(from, hub_->options_.page);
  if (!page.ok()) return page.status();
  std::vector<SharedEvent> out;
  out.reserve(page->size());
  for (FeedEvent& f : *page) out.push_back(std::make_shared<const FeedEvent>(std::move(f)));
  lock.lock();
  if (!out.empty()) tail_ = out.back()->cursor;
  hub_->TryJoin(this, static_cast<int>(out.size()) < hub_->options_.page);
  if (!live_ && out.empty()) {
    // Nothing new and still not joined: the hub has meanwhile read past the ring's reach
    // of this cursor, so the next page has events. Pause anyway rather than risk spinning
    // on the database.
    cv_.wait_for(lock, std::min(wait, hub_->options_.poll), [this] { return hub_->stop_; });
  }
  // Events the join took from the ring come after this page.
  std::vector<SharedEvent> joined = take();
  out.insert(out.end(), joined.begin(), joined.end());
  return out;
}

}  // namespace sm::events
