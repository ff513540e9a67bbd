// Tamper evidence of audit chains against a database administrator (docs/audit.md § Tamper
// evidence): engagements and findings with varied histories (advances, referrals delivered,
// dead and followed by clue events, rectifications through their steps, the overdue scanner)
// are written through the store and anchored by a signed checkpoint; then 2,500 random tamper
// operations of tests/support/chain_tamper.h, each applied as the superuser and rolled back,
// are each detected at their event: edited, deleted, forged and spliced events, rehashed
// chains, edited engagement and finding rows and rectifications, deleted findings and
// engagements. Also: the audit_anchor tables are append-only, a forged checkpoint is not
// trusted, a tampered chain is not checkpointed, and a referral delivered after the clue's
// own event linked it writes nothing, or an event with what it changed.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <set>

#include "common/auth.h"
#include "common/db/migrate.h"
#include "common/db/sql.h"
#include "common/status.h"
#include "common/uuid.h"
#include "services/audit/pg_store.h"
#include "tests/support/chain_tamper.h"
#include "tests/support/pg_redis.h"

const std::vector<sm::db::Migration>& audit_lib_migrations();

namespace sm::audit {
namespace {

using ::sm::testing::PgRedis;

constexpr int kEngagements = 30;
constexpr int kFindings = 90;
constexpr int kOperations = 2500;
constexpr uint64_t kSeed = 20261201;

using db::TimestampOf;

class AuditTamperTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    PgRedis& env = PgRedis::Get();
    env.ResetSchemas();
    pool_ = new db::Pool(env.Pool("sm_audit", "audit", 4));
    ASSERT_TRUE(db::ApplyMigrations(*pool_, "audit", audit_lib_migrations()).ok());
    clock_ = new FakeClock(FromUnixSeconds(1767225600));  // 2026-01-01
    store_ = new PgStore(pool_, *clock_, [] { return NewUuid(); });
    store_->SetChainKeys(chain::KeysOf(
        *auth::ServiceIdentity::Create({.name = "audit-service", .key_pem = std::string(auth::kDevelopmentServiceKey)}),
        nullptr, "audit-service"));
  }
  static void TearDownTestSuite() {
    delete store_;
    delete clock_;
    delete pool_;
  }

  // The audit chains as an administrator sees them.
  static ::sm::testing::tamper::Target Target() {
    return {
        .schema = "audit",
        .service_role = "sm_audit",
        .anchor_schema = "audit_anchor",
        .service = "audit-service",
        .events_table = "audit_events",
        .id_column = "aggregate_id",
        .table_of = [](const std::string& id) { return std::string(findings_.count(id) ? "findings" : "engagements"); },
        .row_edits =
            [](const std::string& id) {
              if (findings_.count(id) == 0) {
                return std::vector<std::string>{
                    "state = state || '_X'", "title = title || ' (edited)'", "audited_unit_id = gen_random_uuid()",
                    "audited_person_id = gen_random_uuid()", "period_to = period_to + 1", "version = version + 1",
                    "kind = kind || '_X'", "it_stage = it_stage || '_X'", "created_at = created_at - interval '1 day'"};
              }
              return std::vector<std::string>{
                  "title = title || ' (edited)'", "description = description || '.'", "amount_fen = amount_fen + 1",
                  "severity = severity || '!'", "responsible_unit_id = gen_random_uuid()",
                  "responsible_person_id = gen_random_uuid()", "evidence_refs = evidence_refs || ARRAY['forged']",
                  "referral_state = referral_state || '_X'", "referral_to = gen_random_uuid()",
                  "clue_number = coalesce(clue_number, '') || 'x'", "clue_state = coalesce(clue_state, '') || 'X'",
                  "disposition = coalesce(disposition, '') || 'X'", "outcome_form = coalesce(outcome_form, 0) + 1",
                  "outcome_feedback = coalesce(outcome_feedback, '') || '.'", "referral_error = 'forged'",
                  "recurring = NOT recurring", "version = version + 1"};
            },
        .child_edits = {"UPDATE rectifications SET state = 'RECTIFICATION_STATE_SIGNED_OFF', last_note = 'signed off "
                        "quietly' WHERE finding_id = $1::uuid",
                        "UPDATE rectifications SET deadline_at = deadline_at + interval '90 days' "
                        "WHERE finding_id = $1::uuid",
                        "DELETE FROM rectifications WHERE finding_id = $1::uuid"},
        .delete_whole =
            [](const std::string& id) {
              if (findings_.count(id) != 0) {
                return std::vector<std::string>{"DELETE FROM audit_events WHERE aggregate_id = $1::uuid",
                                                "DELETE FROM rectifications WHERE finding_id = $1::uuid",
                                                "DELETE FROM findings WHERE id = $1::uuid"};
              }
              // An engagement with findings is referenced by them: not deleted alone.
              if (with_findings_.count(id) != 0) return std::vector<std::string>{};
              return std::vector<std::string>{"DELETE FROM audit_events WHERE aggregate_id = $1::uuid",
                                              "DELETE FROM engagements WHERE id = $1::uuid"};
            },
        .guard = &store_->chain(),
    };
  }

