// risk-service configuration.
#pragma once

#include <absl/status/statusor.h>

#include "common/client.h"
#include "common/config.h"
#include "common/service_config.h"

namespace sm::risk {

struct Config {
  ServiceConfig service;
  std::string calendar_dir;  // working-day calendars (mitigation deadlines)
  std::string rules_file;    // the scoring rules (services/risk/scoring.h)
  std::string keys;          // "id:<64 hex>,...": seal talk summaries ("" : development key)
  std::string current_key;
  // The services whose feeds the scores follow and whose parts the person file asks for.
  client::Config clue;                            // risk.clue.*
  client::Config audit;                           // risk.audit.*
  client::Config inspection;                      // risk.inspection.*
  std::chrono::milliseconds file_deadline{2000};  // per part of a person file
  int file_entries_per_part = 1000;               // entries a file shows per service part
  std::chrono::milliseconds scan_interval{60000};
  std::chrono::milliseconds checkpoint_interval{60000};
};

absl::StatusOr<Config> LoadConfig(int argc, const char* const* argv, config::EnvLookup env = config::ProcessEnv());

}  // namespace sm::risk
