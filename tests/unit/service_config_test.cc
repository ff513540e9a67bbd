// Tests for common/service_config.h: defaults of the shared sections and the start-up checks
// (plaintext only on loopback, TLS files together, the development HS256 secret).
#include "common/service_config.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sm {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

config::EnvLookup NoEnv() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

// Reads the shared sections of `yaml` (plus `sets` as --set flags) for a test service.
struct Loaded {
  ServiceConfig config;
  absl::Status status;
};
Loaded Load(const std::string& yaml, const std::map<std::string, std::string>& sets = {}) {
  auto source = config::Source::FromYaml(yaml, "file svc.yaml", NoEnv());
  EXPECT_TRUE(source.ok()) << source.status();
  if (!source.ok()) return {{}, source.status()};
  for (const auto& [k, v] : sets) source->Set(k, v);
  config::Reader r(*source);
  Loaded out;
  out.config = ReadServiceConfig(r, "directory-service", "127.0.0.1:50051", "127.0.0.1:9101", "directory");
  out.status = r.Finish();
  return out;
}

// A production file's minimum: the key that verifies people's tokens.
const std::string kKeyed = "auth:\n  verify_key: 0123456789abcdef0123456789abcdef-own\n";

TEST(ServiceConfig, DefaultsRunOnLoopbackInProductionMode) {
  Loaded l = Load(kKeyed);
  ASSERT_TRUE(l.status.ok()) << l.status;
  const ServiceConfig& c = l.config;
  EXPECT_EQ(c.name, "directory-service");
  EXPECT_FALSE(c.development);
  EXPECT_EQ(c.grpc.listen, "127.0.0.1:50051");
  EXPECT_EQ(c.admin_listen, "127.0.0.1:9101");
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.grpc.max_message_bytes, 16 << 20);
  EXPECT_TRUE(c.grpc.tls.cert_file.empty());
  EXPECT_EQ(c.db.host, "127.0.0.1");
  EXPECT_EQ(c.db.port, 5432);
  EXPECT_EQ(c.db.dbname, "supervision");
  EXPECT_EQ(c.db.user, "directory");
  EXPECT_EQ(c.db.application_name, "directory-service");
  EXPECT_EQ(c.db.size, 8);
  EXPECT_EQ(c.db_startup_wait, std::chrono::milliseconds(30000));
  EXPECT_TRUE(c.redis_enabled);
  EXPECT_EQ(c.redis.port, 6379);
  EXPECT_EQ(c.redis.key_prefix, "sm:");
  ASSERT_EQ(c.auth.keys.size(), 1u) << "the configured key only: no development key outside development";
  EXPECT_EQ(c.auth.keys[0].material, "0123456789abcdef0123456789abcdef-own");
  EXPECT_EQ(c.auth.keys[0].vouches, auth::Vouches::kPeople);
  EXPECT_EQ(c.auth.issuer, "supervision-mesh");
  EXPECT_EQ(c.auth.audience, "supervision-mesh");
  EXPECT_EQ(c.auth.leeway, std::chrono::seconds(30));
  EXPECT_EQ(c.auth.max_lifetime, std::chrono::hours(24));
  EXPECT_TRUE(c.identity.key_pem.empty()) << "no development service key outside development";
}

TEST(ServiceConfig, WithoutModeAndKeysStartUpStopsNamingTheKey) {
  Loaded l = Load("");
  ASSERT_EQ(l.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(l.status.message()), HasSubstr("auth.keys_file: is required outside development"));
  Loaded other = Load("mode: staging\n" + kKeyed);
  ASSERT_EQ(other.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(other.status.message()), HasSubstr("mode"));
}

TEST(ServiceConfig, DevelopmentModeUsesThePublishedKeys) {
  Loaded l = Load("mode: development\n");
  ASSERT_TRUE(l.status.ok()) << l.status;
  EXPECT_TRUE(l.config.development);
  ASSERT_EQ(l.config.auth.keys.size(), 2u);
  EXPECT_EQ(l.config.auth.keys[0].material, std::string(auth::kDevelopmentSecret));
  EXPECT_EQ(l.config.auth.keys[1].vouches, auth::Vouches::kService);
  EXPECT_EQ(l.config.identity.key_pem, std::string(auth::kDevelopmentServiceKey));
  EXPECT_EQ(l.config.identity.name, "directory-service");
  // A people key configured in development replaces the development secret.
  Loaded own = Load("mode: development\n" + kKeyed);
  ASSERT_TRUE(own.status.ok()) << own.status;
  ASSERT_EQ(own.config.auth.keys.size(), 2u);
  EXPECT_EQ(own.config.auth.keys[0].material, "0123456789abcdef0123456789abcdef-own");
}

