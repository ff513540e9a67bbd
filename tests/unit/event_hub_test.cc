// events::FeedHub against an in-memory event log that behaves like EventLog::Feed: events
// ordered by (xid, gseq), handed out only below the oldest open transaction. Admission
// limits, exactly-once in-order delivery to many readers while writers race and commit
// out of order, one shared reader, slow consumers falling back to pages, and stop.
#include "common/event_hub.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <set>
#include <thread>

namespace sm::events {
namespace {

// A log with transactions: Begin() takes the next xid, Append() takes the next gseq (as
// bigserial does, before commit), Commit() ends the transaction.
class FakeLog {
 public:
  uint64_t Begin() {
    std::lock_guard lock(mu_);
    open_.insert(next_xid_);
    return next_xid_++;
  }
  void Append(uint64_t xid) {
    std::lock_guard lock(mu_);
    FeedEvent f;
    f.cursor = Cursor{xid, next_gseq_++};
    f.event.aggregate_id = "a";
    f.event.seq = f.cursor.gseq;
    events_.push_back(f);
    std::sort(events_.begin(), events_.end(),
              [](const FeedEvent& a, const FeedEvent& b) { return a.cursor < b.cursor; });
  }
  void Commit(uint64_t xid) {
    std::lock_guard lock(mu_);
    open_.erase(xid);
  }
  void Write(int n) {
    uint64_t x = Begin();
    for (int i = 0; i < n; ++i) Append(x);
    Commit(x);
  }
  absl::StatusOr<std::vector<FeedEvent>> Feed(const Cursor& after, int limit) {
    std::lock_guard lock(mu_);
    ++reads_;
    const uint64_t horizon = open_.empty() ? std::numeric_limits<uint64_t>::max() : *open_.begin();
    std::vector<FeedEvent> out;
    for (const FeedEvent& f : events_) {
      if (f.cursor > after && f.cursor.xid < horizon && static_cast<int>(out.size()) < limit) out.push_back(f);
    }
    return out;
  }
  std::vector<int64_t> AllGseqInFeedOrder() {
    std::lock_guard lock(mu_);
    std::vector<int64_t> out;
    for (const FeedEvent& f : events_) out.push_back(f.cursor.gseq);
    return out;
  }
  Cursor Tip() {
    std::lock_guard lock(mu_);
    return events_.empty() ? Cursor{} : events_.back().cursor;
  }

 private:
  std::mutex mu_;
  uint64_t next_xid_ = 100;
  int64_t next_gseq_ = 1;
  std::set<uint64_t> open_;
  std::vector<FeedEvent> events_;
  uint64_t reads_ = 0;
};

HubOptions Fast(HubOptions o = {}) {
  o.poll = std::chrono::milliseconds(5);
  return o;
}

FeedFn FeedOf(FakeLog& log) {
  return [&log](const Cursor& after, int limit) { return log.Feed(after, limit); };
}

// Reads from `sub` until `n` events arrived or `within` passed; returns their gseqs.
std::vector<int64_t> Drain(FeedHub::Subscription& sub, size_t n,
                           std::chrono::milliseconds within = std::chrono::seconds(10)) {
  std::vector<int64_t> got;
  const auto until = std::chrono::steady_clock::now() + within;
  while (got.size() < n && std::chrono::steady_clock::now() < until) {
    auto batch = sub.Next(std::chrono::milliseconds(20));
    if (!batch.ok()) break;
    for (const auto& e : *batch) got.push_back(e->cursor.gseq);
  }
  return got;
}

TEST(FeedHub, StreamsAreCappedPerCallerAndInAllAndSlotsFreeOnClose) {
  FakeLog log;
  HubOptions o = Fast();
  o.max_streams_per_caller = 2;
  o.max_streams = 3;
  FeedHub hub("test", FeedOf(log), nullptr, o);
  hub.Start();
  auto a1 = hub.Open("alice", {});
  auto a2 = hub.Open("alice", {});
  ASSERT_TRUE(a1.ok() && a2.ok());
  auto a3 = hub.Open("alice", {});
  ASSERT_EQ(a3.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(std::string(a3.status().message()).find("grpc.max_streams_per_caller"), std::string::npos);
  auto b1 = hub.Open("bob", {});
  ASSERT_TRUE(b1.ok());
  auto c1 = hub.Open("carol", {});
  ASSERT_EQ(c1.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(std::string(c1.status().message()).find("grpc.max_streams"), std::string::npos);
  EXPECT_EQ(hub.counts().open, 3);
  a1->reset();
  EXPECT_EQ(hub.counts().open, 2);
  EXPECT_TRUE(hub.Open("carol", {}).ok());  // the freed slot; closed again at once
  auto a4 = hub.Open("alice", {});
  EXPECT_TRUE(a4.ok());
}

TEST(FeedHub, ManyReadersGetEveryEventOnceInOrderFromOneSharedReader) {
  FakeLog log;
  log.Write(30);  // history before anyone subscribes
  FeedHub hub("test", FeedOf(log), nullptr, Fast({.max_streams_per_caller = 100, .max_streams = 100, .page = 7}));
  hub.Start();
  constexpr int kReaders = 20;
  std::vector<std::unique_ptr<FeedHub::Subscription>> subs;
  for (int i = 0; i < kReaders; ++i) subs.push_back(*hub.Open("r" + std::to_string(i), {}));
  // A reader that has caught up joins the shared feed.
  std::vector<std::vector<int64_t>> got(kReaders);
  for (int i = 0; i < kReaders; ++i) got[i] = Drain(*subs[i], 30);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (hub.counts().live < kReaders && std::chrono::steady_clock::now() < until) {
    for (int i = 0; i < kReaders; ++i) {
      auto more = subs[i]->Next(std::chrono::milliseconds(1));
      ASSERT_TRUE(more.ok());
      EXPECT_TRUE(more->empty());
    }
  }
  ASSERT_EQ(hub.counts().live, kReaders);
  const uint64_t pages_before = hub.counts().page_reads;

  // A slow transaction takes an early xid and commits last, while others race.
  const uint64_t slow = log.Begin();
  log.Append(slow);
  size_t per_writer = 0;
  for (int i = 0; i < 25; ++i) per_writer += 1 + i % 3;
  const size_t later = 4 * per_writer + 2;
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&] {
      for (int i = 0; i < 25; ++i) log.Write(1 + i % 3);
    });
  }
  std::vector<std::thread> readers;
  for (int i = 0; i < kReaders; ++i) {
    readers.emplace_back([&, i] {
      auto more = Drain(*subs[i], later);
      got[i].insert(got[i].end(), more.begin(), more.end());
    });
  }
  for (auto& t : writers) t.join();
  log.Append(slow);
  log.Commit(slow);
  for (auto& t : readers) t.join();

