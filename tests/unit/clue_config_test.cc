// clue-service configuration: the reveal rule's N of M and window, and the start-up checks
// on them (N >= 1, N <= M); the chain checkpoint interval.
#include "services/clue/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sm::clue {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<Config> Load(const std::vector<std::string>& sets) {
  std::vector<std::string> args = {"clue-service", "--set", "clue.calendar_dir=/nonexistent", "--set",
                                   "mode=development"};
  for (const auto& s : sets) {
    args.push_back("--set");
    args.push_back(s);
  }
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return LoadConfig(static_cast<int>(argv.size()), argv.data(),
                    [](const std::string&) -> std::optional<std::string> { return std::nullopt; });
}

TEST(ClueConfigTest, RevealDefaultsToTwoOfThreeWithinAnHour) {
  auto c = Load({});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->reveal.approvals, 2);
  EXPECT_EQ(c->reveal.custodians, 3);
  EXPECT_EQ(c->reveal.window, std::chrono::minutes(60));
}

TEST(ClueConfigTest, RevealSettingsAreRead) {
  auto c = Load({"clue.reveal.approvals=3", "clue.reveal.custodians=5", "clue.reveal.window_minutes=15"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->reveal.approvals, 3);
  EXPECT_EQ(c->reveal.custodians, 5);
  EXPECT_EQ(c->reveal.window, std::chrono::minutes(15));
  // N = M is allowed: every custodian must approve.
  EXPECT_TRUE(Load({"clue.reveal.approvals=3", "clue.reveal.custodians=3"}).ok());
}

TEST(ClueConfigTest, StartUpIsRefusedWhenNoRequestCouldBeApproved) {
  auto more_than_m = Load({"clue.reveal.approvals=4", "clue.reveal.custodians=3"});
  ASSERT_FALSE(more_than_m.ok());
  EXPECT_THAT(std::string(more_than_m.status().message()), HasSubstr("clue.reveal.approvals"));
  EXPECT_THAT(std::string(more_than_m.status().message()), HasSubstr("clue.reveal.custodians"));
  auto zero = Load({"clue.reveal.approvals=0"});
  ASSERT_FALSE(zero.ok());
  EXPECT_THAT(std::string(zero.status().message()), HasSubstr("clue.reveal.approvals"));
  auto no_window = Load({"clue.reveal.window_minutes=0"});
  ASSERT_FALSE(no_window.ok());
  EXPECT_THAT(std::string(no_window.status().message()), HasSubstr("clue.reveal.window_minutes"));
}

TEST(ClueConfigTest, CheckpointIntervalDefaultsToAMinuteAndIsBounded) {
  auto c = Load({});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->checkpoint_interval, std::chrono::milliseconds(60000));
  c = Load({"chain.checkpoint_interval_ms=5000"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->checkpoint_interval, std::chrono::milliseconds(5000));
  auto zero = Load({"chain.checkpoint_interval_ms=0"});
  ASSERT_FALSE(zero.ok());
  EXPECT_THAT(std::string(zero.status().message()), HasSubstr("chain.checkpoint_interval_ms"));
}

}  // namespace
}  // namespace sm::clue
