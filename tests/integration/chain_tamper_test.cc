// Tamper evidence of clue chains against a database administrator (docs/clue.md § Tamper
// evidence): 200 clues with varied histories are written through the store and anchored by a
// signed checkpoint; then 10,000 random tamper operations, each applied as the superuser in a
// transaction, are each detected by the in-process verifier (at the exact event where the
// tampering has one) and rolled back. Also: the checkpoint tables refuse UPDATE, DELETE and
// TRUNCATE to the service role and the superuser, forged checkpoints are not trusted, and a
// checkpoint is never taken over tampered chains. The operations and checks are
// tests/support/chain_tamper.h's (audit_tamper_test runs them on audit's chains).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <random>
#include <thread>
#include <atomic>
#include <set>

#include "common/auth.h"
#include "common/db/migrate.h"
#include "common/db/sql.h"
#include "common/uuid.h"
#include "services/clue/pg_store.h"
#include "tests/integration/demo_directory.h"
#include "tests/support/chain_tamper.h"
#include "tests/support/pg_redis.h"

const std::vector<sm::db::Migration>& clue_lib_migrations();

namespace sm::clue {
namespace {

using ::sm::testing::PgRedis;

constexpr int kClues = 200;
constexpr int kOperations = 10000;
constexpr uint64_t kSeed = 20261130;

ChainKeys DevelopmentChainKeys() {
  return chain::KeysOf(
      *auth::ServiceIdentity::Create({.name = "clue-service", .key_pem = std::string(auth::kDevelopmentServiceKey)}),
      nullptr, "clue-service");
}

using db::TimestampOf;

class ChainTamperTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    PgRedis& env = PgRedis::Get();
    env.ResetSchemas();
    // The directory the overdue scanner reads (the test's own units are not in it: their
    // clues escalate to the holder itself).
    dir_pool_ = new db::Pool(env.Pool("sm_directory", "directory", 1));
    ::sm::testing::SeedDemoDirectory(*dir_pool_);
    pool_ = new db::Pool(env.Pool("sm_clue", "clue", 4));
    ASSERT_TRUE(db::ApplyMigrations(*pool_, "clue", clue_lib_migrations()).ok());
    clock_ = new FakeClock(FromUnixSeconds(1735689600));  // 2025-01-01
    store_ = new PgStore(pool_, *clock_);
    store_->SetChainKeys(DevelopmentChainKeys());
  }
  static void TearDownTestSuite() {
    delete store_;
    delete clock_;
    delete pool_;
    delete dir_pool_;
  }

  // The clue chains as an administrator sees them.
  static ::sm::testing::tamper::Target Target() {
    return {
        .schema = "clue",
        .service_role = "sm_clue",
        .anchor_schema = "clue_anchor",
        .service = "clue-service",
        .events_table = "clue_events",
        .id_column = "clue_id",
        .table_of = [](const std::string&) { return std::string("clues"); },
        .row_edits =
            [](const std::string&) {
              return std::vector<std::string>{
                  "state = CASE WHEN state = 'CLUE_STATE_CONCLUDED' THEN 'CLUE_STATE_HELD' ELSE 'CLUE_STATE_CONCLUDED' "
                  "END",
                  "holding_unit_id = gen_random_uuid()",
                  "version = version + 1",
                  "handler_person_id = gen_random_uuid()",
                  "offered_to_unit_id = gen_random_uuid()",
                  "deadline_at = coalesce(deadline_at, now()) + interval '30 days'",
                  "disposition_reason = 'shelved quietly', disposition_method = 'DISPOSITION_METHOD_SHELVE'",
                  "outcome_feedback = 'nothing found', outcome_form = 0",
                  "details_sealed = 'v1:forged'",
                  "summary = summary || ' (edited)'",
                  "overdue = NOT overdue"};
            },
        .child_edits = {"UPDATE clue_subjects SET display_name = 'someone else' WHERE clue_id = $1::uuid"},
        .delete_whole =
            [](const std::string& id) {
              // A clue others were merged into is referenced by them: not deleted alone.
              if (merged_into_.count(id) != 0) return std::vector<std::string>{};
              return std::vector<std::string>{"DELETE FROM clue_events WHERE clue_id = $1::uuid",
                                              "DELETE FROM clue_subjects WHERE clue_id = $1::uuid",
                                              "DELETE FROM clue_custody WHERE clue_id = $1::uuid",
                                              "DELETE FROM clues WHERE id = $1::uuid"};
            },
        .guard = &store_->chain(),
    };
  }