  const std::vector<int64_t> all = log.AllGseqInFeedOrder();
  for (int i = 0; i < kReaders; ++i) EXPECT_EQ(got[i], all) << "reader " << i;
  const FeedHub::Counts c = hub.counts();
  EXPECT_EQ(c.page_reads, pages_before) << "a caught-up reader read the log itself";
  EXPECT_GT(c.hub_reads, 0u);
  EXPECT_EQ(c.fell_behind, 0u);
}

TEST(FeedHub, SlowReaderFallsBackToPagesWithoutLosingOrRepeatingEvents) {
  FakeLog log;
  FeedHub hub("test", FeedOf(log), nullptr, Fast({.page = 4, .stream_buffer = 6, .ring = 3}));
  hub.Start();
  auto sub = *hub.Open("slow", log.Tip());
  // Joins once its (empty) page shows it is at the end.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!sub->live() && std::chrono::steady_clock::now() < until)
    ASSERT_TRUE(sub->Next(std::chrono::milliseconds(1)).ok());
  ASSERT_TRUE(sub->live());
  // It reads nothing while 40 events commit: far more than its buffer.
  for (int i = 0; i < 20; ++i) log.Write(2);
  const auto full = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (hub.counts().fell_behind == 0 && std::chrono::steady_clock::now() < full) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(hub.counts().fell_behind, 1u);
  EXPECT_FALSE(sub->live());
  EXPECT_EQ(Drain(*sub, 40), log.AllGseqInFeedOrder());
  // Caught up again, it rejoins the shared feed and takes new events from it.
  log.Write(1);
  auto last = Drain(*sub, 1);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0], log.AllGseqInFeedOrder().back());
  EXPECT_TRUE(sub->live());
}

TEST(FeedHub, ALateCommitIsNeitherSkippedNorDeliveredEarly) {
  FakeLog log;
  FeedHub hub("test", FeedOf(log), nullptr, Fast());
  hub.Start();
  auto sub = *hub.Open("x", {});
  const uint64_t early = log.Begin();
  log.Append(early);  // gseq 1, xid 100, still open
  log.Write(1);       // gseq 2, xid 101, committed first
  // Nothing may be handed out past the open transaction.
  EXPECT_TRUE(Drain(*sub, 1, std::chrono::milliseconds(300)).empty());
  log.Commit(early);
  EXPECT_EQ(Drain(*sub, 2), (std::vector<int64_t>{1, 2}));
}

TEST(FeedHub, StopEndsOpenSubscriptions) {
  FakeLog log;
  FeedHub hub("test", FeedOf(log), nullptr, Fast());
  hub.Start();
  auto sub = *hub.Open("x", {});
  hub.Stop();
  EXPECT_EQ(sub->Next(std::chrono::milliseconds(10)).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(hub.Open("y", {}).status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace sm::events
