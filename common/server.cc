#include "common/config.h"
#include "common/server.h"

#include <future>

#include <grpcpp/generic/generic_stub.h>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "common/log.h"
#include "common/metrics.h"
#include "common/status.h"
#include "common/uuid.h"

namespace sm::server {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path, const std::string& what) {
  auto text = config::ReadFileText(path);
  if (!text) return absl::InvalidArgumentError("cannot read " + what + " '" + path + "'");
  return *text;
}

std::string Metadata(const grpc::ServerContextBase* ctx, const char* key) {
  const auto& md = ctx->client_metadata();
  auto it = md.find(key);
  if (it == md.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

// Accepts caller-supplied ids only when they are short and printable ASCII, so they are
// safe to log and forward.
bool UsableId(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  for (unsigned char c : s) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

// `bytes` as a gRPC message without copying them: the slice holds a reference until gRPC
// has sent it.
void DropHeld(void* held) { delete static_cast<Call::ReplyBytes*>(held); }
grpc::ByteBuffer MessageOf(const Call::ReplyBytes& bytes) {
  auto* held = new Call::ReplyBytes(bytes);
  grpc::Slice slice(const_cast<char*>((*held)->data()), (*held)->size(), &DropHeld, held);
  return grpc::ByteBuffer(&slice, 1);
}

absl::Status Answer(const Call::ReplyBytes& reply, grpc::ByteBuffer* response) {
  if (!reply) return absl::InternalError("handler returned no reply");
  *response = MessageOf(reply);
  return absl::OkStatus();
}

bool ParseRequest(const grpc::ByteBuffer& request, google::protobuf::Message* parsed) {
  std::vector<grpc::Slice> slices;
  if (!request.Dump(&slices).ok()) return false;
  if (slices.size() == 1) return parsed->ParseFromArray(slices[0].begin(), static_cast<int>(slices[0].size()));
  std::string joined;
  for (const auto& s : slices) joined.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return parsed->ParseFromString(joined);
}

// The trace id of a W3C traceparent ("00-<32 hex>-<16 hex>-<2 hex>"), or "".
std::string TraceIdFromTraceparent(const std::string& tp) {
  if (tp.size() < 55 || tp[2] != '-' || tp[35] != '-') return "";
  return tp.substr(3, 32);
}

}  // namespace

std::string NewTraceId() { return NewLabelHex(16); }

namespace {
std::atomic<bool> g_shutting_down{false};
}  // namespace

void BeginShutdown() { g_shutting_down = true; }
bool ShuttingDown() { return g_shutting_down.load(); }

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const Config& config,
                                                      const std::vector<grpc::Service*>& services) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  std::shared_ptr<grpc::ServerCredentials> creds;
  if (config.tls.cert_file.empty()) {
    creds = grpc::InsecureServerCredentials();
  } else {
    grpc::SslServerCredentialsOptions opts(config.tls.client_ca_file.empty()
                                               ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                               : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    auto cert = ReadFile(config.tls.cert_file, "grpc.tls.cert_file");
    if (!cert.ok()) return cert.status();
    auto key = ReadFile(config.tls.key_file, "grpc.tls.key_file");
    if (!key.ok()) return key.status();
    opts.pem_key_cert_pairs.push_back({*key, *cert});
    if (!config.tls.client_ca_file.empty()) {
      auto ca = ReadFile(config.tls.client_ca_file, "grpc.tls.client_ca_file");
      if (!ca.ok()) return ca.status();
      opts.pem_root_certs = *ca;
    }
    creds = grpc::SslServerCredentials(opts);
  }
  auto server = std::unique_ptr<Server>(new Server());
  builder.AddListeningPort(config.listen, creds, &server->port_);
  builder.SetMaxReceiveMessageSize(config.max_message_bytes);
  builder.SetMaxSendMessageSize(config.max_message_bytes);
  grpc::ResourceQuota quota("sm-server");
  quota.SetMaxThreads(config.max_threads);
  builder.SetResourceQuota(quota);
  // Handler threads that finish a call go back to waiting for the next unless `max_pollers`
  // wait already; above that they exit. gRPC's default (2) made the sync server start and end
  // a thread for nearly every call under load (docs/PERFORMANCE.md § Lifecycle).
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, config.max_pollers);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(config.keepalive_time.count()));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, static_cast<int>(config.keepalive_timeout.count()));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  for (grpc::Service* s : services) builder.RegisterService(s);
  server->server_ = builder.BuildAndStart();
  if (!server->server_ || server->port_ == 0) {
    return absl::UnavailableError("cannot listen on " + config.listen);
  }
  server->KeepCallbackThreadsAwake();
  return server;
}

