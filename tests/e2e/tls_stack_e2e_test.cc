// End to end over TLS: `deploy/local/stack start --tls` (production mode: mutual TLS on
// every gRPC port and from audit-service to clue-service, PostgreSQL over TLS with
// verify-full, each service's own identity key, certificates and keys made by
// scripts/certs), driven with smctl presenting its client certificate. A finding referred
// by audit-service arrives at clue-service, and the clue's outcome comes back over the
// event feed; a client without TLS, one without a client certificate, a token signed with
// the published development secret and a PostgreSQL connection without TLS are all refused.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <regex>
#include <string>
#include <thread>

#include "tests/support/local_stack.h"

namespace {

using sm::testing::FreePort;
using sm::testing::PollUntil;
using sm::testing::Sh;
using Result = sm::testing::ShResult;

constexpr const char* kAdmin = "admin";
constexpr const char* kAuditor = "auditor";
constexpr const char* kGroup = "group";

class TlsStackE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stack_ = new sm::testing::LocalStack("tls-e2e");
    dir_ = new std::string(stack_->dir());
    env_ = new std::string(stack_->env());
    dir_port_ = stack_->grpc_port("directory");
    clue_port_ = stack_->grpc_port("clue");
    audit_port_ = stack_->grpc_port("audit");
    pg_port_ = stack_->pg_port();
    certs_ = new std::string(*dir_ + "/run/certs");
    started_ = true;
    Result r = stack_->Start("--tls");
    ASSERT_EQ(r.code, 0) << r.out;
    ASSERT_NE(r.out.find("(mutual TLS)"), std::string::npos) << r.out;

    r = Smctl("login --dev --user e2e-admin --role admin", kAdmin);
    ASSERT_EQ(r.code, 0) << r.out;
    r = Smctl("directory import " SM_SOURCE_DIR "/deploy/demo/directory.yaml", kAdmin);
    ASSERT_EQ(r.code, 0) << r.out;
    r = Smctl("login --dev --user audit-officer --unit audit-office --role auditor --clearance 1", kAuditor);
    ASSERT_EQ(r.code, 0) << r.out;
    r = Smctl("login --dev --user group-officer --unit discipline-group --role discipline --clearance 2", kGroup);
    ASSERT_EQ(r.code, 0) << r.out;
  }

  static void TearDownTestSuite() {
    if (started_) {
      Result r = stack_->Stop();
      EXPECT_EQ(r.code, 0) << r.out;
    }
    delete stack_;  // removes the folder
    delete dir_;
    delete env_;
    delete certs_;
  }

  // TLS settings smctl takes from the environment: the stack's CA, smctl's client
  // certificate and the local identity provider's secret.
  static std::string TlsEnv() {
    return "SMCTL_CA_FILE=" + *certs_ + "/ca.crt SMCTL_CERT_FILE=" + *certs_ + "/smctl.crt SMCTL_KEY_FILE=" + *certs_ +
           "/smctl.key SMCTL_SECRET_FILE=" + *certs_ + "/keys/people.secret ";
  }

  // smctl as the user whose token is in `config`, with `tls` settings (env assignments).
  static Result Smctl(const std::string& args, const std::string& config, bool merge_stderr = true,
                      const std::string& tls = TlsEnv()) {
    return Sh(tls + "SMCTL_CONFIG_DIR=" + *dir_ + "/" + config + " SMCTL_ADDR=127.0.0.1:" + std::to_string(dir_port_) +
                  " SMCTL_CLUE_ADDR=127.0.0.1:" + std::to_string(clue_port_) + " SMCTL_AUDIT_ADDR=127.0.0.1:" +
                  std::to_string(audit_port_) + " SMCTL_LANG=en " SM_BINARY_DIR "/tools/smctl/smctl " + args,
              merge_stderr);
  }

  static inline sm::testing::LocalStack* stack_;
  static inline std::string* dir_;
  static inline std::string* env_;
  static inline std::string* certs_;
  static inline int dir_port_;
  static inline int clue_port_;
  static inline int audit_port_;
  static inline int pg_port_;
  static inline bool started_ = false;
};

TEST_F(TlsStackE2E, SmctlWorksOverMutualTls) {
  Result units = Smctl("units list", kAdmin);
  ASSERT_EQ(units.code, 0) << units.out;
  EXPECT_NE(units.out.find("bureau"), std::string::npos) << units.out;
  Result clues = Smctl("clue list", kGroup);
  EXPECT_EQ(clues.code, 0) << clues.out;
  Result engagements = Smctl("audit engagement list", kAuditor);
  EXPECT_EQ(engagements.code, 0) << engagements.out;
}

