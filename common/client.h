// Outgoing gRPC calls: the settings of a channel read from config (TLS, mutual TLS by default
// outside development), channels built with those TLS options, and a ClientContext
// for every call that carries a default deadline, the caller's bearer token and, from the
// call being served on this thread, the request id, the trace id and the end user.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <absl/status/statusor.h>
#include <grpcpp/grpcpp.h>

#include "common/config.h"

namespace sm::client {

struct Config {
  std::string target = "127.0.0.1:7101";  // host:port or dns:///name:port
  std::string ca_file;                    // set: TLS, verifying the server against this CA
  std::string cert_file;                  // with key_file: mutual TLS client certificate
  std::string key_file;
  std::string server_name_override;  // TLS name to verify, when it differs from target
  std::chrono::milliseconds default_deadline{5000};
};

// Reads an outgoing channel's settings under `prefix` ("audit.clue"):
//   <prefix>.addr             host:port or dns:///host:port (default `default_addr`)
//   <prefix>.tls.ca_file      CA that signed the server's certificate (TLS on)
//   <prefix>.tls.cert_file    this service's client certificate  } mutual TLS
//   <prefix>.tls.key_file     and its private key                }
//   <prefix>.tls.server_name  name to verify when it differs from the address's host
//   <prefix>.tls.plaintext    true: no TLS (refused unless the address is loopback)
//   <prefix>.deadline_ms      default deadline per call (5000)
// Outside development mutual TLS is the default: a channel without ca_file, cert_file and
// key_file is refused, naming the missing key, unless `tls.plaintext: true` and the
// address is loopback. In development a channel without ca_file is plaintext, to a
// loopback address only. Files are
// checked for readability here, so start-up stops naming the key. Problems are recorded
// on `r` (reported by its Finish()).
Config ReadConfig(config::Reader& r, const std::string& prefix, const std::string& default_addr, bool development);

// Errors: INVALID_ARGUMENT when a certificate file cannot be read.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const Config& config);

// Fills `ctx` for one call: deadline `now + deadline` (the config default when zero),
// `authorization: Bearer <token>` when a token is given, and the ids of the request this
// thread is serving (or fresh ones), plus x-sm-on-behalf-of with its end user.
void PrepareContext(grpc::ClientContext* ctx, const Config& config, const std::string& token,
                    std::chrono::milliseconds deadline = std::chrono::milliseconds(0));

}  // namespace sm::client