void Server::KeepCallbackThreadsAwake() {
  awake_ = std::thread([this, channel = server_->InProcessChannel(grpc::ChannelArguments())] {
    grpc::GenericStub stub(channel);
    std::unique_lock lock(awake_mu_);
    while (!awake_cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return awake_stop_; })) {
      // One call in flight at most; `check` outlives it (the callback is its last step).
      struct Check {
        grpc::ClientContext ctx;
        grpc::ByteBuffer request, response;
      };
      auto check = std::make_shared<Check>();
      grpc::Slice empty("");  // an empty HealthCheckRequest: the whole server
      check->request = grpc::ByteBuffer(&empty, 1);
      check->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
      auto done = std::make_shared<std::promise<void>>();
      stub.UnaryCall(&check->ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &check->request,
                     &check->response, [done](grpc::Status) { done->set_value(); });
      lock.unlock();
      done->get_future().wait();
      lock.lock();
    }
  });
}

Server::~Server() {
  if (server_) Shutdown(std::chrono::milliseconds(0));
}

void Server::SetServing(const std::string& service_name, bool serving) {
  if (auto* health = server_->GetHealthCheckService()) {
    health->SetServingStatus(service_name, serving);
  }
}

void Server::Shutdown(std::chrono::milliseconds grace) {
  if (!server_) return;
  {
    std::lock_guard lock(awake_mu_);
    awake_stop_ = true;
  }
  awake_cv_.notify_all();
  if (awake_.joinable()) awake_.join();
  if (auto* health = server_->GetHealthCheckService()) health->Shutdown();
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  server_->Wait();
  server_.reset();
}

void Server::Wait() {
  if (server_) server_->Wait();
}

struct Call::Pending {
  RequestContext rc;
  std::chrono::steady_clock::time_point start;
  absl::StatusOr<auth::Principal> principal;
};

std::shared_ptr<Call::Pending> Call::Begin(grpc::ServerContextBase* ctx, std::string_view method) const {
  auto p = std::make_shared<Pending>();
  p->start = std::chrono::steady_clock::now();
  RequestContext& rc = p->rc;
  rc.request_id = Metadata(ctx, kRequestIdHeader);
  if (!UsableId(rc.request_id)) rc.request_id = NewLabelUuid();
  rc.trace_id = Metadata(ctx, kTraceIdHeader);
  if (!UsableId(rc.trace_id)) rc.trace_id = TraceIdFromTraceparent(Metadata(ctx, "traceparent"));
  if (!UsableId(rc.trace_id)) rc.trace_id = NewTraceId();
  rc.method = "/supervision.v1." + service_ + "/" + std::string(method);
  ctx->AddInitialMetadata(kRequestIdHeader, rc.request_id);
  ctx->AddInitialMetadata(kTraceIdHeader, rc.trace_id);
  p->principal = verifier_->Verify(Metadata(ctx, "authorization"));
  if (p->principal.ok()) {
    if (p->principal->HasRole(auth::kRoleService)) {
      std::string obo = Metadata(ctx, kOnBehalfOfHeader);
      if (UsableId(obo)) p->principal->on_behalf_of = obo;
    }
    rc.user = p->principal->EndUser();
  }
  return p;
}

absl::Status Call::Guard(const Pending& p, const std::function<absl::Status()>& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    log::Error("handler threw", {{"method", p.rc.method}, {"what", e.what()}});
    return absl::InternalError("internal error");
  }
}

