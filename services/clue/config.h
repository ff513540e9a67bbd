// clue-service configuration.
#pragma once

#include <absl/status/statusor.h>

#include "common/service_config.h"

namespace sm::clue {

struct Limits {       // working days per stage
  int accept = 3;     // answer a transfer offer
  int dispose = 5;    // propose a disposition
  int handle = 30;    // talk/letter or preliminary verification
  int conclude = 60;  // conclude a filed case
};

// The two-person rule for the reporter's identity (docs/clue.md § Revealing the reporter).
struct RevealPolicy {
  int approvals = 2;  // N: custodians' approvals a reveal request needs (1..M)
  // M: how many custodians the deployment has appointed (people given the `custodian` role
  // by the identity provider). The service cannot count them itself; it refuses to start
  // when N > M, since then no request could ever be approved.
  int custodians = 3;
  std::chrono::minutes window{60};  // how long an approved request may be used
};

struct Config {
  ServiceConfig service;
  std::string keys;          // "id:hex64,..." (AES-256 keys); empty: the development key
  std::string current_key;   // id of the key that seals new values
  std::string calendar_dir;  // directory of YYYY.yaml holiday calendars
  Limits limits;
  std::chrono::milliseconds scan_interval{60000};  // overdue scanner period
  // How often a signed checkpoint of all chain heads is taken (one also at start-up).
  std::chrono::milliseconds checkpoint_interval{60000};
  int register_batch_max = 64;       // registrations per shared transaction
  int register_batches_running = 2;  // shared transactions at once
  int step_batch_max = 32;           // steps on clues per shared transaction
  int step_batches_running = 2;      // shared transactions at once
  RevealPolicy reveal;
};

absl::StatusOr<Config> LoadConfig(int argc, const char* const* argv, config::EnvLookup env = config::ProcessEnv());

}  // namespace sm::clue
