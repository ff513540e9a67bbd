// What the service tests that stand on clue-service share (audit's, inspection's and risk's):
// a fresh set of schemas with the demo directory, the fake clock at Start(), development
// token and encryption keys, the working-day calendar, Redis, and clue-service in process (its
// store, feed listener and handlers; the fixture serves them on its own server). A fixture
// derives from ClueStack, calls UpClueStack first in SetUpTestSuite and DownClueStack last in
// TearDownTestSuite, after shutting its server down.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "common/auth.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/db/migrate.h"
#include "common/redis.h"
#include "common/workdays.h"
#include "services/clue/pg_store.h"
#include "services/clue/service.h"
#include "tests/integration/callers.h"
#include "tests/integration/demo_directory.h"
#include "tests/support/pg_redis.h"

const std::vector<sm::db::Migration>& clue_lib_migrations();

namespace sm::testing {

class ClueStack : public ::testing::Test {
 protected:
  // `clue_pool_size`: connections of clue-service's store.
  static void UpClueStack(int clue_pool_size) {
    PgRedis& env = PgRedis::Get();
    env.ResetSchemas();
    dir_pool_ = new db::Pool(env.Pool("sm_directory", "directory", 2));
    SeedDemoDirectory(*dir_pool_);
    clock_ = new FakeClock(Start());
    auth::Config ac;
    ac.keys = auth::DevelopmentKeys();
    verifier_ = new auth::Verifier(*auth::Verifier::Create(ac));
    keys_ = new crypto::Keyring(crypto::DevelopmentKeyring());
    calendar_ = new workdays::Calendar(*workdays::Calendar::LoadDir(std::string(SM_SOURCE_DIR) + "/deploy/calendar"));
    redis_ = new redis::Client(env.Redis());
    clue_pool_ = new db::Pool(env.Pool("sm_clue", "clue", clue_pool_size));
    ASSERT_TRUE(db::ApplyMigrations(*clue_pool_, "clue", clue_lib_migrations()).ok());
    clue_store_ = new clue::PgStore(clue_pool_, *clock_);
    clue_listener_ = new db::Listener(env.Pool("sm_clue", "clue"), "clue_events");
    clue_listener_->Start();
    clue_service_ = new clue::ClueServiceImpl(clue_store_, verifier_, keys_, calendar_, clue::Limits{}, *clock_, redis_,
                                              clue_listener_);
  }
  static void DownClueStack() {
    delete clue_service_;
    clue_listener_->Stop();
    delete clue_listener_;
    delete clue_store_;
    delete clue_pool_;
    delete redis_;
    delete calendar_;
    delete keys_;
    delete verifier_;
    delete clock_;
    delete dir_pool_;
  }

  static inline db::Pool* dir_pool_ = nullptr;
  static inline FakeClock* clock_ = nullptr;
  static inline auth::Verifier* verifier_ = nullptr;
  static inline crypto::Keyring* keys_ = nullptr;
  static inline workdays::Calendar* calendar_ = nullptr;
  static inline redis::Client* redis_ = nullptr;
  static inline db::Pool* clue_pool_ = nullptr;
  static inline clue::PgStore* clue_store_ = nullptr;
  static inline db::Listener* clue_listener_ = nullptr;
  static inline clue::ClueServiceImpl* clue_service_ = nullptr;
};

}  // namespace sm::testing
