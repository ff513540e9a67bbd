// Outgoing gRPC calls: channels built with the configured TLS options, and a ClientContext
// for every call that carries a default deadline, the caller's bearer token and, from the
// call being served on this thread, the request id, the trace id and the end user.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <absl/status/statusor.h>
#include <grpcpp/grpcpp.h>

namespace sm::client {

struct Config {
  std::string target = "127.0.0.1:7101";  // host:port or dns:///name:port
  std::string ca_file;                     // set: TLS, verifying the server against this CA
  std::string cert_file;                   // with key_file: mutual TLS client certificate
  std::string key_file;
  std::string server_name_override;        // TLS name to verify, when it differs from target
  std::chrono::milliseconds default_deadline{5000};
};

// Errors: INVALID_ARGUMENT when a certificate file cannot be read.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const Config& config);

// Fills `ctx` for one call: deadline `now + deadline` (the config default when zero),
// `authorization: Bearer <token>` when a token is given, and the ids of the request this
// thread is serving (or fresh ones), plus x-sm-on-behalf-of with its end user.
void PrepareContext(grpc::ClientContext* ctx, const Config& config, const std::string& token,
                    std::chrono::milliseconds deadline = std::chrono::milliseconds(0));

}  // namespace sm::client
