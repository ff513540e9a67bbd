// risk-service in process against the throwaway PostgreSQL and Redis, over gRPC with real
// tokens: risk points, screening campaigns, risk items with their mitigations and the
// overdue scan, talks with sealed summaries, scores moved by the clue feed (clue-service in
// process) and by audit and inspection events, replay of every feed, the rule file's errors,
// who sees what, and the person file with two of its services down.
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <thread>

#include "common/auth.h"
#include "common/db/migrate.h"
#include "common/db/sql.h"
#include "common/event_payload.h"
#include "common/status.h"
#include "common/uuid.h"
#include "common/workdays.h"
#include "services/clue/pg_store.h"
#include "services/clue/service.h"
#include "services/risk/feeds.h"
#include "services/risk/pg_store.h"
#include "services/risk/scoring.h"
#include "services/risk/service.h"
#include "tests/integration/callers.h"
#include "tests/integration/clue_stack.h"
#include "tests/integration/demo_directory.h"
#include "tests/support/local_stack.h"
#include "tests/support/pg_redis.h"

const std::vector<sm::db::Migration>& risk_lib_migrations();
const std::vector<sm::db::Migration>& clue_lib_migrations();

namespace sm::risk {
namespace {

using ::sm::testing::Count;
using ::sm::testing::PersonIn;
using ::sm::testing::PgRedis;
using ::sm::testing::UnitId;

using ::sm::testing::FieldOf;
using ::sm::testing::Start;
using ::sm::testing::Token;
using ::sm::testing::Who;

// The non-leader people of a demo unit, by badge.
std::vector<std::string> StaffOf(const std::string& code) {
  pqxx::connection c(::sm::testing::Conn());
  pqxx::work tx(c);
  std::vector<std::string> out;
  for (const auto& r :
       tx.exec_params("SELECT p.id::text FROM directory.v_people p JOIN directory.v_units u ON u.id = p.unit_id "
                      "WHERE u.code = $1 AND NOT p.leader ORDER BY p.badge_no",
                      code)) {
    out.push_back(r[0].as<std::string>());
  }
  return out;
}
// The person holding a post of that code in the unit with that code.
std::string Holder(const std::string& unit, const std::string& post) {
  pqxx::connection c(::sm::testing::Conn());
  pqxx::work tx(c);
  return tx
      .exec_params1(
          "SELECT p.id::text FROM directory.v_people p JOIN directory.v_units u ON u.id = p.unit_id "
          "JOIN directory.v_posts t ON t.id = p.post_id WHERE u.code = $1 AND t.code = $2 ORDER BY p.badge_no LIMIT 1",
          unit, post)[0]
      .as<std::string>();
}
std::string PostOf(const std::string& code) {
  pqxx::connection c(::sm::testing::Conn());
  pqxx::work tx(c);
  return tx.exec_params1("SELECT id::text FROM directory.v_posts WHERE code = $1", code)[0].as<std::string>();
}
std::string Quote(const std::string& s) { return "'" + s + "'"; }

class RiskServiceTest : public ::sm::testing::ClueStack {
 protected:
  static void SetUpTestSuite() {
    UpClueStack(4);
    if (HasFatalFailure()) return;
    PgRedis& env = PgRedis::Get();
    auto rules = LoadRules(std::string(SM_SOURCE_DIR) + "/deploy/local/risk-rules.yaml");
    ASSERT_TRUE(rules.ok()) << rules.status();
    rules_ = new Rules(*rules);
    pool_ = new db::Pool(env.Pool("sm_risk", "risk", 6));
    ASSERT_TRUE(db::ApplyMigrations(*pool_, "risk", risk_lib_migrations()).ok());
    store_ = new PgStore(pool_, *clock_, keys_, rules_);
    // The person file asks audit- and inspection-service on a port nobody listens on.
    closed_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(::sm::testing::FreePort()),
                                  grpc::InsecureChannelCredentials());
    // The clue channel is set once the server has its port (the service keeps the stub).
    server::Config sc;
    clue_only_ = std::move(*server::Server::Start(sc, {clue_service_})).release();
    clue_channel_ =
        grpc::CreateChannel("127.0.0.1:" + std::to_string(clue_only_->port()), grpc::InsecureChannelCredentials());
    service_ = new RiskServiceImpl(store_, verifier_, calendar_,
                                   FileSources{clue_channel_, closed_, closed_, std::chrono::milliseconds(1500), 1000},
                                   *clock_, redis_, nullptr);
    server_ = std::move(*server::Server::Start(sc, {service_})).release();
    channel_ = new std::shared_ptr<grpc::Channel>(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
  }
  static void TearDownTestSuite() {
    server_->Shutdown(std::chrono::milliseconds(100));
    delete server_;
    clue_only_->Shutdown(std::chrono::milliseconds(100));
    delete clue_only_;
    delete service_;
    delete store_;
    delete pool_;
    delete rules_;
    delete channel_;
    clue_channel_.reset();
    closed_.reset();
    DownClueStack();
  }
  void SetUp() override {
    stub_ = v1::RiskService::NewStub(*channel_);
    clue_ = v1::ClueService::NewStub(clue_channel_);
    clock_->Set(Start());
    bureau_ = UnitId("bureau");
    fucheng_ = UnitId("fucheng-branch");
    gaoxin_ = UnitId("gaoxin-branch");
    station_ = UnitId("fucheng-branch-chengjiao-station");
    political_ = Who{PersonIn("political-department"), UnitId("political-department"), "political"};
    gaoxin_political_ = Who{"gp", gaoxin_, "political"};
    discipline_ = Who{"d", UnitId("discipline-group"), "discipline"};
    oversight_ = Who{"o", UnitId("discipline-group"), "oversight"};
    dashboard_ = Who{"dash", "", "dashboard"};
    station_chief_ = Who{Holder("fucheng-branch-chengjiao-station", "station-chief"), station_, "staff"};
    gaoxin_chief_ = Who{Holder("gaoxin-branch", "branch-chief"), gaoxin_, "staff"};
    station_people_ = StaffOf("fucheng-branch-chengjiao-station");
  }

