#include "common/metrics.h"

#include <httplib.h>
#include <openssl/crypto.h>
#include <prometheus/text_serializer.h>

#include "common/crypto.h"
#include "common/status.h"

namespace sm::metrics {

Metrics& Metrics::Global() {
  static Metrics* m = new Metrics();
  return *m;
}

namespace {
std::shared_ptr<prometheus::Registry> NewRegistry() { return std::make_shared<prometheus::Registry>(); }
}  // namespace

Metrics::Metrics() : Metrics(NewRegistry()) {}

// Delegating constructor kept private in the .cc: families are bound to one registry.
Metrics::Metrics(std::shared_ptr<prometheus::Registry> r)
    : db_pool(prometheus::BuildGauge()
                  .Name("sm_db_pool_connections")
                  .Help("Database pool connections by state (size, in_use, idle)")
                  .Register(*r)),
      db_events(prometheus::BuildCounter()
                    .Name("sm_db_pool_events_total")
                    .Help("Database pool events: acquire_timeout, reconnect, broken")
                    .Register(*r)),
      redis_up(prometheus::BuildGauge()
                   .Name("sm_redis_up")
                   .Help("1 when the last Redis command succeeded, 0 when Redis is unreachable")
                   .Register(*r)),
      redis_errors(prometheus::BuildCounter()
                       .Name("sm_redis_errors_total")
                       .Help("Redis commands that failed (the caller fell back to PostgreSQL)")
                       .Register(*r)),
      cache_requests(
          prometheus::BuildCounter()
              .Name("sm_cache_requests_total")
              .Help("Cache lookups by cache and result (local_hit, local_stale, hit, shared_wait, miss, error)")
              .Register(*r)),
      batch_size(prometheus::BuildHistogram()
                     .Name("sm_batch_size")
                     .Help("Requests written per shared transaction (group commit), by batch")
                     .Register(*r)),
      streams(prometheus::BuildGauge()
                  .Name("sm_streams_open")
                  .Help("Open Subscribe streams by feed and state (live: on the shared feed; behind: reading pages)")
                  .Register(*r)),
      feed_reads(
          prometheus::BuildCounter()
              .Name("sm_feed_reads_total")
              .Help("Event feed reads by feed and reader (hub: the one shared reader; page: a stream catching up)")
              .Register(*r)),
      feed_fell_behind(prometheus::BuildCounter()
                           .Name("sm_feed_fell_behind_total")
                           .Help("Live streams whose client read too slowly and went back to reading pages")
                           .Register(*r)),
      feed_read_time(prometheus::BuildGauge()
                         .Name("sm_feed_hub_read_timestamp_seconds")
                         .Help("When the feed hub last read the event log successfully (hub lag: time() minus this)")
                         .Register(*r)),
      offload(
          prometheus::BuildCounter()
              .Name("sm_offload_total")
              .Help("Work handed from gRPC callback threads to a worker pool, by pool and result (queued, rejected)")
              .Register(*r)),
      registry_(std::move(r)),
      rpc_requests_(prometheus::BuildCounter()
                        .Name("sm_rpc_requests_total")
                        .Help("Finished RPCs by method and status code")
                        .Register(*registry_)),
      rpc_latency_(prometheus::BuildHistogram()
                       .Name("sm_rpc_duration_seconds")
                       .Help("RPC latency by method and status code")
                       .Register(*registry_)) {}

void Metrics::ObserveBatch(const std::string& name, size_t size) {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {1, 2, 4, 8, 16, 32, 64, 128};
  batch_size.Add({{"batch", name}}, kBuckets).Observe(static_cast<double>(size));
}

void Metrics::ObserveRpc(std::string_view method, grpc::StatusCode code, double seconds) {
  const auto c = static_cast<size_t>(code);
  RpcSeries series;
  if (c < kCodes) {
    std::shared_lock lock(rpc_mu_);
    if (auto it = rpc_series_.find(method); it != rpc_series_.end()) series = it->second[c];
  }
  if (series.requests == nullptr) {
    prometheus::Labels labels{{"method", std::string(method)}, {"code", std::string(GrpcCodeName(code))}};
    static const prometheus::Histogram::BucketBoundaries kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                                     0.1,    0.25,  0.5,    1,     2.5,  5,     10};
    series = {&rpc_requests_.Add(labels), &rpc_latency_.Add(labels, kBuckets)};
    if (c < kCodes) {
      std::unique_lock lock(rpc_mu_);
      auto it = rpc_series_.find(method);
      if (it == rpc_series_.end()) it = rpc_series_.emplace(std::string(method), std::array<RpcSeries, kCodes>{}).first;
      it->second[c] = series;
    }
  }
  series.requests->Increment();
  series.latency->Observe(seconds);
}

