// sm-bench-risk: risk-service as its clients see it (scripts/bench-risk, docs/PERFORMANCE.md § Risk).
//  (a) event → score lag: clues naming `--person`s (round robin) registered through
//      ClueService.RegisterClue at a steady `--rate` per second for `--seconds`; for each,
//      the time from RegisterClue's reply to the "score_changed" event on RiskService.Subscribe
//      whose data names the clue as `ref`;
//  (b) GetPersonFile latency: `--file-signals` clues naming `--file-person` registered as fast
//      as `--threads` callers go, a wait until GetPersonScore counts them all, then `--calls`
//      GetPersonFile calls one after another, then as many GetPersonScore calls (the score
//      alone) and as many walks of the file's clue part (ListClues naming the person, pages
//      of 200), for comparison.
// Prints one JSON line per phase. Talks only to the given loopback addresses; every wait and
// the whole run are bounded.
#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/auth.h"
#include "common/event_payload.h"
#include "common/uuid.h"
#include "supervision/v1/clue.grpc.pb.h"
#include "supervision/v1/events.pb.h"
#include "supervision/v1/risk.grpc.pb.h"
#include "tools/bench/bench_util.h"

namespace v1 = ::supervision::v1;
using sm::bench::Call;
using sm::bench::Clock;
using sm::bench::Ms;
using sm::bench::Quantile;