  static Mutation By(const std::string& method, int64_t version = 0) {
    return Mutation{NewUuid(), method, "fp", version, Actor{"auditor", "audit-unit"}};
  }

  static std::string Engage(std::mt19937_64& rng) {
    v1::Engagement e;
    e.set_id(NewUuid());
    e.set_kind(v1::ENGAGEMENT_KIND_PROJECT_PAYMENT);
    e.set_title("engagement " + std::to_string(rng() % 100000));
    e.set_audit_unit_id(NewUuid());
    e.set_audited_unit_id(NewUuid());
    if (rng() % 2 == 0) e.set_audited_person_id(NewUuid());
    e.set_period_from("2025-01-01");
    e.set_period_to("2025-12-31");
    e.set_it_stage(v1::IT_STAGE_BEFORE_CONTRACT);
    e.set_state(v1::ENGAGEMENT_STATE_PLANNED);
    auto r = store_->CreateEngagement(e, By("CreateEngagement"));
    EXPECT_TRUE(r.ok()) << r.status();
    for (int steps = static_cast<int>(rng() % 3); steps > 0; --steps) {
      auto a = store_->MutateEngagement(e.id(), By("AdvanceEngagement"), [](const v1::Engagement& cur) {
        Change<v1::Engagement> ch{cur, {{cur.id(), "engagement_advanced", {{"to", cur.state() + 1}}}}};
        ch.after.set_state(static_cast<v1::EngagementState>(cur.state() + 1));
        return absl::StatusOr<Change<v1::Engagement>>(ch);
      });
      EXPECT_TRUE(a.ok()) << a.status();
    }
    return e.id();
  }

  static std::string Find(std::mt19937_64& rng, const std::string& engagement, const std::string& unit) {
    v1::Finding f;
    f.set_id(NewUuid());
    f.set_engagement_id(engagement);
    f.set_title("finding " + std::to_string(rng() % 100000));
    f.set_description("described");
    f.set_category(static_cast<v1::FindingCategory>(1 + rng() % 7));
    f.set_amount_fen(static_cast<int64_t>(rng() % 1000000));
    f.set_severity(v1::SEVERITY_MEDIUM);
    f.set_responsible_unit_id(unit);
    if (rng() % 2 == 0) f.set_responsible_person_id(NewUuid());
    f.add_evidence_refs("doc-" + std::to_string(rng() % 1000));
    auto r = store_->AddFinding(f, By("AddFinding"));
    EXPECT_TRUE(r.ok()) << r.status();
    findings_.insert(f.id());
    with_findings_.insert(engagement);
    return f.id();
  }

