#include "common/service_config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <fstream>
#include <optional>
#include <sstream>

namespace sm {

bool IsLoopback(const std::string& host_port) {
  const auto colon = host_port.rfind(':');
  std::string host = colon == std::string::npos ? host_port : host_port.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

ServiceConfig ReadServiceConfig(config::Reader& r, const std::string& name, const std::string& default_grpc,
                                const std::string& default_admin, const std::string& default_db_user) {
  ServiceConfig c;
  c.name = name;
  c.development = r.Enum("mode", "production", {"production", "development"}) == "development";
  c.grpc.listen = r.HostPort("grpc.listen", default_grpc);
  c.grpc.max_message_bytes = static_cast<int>(r.Int("grpc.max_message_bytes", 16 << 20, 1024, 256 << 20));
  c.grpc.max_threads = static_cast<int>(r.Int("grpc.max_threads", 256, 4, 4096));
  c.grpc.max_pollers = static_cast<int>(r.Int("grpc.max_pollers", 64, 1, 4096));
  c.grpc.keepalive_time = r.Millis("grpc.keepalive_time_ms", 60000, 1000, 3600000);
  c.grpc.keepalive_timeout = r.Millis("grpc.keepalive_timeout_ms", 20000, 1000, 600000);
  c.grpc.max_streams_per_caller = static_cast<int>(r.Int("grpc.max_streams_per_caller", 4, 1, 1024));
  c.grpc.max_streams = static_cast<int>(r.Int("grpc.max_streams", 64, 1, 65536));
  c.grpc.tls.cert_file = r.String("grpc.tls.cert_file", "");
  c.grpc.tls.key_file = r.String("grpc.tls.key_file", "");
  c.grpc.tls.client_ca_file = r.String("grpc.tls.client_ca_file", "");
  if (c.grpc.tls.cert_file.empty() != c.grpc.tls.key_file.empty()) {
    r.Fail("grpc.tls", "cert_file and key_file must be set together");
  }
  if (!c.grpc.tls.client_ca_file.empty() && c.grpc.tls.cert_file.empty()) {
    r.Fail("grpc.tls.client_ca_file", "mutual TLS needs cert_file and key_file too");
  }
  const bool allow_plaintext = r.Bool("grpc.allow_plaintext", false);
  if (c.grpc.tls.cert_file.empty() && !IsLoopback(c.grpc.listen) && !allow_plaintext) {
    r.Fail("grpc.listen", "plaintext is for loopback only: set grpc.tls.* or grpc.allow_plaintext");
  }
  c.admin_listen = r.HostPort("admin.listen", default_admin);
  c.admin_token = r.String("admin.token", "");
  if (!c.admin_token.empty() && c.admin_token.size() < 16) {
    r.Fail("admin.token", "is too short: use at least 16 random characters");
  }
  if (c.admin_token.empty() && !IsLoopback(c.admin_listen)) {
    r.Fail("admin.token", "is required when admin.listen is not loopback (" + c.admin_listen +
                              "): /metrics is served only to callers that present it");
  }
  if (c.development) {
    // Published keys prove nothing: development mode never faces a network.
    if (!IsLoopback(c.grpc.listen))
      r.Fail("mode", "development is refused on a non-loopback grpc.listen (" + c.grpc.listen + ")");
    if (!IsLoopback(c.admin_listen))
      r.Fail("mode", "development is refused on a non-loopback admin.listen (" + c.admin_listen + ")");
  }
  c.log_level = r.Enum("log.level", "info", {"trace", "debug", "info", "warn", "error", "critical", "off"});

  c.db.host = r.String("db.host", "127.0.0.1");
  c.db.port = static_cast<int>(r.Int("db.port", 5432, 1, 65535));
  c.db.dbname = r.String("db.name", "supervision");
  c.db.user = r.String("db.user", default_db_user);
  c.db.password = r.String("db.password", "");
  // A database across the network is reached with verify-full only (outside development):
  // anything weaker lets whoever sits on the path read case data or pose as PostgreSQL.
  // On loopback or a Unix socket libpq's own default (prefer) is kept.
  const bool db_local = c.db.host.empty() || c.db.host.front() == '/' || IsLoopback(c.db.host + ":0");
  const bool db_strict = !c.development && !db_local;
  c.db.sslmode = r.Enum("db.sslmode", db_strict ? "verify-full" : "prefer",
                        {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"});
  if (db_strict && c.db.sslmode != "verify-full") {
    r.Fail("db.sslmode", "must be verify-full for a non-loopback db.host (" + c.db.host + ") outside development");
  }
  c.db.sslrootcert = r.String("db.sslrootcert", "");
  c.db.sslcert = r.String("db.sslcert", "");
  c.db.sslkey = r.String("db.sslkey", "");
  if ((c.db.sslmode == "verify-ca" || c.db.sslmode == "verify-full") && c.db.sslrootcert.empty()) {
    r.Fail("db.sslrootcert",
           "is required with db.sslmode " + c.db.sslmode + ": the CA that signed PostgreSQL's certificate");
  }
  if (c.db.sslcert.empty() != c.db.sslkey.empty())
    r.Fail("db.sslcert", "db.sslcert and db.sslkey must be set together");
  for (const auto& [key, path] : {std::pair{"db.sslrootcert", c.db.sslrootcert}, std::pair{"db.sslcert", c.db.sslcert},
                                  std::pair{"db.sslkey", c.db.sslkey}}) {
    if (!path.empty() && !config::ReadFileText(path)) r.Fail(key, "cannot read '" + path + "'");
  }
  c.db.application_name = name;
  c.db.size = static_cast<int>(r.Int("db.pool_size", 8, 1, 256));
  c.db.acquire_timeout = r.Millis("db.acquire_timeout_ms", 2000, 10, 60000);
  c.db.connect_timeout = r.Millis("db.connect_timeout_ms", 2000, 1000, 60000);
  c.db.statement_timeout = r.Millis("db.statement_timeout_ms", 5000, 10, 600000);
  c.db_startup_wait = r.Millis("db.startup_wait_ms", 30000, 0, 600000);

  c.redis_enabled = r.Bool("redis.enabled", true);
  c.redis.host = r.String("redis.host", "127.0.0.1");
  c.redis.port = static_cast<int>(r.Int("redis.port", 6379, 1, 65535));
  c.redis.password = r.String("redis.password", "");
  c.redis.db = static_cast<int>(r.Int("redis.db", 0, 0, 15));
  c.redis.pool_size = static_cast<int>(r.Int("redis.pool_size", 8, 1, 256));
  c.redis.connect_timeout = r.Millis("redis.connect_timeout_ms", 200, 10, 10000);
  c.redis.command_timeout = r.Millis("redis.command_timeout_ms", 200, 10, 10000);
  c.redis.retry_interval = r.Millis("redis.retry_interval_ms", 1000, 10, 60000);
  c.redis.key_prefix = r.String("redis.key_prefix", "sm:");

  // Keys that vouch for tokens: a key set file (rotated by editing it) and/or one people
  // key given directly (the identity provider's).
  c.auth.keys_file = r.String("auth.keys_file", "");
  const std::string algorithm = r.Enum("auth.algorithm", "HS256", {"HS256", "RS256", "ES256"});
  std::string key = r.String("auth.verify_key", "");
  if (std::string key_file = r.String("auth.verify_key_file", ""); !key_file.empty()) {
    if (auto text = config::ReadFileText(key_file)) {
      key = *text;
    } else {
      r.Fail("auth.verify_key_file", "cannot read '" + key_file + "'");
    }
  }
  if (!key.empty()) {
    c.auth.keys.push_back(auth::Key{.kid = r.String("auth.verify_key_id", ""),
                                    .algorithm = algorithm,
                                    .material = key,
                                    .vouches = auth::Vouches::kPeople,
                                    .service = ""});
  }
  if (c.development) {
    for (auto& k : auth::DevelopmentKeys()) {
      // A people key configured without a kid takes the place of the development secret.
      if (k.kid.empty() && !key.empty() && c.auth.keys.front().kid.empty()) continue;
      c.auth.keys.push_back(std::move(k));
    }
  } else if (c.auth.keys.empty() && c.auth.keys_file.empty()) {
    r.Fail("auth.keys_file", "is required outside development (or auth.verify_key): no key to verify tokens with");
  }
  c.auth.issuer = r.String("auth.issuer", "supervision-mesh");
  c.auth.audience = r.String("auth.audience", "supervision-mesh");
  c.auth.leeway = std::chrono::seconds(r.Int("auth.leeway_s", 30, 0, 600));
  c.auth.max_lifetime = std::chrono::seconds(r.Int("auth.max_token_lifetime_s", 24 * 3600, 60, 30 * 24 * 3600));
  c.auth.reload_interval = r.Millis("auth.reload_interval_ms", 1000, 10, 3600000);

  // This service's own identity (its `service` token towards the services it calls).
  c.identity.name = name;
  c.identity.key_file = r.String("identity.key_file", "");
  c.identity.issuer = c.auth.issuer;
  c.identity.audience = c.auth.audience;
  if (c.identity.key_file.empty() && c.development) c.identity.key_pem = std::string(auth::kDevelopmentServiceKey);
  return c;
}

}  // namespace sm
