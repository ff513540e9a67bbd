// audit-service: wiring only.
#include <cstdio>

#include "common/auth.h"
#include "common/client.h"
#include "common/log.h"
#include "common/outbox.h"
#include "common/periodic.h"
#include "common/pg_listen.h"
#include "common/runtime.h"
#include "common/uuid.h"
#include "common/workdays.h"
#include "services/audit/config.h"
#include "services/audit/pg_store.h"
#include "services/audit/referrals.h"
#include "services/audit/service.h"

const std::vector<sm::db::Migration>& audit_lib_migrations();

int main(int argc, char** argv) {
  auto fail = [](const absl::Status& s) {
    std::fprintf(stderr, "audit-service: %s\n", std::string(s.message()).c_str());
    return 1;
  };
  auto config = sm::audit::LoadConfig(argc, argv);
  if (!config.ok()) {
    fail(config.status());
    return 2;
  }
  sm::log::Init("audit-service", config->service.log_level);
  auto calendar = sm::workdays::Calendar::LoadDir(config->calendar_dir);
  if (!calendar.ok()) return fail(calendar.status());
  auto runtime = sm::Runtime::Create(config->service, "audit", audit_lib_migrations());
  if (!runtime.ok()) return fail(runtime.status());
  sm::audit::PgStore store(&(*runtime)->pool(), sm::SystemClock::Default(), [] { return sm::NewUuid(); });

  // This service's own identity: towards clue-service (role `service`, its own key), and
  // the key its chain checkpoints are signed with. Without it tamper evidence would not
  // survive a database administrator, so the service does not start.
  std::shared_ptr<sm::auth::ServiceIdentity> identity = (*runtime)->identity();
  if (!identity) {
    return fail(
        absl::FailedPreconditionError("identity.key_file is required: audit-service signs its calls to "
                                      "clue-service and its chain checkpoints with it"));
  }
  auto token = [identity] { return identity->Token(); };
  store.SetChainKeys(sm::chain::KeysOf(identity, &(*runtime)->verifier(), "audit-service"));
  sm::Periodic checkpoints;
  checkpoints.Start(config->checkpoint_interval, [&store] { sm::chain::LogCheckpoint(store.TakeCheckpoint()); });
  // One channel to clue-service (audit.clue.*: TLS, mutual TLS outside development) for
  // the relay's referrals and the consumer's event feed.
  auto channel = sm::client::MakeChannel(config->clue);
  if (!channel.ok()) return fail(channel.status());

  sm::db::PoolConfig own = config->service.db;
  own.search_path = "audit";
  sm::outbox::Options relay_options;
  relay_options.deadline = config->clue.default_deadline;
  sm::audit::Referrals referrals(&store, own, &(*runtime)->pool(), *channel, token, relay_options);
  referrals.Start();

  sm::db::Listener listener(own, "audit_events");
  listener.Start();
  sm::audit::AuditServiceImpl service(
      &store, &(*runtime)->verifier(), &*calendar,
      sm::audit::Policy{config->rectification_days, config->spot_check_percent, config->lookback_days},
      sm::SystemClock::Default(), (*runtime)->redis(), &listener,
      {.max_streams_per_caller = config->service.grpc.max_streams_per_caller,
       .max_streams = config->service.grpc.max_streams});
  sm::audit::OverdueScanner scanner(&store, sm::SystemClock::Default());
  scanner.Start(config->scan_interval);
  absl::Status serving = (*runtime)->Serve({&service});
  if (!serving.ok()) return fail(serving);
  (*runtime)->WaitForSignal();
  scanner.Stop();
  checkpoints.Stop();
  referrals.Stop();
  listener.Stop();
  return 0;
}
