#include "common/runtime.h"

#include <csignal>
#include <thread>

#include <absl/synchronization/mutex.h>

#include "common/log.h"

namespace sm {

absl::StatusOr<std::unique_ptr<Runtime>> Runtime::Create(const ServiceConfig& config, const std::string& schema,
                                                         const std::vector<db::Migration>& migrations) {
  // Debian builds absl with mutex deadlock detection on: a lock-order graph updated on
  // every absl::Mutex (gRPC's) acquisition, a few per cent of a busy server's CPU.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  auto rt = std::unique_ptr<Runtime>(new Runtime(config));
  if (config.development) {
    log::Warn(
        "DEVELOPMENT MODE: published development keys are accepted and used; never run this way "
        "with real data",
        {{"mode", "development"}});
  }
  auto verifier = auth::Verifier::Create(config.auth);
  if (!verifier.ok()) return verifier.status();
  if (!config.identity.key_file.empty() || !config.identity.key_pem.empty()) {
    auto identity = auth::ServiceIdentity::Create(config.identity);
    if (!identity.ok()) return identity.status();
    rt->identity_ = *identity;
  }
  rt->verifier_ = std::make_unique<auth::Verifier>(*std::move(verifier));
  db::PoolConfig pool_config = config.db;
  if (pool_config.search_path.empty()) pool_config.search_path = schema;
  rt->pool_ = std::make_unique<db::Pool>(pool_config);
  const auto give_up = std::chrono::steady_clock::now() + config.db_startup_wait;
  absl::Status ping;
  while (!(ping = rt->pool_->Ping()).ok()) {
    if (std::chrono::steady_clock::now() >= give_up) {
      return absl::UnavailableError("PostgreSQL at " + config.db.host + ":" + std::to_string(config.db.port) +
                                    " unreachable: " + std::string(ping.message()));
    }
    log::Warn("waiting for PostgreSQL", {{"error", std::string(ping.message())}});
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  absl::Status migrated = db::ApplyMigrations(*rt->pool_, schema, migrations);
  if (!migrated.ok()) return migrated;
  if (config.redis_enabled) rt->redis_ = std::make_unique<redis::Client>(config.redis);
  return rt;
}

Runtime::~Runtime() { Shutdown(); }

absl::Status Runtime::Serve(const std::vector<grpc::Service*>& services) {
  auto server = server::Server::Start(config_.grpc, services);
  if (!server.ok()) return server.status();
  server_ = std::move(*server);
  db::Pool* pool = pool_.get();
  absl::Status admin = admin_.Start(
      config_.admin_listen, [pool] { return pool->Ping(); },
      config_.development ? "mode: development (published development keys accepted)" : "", config_.admin_token);
  if (!admin.ok()) {
    // Stop the gRPC server before the caller destroys the services it calls into (a
    // service restarted at once could find its admin port still taken, and crashed here).
    server_->Shutdown(std::chrono::milliseconds(0));
    server_.reset();
    return admin;
  }
  log::Info("serving", {{"grpc_port", server_->port()}, {"admin_port", admin_.port()}});
  return absl::OkStatus();
}

void Runtime::WaitForSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  int sig = 0;
  sigwait(&set, &sig);
  log::Info("shutting down", {{"signal", sig}});
  Shutdown();
}

void Runtime::Shutdown() {
  if (server_) {
    server::BeginShutdown();  // event streams end now rather than at the grace deadline
    server_->Shutdown(std::chrono::milliseconds(5000));
    server_.reset();
  }
  admin_.Stop();
}

}  // namespace sm
