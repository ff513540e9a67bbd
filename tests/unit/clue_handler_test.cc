// ClueService handlers over the in-memory FakeStore (no PostgreSQL, no Redis): what the
// handler decides before and around the store — roles first, fields named, directory
// references resolved (a directory that cannot be read refuses, never passes), referral
// fields kept to their service, the reveal's user check — and that a refused call never
// reaches a write. The same calls against PostgreSQL are in clue_service_test.
#include <gtest/gtest.h>

#include <grpcpp/grpcpp.h>

#include "common/auth.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/server.h"
#include "common/status.h"
#include "common/uuid.h"
#include "common/workdays.h"
#include "services/clue/service.h"
#include "tests/support/fake_clue_store.h"

namespace sm::clue {
namespace {

const std::string kRoot = "00000000-0000-7000-8000-000000000001";
const std::string kGroup = "00000000-0000-7000-8000-00000000000a";       // discipline group
const std::string kCommission = "00000000-0000-7000-8000-00000000000b";  // discipline commission
const std::string kClosed = "00000000-0000-7000-8000-00000000000c";      // a dissolved unit
const std::string kStation = "00000000-0000-7000-8000-00000000000d";
const std::string kOfficer = "00000000-0000-7000-8000-0000000000e1";  // in the station
const std::string kStaffer = "00000000-0000-7000-8000-0000000000e2";  // in the group

// Friday 2025-01-24 10:00 Beijing time.
const TimePoint kNow = FromUnixSeconds(1737684000);

class ClueHandlerTest : public ::testing::Test {
 protected:
  ClueHandlerTest() : clock_(kNow), store_(clock_) {
    store_.units[kRoot] = UnitInfo{kRoot, "市公安局", "BUREAU", true, {}};
    store_.units[kGroup] = UnitInfo{kGroup, "纪检组", "DISCIPLINE_GROUP", true, {kRoot}};
    store_.units[kCommission] = UnitInfo{kCommission, "纪委", "DISCIPLINE_COMMISSION", true, {kRoot}};
    store_.units[kClosed] = UnitInfo{kClosed, "已撤销单位", "BRANCH", false, {kRoot}};
    store_.units[kStation] = UnitInfo{kStation, "城郊派出所", "STATION", true, {kRoot}};
    store_.persons[kOfficer] = PersonInfo{kOfficer, "王某", kStation, true, false};
    store_.persons[kStaffer] = PersonInfo{kStaffer, "赵某", kGroup, true, false};
    auth::Config ac;
    ac.keys = auth::DevelopmentKeys();
    verifier_ = std::make_unique<auth::Verifier>(*auth::Verifier::Create(ac));
    service_ = std::make_unique<ClueServiceImpl>(&store_, verifier_.get(), &keys_, &calendar_, Limits{}, clock_,
                                                 /*redis=*/nullptr, /*listener=*/nullptr);
    server_ = std::move(*server::Server::Start(server::Config{}, {service_.get()}));
    stub_ = v1::ClueService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
  }
  ~ClueHandlerTest() override { server_->Shutdown(std::chrono::milliseconds(100)); }

  static auth::Principal Staff(const std::string& unit, int clearance = 1) {
    return auth::Principal{.user = "staff-" + unit.substr(unit.size() - 2),
                           .unit = unit,
                           .roles = {std::string(auth::kRoleDiscipline)},
                           .clearance = clearance};
  }
  template <typename Req, typename Resp, typename Fn>
  grpc::Status Call(const auth::Principal& who, Fn fn, const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + *auth::Mint(auth::DevelopmentMint(who)));
    return (stub_.get()->*fn)(&ctx, req, resp);
  }
  static std::vector<std::string> Fields(const grpc::Status& s) {
    std::vector<std::string> out;
    for (const auto& v : FieldViolations(FromGrpcStatus(s))) out.push_back(v.field);
    return out;
  }
  static v1::RegisterClueRequest Petition() {
    v1::RegisterClueRequest r;
    r.set_request_id(NewUuid());
    r.set_origin_unit_id(kGroup);
    r.set_source(v1::CLUE_SOURCE_PETITION);
    r.set_channel(v1::RECEIPT_CHANNEL_LETTER);
    r.add_subjects()->set_person_id(kOfficer);
    r.add_categories(v1::CLUE_CATEGORY_ALCOHOL);
    r.set_summary("反映城郊派出所民警工作日午间饮酒");
    r.mutable_reporter()->set_name("李某");
    return r;
  }
  v1::Clue Register(const v1::RegisterClueRequest& r = Petition()) {
    v1::ClueReply reply;
    grpc::Status s = Call(Staff(kGroup), &v1::ClueService::Stub::RegisterClue, r, &reply);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return reply.clue();
  }