  static std::string Register(std::mt19937_64& rng, const std::string& unit) {
    StoredClue c;
    v1::Clue& clue = c.clue;
    clue.set_id(NewUuid());
    clue.set_state(v1::CLUE_STATE_REGISTERED);
    clue.set_source(v1::CLUE_SOURCE_PETITION);
    clue.set_channel(v1::RECEIPT_CHANNEL_LETTER);
    clue.set_origin_unit_id(unit);
    clue.set_holding_unit_id(unit);
    clue.add_categories(v1::CLUE_CATEGORY_POLITICAL);
    clue.set_summary("clue " + std::to_string(rng() % 100000));
    clue.set_severity(v1::SEVERITY_MEDIUM);
    *clue.mutable_received_at() = TimestampOf(clock_->Now() - std::chrono::hours(24));
    *clue.mutable_registered_at() = TimestampOf(clock_->Now());
    clue.set_version(1);
    auto* subject = clue.add_subjects();
    // Upper-case on input: the state digest must not depend on how PostgreSQL spells it back.
    std::string person = NewUuid();
    for (char& ch : person) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    subject->set_person_id(person);
    subject->set_display_name("subject");
    if (rng() % 3 == 0) c.details_sealed = "sealed-details-" + std::to_string(rng());
    std::vector<v1::ClueEventPayload> events(1);
    events[0].mutable_registered()->set_reporter("none");
    if (rng() % 2 == 0) events.emplace_back().mutable_offered()->set_to_unit_id(NewUuid());
    auto r = store_->Register(c, Actor{"registrar", unit}, {NewUuid(), "RegisterClue", "fp"}, events);
    EXPECT_TRUE(r.ok()) << r.status();
    return clue.id();
  }

  // A person of discipline staff in `unit`.
  static auth::Principal StaffOf(const std::string& unit) {
    return auth::Principal{"staff-" + unit.substr(0, 8), unit, {std::string(auth::kRoleDiscipline)}, 2};
  }

