// inspection-service configuration.
#pragma once

#include <absl/status/statusor.h>

#include "common/client.h"
#include "common/config.h"
#include "common/service_config.h"

namespace sm::inspection {

struct Config {
  ServiceConfig service;
  std::string calendar_dir;      // working-day calendars
  client::Config clue;           // inspection.clue.*: clue-service, for referrals and its event feed
  int accountability_days = 20;  // 一案双查: working days to conclude a check
  int rectification_days = 30;   // default rectification deadline, working days
  int spot_check_percent = 20;   // share of sign-offs drawn for re-inspection
  int lookback_days = 90;        // 回头看 window after sign-off, calendar days
  std::chrono::milliseconds scan_interval{60000};
  std::chrono::milliseconds checkpoint_interval{60000};
};

absl::StatusOr<Config> LoadConfig(int argc, const char* const* argv, config::EnvLookup env = config::ProcessEnv());

}  // namespace sm::inspection
