// risk-service checks its scoring rules before anything else starts: a bad rule file, or none,
// stops the process with exit code 2 and every problem named by its key path — before it
// connects to PostgreSQL (none is running here).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "tests/support/local_stack.h"

namespace sm::testing {
namespace {

std::string Start(const std::string& sets) {
  return std::string(SM_BINARY_DIR) +
         "/services/risk/risk-service --set mode=development --set risk.calendar_dir=" + SM_SOURCE_DIR +
         "/deploy/calendar " + sets;
}

std::string Write(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(RiskStartupTest, ABadRuleFileStopsTheServiceNamingEveryRule) {
  const std::string bad = Write("bad-rules.yaml",
                                "threshold: 500\n"
                                "signals:\n"
                                "  clue_named: {weight: 10, half_life_days: 0, cap: 30}\n"
                                "  clue_concluded: {grades: {form_9: 5}, half_life_days: 365}\n"
                                "  gossip: {weight: 1, half_life_days: 10}\n");
  ShResult r = Sh(Start("--set risk.rules_file=" + bad));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("signals.clue_named.half_life_days: must be > 0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("signals.clue_concluded.grades.form_9"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("signals.gossip"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("signals.audit_finding: missing"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("threshold"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(bad), std::string::npos) << "the file is named: " << r.out;
}

TEST(RiskStartupTest, NoRuleFileIsAConfigurationError) {
  ShResult r = Sh(Start(""));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("risk.rules_file"), std::string::npos) << r.out;
  const std::string missing = ::testing::TempDir() + "/no-such-rules.yaml";
  r = Sh(Start("--set risk.rules_file=" + missing));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find(missing), std::string::npos) << r.out;
}

}  // namespace
}  // namespace sm::testing
