// What the clue and audit e2e tests check of `smctl <service> verify-all` and `smctl
// <service> checkpoints export` against the running stack, once: the service signed a
// checkpoint at start-up, oversight verifies every chain and exports the checkpoints as JSON
// lines, and other callers are refused.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/local_stack.h"

namespace sm::testing {

// smctl `args` as the token store `user`, stderr merged or not.
using SmctlRun = std::function<ShResult(const std::string& args, const std::string& user, bool merge_stderr)>;

// `command` is smctl's ("clue", "audit"), `service` the name signed into the checkpoints
// ("clue-service"); `oversight` is logged in with the oversight role; each of `refused` must
// get PERMISSION_DENIED (exit 4).
inline void ExpectCheckpointCommands(const SmctlRun& smctl, const std::string& command, const std::string& service,
                                     const std::string& oversight, const std::vector<std::string>& refused) {
  ShResult all = smctl(command + " verify-all", oversight, true);
  EXPECT_EQ(all.code, 0) << all.out;
  EXPECT_NE(all.out.find("完整"), std::string::npos) << all.out;
  ShResult all_json = smctl(command + " verify-all -o json", oversight, false);
  EXPECT_EQ(all_json.code, 0) << all_json.out;
  EXPECT_EQ(nlohmann::json::parse(all_json.out, nullptr, false).value("intact", false), true) << all_json.out;
  ShResult exported = smctl(command + " checkpoints export", oversight, false);
  ASSERT_EQ(exported.code, 0) << exported.out;
  std::istringstream lines(exported.out);
  std::string first;
  ASSERT_TRUE(std::getline(lines, first)) << exported.out;
  auto cp = nlohmann::json::parse(first);
  EXPECT_EQ(cp["id"], "1");  // int64 is a string in proto JSON
  EXPECT_EQ(cp["service"], service);
  EXPECT_EQ(cp["kid"].get<std::string>().rfind("k-", 0), 0u) << first;
  EXPECT_FALSE(cp["signature"].get<std::string>().empty()) << first;
  ShResult after = smctl(command + " checkpoints export --after 1000000", oversight, false);
  EXPECT_EQ(after.code, 0) << after.out;
  EXPECT_TRUE(after.out.empty()) << after.out;
  for (const std::string& user : refused) {
    EXPECT_EQ(smctl(command + " verify-all", user, true).code, 4) << user;
    EXPECT_EQ(smctl(command + " checkpoints export", user, true).code, 4) << user;
  }
}

}  // namespace sm::testing
