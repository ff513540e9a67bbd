// audit-service's handlers over the in-memory store (tests/support/fake_audit_store.h): what
// the handler decides itself (field errors naming each field, roles granted nothing, a
// directory read that fails) is refused before the store is touched; a whole walk from
// engagement to sign-off, replays and refusals go through the same Decide as with
// PostgreSQL. No PostgreSQL, no Redis: the service runs in process behind a real gRPC server.
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include <set>

#include "common/event_payload.h"
#include "common/auth.h"
#include "common/server.h"
#include "common/status.h"
#include "services/audit/service.h"
#include "tests/support/fake_audit_store.h"

namespace sm::audit {
namespace {

const std::string kAuditUnit = "00000000-0000-7000-8000-0000000000a1";
const std::string kAudited = "00000000-0000-7000-8000-0000000000a2";
const std::string kDiscipline = "00000000-0000-7000-8000-0000000000a4";
const std::string kStranger = "00000000-0000-7000-8000-0000000000a6";
const std::string kBroken = "00000000-0000-7000-8000-0000000000a7";

class AuditHandlerTest : public ::testing::Test {
 protected:
  AuditHandlerTest() : clock_(FromUnixSeconds(1737684000)) {
    store_.now = clock_.Now();
    store_.units[kAudited] = UnitInfo{kAudited, "财务处", "DEPARTMENT", true, {kAuditUnit}};
    store_.units[kDiscipline] = UnitInfo{kDiscipline, "纪检组", "DISCIPLINE_GROUP", true, {}};
    store_.failing_units.insert(kBroken);
    auth::Config ac;
    ac.keys = auth::DevelopmentKeys();
    verifier_ = std::make_unique<auth::Verifier>(*auth::Verifier::Create(ac));
    service_ = std::make_unique<AuditServiceImpl>(&store_, verifier_.get(), &calendar_, Policy{30, 50, 90}, clock_);
    server_ = *server::Server::Start(server::Config{}, {service_.get()});
    stub_ = v1::AuditService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
  }
  ~AuditHandlerTest() override { server_->Shutdown(std::chrono::milliseconds(100)); }

  template <typename Req, typename Resp>
  grpc::Status Call(grpc::Status (v1::AuditService::Stub::*fn)(grpc::ClientContext*, const Req&, Resp*),
                    const auth::Principal& who, const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + *auth::Mint(auth::DevelopmentMint(who)));
    return (stub_.get()->*fn)(&ctx, req, resp);
  }
  static auth::Principal As(const std::string& unit, std::string_view role) {
    return auth::Principal{"user-" + std::string(role), unit, {std::string(role)}, 2};
  }
  static std::set<std::string> Fields(const grpc::Status& s) {
    std::set<std::string> out;
    for (const auto& v : FieldViolations(FromGrpcStatus(s))) out.insert(v.field);
    return out;
  }

