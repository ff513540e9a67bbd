#include "services/directory/config.h"

namespace sm::directory {

absl::StatusOr<Config> LoadConfig(int argc, const char* const* argv, config::EnvLookup env) {
  auto source = config::Source::FromArgs(argc, argv, std::move(env));
  if (!source.ok()) return source.status();
  config::Reader r(*source);
  Config c;
  c.service = ReadServiceConfig(r, "directory-service", "127.0.0.1:7101", "127.0.0.1:9101", "sm_directory");
  absl::Status s = r.Finish();
  if (!s.ok()) return s;
  return c;
}

}  // namespace sm::directory