  FakeClock clock_;
  testing::FakeStore store_;
  crypto::Keyring keys_ = crypto::DevelopmentKeyring();
  workdays::Calendar calendar_;
  std::unique_ptr<auth::Verifier> verifier_;
  std::unique_ptr<ClueServiceImpl> service_;
  std::unique_ptr<server::Server> server_;
  std::unique_ptr<v1::ClueService::Stub> stub_;
};

TEST_F(ClueHandlerTest, ARegistrationReachesTheStoreWithTheWorkflowsFirstStateAndTheDirectorysNames) {
  v1::RegisterClueRequest r = Petition();
  r.set_offer_to_unit_id(kCommission);
  v1::Clue c = Register(r);
  EXPECT_EQ(c.state(), v1::CLUE_STATE_OFFERED);
  EXPECT_EQ(c.offered_to_unit_id(), kCommission);
  EXPECT_EQ(c.deadline_stage(), "accept");
  ASSERT_EQ(c.subjects_size(), 1);
  EXPECT_EQ(c.subjects(0).display_name(), "王某");  // resolved by the handler
  EXPECT_TRUE(c.reporter_on_file());
  EXPECT_TRUE(c.reporter().name().empty());  // never in a reply
  ASSERT_EQ(store_.Clues().size(), 1u);
  EXPECT_FALSE(store_.Clues()[0].reporter_sealed.empty());  // sealed before the store sees it
  EXPECT_EQ(store_.Clues()[0].reporter_sealed.find("李某"), std::string::npos);
  auto events = store_.AllEvents();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, "registered");
  EXPECT_EQ(events[1].type, "offered");
  EXPECT_EQ(events[0].data.find("李某"), std::string::npos);
}

