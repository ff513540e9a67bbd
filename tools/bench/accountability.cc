// sm-bench-accountability: the lags of inspection-service's two reactions to clue-service,
// seen where a client sees them, on InspectionService.Subscribe:
//  - referral: ReferFinding's reply → the finding's "clue_linked" event;
//  - 一案双查: ConcludeClue's reply (form 2) → both "accountability_opened" events of the clue.
// `--count` findings one after another at `--rate` per second: add, refer, wait for the
// clue, then as the discipline unit accept, dispose and conclude it in form 2 and wait for its
// two checks. Prints one JSON line with p50/p99/max of both lags. Talks only to the given
// loopback addresses; every wait and the whole run are bounded.
#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "common/auth.h"
#include "common/uuid.h"
#include "tools/bench/bench_util.h"
#include "supervision/v1/clue.grpc.pb.h"
#include "supervision/v1/inspection.grpc.pb.h"

namespace v1 = ::supervision::v1;
using Clock = std::chrono::steady_clock;
using sm::bench::Call;
using sm::bench::Ms;
using sm::bench::Quantile;

namespace {

// What the Subscribe reader has seen: when each finding got its clue, when each clue's
// checks opened.
struct Seen {
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, std::pair<Clock::time_point, std::string>> linked;  // finding -> when, clue
  std::map<std::string, std::vector<Clock::time_point>> opened;             // clue -> when, per check
};

std::string ClueIdOf(const std::string& data_json) {
  static const std::regex kClue("\"clue_?[iI]d\"\\s*:\\s*\"([^\"]+)\"");
  std::smatch m;
  return std::regex_search(data_json, m, kClue) ? m[1].str() : std::string();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sm-bench-accountability: referral → clue_linked and ConcludeClue → accountability_opened lags"};
  std::string target = "127.0.0.1:7104", clue_target = "127.0.0.1:7102", inspection, item, unit, person, inspector,
              inspector_unit, to_unit;
  int count = 40, wait_ms = 10000;
  double rate = 2;
  app.add_option("--target", target, "inspection-service host:port");
  app.add_option("--clue-target", clue_target, "clue-service host:port");
  app.add_option("--inspection", inspection, "an inspection in progress")->required();
  app.add_option("--item", item, "a checklist item marked non-conforming at --unit")->required();
  app.add_option("--unit", unit, "the findings' subject unit id")->required();
  app.add_option("--person", person, "the findings' subject person id");
  app.add_option("--inspector", inspector, "an inspector's person id (one of the inspection's)")->required();
  app.add_option("--inspector-unit", inspector_unit, "the inspecting unit id")->required();
  app.add_option("--to-unit", to_unit, "the discipline unit id the findings are referred to")->required();
  app.add_option("--count", count, "findings referred and their clues concluded")->check(CLI::Range(1, 1000));
  app.add_option("--rate", rate, "findings started per second")->check(CLI::Range(0.1, 50.0));
  app.add_option("--wait-ms", wait_ms, "how long each event is waited for")->check(CLI::Range(100, 120000));
  CLI11_PARSE(app, argc, argv);

  auto mint = [](sm::auth::Principal p) { return *sm::auth::Mint(sm::auth::DevelopmentMint(p)); };
  const std::string inspector_token =
      mint({.user = inspector, .unit = inspector_unit, .roles = {"inspector"}, .clearance = 1});
  const std::string discipline_token =
      mint({.user = "bench-discipline", .unit = to_unit, .roles = {"discipline"}, .clearance = 1});
  const std::string service_token = mint({.user = "bench-subscriber", .roles = {"service"}});
  auto insp = v1::InspectionService::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  auto clue = v1::ClueService::NewStub(grpc::CreateChannel(clue_target, grpc::InsecureChannelCredentials()));

  // The reader, from the feed's beginning (a fresh stack: the older events concern other
  // findings and clues, so they cannot be taken for ours).
  Seen seen;
  grpc::ClientContext sub_ctx;
  sub_ctx.AddMetadata("authorization", "Bearer " + service_token);
  auto reader_stream = insp->Subscribe(&sub_ctx, v1::SubscribeRequest());
  std::thread reader([&] {
    v1::InspectionEvent e;
    while (reader_stream->Read(&e)) {
      const auto now = Clock::now();
      if (e.type() != "clue_linked" && e.type() != "accountability_opened") continue;
      const std::string clue_id = ClueIdOf(e.data_json());
      std::lock_guard lock(seen.mu);
      if (e.type() == "clue_linked")
        seen.linked.emplace(e.aggregate_id(), std::make_pair(now, clue_id));
      else
        seen.opened[clue_id].push_back(now);
      seen.cv.notify_all();
    }
  });

  std::vector<double> refer_lag, check_lag;
  int errors = 0, timeouts = 0, extra_checks = 0;
  std::vector<std::string> concluded;
  const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / rate));
  auto next = Clock::now();
  const auto give_up = Clock::now() + std::chrono::seconds(count * 2 * wait_ms / 1000 + 60);
  for (int n = 1; n <= count && Clock::now() < give_up; ++n) {
    std::this_thread::sleep_until(next);
    next += period;
    v1::AddInspectionFindingRequest add;
    add.set_request_id(sm::NewUuid());
    add.set_inspection_id(inspection);
    add.set_item_code(item);
    add.set_subject_unit_id(unit);
    add.set_subject_person_id(person);
    add.set_title("基准测试：违规发放津补贴（" + std::to_string(n) + "）");
    add.set_category(v1::INSPECTION_FINDING_CATEGORY_INTEGRITY);
    add.set_severity(v1::SEVERITY_HIGH);
    v1::InspectionFindingReply f;
    if (!Call(inspector_token, [&](auto* c) { return insp->AddFinding(c, add, &f); }).ok()) {
      ++errors;
      continue;
    }
    v1::ReferFindingRequest refer;
    refer.set_request_id(sm::NewUuid());
    refer.set_finding_id(f.finding().id());
    refer.set_expected_version(f.finding().version());
    refer.set_to_unit_id(to_unit);
    refer.add_categories(v1::CLUE_CATEGORY_INTEGRITY);
    if (!Call(inspector_token, [&](auto* c) { return insp->ReferFinding(c, refer, &f); }).ok()) {
      ++errors;
      continue;
    }
    const auto referred_at = Clock::now();
    std::string clue_id;
    {
      std::unique_lock lock(seen.mu);
      if (!seen.cv.wait_for(lock, std::chrono::milliseconds(wait_ms),
                            [&] { return seen.linked.count(f.finding().id()); })) {
        ++timeouts;
        continue;
      }
      const auto& [at, id] = seen.linked[f.finding().id()];
      refer_lag.push_back(Ms(at - referred_at));
      clue_id = id;
    }
    // The discipline unit: accept, verify, conclude in form 2.
    v1::GetClueRequest g;
    g.set_clue_id(clue_id);
    v1::Clue c;
    v1::ClueReply r;
    v1::AcceptClueRequest a;
    a.set_request_id(sm::NewUuid());
    a.set_clue_id(clue_id);
    v1::DisposeClueRequest d;
    d.set_request_id(sm::NewUuid());
    d.set_clue_id(clue_id);
    d.set_method(v1::DISPOSITION_METHOD_VERIFICATION);
    v1::ConcludeClueRequest k;
    k.set_request_id(sm::NewUuid());
    k.set_clue_id(clue_id);
    k.set_form(v1::SUPERVISION_FORM_2);
    k.set_feedback("基准测试：问题属实");
    const bool ok = Call(discipline_token, [&](auto* x) { return clue->GetClue(x, g, &c); }).ok() &&
                    (a.set_expected_version(c.version()),
                     Call(discipline_token, [&](auto* x) { return clue->AcceptClue(x, a, &r); }).ok()) &&
                    (d.set_expected_version(r.clue().version()),
                     Call(discipline_token, [&](auto* x) { return clue->DisposeClue(x, d, &r); }).ok()) &&
                    (k.set_expected_version(r.clue().version()),
                     Call(discipline_token, [&](auto* x) { return clue->ConcludeClue(x, k, &r); }).ok());
    if (!ok) {
      ++errors;
      continue;
    }
    const auto concluded_at = Clock::now();
    concluded.push_back(clue_id);
    std::unique_lock lock(seen.mu);
    if (!seen.cv.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return seen.opened[clue_id].size() >= 2; })) {
      ++timeouts;
      continue;
    }
    check_lag.push_back(Ms(*std::max_element(seen.opened[clue_id].begin(), seen.opened[clue_id].end()) - concluded_at));
  }
  // A moment for late duplicates, then the count of checks per clue (two each, exactly).
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  {
    std::lock_guard lock(seen.mu);
    for (const auto& id : concluded) extra_checks += std::max<int>(0, static_cast<int>(seen.opened[id].size()) - 2);
  }
  sub_ctx.TryCancel();
  reader.join();
  std::printf(
      "{\"phase\":\"accountability\",\"count\":%d,\"rate_per_s\":%.1f,\"errors\":%d,\"timeouts\":%d,"
      "\"extra_checks\":%d,\"refer_n\":%zu,\"refer_lag_p50_ms\":%.1f,\"refer_lag_p99_ms\":%.1f,"
      "\"refer_lag_max_ms\":%.1f,\"checks_n\":%zu,\"checks_lag_p50_ms\":%.1f,\"checks_lag_p99_ms\":%.1f,"
      "\"checks_lag_max_ms\":%.1f}\n",
      count, rate, errors, timeouts, extra_checks, refer_lag.size(), Quantile(refer_lag, 0.5),
      Quantile(refer_lag, 0.99), Quantile(refer_lag, 1.0), check_lag.size(), Quantile(check_lag, 0.5),
      Quantile(check_lag, 0.99), Quantile(check_lag, 1.0));
  return errors == 0 && timeouts == 0 && extra_checks == 0 ? 0 : 1;
}