  // One random step the clue's state allows, through the real workflow (store Step ->
  // workflow Decide), changing the row's fields that matter: custody, state, deadlines,
  // disposition, outcome, intervention, notes.
  // `racing`: other writers change the clue meanwhile, so a stale version (ABORTED), a
  // state moved on (FAILED_PRECONDITION) or a clue now held elsewhere (NOT_FOUND) is an
  // expected answer, not a failure.
  static void Step(std::mt19937_64& rng, const std::string& id, bool racing = false) {
    auto now = store_->Get(id);
    ASSERT_TRUE(now.ok()) << now.status();
    const v1::Clue& c = now->clue;
    StepRequest request;
    std::string unit = c.holding_unit_id();
    auto common = [&](auto& req) {
      req.set_request_id(NewUuid());
      req.set_clue_id(id);
    };
    const int kind = static_cast<int>(rng() % 4);
    switch (c.state()) {
      case v1::CLUE_STATE_REGISTERED:
      case v1::CLUE_STATE_HELD:
        if (kind == 0) {
          v1::DisposeClueRequest req;
          common(req);
          req.set_method(v1::DISPOSITION_METHOD_TALK_OR_LETTER);
          req.set_reason("talk first");
          request = req;
        } else if (kind == 1 && !c.intervened()) {
          v1::MarkInterventionRequest req;
          common(req);
          req.set_note("intervened");
          request = req;
        } else {
          v1::TransferClueRequest req;
          common(req);
          req.set_to_unit_id(NewUuid());
          req.set_reason("jurisdiction");
          request = req;
        }
        break;
      case v1::CLUE_STATE_OFFERED:
        unit = c.offered_to_unit_id();
        if (kind == 0) {
          v1::ReturnClueRequest req;
          common(req);
          req.set_reason("not ours");
          request = req;
        } else {
          v1::AcceptClueRequest req;
          common(req);
          request = req;
        }
        break;
      case v1::CLUE_STATE_IN_HANDLING:
      case v1::CLUE_STATE_CASE_FILED:
        if (kind == 0) {
          v1::AddNoteRequest req;
          common(req);
          req.set_text("progress note");
          request = req;
        } else {
          v1::ConcludeClueRequest req;
          common(req);
          req.set_form(v1::SUPERVISION_FORM_1);
          req.add_sanctions("warning");
          req.set_feedback("done");
          req.set_case_filed(kind == 1 && c.state() == v1::CLUE_STATE_IN_HANDLING);
          request = req;
        }
        break;
      default: {  // concluded or merged: a note where the rules allow it
        v1::AddNoteRequest req;
        common(req);
        req.set_text("after the end");
        request = req;
      }
    }
    const std::string request_id = RequestIdOf(request);
    auto r = store_->Step(request, StaffOf(unit), {}, Rules{clock_->Now(), Limits{}, calendar_},
                          {request_id, std::string(MethodOf(request)), "fp"});
    // The steps are chosen legal for the state; a note on a merged clue is refused.
    if (racing &&
        (absl::IsAborted(r.status()) || absl::IsFailedPrecondition(r.status()) || absl::IsNotFound(r.status()))) {
      return;  // (NOT_FOUND: the clue moved to a unit this caller is not)
    }
    if (c.state() == v1::CLUE_STATE_MERGED) {
      ASSERT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
    } else {
      ASSERT_TRUE(r.ok()) << r.status();
    }
  }

  static inline workdays::Calendar* calendar_ = new workdays::Calendar();
  static db::Pool* pool_;
  static inline db::Pool* dir_pool_ = nullptr;
  static FakeClock* clock_;
  static PgStore* store_;
  static std::set<std::string> merged_into_;  // clues others were merged into
};

db::Pool* ChainTamperTest::pool_;
FakeClock* ChainTamperTest::clock_;
PgStore* ChainTamperTest::store_;
std::set<std::string> ChainTamperTest::merged_into_;

TEST_F(ChainTamperTest, EveryTamperOperationIsDetectedAtItsEvent) {
  std::mt19937_64 rng(kSeed);
  std::vector<std::string> ids;
  // Pairs (0, 1) .. (18, 19) are registered by one unit each, and merged first: merges
  // and the overdue scanner write through their own paths.
  std::string unit;
  for (int i = 0; i < kClues; ++i) {
    if (i >= 20 || i % 2 == 0) unit = NewUuid();
    ids.push_back(Register(rng, unit));
  }
  for (int i = 0; i < 10; ++i) {
    const std::string primary = ids[static_cast<size_t>(i * 2)], merged = ids[static_cast<size_t>(i * 2 + 1)];
    auto p = store_->Get(primary);
    ASSERT_TRUE(p.ok());
    auto r = store_->Merge(primary, p->clue.version(), {merged}, StaffOf(p->clue.holding_unit_id()), "same",
                           {NewUuid(), "MergeClues", "fp"});
    ASSERT_TRUE(r.ok()) << r.status();
    merged_into_.insert(primary);
  }
  for (int i = 0; i < kClues * 3; ++i) Step(rng, ids[rng() % ids.size()]);
  auto overdue = store_->MarkOverdue(clock_->Now() + std::chrono::hours(24 * 90));
  ASSERT_TRUE(overdue.ok());
  EXPECT_GT(*overdue, 0);

  auto cp = store_->TakeCheckpoint();
  ASSERT_TRUE(cp.ok()) << cp.status();
  ASSERT_TRUE(cp->has_value());
  EXPECT_EQ((*cp)->aggregates, kClues);
  // Some chains grow past the checkpoint.
  for (int i = 0; i < 40; ++i) Step(rng, ids[rng() % ids.size()]);

  auto all = store_->VerifyAllChains();
  ASSERT_TRUE(all.ok());
  ASSERT_TRUE(all->intact) << all->checkpoint_problem << (all->broken.empty() ? "" : all->broken[0].check.problem);
  EXPECT_EQ(all->aggregates, kClues);

  ::sm::testing::tamper::ExpectEveryOperationDetected(
      Target(), ids, ::sm::testing::tamper::CheckpointedLengths(Target(), (*cp)->id), kOperations, kSeed);
  if (HasFatalFailure()) return;
  // Nothing stuck: rolled back, the chains are intact again.
  auto after = store_->VerifyAllChains();
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->intact);
}

