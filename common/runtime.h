// The parts every service process wires the same way: logging, the database pool (waiting
// for PostgreSQL at start-up, then applying migrations), Redis, the token verifier, the
// gRPC server and the admin HTTP server. A service's main.cc builds its handlers on top.
#pragma once

#include <memory>
#include <vector>

#include <absl/status/statusor.h>

#include "common/auth.h"
#include "common/db/migrate.h"
#include "common/db/pool.h"
#include "common/metrics.h"
#include "common/redis.h"
#include "common/server.h"
#include "common/service_config.h"

namespace sm {

class Runtime {
 public:
  // Connects and migrates `schema`. Errors: UNAVAILABLE when PostgreSQL stays unreachable
  // for db.startup_wait_ms; a migration error; INVALID_ARGUMENT for a bad auth key.
  static absl::StatusOr<std::unique_ptr<Runtime>> Create(const ServiceConfig& config, const std::string& schema,
                                                         const std::vector<db::Migration>& migrations);
  ~Runtime();

  db::Pool& pool() { return *pool_; }
  redis::Client* redis() { return redis_.get(); }  // null when redis.enabled is false
  const auth::Verifier& verifier() const { return *verifier_; }
  // This service's own identity for calls to other services; null when none is configured
  // (identity.key_file, or the development key in development mode).
  std::shared_ptr<auth::ServiceIdentity> identity() const { return identity_; }
  const ServiceConfig& config() const { return config_; }

  // Starts the gRPC server with `services` and the admin server. /healthz answers 503
  // while PostgreSQL is unreachable.
  absl::Status Serve(const std::vector<grpc::Service*>& services);
  int grpc_port() const { return server_ ? server_->port() : 0; }
  int admin_port() const { return admin_.port(); }

  // Blocks until SIGINT or SIGTERM, then shuts down gracefully.
  void WaitForSignal();
  void Shutdown();

 private:
  explicit Runtime(ServiceConfig config) : config_(std::move(config)) {}
  ServiceConfig config_;
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<redis::Client> redis_;
  std::unique_ptr<auth::Verifier> verifier_;
  std::shared_ptr<auth::ServiceIdentity> identity_;
  std::unique_ptr<server::Server> server_;
  metrics::AdminServer admin_;
};

}  // namespace sm
