// The configuration sections every service process shares (grpc, admin, log, db, redis,
// auth), read from a config::Reader so each service's own struct embeds them.
#pragma once

#include <optional>
#include <string>

#include "common/auth.h"
#include "common/config.h"
#include "common/db/pool.h"
#include "common/redis.h"
#include "common/server.h"

namespace sm {

struct ServiceConfig {
  std::string name;  // "directory-service"
  // `mode: development` (the local stack and tests): published development keys are
  // accepted and used. Refused on a non-loopback address; said loudly at start-up and in
  // /healthz. Anything else is production: every key must be configured.
  bool development = false;
  server::Config grpc;
  std::string admin_listen;  // host:port of /metrics and /healthz
  // admin.token: when set, /metrics requires `Authorization: Bearer <token>` (/healthz
  // stays open for probes). Required when admin.listen is not loopback.
  std::string admin_token;
  std::string log_level = "info";
  db::PoolConfig db;
  redis::Config redis;
  bool redis_enabled = true;
  auth::Config auth;
  auth::ServiceIdentity::Options identity;           // this service's own `service` token
  std::chrono::milliseconds db_startup_wait{30000};  // how long start-up waits for PostgreSQL
};

// True when `host_port`'s host is a loopback address (127.0.0.0/8, ::1) or "localhost",
// parsed, not prefix-matched ("127.evil.example:1" is not loopback).
bool IsLoopback(const std::string& host_port);

// Reads the shared sections. Defaults run on loopback; outside `mode: development` the
// token keys must be configured.
// `default_grpc` and `default_admin` are the service's conventional ports.
ServiceConfig ReadServiceConfig(config::Reader& r, const std::string& name, const std::string& default_grpc,
                                const std::string& default_admin, const std::string& default_db_user);

}  // namespace sm