// Verification while the chains grow — steps from two writers, the overdue scanner and
// checkpoints — never reports an intact chain as broken: each check reads a row and its
// events as of one moment (a torn read would look exactly like tampering).
TEST_F(ChainTamperTest, VerifyingWhileChainsGrowNeverReportsABrokenChain) {
  std::vector<std::string> ids;
  std::mt19937_64 seed_rng(kSeed + 1);
  for (int i = 0; i < 12; ++i) ids.push_back(Register(seed_rng, NewUuid()));
  std::atomic<bool> done{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937_64 rng(kSeed + 10 + w);
      // Each writer its own clues (two writers on one clue would refuse each other's steps
      // in ways this helper does not model); the scanner races both.
      for (int i = 0; i < 150; ++i) Step(rng, ids[(rng() % (ids.size() / 2)) * 2 + w], /*racing=*/true);
    });
  }
  writers.emplace_back([&] {
    for (int i = 1; i <= 20; ++i) {
      EXPECT_TRUE(store_->MarkOverdue(clock_->Now() + std::chrono::hours(24 * 10 * i)).ok());
      EXPECT_TRUE(store_->TakeCheckpoint().ok());
    }
  });
  std::thread verifier([&] {
    int rounds = 0;
    while (!done.load() && rounds < 2000) {
      ++rounds;
      auto all = store_->VerifyAllChains();
      ASSERT_TRUE(all.ok()) << all.status();
      ASSERT_TRUE(all->intact) << "round " << rounds << ": " << all->checkpoint_problem
                               << (all->broken.empty() ? "" : all->broken[0].check.problem);
      for (const auto& id : {ids[rounds % ids.size()], ids[(rounds * 7) % ids.size()]}) {
        auto one = store_->VerifyChain(id);
        ASSERT_TRUE(one.ok()) << one.status();
        ASSERT_TRUE(one->intact) << "round " << rounds << ", clue " << id << ": " << one->problem;
      }
    }
  });
  for (auto& t : writers) t.join();
  done = true;
  verifier.join();
}

TEST_F(ChainTamperTest, CheckpointTablesAreAppendOnlyForTheServiceAndTheSuperuser) {
  std::mt19937_64 rng(kSeed + 1);
  Register(rng, NewUuid());
  auto cp = store_->TakeCheckpoint();
  ASSERT_TRUE(cp.ok() && cp->has_value()) << cp.status();
  ::sm::testing::tamper::ExpectAnchorAppendOnly(Target(), (*cp)->id);
}

TEST_F(ChainTamperTest, ForgedCheckpointIsNotTrustedAndTamperedChainsAreNotCheckpointed) {
  std::mt19937_64 rng(kSeed + 2);
  const std::string id = Register(rng, NewUuid());
  Step(rng, id);
  auto cp = store_->TakeCheckpoint();
  ASSERT_TRUE(cp.ok() && cp->has_value()) << cp.status();
  ::sm::testing::tamper::ExpectForgedCheckpointDistrustedAndTamperingNotCheckpointed(Target(), id, **cp);
  // Leave the database as the other tests expect it: a fresh schema.
  PgRedis::Get().ResetSchemas();
  ASSERT_TRUE(db::ApplyMigrations(*pool_, "clue", clue_lib_migrations()).ok());
}

}  // namespace
}  // namespace sm::clue
