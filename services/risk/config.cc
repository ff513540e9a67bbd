#include "services/risk/config.h"

namespace sm::risk {

absl::StatusOr<Config> LoadConfig(int argc, const char* const* argv, config::EnvLookup env) {
  auto source = config::Source::FromArgs(argc, argv, std::move(env));
  if (!source.ok()) return source.status();
  config::Reader r(*source);
  Config c;
  c.service = ReadServiceConfig(r, "risk-service", "127.0.0.1:7105", "127.0.0.1:9105", "sm_risk");
  c.calendar_dir = r.RequiredString("risk.calendar_dir");
  c.rules_file = r.RequiredString("risk.rules_file");
  c.keys = r.String("risk.keys", "");
  c.current_key = r.String("risk.current_key", "");
  if (!c.keys.empty() && c.current_key.empty()) r.Fail("risk.current_key", "is required with risk.keys");
  if (c.keys.empty() && !c.service.development) {
    r.Fail("risk.keys", "is required outside development: the keys that seal talk summaries");
  }
  c.clue = client::ReadConfig(r, "risk.clue", "127.0.0.1:7102", c.service.development);
  c.audit = client::ReadConfig(r, "risk.audit", "127.0.0.1:7103", c.service.development);
  c.inspection = client::ReadConfig(r, "risk.inspection", "127.0.0.1:7104", c.service.development);
  if (c.service.identity.key_file.empty() && c.service.identity.key_pem.empty()) {
    r.Fail("identity.key_file",
           "is required outside development: risk-service signs its subscriptions and its chain checkpoints with it");
  }
  c.file_deadline = r.Millis("risk.file_deadline_ms", 2000, 50, 60000);
  c.file_entries_per_part = static_cast<int>(r.Int("risk.file_entries_per_part", 1000, 10, 10000));
  c.scan_interval = r.Millis("risk.scan_interval_ms", 60000, 100, 3600000);
  c.checkpoint_interval = r.Millis("chain.checkpoint_interval_ms", 60000, 100, 24 * 3600000);
  absl::Status s = r.Finish();
  if (!s.ok()) return s;
  return c;
}

}  // namespace sm::risk
