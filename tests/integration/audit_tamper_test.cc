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
#include "common/workdays.h"
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
                return std::vector<std::string>{"state = state || '_X'",
                                                "title = title || ' (edited)'",
                                                "audited_unit_id = gen_random_uuid()",
                                                "audited_person_id = gen_random_uuid()",
                                                "period_to = period_to + 1",
                                                "version = version + 1",
                                                "kind = kind || '_X'",
                                                "it_stage = it_stage || '_X'",
                                                "created_at = created_at - interval '1 day'"};
              }
              return std::vector<std::string>{"title = title || ' (edited)'",
                                              "description = description || '.'",
                                              "amount_fen = amount_fen + 1",
                                              "severity = severity || '!'",
                                              "responsible_unit_id = gen_random_uuid()",
                                              "responsible_person_id = gen_random_uuid()",
                                              "evidence_refs = evidence_refs || ARRAY['forged']",
                                              "referral_state = referral_state || '_X'",
                                              "referral_to = gen_random_uuid()",
                                              "clue_number = coalesce(clue_number, '') || 'x'",
                                              "clue_state = coalesce(clue_state, '') || 'X'",
                                              "disposition = coalesce(disposition, '') || 'X'",
                                              "outcome_form = coalesce(outcome_form, 0) + 1",
                                              "outcome_feedback = coalesce(outcome_feedback, '') || '.'",
                                              "referral_error = 'forged'",
                                              "recurring = NOT recurring",
                                              "version = version + 1"};
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

  // Steps go through the store's one walk (Store::Step), as the handlers send them: by an
  // auditor of the engagement's audit unit, or by staff of a rectification's owner unit,
  // with the directory facts the handler would have read.
  static db::Idempotency::Key Key(const StepRequest& r) {
    return {NewUuid(), std::string(access::RpcName(RpcOf(r))), "fp"};
  }
  static auth::Principal Auditor(const std::string& unit) {
    return auth::Principal{.user = "auditor", .unit = unit, .roles = {std::string(auth::kRoleAuditor)}};
  }
  static StepFacts Facts(const std::string& kind = "AUDIT_OFFICE") {
    StepFacts f;
    f.new_id = NewUuid();
    f.unit = UnitInfo{NewUuid(), "unit", kind, true, {}};
    f.person = PersonInfo{NewUuid(), "person", "", true, false};
    return f;
  }
  static Rules RulesNow() { return Rules{clock_->Now(), Policy{}, &calendar_}; }
  template <typename Request>
  static auto Walk(const Request& r, const auth::Principal& who, StepFacts facts = {}) {
    return store_->Step(r, who, std::move(facts), RulesNow(), Key(r));
  }
  // The auditor of the audit unit of `finding`'s engagement.
  static auth::Principal AuditorOf(const std::string& finding) {
    return Auditor(store_->GetEngagement(store_->GetFinding(finding)->engagement_id())->audit_unit_id());
  }

  static std::string Engage(std::mt19937_64& rng) {
    v1::CreateEngagementRequest e;
    e.set_request_id(NewUuid());
    e.set_kind(v1::ENGAGEMENT_KIND_PROJECT_PAYMENT);
    e.set_title("engagement " + std::to_string(rng() % 100000));
    e.set_audit_unit_id(NewUuid());
    e.set_audited_unit_id(NewUuid());
    if (rng() % 2 == 0) e.set_audited_person_id(NewUuid());
    e.set_period_from("2025-01-01");
    e.set_period_to("2025-12-31");
    e.set_it_stage(v1::IT_STAGE_BEFORE_CONTRACT);
    auto r = Walk(e, Auditor(e.audit_unit_id()), Facts());
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return "";
    for (int steps = static_cast<int>(rng() % 3); steps > 0; --steps) {
      const v1::Engagement cur = *store_->GetEngagement(r->engagement().id());
      v1::AdvanceEngagementRequest a;
      a.set_request_id(NewUuid());
      a.set_engagement_id(cur.id());
      a.set_to(static_cast<v1::EngagementState>(cur.state() + 1));
      auto advanced = Walk(a, Auditor(cur.audit_unit_id()));
      EXPECT_TRUE(advanced.ok()) << advanced.status();
    }
    return r->engagement().id();
  }

  static std::string Find(std::mt19937_64& rng, const std::string& engagement, const std::string& unit) {
    v1::AddFindingRequest f;
    f.set_request_id(NewUuid());
    f.set_engagement_id(engagement);
    f.set_title("finding " + std::to_string(rng() % 100000));
    f.set_description("described");
    f.set_category(static_cast<v1::FindingCategory>(1 + rng() % 7));
    f.set_amount_fen(static_cast<int64_t>(rng() % 1000000));
    f.set_severity(v1::SEVERITY_MEDIUM);
    f.set_responsible_unit_id(unit);
    if (rng() % 2 == 0) f.set_responsible_person_id(NewUuid());
    f.add_evidence_refs("doc-" + std::to_string(rng() % 1000));
    if (rng() % 3 == 0) f.add_evidence_refs(rng() % 2 ? "scan 2, \"signed\" {copy}" : "NULL");
    auto r = Walk(f, Auditor(store_->GetEngagement(engagement)->audit_unit_id()), Facts());
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return "";
    findings_.insert(r->finding().id());
    with_findings_.insert(engagement);
    return r->finding().id();
  }

  static absl::Status Refer(const std::string& id) {
    v1::ReferFindingRequest r;
    r.set_request_id(NewUuid());
    r.set_finding_id(id);
    r.set_to_unit_id(NewUuid());
    return Walk(r, AuditorOf(id), Facts("DISCIPLINE_GROUP")).status();
  }

  // One random step of a finding: referred (then delivered, dead, or followed by a clue
  // event), or a rectification added and moved on.
  static void Step(std::mt19937_64& rng, const std::string& id) {
    const int kind = static_cast<int>(rng() % 5);
    if (kind <= 1) {
      absl::Status r = Refer(id);
      if (absl::IsFailedPrecondition(r)) return;  // referred before: the rules allow it once
      ASSERT_TRUE(r.ok()) << r;
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
    v1::AddRectificationRequest x;
    x.set_request_id(NewUuid());
    x.set_finding_id(id);
    x.set_measure("fix it");
    x.set_owner_unit_id(NewUuid());
    x.set_working_days(rng() % 2 ? 30 : 1);  // the short ones are overdue two days on
    auto r = Walk(x, AuditorOf(id), Facts());
    ASSERT_TRUE(r.ok()) << r.status();
    if (kind == 2) return;
    v1::SubmitRectificationRequest m;
    m.set_request_id(NewUuid());
    m.set_rectification_id(r->rectification().id());
    m.set_summary("done, see attachment " + std::to_string(kind));
    auto submitted =
        Walk(m, auth::Principal{.user = "owner", .unit = x.owner_unit_id(), .roles = {std::string(auth::kRoleStaff)}});
    ASSERT_TRUE(submitted.ok()) << submitted.status();
  }

  static db::Pool* pool_;
  static FakeClock* clock_;
  static PgStore* store_;
  static std::set<std::string> findings_;       // the other aggregates are engagements
  static std::set<std::string> with_findings_;  // engagements that have findings
  static inline workdays::Calendar calendar_;   // Monday to Friday
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
  absl::Status refer = Refer(id);
  ASSERT_TRUE(refer.ok()) << refer;
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