TEST(ServiceConfig, DevelopmentModeIsRefusedOffLoopback) {
  for (const char* listen : {"0.0.0.0:50051", "10.0.0.5:50051", "[::]:50051", "127.example.org:1"}) {
    SCOPED_TRACE(listen);
    Loaded l = Load("mode: development\ngrpc:\n  allow_plaintext: true\n", {{"grpc.listen", listen}});
    ASSERT_EQ(l.status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(l.status.message()),
                HasSubstr("mode: development is refused on a non-loopback grpc.listen"));
  }
  Loaded admin = Load("mode: development\n", {{"admin.listen", "0.0.0.0:9101"}});
  ASSERT_EQ(admin.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(admin.status.message()), HasSubstr("non-loopback admin.listen"));
}

TEST(ServiceConfig, LoopbackIsParsedNotPrefixMatched) {
  for (const char* a : {"127.0.0.1:1", "127.1.2.3:50051", "localhost:50051", "[::1]:50051", "127.255.255.254:0"}) {
    EXPECT_TRUE(IsLoopback(a)) << a;
  }
  for (const char* a : {"127.evil.example:1", "1270.0.0.1:1", "0.0.0.0:1", "[::]:1", "10.0.0.1:1",
                        "localhost.example:1", "[::ffff:10.0.0.1]:1", "128.0.0.1:1", ":1"}) {
    EXPECT_FALSE(IsLoopback(a)) << a;
  }
}

TEST(ServiceConfig, ValuesFromTheFileAreUsed) {
  char root[] = "/tmp/sm_service_config_test_XXXXXX";
  int fd = mkstemp(root);
  ASSERT_GE(fd, 0);
  close(fd);
  Loaded l = Load(
      "grpc:\n  listen: localhost:6000\n  max_threads: 8\n"
      "db:\n  host: pg\n  port: 5433\n  pool_size: 4\n  statement_timeout_ms: 1000\n"
      "  sslrootcert: " +
      std::string(root) +
      "\n"
      "redis:\n  enabled: false\n"
      "log:\n  level: debug\n"
      "auth:\n  verify_key: 0123456789abcdef0123456789abcdef-own\n  leeway_s: 5\n  max_token_lifetime_s: 3600\n");
  ASSERT_TRUE(l.status.ok()) << l.status;
  EXPECT_EQ(l.config.grpc.listen, "localhost:6000");
  EXPECT_EQ(l.config.grpc.max_threads, 8);
  EXPECT_EQ(l.config.db.host, "pg");
  EXPECT_EQ(l.config.db.port, 5433);
  EXPECT_EQ(l.config.db.size, 4);
  EXPECT_EQ(l.config.db.statement_timeout, std::chrono::milliseconds(1000));
  EXPECT_FALSE(l.config.redis_enabled);
  EXPECT_EQ(l.config.log_level, "debug");
  EXPECT_EQ(l.config.auth.keys[0].material, "0123456789abcdef0123456789abcdef-own");
  EXPECT_EQ(l.config.auth.leeway, std::chrono::seconds(5));
  EXPECT_EQ(l.config.auth.max_lifetime, std::chrono::seconds(3600));
  EXPECT_EQ(l.config.db.sslmode, "verify-full");  // a network database, outside development
  EXPECT_EQ(l.config.db.sslrootcert, root);
  std::remove(root);
}

TEST(ServiceConfig, LoopbackAddressesMayBePlaintext) {
  for (const char* listen : {"127.0.0.1:1", "127.1.2.3:50051", "localhost:50051", "[::1]:50051"}) {
    SCOPED_TRACE(listen);
    Loaded l = Load(kKeyed, {{"grpc.listen", listen}});
    EXPECT_TRUE(l.status.ok()) << l.status;
  }
}

TEST(ServiceConfig, PlaintextOnANonLoopbackAddressIsRefused) {
  for (const char* listen : {"0.0.0.0:50051", "10.0.0.5:50051", "[::]:50051", "example.org:1", "127.evil.example:1"}) {
    SCOPED_TRACE(listen);
    Loaded l = Load(kKeyed, {{"grpc.listen", listen}});
    ASSERT_EQ(l.status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(l.status.message()), HasSubstr("grpc.listen: plaintext is for loopback only"));
  }
}

TEST(ServiceConfig, PlaintextOnANonLoopbackAddressNeedsExplicitConsent) {
  Loaded l = Load(kKeyed + "grpc:\n  listen: 0.0.0.0:50051\n  allow_plaintext: true\n");
  EXPECT_TRUE(l.status.ok()) << l.status;
}

TEST(ServiceConfig, TlsOnANonLoopbackAddressIsFine) {
  Loaded l = Load(kKeyed + "grpc:\n  listen: 0.0.0.0:50051\n  tls:\n    cert_file: c.pem\n    key_file: k.pem\n");
  EXPECT_TRUE(l.status.ok()) << l.status;
  EXPECT_EQ(l.config.grpc.tls.cert_file, "c.pem");
  EXPECT_EQ(l.config.grpc.tls.key_file, "k.pem");
}