  template <typename Req, typename Resp, typename Fn>
  grpc::Status Call(const Who& w, Fn fn, const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + Token(w));
    return (stub_.get()->*fn)(&ctx, req, resp);
  }
  template <typename Req, typename Resp, typename Fn>
  grpc::Status ClueCall(const Who& w, Fn fn, const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + Token(w));
    return (clue_.get()->*fn)(&ctx, req, resp);
  }

  v1::OpenRiskItemRequest Item(const std::string& person) {
    v1::OpenRiskItemRequest r;
    r.set_request_id(NewUuid());
    r.set_person_id(person);
    r.set_category(v1::RISK_CATEGORY_FINANCES);
    r.set_level(v1::RISK_LEVEL_MEDIUM);
    r.set_source(v1::RISK_SOURCE_PETITION);
    r.set_description("家庭经济困难，有网贷");
    auto* m = r.add_mitigations();
    m->set_measure("每月谈心");
    m->set_working_days(5);
    return r;
  }
  v1::RiskItem Open(const std::string& person) {
    v1::RiskItemReply r;
    grpc::Status s = Call(political_, &v1::RiskService::Stub::OpenRiskItem, Item(person), &r);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return r.item();
  }
  v1::TalkRecord Talk(const std::string& person, const std::string& summary, const std::string& item = "") {
    v1::RecordTalkRequest t;
    t.set_request_id(NewUuid());
    t.set_kind(v1::TALK_KIND_INTEGRITY);
    t.set_person_id(person);
    db::SetMicros(t.mutable_held_at(), NowMicros(*clock_) - 3600'000'000LL);
    t.set_summary(summary);
    t.add_follow_ups("一个月后回访");
    t.set_risk_item_id(item);
    v1::TalkReply r;
    grpc::Status s = Call(political_, &v1::RiskService::Stub::RecordTalk, t, &r);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return r.talk();
  }
  double ScoreOfPerson(const std::string& person) {
    v1::GetPersonScoreRequest g;
    g.set_person_id(person);
    v1::PersonScore ps;
    grpc::Status s = Call(discipline_, &v1::RiskService::Stub::GetPersonScore, g, &ps);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return ps.score();
  }
  static int64_t Rows(const std::string& table) { return Count("SELECT count(*) FROM risk." + table); }
  static int64_t AllRows() {
    return Rows("risk_points") + Rows("campaigns") + Rows("screenings") + Rows("risk_items") + Rows("talks") +
           Rows("person_scores") + Rows("signals") + Rows("risk_events");
  }
  static int64_t ChainLen(const std::string& id) {
    return Count("SELECT count(*) FROM risk.risk_events WHERE aggregate_id = " + Quote(id));
  }

  // A petition clue about `person`, registered by the discipline group itself.
  std::string Petition(const std::string& person) {
    v1::RegisterClueRequest r;
    r.set_request_id(NewUuid());
    r.set_origin_unit_id(discipline_.unit);
    r.set_source(v1::CLUE_SOURCE_PETITION);
    r.set_channel(v1::RECEIPT_CHANNEL_LETTER);
    r.add_subjects()->set_person_id(person);
    r.add_categories(v1::CLUE_CATEGORY_INTEGRITY);
    r.set_summary("反映民警违规收受礼金");
    r.set_details("举报信");
    r.set_severity(v1::SEVERITY_MEDIUM);
    v1::ClueReply reply;
    grpc::Status s = ClueCall(discipline_, &v1::ClueService::Stub::RegisterClue, r, &reply);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return reply.clue().id();
  }
  bool Conclude(const std::string& clue_id, v1::SupervisionForm form) {
    v1::GetClueRequest g;
    g.set_clue_id(clue_id);
    v1::Clue c;
    if (!ClueCall(discipline_, &v1::ClueService::Stub::GetClue, g, &c).ok()) return false;
    v1::ClueReply r;
    int64_t version = c.version();
    if (c.state() == v1::CLUE_STATE_OFFERED) {
      v1::AcceptClueRequest a;
      a.set_request_id(NewUuid());
      a.set_clue_id(clue_id);
      a.set_expected_version(version);
      if (!ClueCall(discipline_, &v1::ClueService::Stub::AcceptClue, a, &r).ok()) return false;
      version = r.clue().version();
    }
    v1::DisposeClueRequest d;
    d.set_request_id(NewUuid());
    d.set_clue_id(clue_id);
    d.set_expected_version(version);
    d.set_method(v1::DISPOSITION_METHOD_VERIFICATION);
    grpc::Status s = ClueCall(discipline_, &v1::ClueService::Stub::DisposeClue, d, &r);
    EXPECT_TRUE(s.ok()) << s.error_message();
    if (!s.ok()) return false;
    v1::ConcludeClueRequest k;
    k.set_request_id(NewUuid());
    k.set_clue_id(clue_id);
    k.set_expected_version(r.clue().version());
    k.set_form(form);
    k.set_feedback("经核实，问题属实");
    s = ClueCall(discipline_, &v1::ClueService::Stub::ConcludeClue, k, &r);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return s.ok();
  }

