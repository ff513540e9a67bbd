#include "common/client.h"

#include <fstream>
#include <sstream>

#include "common/log.h"
#include "common/server.h"
#include "common/uuid.h"

namespace sm::client {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError("cannot read '" + path + "'");
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const Config& config) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(16 * 1024 * 1024);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 60000);
  args.SetLoadBalancingPolicyName("round_robin");
  // A restarted peer is found again within seconds (gRPC's default backoff grows to 120 s).
  // Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: gRPC uses it as the minimum *connect timeout*
  // (default 20 s); at 100 ms a handshake on a busy machine timed out "before receiving
  // SETTINGS frame" and the call failed UNAVAILABLE at once.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (config.ca_file.empty()) {
    creds = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions opts;
    auto ca = ReadFile(config.ca_file);
    if (!ca.ok()) return ca.status();
    opts.pem_root_certs = *ca;
    if (!config.cert_file.empty()) {
      auto cert = ReadFile(config.cert_file);
      if (!cert.ok()) return cert.status();
      auto key = ReadFile(config.key_file);
      if (!key.ok()) return key.status();
      opts.pem_cert_chain = *cert;
      opts.pem_private_key = *key;
    }
    creds = grpc::SslCredentials(opts);
    if (!config.server_name_override.empty()) {
      args.SetSslTargetNameOverride(config.server_name_override);
    }
  }
  return grpc::CreateCustomChannel(config.target, creds, args);
}

void PrepareContext(grpc::ClientContext* ctx, const Config& config, const std::string& token,
                    std::chrono::milliseconds deadline) {
  if (deadline.count() <= 0) deadline = config.default_deadline;
  ctx->set_deadline(std::chrono::system_clock::now() + deadline);
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  const RequestContext* current = CurrentRequest();
  ctx->AddMetadata(server::kRequestIdHeader,
                   current && !current->request_id.empty() ? current->request_id : NewUuid());
  ctx->AddMetadata(server::kTraceIdHeader,
                   current && !current->trace_id.empty() ? current->trace_id : server::NewTraceId());
  if (current && !current->user.empty()) ctx->AddMetadata(server::kOnBehalfOfHeader, current->user);
}

}  // namespace sm::client
