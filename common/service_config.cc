#include "common/service_config.h"

#include <fstream>
#include <sstream>

namespace sm {

ServiceConfig ReadServiceConfig(config::Reader& r, const std::string& name,
                                const std::string& default_grpc, const std::string& default_admin,
                                const std::string& default_db_user) {
  ServiceConfig c;
  c.name = name;
  c.grpc.listen = r.HostPort("grpc.listen", default_grpc);
  c.grpc.max_message_bytes = static_cast<int>(r.Int("grpc.max_message_bytes", 16 << 20, 1024, 256 << 20));
  c.grpc.max_threads = static_cast<int>(r.Int("grpc.max_threads", 256, 4, 4096));
  c.grpc.keepalive_time = r.Millis("grpc.keepalive_time_ms", 60000, 1000, 3600000);
  c.grpc.keepalive_timeout = r.Millis("grpc.keepalive_timeout_ms", 20000, 1000, 600000);
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
  if (c.grpc.tls.cert_file.empty() && c.grpc.listen.rfind("127.", 0) != 0 &&
      c.grpc.listen.rfind("localhost:", 0) != 0 && c.grpc.listen.rfind("[::1]:", 0) != 0 && !allow_plaintext) {
    r.Fail("grpc.listen", "plaintext is for loopback only: set grpc.tls.* or grpc.allow_plaintext");
  }
  c.admin_listen = r.HostPort("admin.listen", default_admin);
  c.log_level = r.Enum("log.level", "info", {"trace", "debug", "info", "warn", "error", "critical", "off"});

  c.db.host = r.String("db.host", "127.0.0.1");
  c.db.port = static_cast<int>(r.Int("db.port", 5432, 1, 65535));
  c.db.dbname = r.String("db.name", "supervision");
  c.db.user = r.String("db.user", default_db_user);
  c.db.password = r.String("db.password", "");
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

  c.auth.algorithm = r.Enum("auth.algorithm", "HS256", {"HS256", "RS256", "ES256"});
  std::string key = r.String("auth.verify_key", "");
  std::string key_file = r.String("auth.verify_key_file", "");
  if (!key_file.empty()) {
    std::ifstream in(key_file);
    if (!in) {
      r.Fail("auth.verify_key_file", "cannot read '" + key_file + "'");
    } else {
      std::stringstream buf;
      buf << in.rdbuf();
      key = buf.str();
    }
  }
  const bool allow_dev_secret = r.Bool("auth.allow_development_secret", true);
  if (key.empty()) {
    if (c.auth.algorithm == "HS256" && allow_dev_secret) {
      key = std::string(auth::kDevelopmentSecret);
    } else {
      r.Fail("auth.verify_key", "is required for " + c.auth.algorithm);
    }
  }
  c.auth.verify_key = key;
  c.auth.issuer = r.String("auth.issuer", "supervision-mesh");
  c.auth.audience = r.String("auth.audience", "supervision-mesh");
  c.auth.leeway = std::chrono::seconds(r.Int("auth.leeway_s", 30, 0, 600));
  return c;
}

}  // namespace sm
