// One throwaway PostgreSQL and one Redis per test binary, on free loopback ports, in a
// temporary folder removed at exit. PostgreSQL is initialised with the roles and schemas of
// deploy/local/bootstrap.sql, as in the local stack. Tests may stop and restart either
// server to prove the services survive it.
#pragma once

#include <memory>
#include <string>

#include "common/db/pool.h"
#include "common/redis.h"

namespace sm::testing {

class PgRedis {
 public:
  // Starts both servers on first use (fails the test binary if they cannot start).
  static PgRedis& Get();

  int pg_port() const { return pg_port_; }
  int redis_port() const { return redis_port_; }
  const std::string& dir() const { return dir_; }

  // Pool settings for a service role ("sm_directory") with search_path `schema`.
  db::PoolConfig Pool(const std::string& role, const std::string& schema, int size = 4) const;
  redis::Config Redis() const;

  // Runs SQL as the superuser; throws on error.
  void Exec(const std::string& sql) const;
  // Drops and recreates every service schema (a clean database for the next test).
  void ResetSchemas() const;

  void StopRedis();
  void StartRedis();
  // `pg_ctl -m immediate stop` (a crash, as far as clients can tell), then start again.
  void RestartPostgres();
  void StopPostgres();
  void StartPostgres();

  void Shutdown();  // stops both and removes the folder; called at exit

 private:
  PgRedis() = default;
  void Start();
  std::string dir_;
  int pg_port_ = 0;
  int redis_port_ = 0;
  int redis_pid_ = 0;
};

// A PostgreSQL of its own (not the shared one above), with TLS on from `cert_file` and
// `key_file` and TCP connections without TLS refused (hostssl), trusting every role: for
// tests of how clients verify it. Stopped and removed when destroyed.
class TlsPostgres {
 public:
  // Throws when it cannot start (the message names its log).
  TlsPostgres(const std::string& cert_file, const std::string& key_file);
  ~TlsPostgres();
  TlsPostgres(const TlsPostgres&) = delete;
  TlsPostgres& operator=(const TlsPostgres&) = delete;
  int port() const { return port_; }

 private:
  std::string dir_;
  int port_ = 0;
};

// A free TCP port on 127.0.0.1 (bound and released; good enough for tests).
int FreePort();

// Runs a shell command; returns its exit status. As root, `as_postgres` runs it as the
// postgres user (initdb and postgres refuse root).
int Run(const std::string& command, bool as_postgres = false);

}  // namespace sm::testing
