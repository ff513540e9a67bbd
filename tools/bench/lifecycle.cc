// sm-bench-lifecycle: whole clue lives through clue-service. `--clients` callers each run
// clues through register → transfer → accept → assign → dispose → conclude, one step after
// the other (each step waits for the previous reply, as a user's would), for `--seconds`.
// Prints one line of JSON: steps and lives completed, steps per second, per-step latency
// (p50/p99 of all steps, and p50 per step), and errors by step and code.
// Talks to 127.0.0.1 only; bounded by --seconds and --max-lives.
#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/auth.h"
#include "common/uuid.h"
#include "supervision/v1/clue.grpc.pb.h"

namespace {

namespace v1 = supervision::v1;
using SteadyClock = std::chrono::steady_clock;

constexpr std::array<const char*, 6> kSteps = {"register", "transfer", "accept", "assign", "dispose", "conclude"};

struct Options {
  std::string target = "127.0.0.1:7102";
  int clients = 32;
  double seconds = 20;
  double warmup_s = 2;
  int64_t max_lives = 1'000'000;
  std::string origin_unit, to_unit, subject_person, handler_person;
};

struct Tally {
  std::array<std::vector<int64_t>, kSteps.size()> us;  // latencies in the measured window
  std::map<std::string, int64_t> errors;               // "step:CODE"
  int64_t lives = 0;
  void Merge(const Tally& o) {
    for (size_t i = 0; i < us.size(); ++i) us[i].insert(us[i].end(), o.us[i].begin(), o.us[i].end());
    for (const auto& [k, v] : o.errors) errors[k] += v;
    lives += o.lives;
  }
};

double Percentile(std::vector<int64_t> v, double q) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return static_cast<double>(v[k]) / 1000.0;
}

class Client {
 public:
  Client(const Options& o, std::shared_ptr<grpc::Channel> channel, std::string origin_token, std::string to_token,
         SteadyClock::time_point measure_from, SteadyClock::time_point end, std::atomic<int64_t>* lives_started)
      : o_(o),
        stub_(v1::ClueService::NewStub(std::move(channel))),
        origin_token_(std::move(origin_token)),
        to_token_(std::move(to_token)),
        measure_from_(measure_from),
        end_(end),
        lives_started_(lives_started) {}

  void Run() {
    while (SteadyClock::now() < end_ && lives_started_->fetch_add(1) < o_.max_lives) Life();
  }
  const Tally& tally() const { return tally_; }

