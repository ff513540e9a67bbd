#include "services/audit/config.h"

namespace sm::audit {

absl::StatusOr<Config> LoadConfig(int argc, const char* const* argv, config::EnvLookup env) {
  auto source = config::Source::FromArgs(argc, argv, std::move(env));
  if (!source.ok()) return source.status();
  config::Reader r(*source);
  Config c;
  c.service = ReadServiceConfig(r, "audit-service", "127.0.0.1:7103", "127.0.0.1:9103", "sm_audit");
  c.calendar_dir = r.RequiredString("audit.calendar_dir");
  c.clue = client::ReadConfig(r, "audit.clue", "127.0.0.1:7102", c.service.development);
  // The old key, in a file or a flag (its variable, SM_AUDIT_CLUE_ADDR, is also the new
  // key's, so the environment is left to audit.clue.addr).
  if (auto old = source->Lookup("audit.clue_addr"); old && old->origin.rfind("env ", 0) != 0) {
    r.String("audit.clue_addr", "");  // read, so the only message is this one
    r.Fail("audit.clue_addr", "was renamed: use audit.clue.addr (and audit.clue.tls.* for TLS)");
  }
  if (c.service.identity.key_file.empty() && c.service.identity.key_pem.empty()) {
    r.Fail("identity.key_file",
           "is required outside development: audit-service signs its calls to clue-service and its chain checkpoints "
           "with it");
  }
  c.rectification_days = static_cast<int>(r.Int("audit.rectification_days", 30, 1, 365));
  c.spot_check_percent = static_cast<int>(r.Int("audit.spot_check_percent", 20, 0, 100));
  c.lookback_days = static_cast<int>(r.Int("audit.lookback_days", 90, 0, 3650));
  c.scan_interval = r.Millis("audit.scan_interval_ms", 60000, 100, 3600000);
  c.checkpoint_interval = r.Millis("chain.checkpoint_interval_ms", 60000, 100, 24 * 3600000);
  absl::Status s = r.Finish();
  if (!s.ok()) return s;
  return c;
}

}  // namespace sm::audit
