#include "services/clue/config.h"

namespace sm::clue {

absl::StatusOr<Config> LoadConfig(int argc, const char* const* argv, config::EnvLookup env) {
  auto source = config::Source::FromArgs(argc, argv, std::move(env));
  if (!source.ok()) return source.status();
  config::Reader r(*source);
  Config c;
  c.service = ReadServiceConfig(r, "clue-service", "127.0.0.1:7102", "127.0.0.1:9102", "sm_clue");
  c.keys = r.String("clue.keys", "");
  c.current_key = r.String("clue.current_key", "");
  if (!c.keys.empty() && c.current_key.empty()) r.Fail("clue.current_key", "is required with clue.keys");
  if (c.keys.empty() && !c.service.development) {
    r.Fail("clue.keys", "is required outside development: the keys that seal reporter identity and details");
  }
  if (c.service.identity.key_file.empty() && c.service.identity.key_pem.empty()) {
    r.Fail("identity.key_file", "is required outside development: clue-service signs its chain checkpoints with it");
  }
  c.calendar_dir = r.RequiredString("clue.calendar_dir");
  c.limits.accept = static_cast<int>(r.Int("clue.limits.accept_days", 3, 1, 365));
  c.limits.dispose = static_cast<int>(r.Int("clue.limits.dispose_days", 5, 1, 365));
  c.limits.handle = static_cast<int>(r.Int("clue.limits.handle_days", 30, 1, 365));
  c.limits.conclude = static_cast<int>(r.Int("clue.limits.conclude_days", 60, 1, 730));
  c.scan_interval = r.Millis("clue.scan_interval_ms", 60000, 100, 3600000);
  c.checkpoint_interval = r.Millis("chain.checkpoint_interval_ms", 60000, 100, 24 * 3600000);
  c.register_batch_max = static_cast<int>(r.Int("clue.register.batch_max", 64, 1, 1000));
  c.register_batches_running = static_cast<int>(r.Int("clue.register.batches_running", 2, 1, 64));
  c.step_batch_max = static_cast<int>(r.Int("clue.step.batch_max", 32, 1, 1000));
  c.step_batches_running = static_cast<int>(r.Int("clue.step.batches_running", 2, 1, 64));
  c.reveal.approvals = static_cast<int>(r.Int("clue.reveal.approvals", 2, 1, 100));
  c.reveal.custodians = static_cast<int>(r.Int("clue.reveal.custodians", 3, 1, 1000));
  if (c.reveal.approvals > c.reveal.custodians) {
    r.Fail("clue.reveal.approvals", "is " + std::to_string(c.reveal.approvals) +
                                        ", more than clue.reveal.custodians (" + std::to_string(c.reveal.custodians) +
                                        "): no request could be approved");
  }
  c.reveal.window = std::chrono::minutes(r.Int("clue.reveal.window_minutes", 60, 1, 7 * 24 * 60));
  absl::Status s = r.Finish();
  if (!s.ok()) return s;
  return c;
}

}  // namespace sm::clue