  // One random step of a finding: referred (then delivered, dead, or followed by a clue
  // event), or a rectification added and moved on.
  static void Step(std::mt19937_64& rng, const std::string& id) {
    const int kind = static_cast<int>(rng() % 5);
    if (kind <= 1) {
      auto r = store_->MutateFinding(id, By("ReferFinding"), [](const v1::Finding& cur) {
        Change<v1::Finding> ch{cur, {{cur.id(), "referred", {{"to_unit_id", "discipline"}}}}};
        ch.after.mutable_referral()->set_state(v1::REFERRAL_STATE_PENDING);
        ch.after.mutable_referral()->set_to_unit_id(NewUuid());
        return absl::StatusOr<Change<v1::Finding>>(ch);
      });
      ASSERT_TRUE(r.ok()) << r.status();
      absl::Status s = db::WithTransaction(*pool_, [&](db::Tx& tx) {
        if (kind == 0) return store_->ReferralDead(tx, id, "refused");
        v1::ClueReply reply;
        reply.mutable_clue()->set_id(NewUuid());
        reply.mutable_clue()->set_number("XS-2026-" + std::to_string(rng() % 10000));
        reply.mutable_clue()->set_state(v1::CLUE_STATE_REGISTERED);
        SM_RETURN_IF_ERROR(store_->ReferralDelivered(tx, id, reply));
        v1::ClueEvent ev;
        ev.set_clue_id(reply.clue().id());
        ev.set_seq(2);
        ev.set_type("disposed");
        ev.set_data_json(R"({"method":"DISPOSITION_METHOD_CLOSE","reason":"no case"})");
        return store_->ApplyClueEvent(tx, ev);
      });
      ASSERT_TRUE(s.ok()) << s;
      return;
    }
    v1::Rectification x;
    x.set_id(NewUuid());
    x.set_finding_id(id);
    x.set_measure("fix it");
    x.set_owner_unit_id(NewUuid());
    *x.mutable_deadline_at() = TimestampOf(clock_->Now() + std::chrono::hours(rng() % 2 ? 24 * 30 : -24));
    auto r = store_->AddRectification(x, By("AddRectification"));
    ASSERT_TRUE(r.ok()) << r.status();
    if (kind == 2) return;
    auto m = store_->MutateRectification(x.id(), By("SubmitRectification"), [&](const v1::Rectification& now) {
      Change<v1::Rectification> ch{
          now, {{id, "rectification_submitted", {{"rectification_id", x.id()}}}}, std::nullopt};
      ch.after.set_state(v1::RECTIFICATION_STATE_SUBMITTED);
      ch.after.set_last_note("done, see attachment " + std::to_string(kind));
      return absl::StatusOr<Change<v1::Rectification>>(ch);
    });
    ASSERT_TRUE(m.ok()) << m.status();
  }

  static db::Pool* pool_;
  static FakeClock* clock_;
  static PgStore* store_;
  static std::set<std::string> findings_;       // the other aggregates are engagements
  static std::set<std::string> with_findings_;  // engagements that have findings
};

db::Pool* AuditTamperTest::pool_;
FakeClock* AuditTamperTest::clock_;
PgStore* AuditTamperTest::store_;
std::set<std::string> AuditTamperTest::findings_;
std::set<std::string> AuditTamperTest::with_findings_;

TEST_F(AuditTamperTest, EveryTamperOperationIsDetectedAtItsEvent) {
  std::mt19937_64 rng(kSeed);
  std::vector<std::string> ids, engagements, findings;
  for (int i = 0; i < kEngagements; ++i) engagements.push_back(Engage(rng));
  // A third of the engagements have no findings (those may be deleted whole); the same unit
  // is found again in later engagements, so some findings recur.
  const std::vector<std::string> units = {NewUuid(), NewUuid(), NewUuid()};
  for (int i = 0; i < kFindings; ++i) {
    findings.push_back(Find(rng, engagements[rng() % (kEngagements * 2 / 3)], units[rng() % units.size()]));
  }
  for (int i = 0; i < kFindings * 2; ++i) Step(rng, findings[rng() % findings.size()]);
  if (HasFatalFailure()) return;
  clock_->Advance(std::chrono::hours(48));
  auto overdue = store_->MarkOverdue(clock_->Now());
  ASSERT_TRUE(overdue.ok()) << overdue.status();
  EXPECT_GT(*overdue, 0);

  auto cp = store_->TakeCheckpoint();
  ASSERT_TRUE(cp.ok()) << cp.status();
  ASSERT_TRUE(cp->has_value());
  EXPECT_EQ((*cp)->aggregates, kEngagements + kFindings);
  // Some chains grow past the checkpoint.
  for (int i = 0; i < 20; ++i) Step(rng, findings[rng() % findings.size()]);

  auto all = store_->VerifyAllChains();
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_TRUE(all->intact) << all->checkpoint_problem << (all->broken.empty() ? "" : all->broken[0].check.problem);
  EXPECT_EQ(all->aggregates, kEngagements + kFindings);

  ids = engagements;
  ids.insert(ids.end(), findings.begin(), findings.end());
  ::sm::testing::tamper::ExpectEveryOperationDetected(
      Target(), ids, ::sm::testing::tamper::CheckpointedLengths(Target(), (*cp)->id), kOperations, kSeed);
  if (HasFatalFailure()) return;
  // Nothing stuck: rolled back, the chains are intact again.
  auto after = store_->VerifyAllChains();
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->intact);
}

