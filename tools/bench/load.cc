// sm-bench: a closed-loop load generator for clue-service over the gRPC async
// (CompletionQueue) client API. `--concurrency` calls are kept in flight: each completion
// starts the next call in its slot until the run ends. Calls that complete during the
// warm-up are not counted; calls still in flight when the run ends are drained and dropped.
// Prints one line of JSON (see docs/PERFORMANCE.md):
//   {"rpc":..., "concurrency":..., "seconds":..., "calls":..., "ok":..., "errors":{CODE:n},
//    "throughput_per_s":..., "p50_ms":..., "p99_ms":..., "p999_ms":..., ...}
// Latency percentiles and throughput cover successful calls only; errors are counted by code.
// Talks to 127.0.0.1 only; the run is bounded by --duration-s and --max-calls.
#include <CLI/CLI.hpp>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/auth.h"
#include "common/uuid.h"
#include "supervision/v1/clue.grpc.pb.h"

namespace {

namespace v1 = supervision::v1;
using SteadyClock = std::chrono::steady_clock;

// Log-linear latency histogram in microseconds (HdrHistogram-like): values below 128 µs
// are exact, above that 64 sub-buckets per power of two (< 1.6 % relative error). Fixed
// memory (2,752 counters) whatever the run length.
class Histogram {
 public:
  void Record(int64_t us) {
    if (us < 0) us = 0;
    ++counts_[Index(static_cast<uint64_t>(us))];
    ++total_;
    sum_us_ += static_cast<double>(us);
    max_us_ = std::max(max_us_, us);
  }
  void Merge(const Histogram& o) {
    for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += o.counts_[i];
    total_ += o.total_;
    sum_us_ += o.sum_us_;
    max_us_ = std::max(max_us_, o.max_us_);
  }
  uint64_t total() const { return total_; }
  double MeanMs() const { return total_ ? sum_us_ / static_cast<double>(total_) / 1000.0 : 0.0; }
  double MaxMs() const { return static_cast<double>(max_us_) / 1000.0; }
  // The value at quantile q (0..1), in ms: the midpoint of the bucket holding it.
  double PercentileMs(double q) const {
    if (total_ == 0) return 0.0;
    const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(q * static_cast<double>(total_) + 0.5));
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) {
        auto [lo, hi] = Range(i);
        return std::min(static_cast<double>(max_us_), (static_cast<double>(lo) + static_cast<double>(hi)) / 2.0) /
               1000.0;
      }
    }
    return MaxMs();
  }

 private:
  static constexpr int kSubBits = 6;                  // 64 sub-buckets per power of two
  static constexpr uint64_t kExact = 2u << kSubBits;  // 0..127 exact
  static constexpr int kMaxShift = 41;                // up to ~2^48 µs
  static size_t Index(uint64_t v) {
    if (v < kExact) return static_cast<size_t>(v);
    int shift = static_cast<int>(std::bit_width(v)) - (kSubBits + 1);
    if (shift > kMaxShift) {
      shift = kMaxShift;
      v = (kExact << kMaxShift) - 1;
    }
    const uint64_t sub = v >> shift;  // in [64, 128)
    return static_cast<size_t>(kExact + static_cast<uint64_t>(shift - 1) * (kExact / 2) + (sub - kExact / 2));
  }
  static std::pair<uint64_t, uint64_t> Range(size_t i) {
    if (i < kExact) return {i, i};
    const uint64_t k = i - kExact;
    const int shift = static_cast<int>(k / (kExact / 2)) + 1;
    const uint64_t sub = k % (kExact / 2) + kExact / 2;
    return {sub << shift, ((sub + 1) << shift) - 1};
  }
  std::array<uint64_t, kExact + (kMaxShift) * (kExact / 2)> counts_{};
  uint64_t total_ = 0;
  double sum_us_ = 0;
  int64_t max_us_ = 0;
};

// health: grpc.health.v1.Health/Check for the whole server (no token, no handler of ours):
// what gRPC itself costs per call on the target.
enum class Rpc { kRegister = 0, kStats = 1, kList = 2, kGet = 3, kHealth = 4 };
constexpr std::array<const char*, 5> kRpcNames = {"register", "stats", "list", "get", "health"};