TEST(ServiceConfig, TlsCertAndKeyComeTogether) {
  Loaded cert_only = Load(kKeyed + "grpc:\n  tls:\n    cert_file: c.pem\n");
  ASSERT_EQ(cert_only.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(cert_only.status.message()),
              HasSubstr("grpc.tls: cert_file and key_file must be set together"));

  Loaded key_only = Load(kKeyed + "grpc:\n  tls:\n    key_file: k.pem\n");
  ASSERT_EQ(key_only.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(key_only.status.message()), HasSubstr("grpc.tls:"));

  Loaded ca_only = Load(kKeyed + "grpc:\n  tls:\n    client_ca_file: ca.pem\n");
  ASSERT_EQ(ca_only.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(ca_only.status.message()), HasSubstr("grpc.tls.client_ca_file"));
}

TEST(ServiceConfig, UnknownAlgorithmIsRefused) {
  Loaded l = Load(kKeyed, {{"auth.algorithm", "none"}});
  ASSERT_EQ(l.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(l.status.message()), HasSubstr("auth.algorithm"));
}

TEST(ServiceConfig, AKeySetFileAloneIsEnough) {
  Loaded l = Load("auth:\n  keys_file: /etc/sm/keys.yaml\n");
  ASSERT_TRUE(l.status.ok()) << l.status;
  EXPECT_TRUE(l.config.auth.keys.empty());
  EXPECT_EQ(l.config.auth.keys_file, "/etc/sm/keys.yaml");
}

TEST(ServiceConfig, VerifyKeyIsReadFromAFile) {
  char name[] = "/tmp/sm_service_config_test_XXXXXX";
  int fd = mkstemp(name);
  ASSERT_GE(fd, 0);
  close(fd);
  const std::string pem = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
  std::ofstream(name) << pem;
  Loaded l = Load("", {{"auth.algorithm", "RS256"}, {"auth.verify_key_file", name}, {"auth.verify_key_id", "idp-1"}});
  std::remove(name);
  ASSERT_TRUE(l.status.ok()) << l.status;
  ASSERT_EQ(l.config.auth.keys.size(), 1u);
  EXPECT_EQ(l.config.auth.keys[0].material, pem);
  EXPECT_EQ(l.config.auth.keys[0].algorithm, "RS256");
  EXPECT_EQ(l.config.auth.keys[0].kid, "idp-1");

  Loaded missing = Load("", {{"auth.verify_key_file", "/nonexistent/key.pem"}});
  ASSERT_EQ(missing.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(missing.status.message()), HasSubstr("auth.verify_key_file"));
  EXPECT_THAT(std::string(missing.status.message()), HasSubstr("/nonexistent/key.pem"));
}

TEST(ServiceConfig, BadValuesAreAllReportedTogether) {
  Loaded l = Load("db:\n  port: 0\n  pool_size: 0\nlog:\n  level: chatty\nadmin:\n  listen: nowhere\n");
  ASSERT_EQ(l.status.code(), absl::StatusCode::kInvalidArgument);
  const std::string m(l.status.message());
  EXPECT_THAT(m, HasSubstr("db.port"));
  EXPECT_THAT(m, HasSubstr("db.pool_size"));
  EXPECT_THAT(m, HasSubstr("log.level"));
  EXPECT_THAT(m, HasSubstr("admin.listen"));
  EXPECT_THAT(m, HasSubstr("auth.keys_file"));
}

TEST(ServiceConfig, ATypoInASectionIsAnUnknownKey) {
  Loaded l = Load(kKeyed + "db:\n  hots: pg\n");
  ASSERT_EQ(l.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(l.status.message()), HasSubstr("db.hots: unknown key"));
}

// Documented switches must be accepted whatever the other values are: a safety setting
// written into every production file must not stop start-up as an "unknown key".
TEST(ServiceConfig, AllowPlaintextIsAKnownKeyOnLoopbackToo) {
  Loaded l = Load(kKeyed + "grpc:\n  listen: 127.0.0.1:50051\n  allow_plaintext: false\n");
  // Regression (fixed): service_config.cc reads grpc.allow_plaintext only inside the non-loopback,
  // no-TLS branch (short-circuit &&), so on loopback or with TLS the key is never read and
  // Reader::Finish reports "grpc.allow_plaintext: unknown key".
  EXPECT_TRUE(l.status.ok()) << l.status;
  EXPECT_THAT(std::string(l.status.message()), Not(HasSubstr("unknown key")));
}

TEST(ServiceConfig, TheRetiredDevelopmentSwitchIsAnUnknownKey) {
  // auth.allow_development_secret defaulted to true; `mode` replaced it. A file that still
  // sets it is told so rather than silently ignored.
  Loaded l = Load(kKeyed + "  allow_development_secret: false\n");
  ASSERT_EQ(l.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(l.status.message()), HasSubstr("auth.allow_development_secret: unknown key"));
}

}  // namespace
}  // namespace sm