  FakeClock clock_;
  workdays::Calendar calendar_;
  testing::FakeStore store_;
  std::unique_ptr<auth::Verifier> verifier_;
  std::unique_ptr<AuditServiceImpl> service_;
  std::unique_ptr<server::Server> server_;
  std::unique_ptr<v1::AuditService::Stub> stub_;
};

TEST_F(AuditHandlerTest, FieldErrorsNameEachFieldAndTheStoreIsNotTouched) {
  v1::ReviewRectificationRequest review;  // a rejection without anything
  review.set_rectification_id("not-a-uuid");
  v1::RectificationReply reply;
  grpc::Status s =
      Call(&v1::AuditService::Stub::ReviewRectification, As(kAuditUnit, auth::kRoleAuditor), review, &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(s), (std::set<std::string>{"request_id", "rectification_id", "expected_version", "reason"}));

  v1::AddFindingRequest add;
  add.set_request_id("r1");
  add.set_engagement_id(kAuditUnit);
  add.set_title("t");
  add.set_description("d");
  add.set_category(v1::FINDING_CATEGORY_PROCUREMENT);
  add.set_amount_fen(-1);
  add.set_responsible_unit_id(kAudited);
  add.add_evidence_refs("a");
  add.add_evidence_refs("a");
  v1::FindingReply fr;
  s = Call(&v1::AuditService::Stub::AddFinding, As(kAuditUnit, auth::kRoleAuditor), add, &fr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(s).count("amount_fen"), 1u);
  EXPECT_EQ(Fields(s).size(), 2u) << s.error_message();  // and the repeated evidence
  EXPECT_EQ(store_.steps, 0);
}

TEST_F(AuditHandlerTest, ARoleGrantedNothingIsRefusedBeforeTheRequestIsRead) {
  v1::ReferFindingRequest refer;  // invalid as well: the role is refused first
  v1::FindingReply reply;
  for (std::string_view role : {auth::kRoleDashboard, auth::kRoleInspector, auth::kRoleOversight}) {
    grpc::Status s = Call(&v1::AuditService::Stub::ReferFinding, As(kAuditUnit, role), refer, &reply);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << role;
  }
  EXPECT_EQ(store_.steps, 0);
}

TEST_F(AuditHandlerTest, ADirectoryReadThatFailsRefusesTheStep) {
  v1::CreateEngagementRequest e;
  e.set_request_id("r1");
  e.set_kind(v1::ENGAGEMENT_KIND_PROJECT_PAYMENT);
  e.set_title("t");
  e.set_audit_unit_id(kAuditUnit);
  e.set_audited_unit_id(kBroken);
  e.set_period_from("2024-01-01");
  e.set_period_to("2024-12-31");
  v1::EngagementReply reply;
  EXPECT_EQ(Call(&v1::AuditService::Stub::CreateEngagement, As(kAuditUnit, auth::kRoleAuditor), e, &reply).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(store_.steps, 0);
  // A unit the directory does not have is a field error, decided in the step.
  e.set_audited_unit_id(kStranger);
  grpc::Status s = Call(&v1::AuditService::Stub::CreateEngagement, As(kAuditUnit, auth::kRoleAuditor), e, &reply);
  EXPECT_EQ(Fields(s), std::set<std::string>{"audited_unit_id"});
  EXPECT_EQ(store_.steps, 1);
  EXPECT_TRUE(store_.engagements.empty());
}

TEST_F(AuditHandlerTest, AWalkFromEngagementToSignOffWithReplaysAndRefusals) {
  const auth::Principal auditor = As(kAuditUnit, auth::kRoleAuditor);
  const auth::Principal owner = As(kAudited, auth::kRoleStaff);
  v1::CreateEngagementRequest ce;
  ce.set_request_id("create");
  ce.set_kind(v1::ENGAGEMENT_KIND_PROJECT_PAYMENT);
  ce.set_title("工程款支付审计");
  ce.set_audit_unit_id(kAuditUnit);
  ce.set_audited_unit_id(kAudited);
  ce.set_period_from("2024-01-01");
  ce.set_period_to("2024-12-31");
  v1::EngagementReply er;
  ASSERT_TRUE(Call(&v1::AuditService::Stub::CreateEngagement, auditor, ce, &er).ok());
  EXPECT_EQ(er.engagement().number(), "SJ-2025-0001");
  // The same key again replays; with other parameters it is refused by name.
  v1::EngagementReply again;
  ASSERT_TRUE(Call(&v1::AuditService::Stub::CreateEngagement, auditor, ce, &again).ok());
  EXPECT_TRUE(again.mutation().replayed());
  EXPECT_EQ(again.engagement().id(), er.engagement().id());
  ce.set_title("another");
  EXPECT_EQ(Fields(Call(&v1::AuditService::Stub::CreateEngagement, auditor, ce, &again)),
            std::set<std::string>{"request_id"});

  v1::AddFindingRequest af;
  af.set_request_id("finding");
  af.set_engagement_id(er.engagement().id());
  af.set_title("挪用专项资金");
  af.set_description("d");
  af.set_category(v1::FINDING_CATEGORY_FINANCIAL_DISCIPLINE);
  af.set_responsible_unit_id(kAudited);
  v1::FindingReply fr;
  // A stranger does not learn that the engagement exists.
  EXPECT_EQ(Call(&v1::AuditService::Stub::AddFinding, As(kStranger, auth::kRoleAuditor), af, &fr).error_code(),
            grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(Call(&v1::AuditService::Stub::AddFinding, auditor, af, &fr).ok());
  EXPECT_EQ(fr.finding().number(), "SJ-2025-0001-01");

  v1::AddRectificationRequest ar;
  ar.set_request_id("rect");
  ar.set_finding_id(fr.finding().id());
  ar.set_measure("return the funds");
  v1::RectificationReply rr;
  ASSERT_TRUE(Call(&v1::AuditService::Stub::AddRectification, auditor, ar, &rr).ok());
  EXPECT_EQ(rr.rectification().owner_unit_id(), kAudited);  // the responsible unit, read in the step

  v1::SubmitRectificationRequest sr;
  sr.set_request_id("submit");
  sr.set_rectification_id(rr.rectification().id());
  sr.set_expected_version(rr.rectification().version());
  sr.set_summary("done");
  // The auditor sees it but submitting is the owner's.
  EXPECT_EQ(Call(&v1::AuditService::Stub::SubmitRectification, auditor, sr, &rr).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Call(&v1::AuditService::Stub::SubmitRectification, owner, sr, &rr).ok());
  EXPECT_EQ(rr.rectification().state(), v1::RECTIFICATION_STATE_SUBMITTED);

  v1::ReviewRectificationRequest rv;
  rv.set_request_id("review");
  rv.set_rectification_id(rr.rectification().id());
  rv.set_expected_version(1);  // stale
  rv.set_approve(true);
  EXPECT_EQ(Call(&v1::AuditService::Stub::ReviewRectification, auditor, rv, &rr).error_code(),
            grpc::StatusCode::ABORTED);
  rv.set_request_id("review-2");
  rv.set_expected_version(2);
  ASSERT_TRUE(Call(&v1::AuditService::Stub::ReviewRectification, auditor, rv, &rr).ok());
  EXPECT_EQ(rr.rectification().state(), v1::RECTIFICATION_STATE_SIGNED_OFF);

  std::vector<std::string> types;
  for (const auto& e : store_.events) types.push_back(events::Encode(e.event)->type);
  EXPECT_EQ(types, (std::vector<std::string>{"engagement_created", "finding_added", "rectification_added",
                                             "rectification_submitted", "rectification_signed_off"}));
  // The finding reads back with its rectification signed off.
  v1::GetFindingRequest gf;
  gf.set_finding_id(fr.finding().id());
  v1::Finding f;
  ASSERT_TRUE(Call(&v1::AuditService::Stub::GetFinding, auditor, gf, &f).ok());
  EXPECT_EQ(f.rectifications_signed_off(), 1);
}

}  // namespace
}  // namespace sm::audit
