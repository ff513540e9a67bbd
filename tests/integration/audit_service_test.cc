// audit-service with clue-service, both in process against a real PostgreSQL and Redis:
// referral through the outbox (exactly one clue, redelivery, dead commands), the clue's
// outcome shown on the finding through the event consumer, the rectification workflow
// with spot checks and the look-back window, recurrence, access and bad input.
#include <mutex>
#include <set>
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/auth.h"
#include "common/consumer.h"
#include "common/db/migrate.h"
#include "common/outbox.h"
#include "common/rectification_store.h"
#include "common/sealed.h"
#include "common/status.h"
#include "common/uuid.h"
#include "common/workdays.h"
#include "services/audit/pg_store.h"
#include "services/audit/service.h"
#include "services/clue/pg_store.h"
#include "services/clue/service.h"
#include "services/directory/pg_store.h"
#include "tests/integration/audit_stack.h"
#include "tests/support/pg_redis.h"

const std::vector<sm::db::Migration>& directory_lib_migrations();
const std::vector<sm::db::Migration>& clue_lib_migrations();
const std::vector<sm::db::Migration>& audit_lib_migrations();

namespace sm::audit {
namespace {

using ::sm::testing::PgRedis;

using namespace ::sm::audit::stack;  // NOLINT: the shared fixture and its helpers

class AuditServiceTest : public AuditStack {
 protected:
  v1::Engagement Engagement(const std::string& audited = "fucheng-branch") {
    v1::CreateEngagementRequest r;
    r.set_request_id(NewUuid());
    r.set_kind(v1::ENGAGEMENT_KIND_ECONOMIC_RESPONSIBILITY);
    r.set_title("涪城分局原局长离任经济责任审计");
    r.set_audit_unit_id(auditor.unit);
    r.set_audited_unit_id(UnitId(audited));
    r.set_audited_person_id(PersonIn(audited, true));
    r.set_period_from("2023-01-01");
    r.set_period_to("2025-12-31");
    v1::EngagementReply reply;
    grpc::Status s = Call(stub_.get(), auditor, &v1::AuditService::Stub::CreateEngagement, r, &reply);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return reply.engagement();
  }
  v1::Finding AddFinding(const v1::Engagement& e, v1::FindingCategory cat = v1::FINDING_CATEGORY_FINANCIAL_DISCIPLINE,
                         const std::string& unit = "fucheng-branch") {
    v1::AddFindingRequest r;
    r.set_request_id(NewUuid());
    r.set_engagement_id(e.id());
    r.set_title("超标准列支接待费用");
    r.set_description("2024年度接待费超出标准 12,345.67 元，部分无公函。");
    r.set_category(cat);
    r.set_amount_fen(1234567);
    r.set_severity(v1::SEVERITY_HIGH);
    r.set_responsible_unit_id(UnitId(unit));
    r.set_responsible_person_id(PersonIn(unit, true));
    r.add_evidence_refs("审计底稿 SJ-2026-01-03");
    v1::FindingReply reply;
    grpc::Status s = Call(stub_.get(), auditor, &v1::AuditService::Stub::AddFinding, r, &reply);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return reply.finding();
  }
  v1::Finding Refer(const v1::Finding& f, const std::string& to = "discipline-group") {
    v1::ReferFindingRequest r;
    r.set_request_id(NewUuid());
    r.set_finding_id(f.id());
    r.set_expected_version(f.version());
    r.set_to_unit_id(UnitId(to));
    r.add_categories(v1::CLUE_CATEGORY_INTEGRITY);
    v1::FindingReply reply;
    grpc::Status s = Call(stub_.get(), auditor, &v1::AuditService::Stub::ReferFinding, r, &reply);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return reply.finding();
  }
  v1::Finding Get(const std::string& id, const Who& w) {
    v1::GetFindingRequest r;
    r.set_finding_id(id);
    v1::Finding f;
    grpc::Status s = Call(stub_.get(), w, &v1::AuditService::Stub::GetFinding, r, &f);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return f;
  }
  // Waits (bounded) until `pred` holds for the finding.
  v1::Finding WaitFor(const std::string& id, const std::function<bool(const v1::Finding&)>& pred) {
    v1::Finding f;
    for (int i = 0; i < 200; ++i) {
      f = Get(id, auditor);
      if (pred(f)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return f;
  }
};

TEST_F(AuditServiceTest, AReferredFindingBecomesOneClueAndShowsItsOutcome) {
  v1::Engagement e = Engagement();
  EXPECT_EQ(e.number().rfind("SJ-2026-", 0), 0u);
  v1::Finding f = AddFinding(e);
  EXPECT_EQ(f.amount_fen(), 1234567);
  f = Refer(f);
  EXPECT_EQ(f.referral().state(), v1::REFERRAL_STATE_PENDING);
  EXPECT_EQ(Count("SELECT count(*) FROM audit.outbox WHERE state = 'pending'"), 1);
  auto n = relay_->RunOnce();
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1);
  f = Get(f.id(), auditor);
  EXPECT_EQ(f.referral().state(), v1::REFERRAL_STATE_DELIVERED);
  ASSERT_FALSE(f.referral().clue_id().empty());
  EXPECT_EQ(f.referral().clue_number().rfind("XS-2026-", 0), 0u);
  EXPECT_EQ(Count("SELECT count(*) FROM clue.clues WHERE source_system = 'audit' AND source_ref = '" + f.id() + "'"),
            1);

  // A crash after the clue was registered but before the outbox row was marked: the relay
  // delivers again, and the receiver answers with the same clue.
  Sql("UPDATE audit.outbox SET state = 'pending', delivered_at = NULL");
  ASSERT_TRUE(relay_->RunOnce().ok());
  EXPECT_EQ(Count("SELECT count(*) FROM clue.clues WHERE source_system = 'audit' AND source_ref = '" + f.id() + "'"),
            1);
  EXPECT_EQ(Get(f.id(), auditor).referral().clue_id(), f.referral().clue_id());

  // The discipline group receives it as an offer from the audit office, and handles it.
  const Who group{UnitId("discipline-group"), {"discipline"}};
  v1::GetClueRequest g;
  g.set_clue_id(f.referral().clue_id());
  v1::Clue c;
  ASSERT_TRUE(Call(clue_.get(), group, &v1::ClueService::Stub::GetClue, g, &c).ok());
  EXPECT_EQ(c.state(), v1::CLUE_STATE_OFFERED);
  EXPECT_EQ(c.source(), v1::CLUE_SOURCE_AUDIT);
  EXPECT_EQ(c.origin_unit_id(), auditor.unit);
  // The referred-to unit may now read the finding too.
  EXPECT_EQ(Get(f.id(), group).id(), f.id());
  ASSERT_TRUE(AcceptDisposeConclude(group, c.id(), c.version(), "经核实，责令退赔并给予诫勉处理。"));
  f = WaitFor(f.id(), [](const v1::Finding& x) { return x.referral().clue_state() == v1::CLUE_STATE_CONCLUDED; });
  EXPECT_EQ(f.referral().clue_state(), v1::CLUE_STATE_CONCLUDED);
  EXPECT_EQ(f.referral().disposition(), v1::DISPOSITION_METHOD_VERIFICATION);
  EXPECT_EQ(f.referral().outcome_form(), v1::SUPERVISION_FORM_2);
  EXPECT_EQ(f.referral().outcome_feedback(), "经核实，责令退赔并给予诫勉处理。");
  // Referring twice is refused; nothing new enters the outbox.
  v1::ReferFindingRequest again;
  again.set_request_id(NewUuid());
  again.set_finding_id(f.id());
  again.set_expected_version(f.version());
  again.set_to_unit_id(group.unit);
  v1::FindingReply fr;
  EXPECT_EQ(Call(stub_.get(), auditor, &v1::AuditService::Stub::ReferFinding, again, &fr).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(AuditServiceTest, APoisonCommandIsParkedAndTheRestKeepFlowing) {
  Sql("INSERT INTO audit.outbox (kind, dedupe_key, payload) VALUES ('clue.register', 'finding:" + NewUuid() +
      "', '\\x0a0b'::bytea)");
  v1::Finding f = Refer(AddFinding(Engagement()));
  ASSERT_TRUE(relay_->RunOnce().ok());
  EXPECT_EQ(Get(f.id(), auditor).referral().state(), v1::REFERRAL_STATE_DELIVERED);
  auto depth = relay_->Measure();
  ASSERT_TRUE(depth.ok());
  EXPECT_EQ(depth->pending, 0);
  EXPECT_GE(depth->dead, 1);
  EXPECT_EQ(Count("SELECT count(*) FROM audit.outbox WHERE state = 'dead' AND last_error LIKE '%INVALID_ARGUMENT%'"),
            depth->dead);
  // Dead commands are never retried.
  ASSERT_TRUE(relay_->RunOnce().ok());
  EXPECT_EQ(Count("SELECT max(attempts) FROM audit.outbox WHERE state = 'dead'"), 1);
}

// The referral's clue request id is predictable; idempotency keys are scoped to the caller,
// so a person who sends it first gets a clue of their own and the real referral still
// arrives (before, it went to the dead-letter state).
TEST_F(AuditServiceTest, APersonClaimingTheReferralRequestIdCannotSuppressIt) {
  v1::Finding f = AddFinding(Engagement());
  const Who group{UnitId("discipline-group"), {"discipline"}};
  v1::RegisterClueRequest squat;
  squat.set_request_id("audit-referral-" + f.id());
  squat.set_origin_unit_id(group.unit);
  squat.set_source(v1::CLUE_SOURCE_PETITION);
  squat.set_channel(v1::RECEIPT_CHANNEL_LETTER);
  squat.add_subjects()->set_unit_id(UnitId("fucheng-branch"));
  squat.add_categories(v1::CLUE_CATEGORY_WORK);
  squat.set_summary("抢先占用移送请求号");
  v1::ClueReply squatted;
  ASSERT_TRUE(Call(clue_.get(), group, &v1::ClueService::Stub::RegisterClue, squat, &squatted).ok());
  f = Refer(f);
  ASSERT_TRUE(relay_->RunOnce().ok());
  f = Get(f.id(), auditor);
  EXPECT_EQ(f.referral().state(), v1::REFERRAL_STATE_DELIVERED) << f.referral().last_error();
  EXPECT_NE(f.referral().clue_id(), squatted.clue().id());
}

// A referral parked as dead is sent again by the audit unit once the cause is fixed; only
// a dead one, only by the audit unit's auditors.
TEST_F(AuditServiceTest, ADeadReferralIsRetriedByTheAuditUnit) {
  v1::Finding f = Refer(AddFinding(Engagement()));
  // The cause: a command clue-service refuses for good (kept aside, to be fixed later).
  const std::string key = "'finding:" + f.id() + "'";
  Sql("DROP TABLE IF EXISTS public.saved_command; "
      "CREATE TABLE public.saved_command AS SELECT dedupe_key, payload FROM audit.outbox WHERE dedupe_key = " +
      key +
      "; "
      "UPDATE audit.outbox SET payload = '\\x0a0b'::bytea WHERE dedupe_key = " +
      key);
  ASSERT_TRUE(relay_->RunOnce().ok());
  f = Get(f.id(), auditor);
  ASSERT_EQ(f.referral().state(), v1::REFERRAL_STATE_DEAD);
  EXPECT_FALSE(f.referral().last_error().empty());

  v1::RetryReferralRequest r;
  r.set_request_id(NewUuid());
  r.set_finding_id(f.id());
  r.set_expected_version(f.version());
  r.set_reason("移送内容已更正");
  v1::FindingReply reply;
  // Not for other roles or other units, and not without a reason.
  const Who group{UnitId("discipline-group"), {"discipline"}};
  EXPECT_EQ(Call(stub_.get(), group, &v1::AuditService::Stub::RetryReferral, r, &reply).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  const Who other_auditor{UnitId("fucheng-branch"), {"auditor"}};
  const grpc::StatusCode other =
      Call(stub_.get(), other_auditor, &v1::AuditService::Stub::RetryReferral, r, &reply).error_code();
  EXPECT_TRUE(other == grpc::StatusCode::PERMISSION_DENIED || other == grpc::StatusCode::NOT_FOUND) << other;
  auto no_reason = r;
  no_reason.clear_reason();
  EXPECT_EQ(Call(stub_.get(), auditor, &v1::AuditService::Stub::RetryReferral, no_reason, &reply).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  // The cause is fixed, then the audit unit retries.
  Sql("UPDATE audit.outbox o SET payload = s.payload FROM public.saved_command s WHERE o.dedupe_key = s.dedupe_key");
  grpc::Status s = Call(stub_.get(), auditor, &v1::AuditService::Stub::RetryReferral, r, &reply);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reply.finding().referral().state(), v1::REFERRAL_STATE_PENDING);
  EXPECT_EQ(Count("SELECT count(*) FROM audit.outbox WHERE dedupe_key = 'finding:" + f.id() +
                  "' AND state = 'pending' AND attempts = 0"),
            1);
  ASSERT_TRUE(relay_->RunOnce().ok());
  f = Get(f.id(), auditor);
  EXPECT_EQ(f.referral().state(), v1::REFERRAL_STATE_DELIVERED) << f.referral().last_error();
  // Retrying a referral that is not dead is refused, naming the state (the consumer may
  // still be applying the clue's first events to the finding: retry on a version change).
  for (int i = 0; i < 50; ++i) {
    r.set_request_id(NewUuid());
    r.set_expected_version(Get(f.id(), auditor).version());
    s = Call(stub_.get(), auditor, &v1::AuditService::Stub::RetryReferral, r, &reply);
    if (s.error_code() != grpc::StatusCode::ABORTED) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("REFERRAL_STATE_DELIVERED"), std::string::npos) << s.error_message();
}

// Repeated fields are capped and free of repeats, each refusal naming the entry.
TEST_F(AuditServiceTest, RepeatedFieldsAreCappedAndWithoutRepeats) {
  v1::Engagement e = Engagement();
  v1::AddFindingRequest r;
  r.set_request_id(NewUuid());
  r.set_engagement_id(e.id());
  r.set_title("重复的证据编号");
  r.set_description("同一底稿编号重复登记。");
  r.set_category(v1::FINDING_CATEGORY_FINANCIAL_DISCIPLINE);
  r.set_severity(v1::SEVERITY_LOW);
  r.set_responsible_unit_id(UnitId("fucheng-branch"));
  r.add_evidence_refs("底稿 1");
  r.add_evidence_refs("底稿 1");
  v1::FindingReply reply;
  grpc::Status s = Call(stub_.get(), auditor, &v1::AuditService::Stub::AddFinding, r, &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_NE(s.error_message().find("evidence_refs[1]"), std::string::npos) << s.error_message();
  r.clear_evidence_refs();
  for (int i = 0; i < 51; ++i) r.add_evidence_refs("底稿 " + std::to_string(i));
  s = Call(stub_.get(), auditor, &v1::AuditService::Stub::AddFinding, r, &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("at most 50"), std::string::npos) << s.error_message();
  v1::Finding f = AddFinding(e);
  v1::ReferFindingRequest refer;
  refer.set_request_id(NewUuid());
  refer.set_finding_id(f.id());
  refer.set_expected_version(f.version());
  refer.set_to_unit_id(UnitId("discipline-group"));
  refer.add_categories(v1::CLUE_CATEGORY_INTEGRITY);
  refer.add_categories(v1::CLUE_CATEGORY_INTEGRITY);
  s = Call(stub_.get(), auditor, &v1::AuditService::Stub::ReferFinding, refer, &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("categories[1]"), std::string::npos) << s.error_message();
  EXPECT_EQ(Get(f.id(), auditor).referral().state(), v1::REFERRAL_STATE_UNSPECIFIED) << "nothing half-written";
}

// History is paged, the token bound to its aggregate.
TEST_F(AuditServiceTest, HistoryIsPaged) {
  v1::Finding f = Refer(AddFinding(Engagement()));
  v1::GetAuditHistoryRequest h;
  h.set_aggregate_id(f.id());
  h.set_page_size(1);
  v1::GetAuditHistoryResponse first, rest;
  ASSERT_TRUE(Call(stub_.get(), auditor, &v1::AuditService::Stub::GetAuditHistory, h, &first).ok());
  ASSERT_EQ(first.events_size(), 1);
  ASSERT_FALSE(first.next_page_token().empty());
  h.set_page_size(0);
  h.set_page_token(first.next_page_token());
  ASSERT_TRUE(Call(stub_.get(), auditor, &v1::AuditService::Stub::GetAuditHistory, h, &rest).ok());
  ASSERT_GE(rest.events_size(), 1);
  EXPECT_GT(rest.events(0).seq(), first.events(0).seq());
  EXPECT_TRUE(rest.next_page_token().empty());
  h.set_aggregate_id(AddFinding(Engagement()).id());
  grpc::Status s = Call(stub_.get(), auditor, &v1::AuditService::Stub::GetAuditHistory, h, &rest);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "another aggregate's token";
  EXPECT_NE(s.error_message().find("page_token"), std::string::npos) << s.error_message();
}

TEST_F(AuditServiceTest, RectificationsAreFollowedToSignOffWithLookBack) {
  v1::Finding f = AddFinding(Engagement());
  const Who owner{f.responsible_unit_id(), {"staff"}};
  v1::AddRectificationRequest add;
  add.set_request_id(NewUuid());
  add.set_finding_id(f.id());
  add.set_measure("退还超标准费用，修订接待管理制度");
  v1::RectificationReply r;
  ASSERT_TRUE(Call(stub_.get(), auditor, &v1::AuditService::Stub::AddRectification, add, &r).ok());
  EXPECT_EQ(r.rectification().state(), v1::RECTIFICATION_STATE_OPEN);
  EXPECT_EQ(r.rectification().owner_unit_id(), f.responsible_unit_id());
  // Deadline: 30 working days from Monday 2026-03-02; the Qingming holiday takes Monday 04-06.
  EXPECT_EQ(r.rectification().deadline_at().seconds(),
            ToUnixSeconds(workdays::EndOfDay(*workdays::ParseDate("2026-04-14"))));
  const std::string id = r.rectification().id();
  // The owner can read the finding it must rectify.
  EXPECT_EQ(Get(f.id(), owner).id(), f.id());

  v1::RecordProgressRequest p;
  p.set_request_id(NewUuid());
  p.set_rectification_id(id);
  p.set_note("已退还 12,345.67 元");
  p.add_evidence_refs("收据 2026-031");
  ASSERT_TRUE(Call(stub_.get(), owner, &v1::AuditService::Stub::RecordProgress, p, &r).ok());
  v1::SubmitRectificationRequest s;
  s.set_request_id(NewUuid());
  s.set_rectification_id(id);
  s.set_expected_version(r.rectification().version());
  s.set_summary("整改完成");
  // Only the owner submits.
  EXPECT_EQ(Call(stub_.get(), auditor, &v1::AuditService::Stub::SubmitRectification, s, &r).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Call(stub_.get(), owner, &v1::AuditService::Stub::SubmitRectification, s, &r).ok());
  EXPECT_EQ(r.rectification().state(), v1::RECTIFICATION_STATE_SUBMITTED);
  // Submitting again names the state.
  s.set_request_id(NewUuid());
  s.set_expected_version(r.rectification().version());
  grpc::Status st = Call(stub_.get(), owner, &v1::AuditService::Stub::SubmitRectification, s, &r);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(st.error_message().find("SUBMITTED"), std::string::npos);
  // Rejected back to the owner with a reason, resubmitted, signed off.
  v1::ReviewRectificationRequest rv;
  rv.set_request_id(NewUuid());
  rv.set_rectification_id(id);
  rv.set_expected_version(r.rectification().version());
  rv.set_approve(false);
  st = Call(stub_.get(), auditor, &v1::AuditService::Stub::ReviewRectification, rv, &r);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);  // a rejection needs a reason
  rv.set_reason("缺少制度修订文件");
  EXPECT_EQ(Call(stub_.get(), owner, &v1::AuditService::Stub::ReviewRectification, rv, &r).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Call(stub_.get(), auditor, &v1::AuditService::Stub::ReviewRectification, rv, &r).ok());
  EXPECT_EQ(r.rectification().state(), v1::RECTIFICATION_STATE_OPEN);
  s.set_request_id(NewUuid());
  s.set_expected_version(r.rectification().version());
  ASSERT_TRUE(Call(stub_.get(), owner, &v1::AuditService::Stub::SubmitRectification, s, &r).ok());
  rv.set_request_id(NewUuid());
  rv.set_expected_version(r.rectification().version());
  rv.set_approve(true);
  ASSERT_TRUE(Call(stub_.get(), auditor, &v1::AuditService::Stub::ReviewRectification, rv, &r).ok());
  EXPECT_EQ(r.rectification().state(), v1::RECTIFICATION_STATE_SIGNED_OFF);
  EXPECT_EQ(r.rectification().spot_check(), SpotCheck(id, 50));
  EXPECT_EQ(r.rectification().lookback_until().seconds(), ToUnixSeconds(Start() + std::chrono::hours(24 * 90)));
  // 回头看: reopened inside the window ...
  v1::ReopenRectificationRequest ro;
  ro.set_request_id(NewUuid());
  ro.set_rectification_id(id);
  ro.set_expected_version(r.rectification().version());
  ro.set_reason("回头看发现问题反弹");
  clock_->Advance(std::chrono::hours(24 * 30));
  ASSERT_TRUE(Call(stub_.get(), auditor, &v1::AuditService::Stub::ReopenRectification, ro, &r).ok());
  EXPECT_EQ(r.rectification().state(), v1::RECTIFICATION_STATE_OPEN);
  EXPECT_EQ(r.rectification().reopened(), 1);
  // ... but not after it closes.
  s.set_request_id(NewUuid());
  s.set_expected_version(r.rectification().version());
  ASSERT_TRUE(Call(stub_.get(), owner, &v1::AuditService::Stub::SubmitRectification, s, &r).ok());
  rv.set_request_id(NewUuid());
  rv.set_expected_version(r.rectification().version());
  ASSERT_TRUE(Call(stub_.get(), auditor, &v1::AuditService::Stub::ReviewRectification, rv, &r).ok());
  clock_->Advance(std::chrono::hours(24 * 91));
  ro.set_request_id(NewUuid());
  ro.set_expected_version(r.rectification().version());
  st = Call(stub_.get(), auditor, &v1::AuditService::Stub::ReopenRectification, ro, &r);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(st.error_message().find("回头看"), std::string::npos);
  // Every step is in the finding's hash chain.
  v1::VerifyAuditChainRequest vq;
  vq.set_aggregate_id(f.id());
  v1::VerifyChainResponse vr;
  ASSERT_TRUE(Call(stub_.get(), auditor, &v1::AuditService::Stub::VerifyAuditChain, vq, &vr).ok());
  EXPECT_TRUE(vr.intact());
  EXPECT_GE(vr.events(), 9);
}

TEST_F(AuditServiceTest, OverdueRectificationsEscalateAndStatsShowRates) {
  v1::Finding f = AddFinding(Engagement("kexin-branch"), v1::FINDING_CATEGORY_PROCUREMENT, "kexin-branch");
  v1::AddRectificationRequest add;
  add.set_request_id(NewUuid());
  add.set_finding_id(f.id());
  add.set_measure("规范采购程序");
  add.set_working_days(5);
  v1::RectificationReply r;
  ASSERT_TRUE(Call(stub_.get(), auditor, &v1::AuditService::Stub::AddRectification, add, &r).ok());
  OverdueScanner scanner(store_, *clock_);
  EXPECT_EQ(*scanner.ScanOnce(), 0);
  clock_->Advance(std::chrono::hours(24 * 10));
  EXPECT_GE(*scanner.ScanOnce(), 1);
  v1::ListRectificationsRequest lq;
  lq.set_overdue_only(true);
  lq.set_finding_id(f.id());
  v1::ListRectificationsResponse lr;
  ASSERT_TRUE(Call(stub_.get(), auditor, &v1::AuditService::Stub::ListRectifications, lq, &lr).ok());
  ASSERT_EQ(lr.rectifications_size(), 1);
  v1::GetAuditStatsRequest sq;
  sq.set_unit_id(UnitId("kexin-branch"));
  v1::AuditStats stats, cached;
  // A dashboard sees its own unit and the units below it: the bureau's, the branch's.
  const Who dashboard{UnitId("bureau"), {"dashboard"}};
  ASSERT_TRUE(Call(stub_.get(), dashboard, &v1::AuditService::Stub::GetAuditStats, sq, &stats).ok());
  EXPECT_GE(stats.findings(), 1);
  EXPECT_GE(stats.amount_fen(), 1234567);
  EXPECT_GE(stats.overdue(), 1);
  EXPECT_LT(stats.rectification_rate(), 1.0);
  ASSERT_TRUE(Call(stub_.get(), dashboard, &v1::AuditService::Stub::GetAuditStats, sq, &cached).ok());
  EXPECT_TRUE(cached.from_cache());
  EXPECT_EQ(cached.findings(), stats.findings());
  // Dashboards see nothing but statistics.
  v1::GetFindingRequest g;
  g.set_finding_id(f.id());
  v1::Finding out;
  EXPECT_EQ(Call(stub_.get(), dashboard, &v1::AuditService::Stub::GetFinding, g, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// GetRectification answers whoever would see the rectification listed: the reviewing audit
// unit, the owner, the finding's responsible unit, oversight; to anyone else it does not
// exist, as a finding they may not see; a dashboard is refused the call.
TEST_F(AuditServiceTest, ARectificationIsReadByWhoeverSeesItListed) {
  v1::Finding f = AddFinding(Engagement());
  v1::AddRectificationRequest add;
  add.set_request_id(NewUuid());
  add.set_finding_id(f.id());
  add.set_measure("规范公务接待审批");
  add.set_owner_unit_id(UnitId("traffic-police-division"));
  v1::RectificationReply r;
  ASSERT_TRUE(Call(stub_.get(), auditor, &v1::AuditService::Stub::AddRectification, add, &r).ok());
  const v1::Rectification& added = r.rectification();
  EXPECT_GT(added.created_at().seconds(), 0);  // the step's transaction time
  v1::GetRectificationRequest g;
  g.set_rectification_id(added.id());
  auto get = [&](const Who& who, v1::Rectification* out) {
    return Call(stub_.get(), who, &v1::AuditService::Stub::GetRectification, g, out);
  };
  for (const Who& who : {auditor, Who{UnitId("traffic-police-division"), {"staff"}},
                         Who{f.responsible_unit_id(), {"staff"}}, Who{UnitId("bureau-party-committee"), {"oversight"}},
                         Who{UnitId("bureau-party-committee"), {"oversight"}, 0}}) {
    v1::Rectification got;
    grpc::Status st = get(who, &got);
    ASSERT_TRUE(st.ok()) << who.unit << " " << who.roles[0] << ": " << st.error_message();
    // The row as the step left it, created_at included.
    EXPECT_EQ(got.SerializeAsString(), added.SerializeAsString()) << got.ShortDebugString();
    // As a list shows it.
    v1::ListRectificationsRequest lq;
    lq.set_finding_id(f.id());
    v1::ListRectificationsResponse lr;
    ASSERT_TRUE(Call(stub_.get(), who, &v1::AuditService::Stub::ListRectifications, lq, &lr).ok());
    ASSERT_EQ(lr.rectifications_size(), 1);
    EXPECT_EQ(lr.rectifications(0).SerializeAsString(), got.SerializeAsString());
  }
  // Anyone else: the same answer as for an id that exists nowhere.
  for (const Who& who : {Who{UnitId("gaoxin-branch"), {"staff"}}, Who{UnitId("gaoxin-branch"), {"auditor"}},
                         Who{UnitId("discipline-group"), {"discipline"}}}) {
    v1::Rectification got;
    grpc::Status st = get(who, &got);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << who.unit << " " << who.roles[0];
    EXPECT_EQ(st.error_message(), "rectification not found");
  }
  v1::Rectification out;
  EXPECT_EQ(get(Who{UnitId("bureau"), {"dashboard"}}, &out).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  g.set_rectification_id(NewUuid());
  grpc::Status unknown = get(auditor, &out);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(unknown.error_message(), "rectification not found");
  g.set_rectification_id("c1");
  grpc::Status bad = get(auditor, &out);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_EQ(FieldViolations(FromGrpcStatus(bad)).size(), 1u);
  EXPECT_EQ(FieldViolations(FromGrpcStatus(bad))[0].field, "rectification_id");
}

// ListRectifications is paged: pages of two cover five rectifications once each, in the
// order they were set; a token is good for its own filters only.
TEST_F(AuditServiceTest, RectificationsAreListedInPages) {
  v1::Finding f = AddFinding(Engagement());
  std::vector<std::string> set;
  for (int i = 0; i < 5; ++i) {
    v1::AddRectificationRequest add;
    add.set_request_id(NewUuid());
    add.set_finding_id(f.id());
    add.set_measure("整改措施 " + std::to_string(i + 1));
    v1::RectificationReply r;
    ASSERT_TRUE(Call(stub_.get(), auditor, &v1::AuditService::Stub::AddRectification, add, &r).ok());
    set.push_back(r.rectification().id());
  }
  v1::ListRectificationsRequest q;
  q.set_finding_id(f.id());
  q.set_page_size(2);
  std::vector<std::string> listed;
  std::vector<int> sizes;
  std::string token;
  for (int page = 0; page < 3; ++page) {
    q.set_page_token(token);
    v1::ListRectificationsResponse resp;
    grpc::Status st = Call(stub_.get(), auditor, &v1::AuditService::Stub::ListRectifications, q, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    sizes.push_back(resp.rectifications_size());
    for (const auto& x : resp.rectifications()) listed.push_back(x.id());
    token = resp.next_page_token();
    EXPECT_EQ(token.empty(), page == 2) << page;
  }
  EXPECT_EQ(sizes, (std::vector<int>{2, 2, 1}));
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()).size(), 5u);
  // In the order they were set: each row's created_at is its own step's transaction time.
  EXPECT_EQ(listed, set);
  // A token for other filters, or not one of ours, is refused naming page_token.
  v1::ListRectificationsResponse resp;
  q.set_page_token("");
  ASSERT_TRUE(Call(stub_.get(), auditor, &v1::AuditService::Stub::ListRectifications, q, &resp).ok());
  for (const std::string& bad : {std::string("not-a-token"), resp.next_page_token()}) {
    v1::ListRectificationsRequest other = q;
    other.set_page_token(bad);
    other.set_state(v1::RECTIFICATION_STATE_OPEN);
    grpc::Status st = Call(stub_.get(), auditor, &v1::AuditService::Stub::ListRectifications, other, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
    ASSERT_EQ(FieldViolations(FromGrpcStatus(st)).size(), 1u) << st.error_message();
    EXPECT_EQ(FieldViolations(FromGrpcStatus(st))[0].field, "page_token");
  }
}

// The table audit keeps is the one the shared rectification store reads and writes
// (common/rectification_store.h): the same columns, in the same order.
TEST_F(AuditServiceTest, TheRectificationsTableIsTheSharedOne) {
  pqxx::connection c(Conn());
  pqxx::work tx(c);
  std::vector<std::string> columns;
  for (const auto& r : tx.exec("SELECT column_name FROM information_schema.columns WHERE table_schema = 'audit' "
                               "AND table_name = 'rectifications' ORDER BY ordinal_position")) {
    columns.push_back(r[0].as<std::string>());
  }
  EXPECT_EQ(columns, rectification::ColumnNames());
}

TEST_F(AuditServiceTest, ARecurringFindingIsFlagged) {
  v1::Finding first = AddFinding(Engagement("jingkai-branch"), v1::FINDING_CATEGORY_ASSET_MANAGEMENT, "jingkai-branch");
  EXPECT_FALSE(first.recurring());
  v1::Finding again = AddFinding(Engagement("jingkai-branch"), v1::FINDING_CATEGORY_ASSET_MANAGEMENT, "jingkai-branch");
  EXPECT_TRUE(again.recurring());
  EXPECT_EQ(again.recurs_finding_id(), first.id());
  v1::GetAuditHistoryRequest h;
  h.set_aggregate_id(again.id());
  v1::GetAuditHistoryResponse hist;
  ASSERT_TRUE(Call(stub_.get(), auditor, &v1::AuditService::Stub::GetAuditHistory, h, &hist).ok());
  ASSERT_EQ(hist.events_size(), 2);
  EXPECT_EQ(hist.events(1).type(), "recurrence_flagged");
}

// risk-service scores people from the feed: finding_added names the responsible person and
// the severity, and ListFindings filters by the person (exactly their findings).
TEST_F(AuditServiceTest, FindingsNameTheirPersonInTheFeedAndAreListedByIt) {
  const std::string person = PersonIn("fucheng-branch", true);
  const v1::Finding mine = AddFinding(Engagement());
  const v1::Finding other = AddFinding(Engagement("jingkai-branch"), v1::FINDING_CATEGORY_PRICE, "jingkai-branch");
  ASSERT_EQ(mine.responsible_person_id(), person);
  ASSERT_NE(other.responsible_person_id(), person);
  v1::GetAuditHistoryRequest h;
  h.set_aggregate_id(mine.id());
  v1::GetAuditHistoryResponse hist;
  ASSERT_TRUE(Call(stub_.get(), auditor, &v1::AuditService::Stub::GetAuditHistory, h, &hist).ok());
  ASSERT_EQ(hist.events(0).type(), "finding_added");
  EXPECT_NE(hist.events(0).data_json().find(person), std::string::npos) << hist.events(0).data_json();
  EXPECT_NE(hist.events(0).data_json().find("SEVERITY_HIGH"), std::string::npos) << hist.events(0).data_json();

  v1::ListFindingsRequest q;
  q.set_responsible_person_id(person);
  q.set_page_size(500);
  v1::ListFindingsResponse listed;
  ASSERT_TRUE(Call(stub_.get(), auditor, &v1::AuditService::Stub::ListFindings, q, &listed).ok());
  std::set<std::string> ids;
  for (const auto& f : listed.findings()) {
    EXPECT_EQ(f.responsible_person_id(), person);
    ids.insert(f.id());
  }
  EXPECT_TRUE(ids.contains(mine.id()));
  EXPECT_FALSE(ids.contains(other.id()));
  EXPECT_EQ(static_cast<int64_t>(ids.size()),
            Count("SELECT count(*) FROM audit.findings WHERE responsible_person_id = '" + person + "'"));
  q.set_responsible_person_id("not-a-uuid");
  grpc::Status s = Call(stub_.get(), auditor, &v1::AuditService::Stub::ListFindings, q, &listed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  bool named = false;
  for (const auto& v : FieldViolations(FromGrpcStatus(s))) named = named || v.field == "responsible_person_id";
  EXPECT_TRUE(named) << s.error_message();
}

// Findings added to one engagement at once each get their own number: the ordinal is
// counted after the engagement's lock is taken (a regression: counted in the locking
// statement, it was read from before the wait, and concurrent additions collided).
TEST_F(AuditServiceTest, ConcurrentFindingsOfOneEngagementEachGetTheirOwnNumber) {
  const v1::Engagement e = Engagement();
  constexpr int kCallers = 6, kEach = 5;
  std::mutex mu;
  std::set<std::string> numbers;
  std::vector<std::thread> callers;
  for (int t = 0; t < kCallers; ++t) {
    callers.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        v1::Finding f = AddFinding(e);
        std::lock_guard lock(mu);
        numbers.insert(f.number());
      }
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(numbers.size(), static_cast<size_t>(kCallers * kEach));
  EXPECT_EQ(numbers.count(e.number() + "-01"), 1u);
  EXPECT_EQ(numbers.count(e.number() + "-" + std::to_string(kCallers * kEach)), 1u);
}

TEST_F(AuditServiceTest, AccessAndBadInputs) {
  v1::Finding f = AddFinding(Engagement());
  v1::GetFindingRequest g;
  g.set_finding_id(f.id());
  v1::Finding out;
  EXPECT_EQ(Call(stub_.get(), Who{UnitId("gaoxin-branch"), {"staff"}}, &v1::AuditService::Stub::GetFinding, g, &out)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  // Before referral the discipline group does not see it.
  EXPECT_EQ(
      Call(stub_.get(), Who{UnitId("discipline-group"), {"discipline"}}, &v1::AuditService::Stub::GetFinding, g, &out)
          .error_code(),
      grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(Call(stub_.get(), Who{UnitId("bureau-party-committee"), {"oversight"}},
                   &v1::AuditService::Stub::GetFinding, g, &out)
                  .ok());
  // Another unit's staff cannot open an engagement, nor an auditor in another unit's name.
  v1::CreateEngagementRequest c;
  c.set_request_id(NewUuid());
  c.set_kind(v1::ENGAGEMENT_KIND_PROPERTY_SPECIAL);
  c.set_title("执法活动财物管理专项审计");
  c.set_audit_unit_id(UnitId("gaoxin-branch"));
  c.set_audited_unit_id(UnitId("gaoxin-branch"));
  c.set_period_from("2025-01-01");
  c.set_period_to("2025-12-31");
  v1::EngagementReply er;
  EXPECT_EQ(Call(stub_.get(), auditor, &v1::AuditService::Stub::CreateEngagement, c, &er).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(
      Call(stub_.get(), Who{UnitId("gaoxin-branch"), {"staff"}}, &v1::AuditService::Stub::CreateEngagement, c, &er)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  struct Case {
    const char* field;
    std::function<void(v1::CreateEngagementRequest&)> spoil;
  };
  const std::vector<Case> cases = {
      {"kind", [](auto& r) { r.set_kind(v1::ENGAGEMENT_KIND_UNSPECIFIED); }},
      {"title", [](auto& r) { r.clear_title(); }},
      {"period_from", [](auto& r) { r.set_period_from("2025-13-01"); }},
      {"period_to", [](auto& r) { r.set_period_to("2024-01-01"); }},
      {"it_stage", [](auto& r) { r.set_kind(v1::ENGAGEMENT_KIND_IT_PROJECT); }},
      {"audited_person_id", [](auto& r) { r.set_kind(v1::ENGAGEMENT_KIND_ECONOMIC_RESPONSIBILITY); }},
      {"audited_unit_id", [](auto& r) { r.set_audited_unit_id("x"); }},
  };
  const int64_t before = Count("SELECT count(*) FROM audit.engagements");
  for (const auto& k : cases) {
    auto req = c;
    req.set_audit_unit_id(auditor.unit);
    k.spoil(req);
    grpc::Status s = Call(stub_.get(), auditor, &v1::AuditService::Stub::CreateEngagement, req, &er);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << k.field;
    bool named = false;
    for (const auto& v : FieldViolations(FromGrpcStatus(s))) named = named || v.field == k.field;
    EXPECT_TRUE(named) << k.field << ": " << s.error_message();
  }
  EXPECT_EQ(Count("SELECT count(*) FROM audit.engagements"), before);
  // Findings are referred to discipline units only.
  v1::ReferFindingRequest rf;
  rf.set_request_id(NewUuid());
  rf.set_finding_id(f.id());
  rf.set_expected_version(f.version());
  rf.set_to_unit_id(UnitId("gaoxin-branch-puming-station"));
  v1::FindingReply refer_reply;
  grpc::Status rs = Call(stub_.get(), auditor, &v1::AuditService::Stub::ReferFinding, rf, &refer_reply);
  EXPECT_EQ(rs.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldViolations(FromGrpcStatus(rs))[0].field, "to_unit_id");
  v1::AddFindingRequest af;
  af.set_request_id(NewUuid());
  af.set_engagement_id(f.engagement_id());
  af.set_title("x");
  af.set_description("y");
  af.set_category(v1::FINDING_CATEGORY_PRICE);
  af.set_amount_fen(-1);
  af.set_responsible_unit_id(f.responsible_unit_id());
  v1::FindingReply fr;
  grpc::Status s = Call(stub_.get(), auditor, &v1::AuditService::Stub::AddFinding, af, &fr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldViolations(FromGrpcStatus(s))[0].field, "amount_fen");
}

// audit-service's Subscribe runs on its own shared feed like clue-service's, and ends when
// the token does; statistics are held in memory yet a change made here shows at once.
TEST_F(AuditServiceTest, EventsStreamFromTheSharedFeedAndStatsSeeAChangeAtOnce) {
  const Who oversight{UnitId("bureau-party-committee"), {"oversight"}};
  const Who dashboard{UnitId("bureau"), {"dashboard"}};
  const v1::Engagement e = Engagement();
  v1::GetAuditStatsRequest sq;
  sq.set_unit_id(UnitId("fucheng-branch"));
  v1::AuditStats first, held, after;
  ASSERT_TRUE(Call(stub_.get(), dashboard, &v1::AuditService::Stub::GetAuditStats, sq, &first).ok());
  ASSERT_TRUE(Call(stub_.get(), dashboard, &v1::AuditService::Stub::GetAuditStats, sq, &held).ok());
  EXPECT_TRUE(held.from_cache());

  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + Token(oversight));
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::SubscribeRequest req;
  auto stream = stub_->Subscribe(&ctx, req);
  std::mutex mu;
  std::vector<std::string> ids;
  std::thread reader([&] {
    v1::AuditEvent ev;
    while (stream->Read(&ev)) {
      std::lock_guard lock(mu);
      ids.push_back(ev.aggregate_id());
    }
  });
  const v1::Finding f = AddFinding(e);
  ASSERT_TRUE(Call(stub_.get(), dashboard, &v1::AuditService::Stub::GetAuditStats, sq, &after).ok());
  EXPECT_FALSE(after.from_cache());
  EXPECT_EQ(after.findings(), first.findings() + 1);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool seen = false;
  while (!seen && std::chrono::steady_clock::now() < until) {
    {
      std::lock_guard lock(mu);
      seen = std::find(ids.begin(), ids.end(), f.id()) != ids.end();
    }
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(seen) << "the new finding's event reached the subscriber";
  EXPECT_EQ(service_->feed_hub().counts().live, 1);
  clock_->Set(std::chrono::system_clock::now() + std::chrono::hours(9));  // past the token's expiry
  reader.join();
  grpc::Status st = stream->Finish();
  clock_->Set(Start());
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED) << st.error_message();
  EXPECT_EQ(service_->feed_hub().counts().open, 0);
}

TEST_F(AuditServiceTest, TheConsumerAppliesEveryClueEventOnceWhileWritersRace) {
  const Who group{UnitId("discipline-group"), {"discipline"}};
  v1::Engagement e = Engagement("gaoxin-branch");
  std::vector<v1::Finding> findings;
  for (int i = 0; i < 12; ++i) findings.push_back(Refer(AddFinding(e, v1::FINDING_CATEGORY_PRICE, "gaoxin-branch")));
  while (*relay_->RunOnce() > 0) {
  }
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int i = 0; i < 12; ++i) {
    writers.emplace_back([&, i] {
      auto clue = v1::ClueService::NewStub(*channel_);
      const std::string clue_id = Get(findings[i].id(), auditor).referral().clue_id();
      auto call = [&](auto fn, const auto& req, v1::ClueReply* r) {
        grpc::ClientContext ctx;
        ctx.AddMetadata("authorization", "Bearer " + Token(group));
        return (clue.get()->*fn)(&ctx, req, r);
      };
      v1::ClueReply r;
      v1::GetClueRequest g;
      g.set_clue_id(clue_id);
      v1::Clue c;
      {
        grpc::ClientContext ctx;
        ctx.AddMetadata("authorization", "Bearer " + Token(group));
        if (!clue->GetClue(&ctx, g, &c).ok()) ++failures;
      }
      v1::AcceptClueRequest a;
      a.set_request_id(NewUuid());
      a.set_clue_id(clue_id);
      a.set_expected_version(c.version());
      if (!call(&v1::ClueService::Stub::AcceptClue, a, &r).ok()) ++failures;
      v1::DisposeClueRequest d;
      d.set_request_id(NewUuid());
      d.set_clue_id(clue_id);
      d.set_expected_version(r.clue().version());
      d.set_method(v1::DISPOSITION_METHOD_TALK_OR_LETTER);
      if (!call(&v1::ClueService::Stub::DisposeClue, d, &r).ok()) ++failures;
      v1::ConcludeClueRequest k;
      k.set_request_id(NewUuid());
      k.set_clue_id(clue_id);
      k.set_expected_version(r.clue().version());
      k.set_form(i % 2 ? v1::SUPERVISION_FORM_1 : v1::SUPERVISION_FORM_2);
      k.set_feedback("fb-" + std::to_string(i));
      if (!call(&v1::ClueService::Stub::ConcludeClue, k, &r).ok()) ++failures;
    });
  }
  for (auto& t : writers) t.join();
  ASSERT_EQ(failures.load(), 0);
  for (int i = 0; i < 12; ++i) {
    v1::Finding f = WaitFor(findings[i].id(),
                            [](const v1::Finding& x) { return x.referral().clue_state() == v1::CLUE_STATE_CONCLUDED; });
    EXPECT_EQ(f.referral().clue_state(), v1::CLUE_STATE_CONCLUDED) << i;
    EXPECT_EQ(f.referral().outcome_form(), i % 2 ? v1::SUPERVISION_FORM_1 : v1::SUPERVISION_FORM_2) << i;
    EXPECT_EQ(f.referral().outcome_feedback(), "fb-" + std::to_string(i));
    EXPECT_EQ(f.referral().disposition(), v1::DISPOSITION_METHOD_TALK_OR_LETTER);
    // Each clue event took effect once: one record of each on the finding's chain.
    EXPECT_EQ(Count("SELECT count(*) FROM audit.audit_events WHERE aggregate_id = '" + f.id() +
                    "' AND type = 'clue_concluded'"),
              1);
    EXPECT_EQ(Count("SELECT count(*) FROM audit.audit_events WHERE aggregate_id = '" + f.id() +
                    "' AND type = 'clue_accepted'"),
              1);
  }
  EXPECT_EQ(Count("SELECT count(*) FROM audit.consumer_cursors WHERE name = 'clue-events' AND cursor <> ''"), 1);
}

TEST(AuditWorkflowTest, SpotCheckDrawsAboutTheConfiguredShare) {
  int drawn = 0;
  for (int i = 0; i < 2000; ++i) drawn += SpotCheck("rect-" + std::to_string(i), 20) ? 1 : 0;
  EXPECT_GT(drawn, 320);
  EXPECT_LT(drawn, 480);
  EXPECT_FALSE(SpotCheck("x", 0));
  EXPECT_TRUE(SpotCheck("x", 100));
  EXPECT_EQ(SpotCheck("same", 37), SpotCheck("same", 37));
}

}  // namespace
}  // namespace sm::audit

namespace sm::audit {
namespace {

// The finding learns its clue from two paths — the relay's reply to RegisterClue and the
// clue's own "registered" event on the feed — in either order. "clue_linked" is written once
// per finding, whichever arrives first; the later one writes nothing when it changes nothing.
class ReferralLinkTest : public AuditServiceTest {};

TEST_F(ReferralLinkTest, ClueLinkedIsWrittenOnceWhicheverPathArrivesFirst) {
  const v1::Engagement e = Engagement();
  for (const bool relay_first : {true, false}) {
    v1::Finding f = Refer(AddFinding(e));
    // Not a real delivery: the outbox row is settled so that no relay pass sends it.
    Sql("UPDATE audit.outbox SET state = 'delivered', delivered_at = now() WHERE dedupe_key LIKE '%" + f.id() + "'");
    const std::string clue_id = NewUuid();
    v1::ClueReply reply;
    reply.mutable_clue()->set_id(clue_id);
    reply.mutable_clue()->set_number("XS-2026-9" + std::string(relay_first ? "1" : "2"));
    reply.mutable_clue()->set_state(v1::CLUE_STATE_REGISTERED);
    v1::ClueEvent registered;
    registered.set_clue_id(clue_id);
    registered.set_seq(1);
    registered.set_type("registered");
    registered.set_data_json(
        nlohmann::json{{"number", reply.clue().number()}, {"referral", {{"system", "audit"}, {"ref", f.id()}}}}.dump());
    auto relay = [&] {
      return db::WithTransaction(*audit_pool_,
                                 [&](db::Tx& tx) { return store_->ReferralDelivered(tx, f.id(), reply); });
    };
    auto feed = [&] {
      return db::WithTransaction(*audit_pool_, [&](db::Tx& tx) { return store_->ApplyClueEvent(tx, registered); });
    };
    ASSERT_TRUE((relay_first ? relay() : feed()).ok());
    ASSERT_TRUE((relay_first ? feed() : relay()).ok());
    // Both again (a redelivery, a replayed feed): still once.
    ASSERT_TRUE(relay().ok());
    ASSERT_TRUE(feed().ok());
    const std::string events = "SELECT count(*) FROM audit.audit_events WHERE aggregate_id = '" + f.id() + "'::uuid";
    EXPECT_EQ(Count(events + " AND type = 'clue_linked'"), 1) << (relay_first ? "relay first" : "feed first");
    EXPECT_EQ(Count(events + " AND type = 'referral_delivered'"), 0) << (relay_first ? "relay first" : "feed first");
    const v1::Finding linked = Get(f.id(), auditor);
    EXPECT_EQ(linked.referral().state(), v1::REFERRAL_STATE_DELIVERED);
    EXPECT_EQ(linked.referral().clue_id(), clue_id);
    EXPECT_EQ(linked.referral().clue_number(), reply.clue().number());
    // The chain still verifies: every write was followed by its event.
    v1::VerifyAuditChainRequest vr;
    vr.set_aggregate_id(f.id());
    v1::VerifyChainResponse vo;
    ASSERT_TRUE(Call(stub_.get(), auditor, &v1::AuditService::Stub::VerifyAuditChain, vr, &vo).ok());
    EXPECT_TRUE(vo.intact());
  }
}

}  // namespace
}  // namespace sm::audit