 private:
  // One step: times it and counts it when it started inside the measured window.
  template <typename Req, typename Fn>
  bool Step(size_t step, const std::string& token, const Req& req, v1::ClueReply* reply, Fn rpc) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    const auto t0 = SteadyClock::now();
    grpc::Status s = (stub_.get()->*rpc)(&ctx, req, reply);
    const auto t1 = SteadyClock::now();
    const bool counted = t0 >= measure_from_ && t1 <= end_;
    if (!s.ok()) {
      if (counted) ++tally_.errors[std::string(kSteps[step]) + ":" + std::to_string(s.error_code())];
      return false;
    }
    if (counted) tally_.us[step].push_back(std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count());
    return true;
  }

  void Life() {
    v1::ClueReply r;
    v1::RegisterClueRequest reg;
    reg.set_request_id(sm::NewUuid());
    reg.set_origin_unit_id(o_.origin_unit);
    reg.set_source(v1::CLUE_SOURCE_PETITION);
    reg.set_channel(v1::RECEIPT_CHANNEL_LETTER);
    reg.add_subjects()->set_person_id(o_.subject_person);
    reg.add_categories(v1::CLUE_CATEGORY_WORK);
    reg.set_summary("压测：线索全流程（登记、移交、接收、指定承办人、处置、办结）");
    reg.set_details("压测数据。");
    reg.mutable_reporter()->set_name("李某");
    reg.set_severity(v1::SEVERITY_MEDIUM);
    if (!Step(0, origin_token_, reg, &r, &v1::ClueService::Stub::RegisterClue)) return;
    const std::string id = r.clue().id();

    v1::TransferClueRequest transfer;
    transfer.set_request_id(sm::NewUuid());
    transfer.set_clue_id(id);
    transfer.set_expected_version(r.clue().version());
    transfer.set_to_unit_id(o_.to_unit);
    transfer.set_reason("属地管辖");
    if (!Step(1, origin_token_, transfer, &r, &v1::ClueService::Stub::TransferClue)) return;

    v1::AcceptClueRequest accept;
    accept.set_request_id(sm::NewUuid());
    accept.set_clue_id(id);
    accept.set_expected_version(r.clue().version());
    if (!Step(2, to_token_, accept, &r, &v1::ClueService::Stub::AcceptClue)) return;

    v1::AssignHandlerRequest assign;
    assign.set_request_id(sm::NewUuid());
    assign.set_clue_id(id);
    assign.set_expected_version(r.clue().version());
    assign.set_handler_person_id(o_.handler_person);
    if (!Step(3, to_token_, assign, &r, &v1::ClueService::Stub::AssignHandler)) return;

    v1::DisposeClueRequest dispose;
    dispose.set_request_id(sm::NewUuid());
    dispose.set_clue_id(id);
    dispose.set_expected_version(r.clue().version());
    dispose.set_method(v1::DISPOSITION_METHOD_TALK_OR_LETTER);
    if (!Step(4, to_token_, dispose, &r, &v1::ClueService::Stub::DisposeClue)) return;

    v1::ConcludeClueRequest conclude;
    conclude.set_request_id(sm::NewUuid());
    conclude.set_clue_id(id);
    conclude.set_expected_version(r.clue().version());
    conclude.set_form(v1::SUPERVISION_FORM_1);
    conclude.set_feedback("谈话提醒，已办结。");
    if (!Step(5, to_token_, conclude, &r, &v1::ClueService::Stub::ConcludeClue)) return;
    if (SteadyClock::now() >= measure_from_) ++tally_.lives;
  }

  const Options& o_;
  std::unique_ptr<v1::ClueService::Stub> stub_;
  std::string origin_token_, to_token_;
  SteadyClock::time_point measure_from_, end_;
  std::atomic<int64_t>* lives_started_;
  Tally tally_;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"sm-bench-lifecycle: clue lives (register → transfer → accept → assign → dispose → conclude)"};
  app.add_option("--target", o.target, "clue-service address (127.0.0.1 only)");
  app.add_option("--clients", o.clients, "callers, each running one clue at a time")->check(CLI::Range(1, 256));
  app.add_option("--seconds", o.seconds, "measured run length")->check(CLI::Range(1.0, 600.0));
  app.add_option("--warmup-s", o.warmup_s, "not counted at the start")->check(CLI::Range(0.0, 60.0));
  app.add_option("--max-lives", o.max_lives, "at most this many clues");
  app.add_option("--origin-unit", o.origin_unit, "registering unit id (its discipline staff register and transfer)")
      ->required();
  app.add_option("--to-unit", o.to_unit, "receiving unit id (accepts, assigns, disposes, concludes)")->required();
  app.add_option("--subject-person", o.subject_person, "the clues' subject")->required();
  app.add_option("--handler-person", o.handler_person, "a person of the receiving unit, not in the subject's chain")
      ->required();
  CLI11_PARSE(app, argc, argv);
  if (o.target.rfind("127.0.0.1:", 0) != 0) {
    std::fprintf(stderr, "sm-bench-lifecycle: --target must be on 127.0.0.1\n");
    return 2;
  }
  auto mint = [](const std::string& user, const std::string& unit) {
    return *sm::auth::Mint(sm::auth::DevelopmentMint(
        sm::auth::Principal{.user = user, .unit = unit, .roles = {"discipline"}, .clearance = 1}));
  };
  const std::string origin_token = mint("bench-origin", o.origin_unit);
  const std::string to_token = mint("bench-receiver", o.to_unit);
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel = grpc::CreateCustomChannel(o.target, grpc::InsecureChannelCredentials(), args);

  const auto start = SteadyClock::now();
  const auto measure_from = start + std::chrono::milliseconds(static_cast<int64_t>(o.warmup_s * 1000));
  const auto end = measure_from + std::chrono::milliseconds(static_cast<int64_t>(o.seconds * 1000));
  std::atomic<int64_t> lives_started{0};
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<std::thread> threads;
  for (int i = 0; i < o.clients; ++i) {
    clients.push_back(std::make_unique<Client>(o, channel, origin_token, to_token, measure_from, end, &lives_started));
  }
  for (auto& c : clients) threads.emplace_back([&c] { c->Run(); });
  for (auto& t : threads) t.join();

  Tally all;
  for (const auto& c : clients) all.Merge(c->tally());
  std::vector<int64_t> every;
  int64_t steps = 0;
  std::string per_step;
  for (size_t i = 0; i < kSteps.size(); ++i) {
    steps += static_cast<int64_t>(all.us[i].size());
    every.insert(every.end(), all.us[i].begin(), all.us[i].end());
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s\"%s\":%.2f", per_step.empty() ? "" : ",", kSteps[i], Percentile(all.us[i], 0.5));
    per_step += buf;
  }
  std::string errors;
  int64_t error_count = 0;
  for (const auto& [k, v] : all.errors) {
    errors += (errors.empty() ? "\"" : ",\"") + k + "\":" + std::to_string(v);
    error_count += v;
  }
  std::printf(
      "{\"phase\":\"lifecycle\",\"clients\":%d,\"seconds\":%.1f,\"steps\":%lld,\"lives\":%lld,\"steps_per_s\":%.1f,"
      "\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"p50_ms_by_step\":{%s},\"errors\":{%s}}\n",
      o.clients, o.seconds, static_cast<long long>(steps), static_cast<long long>(all.lives),
      static_cast<double>(steps) / o.seconds, Percentile(every, 0.5), Percentile(every, 0.99), per_step.c_str(),
      errors.c_str());
  return error_count == 0 && steps > 0 ? 0 : 1;
}
