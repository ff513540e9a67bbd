#include "common/config.h"
#include "common/client.h"

#include <fstream>
#include <sstream>

#include "common/log.h"
#include "common/server.h"
#include "common/service_config.h"
#include "common/uuid.h"

namespace sm::client {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  auto text = config::ReadFileText(path);
  if (!text) return absl::InvalidArgumentError("cannot read '" + path + "'");
  return *text;
}

// host:port with a non-empty host and a numeric port in 1..65535 (after an optional
// "dns:///" scheme).
bool ValidTarget(const std::string& target) {
  std::string rest = target;
  if (rest.rfind("dns:///", 0) == 0) rest = rest.substr(7);
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  const std::string port = rest.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return false;
  const int n = std::stoi(port);
  return n >= 1 && n <= 65535;
}

}  // namespace

Config ReadConfig(config::Reader& r, const std::string& prefix, const std::string& default_addr, bool development) {
  Config c;
  c.target = r.String(prefix + ".addr", default_addr);
  if (!ValidTarget(c.target)) {
    r.Fail(prefix + ".addr", "'" + c.target + "' is not host:port (or dns:///host:port)");
  }
  c.ca_file = r.String(prefix + ".tls.ca_file", "");
  c.cert_file = r.String(prefix + ".tls.cert_file", "");
  c.key_file = r.String(prefix + ".tls.key_file", "");
  c.server_name_override = r.String(prefix + ".tls.server_name", "");
  const bool plaintext = r.Bool(prefix + ".tls.plaintext", false);
  c.default_deadline = r.Millis(prefix + ".deadline_ms", 5000, 100, 600000);
  for (const auto& [key, path] : {std::pair{".tls.ca_file", c.ca_file}, std::pair{".tls.cert_file", c.cert_file},
                                  std::pair{".tls.key_file", c.key_file}}) {
    if (!path.empty() && !config::ReadFileText(path)) r.Fail(prefix + key, "cannot read '" + path + "'");
  }
  if (c.cert_file.empty() != c.key_file.empty()) {
    r.Fail(prefix + ".tls", "cert_file and key_file must be set together");
  }
  if (!c.cert_file.empty() && c.ca_file.empty()) {
    r.Fail(prefix + ".tls.ca_file", "a client certificate needs the server's CA too");
  }
  const std::string host = c.target.rfind("dns:///", 0) == 0 ? c.target.substr(7) : c.target;
  if (plaintext) {
    if (!c.ca_file.empty()) {
      r.Fail(prefix + ".tls.plaintext", "contradicts " + prefix + ".tls.ca_file: choose one");
    } else if (!IsLoopback(host)) {
      r.Fail(prefix + ".tls.plaintext", "is for a loopback address only (" + prefix + ".addr is " + c.target + ")");
    }
    return c;
  }
  if (development) {
    // Plaintext unless TLS is configured, and then only on loopback.
    if (c.ca_file.empty() && !IsLoopback(host)) {
      r.Fail(prefix + ".tls.ca_file", "is required for a non-loopback " + prefix + ".addr (" + c.target +
                                          "): plaintext is for loopback only, in development too");
    }
    return c;
  }
  // Outside development, mutual TLS unless plaintext was asked for explicitly.
  for (const auto& [key, path] : {std::pair{".tls.ca_file", c.ca_file}, std::pair{".tls.cert_file", c.cert_file},
                                  std::pair{".tls.key_file", c.key_file}}) {
    if (path.empty()) {
      r.Fail(prefix + key, "is required outside development: service-to-service calls use mutual TLS (or set " +
                               prefix + ".tls.plaintext: true for a loopback address)");
    }
  }
  return c;
}

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
                   current && !current->request_id.empty() ? current->request_id : NewLabelUuid());
  ctx->AddMetadata(server::kTraceIdHeader,
                   current && !current->trace_id.empty() ? current->trace_id : server::NewTraceId());
  if (current && !current->user.empty()) ctx->AddMetadata(server::kOnBehalfOfHeader, current->user);
}

}  // namespace sm::client