std::string Metrics::Render() const {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry_->Collect());
}

bool BearerMatches(const std::string& header, const std::string& token) {
  // Hashing first gives both sides one length, so neither the length nor the content of
  // the token leaks through the comparison's timing.
  const std::string got = crypto::Sha256Hex(header);
  const std::string want = crypto::Sha256Hex("Bearer " + token);
  return !token.empty() && CRYPTO_memcmp(got.data(), want.data(), want.size()) == 0;
}

AdminServer::AdminServer() = default;
AdminServer::~AdminServer() { Stop(); }

absl::Status AdminServer::Start(const std::string& host_port, HealthCheck health, std::string notice,
                                std::string token) {
  size_t colon = host_port.rfind(':');
  const std::string port_text = colon == std::string::npos ? "" : host_port.substr(colon + 1);
  if (colon == std::string::npos || colon == 0 || port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos || std::stoi(port_text) > 65535) {
    return absl::InvalidArgumentError("admin address '" + host_port + "' is not host:port");
  }
  std::string host = host_port.substr(0, colon);
  int port = std::stoi(port_text);
  server_ = std::make_unique<httplib::Server>();
  // httplib's default also sets SO_REUSEPORT, which lets a second server bind the same port
  // and share the traffic: allow address reuse only.
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<const char*>(&yes), sizeof(yes));
  });
  server_->Get("/metrics", [token](const httplib::Request& req, httplib::Response& res) {
    if (!token.empty() && !BearerMatches(req.get_header_value("Authorization"), token)) {
      res.status = 401;
      res.set_header("WWW-Authenticate", "Bearer");
      res.set_content("admin.token required\n", "text/plain");
      return;
    }
    res.set_content(Metrics::Global().Render(), "text/plain; version=0.0.4");
  });
  server_->Get("/healthz", [health, notice, token](const httplib::Request& req, httplib::Response& res) {
    absl::Status s = health ? health() : absl::OkStatus();
    // Open to probes; the reason for a failure only to holders of the token (when one is set).
    const bool detail = token.empty() || BearerMatches(req.get_header_value("Authorization"), token);
    const std::string tail = notice.empty() ? "" : notice + "\n";
    if (s.ok()) {
      res.set_content("ok\n" + tail, "text/plain");
    } else {
      res.status = 503;
      res.set_content((detail ? std::string(s.message()) : std::string("unavailable")) + "\n" + tail, "text/plain");
    }
  });
  if (port == 0) {
    port_ = server_->bind_to_any_port(host);
    if (port_ < 0) return absl::UnavailableError("admin server cannot bind " + host_port);
  } else {
    if (!server_->bind_to_port(host, port)) {
      return absl::UnavailableError("admin server cannot bind " + host_port);
    }
    port_ = port;
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // httplib's stop() is a no-op until the listen loop runs: wait for it, so that a Stop()
  // right after Start() cannot hang.
  for (int i = 0; i < 2000 && !server_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return absl::OkStatus();
}

void AdminServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

}  // namespace sm::metrics
