// PostgreSQL over TLS: a throwaway PostgreSQL with ssl=on and a server certificate made by
// scripts/certs, reached through the service configuration (db.sslmode, db.sslrootcert)
// and the pool. verify-full against the CA that signed it connects encrypted; against
// another CA (a second scripts/certs folder) it fails; without TLS the server refuses.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>

#include "common/db/pool.h"
#include "common/service_config.h"
#include "tests/support/pg_redis.h"

namespace sm {
namespace {

class DbTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/sm-db-tls-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = new std::string(tmpl);
    for (const char* ca : {"/ours", "/other"}) {
      ASSERT_EQ(testing::Run(std::string(SM_SOURCE_DIR) + "/scripts/certs " + *dir_ + ca + " > /dev/null"), 0);
    }
    pg_ = new testing::TlsPostgres(*dir_ + "/ours/postgres.crt", *dir_ + "/ours/postgres.key");
  }
  static void TearDownTestSuite() {
    delete pg_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  // The pool settings a service reads from `sets` (production mode, loopback database).
  static db::PoolConfig FromConfig(const std::map<std::string, std::string>& sets) {
    auto source =
        config::Source::FromYaml("auth:\n  verify_key: 0123456789abcdef0123456789abcdef-own\n", "test",
                                 [](const std::string&) -> std::optional<std::string> { return std::nullopt; });
    EXPECT_TRUE(source.ok());
    source->Set("db.host", "127.0.0.1");
    source->Set("db.port", std::to_string(pg_->port()));
    source->Set("db.name", "postgres");
    for (const auto& [k, v] : sets) source->Set(k, v);
    config::Reader r(*source);
    ServiceConfig c = ReadServiceConfig(r, "audit-service", "127.0.0.1:7103", "127.0.0.1:9103", "postgres");
    absl::Status s = r.Finish();
    EXPECT_TRUE(s.ok()) << s;
    c.db.size = 1;
    return c.db;
  }

  static inline std::string* dir_;
  static inline testing::TlsPostgres* pg_;
};

TEST_F(DbTlsTest, VerifyFullAgainstItsCaConnectsEncrypted) {
  db::Pool pool(FromConfig({{"db.sslmode", "verify-full"}, {"db.sslrootcert", *dir_ + "/ours/ca.crt"}}));
  ASSERT_TRUE(pool.Ping().ok()) << pool.Ping();
  auto lease = pool.Acquire();
  ASSERT_TRUE(lease.ok()) << lease.status();
  pqxx::nontransaction tx(lease->conn());
  auto row = tx.exec1("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
  EXPECT_TRUE(row[0].as<bool>());
  EXPECT_FALSE(row[1].is_null());
}

TEST_F(DbTlsTest, VerifyFullAgainstAnotherCaFails) {
  db::Pool pool(FromConfig({{"db.sslmode", "verify-full"}, {"db.sslrootcert", *dir_ + "/other/ca.crt"}}));
  absl::Status s = pool.Ping();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_NE(std::string(s.message()).find("certificate verify failed"), std::string::npos) << s;
}

TEST_F(DbTlsTest, ACertificateForAnotherHostFailsVerifyFullButPassesVerifyCa) {
  // The smctl certificate names the same hosts but is a client certificate: use a server
  // certificate whose names do not include 127.0.0.1 instead, made from our CA.
  const std::string d = *dir_ + "/ours";
  ASSERT_EQ(testing::Run("cd " + d +
                         " && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out elsewhere.key"
                         " 2>/dev/null && openssl req -new -key elsewhere.key -subj /CN=db.elsewhere -out elsewhere.csr"
                         " && (printf 'subjectAltName=DNS:db.elsewhere\\n' > elsewhere.ext) && openssl x509 -req -in "
                         "elsewhere.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile elsewhere.ext"
                         " -out elsewhere.crt 2>/dev/null"),
            0);
  testing::TlsPostgres elsewhere(d + "/elsewhere.crt", d + "/elsewhere.key");
  db::PoolConfig full = FromConfig({{"db.sslmode", "verify-full"}, {"db.sslrootcert", d + "/ca.crt"}});
  full.port = elsewhere.port();
  absl::Status s = db::Pool(full).Ping();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_NE(std::string(s.message()).find("does not match host name"), std::string::npos) << s;
  db::PoolConfig ca_only = full;
  ca_only.sslmode = "verify-ca";
  EXPECT_TRUE(db::Pool(ca_only).Ping().ok());
}

TEST_F(DbTlsTest, WithoutTlsTheServerRefuses) {
  db::Pool pool(FromConfig({{"db.sslmode", "disable"}}));
  absl::Status s = pool.Ping();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_NE(std::string(s.message()).find("no encryption"), std::string::npos) << s;
}

}  // namespace
}  // namespace sm