TEST_F(TlsStackE2E, AReferralCrossesToClueServiceAndItsOutcomeComesBack) {
  Result create = Smctl(
      "audit engagement create --kind property --title 'TLS e2e audit' --audit-unit audit-office"
      " --audited-unit fucheng-branch --from 2024-01-01 --to 2024-12-31 -o json",
      kAuditor, false);
  ASSERT_EQ(create.code, 0) << create.out;
  const std::string eng = nlohmann::json::parse(create.out)["engagement"]["number"].get<std::string>();
  ASSERT_EQ(Smctl("audit engagement advance " + eng + " --to fieldwork", kAuditor).code, 0);
  Result add =
      Smctl("audit finding add --engagement " + eng +
                " --title 'Allowance paid without approval' --description 'From the vouchers'"
                " --category financial-discipline --amount 100.00 --severity medium --unit fucheng-branch -o json",
            kAuditor, false);
  ASSERT_EQ(add.code, 0) << add.out;
  const std::string finding = nlohmann::json::parse(add.out)["finding"]["id"].get<std::string>();
  Result refer = Smctl("audit finding refer " + finding + " --to discipline-group --category integrity", kAuditor);
  ASSERT_EQ(refer.code, 0) << refer.out;

  // audit-service's relay delivers RegisterClue over mutual TLS with its own identity key.
  std::string clue_number;
  const bool delivered = PollUntil([&] {
    Result show = Smctl("audit finding show " + finding + " -o json", kAuditor, false);
    if (show.code != 0) return false;
    auto j = nlohmann::json::parse(show.out, nullptr, false);
    if (j.is_discarded() || j["referral"]["state"] != "REFERRAL_STATE_DELIVERED") return false;
    clue_number = j["referral"]["clue_number"].get<std::string>();
    return !clue_number.empty();
  });
  ASSERT_TRUE(delivered) << Smctl("audit finding show " + finding, kAuditor).out
                         << Sh("tail -n 20 " + *dir_ + "/run/logs/audit.log").out;
  Result clue = Smctl("clue show " + clue_number, kGroup);
  ASSERT_EQ(clue.code, 0) << clue.out;

  // The outcome comes back over clue-service's event feed (the same mutual TLS channel).
  ASSERT_EQ(Smctl("clue accept " + clue_number, kGroup).code, 0);
  ASSERT_EQ(Smctl("clue dispose " + clue_number + " --method verify", kGroup).code, 0);
  ASSERT_EQ(Smctl("clue conclude " + clue_number + " --form 2 --feedback 'Verified; admonished'", kGroup).code, 0);
  Result show;
  const bool concluded = PollUntil([&] {
    show = Smctl("audit finding show " + finding, kAuditor);
    return show.code == 0 && show.out.find("Verified; admonished") != std::string::npos;
  });
  EXPECT_TRUE(concluded) << show.out;
}

TEST_F(TlsStackE2E, ClientsWithoutTlsOrACertificateAreRefused) {
  // Exit code 7: the handshake fails, so the service is unavailable to this client.
  Result plaintext = Smctl("units list", kAdmin, true, "SMCTL_CA_FILE= SMCTL_CERT_FILE= SMCTL_KEY_FILE= ");
  EXPECT_EQ(plaintext.code, 7) << plaintext.out;
  Result no_cert =
      Smctl("units list", kAdmin, true, "SMCTL_CA_FILE=" + *certs_ + "/ca.crt SMCTL_CERT_FILE= SMCTL_KEY_FILE= ");
  EXPECT_EQ(no_cert.code, 7) << no_cert.out;
  // A service's certificate is a client certificate from the same CA: the handshake passes
  // (what the token says is checked next).
  Result service_cert = Smctl("units list", kAdmin, true,
                              "SMCTL_CA_FILE=" + *certs_ + "/ca.crt SMCTL_CERT_FILE=" + *certs_ +
                                  "/audit-service.crt SMCTL_KEY_FILE=" + *certs_ + "/audit-service.key ");
  EXPECT_EQ(service_cert.code, 0) << service_cert.out;
}

TEST_F(TlsStackE2E, ThePublishedDevelopmentSecretIsRefused) {
  // Outside development mode the stack trusts only the keys scripts/certs made.
  Result login = Smctl("login --dev --user mallory --role admin", "dev", true, TlsEnv() + "SMCTL_SECRET_FILE= ");
  ASSERT_EQ(login.code, 0) << login.out;  // minting is local
  Result units = Smctl("units list", "dev");
  EXPECT_EQ(units.code, 3) << units.out;
}

TEST_F(TlsStackE2E, PostgreSqlSpeaksOnlyTls) {
  const std::string conn = "host=127.0.0.1 port=" + std::to_string(pg_port_) + " dbname=supervision user=postgres";
  Result plain = Sh("psql '" + conn + " sslmode=disable' -qtA -c 'SELECT 1'");
  EXPECT_NE(plain.code, 0) << plain.out;
  EXPECT_NE(plain.out.find("no encryption"), std::string::npos) << plain.out;
  Result sessions = Sh("psql '" + conn + " sslmode=verify-full sslrootcert=" + *certs_ +
                       "/ca.crt' -qtA -c \"SELECT count(*) FILTER (WHERE NOT s.ssl), count(*) FROM pg_stat_ssl s"
                       " JOIN pg_stat_activity a USING (pid) WHERE a.usename LIKE 'sm_%'\"");
  ASSERT_EQ(sessions.code, 0) << sessions.out;
  // Every service session is encrypted, and there are some.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(sessions.out, m, std::regex("^(\\d+)\\|(\\d+)"))) << sessions.out;
  EXPECT_EQ(m.str(1), "0") << sessions.out;
  EXPECT_GT(std::stoi(m.str(2)), 0) << sessions.out;
}

}  // namespace
