// risk-service: wiring only.
#include <cstdio>

#include "common/auth.h"
#include "common/client.h"
#include "common/log.h"
#include "common/periodic.h"
#include "common/pg_listen.h"
#include "common/runtime.h"
#include "common/sealed.h"
#include "common/workdays.h"
#include "services/risk/config.h"
#include "services/risk/feeds.h"
#include "services/risk/pg_store.h"
#include "services/risk/service.h"

const std::vector<sm::db::Migration>& risk_lib_migrations();

int main(int argc, char** argv) {
  auto fail = [](const absl::Status& s) {
    std::fprintf(stderr, "risk-service: %s\n", std::string(s.message()).c_str());
    return 1;
  };
  auto config = sm::risk::LoadConfig(argc, argv);
  if (!config.ok()) {
    fail(config.status());
    return 2;
  }
  sm::log::Init("risk-service", config->service.log_level);
  // The scoring rules are checked before anything starts: a bad rule stops the service,
  // naming the rule.
  auto rules = sm::risk::LoadRules(config->rules_file);
  if (!rules.ok()) {
    fail(rules.status());
    return 2;
  }
  auto calendar = sm::workdays::Calendar::LoadDir(config->calendar_dir);
  if (!calendar.ok()) return fail(calendar.status());
  auto keys = config->keys.empty() ? absl::StatusOr<sm::crypto::Keyring>(sm::crypto::DevelopmentKeyring())
                                   : sm::crypto::Keyring::Parse(config->keys, config->current_key);
  if (!keys.ok()) return fail(keys.status());
  if (config->keys.empty()) sm::log::Warn("using the DEVELOPMENT encryption key: set risk.keys for real data");
  auto runtime = sm::Runtime::Create(config->service, "risk", risk_lib_migrations());
  if (!runtime.ok()) return fail(runtime.status());
  sm::risk::PgStore store(&(*runtime)->pool(), sm::SystemClock::Default(), &*keys, &*rules);
  sm::log::Info("scoring rules loaded",
                {{"file", config->rules_file}, {"version", rules->version}, {"threshold", rules->threshold}});

  std::shared_ptr<sm::auth::ServiceIdentity> identity = (*runtime)->identity();
  if (!identity) {
    return fail(absl::FailedPreconditionError(
        "identity.key_file is required: risk-service signs its subscriptions and its chain checkpoints with it"));
  }
  auto token = [identity] { return identity->Token(); };
  store.SetChainKeys(sm::chain::KeysOf(identity, &(*runtime)->verifier(), "risk-service"));
  sm::Periodic checkpoints;
  checkpoints.Start(config->checkpoint_interval, [&store] { sm::chain::LogCheckpoint(store.TakeCheckpoint()); });

  auto clue = sm::client::MakeChannel(config->clue);
  if (!clue.ok()) return fail(clue.status());
  auto audit = sm::client::MakeChannel(config->audit);
  if (!audit.ok()) return fail(audit.status());
  auto inspection = sm::client::MakeChannel(config->inspection);
  if (!inspection.ok()) return fail(inspection.status());
  sm::risk::Feeds feeds(&store, &(*runtime)->pool(), *clue, *audit, *inspection, token);
  feeds.Start();
  sm::db::PoolConfig own = config->service.db;
  own.search_path = "risk";
  sm::db::Listener listener(own, "risk_events");
  listener.Start();
  sm::risk::RiskServiceImpl service(&store, &(*runtime)->verifier(), &*calendar,
                                    {*clue, *audit, *inspection, config->file_deadline, config->file_entries_per_part},
                                    sm::SystemClock::Default(), (*runtime)->redis(), &listener,
                                    {.max_streams_per_caller = config->service.grpc.max_streams_per_caller,
                                     .max_streams = config->service.grpc.max_streams});
  sm::risk::OverdueScanner scanner(&store, sm::SystemClock::Default());
  scanner.Start(config->scan_interval);
  absl::Status serving = (*runtime)->Serve({&service});
  if (!serving.ok()) return fail(serving);
  (*runtime)->WaitForSignal();
  scanner.Stop();
  checkpoints.Stop();
  feeds.Stop();
  listener.Stop();
  return 0;
}