  // Waits until `cond` holds (the feed is asynchronous); false after 10 s.
  static bool Eventually(const std::function<bool()>& cond) {
    for (int i = 0; i < 200; ++i) {
      if (cond()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return cond();
  }

  static absl::Status Apply(const std::function<absl::Status(db::Tx&)>& fn) { return db::WithTransaction(*pool_, fn); }

  static inline Rules* rules_ = nullptr;
  static inline db::Pool* pool_ = nullptr;
  static inline PgStore* store_ = nullptr;
  static inline RiskServiceImpl* service_ = nullptr;
  static inline server::Server* server_ = nullptr;
  static inline server::Server* clue_only_ = nullptr;
  static inline std::shared_ptr<grpc::Channel>* channel_ = nullptr;
  static inline std::shared_ptr<grpc::Channel> clue_channel_;
  static inline std::shared_ptr<grpc::Channel> closed_;

  std::unique_ptr<v1::RiskService::Stub> stub_;
  std::unique_ptr<v1::ClueService::Stub> clue_;
  std::string bureau_, fucheng_, gaoxin_, station_;
  Who political_, gaoxin_political_, discipline_, oversight_, dashboard_, station_chief_, gaoxin_chief_;
  std::vector<std::string> station_people_;
};

// ---- 1. steps ----

TEST_F(RiskServiceTest, RiskPointPutUpdateStaleAndUnknownPost) {
  v1::PutRiskPointRequest p;
  p.set_request_id(NewUuid());
  p.set_post_id(PostOf("finance-officer"));
  p.set_power(v1::POWER_FINANCE);
  p.set_description("报销审核把关不严");
  p.set_level(v1::RISK_LEVEL_HIGH);
  p.add_control_measures("双人审核");
  p.set_accountable_person_id(Holder("fucheng-branch", "branch-chief"));
  v1::RiskPointReply r;
  grpc::Status s = Call(political_, &v1::RiskService::Stub::PutRiskPoint, p, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(r.point().active());
  EXPECT_FALSE(r.mutation().replayed());
  // The same request again: the stored answer.
  v1::RiskPointReply again;
  ASSERT_TRUE(Call(political_, &v1::RiskService::Stub::PutRiskPoint, p, &again).ok());
  EXPECT_TRUE(again.mutation().replayed());
  EXPECT_EQ(again.point().id(), r.point().id());
  EXPECT_EQ(Rows("risk_points"), 1);

  v1::PutRiskPointRequest u = p;
  u.set_request_id(NewUuid());
  u.set_id(r.point().id());
  u.set_expected_version(r.point().version());
  u.set_description("报销审核把关不严，已整改");
  v1::RiskPointReply ur;
  s = Call(political_, &v1::RiskService::Stub::PutRiskPoint, u, &ur);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(ur.point().version(), r.point().version() + 1);
  EXPECT_EQ(ur.point().description(), "报销审核把关不严，已整改");

  u.set_request_id(NewUuid());  // the old version again
  EXPECT_EQ(Call(political_, &v1::RiskService::Stub::PutRiskPoint, u, &ur).error_code(), grpc::StatusCode::ABORTED);

  const int64_t before = AllRows();
  v1::PutRiskPointRequest bad = p;
  bad.set_request_id(NewUuid());
  bad.set_post_id(NewUuid());
  s = Call(political_, &v1::RiskService::Stub::PutRiskPoint, bad, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(s), "post_id");
  // Only the political department defines risk points.
  bad.set_post_id(p.post_id());
  EXPECT_EQ(Call(oversight_, &v1::RiskService::Stub::PutRiskPoint, bad, &r).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(AllRows(), before);
}

TEST_F(RiskServiceTest, CampaignScreeningAndProgress) {
  v1::CreateCampaignRequest c;
  c.set_request_id(NewUuid());
  c.set_name("底线、防线、红线专项排查");
  c.set_theme("廉政风险");
  db::SetMicros(c.mutable_starts_at(), NowMicros(*clock_));
  db::SetMicros(c.mutable_ends_at(), NowMicros(*clock_) + 30LL * 86400 * 1000000);
  c.add_scope_unit_ids(station_);
  // Outside the political department's tree (the discipline group is not the bureau's).
  {
    v1::CreateCampaignRequest out = c;
    out.set_request_id(NewUuid());
    out.set_scope_unit_ids(0, UnitId("discipline-group"));
    v1::CampaignReply r;
    const int64_t before = Rows("campaigns");
    EXPECT_EQ(Call(political_, &v1::RiskService::Stub::CreateCampaign, out, &r).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    // Another branch's political office may not screen the Fucheng station.
    out.set_scope_unit_ids(0, station_);
    EXPECT_EQ(Call(gaoxin_political_, &v1::RiskService::Stub::CreateCampaign, out, &r).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(Rows("campaigns"), before);
  }
  v1::CampaignReply cr;
  grpc::Status s = Call(political_, &v1::RiskService::Stub::CreateCampaign, c, &cr);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const std::string campaign = cr.campaign().id();
  const int64_t people = Count("SELECT count(*) FROM directory.v_people WHERE active AND unit_id = " + Quote(station_));

  v1::ListUnscreenedRequest lu;
  lu.set_campaign_id(campaign);
  lu.set_page_size(200);
  v1::ListUnscreenedResponse lr;
  s = Call(political_, &v1::RiskService::Stub::ListUnscreened, lu, &lr);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(lr.total(), people);

  v1::RecordScreeningRequest clear;
  clear.set_request_id(NewUuid());
  clear.set_campaign_id(campaign);
  clear.set_person_id(station_people_[0]);
  clear.set_outcome(v1::SCREENING_OUTCOME_CLEAR);
  v1::ScreeningReply sr;
  s = Call(political_, &v1::RiskService::Stub::RecordScreening, clear, &sr);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(sr.has_item());

  v1::RecordScreeningRequest found;
  found.set_request_id(NewUuid());
  found.set_campaign_id(campaign);
  found.set_person_id(station_people_[1]);
  found.set_outcome(v1::SCREENING_OUTCOME_RISK_FOUND);
  *found.mutable_item() = Item("");
  found.mutable_item()->clear_person_id();
  found.mutable_item()->clear_source();
  s = Call(political_, &v1::RiskService::Stub::RecordScreening, found, &sr);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_TRUE(sr.has_item());
  EXPECT_EQ(sr.item().campaign_id(), campaign);
  EXPECT_EQ(sr.item().person_id(), station_people_[1]);
  EXPECT_EQ(sr.screening().risk_item_id(), sr.item().id());

  const int64_t before = AllRows();
  // Screened once: refused.
  clear.set_request_id(NewUuid());
  s = Call(political_, &v1::RiskService::Stub::RecordScreening, clear, &sr);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << s.error_message();
  // A person outside the scope.
  clear.set_request_id(NewUuid());
  clear.set_person_id(StaffOf("gaoxin-branch")[0]);
  s = Call(political_, &v1::RiskService::Stub::RecordScreening, clear, &sr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(s), "person_id");
  EXPECT_EQ(AllRows(), before);

  v1::GetCampaignRequest g;
  g.set_campaign_id(campaign);
  v1::ScreeningCampaign got;
  ASSERT_TRUE(Call(political_, &v1::RiskService::Stub::GetCampaign, g, &got).ok());
  EXPECT_EQ(got.people(), people);
  EXPECT_EQ(got.screened(), 2);
  EXPECT_NEAR(got.share(), 2.0 / static_cast<double>(people), 1e-6);
  bool station_row = false;
  for (const auto& pr : got.progress()) {
    if (pr.unit_id() != station_) continue;
    station_row = true;
    EXPECT_EQ(pr.people(), people);
    EXPECT_EQ(pr.screened(), 2);
    EXPECT_EQ(pr.risks_found(), 1);
  }
  EXPECT_TRUE(station_row);
  ASSERT_TRUE(Call(political_, &v1::RiskService::Stub::ListUnscreened, lu, &lr).ok());
  EXPECT_EQ(lr.total(), people - 2);
  for (const auto& up : lr.people()) {
    EXPECT_NE(up.person_id(), station_people_[0]);
    EXPECT_NE(up.person_id(), station_people_[1]);
  }

  v1::CloseCampaignRequest close;
  close.set_request_id(NewUuid());
  close.set_campaign_id(campaign);
  close.set_expected_version(got.version());
  ASSERT_TRUE(Call(political_, &v1::RiskService::Stub::CloseCampaign, close, &cr).ok());
  EXPECT_EQ(cr.campaign().state(), v1::CAMPAIGN_STATE_CLOSED);
  clear.set_request_id(NewUuid());
  clear.set_person_id(station_people_[2]);
  EXPECT_EQ(Call(political_, &v1::RiskService::Stub::RecordScreening, clear, &sr).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(RiskServiceTest, RiskItemLifecycleLeadersAndOverdue) {
  const std::string person = station_people_[3];
  // The default responsible leader: the station's principal leader.
  v1::RiskItem item = Open(person);
  EXPECT_EQ(item.responsible_leader_id(), station_chief_.user);
  EXPECT_EQ(item.state(), v1::RISK_ITEM_STATE_MITIGATING);  // opened with a measure

  const int64_t before = AllRows();
  v1::RiskItemReply r;
  v1::OpenRiskItemRequest bad = Item(person);
  bad.set_responsible_leader_id(station_people_[4]);  // not a leader
  grpc::Status s = Call(political_, &v1::RiskService::Stub::OpenRiskItem, bad, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(s), "responsible_leader_id");
  bad.set_request_id(NewUuid());
  bad.set_responsible_leader_id(gaoxin_chief_.user);  // a leader outside the chain
  s = Call(political_, &v1::RiskService::Stub::OpenRiskItem, bad, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(s), "responsible_leader_id");
  // Bad input, each naming its field.
  struct Case {
    std::string field;
    std::function<void(v1::OpenRiskItemRequest&)> spoil;
  };
  for (const Case& c : std::vector<Case>{
           {"person_id", [](auto& q) { q.set_person_id("x"); }},
           {"person_id", [](auto& q) { q.clear_person_id(); }},
           {"category", [](auto& q) { q.clear_category(); }},
           {"level", [](auto& q) { q.set_level(static_cast<v1::RiskLevel>(99)); }},
           {"source", [](auto& q) { q.set_source(v1::RISK_SOURCE_SCORE); }},
           {"description", [](auto& q) { q.clear_description(); }},
           {"mitigations[0]", [](auto& q) { q.mutable_mitigations(0)->clear_working_days(); }},
           {"person_id", [](auto& q) { q.set_person_id(NewUuid()); }},
       }) {
    v1::OpenRiskItemRequest q = Item(person);
    c.spoil(q);
    s = Call(political_, &v1::RiskService::Stub::OpenRiskItem, q, &r);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.field << ": " << s.error_message();
    EXPECT_EQ(FieldOf(s), c.field) << s.error_message();
  }
  EXPECT_EQ(AllRows(), before);

  v1::AddMitigationRequest add;
  add.set_request_id(NewUuid());
  add.set_item_id(item.id());
  add.set_expected_version(item.version());
  add.mutable_mitigation()->set_measure("调整岗位");
  add.mutable_mitigation()->set_working_days(10);
  s = Call(political_, &v1::RiskService::Stub::AddMitigation, add, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(r.item().mitigations_size(), 2);
  item = r.item();

  v1::CompleteMitigationRequest done;
  done.set_request_id(NewUuid());
  done.set_item_id(item.id());
  done.set_expected_version(item.version());
  done.set_index(1);
  done.set_note("已谈心");
  s = Call(political_, &v1::RiskService::Stub::CompleteMitigation, done, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  item = r.item();
  EXPECT_TRUE(item.mitigations(0).done());

  v1::ResolveRiskItemRequest resolve;
  resolve.set_request_id(NewUuid());
  resolve.set_item_id(item.id());
  resolve.set_expected_version(item.version());
  resolve.set_resolution("风险已化解");
  EXPECT_EQ(Call(political_, &v1::RiskService::Stub::ResolveRiskItem, resolve, &r).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // Overdue: past the second measure's deadline, escalated once to the branch.
  const int64_t chain_before = ChainLen(item.id());
  auto n = store_->MarkOverdue(Start() + std::chrono::hours(24 * 40));
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_GE(*n, 1);
  n = store_->MarkOverdue(Start() + std::chrono::hours(24 * 41));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(Count("SELECT count(*) FROM risk.risk_events WHERE type = 'mitigation_escalated' AND aggregate_id = " +
                  Quote(item.id())),
            1);
  EXPECT_EQ(ChainLen(item.id()), chain_before + 1);
  v1::GetRiskItemRequest g;
  g.set_item_id(item.id());
  ASSERT_TRUE(Call(political_, &v1::RiskService::Stub::GetRiskItem, g, &item).ok());
  EXPECT_EQ(item.escalated_to_unit_id(), fucheng_);
  EXPECT_TRUE(item.mitigations(1).escalated());

  // The responsible leader completes the last measure.
  done.set_request_id(NewUuid());
  done.set_expected_version(item.version());
  done.set_index(2);
  s = Call(station_chief_, &v1::RiskService::Stub::CompleteMitigation, done, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  resolve.set_request_id(NewUuid());
  resolve.set_expected_version(r.item().version());
  s = Call(political_, &v1::RiskService::Stub::ResolveRiskItem, resolve, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.item().state(), v1::RISK_ITEM_STATE_RESOLVED);
  // Resolved: no more steps.
  add.set_request_id(NewUuid());
  add.set_expected_version(r.item().version());
  EXPECT_EQ(Call(political_, &v1::RiskService::Stub::AddMitigation, add, &r).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(RiskServiceTest, TalkSummarySealedAndShownByRole) {
  const std::string person = station_people_[5];
  const std::string secret = "本人承认曾接受请托人宴请三次";
  const int64_t before = AllRows();
  // Bad input names its field and writes nothing.
  v1::RecordTalkRequest bad;
  bad.set_request_id(NewUuid());
  bad.set_kind(v1::TALK_KIND_INTEGRITY);
  bad.set_person_id(NewUuid());
  db::SetMicros(bad.mutable_held_at(), NowMicros(*clock_) - 3600'000'000LL);
  bad.set_summary(secret);
  v1::TalkReply tr;
  grpc::Status s = Call(political_, &v1::RiskService::Stub::RecordTalk, bad, &tr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(s), "person_id");
  EXPECT_EQ(AllRows(), before);

  v1::TalkRecord t = Talk(person, secret);
  EXPECT_EQ(t.summary(), secret);
  // Sealed at rest.
  pqxx::connection c(::sm::testing::Conn());
  pqxx::work tx(c);
  auto row = tx.exec_params1("SELECT body FROM risk.talks WHERE id = $1::uuid", t.id());
  const std::string body = row[0].as<std::string>();
  std::string raw;
  {
    pqxx::binarystring bs(row[0]);
    raw = bs.str();
  }
  EXPECT_EQ(raw.find(secret), std::string::npos);
  EXPECT_EQ(body.find(secret), std::string::npos);
  tx.commit();

  v1::GetTalkRequest g;
  g.set_talk_id(t.id());
  v1::TalkRecord seen;
  ASSERT_TRUE(Call(discipline_, &v1::RiskService::Stub::GetTalk, g, &seen).ok());
  EXPECT_EQ(seen.summary(), secret);
  ASSERT_TRUE(Call(political_, &v1::RiskService::Stub::GetTalk, g, &seen).ok());
  EXPECT_EQ(seen.summary(), secret);
  ASSERT_TRUE(Call(oversight_, &v1::RiskService::Stub::GetTalk, g, &seen).ok());
  EXPECT_TRUE(seen.summary().empty());
  EXPECT_TRUE(seen.summary_withheld());
}

// ---- 2. scores from the feeds ----

TEST_F(RiskServiceTest, ScoresFromFeedsReplayAndCrossing) {
  const std::string person = StaffOf("gaoxin-branch")[1];
  ASSERT_EQ(ScoreOfPerson(person), 0);
  Feeds feeds(store_, pool_, clue_channel_, nullptr, nullptr, [] { return Token(Who{"risk-service", "", "service"}); });
  feeds.Start();
  const std::string clue = Petition(person);
  ASSERT_TRUE(Eventually([&] { return ScoreOfPerson(person) == 10; })) << ScoreOfPerson(person);
  EXPECT_EQ(
      Count("SELECT count(*) FROM risk.risk_events WHERE type = 'score_changed' AND aggregate_id = " + Quote(person)),
      1);
  ASSERT_TRUE(Conclude(clue, v1::SUPERVISION_FORM_2));
  ASSERT_TRUE(Eventually([&] { return ScoreOfPerson(person) == 30; })) << ScoreOfPerson(person);

  // An audit finding naming the person (HIGH: 20).
  v1::AuditEventPayload ap;
  ap.mutable_finding_added()->set_responsible_person_id(person);
  ap.mutable_finding_added()->set_severity(v1::SEVERITY_HIGH);
  ap.mutable_finding_added()->set_responsible_unit_id(gaoxin_);
  const events::Payload aj = events::MustEncode(ap);
  v1::AuditEvent ae;
  ae.set_seq(1);
  ae.set_aggregate_id(NewUuid());
  ae.set_type(aj.type);
  ae.set_data_json(aj.json);
  db::SetMicros(ae.mutable_at(), NowMicros(*clock_));
  ASSERT_TRUE(Apply([&](db::Tx& tx) { return store_->ApplyAuditEvent(tx, ae); }).ok());
  EXPECT_EQ(ScoreOfPerson(person), 50);
  EXPECT_EQ(
      Count("SELECT count(*) FROM risk.risk_items WHERE source = 'RISK_SOURCE_SCORE' AND person_id = " + Quote(person)),
      0);

  // An inspection finding naming the person (HIGH: 20) crosses 60.
  v1::InspectionEventPayload ip;
  ip.mutable_finding_added()->set_subject_person_id(person);
  ip.mutable_finding_added()->set_has_person(true);
  ip.mutable_finding_added()->set_severity(v1::SEVERITY_HIGH);
  ip.mutable_finding_added()->set_subject_unit_id(gaoxin_);
  const events::Payload ij = events::MustEncode(ip);
  v1::InspectionEvent ie;
  ie.set_seq(3);
  ie.set_aggregate_id(NewUuid());
  ie.set_type(ij.type);
  ie.set_data_json(ij.json);
  db::SetMicros(ie.mutable_at(), NowMicros(*clock_));
  ASSERT_TRUE(Apply([&](db::Tx& tx) { return store_->ApplyInspectionEvent(tx, ie); }).ok());
  EXPECT_EQ(ScoreOfPerson(person), 70);
  const std::string score_items =
      "SELECT count(*) FROM risk.risk_items WHERE source = 'RISK_SOURCE_SCORE' AND person_id = " + Quote(person);
  EXPECT_EQ(Count(score_items), 1);
  v1::ListRiskItemsRequest li;
  li.set_person_id(person);
  li.set_source(v1::RISK_SOURCE_SCORE);
  v1::ListRiskItemsResponse lr;
  ASSERT_TRUE(Call(discipline_, &v1::RiskService::Stub::ListRiskItems, li, &lr).ok());
  ASSERT_EQ(lr.items_size(), 1);
  EXPECT_EQ(lr.items(0).responsible_leader_id(), gaoxin_chief_.user);
  EXPECT_NEAR(lr.items(0).score(), 70, 1e-6);

  // Explained.
  v1::GetPersonScoreRequest gs;
  gs.set_person_id(person);
  v1::PersonScore ps;
  ASSERT_TRUE(Call(discipline_, &v1::RiskService::Stub::GetPersonScore, gs, &ps).ok());
  EXPECT_EQ(ps.signals(), 4);
  EXPECT_EQ(ps.terms_size(), 4);
  EXPECT_EQ(ps.explained_size(), 4);
  EXPECT_EQ(ps.threshold(), 60);
  EXPECT_TRUE(ps.above());
  EXPECT_EQ(ps.crossings(), 1);
  std::set<std::string> kinds;
  for (const auto& t : ps.terms()) kinds.insert(t.kind());
  EXPECT_EQ(kinds, (std::set<std::string>{"clue_named", "clue_concluded", "audit_finding", "inspection_finding"}));

  // Replay of every stream from zero: nothing moves.
  const int64_t chain = ChainLen(person);
  const int64_t signals = Count("SELECT count(*) FROM risk.signals WHERE person_id = " + Quote(person));
  feeds.Stop();
  ::sm::testing::Sql("DELETE FROM risk.consumer_cursors");
  Feeds again(store_, pool_, clue_channel_, nullptr, nullptr, [] { return Token(Who{"risk-service", "", "service"}); });
  again.Start();
  // Both clue events (and the others of the clue) are consumed again.
  ASSERT_TRUE(Eventually([&] { return again.applied() >= 2; })) << again.applied();
  ASSERT_TRUE(Eventually([&] {
    return Count("SELECT count(*) FROM risk.consumer_cursors WHERE name = 'clue-events'") == 1 &&
           again.applied() >= Count("SELECT count(*) FROM clue.clue_events");
  }));
  again.Stop();
  ASSERT_TRUE(Apply([&](db::Tx& tx) { return store_->ApplyAuditEvent(tx, ae); }).ok());
  ASSERT_TRUE(Apply([&](db::Tx& tx) { return store_->ApplyInspectionEvent(tx, ie); }).ok());
  EXPECT_EQ(ScoreOfPerson(person), 70);
  EXPECT_EQ(ChainLen(person), chain);
  EXPECT_EQ(Count("SELECT count(*) FROM risk.signals WHERE person_id = " + Quote(person)), signals);
  EXPECT_EQ(Count(score_items), 1);

  // A new signal while above: the score moves, no second item.
  ie.set_seq(4);
  ASSERT_TRUE(Apply([&](db::Tx& tx) { return store_->ApplyInspectionEvent(tx, ie); }).ok());
  EXPECT_EQ(ScoreOfPerson(person), 80);
  EXPECT_EQ(Count(score_items), 1);
  EXPECT_EQ(ChainLen(person), chain + 1);
}

// ---- 3. the rule file ----

TEST_F(RiskServiceTest, BadRuleFileNamesTheRule) {
  const std::string path = PgRedis::Get().dir() + "/bad-rules.yaml";
  std::ifstream in(std::string(SM_SOURCE_DIR) + "/deploy/local/risk-rules.yaml");
  std::stringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  const std::string from = "half_life_days: 180\n    cap: 30";
  ASSERT_NE(text.find(from), std::string::npos);
  text.replace(text.find(from), from.size(), "half_life_days: 0\n    cap: 30");
  std::ofstream(path) << text;
  auto r = LoadRules(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("signals.clue_named.half_life_days"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("bad-rules.yaml"), std::string::npos) << r.status();
}

// ---- 4. who sees what ----

TEST_F(RiskServiceTest, AccessMatrix) {
  const std::string person = station_people_[6];
  const v1::RiskItem item = Open(person);
  const v1::TalkRecord talk = Talk(person, "谈话内容：家庭矛盾");
  ASSERT_FALSE(item.id().empty());
  ASSERT_FALSE(talk.id().empty());
  Who fucheng_political{"fp", fucheng_, "political"};
  Who staff{station_people_[7], station_, "staff"};
  Who self{person, station_, "staff"};
  enum Talk { kNo, kWithheld, kShown };
  struct Row {
    std::string name;
    Who who;
    bool item;
    Talk talk;
    bool score;
    grpc::StatusCode file;
    bool list;  // ListRiskItems about the person shows the item (false: empty or refused)
  };
  const std::vector<Row> rows = {
      {"bureau political", political_, true, kShown, true, grpc::StatusCode::OK, true},
      {"fucheng political", fucheng_political, true, kShown, true, grpc::StatusCode::OK, true},
      {"gaoxin political", gaoxin_political_, false, kNo, false, grpc::StatusCode::NOT_FOUND, false},
      {"discipline", discipline_, true, kShown, true, grpc::StatusCode::OK, true},
      {"oversight", oversight_, true, kWithheld, true, grpc::StatusCode::PERMISSION_DENIED, true},
      {"station leader", station_chief_, true, kShown, true, grpc::StatusCode::OK, true},
      {"gaoxin leader", gaoxin_chief_, false, kNo, false, grpc::StatusCode::NOT_FOUND, false},
      {"station staff", staff, false, kNo, false, grpc::StatusCode::NOT_FOUND, false},
      {"the person", self, false, kNo, false, grpc::StatusCode::PERMISSION_DENIED, false},
      {"dashboard", dashboard_, false, kNo, false, grpc::StatusCode::NOT_FOUND, false},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.name);
    v1::GetRiskItemRequest gi;
    gi.set_item_id(item.id());
    v1::RiskItem it;
    grpc::Status s = Call(r.who, &v1::RiskService::Stub::GetRiskItem, gi, &it);
    EXPECT_EQ(s.error_code(), r.item ? grpc::StatusCode::OK : grpc::StatusCode::NOT_FOUND) << s.error_message();

    v1::GetTalkRequest gt;
    gt.set_talk_id(talk.id());
    v1::TalkRecord t;
    s = Call(r.who, &v1::RiskService::Stub::GetTalk, gt, &t);
    EXPECT_EQ(s.error_code(), r.talk == kNo ? grpc::StatusCode::NOT_FOUND : grpc::StatusCode::OK) << s.error_message();
    if (s.ok()) {
      EXPECT_EQ(t.summary().empty(), r.talk == kWithheld);
      EXPECT_EQ(t.summary_withheld(), r.talk == kWithheld);
    }

    v1::GetPersonScoreRequest gs;
    gs.set_person_id(person);
    v1::PersonScore ps;
    s = Call(r.who, &v1::RiskService::Stub::GetPersonScore, gs, &ps);
    EXPECT_EQ(s.error_code(), r.score ? grpc::StatusCode::OK : grpc::StatusCode::NOT_FOUND) << s.error_message();

    v1::GetPersonFileRequest gf;
    gf.set_person_id(person);
    v1::PersonFile f;
    s = Call(r.who, &v1::RiskService::Stub::GetPersonFile, gf, &f);
    EXPECT_EQ(s.error_code(), r.file) << s.error_message();

    v1::ListRiskItemsRequest li;
    li.set_person_id(person);
    v1::ListRiskItemsResponse lr;
    s = Call(r.who, &v1::RiskService::Stub::ListRiskItems, li, &lr);
    bool listed = false;
    for (const auto& x : lr.items()) listed = listed || x.id() == item.id();
    EXPECT_EQ(listed, r.list) << s.error_message();
  }
}

// ---- 5. the person file ----

TEST_F(RiskServiceTest, PersonFileWithServicesDown) {
  const std::string person = station_people_[8];
  const v1::RiskItem item = Open(person);
  // The same OpenRiskItem again: the stored answer, no second item.
  {
    v1::OpenRiskItemRequest q = Item(person);
    v1::RiskItemReply first, again;
    ASSERT_TRUE(Call(political_, &v1::RiskService::Stub::OpenRiskItem, q, &first).ok());
    const int64_t items = Rows("risk_items");
    ASSERT_TRUE(Call(political_, &v1::RiskService::Stub::OpenRiskItem, q, &again).ok());
    EXPECT_TRUE(again.mutation().replayed());
    EXPECT_EQ(again.item().id(), first.item().id());
    EXPECT_EQ(Rows("risk_items"), items);
    // Reused for another request: refused.
    q.set_description("另一件事");
    EXPECT_FALSE(Call(political_, &v1::RiskService::Stub::OpenRiskItem, q, &again).ok());
  }
  const v1::TalkRecord talk = Talk(person, "谈话内容");
  const std::string clue = Petition(person);
  v1::GetPersonFileRequest gf;
  gf.set_person_id(person);
  v1::PersonFile f;
  grpc::Status s = Call(discipline_, &v1::RiskService::Stub::GetPersonFile, gf, &f);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(f.person_id(), person);
  EXPECT_EQ(f.unit_id(), station_);
  ASSERT_EQ(f.items_size(), 2);
  bool has_item = false;
  for (const auto& it : f.items()) has_item = has_item || it.id() == item.id();
  EXPECT_TRUE(has_item);
  ASSERT_EQ(f.talks_size(), 1);
  EXPECT_EQ(f.talks(0).id(), talk.id());
  std::set<std::string> missing(f.missing().begin(), f.missing().end());
  EXPECT_EQ(missing, (std::set<std::string>{"audit-service", "inspection-service"}));
  bool clue_part = false, clue_entry = false;
  for (const auto& p : f.parts()) {
    if (p.source() == "clue") clue_part = p.available();
  }
  for (const auto& e : f.timeline()) clue_entry = clue_entry || (e.source() == "clue" && e.ref() == clue);
  EXPECT_TRUE(clue_part);
  EXPECT_TRUE(clue_entry);
}

// Last: every chain the tests above wrote (points, campaigns, items moved by the scan,
// talks with sealed summaries, scores moved by the feeds) verifies intact.
TEST_F(RiskServiceTest, SubscribeIsForServicesAndOversightAndCarriesNoSummary) {
  const std::string person = station_people_[9];
  const v1::TalkRecord talk = Talk(person, "只在摘要里的秘密内容");
  // An admonishment scores, so the person's score_changed follows on the feed.
  v1::RecordTalkRequest t;
  t.set_request_id(NewUuid());
  t.set_kind(v1::TALK_KIND_ADMONISHMENT);
  t.set_person_id(person);
  db::SetMicros(t.mutable_held_at(), NowMicros(*clock_) - 86400LL * 1000000);
  t.set_summary("诫勉内容");
  v1::TalkReply reply;
  ASSERT_TRUE(Call(political_, &v1::RiskService::Stub::RecordTalk, t, &reply).ok());
  auto read = [&](const Who& w, std::vector<v1::RiskEvent>* out) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + Token(w));
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
    v1::SubscribeRequest req;
    auto stream = stub_->Subscribe(&ctx, req);
    v1::RiskEvent ev;
    bool scored = false, talked = false;
    while (!(scored && talked) && stream->Read(&ev)) {
      out->push_back(ev);
      scored = scored || (ev.type() == "score_changed" && ev.aggregate_id() == person);
      talked = talked || (ev.type() == "talk_recorded" && ev.aggregate_id() == reply.talk().id());
    }
    if (scored && talked) ctx.TryCancel();  // found both: the stream would go on
    return stream->Finish();
  };
  for (const Who& w : {political_, discipline_, station_chief_, dashboard_}) {
    std::vector<v1::RiskEvent> got;
    grpc::Status s = read(w, &got);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << w.role << " " << s.error_message();
    EXPECT_TRUE(got.empty()) << w.role;
  }
  std::vector<v1::RiskEvent> got;
  read(Who{"risk-reader", "", "service"}, &got);
  bool scored = false, talked = false;
  for (const auto& ev : got) {
    EXPECT_EQ(ev.data_json().find("秘密"), std::string::npos) << "a talk summary on the feed: " << ev.data_json();
    EXPECT_EQ(ev.data_json().find("诫勉内容"), std::string::npos) << ev.data_json();
    EXPECT_FALSE(ev.cursor().empty());
    scored = scored || (ev.type() == "score_changed" && ev.aggregate_id() == person);
    talked = talked || (ev.type() == "talk_recorded" && ev.aggregate_id() == talk.id());
  }
  EXPECT_TRUE(scored) << "the admonishment's score_changed is on the feed";
  EXPECT_TRUE(talked);
}

TEST_F(RiskServiceTest, ZzEveryChainIntact) {
  auto check = store_->VerifyAllChains();
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_TRUE(check->intact);
  EXPECT_GT(check->aggregates, 10);
  for (const auto& b : check->broken) ADD_FAILURE() << "broken chain " << b.aggregate_id;
}

}  // namespace
}  // namespace sm::risk