TEST_F(ClueHandlerTest, RolesAreCheckedBeforeAnythingIsRead) {
  for (const std::string role : {"dashboard", "staff", "oversight"}) {
    SCOPED_TRACE(role);
    auth::Principal p = Staff(kGroup);
    p.roles = {role};
    v1::ClueReply reply;
    grpc::Status s = Call(p, &v1::ClueService::Stub::RegisterClue, Petition(), &reply);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
    v1::TransferClueRequest t;
    t.set_request_id(NewUuid());
    t.set_clue_id(NewUuid());
    t.set_expected_version(1);
    t.set_to_unit_id(kCommission);
    EXPECT_EQ(Call(p, &v1::ClueService::Stub::TransferClue, t, &reply).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  EXPECT_EQ(store_.Calls("Unit") + store_.Calls("Person") + store_.Calls("Register") + store_.Calls("Step"), 0);
}

TEST_F(ClueHandlerTest, BadReferencesNameTheFieldAndNothingIsWritten) {
  struct Case {
    const char* field;
    std::function<void(v1::RegisterClueRequest&)> spoil;
  };
  const std::vector<Case> cases = {
      {"origin_unit_id", [](auto& r) { r.set_origin_unit_id(kClosed); }},    // inactive
      {"origin_unit_id", [](auto& r) { r.set_origin_unit_id(NewUuid()); }},  // unknown
      {"offer_to_unit_id", [](auto& r) { r.set_offer_to_unit_id(kClosed); }},
      {"offer_to_unit_id", [](auto& r) { r.set_offer_to_unit_id(kGroup); }},  // itself
      {"offer_to_unit_id", [](auto& r) { r.set_offer_to_unit_id("not-a-uuid"); }},
      {"subjects[0].person_id", [](auto& r) { r.mutable_subjects(0)->set_person_id(NewUuid()); }},
      {"subjects[1].unit_id", [](auto& r) { r.add_subjects()->set_unit_id(NewUuid()); }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.field);
    v1::RegisterClueRequest r = Petition();
    c.spoil(r);
    v1::ClueReply reply;
    grpc::Status s = Call(Staff(kGroup), &v1::ClueService::Stub::RegisterClue, r, &reply);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
    EXPECT_EQ(Fields(s), std::vector<std::string>{c.field}) << s.error_message();
  }
  // A unit registers in its own name only.
  v1::ClueReply reply;
  EXPECT_EQ(Call(Staff(kCommission), &v1::ClueService::Stub::RegisterClue, Petition(), &reply).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(store_.Calls("Register"), 0);
  EXPECT_EQ(store_.Writes(), 0);
}

TEST_F(ClueHandlerTest, ReferralFieldsAreTheReferringServicesAlone) {
  v1::RegisterClueRequest r = Petition();
  r.set_source_system("audit");
  r.set_source_ref("finding-1");
  v1::ClueReply reply;
  // A person cannot claim a referral; a service refers under its own name only.
  EXPECT_EQ(Call(Staff(kGroup), &v1::ClueService::Stub::RegisterClue, r, &reply).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  auth::Principal inspection{.user = "inspection-service", .roles = {std::string(auth::kRoleService)}};
  grpc::Status s = Call(inspection, &v1::ClueService::Stub::RegisterClue, r, &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(s.error_message().find("'inspection'"), std::string::npos) << s.error_message();
  EXPECT_EQ(store_.Calls("Register"), 0);
  auth::Principal audit{.user = "audit-service", .roles = {std::string(auth::kRoleService)}};
  ASSERT_TRUE(Call(audit, &v1::ClueService::Stub::RegisterClue, r, &reply).ok());
  EXPECT_EQ(reply.clue().source_system(), "audit");
}

TEST_F(ClueHandlerTest, ADirectoryThatCannotBeReadRefusesNeverPasses) {
  v1::Clue c = Register();
  const int writes = store_.Writes();
  store_.directory_error = absl::UnavailableError("directory unreachable");
  v1::ClueReply reply;
  EXPECT_EQ(Call(Staff(kGroup), &v1::ClueService::Stub::RegisterClue, Petition(), &reply).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  // Assigning a handler needs the handler (read by the handler) and where the subjects sit
  // (read in the step): recusal cannot be checked, so nothing is assigned.
  v1::AssignHandlerRequest a;
  a.set_request_id(NewUuid());
  a.set_clue_id(c.id());
  a.set_expected_version(c.version());
  a.set_handler_person_id(kStaffer);
  EXPECT_EQ(Call(Staff(kGroup), &v1::ClueService::Stub::AssignHandler, a, &reply).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(store_.Calls("Step"), 0);
  // The handler's read works and the step's does not: refused in the step all the same.
  store_.directory_error.reset();
  store_.persons.erase(kOfficer);  // the subject is gone from the directory
  grpc::Status s = Call(Staff(kGroup), &v1::ClueService::Stub::AssignHandler, a, &reply);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(store_.Calls("Step"), 1);
  EXPECT_EQ(store_.Writes(), writes);
  EXPECT_TRUE(store_.Clues()[0].clue.handler_person_id().empty());
  // With the directory whole again the handler is assigned.
  store_.persons[kOfficer] = PersonInfo{kOfficer, "王某", kStation, true, false};
  ASSERT_TRUE(Call(Staff(kGroup), &v1::ClueService::Stub::AssignHandler, a, &reply).ok());
  EXPECT_EQ(reply.clue().handler_person_id(), kStaffer);
}

TEST_F(ClueHandlerTest, StepsNameBadFieldsBeforeTheStoreAndTheStoreRulesOnTheRest) {
  v1::Clue c = Register();
  v1::TransferClueRequest t;
  t.set_request_id(NewUuid());
  t.set_clue_id(c.id());
  t.set_expected_version(c.version());
  t.set_to_unit_id(kClosed);
  v1::ClueReply reply;
  grpc::Status s = Call(Staff(kGroup), &v1::ClueService::Stub::TransferClue, t, &reply);
  EXPECT_EQ(Fields(s), std::vector<std::string>{"to_unit_id"}) << s.error_message();
  t.set_to_unit_id("x");
  t.clear_request_id();
  s = Call(Staff(kGroup), &v1::ClueService::Stub::TransferClue, t, &reply);
  EXPECT_EQ(Fields(s), (std::vector<std::string>{"request_id", "to_unit_id"})) << s.error_message();
  EXPECT_EQ(store_.Calls("Step"), 0);
  // Valid fields: the workflow rules in the store's step.
  t.set_request_id(NewUuid());
  t.set_to_unit_id(kCommission);
  t.set_expected_version(c.version() + 5);
  EXPECT_EQ(Call(Staff(kGroup), &v1::ClueService::Stub::TransferClue, t, &reply).error_code(),
            grpc::StatusCode::ABORTED);
  t.set_request_id(NewUuid());
  t.set_expected_version(c.version());
  ASSERT_TRUE(Call(Staff(kGroup), &v1::ClueService::Stub::TransferClue, t, &reply).ok());
  EXPECT_EQ(reply.clue().state(), v1::CLUE_STATE_OFFERED);
  // The same request again is the same reply, replayed.
  v1::ClueReply again;
  ASSERT_TRUE(Call(Staff(kGroup), &v1::ClueService::Stub::TransferClue, t, &again).ok());
  EXPECT_TRUE(again.mutation().replayed());
  EXPECT_EQ(again.clue().version(), reply.clue().version());
}

TEST_F(ClueHandlerTest, RevealsAreAskedByCaseStaffWithAReason) {
  v1::Clue c = Register();
  v1::RequestRevealRequest ask;
  ask.set_request_id(NewUuid());
  ask.set_clue_id(c.id());
  ask.set_reason("需联系举报人核实");
  v1::RevealRequestReply reply;
  // A token without a person is refused before the handler; a service is not case staff.
  auth::Principal nobody = Staff(kGroup, 2);
  nobody.user.clear();
  EXPECT_EQ(Call(nobody, &v1::ClueService::Stub::RequestReveal, ask, &reply).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  auth::Principal audit{.user = "audit-service", .roles = {std::string(auth::kRoleService)}};
  EXPECT_EQ(Call(audit, &v1::ClueService::Stub::RequestReveal, ask, &reply).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  auth::Principal custodian{.user = "c1", .unit = kRoot, .roles = {std::string(auth::kRoleCustodian)}, .clearance = 2};
  EXPECT_EQ(Call(custodian, &v1::ClueService::Stub::RequestReveal, ask, &reply).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ask.clear_reason();
  grpc::Status s = Call(Staff(kGroup, 2), &v1::ClueService::Stub::RequestReveal, ask, &reply);
  EXPECT_EQ(Fields(s), std::vector<std::string>{"reason"});
  EXPECT_EQ(store_.Calls("CreateReveal"), 0);
  ask.set_reason("需联系举报人核实");
  ASSERT_TRUE(Call(Staff(kGroup, 2), &v1::ClueService::Stub::RequestReveal, ask, &reply).ok());
  EXPECT_EQ(reply.request().state(), v1::REVEAL_STATE_PENDING);
  EXPECT_EQ(store_.AllEvents().back().type, "reveal_requested");
}

}  // namespace
}  // namespace sm::clue
