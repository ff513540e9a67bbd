// gRPC server bootstrap and the per-call wrapper every handler goes through.
//
// Server::Start turns on grpc.health.v1 and server reflection, sets message-size and
// keepalive limits and optional TLS / mutual TLS. Call::Run (used by every handler, since
// a 1.51 interceptor cannot stop a handler) takes or creates the request and trace ids,
// authenticates the caller, runs the handler body with the ids in the log context, writes
// one access-log line, records metrics and maps absl::Status to grpc::Status.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <absl/status/statusor.h>
#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include "common/auth.h"
#include "common/worker_pool.h"

namespace sm::server {

// grpc.tls.*. With client_ca_file the server runs
// GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY: a client that presents no
// certificate, or one that does not chain to client_ca_file, or an expired one, fails the
// handshake (the caller sees UNAVAILABLE) before any handler runs; tokens are checked
// after that as before. Without it the server does not ask for a client certificate.
// The files are read once at start-up: rotating a certificate means a restart.
struct TlsConfig {
  std::string cert_file;  // empty: plaintext (refused off loopback, see service_config)
  std::string key_file;
  std::string client_ca_file;  // set: mutual TLS, clients must present a certificate it signed
};

struct Config {
  std::string listen = "127.0.0.1:0";
  int max_message_bytes = 16 * 1024 * 1024;
  int max_threads = 256;  // bounds the sync server's handler threads (and so concurrent calls)
  int max_pollers = 64;   // idle handler threads kept waiting for calls (gRPC's default: 2)
  std::chrono::milliseconds keepalive_time{60000};
  std::chrono::milliseconds keepalive_timeout{20000};
  TlsConfig tls;
  // Subscribe streams (common/event_hub.h): per caller (token subject) and in all.
  int max_streams_per_caller = 4;
  int max_streams = 64;
};

class Server {
 public:
  // Builds and starts the server with `services` registered (not owned). Errors:
  // UNAVAILABLE when the address cannot be bound; INVALID_ARGUMENT for unreadable TLS files.
  static absl::StatusOr<std::unique_ptr<Server>> Start(const Config& config,
                                                       const std::vector<grpc::Service*>& services);
  ~Server();

  int port() const { return port_; }
  // Marks every service NOT_SERVING, then stops, letting calls finish until `grace`.
  void Shutdown(std::chrono::milliseconds grace);
  void Wait();
  // Sets the health of `service_name` ("" is the whole server).
  void SetServing(const std::string& service_name, bool serving);

 private:
  // gRPC 1.51 serves the callback API (the health service, WithCallbackMethod_...) from a
  // process-wide completion queue drained by "nexting" threads (2 on this machine) that
  // wait at most 1 s for an event and then sleep 100 ms. On this server those threads also
  // read the incoming connections, so every ~1.1 s, when no callback call has completed for
  // a second, nothing reads any request for 100 ms. A callback health check on the
  // in-process channel every 250 ms keeps them from timing out.
  void KeepCallbackThreadsAwake();

  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::mutex awake_mu_;
  std::condition_variable awake_cv_;
  bool awake_stop_ = false;
  std::thread awake_;
};

// What a handler body sees of its call.
struct CallInfo {
  const auth::Principal& principal;
  grpc::ServerContextBase* context;
};

// The shared call path. One instance per service, shared by its handlers.
class Call {
 public:
  Call(std::string service, const auth::Verifier* verifier) : service_(std::move(service)), verifier_(verifier) {}

  // Runs `body` for method `method` ("GetUnit"). The caller is authenticated first: a
  // missing or bad token is UNAUTHENTICATED and `body` never runs.
  grpc::Status Run(grpc::ServerContextBase* ctx, std::string_view method,
                   const std::function<absl::Status(const CallInfo&)>& body) const;

  // The same for a unary method served on the callback API (the generated
  // WithCallbackMethod_<Method>): `body` runs on the thread that read the request, with no
  // hand-off to a handler thread, and the call is finished with its result. For methods
  // that are cheap on the common path (a cached answer); `body` may still block briefly.
  grpc::ServerUnaryReactor* RunUnary(grpc::CallbackServerContext* ctx, std::string_view method,
                                     const std::function<absl::Status(const CallInfo&)>& body) const;

  // The part of a callback call that may block (PostgreSQL, Redis). It runs on a worker
  // thread after the body has returned, so it must capture by value what it needs from the
  // body's CallInfo; the request and response stay valid until it returns.
  using Later = std::function<absl::Status()>;
  // RunUnary for a method whose answer is usually ready at once (a cache hit) and otherwise
  // needs blocking work: `body` answers on the callback thread, or sets `*later` and returns
  // OK to have the call finished by `later` on `pool` — so that gRPC's callback threads,
  // which also serve grpc.health, never wait on a database. A full pool answers
  // UNAVAILABLE at once. `pool` must outlive the calls (stop it before this Call goes).
  grpc::ServerUnaryReactor* RunUnary(grpc::CallbackServerContext* ctx, std::string_view method,
                                     const std::function<absl::Status(const CallInfo&, Later*)>& body,
                                     WorkerPool* pool) const;

  // A reply already serialized, shared: a cache hands the same bytes to every call.
  using ReplyBytes = std::shared_ptr<const std::string>;
  // RunUnary(…, pool) for a method served raw (the generated WithRawCallbackMethod_<Method>)
  // whose answer is kept serialized: once the caller is authenticated, `request` is parsed
  // into `*parsed` (INVALID_ARGUMENT when it does not parse), then `body` — or the `later`
  // it sets — sets `*reply`, and those bytes go out as they are: no reply message is built,
  // copied, serialized or freed per call. `*parsed` is the caller's and is read by `body`
  // only (`later` captures what it needs). OK without a reply is INTERNAL.
  grpc::ServerUnaryReactor* RunUnaryBytes(grpc::CallbackServerContext* ctx, std::string_view method,
                                          const grpc::ByteBuffer* request, google::protobuf::Message* parsed,
                                          grpc::ByteBuffer* response,
                                          const std::function<absl::Status(const CallInfo&, ReplyBytes*, Later*)>& body,
                                          WorkerPool* pool) const;

 private:
  struct Pending;  // one call between authentication and its access-log line
  std::shared_ptr<Pending> Begin(grpc::ServerContextBase* ctx, std::string_view method) const;
  grpc::Status End(grpc::ServerContextBase* ctx, const Pending& p, const absl::Status& status) const;
  static absl::Status Guard(const Pending& p, const std::function<absl::Status()>& fn);

  std::string service_;
  const auth::Verifier* verifier_;
};

// Metadata keys shared by servers and clients.
inline constexpr char kRequestIdHeader[] = "x-request-id";
inline constexpr char kTraceIdHeader[] = "x-trace-id";
inline constexpr char kOnBehalfOfHeader[] = "x-sm-on-behalf-of";

// A fresh 32-hex-character trace id.
std::string NewTraceId();

// Set when the process begins a graceful shutdown: long-running handlers (event streams)
// return so the server can stop within its grace period.
void BeginShutdown();
bool ShuttingDown();

}  // namespace sm::server
