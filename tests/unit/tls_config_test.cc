// Tests for the TLS settings read at start-up: an outgoing channel's (client::ReadConfig,
// mutual TLS by default outside development), PostgreSQL's (db.sslmode and friends, and
// their quoting in the libpq connection string) and the admin port's token.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/client.h"
#include "common/db/pool.h"
#include "common/service_config.h"

namespace sm {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

config::EnvLookup NoEnv() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

// A readable file, removed when the test ends.
class TempFile {
 public:
  TempFile() {
    char name[] = "/tmp/sm_tls_config_test_XXXXXX";
    int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    close(fd);
    path_ = name;
    std::ofstream(path_) << "-----BEGIN CERTIFICATE-----\n";
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct Channel {
  client::Config config;
  absl::Status status;
};
Channel ReadChannel(const std::map<std::string, std::string>& sets, bool development) {
  auto source = config::Source::FromYaml("", "file svc.yaml", NoEnv());
  EXPECT_TRUE(source.ok());
  for (const auto& [k, v] : sets) source->Set(k, v);
  config::Reader r(*source);
  Channel out;
  out.config = client::ReadConfig(r, "audit.clue", "127.0.0.1:7102", development);
  out.status = r.Finish();
  return out;
}

TEST(ClientReadConfig, DevelopmentDefaultsToPlaintextOnLoopback) {
  Channel c = ReadChannel({}, true);
  ASSERT_TRUE(c.status.ok()) << c.status;
  EXPECT_EQ(c.config.target, "127.0.0.1:7102");
  EXPECT_TRUE(c.config.ca_file.empty());
  EXPECT_EQ(c.config.default_deadline, std::chrono::milliseconds(5000));
}

TEST(ClientReadConfig, DevelopmentIsPlaintextOnlyToLoopback) {
  Channel c = ReadChannel({{"audit.clue.addr", "10.0.0.7:7102"}}, true);
  ASSERT_EQ(c.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(c.status.message()), HasSubstr("audit.clue.tls.ca_file: is required for a non-loopback"));
  Channel explicit_plaintext =
      ReadChannel({{"audit.clue.addr", "10.0.0.7:7102"}, {"audit.clue.tls.plaintext", "true"}}, true);
  EXPECT_THAT(std::string(explicit_plaintext.status.message()),
              HasSubstr("audit.clue.tls.plaintext: is for a loopback"));
  TempFile ca;
  Channel tls = ReadChannel({{"audit.clue.addr", "10.0.0.7:7102"}, {"audit.clue.tls.ca_file", ca.path()}}, true);
  EXPECT_TRUE(tls.status.ok()) << tls.status;
}

TEST(ClientReadConfig, OutsideDevelopmentMutualTlsIsRequiredNamingEachKey) {
  Channel c = ReadChannel({}, false);
  ASSERT_EQ(c.status.code(), absl::StatusCode::kInvalidArgument);
  const std::string m(c.status.message());
  EXPECT_THAT(m, HasSubstr("audit.clue.tls.ca_file: is required outside development"));
  EXPECT_THAT(m, HasSubstr("audit.clue.tls.cert_file: is required"));
  EXPECT_THAT(m, HasSubstr("audit.clue.tls.key_file: is required"));

  TempFile ca;
  Channel server_auth_only = ReadChannel({{"audit.clue.tls.ca_file", ca.path()}}, false);
  ASSERT_EQ(server_auth_only.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(server_auth_only.status.message()), HasSubstr("audit.clue.tls.cert_file"));
  EXPECT_THAT(std::string(server_auth_only.status.message()), Not(HasSubstr("audit.clue.tls.ca_file")));
}

TEST(ClientReadConfig, MutualTlsSettingsAreRead) {
  TempFile ca, cert, key;
  Channel c = ReadChannel({{"audit.clue.addr", "dns:///clue-service.sm:7102"},
                           {"audit.clue.tls.ca_file", ca.path()},
                           {"audit.clue.tls.cert_file", cert.path()},
                           {"audit.clue.tls.key_file", key.path()},
                           {"audit.clue.tls.server_name", "clue-service"},
                           {"audit.clue.deadline_ms", "1500"}},
                          false);
  ASSERT_TRUE(c.status.ok()) << c.status;
  EXPECT_EQ(c.config.target, "dns:///clue-service.sm:7102");
  EXPECT_EQ(c.config.ca_file, ca.path());
  EXPECT_EQ(c.config.cert_file, cert.path());
  EXPECT_EQ(c.config.key_file, key.path());
  EXPECT_EQ(c.config.server_name_override, "clue-service");
  EXPECT_EQ(c.config.default_deadline, std::chrono::milliseconds(1500));
}

TEST(ClientReadConfig, PlaintextOutsideDevelopmentOnlyWhenAskedAndOnLoopback) {
  for (const char* addr : {"127.0.0.1:7102", "localhost:7102", "[::1]:7102"}) {
    SCOPED_TRACE(addr);
    Channel c = ReadChannel({{"audit.clue.addr", addr}, {"audit.clue.tls.plaintext", "true"}}, false);
    EXPECT_TRUE(c.status.ok()) << c.status;
    EXPECT_TRUE(c.config.ca_file.empty());
  }
  for (const char* addr : {"10.0.0.7:7102", "clue:7102", "127.evil.example:7102", "dns:///clue:7102"}) {
    SCOPED_TRACE(addr);
    Channel c = ReadChannel({{"audit.clue.addr", addr}, {"audit.clue.tls.plaintext", "true"}}, false);
    ASSERT_EQ(c.status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(c.status.message()), HasSubstr("audit.clue.tls.plaintext: is for a loopback address only"));
  }
}

TEST(ClientReadConfig, InconsistentOrUnreadableSettingsNameTheKey) {
  TempFile ca, cert;
  Channel unreadable = ReadChannel({{"audit.clue.tls.ca_file", "/nonexistent/ca.pem"}}, true);
  ASSERT_EQ(unreadable.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(unreadable.status.message()),
              HasSubstr("audit.clue.tls.ca_file: cannot read '/nonexistent/ca.pem'"));

  Channel cert_only =
      ReadChannel({{"audit.clue.tls.ca_file", ca.path()}, {"audit.clue.tls.cert_file", cert.path()}}, true);
  ASSERT_EQ(cert_only.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(cert_only.status.message()), HasSubstr("audit.clue.tls: cert_file and key_file"));

  Channel no_ca =
      ReadChannel({{"audit.clue.tls.cert_file", cert.path()}, {"audit.clue.tls.key_file", cert.path()}}, true);
  ASSERT_EQ(no_ca.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(no_ca.status.message()), HasSubstr("audit.clue.tls.ca_file"));

  Channel both = ReadChannel({{"audit.clue.tls.ca_file", ca.path()}, {"audit.clue.tls.plaintext", "true"}}, true);
  ASSERT_EQ(both.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(both.status.message()), HasSubstr("audit.clue.tls.plaintext: contradicts"));

  for (const char* addr : {"clue", "clue:", ":7102", "clue:99999", "clue:7x"}) {
    SCOPED_TRACE(addr);
    Channel bad = ReadChannel({{"audit.clue.addr", addr}}, true);
    ASSERT_EQ(bad.status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(bad.status.message()), HasSubstr("audit.clue.addr"));
  }
}

struct Loaded {
  ServiceConfig config;
  absl::Status status;
};
Loaded Load(const std::map<std::string, std::string>& sets) {
  auto source =
      config::Source::FromYaml("auth:\n  verify_key: 0123456789abcdef0123456789abcdef-own\n", "file svc.yaml", NoEnv());
  EXPECT_TRUE(source.ok());
  for (const auto& [k, v] : sets) source->Set(k, v);
  config::Reader r(*source);
  Loaded out;
  out.config = ReadServiceConfig(r, "audit-service", "127.0.0.1:7103", "127.0.0.1:9103", "sm_audit");
  out.status = r.Finish();
  return out;
}

TEST(DbTls, LoopbackKeepsLibpqsDefault) {
  for (const char* host : {"127.0.0.1", "localhost", "::1", "/var/run/postgresql"}) {
    SCOPED_TRACE(host);
    Loaded l = Load({{"db.host", host}});
    ASSERT_TRUE(l.status.ok()) << l.status;
    EXPECT_EQ(l.config.db.sslmode, "prefer");
  }
}

TEST(DbTls, ANetworkDatabaseNeedsVerifyFullWithARootCertOutsideDevelopment) {
  Loaded missing_root = Load({{"db.host", "pg.internal"}});
  ASSERT_EQ(missing_root.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(missing_root.status.message()),
              HasSubstr("db.sslrootcert: is required with db.sslmode verify-full"));

  for (const char* weak : {"disable", "allow", "prefer", "require", "verify-ca"}) {
    SCOPED_TRACE(weak);
    TempFile root;
    Loaded l = Load({{"db.host", "10.1.2.3"}, {"db.sslmode", weak}, {"db.sslrootcert", root.path()}});
    ASSERT_EQ(l.status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(l.status.message()), HasSubstr("db.sslmode: must be verify-full"));
  }

  TempFile root, cert, key;
  Loaded ok = Load({{"db.host", "pg.internal"},
                    {"db.sslrootcert", root.path()},
                    {"db.sslcert", cert.path()},
                    {"db.sslkey", key.path()}});
  ASSERT_TRUE(ok.status.ok()) << ok.status;
  EXPECT_EQ(ok.config.db.sslmode, "verify-full");
  EXPECT_EQ(ok.config.db.sslrootcert, root.path());
  EXPECT_EQ(ok.config.db.sslcert, cert.path());
  EXPECT_EQ(ok.config.db.sslkey, key.path());
}

TEST(DbTls, BadSettingsNameTheKey) {
  Loaded mode = Load({{"db.sslmode", "verify"}});
  EXPECT_THAT(std::string(mode.status.message()), HasSubstr("db.sslmode"));
  Loaded root = Load({{"db.sslmode", "verify-ca"}, {"db.sslrootcert", "/nonexistent/root.crt"}});
  EXPECT_THAT(std::string(root.status.message()), HasSubstr("db.sslrootcert: cannot read '/nonexistent/root.crt'"));
  TempFile cert;
  Loaded half = Load({{"db.sslcert", cert.path()}});
  EXPECT_THAT(std::string(half.status.message()),
              HasSubstr("db.sslcert: db.sslcert and db.sslkey must be set together"));
}

TEST(DbTls, ConnectionStringQuotesEveryValue) {
  db::PoolConfig c;
  c.user = "sm_audit";
  c.sslmode = "verify-full";
  c.sslrootcert = "/etc/sm/it's ca\\.crt";
  c.sslcert = "/etc/sm/client.crt sslmode=disable";
  c.sslkey = "/etc/sm/client.key";
  const std::string s = db::ConnectionString(c);
  EXPECT_THAT(s, HasSubstr(" sslmode='verify-full'"));
  EXPECT_THAT(s, HasSubstr(" sslrootcert='/etc/sm/it\\'s ca\\\\.crt'"));
  EXPECT_THAT(s, HasSubstr(" sslcert='/etc/sm/client.crt sslmode=disable'"));  // one value, not a keyword
  EXPECT_THAT(s, HasSubstr(" sslkey='/etc/sm/client.key'"));
  db::PoolConfig plain;
  EXPECT_THAT(db::ConnectionString(plain), Not(HasSubstr("ssl")));
}

TEST(AdminTls, ANonLoopbackAdminPortNeedsAToken) {
  Loaded open = Load({{"admin.listen", "0.0.0.0:9103"}});
  ASSERT_EQ(open.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(open.status.message()),
              HasSubstr("admin.token: is required when admin.listen is not loopback"));

  Loaded short_token = Load({{"admin.listen", "0.0.0.0:9103"}, {"admin.token", "short"}});
  EXPECT_THAT(std::string(short_token.status.message()), HasSubstr("admin.token: is too short"));

  Loaded ok = Load({{"admin.listen", "0.0.0.0:9103"}, {"admin.token", "0123456789abcdef-metrics"}});
  ASSERT_TRUE(ok.status.ok()) << ok.status;
  EXPECT_EQ(ok.config.admin_token, "0123456789abcdef-metrics");

  Loaded loopback = Load({});
  ASSERT_TRUE(loopback.status.ok()) << loopback.status;
  EXPECT_TRUE(loopback.config.admin_token.empty());
}

}  // namespace
}  // namespace sm
