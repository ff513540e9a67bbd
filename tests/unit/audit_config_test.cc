// Tests for services/audit/config.cc: audit-service's channel to clue-service (audit.clue.*)
// is read by client::ReadConfig, mutual TLS outside development, and the renamed
// audit.clue_addr is refused with the new name; the chain checkpoint interval, and the
// identity key (which signs the checkpoints) required outside development.
#include "services/audit/config.h"

#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sm::audit {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<Config> Load(const std::vector<std::string>& sets, const std::map<std::string, std::string>& env = {}) {
  std::vector<std::string> args = {"audit-service"};
  for (const auto& s : sets) {
    args.push_back("--set");
    args.push_back(s);
  }
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return LoadConfig(static_cast<int>(argv.size()), argv.data(),
                    [env](const std::string& name) -> std::optional<std::string> {
                      auto it = env.find(name);
                      if (it == env.end()) return std::nullopt;
                      return it->second;
                    });
}

TEST(AuditConfig, DevelopmentTalksToClueOnLoopbackInPlaintext) {
  auto c = Load({"mode=development", "audit.calendar_dir=/cal"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->clue.target, "127.0.0.1:7102");
  EXPECT_TRUE(c->clue.ca_file.empty());
}

TEST(AuditConfig, OutsideDevelopmentTheClueChannelNeedsMutualTls) {
  auto c = Load({"audit.calendar_dir=/cal", "auth.keys_file=/k.yaml", "identity.key_file=/id.pem"});
  ASSERT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("audit.clue.tls.ca_file: is required outside development"));
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("audit.clue.tls.cert_file"));
}

TEST(AuditConfig, TheOldAddressKeyIsRefusedWithItsNewName) {
  auto c = Load({"mode=development", "audit.calendar_dir=/cal", "audit.clue_addr=127.0.0.1:7999"});
  ASSERT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("audit.clue_addr: was renamed: use audit.clue.addr"));
  EXPECT_THAT(std::string(c.status().message()), ::testing::Not(HasSubstr("unknown key")));
}

TEST(AuditConfig, TheEnvironmentVariableSetsTheNewKey) {
  // SM_AUDIT_CLUE_ADDR is the variable of both spellings: it means audit.clue.addr.
  auto c = Load({"mode=development", "audit.calendar_dir=/cal"}, {{"SM_AUDIT_CLUE_ADDR", "127.0.0.1:7999"}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->clue.target, "127.0.0.1:7999");
}

TEST(AuditConfig, CheckpointIntervalDefaultsToAMinuteAndIsBounded) {
  auto c = Load({"mode=development", "audit.calendar_dir=/cal"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->checkpoint_interval, std::chrono::milliseconds(60000));
  c = Load({"mode=development", "audit.calendar_dir=/cal", "chain.checkpoint_interval_ms=5000"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->checkpoint_interval, std::chrono::milliseconds(5000));
  auto zero = Load({"mode=development", "audit.calendar_dir=/cal", "chain.checkpoint_interval_ms=0"});
  ASSERT_FALSE(zero.ok());
  EXPECT_THAT(std::string(zero.status().message()), HasSubstr("chain.checkpoint_interval_ms"));
}

TEST(AuditConfig, OutsideDevelopmentTheIdentityKeyIsRequiredForCheckpoints) {
  auto c = Load({"audit.calendar_dir=/cal", "auth.keys_file=/k.yaml"});
  ASSERT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("identity.key_file: is required outside development"));
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("chain checkpoints"));
}

}  // namespace
}  // namespace sm::audit