grpc::Status Call::End(grpc::ServerContextBase* ctx, const Pending& p, const absl::Status& status) const {
  const RequestContext& rc = p.rc;
  grpc::Status out = ToGrpcStatus(status);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - p.start).count();
  metrics::Metrics::Global().ObserveRpc(rc.method, out.error_code(), seconds);
  nlohmann::json fields = {{"method", rc.method},
                           {"code", GrpcCodeName(out.error_code())},
                           {"duration_ms", seconds * 1000.0},
                           {"peer", ctx->peer()}};
  if (!rc.user.empty()) fields["user"] = rc.user;
  if (p.principal.ok() && !p.principal->on_behalf_of.empty()) fields["via"] = p.principal->user;
  if (!status.ok()) fields["error"] = std::string(status.message());
  const bool denied =
      status.code() == absl::StatusCode::kPermissionDenied || status.code() == absl::StatusCode::kUnauthenticated;
  const bool server_fault = status.code() == absl::StatusCode::kInternal ||
                            status.code() == absl::StatusCode::kUnknown || status.code() == absl::StatusCode::kDataLoss;
  log::Write(server_fault ? spdlog::level::err : denied ? spdlog::level::warn : spdlog::level::info, "rpc", fields);
  return out;
}

grpc::Status Call::Run(grpc::ServerContextBase* ctx, std::string_view method,
                       const std::function<absl::Status(const CallInfo&)>& body) const {
  std::shared_ptr<Pending> p = Begin(ctx, method);
  ScopedRequestContext scope(&p->rc);
  absl::Status status = p->principal.status();
  if (p->principal.ok()) status = Guard(*p, [&] { return body(CallInfo{*p->principal, ctx}); });
  return End(ctx, *p, status);
}

grpc::ServerUnaryReactor* Call::RunUnary(grpc::CallbackServerContext* ctx, std::string_view method,
                                         const std::function<absl::Status(const CallInfo&)>& body) const {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(Run(ctx, method, body));
  return reactor;
}

grpc::ServerUnaryReactor* Call::RunUnary(grpc::CallbackServerContext* ctx, std::string_view method,
                                         const std::function<absl::Status(const CallInfo&, Later*)>& body,
                                         WorkerPool* pool) const {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  std::shared_ptr<Pending> p = Begin(ctx, method);
  Later later;
  {
    ScopedRequestContext scope(&p->rc);
    absl::Status status = p->principal.status();
    if (p->principal.ok()) status = Guard(*p, [&] { return body(CallInfo{*p->principal, ctx}, &later); });
    if (!status.ok() || !later) {
      reactor->Finish(End(ctx, *p, status));
      return reactor;
    }
  }
  const bool queued = pool->TrySubmit([this, p, ctx, reactor, later = std::move(later)](bool run) {
    ScopedRequestContext scope(&p->rc);
    absl::Status status = run ? Guard(*p, later) : absl::UnavailableError("server shutting down; retry");
    reactor->Finish(End(ctx, *p, status));
  });
  if (!queued) {
    ScopedRequestContext scope(&p->rc);
    reactor->Finish(End(ctx, *p, absl::UnavailableError("too many requests waiting for the database; retry later")));
  }
  return reactor;
}

grpc::ServerUnaryReactor* Call::RunUnaryBytes(
    grpc::CallbackServerContext* ctx, std::string_view method, const grpc::ByteBuffer* request,
    google::protobuf::Message* parsed, grpc::ByteBuffer* response,
    const std::function<absl::Status(const CallInfo&, ReplyBytes*, Later*)>& body, WorkerPool* pool) const {
  auto typed = [&](const CallInfo& call, Later* later) -> absl::Status {
    if (!ParseRequest(*request, parsed)) return absl::InvalidArgumentError("could not parse request");
    auto reply = std::make_shared<ReplyBytes>();
    Later inner;
    SM_RETURN_IF_ERROR(body(call, reply.get(), &inner));
    if (!inner) return Answer(*reply, response);
    *later = [inner = std::move(inner), reply, response]() -> absl::Status {
      SM_RETURN_IF_ERROR(inner());
      return Answer(*reply, response);
    };
    return absl::OkStatus();
  };
  return RunUnary(ctx, method, typed, pool);
}

}  // namespace sm::server
