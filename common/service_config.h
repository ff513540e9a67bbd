// The configuration sections every service process shares (grpc, admin, log, db, redis,
// auth), read from a config::Reader so each service's own struct embeds them.
#pragma once

#include <string>

#include "common/auth.h"
#include "common/config.h"
#include "common/db/pool.h"
#include "common/redis.h"
#include "common/server.h"

namespace sm {

struct ServiceConfig {
  std::string name;                 // "directory-service"
  server::Config grpc;
  std::string admin_listen;         // host:port of /metrics and /healthz
  std::string log_level = "info";
  db::PoolConfig db;
  redis::Config redis;
  bool redis_enabled = true;
  auth::Config auth;
  std::chrono::milliseconds db_startup_wait{30000};  // how long start-up waits for PostgreSQL
};

// Reads the shared sections. Defaults run on loopback with the development auth secret.
// `default_grpc` and `default_admin` are the service's conventional ports.
ServiceConfig ReadServiceConfig(config::Reader& r, const std::string& name,
                                const std::string& default_grpc, const std::string& default_admin,
                                const std::string& default_db_user);

}  // namespace sm