struct Options {
  std::string target = "127.0.0.1:7102";
  int concurrency = 16;
  int threads = 1;
  int channels = 1;
  double duration_s = 10;
  double warmup_s = 2;
  int64_t max_calls = 10'000'000;
  int timeout_ms = 10'000;
  std::string rpc = "register";
  std::string token;
  std::string user = "sm-bench";
  std::string token_unit;
  std::vector<std::string> roles;
  int clearance = 1;
  std::string origin_unit;
  std::string subject_person;
  std::string unit;
  int page_size = 50;
  std::vector<std::string> clue_ids;
  uint64_t seed = 0;
  std::string save_reply;
};

struct Stats {
  Histogram latency;  // successful calls in the measured window
  uint64_t ok = 0;
  std::map<std::string, uint64_t> errors;  // by status code name, measured window
  uint64_t warmup_calls = 0;
  uint64_t warmup_errors = 0;
  void Merge(const Stats& o) {
    latency.Merge(o.latency);
    ok += o.ok;
    for (const auto& [k, v] : o.errors) errors[k] += v;
    warmup_calls += o.warmup_calls;
    warmup_errors += o.warmup_errors;
  }
};

const char* CodeName(grpc::StatusCode c) {
  switch (c) {
    case grpc::OK: return "OK";
    case grpc::CANCELLED: return "CANCELLED";
    case grpc::UNKNOWN: return "UNKNOWN";
    case grpc::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::NOT_FOUND: return "NOT_FOUND";
    case grpc::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::ABORTED: return "ABORTED";
    case grpc::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::INTERNAL: return "INTERNAL";
    case grpc::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::DATA_LOSS: return "DATA_LOSS";
    case grpc::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "OTHER";
  }
}

// Clue ids for GetClue: seeded from --clue-id / a first ListClues page, grown by the ids
// RegisterClue returns (a bounded ring).
class IdPool {
 public:
  static constexpr size_t kCap = 100'000;
  void Add(std::string id) {
    std::lock_guard lock(mu_);
    if (ids_.size() < kCap) {
      ids_.push_back(std::move(id));
    } else {
      ids_[next_++ % kCap] = std::move(id);
    }
  }
  std::string Pick(std::mt19937_64& rng) {
    std::lock_guard lock(mu_);
    if (ids_.empty()) return "";
    return ids_[rng() % ids_.size()];
  }
  size_t size() {
    std::lock_guard lock(mu_);
    return ids_.size();
  }

 private:
  std::mutex mu_;
  std::vector<std::string> ids_;
  size_t next_ = 0;
};

struct Shared {
  const Options* opts = nullptr;
  std::string auth_header;
  std::string run_id;  // request ids: run_id + "-" + counter
  std::vector<std::pair<Rpc, int>> mix;
  int mix_total = 0;
  IdPool ids;
  std::atomic<int64_t> started{0};
  std::mutex reply_mu;
  std::string stats_reply;  // --save-reply: the serialized ClueStats of one successful call
  SteadyClock::time_point measure_from, end;
};

struct CallBase {
  virtual ~CallBase() = default;
  // Called once the call has finished (status set).
  virtual void Done(Shared&) {}
  Rpc rpc = Rpc::kRegister;
  grpc::ClientContext ctx;
  grpc::Status status;
  SteadyClock::time_point start;
};

template <typename Resp>
struct Call : CallBase {
  Resp resp;
  std::unique_ptr<grpc::ClientAsyncResponseReader<Resp>> reader;
};

struct StatsCall : Call<v1::ClueStats> {
  void Done(Shared& sh) override {
    if (!status.ok() || sh.opts->save_reply.empty()) return;
    std::lock_guard lock(sh.reply_mu);
    if (sh.stats_reply.empty()) sh.stats_reply = resp.SerializeAsString();
  }
};

struct RegisterCall : Call<v1::ClueReply> {
  void Done(Shared& sh) override {
    if (status.ok() && !resp.clue().id().empty()) sh.ids.Add(resp.clue().id());
  }
};

class Worker {
 public:
  Worker(Shared* sh, int index, std::shared_ptr<grpc::Channel> channel, int slots, uint64_t seed)
      : sh_(sh), index_(index), stub_(v1::ClueService::NewStub(channel)), generic_(channel), slots_(slots), rng_(seed) {
    per_rpc_.resize(kRpcNames.size());
  }

