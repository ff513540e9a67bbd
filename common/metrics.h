// Prometheus metrics (prometheus-cpp core) for the whole process, and the admin HTTP
// server that serves them at /metrics next to /healthz.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>

#include <absl/status/status.h>
#include <grpcpp/support/status.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace httplib {
class Server;
}

namespace sm::metrics {

// The process-wide registry and the metric families every service shares.
class Metrics {
 public:
  static Metrics& Global();

  prometheus::Registry& registry() { return *registry_; }

  // One finished RPC: counts it and records its latency, by method and status code.
  void ObserveRpc(std::string_view method, grpc::StatusCode code, double seconds);

  prometheus::Family<prometheus::Gauge>& db_pool;             // sm_db_pool_connections{state}
  prometheus::Family<prometheus::Counter>& db_events;         // sm_db_pool_events_total{event}
  prometheus::Family<prometheus::Gauge>& redis_up;            // sm_redis_up
  prometheus::Family<prometheus::Counter>& redis_errors;      // sm_redis_errors_total
  prometheus::Family<prometheus::Counter>& cache_requests;    // sm_cache_requests_total{cache,result}
  prometheus::Family<prometheus::Histogram>& batch_size;      // sm_batch_size{batch}
  prometheus::Family<prometheus::Gauge>& streams;             // sm_streams_open{feed,state}
  prometheus::Family<prometheus::Counter>& feed_reads;        // sm_feed_reads_total{feed,reader}
  prometheus::Family<prometheus::Counter>& feed_fell_behind;  // sm_feed_fell_behind_total{feed}
  prometheus::Family<prometheus::Gauge>& feed_read_time;      // sm_feed_hub_read_timestamp_seconds{feed}
  prometheus::Family<prometheus::Counter>& offload;           // sm_offload_total{pool,result}
  // One batch of `size` requests written together (common/coalesce.h).
  void ObserveBatch(const std::string& name, size_t size);

  // The Prometheus text exposition of everything registered.
  std::string Render() const;

 private:
  Metrics();
  explicit Metrics(std::shared_ptr<prometheus::Registry> r);
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& rpc_requests_;
  prometheus::Family<prometheus::Histogram>& rpc_latency_;
  // The series of each (method, code) once seen, so that an RPC costs no label set (maps
  // of strings) and no family look-up; series are never removed, so the pointers stay good.
  struct RpcSeries {
    prometheus::Counter* requests = nullptr;
    prometheus::Histogram* latency = nullptr;
  };
  static constexpr size_t kCodes = 17;  // grpc::StatusCode 0 (OK) .. 16 (UNAUTHENTICATED)
  std::shared_mutex rpc_mu_;
  std::map<std::string, std::array<RpcSeries, kCodes>, std::less<>> rpc_series_;
};

// Serves GET /metrics (Prometheus text) and GET /healthz (200 "ok", or 503 and the reason
// when `health` returns an error) on a background thread. With a token, /metrics answers
// only `Authorization: Bearer <token>` (401 otherwise); /healthz stays open for probes and
// says nothing but up or down.
class AdminServer {
 public:
  using HealthCheck = std::function<absl::Status()>;
  AdminServer();
  ~AdminServer();

  // Binds host:port (port 0 picks one) and starts serving. /healthz answers "ok" (or 503
  // with the health check's message), then `notice` when given (development mode says so
  // there). `token` non-empty: /metrics requires it (compared in constant time).
  // Error: UNAVAILABLE if the address cannot be bound.
  absl::Status Start(const std::string& host_port, HealthCheck health, std::string notice = "", std::string token = "");
  int port() const { return port_; }
  void Stop();

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

// Whether an Authorization header value is exactly `Bearer <token>`. Takes the same time
// whatever the header holds (both sides are hashed, then compared with CRYPTO_memcmp).
bool BearerMatches(const std::string& header, const std::string& token);

}  // namespace sm::metrics
