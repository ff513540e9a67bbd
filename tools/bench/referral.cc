// sm-bench-referral: end-to-end referral load. `--threads` callers each add a finding and
// refer it (AuditService.AddFinding + ReferFinding) in a loop for `--seconds`; then the tool
// waits (bounded) until audit-service's outbox has delivered every referral to
// clue-service, and prints one JSON line: referrals made, end-to-end throughput (delivered
// referrals per second from the first referral to the last delivery) and the delivery lag
// (outbox row created → delivered) at p50/p99/max, read from PostgreSQL.
// Talks only to the given loopback addresses; loops bounded in time.
#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/auth.h"
#include "common/db/pool.h"
#include "common/uuid.h"
#include "supervision/v1/audit.grpc.pb.h"

namespace v1 = ::supervision::v1;

int main(int argc, char** argv) {
  CLI::App app{"sm-bench-referral: finding → clue referral throughput and delivery lag"};
  std::string target = "127.0.0.1:7103", engagement, unit, to_unit, auditor_unit, pg_host = "127.0.0.1";
  int threads = 8, seconds = 20, pg_port = 5432, wait_s = 120;
  app.add_option("--target", target, "audit-service host:port");
  app.add_option("--engagement", engagement, "engagement id (findings are added to it)")->required();
  app.add_option("--auditor-unit", auditor_unit, "the engagement's audit unit id (token unit)")->required();
  app.add_option("--unit", unit, "responsible unit id of the findings")->required();
  app.add_option("--to-unit", to_unit, "discipline unit id the findings are referred to")->required();
  app.add_option("--threads", threads, "concurrent callers")->check(CLI::Range(1, 256));
  app.add_option("--seconds", seconds, "load duration")->check(CLI::Range(1, 600));
  app.add_option("--wait-s", wait_s, "how long to wait for the outbox to drain")->check(CLI::Range(1, 1800));
  app.add_option("--pg-port", pg_port, "PostgreSQL port (superuser postgres, database supervision)");
  CLI11_PARSE(app, argc, argv);

  const std::string token = *sm::auth::Mint(sm::auth::DevelopmentMint(
      sm::auth::Principal{.user = "bench-auditor", .unit = auditor_unit, .roles = {"auditor"}}));
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());

  std::atomic<int64_t> referred{0}, errors{0};
  std::mutex codes_mu;
  std::map<std::string, int64_t> error_codes;  // "<rpc>:<code>" -> count
  auto failed = [&](const char* rpc, const grpc::Status& s) {
    ++errors;
    std::lock_guard lock(codes_mu);
    ++error_codes[std::string(rpc) + ":" + std::to_string(s.error_code()) + ":" + s.error_message().substr(0, 60)];
  };
  const auto start_wall = std::chrono::system_clock::now();
  const auto stop_at = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      auto stub = v1::AuditService::NewStub(channel);
      while (std::chrono::steady_clock::now() < stop_at) {
        v1::AddFindingRequest add;
        add.set_request_id(sm::NewUuid());
        add.set_engagement_id(engagement);
        add.set_title("基准测试：超标准列支费用");
        add.set_description("bench finding");
        add.set_category(v1::FINDING_CATEGORY_FINANCIAL_DISCIPLINE);
        add.set_amount_fen(123456);
        add.set_severity(v1::SEVERITY_MEDIUM);
        add.set_responsible_unit_id(unit);
        v1::FindingReply f;
        grpc::ClientContext c1;
        c1.AddMetadata("authorization", "Bearer " + token);
        c1.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        if (grpc::Status s = stub->AddFinding(&c1, add, &f); !s.ok()) {
          failed("add", s);
          continue;
        }
        v1::ReferFindingRequest refer;
        refer.set_request_id(sm::NewUuid());
        refer.set_finding_id(f.finding().id());
        refer.set_expected_version(f.finding().version());
        refer.set_to_unit_id(to_unit);
        v1::FindingReply r;
        grpc::ClientContext c2;
        c2.AddMetadata("authorization", "Bearer " + token);
        c2.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        if (grpc::Status s = stub->ReferFinding(&c2, refer, &r); s.ok())
          ++referred;
        else
          failed("refer", s);
      }
    });
  }
  for (auto& w : workers) w.join();
  const double load_s = std::chrono::duration<double>(std::chrono::system_clock::now() - start_wall).count();

  sm::db::PoolConfig pc;
  pc.host = pg_host;
  pc.port = pg_port;
  pc.user = "postgres";
  pqxx::connection conn(sm::db::ConnectionString(pc));
  const std::string since =
      std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(start_wall.time_since_epoch()).count());
  const std::string window =
      " FROM audit.outbox WHERE created_at >= 'epoch'::timestamptz + " + since + " * interval '1 microsecond'";
  const auto wait_until = std::chrono::steady_clock::now() + std::chrono::seconds(wait_s);
  int64_t pending = 0;
  do {
    pqxx::nontransaction tx(conn);
    pending = tx.exec1("SELECT count(*)" + window + " AND state = 'pending'")[0].as<int64_t>();
    if (pending == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  } while (std::chrono::steady_clock::now() < wait_until);
  pqxx::nontransaction tx(conn);
  auto r = tx.exec1(
      "SELECT count(*) FILTER (WHERE state = 'delivered'), count(*) FILTER (WHERE state = 'dead'), "
      "coalesce(extract(epoch FROM max(delivered_at) - min(created_at)), 0)::float8, "
      "coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM delivered_at - created_at)), "
      "0)::float8, "
      "coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM delivered_at - created_at)), "
      "0)::float8, "
      "coalesce(max(extract(epoch FROM delivered_at - created_at)), 0)::float8" +
      window);
  const int64_t delivered = r[0].as<int64_t>();
  const double span = r[2].as<double>();
  std::printf(
      "{\"phase\":\"referral\",\"threads\":%d,\"load_seconds\":%.1f,\"referred\":%lld,\"errors\":%lld,"
      "\"delivered\":%lld,\"dead\":%lld,\"pending_after_wait\":%lld,\"referrals_per_s\":%.1f,"
      "\"end_to_end_per_s\":%.1f,\"lag_p50_ms\":%.1f,\"lag_p99_ms\":%.1f,\"lag_max_ms\":%.1f}\n",
      threads, load_s, static_cast<long long>(referred.load()), static_cast<long long>(errors.load()),
      static_cast<long long>(delivered), static_cast<long long>(r[1].as<int64_t>()), static_cast<long long>(pending),
      referred.load() / load_s, span > 0 ? delivered / span : 0.0, r[3].as<double>() * 1000, r[4].as<double>() * 1000,
      r[5].as<double>() * 1000);
  for (const auto& [what, n] : error_codes) {
    std::fprintf(stderr, "[bench-referral] failed calls %s: %lld\n", what.c_str(), static_cast<long long>(n));
  }
  return pending == 0 && r[1].as<int64_t>() == 0 ? 0 : 1;
}