namespace {

// When the Subscribe reader saw the first score_changed event of each clue (its `ref`).
struct Seen {
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, Clock::time_point> scored;
  int64_t events = 0;
};

v1::RegisterClueRequest ClueNaming(const std::string& origin_unit, const std::string& person, int n) {
  v1::RegisterClueRequest req;
  req.set_request_id(sm::NewUuid());
  req.set_origin_unit_id(origin_unit);
  req.set_source(v1::CLUE_SOURCE_PETITION);
  req.set_channel(v1::RECEIPT_CHANNEL_LETTER);
  req.add_subjects()->set_person_id(person);
  req.add_categories(v1::CLUE_CATEGORY_INTEGRITY);
  req.set_summary("基准测试：反映民警违规饮酒（第" + std::to_string(n) + "件）");
  req.set_details("风险评分基准测试数据，编号 " + std::to_string(n) + "。");
  req.set_severity(v1::SEVERITY_MEDIUM);
  return req;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sm-bench-risk: clue → score_changed lag and GetPersonFile latency"};
  std::string target = "127.0.0.1:7105", clue_target = "127.0.0.1:7102", origin_unit, file_person;
  std::vector<std::string> persons;
  int seconds = 20, calls = 200, file_signals = 1000, threads = 16, wait_ms = 10000, settle_s = 180;
  double rate = 200;
  app.add_option("--target", target, "risk-service host:port");
  app.add_option("--clue-target", clue_target, "clue-service host:port");
  app.add_option("--origin-unit", origin_unit, "a discipline unit id: registers the clues, reads the file")->required();
  app.add_option("--person", persons, "a directory person named by the lag phase's clues (repeat)")->required();
  app.add_option("--file-person", file_person, "the person given --file-signals clues for the file phase")->required();
  app.add_option("--seconds", seconds, "lag phase duration (0: skip)")->check(CLI::Range(0, 600));
  app.add_option("--rate", rate, "lag phase: clues registered per second")->check(CLI::Range(1.0, 2000.0));
  app.add_option("--calls", calls, "file phase: GetPersonFile calls (0: skip)")->check(CLI::Range(0, 100000));
  app.add_option("--file-signals", file_signals, "file phase: clues naming --file-person")->check(CLI::Range(1, 20000));
  app.add_option("--threads", threads, "concurrent RegisterClue callers")->check(CLI::Range(1, 256));
  app.add_option("--wait-ms", wait_ms, "lag phase: how long after the load the last events are waited for")
      ->check(CLI::Range(100, 120000));
  app.add_option("--settle-s", settle_s, "file phase: how long the signal count is waited for")
      ->check(CLI::Range(1, 1800));
  CLI11_PARSE(app, argc, argv);

  auto mint = [](const sm::auth::Principal& p) {
    return *sm::auth::Mint(sm::auth::DevelopmentMint(p, std::chrono::hours(2)));
  };
  // Discipline staff of the registering unit: may register clues and read any personnel file.
  const std::string discipline_token =
      mint({.user = "bench-discipline", .unit = origin_unit, .roles = {"discipline"}, .clearance = 1});
  const std::string service_token = mint({.user = "bench-subscriber", .roles = {"service"}});
  auto clue_channel = grpc::CreateChannel(clue_target, grpc::InsecureChannelCredentials());
  auto risk = v1::RiskService::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  int rc = 0;

  // Registers clue `n` naming `person`; on success returns its id and when the reply came.
  auto register_one = [&](v1::ClueService::Stub* stub, const std::string& person, int n, std::string* id,
                          Clock::time_point* replied) {
    const v1::RegisterClueRequest req = ClueNaming(origin_unit, person, n);
    v1::ClueReply reply;
    grpc::Status s = Call(discipline_token, [&](auto* c) { return stub->RegisterClue(c, req, &reply); });
    *replied = Clock::now();
    if (!s.ok()) {
      std::fprintf(stderr, "[bench-risk] RegisterClue: %d %s\n", static_cast<int>(s.error_code()),
                   s.error_message().c_str());
      return false;
    }
    *id = reply.clue().id();
    return true;
  };

  // (a) ----------------------------------------------------------------------------------
  if (seconds > 0) {
    // The reader, from the feed's beginning (a fresh stack: older events name other clues).
    Seen seen;
    grpc::ClientContext sub_ctx;
    sub_ctx.AddMetadata("authorization", "Bearer " + service_token);
    auto stream = risk->Subscribe(&sub_ctx, v1::SubscribeRequest());
    std::thread reader([&] {
      v1::RiskEvent e;
      while (stream->Read(&e)) {
        const auto now = Clock::now();
        if (e.type() != "score_changed") continue;
        auto payload = sm::events::Decode<v1::RiskEventPayload>(e.type(), e.data_json());
        if (!payload.ok()) continue;
        std::lock_guard lock(seen.mu);
        ++seen.events;
        seen.scored.emplace(payload->score_changed().ref(), now);
        seen.cv.notify_all();
      }
      // Cancelled at the end of the phase; anything else (a refused token, a lost server)
      // leaves every clue without its event, and says why here.
      if (grpc::Status s = stream->Finish(); !s.ok() && s.error_code() != grpc::StatusCode::CANCELLED) {
        std::fprintf(stderr, "[bench-risk] Subscribe ended: %d %s\n", static_cast<int>(s.error_code()),
                     s.error_message().c_str());
      }
    });

    // Clue n is due at start + n / rate; callers take the next clue number in turn, so the
    // rate holds as long as `threads` calls in flight keep up.
    const int total = static_cast<int>(rate * seconds);
    std::atomic<int> next{0}, errors{0};
    std::mutex mu;
    std::map<std::string, Clock::time_point> replied;  // clue id -> RegisterClue's reply
    const auto start = Clock::now();
    std::vector<std::thread> callers;
    for (int t = 0; t < threads; ++t) {
      callers.emplace_back([&] {
        auto stub = v1::ClueService::NewStub(clue_channel);
        for (int n; (n = next++) < total;) {
          std::this_thread::sleep_until(
              start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(n / rate)));
          std::string id;
          Clock::time_point at;
          if (!register_one(stub.get(), persons[n % persons.size()], n, &id, &at)) {
            ++errors;
            continue;
          }
          std::lock_guard lock(mu);
          replied.emplace(id, at);
        }
      });
    }
    for (auto& c : callers) c.join();
    const double load_s = std::chrono::duration<double>(Clock::now() - start).count();
    {
      std::unique_lock lock(seen.mu);
      seen.cv.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] {
        for (const auto& [id, at] : replied)
          if (!seen.scored.count(id)) return false;
        return true;
      });
    }
    const double drained_s = std::chrono::duration<double>(Clock::now() - start).count();
    sub_ctx.TryCancel();
    reader.join();
    std::vector<double> lag;
    int missing = 0;
    for (const auto& [id, at] : replied) {
      auto it = seen.scored.find(id);
      if (it == seen.scored.end()) {
        ++missing;
        continue;
      }
      lag.push_back(std::max(0.0, Ms(it->second - at)));
    }
    std::printf(
        "{\"phase\":\"risk_lag\",\"persons\":%zu,\"rate_target_per_s\":%.1f,\"seconds\":%d,\"registered\":%zu,"
        "\"errors\":%d,\"achieved_per_s\":%.1f,\"scored\":%zu,\"missing\":%d,\"drained_s\":%.1f,"
        "\"lag_p50_ms\":%.1f,\"lag_p99_ms\":%.1f,\"lag_max_ms\":%.1f}\n",
        persons.size(), rate, seconds, replied.size(), errors.load(), replied.size() / load_s, lag.size(), missing,
        drained_s, Quantile(lag, 0.5), Quantile(lag, 0.99), Quantile(lag, 1.0));
    std::fflush(stdout);
    if (errors > 0 || missing > 0) rc = 1;
  }

  // (b) ----------------------------------------------------------------------------------
  if (calls > 0) {
    v1::GetPersonScoreRequest sq;
    sq.set_person_id(file_person);
    auto signals_now = [&]() -> int64_t {
      v1::PersonScore score;
      grpc::Status s = Call(discipline_token, [&](auto* c) { return risk->GetPersonScore(c, sq, &score); });
      return s.ok() ? score.signals() : (s.error_code() == grpc::StatusCode::NOT_FOUND ? 0 : -1);
    };
    const int64_t before = std::max<int64_t>(0, signals_now());
    const int64_t want = before + file_signals;
    const auto start = Clock::now();
    std::atomic<int> next{0}, errors{0};
    std::vector<std::thread> callers;
    for (int t = 0; t < threads; ++t) {
      callers.emplace_back([&] {
        auto stub = v1::ClueService::NewStub(clue_channel);
        for (int n; (n = next++) < file_signals;) {
          std::string id;
          Clock::time_point at;
          if (!register_one(stub.get(), file_person, 1000000 + n, &id, &at)) ++errors;
        }
      });
    }
    for (auto& c : callers) c.join();
    const double register_s = std::chrono::duration<double>(Clock::now() - start).count();
    int64_t signals = signals_now();
    const auto settle_until = Clock::now() + std::chrono::seconds(settle_s);
    while (signals < want - errors && Clock::now() < settle_until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      signals = signals_now();
    }
    const double settled_s = std::chrono::duration<double>(Clock::now() - start).count();
    v1::GetPersonFileRequest fq;
    fq.set_person_id(file_person);
    std::vector<double> took;
    int call_errors = 0, missing_parts = 0;
    size_t timeline = 0, bytes = 0;
    for (int i = 0; i < calls; ++i) {
      v1::PersonFile file;
      const auto t0 = Clock::now();
      grpc::Status s = Call(discipline_token, [&](auto* c) { return risk->GetPersonFile(c, fq, &file); });
      const double ms = Ms(Clock::now() - t0);
      if (!s.ok()) {
        if (++call_errors == 1)
          std::fprintf(stderr, "[bench-risk] GetPersonFile: %d %s\n", static_cast<int>(s.error_code()),
                       s.error_message().c_str());
        continue;
      }
      took.push_back(ms);
      missing_parts += file.missing_size();
      timeline = file.timeline_size();
      bytes = file.ByteSizeLong();
    }
    // The score alone (its 1,000 signals recomputed on read), the same number of calls: how
    // much of the file is the score.
    std::vector<double> score_took;
    for (int i = 0; i < calls; ++i) {
      v1::PersonScore score;
      const auto t0 = Clock::now();
      if (Call(discipline_token, [&](auto* c) { return risk->GetPersonScore(c, sq, &score); }).ok())
        score_took.push_back(Ms(Clock::now() - t0));
    }
    // The file's clue part as risk-service asks for it: ListClues naming the person, pages of
    // 200, until `file_signals` entries (with the same token).
    std::vector<double> clue_took;
    auto clue_stub = v1::ClueService::NewStub(clue_channel);
    for (int i = 0; i < calls; ++i) {
      const auto t0 = Clock::now();
      std::string page;
      int got = 0;
      bool ok = true;
      do {
        v1::ListCluesRequest q;
        q.set_subject_person_id(file_person);
        q.set_page_size(200);
        q.set_page_token(page);
        v1::ListCluesResponse r;
        ok = Call(discipline_token, [&](auto* c) { return clue_stub->ListClues(c, q, &r); }).ok();
        got += r.clues_size();
        page = r.next_page_token();
      } while (ok && !page.empty() && got < file_signals);
      if (ok) clue_took.push_back(Ms(Clock::now() - t0));
    }
    std::printf(
        "{\"phase\":\"risk_file\",\"signals\":%lld,\"register_errors\":%d,\"register_s\":%.1f,\"settled_s\":%.1f,"
        "\"calls\":%d,\"errors\":%d,\"missing_parts\":%d,\"timeline\":%zu,\"reply_bytes\":%zu,"
        "\"p50_ms\":%.1f,\"p99_ms\":%.1f,\"max_ms\":%.1f,\"score_p50_ms\":%.1f,\"score_p99_ms\":%.1f,\"clue_part_p50_"
        "ms\":%.1f,"
        "\"clue_part_p99_ms\":%.1f}\n",
        static_cast<long long>(signals), errors.load(), register_s, settled_s, calls, call_errors, missing_parts,
        timeline, bytes, Quantile(took, 0.5), Quantile(took, 0.99), Quantile(took, 1.0), Quantile(score_took, 0.5),
        Quantile(score_took, 0.99), Quantile(clue_took, 0.5), Quantile(clue_took, 0.99));
    if (errors > 0 || call_errors > 0 || signals < want) rc = 1;
  }
  return rc;
}