  void Run() {
    int in_flight = 0;
    for (int i = 0; i < slots_; ++i) {
      if (StartOne()) ++in_flight;
    }
    void* tag = nullptr;
    bool ok = false;
    while (in_flight > 0 && cq_.Next(&tag, &ok)) {
      std::unique_ptr<CallBase> call(static_cast<CallBase*>(tag));
      const auto now = SteadyClock::now();
      call->Done(*sh_);
      Account(*call, now);
      --in_flight;
      if (now < sh_->end && StartOne()) ++in_flight;
    }
    cq_.Shutdown();
    while (cq_.Next(&tag, &ok)) delete static_cast<CallBase*>(tag);
  }

  const std::vector<Stats>& per_rpc() const { return per_rpc_; }
  const std::map<std::string, std::string>& first_errors() const { return first_errors_; }

 private:
  Rpc Choose() {
    if (sh_->mix.size() == 1) return sh_->mix[0].first;
    int r = static_cast<int>(rng_() % static_cast<uint64_t>(sh_->mix_total));
    for (const auto& [rpc, w] : sh_->mix) {
      if (r < w) return rpc;
      r -= w;
    }
    return sh_->mix.back().first;
  }

  void Prepare(CallBase& c) {
    c.ctx.AddMetadata("authorization", sh_->auth_header);
    c.ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(sh_->opts->timeout_ms));
    c.start = SteadyClock::now();
  }

  bool StartOne() {
    if (sh_->started.fetch_add(1) >= sh_->opts->max_calls) return false;
    const Options& o = *sh_->opts;
    const Rpc rpc = Choose();
    switch (rpc) {
      case Rpc::kRegister: {
        auto* c = new RegisterCall;
        c->rpc = rpc;
        const int64_t n = ++counter_;
        v1::RegisterClueRequest req;
        req.set_request_id(sh_->run_id + "-" + std::to_string(index_) + "-" + std::to_string(n));
        req.set_origin_unit_id(o.origin_unit);
        req.set_source(v1::CLUE_SOURCE_PETITION);
        req.set_channel(v1::RECEIPT_CHANNEL_LETTER);
        req.add_subjects()->set_person_id(o.subject_person);
        req.add_categories(v1::CLUE_CATEGORY_WORK);
        req.add_categories(v1::CLUE_CATEGORY_ALCOHOL);
        req.set_summary("压测：反映城郊派出所民警工作日午间饮酒（第" + std::to_string(n) + "件）");
        req.set_details("举报信称：某日中午在辖区饭店饮酒后返岗。压测数据，编号 " + std::to_string(n) + "。");
        req.mutable_reporter()->set_name("李某");
        req.mutable_reporter()->set_contact("139-0000-0000");
        req.set_severity(v1::SEVERITY_MEDIUM);
        Prepare(*c);
        c->reader = stub_->PrepareAsyncRegisterClue(&c->ctx, req, &cq_);
        c->reader->StartCall();
        c->reader->Finish(&c->resp, &c->status, c);
        return true;
      }
      case Rpc::kStats: {
        auto* c = new StatsCall;
        c->rpc = rpc;
        v1::GetClueStatsRequest req;
        req.set_unit_id(o.unit);
        Prepare(*c);
        c->reader = stub_->PrepareAsyncGetClueStats(&c->ctx, req, &cq_);
        c->reader->StartCall();
        c->reader->Finish(&c->resp, &c->status, c);
        return true;
      }
      case Rpc::kList: {
        auto* c = new Call<v1::ListCluesResponse>;
        c->rpc = rpc;
        v1::ListCluesRequest req;
        req.set_holding_unit_id(o.unit);
        req.set_page_size(o.page_size);
        Prepare(*c);
        c->reader = stub_->PrepareAsyncListClues(&c->ctx, req, &cq_);
        c->reader->StartCall();
        c->reader->Finish(&c->resp, &c->status, c);
        return true;
      }
      case Rpc::kGet: {
        auto* c = new Call<v1::Clue>;
        c->rpc = rpc;
        v1::GetClueRequest req;
        req.set_clue_id(sh_->ids.Pick(rng_));
        Prepare(*c);
        c->reader = stub_->PrepareAsyncGetClue(&c->ctx, req, &cq_);
        c->reader->StartCall();
        c->reader->Finish(&c->resp, &c->status, c);
        return true;
      }
      case Rpc::kHealth: {
        // HealthCheckRequest{service: ""}, the whole server, written out (field 1, length 0):
        // an empty buffer reaches the server as no message at all.
        auto* c = new Call<grpc::ByteBuffer>;
        c->rpc = rpc;
        static constexpr char kWholeServer[] = {0x0a, 0x00};
        grpc::Slice slice(kWholeServer, sizeof kWholeServer);
        grpc::ByteBuffer req(&slice, 1);
        Prepare(*c);
        c->reader = generic_.PrepareUnaryCall(&c->ctx, "/grpc.health.v1.Health/Check", req, &cq_);
        c->reader->StartCall();
        c->reader->Finish(&c->resp, &c->status, c);
        return true;
      }
    }
    return false;
  }

  void Account(const CallBase& c, SteadyClock::time_point now) {
    Stats& s = per_rpc_[static_cast<size_t>(c.rpc)];
    const bool ok = c.status.ok();
    if (!ok && first_errors_.size() < 16) {
      first_errors_.emplace(CodeName(c.status.error_code()), c.status.error_message());
    }
    if (now < sh_->measure_from || now >= sh_->end) {
      ++s.warmup_calls;
      if (!ok) ++s.warmup_errors;
      return;
    }
    if (ok) {
      ++s.ok;
      s.latency.Record(std::chrono::duration_cast<std::chrono::microseconds>(now - c.start).count());
    } else {
      ++s.errors[CodeName(c.status.error_code())];
    }
  }

  Shared* sh_;
  int index_;
  std::unique_ptr<v1::ClueService::Stub> stub_;
  grpc::GenericStub generic_;
  grpc::CompletionQueue cq_;
  int slots_;
  std::mt19937_64 rng_;
  int64_t counter_ = 0;
  std::vector<Stats> per_rpc_;
  std::map<std::string, std::string> first_errors_;
};

