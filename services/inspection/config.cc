#include "services/inspection/config.h"

namespace sm::inspection {

absl::StatusOr<Config> LoadConfig(int argc, const char* const* argv, config::EnvLookup env) {
  auto source = config::Source::FromArgs(argc, argv, std::move(env));
  if (!source.ok()) return source.status();
  config::Reader r(*source);
  Config c;
  c.service = ReadServiceConfig(r, "inspection-service", "127.0.0.1:7104", "127.0.0.1:9104", "sm_inspection");
  c.calendar_dir = r.RequiredString("inspection.calendar_dir");
  c.clue = client::ReadConfig(r, "inspection.clue", "127.0.0.1:7102", c.service.development);
  if (c.service.identity.key_file.empty() && c.service.identity.key_pem.empty()) {
    r.Fail("identity.key_file",
           "is required outside development: inspection-service signs its calls to clue-service and its chain "
           "checkpoints with it");
  }
  c.rectification_days = static_cast<int>(r.Int("inspection.rectification_days", 30, 1, 365));
  c.spot_check_percent = static_cast<int>(r.Int("inspection.spot_check_percent", 20, 0, 100));
  c.lookback_days = static_cast<int>(r.Int("inspection.lookback_days", 90, 0, 3650));
  c.accountability_days = static_cast<int>(r.Int("inspection.accountability_days", 20, 1, 365));
  c.scan_interval = r.Millis("inspection.scan_interval_ms", 60000, 100, 3600000);
  c.checkpoint_interval = r.Millis("chain.checkpoint_interval_ms", 60000, 100, 24 * 3600000);
  absl::Status s = r.Finish();
  if (!s.ok()) return s;
  return c;
}

}  // namespace sm::inspection
