// inspection-service: wiring only.
#include <cstdio>

#include "common/auth.h"
#include "common/client.h"
#include "common/referral_feed.h"
#include "common/log.h"
#include "common/periodic.h"
#include "common/pg_listen.h"
#include "common/runtime.h"
#include "common/workdays.h"
#include "services/inspection/config.h"
#include "services/inspection/pg_store.h"
#include "services/inspection/service.h"

const std::vector<sm::db::Migration>& inspection_lib_migrations();

int main(int argc, char** argv) {
  auto fail = [](const absl::Status& s) {
    std::fprintf(stderr, "inspection-service: %s\n", std::string(s.message()).c_str());
    return 1;
  };
  auto config = sm::inspection::LoadConfig(argc, argv);
  if (!config.ok()) {
    fail(config.status());
    return 2;
  }
  sm::log::Init("inspection-service", config->service.log_level);
  auto calendar = sm::workdays::Calendar::LoadDir(config->calendar_dir);
  if (!calendar.ok()) return fail(calendar.status());
  auto runtime = sm::Runtime::Create(config->service, "inspection", inspection_lib_migrations());
  if (!runtime.ok()) return fail(runtime.status());
  sm::inspection::PgStore store(&(*runtime)->pool(), sm::SystemClock::Default());

  // The key chain checkpoints are signed with: without it tamper evidence would not survive
  // a database administrator, so the service does not start.
  std::shared_ptr<sm::auth::ServiceIdentity> identity = (*runtime)->identity();
  if (!identity) {
    return fail(absl::FailedPreconditionError(
        "identity.key_file is required: inspection-service signs its calls to clue-service and its chain "
        "checkpoints with it"));
  }
  auto token = [identity] { return identity->Token(); };
  store.SetChainKeys(sm::chain::KeysOf(identity, &(*runtime)->verifier(), "inspection-service"));
  sm::Periodic checkpoints;
  checkpoints.Start(config->checkpoint_interval, [&store] { sm::chain::LogCheckpoint(store.TakeCheckpoint()); });

  const sm::inspection::Policy policy{{config->rectification_days, config->spot_check_percent, config->lookback_days},
                                      config->accountability_days};
  store.SetRules([&] {
    return sm::inspection::Rules{sm::SystemClock::Default().Now(), policy.rectification, &*calendar,
                                 policy.accountability_days};
  });
  // One channel to clue-service (inspection.clue.*) for the relay's referrals and the
  // consumer of its event feed (referred clues followed; 一案双查 opened on conclusions).
  auto channel = sm::client::MakeChannel(config->clue);
  if (!channel.ok()) return fail(channel.status());
  sm::db::PoolConfig own = config->service.db;
  own.search_path = "inspection";
  sm::outbox::Options relay_options;
  relay_options.deadline = config->clue.default_deadline;
  sm::referral::Feed feed(&store, "inspection", own, &(*runtime)->pool(), *channel, token, relay_options);
  feed.Start();
  sm::db::Listener listener(own, "inspection_events");
  listener.Start();
  sm::inspection::InspectionServiceImpl service(&store, &(*runtime)->verifier(), &*calendar, policy,
                                                sm::SystemClock::Default(), (*runtime)->redis(), &listener,
                                                {.max_streams_per_caller = config->service.grpc.max_streams_per_caller,
                                                 .max_streams = config->service.grpc.max_streams});
  sm::inspection::OverdueScanner scanner(&store, sm::SystemClock::Default());
  scanner.Start(config->scan_interval);
  absl::Status serving = (*runtime)->Serve({&service});
  if (!serving.ok()) return fail(serving);
  (*runtime)->WaitForSignal();
  scanner.Stop();
  checkpoints.Stop();
  feed.Stop();
  listener.Stop();
  return 0;
}
