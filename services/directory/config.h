// directory-service configuration: the shared service sections, nothing of its own yet.
#pragma once

#include <absl/status/statusor.h>

#include "common/service_config.h"

namespace sm::directory {

struct Config {
  ServiceConfig service;
};

// From the command line, environment and config file. Errors: INVALID_ARGUMENT listing
// every bad or unknown key.
absl::StatusOr<Config> LoadConfig(int argc, const char* const* argv, config::EnvLookup env = config::ProcessEnv());

}  // namespace sm::directory