TEST_F(AuditTamperTest, ARepeatedDeliveryWritesNothingAndANewOneRecordsWhatItChanged) {
  std::mt19937_64 rng(kSeed + 3);
  const std::string id = Find(rng, Engage(rng), NewUuid());
  auto refer = store_->MutateFinding(id, By("ReferFinding"), [](const v1::Finding& cur) {
    Change<v1::Finding> ch{cur, {{cur.id(), "referred", {{"to_unit_id", "discipline"}}}}};
    ch.after.mutable_referral()->set_state(v1::REFERRAL_STATE_PENDING);
    return absl::StatusOr<Change<v1::Finding>>(ch);
  });
  ASSERT_TRUE(refer.ok()) << refer.status();
  v1::ClueReply reply;
  reply.mutable_clue()->set_id(NewUuid());
  reply.mutable_clue()->set_number("XS-2026-0001");
  reply.mutable_clue()->set_state(v1::CLUE_STATE_REGISTERED);
  auto deliver = [&] {
    return db::WithTransaction(*pool_, [&](db::Tx& tx) { return store_->ReferralDelivered(tx, id, reply); });
  };
  auto history = [&] { return store_->History(id)->events; };
  ASSERT_TRUE(deliver().ok());
  const auto linked = history();
  EXPECT_EQ(linked.back().type, "clue_linked");
  const int64_t version = store_->GetFinding(id)->version();
  ASSERT_TRUE(deliver().ok());  // the relay again, nothing new: no write, no event
  EXPECT_EQ(history().size(), linked.size());
  EXPECT_EQ(store_->GetFinding(id)->version(), version);
  // An error recorded since (a retried referral) is cleared by the delivery, with an event.
  PgRedis::Get().Exec("UPDATE audit.findings SET referral_error = 'timeout', version = version + 1 WHERE id = '" + id +
                      "'");
  ASSERT_TRUE(deliver().ok());
  EXPECT_EQ(history().back().type, "referral_delivered");
  // Everything written through the store verifies, the direct edit above excepted: the
  // delivery's event committed to the row as it left it, which is what counts.
  auto c = store_->VerifyChain(id);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->intact) << c->problem;
}

TEST_F(AuditTamperTest, CheckpointTablesAreAppendOnlyForTheServiceAndTheSuperuser) {
  std::mt19937_64 rng(kSeed + 1);
  Engage(rng);
  auto cp = store_->TakeCheckpoint();
  ASSERT_TRUE(cp.ok() && cp->has_value()) << cp.status();
  ::sm::testing::tamper::ExpectAnchorAppendOnly(Target(), (*cp)->id);
}

TEST_F(AuditTamperTest, ForgedCheckpointIsNotTrustedAndTamperedChainsAreNotCheckpointed) {
  std::mt19937_64 rng(kSeed + 2);
  const std::string id = Find(rng, Engage(rng), NewUuid());
  Step(rng, id);
  auto cp = store_->TakeCheckpoint();
  ASSERT_TRUE(cp.ok() && cp->has_value()) << cp.status();
  ::sm::testing::tamper::ExpectForgedCheckpointDistrustedAndTamperingNotCheckpointed(Target(), id, **cp);
  // Leave the database as the other tests expect it: a fresh schema.
  PgRedis::Get().ResetSchemas();
  ASSERT_TRUE(db::ApplyMigrations(*pool_, "audit", audit_lib_migrations()).ok());
}

}  // namespace
}  // namespace sm::audit
