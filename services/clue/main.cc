// clue-service: wiring only.
#include <cstdio>

#include "common/log.h"
#include "common/periodic.h"
#include "common/pg_listen.h"
#include "common/runtime.h"
#include "common/sealed.h"
#include "common/workdays.h"
#include "services/clue/config.h"
#include "services/clue/pg_store.h"
#include "services/clue/service.h"

const std::vector<sm::db::Migration>& clue_lib_migrations();

int main(int argc, char** argv) {
  auto config = sm::clue::LoadConfig(argc, argv);
  auto fail = [](const absl::Status& s) {
    std::fprintf(stderr, "clue-service: %s\n", std::string(s.message()).c_str());
    return 1;
  };
  if (!config.ok()) {
    fail(config.status());
    return 2;
  }
  sm::log::Init("clue-service", config->service.log_level);
  auto calendar = sm::workdays::Calendar::LoadDir(config->calendar_dir);
  if (!calendar.ok()) return fail(calendar.status());
  auto keys = config->keys.empty() ? absl::StatusOr<sm::crypto::Keyring>(sm::crypto::DevelopmentKeyring())
                                   : sm::crypto::Keyring::Parse(config->keys, config->current_key);
  if (!keys.ok()) return fail(keys.status());
  if (config->keys.empty()) sm::log::Warn("using the DEVELOPMENT encryption key: set clue.keys for real data");
  auto runtime = sm::Runtime::Create(config->service, "clue", clue_lib_migrations());
  if (!runtime.ok()) return fail(runtime.status());
  sm::clue::PgStore store(&(*runtime)->pool(), sm::SystemClock::Default(),
                          {.max_batch = config->register_batch_max, .max_running = config->register_batches_running},
                          {.max_batch = config->step_batch_max, .max_running = config->step_batches_running});
  // Chain checkpoints are signed with this service's own key; without one, tamper evidence
  // would not survive a database administrator, so the service does not start.
  std::shared_ptr<sm::auth::ServiceIdentity> identity = (*runtime)->identity();
  if (!identity) {
    return fail(
        absl::FailedPreconditionError("identity.key_file is required: clue-service signs its chain checkpoints "
                                      "with it"));
  }
  store.SetChainKeys(sm::chain::KeysOf(identity, &(*runtime)->verifier(), "clue-service"));
  sm::Periodic checkpoints;
  checkpoints.Start(config->checkpoint_interval, [&store] { sm::chain::LogCheckpoint(store.TakeCheckpoint()); });
  sm::db::PoolConfig listen_config = config->service.db;
  sm::db::Listener listener(listen_config, "clue_events");
  listener.Start();
  sm::clue::ClueServiceImpl service(&store, &(*runtime)->verifier(), &*keys, &*calendar, config->limits,
                                    sm::SystemClock::Default(), (*runtime)->redis(), &listener, config->reveal,
                                    {.max_streams_per_caller = config->service.grpc.max_streams_per_caller,
                                     .max_streams = config->service.grpc.max_streams});
  sm::log::Info("reporter reveals need custodians' approval",
                {{"approvals", config->reveal.approvals},
                 {"custodians", config->reveal.custodians},
                 {"window_minutes", static_cast<int64_t>(config->reveal.window.count())}});
  sm::clue::OverdueScanner scanner(&store, sm::SystemClock::Default());
  scanner.Start(config->scan_interval);
  absl::Status serving = (*runtime)->Serve({&service});
  if (!serving.ok()) return fail(serving);
  (*runtime)->WaitForSignal();
  scanner.Stop();
  checkpoints.Stop();
  listener.Stop();
  return 0;
}