std::vector<std::pair<Rpc, int>> ParseMix(const std::string& spec) {
  std::vector<std::pair<Rpc, int>> out;
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t comma = spec.find(',', pos);
    std::string item = spec.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    int weight = 1;
    if (size_t eq = item.find('='); eq != std::string::npos) {
      try {
        weight = std::stoi(item.substr(eq + 1));
      } catch (const std::exception&) {
        throw CLI::ValidationError("--rpc", "bad weight in '" + item + "'");
      }
      item = item.substr(0, eq);
    }
    if (weight < 1 || weight > 1000) throw CLI::ValidationError("--rpc", "weights are 1..1000");
    auto it = std::find(kRpcNames.begin(), kRpcNames.end(), item);
    if (it == kRpcNames.end())
      throw CLI::ValidationError("--rpc", "unknown rpc '" + item + "' (register|stats|list|get|health)");
    out.emplace_back(static_cast<Rpc>(it - kRpcNames.begin()), weight);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

bool LoopbackTarget(const std::string& target) {
  std::string t = target;
  if (t.rfind("ipv4:", 0) == 0) t = t.substr(5);
  const size_t colon = t.rfind(':');
  if (colon == std::string::npos) return false;
  const std::string host = t.substr(0, colon);
  return host == "127.0.0.1" || host == "localhost";
}

nlohmann::json Summary(const Stats& s, double seconds) {
  nlohmann::json j;
  uint64_t errors = 0;
  for (const auto& [k, v] : s.errors) errors += v;
  j["calls"] = s.ok + errors;
  j["ok"] = s.ok;
  j["errors"] = s.errors;
  j["errors_total"] = errors;
  j["throughput_per_s"] = seconds > 0 ? static_cast<double>(s.ok) / seconds : 0.0;
  auto round3 = [](double v) { return static_cast<double>(static_cast<int64_t>(v * 1000.0 + 0.5)) / 1000.0; };
  j["p50_ms"] = round3(s.latency.PercentileMs(0.50));
  j["p90_ms"] = round3(s.latency.PercentileMs(0.90));
  j["p99_ms"] = round3(s.latency.PercentileMs(0.99));
  j["p999_ms"] = round3(s.latency.PercentileMs(0.999));
  j["mean_ms"] = round3(s.latency.MeanMs());
  j["max_ms"] = round3(s.latency.MaxMs());
  j["warmup_calls"] = s.warmup_calls;
  j["warmup_errors"] = s.warmup_errors;
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"sm-bench: closed-loop gRPC load generator for clue-service (127.0.0.1 only)"};
  app.add_option("--target", o.target, "clue-service address, 127.0.0.1:PORT");
  app.add_option("--concurrency", o.concurrency, "calls kept in flight")->check(CLI::Range(1, 4096));
  app.add_option("--threads", o.threads, "completion-queue threads")->check(CLI::Range(1, 16));
  app.add_option("--channels", o.channels, "separate HTTP/2 connections")->check(CLI::Range(1, 64));
  app.add_option("--duration-s", o.duration_s, "measured seconds (after the warm-up)")->check(CLI::Range(0.1, 3600.0));
  app.add_option("--warmup-s", o.warmup_s, "seconds of load before measuring")->check(CLI::Range(0.0, 600.0));
  app.add_option("--max-calls", o.max_calls, "stop starting calls after this many")
      ->check(CLI::Range(int64_t{1}, int64_t{1'000'000'000}));
  app.add_option("--timeout-ms", o.timeout_ms, "per-call deadline")->check(CLI::Range(10, 600'000));
  app.add_option("--rpc", o.rpc, "register|stats|list|get|health, or a weighted mix like register=80,get=20");
  app.add_option("--token", o.token, "bearer token (default: mint one with the development secret)");
  app.add_option("--user", o.user, "minted token: subject");
  app.add_option("--token-unit", o.token_unit, "minted token: unit claim (default: --origin-unit, else --unit)");
  app.add_option("--role", o.roles, "minted token: role (repeat; default by rpc)");
  app.add_option("--clearance", o.clearance, "minted token: clearance 0-3")->check(CLI::Range(0, 3));
  app.add_option("--origin-unit", o.origin_unit, "register: origin unit id (the token's unit)");
  app.add_option("--subject-person", o.subject_person, "register: subject person id");
  app.add_option("--unit", o.unit, "stats: scope unit_id; list: holding_unit_id filter (empty: none)");
  app.add_option("--page-size", o.page_size, "list: page_size")->check(CLI::Range(1, 500));
  app.add_option("--clue-id", o.clue_ids, "get: clue ids to read (repeat; default: a first ListClues page)");
  app.add_option("--seed", o.seed, "random seed (0: from the clock)");
  app.add_option("--save-reply", o.save_reply, "stats: write one successful reply (serialized ClueStats) here");
  CLI11_PARSE(app, argc, argv);

  Shared sh;
  sh.opts = &o;
  try {
    sh.mix = ParseMix(o.rpc);
  } catch (const CLI::Error& e) {
    app.exit(e);
    return 2;
  }
  for (const auto& [rpc, w] : sh.mix) sh.mix_total += w;
  auto uses = [&](Rpc r) {
    return std::any_of(sh.mix.begin(), sh.mix.end(), [r](const auto& m) { return m.first == r; });
  };
  if (!LoopbackTarget(o.target)) {
    std::fprintf(stderr, "sm-bench: --target must be 127.0.0.1:PORT or localhost:PORT\n");
    return 2;
  }
  if (uses(Rpc::kRegister) && (o.origin_unit.empty() || o.subject_person.empty())) {
    std::fprintf(stderr, "sm-bench: register needs --origin-unit and --subject-person\n");
    return 2;
  }

  std::string token = o.token;
  if (token.empty()) {
    sm::auth::MintRequest m = sm::auth::DevelopmentMint(sm::auth::Principal{});
    m.principal.user = o.user;
    m.principal.unit = !o.token_unit.empty() ? o.token_unit : !o.origin_unit.empty() ? o.origin_unit : o.unit;
    m.principal.clearance = o.clearance;
    m.principal.roles = o.roles;
    if (m.principal.roles.empty()) {
      // The least role that may make every call of the mix.
      if (uses(Rpc::kRegister) || uses(Rpc::kGet)) m.principal.roles.push_back("discipline");
      if (uses(Rpc::kList)) m.principal.roles.push_back("oversight");
      if (uses(Rpc::kStats) && m.principal.roles.empty()) m.principal.roles.push_back("dashboard");
    }
    m.ttl = std::chrono::hours(2);
    auto minted = sm::auth::Mint(m);
    if (!minted.ok()) {
      std::fprintf(stderr, "sm-bench: cannot mint a token: %s\n", std::string(minted.status().message()).c_str());
      return 1;
    }
    token = *minted;
  }
  sh.auth_header = "Bearer " + token;
  sh.run_id = "bench-" + sm::NewRandomUuid().substr(0, 8);

  // Separate connections: a distinct channel argument keeps gRPC from sharing subchannels.
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < o.channels; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("sm.bench.channel", i);
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetMaxReceiveMessageSize(64 << 20);
    auto ch = grpc::CreateCustomChannel(o.target, grpc::InsecureChannelCredentials(), args);
    if (!ch->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(5))) {
      std::fprintf(stderr, "sm-bench: cannot connect to %s\n", o.target.c_str());
      return 1;
    }
    channels.push_back(std::move(ch));
  }

  for (const auto& id : o.clue_ids) sh.ids.Add(id);
  if (uses(Rpc::kGet) && sh.ids.size() == 0) {
    auto stub = v1::ClueService::NewStub(channels[0]);
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", sh.auth_header);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::ListCluesRequest req;
    req.set_page_size(500);
    v1::ListCluesResponse resp;
    grpc::Status st = stub->ListClues(&ctx, req, &resp);
    if (!st.ok()) {
      std::fprintf(stderr, "sm-bench: seeding clue ids with ListClues failed: %s %s\n", CodeName(st.error_code()),
                   st.error_message().c_str());
    }
    for (const auto& c : resp.clues()) sh.ids.Add(c.id());
    if (sh.ids.size() == 0 && !uses(Rpc::kRegister)) {
      std::fprintf(stderr, "sm-bench: get needs clue ids: --clue-id, or a token that can list some\n");
      return 1;
    }
  }

  const uint64_t seed = o.seed ? o.seed : static_cast<uint64_t>(SteadyClock::now().time_since_epoch().count());
  const auto t0 = SteadyClock::now();
  sh.measure_from = t0 + std::chrono::microseconds(static_cast<int64_t>(o.warmup_s * 1e6));
  sh.end = sh.measure_from + std::chrono::microseconds(static_cast<int64_t>(o.duration_s * 1e6));

  const int threads = std::min(o.threads, o.concurrency);
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < threads; ++t) {
    const int slots = o.concurrency / threads + (t < o.concurrency % threads ? 1 : 0);
    workers.push_back(std::make_unique<Worker>(&sh, t, channels[static_cast<size_t>(t) % channels.size()], slots,
                                               seed + static_cast<uint64_t>(t) * 7919));
  }
  std::vector<std::thread> running;
  for (auto& w : workers) running.emplace_back([&w] { w->Run(); });
  for (auto& t : running) t.join();
  const auto finished = SteadyClock::now();

  // Measured seconds: the window, cut short when --max-calls ended the run early.
  const auto window_end = std::min(finished, sh.end);
  const double seconds = std::max(0.0, std::chrono::duration<double>(window_end - sh.measure_from).count());
  std::vector<Stats> per(kRpcNames.size());
  Stats all;
  std::map<std::string, std::string> first_errors;
  for (const auto& w : workers) {
    for (size_t i = 0; i < per.size(); ++i) per[i].Merge(w->per_rpc()[i]);
    for (const auto& [k, v] : w->first_errors()) first_errors.emplace(k, v);
  }
  for (const auto& s : per) all.Merge(s);

  nlohmann::json out;
  out["rpc"] = o.rpc;
  out["target"] = o.target;
  out["concurrency"] = o.concurrency;
  out["seconds"] = static_cast<double>(static_cast<int64_t>(seconds * 1000.0 + 0.5)) / 1000.0;
  out["warmup_s"] = o.warmup_s;
  out.update(Summary(all, seconds));
  if (sh.mix.size() > 1) {
    nlohmann::json by;
    for (const auto& [rpc, w] : sh.mix)
      by[kRpcNames[static_cast<size_t>(rpc)]] = Summary(per[static_cast<size_t>(rpc)], seconds);
    out["per_rpc"] = by;
  }
  if (!first_errors.empty()) out["error_samples"] = first_errors;
  // The load generator's own CPU (it shares the machine with what it measures).
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) == 0) {
    const double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                       static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    out["client_cpu_s"] = static_cast<double>(static_cast<int64_t>(cpu * 1000.0 + 0.5)) / 1000.0;
  }
  if (!o.save_reply.empty()) {
    std::ofstream f(o.save_reply, std::ios::binary | std::ios::trunc);
    f << sh.stats_reply;
    out["reply_bytes"] = sh.stats_reply.size();
    if (!f || sh.stats_reply.empty()) {
      std::fprintf(stderr, "sm-bench: no stats reply written to %s\n", o.save_reply.c_str());
      return 1;
    }
  }
  std::cout << out.dump() << std::endl;
  return all.ok > 0 ? 0 : 1;
}
