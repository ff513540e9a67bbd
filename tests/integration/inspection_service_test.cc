// inspection-service in process against the throwaway PostgreSQL and Redis, over gRPC with
// real tokens: a political inspection from a published template run to its report (marks,
// findings on non-conforming entries, rectification to sign-off), measures (on the spot,
// approved by the chief inspector, lifted, overdue, withheld items returned), every refused
// transition, what each party sees, bad input naming its field with nothing half-written,
// request-id replay, and the hash chains verified intact.
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include <map>
#include <set>
#include <thread>

#include "common/auth.h"
#include "common/db/migrate.h"
#include "common/status.h"
#include "common/uuid.h"
#include "common/workdays.h"
#include "common/referral_feed.h"
#include "services/clue/pg_store.h"
#include "services/clue/service.h"
#include "services/inspection/pg_store.h"
#include "services/inspection/service.h"
#include "tests/integration/callers.h"
#include "tests/integration/clue_stack.h"
#include "tests/integration/demo_directory.h"
#include "tests/support/local_stack.h"
#include "tests/support/pg_redis.h"

const std::vector<sm::db::Migration>& inspection_lib_migrations();
const std::vector<sm::db::Migration>& clue_lib_migrations();

namespace sm::inspection {
namespace {

using ::sm::testing::Count;
using ::sm::testing::PersonIn;
using ::sm::testing::PgRedis;
using ::sm::testing::UnitId;

using ::sm::testing::FieldOf;
using ::sm::testing::Start;
using ::sm::testing::Token;
using ::sm::testing::Who;

class InspectionServiceTest : public ::sm::testing::ClueStack {
 protected:
  static void SetUpTestSuite() {
    UpClueStack(4);
    if (HasFatalFailure()) return;
    PgRedis& env = PgRedis::Get();
    pool_ = new db::Pool(env.Pool("sm_inspection", "inspection", 6));
    ASSERT_TRUE(db::ApplyMigrations(*pool_, "inspection", inspection_lib_migrations()).ok());
    store_ = new PgStore(pool_, *clock_);
    store_->SetRules([] { return Rules{clock_->Now(), {}, calendar_, 20}; });
    service_ = new InspectionServiceImpl(store_, verifier_, calendar_, Policy{rectification::Policy{30, 100, 90}, 20},
                                         *clock_, redis_, nullptr);
    server::Config sc;
    server_ = std::move(*server::Server::Start(sc, {clue_service_, service_})).release();
    channel_ = new std::shared_ptr<grpc::Channel>(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
    // As main wires it (common/referral_feed.h); the relay is driven by the tests.
    feed_ = new referral::Feed(store_, "inspection", env.Pool("sm_inspection", "inspection"), pool_, *channel_, [] {
      return Token(Who{"inspection-service", "", "service"});
    });
    feed_->consumer().Start();
  }
  static void TearDownTestSuite() {
    delete feed_;
    server_->Shutdown(std::chrono::milliseconds(100));
    delete server_;
    delete service_;
    delete store_;
    delete pool_;
    delete channel_;
    DownClueStack();
  }
  void SetUp() override {
    stub_ = v1::InspectionService::NewStub(*channel_);
    clue_ = v1::ClueService::NewStub(*channel_);
    clock_->Set(Start());
    corps_ = UnitId("inspection-corps");
    fucheng_ = UnitId("fucheng-branch");
    gaoxin_ = UnitId("gaoxin-branch");
    station_ = UnitId("fucheng-branch-chengjiao-station");
    inspector_ = Who{PersonIn("inspection-corps"), corps_, "inspector"};
    chief_ = Who{PersonIn("inspection-corps", true), corps_, "chief_inspector"};
    other_inspector_ = Who{"someone-else", corps_, "inspector"};
    fucheng_staff_ = Who{"f", fucheng_, "staff"};
    station_staff_ = Who{"s", station_, "staff"};
    gaoxin_staff_ = Who{"g", gaoxin_, "staff"};
    bureau_staff_ = Who{"b", UnitId("bureau"), "staff"};
    stranger_ = Who{"x", UnitId("audit-office"), "staff"};
    auditor_ = Who{"a", UnitId("audit-office"), "auditor"};
    oversight_ = Who{"o", UnitId("discipline-group"), "oversight"};
    discipline_ = Who{"d", UnitId("discipline-group"), "discipline"};
  }

  template <typename Req, typename Resp, typename Fn>
  grpc::Status Call(const Who& w, Fn fn, const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + Token(w));
    return (stub_.get()->*fn)(&ctx, req, resp);
  }

  v1::PublishTemplateRequest Template(const std::string& code, int aspects, int items_each) {
    v1::PublishTemplateRequest t;
    t.set_request_id(NewUuid());
    t.set_code(code);
    t.set_name("政治督察清单");
    for (int a = 1; a <= aspects; ++a) {
      auto* asp = t.add_aspects();
      asp->set_code("A" + std::to_string(a));
      asp->set_title("方面" + std::to_string(a));
      for (int i = 1; i <= items_each; ++i) {
        auto* it = asp->add_items();
        it->set_code("A" + std::to_string(a) + "-" + std::to_string(i));
        it->set_text("重点任务" + std::to_string(i));
      }
    }
    return t;
  }

  // A published template and an inspection of the two branches started from it (IN_PROGRESS).
  v1::Inspection Started(const std::string& code) {
    v1::TemplateReply tr;
    EXPECT_TRUE(Call(inspector_, &v1::InspectionService::Stub::PublishTemplate, Template(code, 2, 2), &tr).ok());
    v1::CreateInspectionRequest c;
    c.set_request_id(NewUuid());
    c.set_kind(v1::INSPECTION_KIND_POLITICAL);
    c.set_title("2026年政治督察");
    c.set_inspection_unit_id(corps_);
    c.add_target_unit_ids(fucheng_);
    c.add_target_unit_ids(gaoxin_);
    c.set_period_from("2026-01-01");
    c.set_period_to("2026-03-31");
    c.add_inspector_ids(inspector_.user);
    c.set_template_code(code);
    v1::InspectionReply r;
    grpc::Status s = Call(inspector_, &v1::InspectionService::Stub::CreateInspection, c, &r);
    EXPECT_TRUE(s.ok()) << s.error_message();
    v1::AdvanceInspectionRequest a;
    a.set_request_id(NewUuid());
    a.set_inspection_id(r.inspection().id());
    a.set_expected_version(r.inspection().version());
    a.set_to(v1::INSPECTION_STATE_IN_PROGRESS);
    s = Call(inspector_, &v1::InspectionService::Stub::AdvanceInspection, a, &r);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return r.inspection();
  }

  template <typename Req, typename Resp, typename Fn>
  grpc::Status ClueCall(const Who& w, Fn fn, const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + Token(w));
    return (clue_.get()->*fn)(&ctx, req, resp);
  }

  // The discipline group takes `clue` (offered to it, or registered by it) to a conclusion
  // in `form`; true when every step was accepted.
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
    if (!ClueCall(discipline_, &v1::ClueService::Stub::DisposeClue, d, &r).ok()) return false;
    v1::ConcludeClueRequest k;
    k.set_request_id(NewUuid());
    k.set_clue_id(clue_id);
    k.set_expected_version(r.clue().version());
    k.set_form(form);
    k.set_feedback("经核实，问题属实");
    grpc::Status s = ClueCall(discipline_, &v1::ClueService::Stub::ConcludeClue, k, &r);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return s.ok();
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

  // The accountability checks of a clue, once the consumer has opened `n` of them.
  std::vector<v1::AccountabilityCheck> ChecksOf(const std::string& clue_id, int n) {
    std::vector<v1::AccountabilityCheck> out;
    ::sm::testing::PollUntil(
        [&] {
          v1::ListAccountabilityChecksRequest q;
          q.set_clue_id(clue_id);
          v1::ListAccountabilityChecksResponse resp;
          if (!Call(oversight_, &v1::InspectionService::Stub::ListAccountabilityChecks, q, &resp).ok()) return false;
          out.assign(resp.checks().begin(), resp.checks().end());
          return static_cast<int>(out.size()) >= n;
        },
        std::chrono::seconds(20), std::chrono::milliseconds(50));
    return out;
  }

  grpc::Status Mark(const Who& w, const std::string& inspection, const std::string& item, const std::string& unit,
                    v1::ItemMark mark, v1::InspectionReply* r) {
    v1::MarkItemRequest m;
    m.set_request_id(NewUuid());
    m.set_inspection_id(inspection);
    m.set_item_code(item);
    m.set_target_unit_id(unit);
    m.set_mark(mark);
    m.set_note(mark == v1::ITEM_MARK_NON_CONFORMING ? "督察组工作底稿：台账缺失" : "");
    return Call(w, &v1::InspectionService::Stub::MarkItem, m, r);
  }

  static inline db::Pool* pool_;
  static inline referral::Feed* feed_;
  static inline PgStore* store_;
  static inline InspectionServiceImpl* service_;
  static inline server::Server* server_;
  static inline std::shared_ptr<grpc::Channel>* channel_;
  std::unique_ptr<v1::InspectionService::Stub> stub_;
  std::unique_ptr<v1::ClueService::Stub> clue_;
  std::string corps_, fucheng_, gaoxin_, station_;
  Who inspector_, chief_, other_inspector_, fucheng_staff_, station_staff_, gaoxin_staff_, bureau_staff_, stranger_,
      auditor_, oversight_, discipline_;
};

TEST_F(InspectionServiceTest, TemplatesAreVersionedAndARunningInspectionKeepsItsVersion) {
  v1::TemplateReply t1, t2;
  ASSERT_TRUE(
      Call(inspector_, &v1::InspectionService::Stub::PublishTemplate, Template("tpl-versions", 6, 3), &t1).ok());
  EXPECT_EQ(t1.template_().version(), 1);
  EXPECT_EQ(t1.template_().items(), 18);
  v1::Inspection in = Started("tpl-versions-run");
  ASSERT_TRUE(
      Call(inspector_, &v1::InspectionService::Stub::PublishTemplate, Template("tpl-versions-run", 1, 1), &t2).ok());
  EXPECT_EQ(t2.template_().version(), 2);
  v1::Inspection got;
  v1::GetInspectionRequest g;
  g.set_inspection_id(in.id());
  ASSERT_TRUE(Call(inspector_, &v1::InspectionService::Stub::GetInspection, g, &got).ok());
  EXPECT_EQ(got.template_version(), 1);
  EXPECT_EQ(got.checklist_size(), 2 * 2 * 2);  // items × targets of version 1
  v1::GetTemplateRequest gt;
  gt.set_code("tpl-versions-run");
  v1::ChecklistTemplate latest;
  ASSERT_TRUE(Call(fucheng_staff_, &v1::InspectionService::Stub::GetTemplate, gt, &latest).ok());
  EXPECT_EQ(latest.version(), 2);
  // Bad templates name the field; a staff member cannot publish.
  auto bad = Template("tpl-bad", 1, 2);
  bad.mutable_aspects(0)->mutable_items(1)->set_code("A1-1");
  v1::TemplateReply r;
  EXPECT_EQ(FieldOf(Call(inspector_, &v1::InspectionService::Stub::PublishTemplate, bad, &r)),
            "aspects[0].items[1].code");
  bad = Template("Bad Code", 1, 1);
  EXPECT_EQ(FieldOf(Call(inspector_, &v1::InspectionService::Stub::PublishTemplate, bad, &r)), "code");
  EXPECT_EQ(
      Call(fucheng_staff_, &v1::InspectionService::Stub::PublishTemplate, Template("tpl-staff", 1, 1), &r).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Count("SELECT count(*) FROM inspection.templates WHERE code IN ('tpl-bad', 'Bad Code', 'tpl-staff')"), 0);
}

TEST_F(InspectionServiceTest, ChecklistFindingsRectificationAndReportEndToEnd) {
  v1::Inspection in = Started("tpl-flow");
  v1::InspectionReply r;
  // Every entry marked; two non-conforming, each with a finding before the report.
  for (const auto& unit : {fucheng_, gaoxin_}) {
    for (const auto* item : {"A1-1", "A1-2", "A2-1", "A2-2"}) {
      const bool bad =
          (unit == fucheng_ && std::string(item) == "A1-1") || (unit == gaoxin_ && std::string(item) == "A2-2");
      ASSERT_TRUE(
          Mark(inspector_, in.id(), item, unit, bad ? v1::ITEM_MARK_NON_CONFORMING : v1::ITEM_MARK_CONFORMING, &r)
              .ok());
    }
  }
  EXPECT_EQ(r.inspection().summary().marked(), 8);
  EXPECT_EQ(r.inspection().summary().non_conforming_without_finding(), 2);
  v1::AdvanceInspectionRequest report;
  report.set_request_id(NewUuid());
  report.set_inspection_id(in.id());
  report.set_to(v1::INSPECTION_STATE_REPORTED);
  report.set_report("督察报告");
  report.set_expected_version(r.inspection().version());
  grpc::Status s = Call(inspector_, &v1::InspectionService::Stub::AdvanceInspection, report, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("2 non-conforming entries have no finding"), std::string::npos);

  std::vector<v1::InspectionFinding> findings;
  const std::string person = PersonIn("fucheng-branch");  // named by the first finding only
  for (const auto& [unit, item] : {std::pair{fucheng_, "A1-1"}, std::pair{gaoxin_, "A2-2"}}) {
    v1::AddInspectionFindingRequest f;
    f.set_request_id(NewUuid());
    f.set_inspection_id(in.id());
    f.set_item_code(item);
    f.set_subject_unit_id(unit);
    if (unit == fucheng_) f.set_subject_person_id(person);
    f.set_title("第一议题制度落实不到位");
    f.set_category(v1::INSPECTION_FINDING_CATEGORY_POLITICAL);
    f.set_severity(v1::SEVERITY_MEDIUM);
    v1::InspectionFindingReply fr;
    s = Call(inspector_, &v1::InspectionService::Stub::AddFinding, f, &fr);
    ASSERT_TRUE(s.ok()) << s.error_message();
    findings.push_back(fr.finding());
  }
  EXPECT_EQ(findings[0].number(), in.number() + "-01");
  EXPECT_EQ(findings[1].number(), in.number() + "-02");
  report.set_request_id(NewUuid());
  report.set_expected_version(0);
  {
    v1::GetInspectionRequest g;
    g.set_inspection_id(in.id());
    v1::Inspection now;
    ASSERT_TRUE(Call(inspector_, &v1::InspectionService::Stub::GetInspection, g, &now).ok());
    report.set_expected_version(now.version());
  }
  s = Call(inspector_, &v1::InspectionService::Stub::AdvanceInspection, report, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.inspection().state(), v1::INSPECTION_STATE_REPORTED);
  // Once reported, the checklist is closed.
  EXPECT_EQ(Mark(inspector_, in.id(), "A1-2", fucheng_, v1::ITEM_MARK_NON_CONFORMING, &r).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // Rectification: set by the inspecting unit, owned by the branch, signed off by the corps.
  v1::AddRectificationRequest add;
  add.set_request_id(NewUuid());
  add.set_finding_id(findings[0].id());
  add.set_measure("建立第一议题学习台账");
  v1::RectificationReply xr;
  EXPECT_EQ(Call(fucheng_staff_, &v1::InspectionService::Stub::AddRectification, add, &xr).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  s = Call(inspector_, &v1::InspectionService::Stub::AddRectification, add, &xr);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const std::string rect = xr.rectification().id();
  EXPECT_EQ(xr.rectification().owner_unit_id(), fucheng_);
  v1::SubmitRectificationRequest sub;
  sub.set_request_id(NewUuid());
  sub.set_rectification_id(rect);
  sub.set_summary("已建立台账");
  sub.set_expected_version(xr.rectification().version());
  EXPECT_EQ(Call(inspector_, &v1::InspectionService::Stub::SubmitRectification, sub, &xr).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Call(gaoxin_staff_, &v1::InspectionService::Stub::SubmitRectification, sub, &xr).error_code(),
            grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(Call(fucheng_staff_, &v1::InspectionService::Stub::SubmitRectification, sub, &xr).ok());
  v1::ReviewRectificationRequest rev;
  rev.set_request_id(NewUuid());
  rev.set_rectification_id(rect);
  rev.set_approve(true);
  rev.set_expected_version(xr.rectification().version());
  ASSERT_TRUE(Call(inspector_, &v1::InspectionService::Stub::ReviewRectification, rev, &xr).ok());
  EXPECT_EQ(xr.rectification().state(), v1::RECTIFICATION_STATE_SIGNED_OFF);
  EXPECT_TRUE(xr.rectification().spot_check());  // policy: 100 %

  // What each party sees.
  v1::GetInspectionRequest g;
  g.set_inspection_id(in.id());
  v1::Inspection seen;
  ASSERT_TRUE(Call(inspector_, &v1::InspectionService::Stub::GetInspection, g, &seen).ok());
  bool notes = false;
  for (const auto& e : seen.checklist()) notes = notes || !e.note().empty();
  EXPECT_TRUE(notes);
  for (const Who* w : {&fucheng_staff_, &bureau_staff_}) {
    ASSERT_TRUE(Call(*w, &v1::InspectionService::Stub::GetInspection, g, &seen).ok()) << w->user;
    for (const auto& e : seen.checklist()) EXPECT_TRUE(e.note().empty()) << "working notes shown to " << w->user;
  }
  for (const Who* w : {&station_staff_, &stranger_}) {
    EXPECT_EQ(Call(*w, &v1::InspectionService::Stub::GetInspection, g, &seen).error_code(), grpc::StatusCode::NOT_FOUND)
        << w->user;
  }
  v1::ListInspectionFindingsRequest lf;
  lf.set_inspection_id(in.id());
  v1::ListInspectionFindingsResponse fl;
  EXPECT_EQ(Call(auditor_, &v1::InspectionService::Stub::GetInspection, g, &seen).error_code(),
            grpc::StatusCode::PERMISSION_DENIED)
      << "no role of an auditor reads inspections";
  s = Call(fucheng_staff_, &v1::InspectionService::Stub::ListFindings, lf, &fl);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(fl.findings_size(), 1);  // its own only
  EXPECT_EQ(fl.findings(0).subject_unit_id(), fucheng_);
  EXPECT_EQ(fl.findings(0).rectifications_signed_off(), 1);
  ASSERT_TRUE(Call(oversight_, &v1::InspectionService::Stub::ListFindings, lf, &fl).ok());
  EXPECT_EQ(fl.findings_size(), 2);
  ASSERT_TRUE(Call(stranger_, &v1::InspectionService::Stub::ListFindings, lf, &fl).ok());
  EXPECT_EQ(fl.findings_size(), 0);
  // By person (risk-service reads a person's findings): exactly the findings naming them.
  lf.set_subject_person_id(person);
  ASSERT_TRUE(Call(oversight_, &v1::InspectionService::Stub::ListFindings, lf, &fl).ok());
  ASSERT_EQ(fl.findings_size(), 1);
  EXPECT_EQ(fl.findings(0).id(), findings[0].id());
  lf.clear_inspection_id();
  lf.set_page_size(200);
  ASSERT_TRUE(Call(oversight_, &v1::InspectionService::Stub::ListFindings, lf, &fl).ok());
  for (const auto& listed : fl.findings()) EXPECT_EQ(listed.subject_person_id(), person);
  EXPECT_EQ(fl.findings_size(),
            Count("SELECT count(*) FROM inspection.findings WHERE subject_person_id = '" + person + "'"));
  lf.set_subject_person_id("not-a-uuid");
  EXPECT_EQ(FieldOf(Call(oversight_, &v1::InspectionService::Stub::ListFindings, lf, &fl)), "subject_person_id");
  // The feed names the person too.
  v1::GetInspectionHistoryRequest fh;
  fh.set_aggregate_id(findings[0].id());
  v1::GetInspectionHistoryResponse fhist;
  ASSERT_TRUE(Call(oversight_, &v1::InspectionService::Stub::GetInspectionHistory, fh, &fhist).ok());
  ASSERT_GE(fhist.events_size(), 1);
  EXPECT_EQ(fhist.events(0).type(), "finding_added");
  EXPECT_NE(fhist.events(0).data_json().find(person), std::string::npos) << fhist.events(0).data_json();
  v1::GetInspectionFindingRequest gf;
  gf.set_finding_id(findings[1].id());
  v1::InspectionFinding f;
  EXPECT_EQ(Call(fucheng_staff_, &v1::InspectionService::Stub::GetFinding, gf, &f).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // The chains verify intact, each aggregate's and the whole service's.
  for (const auto& id : {in.id(), findings[0].id()}) {
    auto c = store_->VerifyChain(id);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_TRUE(c->intact) << id << ": " << c->problem;
  }
  auto all = store_->VerifyAllChains();
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->intact);

  // Stats count it.
  v1::GetInspectionStatsRequest sr;
  v1::InspectionStats st;
  ASSERT_TRUE(Call(oversight_, &v1::InspectionService::Stub::GetInspectionStats, sr, &st).ok());
  EXPECT_GE(st.findings(), 2);
  EXPECT_GE(st.rectification().signed_off(), 1);
  bool aspect = false;
  for (const auto& a : st.by_aspect()) aspect = aspect || a.key() == "tpl-flow/A1";
  EXPECT_TRUE(aspect);
}

TEST_F(InspectionServiceTest, MeasuresImposedApprovedLiftedOverdueAndReturned) {
  v1::Inspection in = Started("tpl-measures");
  const std::string officer = PersonIn("fucheng-branch-chengjiao-station");
  v1::ImposeMeasureRequest m;
  m.set_request_id(NewUuid());
  m.set_inspection_id(in.id());
  m.set_kind(v1::MEASURE_KIND_CONFINEMENT);
  m.set_person_id(officer);
  m.set_basis("《公安机关督察条例》第十二条");
  m.set_reason("酒后驾驶警车");
  v1::MeasureReply r;
  // Limits: confinement 1 to 7 days, suspension 10 to 60; nothing written when refused.
  for (int days : {0, 8}) {
    m.set_days(days);
    EXPECT_EQ(FieldOf(Call(inspector_, &v1::InspectionService::Stub::ImposeMeasure, m, &r)), "days");
  }
  m.set_kind(v1::MEASURE_KIND_SUSPENSION);
  m.set_days(9);
  EXPECT_EQ(FieldOf(Call(inspector_, &v1::InspectionService::Stub::ImposeMeasure, m, &r)), "days");
  m.set_days(61);
  EXPECT_EQ(FieldOf(Call(inspector_, &v1::InspectionService::Stub::ImposeMeasure, m, &r)), "days");
  EXPECT_EQ(Count("SELECT count(*) FROM inspection.measures WHERE inspection_id = '" + in.id() + "'"), 0);
  m.set_kind(v1::MEASURE_KIND_CONFINEMENT);
  m.set_days(3);
  ASSERT_TRUE(Call(inspector_, &v1::InspectionService::Stub::ImposeMeasure, m, &r).ok());
  EXPECT_EQ(r.measure().state(), v1::MEASURE_STATE_PENDING_APPROVAL);
  {  // the feed names the officer
    v1::GetInspectionHistoryRequest h;
    h.set_aggregate_id(r.measure().id());
    v1::GetInspectionHistoryResponse hist;
    ASSERT_TRUE(Call(oversight_, &v1::InspectionService::Stub::GetInspectionHistory, h, &hist).ok());
    ASSERT_GE(hist.events_size(), 1);
    EXPECT_EQ(hist.events(0).type(), "measure_imposed");
    EXPECT_NE(hist.events(0).data_json().find(officer), std::string::npos) << hist.events(0).data_json();
  }
  // The same request again: the first answer, nothing new written.
  v1::MeasureReply again;
  ASSERT_TRUE(Call(inspector_, &v1::InspectionService::Stub::ImposeMeasure, m, &again).ok());
  EXPECT_TRUE(again.mutation().replayed());
  EXPECT_EQ(again.measure().id(), r.measure().id());
  EXPECT_EQ(Count("SELECT count(*) FROM inspection.measures WHERE inspection_id = '" + in.id() + "'"), 1);

  v1::ApproveMeasureRequest ap;
  ap.set_request_id(NewUuid());
  ap.set_measure_id(r.measure().id());
  ap.set_approve(true);
  ap.set_expected_version(r.measure().version());
  EXPECT_EQ(Call(inspector_, &v1::InspectionService::Stub::ApproveMeasure, ap, &r).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Call(chief_, &v1::InspectionService::Stub::ApproveMeasure, ap, &r).ok());
  EXPECT_EQ(r.measure().state(), v1::MEASURE_STATE_IN_FORCE);
  EXPECT_EQ(r.measure().approved_by(), chief_.user);
  // Four days later it is past its end and shows overdue until lifted.
  clock_->Advance(std::chrono::hours(24 * 4));
  v1::GetMeasureRequest gm;
  gm.set_measure_id(r.measure().id());
  v1::Measure got;
  ASSERT_TRUE(Call(station_staff_, &v1::InspectionService::Stub::GetMeasure, gm, &got).ok());  // the officer's unit
  EXPECT_TRUE(got.overdue());
  EXPECT_EQ(Call(gaoxin_staff_, &v1::InspectionService::Stub::GetMeasure, gm, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::ListMeasuresRequest lm;
  lm.set_overdue_only(true);
  v1::ListMeasuresResponse overdue;
  ASSERT_TRUE(Call(oversight_, &v1::InspectionService::Stub::ListMeasures, lm, &overdue).ok());
  EXPECT_EQ(overdue.measures_size(), 1);
  v1::LiftMeasureRequest lift;
  lift.set_request_id(NewUuid());
  lift.set_measure_id(r.measure().id());
  lift.set_reason("期满解除");
  lift.set_expected_version(r.measure().version());
  ASSERT_TRUE(Call(inspector_, &v1::InspectionService::Stub::LiftMeasure, lift, &r).ok());
  EXPECT_EQ(r.measure().state(), v1::MEASURE_STATE_ENDED);
  lift.set_request_id(NewUuid());
  lift.set_expected_version(r.measure().version());
  EXPECT_EQ(Call(inspector_, &v1::InspectionService::Stub::LiftMeasure, lift, &r).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // A withheld police vehicle, returned.
  v1::ImposeMeasureRequest w;
  w.set_request_id(NewUuid());
  w.set_inspection_id(in.id());
  w.set_kind(v1::MEASURE_KIND_WITHHOLD);
  w.set_person_id(officer);
  w.set_basis("《公安机关督察条例》第十一条");
  w.set_reason("违规使用警车");
  EXPECT_EQ(FieldOf(Call(inspector_, &v1::InspectionService::Stub::ImposeMeasure, w, &r)), "withheld");
  auto* item = w.add_withheld();
  item->set_kind(v1::WITHHELD_KIND_VEHICLE);
  item->set_description("警用车辆 川B·1234警");
  ASSERT_TRUE(Call(inspector_, &v1::InspectionService::Stub::ImposeMeasure, w, &r).ok());
  v1::ReturnWithheldRequest ret;
  ret.set_request_id(NewUuid());
  ret.set_measure_id(r.measure().id());
  ret.add_items(0);
  ret.set_returned_to(officer);
  ret.set_expected_version(r.measure().version());
  ASSERT_TRUE(Call(inspector_, &v1::InspectionService::Stub::ReturnWithheld, ret, &r).ok());
  EXPECT_EQ(r.measure().state(), v1::MEASURE_STATE_ENDED);
  EXPECT_TRUE(r.measure().withheld(0).returned());
  auto c = store_->VerifyChain(r.measure().id());
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->intact) << c->problem;
}

TEST_F(InspectionServiceTest, BadInputNamesTheFieldAndWritesNothing) {
  v1::CreateInspectionRequest c;
  c.set_request_id(NewUuid());
  c.set_kind(v1::INSPECTION_KIND_ON_SITE);
  c.set_title("现场督察");
  c.set_inspection_unit_id(corps_);
  c.add_target_unit_ids(fucheng_);
  c.set_period_from("2026-01-01");
  c.set_period_to("2026-03-31");
  c.add_inspector_ids(inspector_.user);
  c.set_template_code("no-such-template");
  v1::InspectionReply r;
  const int64_t before = Count("SELECT count(*) FROM inspection.inspections");
  EXPECT_EQ(FieldOf(Call(inspector_, &v1::InspectionService::Stub::CreateInspection, c, &r)), "template_code");
  auto bad = c;
  bad.set_period_to("2025-12-31");
  EXPECT_EQ(FieldOf(Call(inspector_, &v1::InspectionService::Stub::CreateInspection, bad, &r)), "period_to");
  bad = c;
  bad.add_target_unit_ids(fucheng_);
  EXPECT_EQ(FieldOf(Call(inspector_, &v1::InspectionService::Stub::CreateInspection, bad, &r)), "target_unit_ids[1]");
  bad = c;
  bad.set_inspection_unit_id(fucheng_);
  EXPECT_EQ(FieldOf(Call(inspector_, &v1::InspectionService::Stub::CreateInspection, bad, &r)), "inspection_unit_id");
  bad = c;
  bad.set_inspector_ids(0, PersonIn("gaoxin-branch"));
  v1::TemplateReply t;
  ASSERT_TRUE(
      Call(inspector_, &v1::InspectionService::Stub::PublishTemplate, Template("tpl-bad-input", 1, 1), &t).ok());
  bad.set_template_code("tpl-bad-input");
  EXPECT_EQ(FieldOf(Call(inspector_, &v1::InspectionService::Stub::CreateInspection, bad, &r)), "inspector_ids[0]");
  bad = c;
  bad.set_kind(v1::INSPECTION_KIND_UNSPECIFIED);
  EXPECT_EQ(FieldOf(Call(inspector_, &v1::InspectionService::Stub::CreateInspection, bad, &r)), "kind");
  EXPECT_EQ(Count("SELECT count(*) FROM inspection.inspections"), before);
  v1::GetInspectionRequest g;
  g.set_inspection_id("not-a-uuid");
  v1::Inspection in;
  EXPECT_EQ(FieldOf(Call(inspector_, &v1::InspectionService::Stub::GetInspection, g, &in)), "inspection_id");
}

// The access matrix: every role × where its unit stands to an inspection of fucheng-branch
// (the inspecting unit, the target, above it, below it, a sibling, unrelated) for the reads of
// the inspection, a finding on the target, a measure on an officer of a station below it and
// the finding's rectification: allowed (and the working notes shown or not), NOT_FOUND, or
// PERMISSION_DENIED for a role that reads nothing here.
TEST_F(InspectionServiceTest, AccessMatrixOfEveryRoleAndRelation) {
  v1::Inspection in = Started("tpl-access");  // targets fucheng and gaoxin
  v1::InspectionReply r;
  ASSERT_TRUE(Mark(inspector_, in.id(), "A1-1", fucheng_, v1::ITEM_MARK_NON_CONFORMING, &r).ok());
  v1::AddInspectionFindingRequest f;
  f.set_request_id(NewUuid());
  f.set_inspection_id(in.id());
  f.set_item_code("A1-1");
  f.set_subject_unit_id(fucheng_);
  f.set_title("台账缺失");
  f.set_category(v1::INSPECTION_FINDING_CATEGORY_DUTY);
  f.set_severity(v1::SEVERITY_LOW);
  v1::InspectionFindingReply fr;
  ASSERT_TRUE(Call(inspector_, &v1::InspectionService::Stub::AddFinding, f, &fr).ok());
  v1::ImposeMeasureRequest m;
  m.set_request_id(NewUuid());
  m.set_inspection_id(in.id());
  m.set_kind(v1::MEASURE_KIND_REMOVAL);
  m.set_person_id(PersonIn("fucheng-branch-chengjiao-station"));
  m.set_basis("《公安机关督察条例》");
  m.set_reason("酒后上岗");
  v1::MeasureReply mr;
  ASSERT_TRUE(Call(inspector_, &v1::InspectionService::Stub::ImposeMeasure, m, &mr).ok());
  v1::AddRectificationRequest x;
  x.set_request_id(NewUuid());
  x.set_finding_id(fr.finding().id());
  x.set_measure("补建台账");
  v1::RectificationReply xr;
  ASSERT_TRUE(Call(inspector_, &v1::InspectionService::Stub::AddRectification, x, &xr).ok());

  enum class Where { kInspecting, kTarget, kAbove, kBelow, kSibling, kUnrelated };
  const std::map<Where, std::string> units = {{Where::kInspecting, corps_},
                                              {Where::kTarget, fucheng_},
                                              {Where::kAbove, UnitId("bureau")},
                                              {Where::kBelow, station_},
                                              {Where::kSibling, UnitId("kexin-branch")},
                                              {Where::kUnrelated, UnitId("audit-office")}};
  const char* roles[] = {"staff", "inspector", "chief_inspector", "discipline", "oversight", "auditor", "dashboard"};
  using C = grpc::StatusCode;
  int checked = 0;
  for (const char* role : roles) {
    for (const auto& [where, unit] : units) {
      const Who w{"matrix-" + std::string(role), unit, role};
      const std::string at = std::string(role) + " at " + std::to_string(static_cast<int>(where));
      const bool reads = std::string(role) != "auditor" && std::string(role) != "dashboard";
      const bool everything = std::string(role) == "oversight";
      const bool inspecting = where == Where::kInspecting;
      const bool target_or_above = where == Where::kTarget || where == Where::kAbove;
      auto expect = [&](bool allowed) { return !reads ? C::PERMISSION_DENIED : allowed ? C::OK : C::NOT_FOUND; };
      // The inspection, with or without the working notes.
      v1::GetInspectionRequest gi;
      gi.set_inspection_id(in.id());
      v1::Inspection seen;
      grpc::Status s = Call(w, &v1::InspectionService::Stub::GetInspection, gi, &seen);
      EXPECT_EQ(s.error_code(), expect(everything || inspecting || target_or_above)) << at << ": " << s.error_message();
      if (s.ok()) {
        bool notes = false;
        for (const auto& e : seen.checklist()) notes = notes || !e.note().empty();
        EXPECT_EQ(notes, everything || inspecting) << at;
      }
      // The finding on the target.
      v1::GetInspectionFindingRequest gf;
      gf.set_finding_id(fr.finding().id());
      v1::InspectionFinding finding;
      s = Call(w, &v1::InspectionService::Stub::GetFinding, gf, &finding);
      EXPECT_EQ(s.error_code(), expect(everything || inspecting || target_or_above)) << at << ": " << s.error_message();
      // The measure on an officer of the station below the target.
      v1::GetMeasureRequest gm;
      gm.set_measure_id(mr.measure().id());
      v1::Measure measure;
      s = Call(w, &v1::InspectionService::Stub::GetMeasure, gm, &measure);
      EXPECT_EQ(s.error_code(), expect(everything || inspecting || target_or_above || where == Where::kBelow))
          << at << ": " << s.error_message();
      // The rectification the target owns.
      v1::GetRectificationRequest gr;
      gr.set_rectification_id(xr.rectification().id());
      v1::Rectification rect;
      s = Call(w, &v1::InspectionService::Stub::GetRectification, gr, &rect);
      EXPECT_EQ(s.error_code(), expect(everything || inspecting || target_or_above)) << at << ": " << s.error_message();
      checked += 4;
    }
  }
  EXPECT_EQ(checked, 7 * 6 * 4);
}

// A finding referred to the discipline group becomes exactly one clue (the relay run twice,
// the reply and the clue's own event both linking it, "clue_linked" once); the clue's
// conclusion comes back on the finding, and opens the 一案双查 checks on the leaders of the
// finding's unit, once, even when the clue feed is replayed from its start.
TEST_F(InspectionServiceTest, ReferralIsOneClueAndItsConclusionOpensTheChecksOnce) {
  v1::Inspection in = Started("tpl-referral");
  v1::InspectionReply r;
  ASSERT_TRUE(Mark(inspector_, in.id(), "A1-1", fucheng_, v1::ITEM_MARK_NON_CONFORMING, &r).ok());
  v1::AddInspectionFindingRequest f;
  f.set_request_id(NewUuid());
  f.set_inspection_id(in.id());
  f.set_item_code("A1-1");
  f.set_subject_unit_id(fucheng_);
  f.set_subject_person_id(PersonIn("fucheng-branch-chengjiao-station"));
  f.set_title("违规发放津补贴");
  f.set_category(v1::INSPECTION_FINDING_CATEGORY_INTEGRITY);
  f.set_severity(v1::SEVERITY_HIGH);
  v1::InspectionFindingReply fr;
  ASSERT_TRUE(Call(inspector_, &v1::InspectionService::Stub::AddFinding, f, &fr).ok());
  v1::ReferFindingRequest refer;
  refer.set_request_id(NewUuid());
  refer.set_finding_id(fr.finding().id());
  refer.set_expected_version(fr.finding().version());
  refer.set_to_unit_id(fucheng_);  // not a discipline unit
  EXPECT_EQ(FieldOf(Call(inspector_, &v1::InspectionService::Stub::ReferFinding, refer, &fr)), "to_unit_id");
  refer.set_to_unit_id(discipline_.unit);
  EXPECT_EQ(Call(fucheng_staff_, &v1::InspectionService::Stub::ReferFinding, refer, &fr).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status s = Call(inspector_, &v1::InspectionService::Stub::ReferFinding, refer, &fr);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(fr.finding().referral().state(), v1::REFERRAL_STATE_PENDING);
  refer.set_request_id(NewUuid());
  refer.set_expected_version(fr.finding().version());
  EXPECT_EQ(Call(inspector_, &v1::InspectionService::Stub::ReferFinding, refer, &fr).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(feed_->relay().RunOnce().ok());
  ASSERT_TRUE(feed_->relay().RunOnce().ok());
  const std::string finding = fr.finding().id();
  EXPECT_EQ(
      Count("SELECT count(*) FROM clue.clues WHERE source_system = 'inspection' AND source_ref = '" + finding + "'"),
      1);
  v1::GetInspectionFindingRequest g;
  g.set_finding_id(finding);
  v1::InspectionFinding got;
  ASSERT_TRUE(Call(inspector_, &v1::InspectionService::Stub::GetFinding, g, &got).ok());
  EXPECT_EQ(got.referral().state(), v1::REFERRAL_STATE_DELIVERED);
  const std::string clue = got.referral().clue_id();
  ASSERT_FALSE(clue.empty());

  ASSERT_TRUE(Conclude(clue, v1::SUPERVISION_FORM_2));
  ASSERT_TRUE(::sm::testing::PollUntil(
      [&] {
        return Call(inspector_, &v1::InspectionService::Stub::GetFinding, g, &got).ok() &&
               got.referral().outcome_form() == v1::SUPERVISION_FORM_2;
      },
      std::chrono::seconds(20), std::chrono::milliseconds(50)));
  EXPECT_EQ(got.referral().clue_state(), v1::CLUE_STATE_CONCLUDED);
  EXPECT_EQ(Count("SELECT count(*) FROM inspection.inspection_events WHERE aggregate_id = '" + finding +
                  "' AND type = 'clue_linked'"),
            1);

  // 一案双查: the principal and the supervising leader of the subject's unit.
  std::vector<v1::AccountabilityCheck> checks = ChecksOf(clue, 2);
  ASSERT_EQ(checks.size(), 2u);
  std::set<v1::LeaderDuty> duties;
  for (const auto& k : checks) {
    duties.insert(k.duty());
    EXPECT_EQ(k.form(), v1::SUPERVISION_FORM_2);
    EXPECT_EQ(k.clue_source(), v1::CLUE_SOURCE_INSPECTION);
    EXPECT_FALSE(k.leader_person_id().empty()) << v1::LeaderDuty_Name(k.duty());
    EXPECT_EQ(k.subject_unit_id(), station_);
    EXPECT_FALSE(k.owner_unit_id().empty());
    EXPECT_TRUE(k.has_deadline_at());
  }
  EXPECT_EQ(duties.size(), 2u);
  // Replayed from the start of the clue feed: nothing opens twice.
  auto cursor = [] {
    pqxx::connection c(::sm::testing::Conn());
    pqxx::work tx(c);
    pqxx::result r = tx.exec("SELECT cursor FROM inspection.consumer_cursors WHERE name = 'clue-events'");
    return r.empty() ? std::string() : r[0][0].as<std::string>();
  };
  ASSERT_TRUE(::sm::testing::PollUntil([&] { return !cursor().empty(); }));
  const std::string caught_up = cursor();
  feed_->consumer().Stop();
  ::sm::testing::Sql("DELETE FROM inspection.consumer_cursors");
  feed_->consumer().Start();
  ASSERT_TRUE(::sm::testing::PollUntil([&] { return cursor() == caught_up; }, std::chrono::seconds(20),
                                       std::chrono::milliseconds(50)));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(Count("SELECT count(*) FROM inspection.accountability_checks WHERE clue_id = '" + clue + "'"), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM inspection.inspection_events WHERE aggregate_id = '" + finding +
                  "' AND type = 'clue_linked'"),
            1);

  // Who sees checks: the owning unit's inspectors, oversight, discipline staff; not the branch.
  v1::GetAccountabilityCheckRequest gk;
  gk.set_check_id(checks[0].id());
  v1::AccountabilityCheck k;
  EXPECT_EQ(Call(fucheng_staff_, &v1::InspectionService::Stub::GetAccountabilityCheck, gk, &k).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(Call(discipline_, &v1::InspectionService::Stub::GetAccountabilityCheck, gk, &k).ok());
  // Its history likewise: the branch's staff see nothing of it, oversight its events.
  v1::GetInspectionHistoryRequest h;
  h.set_aggregate_id(checks[0].id());
  v1::GetInspectionHistoryResponse hist;
  EXPECT_EQ(Call(fucheng_staff_, &v1::InspectionService::Stub::GetInspectionHistory, h, &hist).error_code(),
            grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(Call(oversight_, &v1::InspectionService::Stub::GetInspectionHistory, h, &hist).ok());
  ASSERT_GE(hist.events_size(), 1);
  EXPECT_EQ(hist.events(0).type(), "accountability_opened");
  EXPECT_NE(hist.events(0).data_json().find(checks[0].leader_person_id()), std::string::npos)
      << hist.events(0).data_json();
}

TEST_F(InspectionServiceTest, ChecksOpenForEveryConfirmedViolationWhateverItsSourceAndConcludeOnce) {
  const std::string person = PersonIn("gaoxin-branch-puming-station");
  const std::string minor = Petition(person);
  ASSERT_TRUE(Conclude(minor, v1::SUPERVISION_FORM_1));  // form 1: no accountability
  const std::string grave = Petition(person);
  ASSERT_TRUE(Conclude(grave, v1::SUPERVISION_FORM_3));
  std::vector<v1::AccountabilityCheck> checks = ChecksOf(grave, 2);
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[0].clue_source(), v1::CLUE_SOURCE_PETITION);
  EXPECT_EQ(Count("SELECT count(*) FROM inspection.accountability_checks WHERE clue_id = '" + minor + "'"), 0);

  // The bureau's corps, above the owning branch team, sees them; a sibling branch's team not.
  {
    v1::GetAccountabilityCheckRequest gk;
    gk.set_check_id(checks[0].id());
    v1::AccountabilityCheck seen;
    EXPECT_TRUE(Call(inspector_, &v1::InspectionService::Stub::GetAccountabilityCheck, gk, &seen).ok());
    const Who sibling_team{"t", UnitId("fucheng-branch-inspection-team"), "inspector"};
    if (checks[0].owner_unit_id() != sibling_team.unit) {
      EXPECT_EQ(Call(sibling_team, &v1::InspectionService::Stub::GetAccountabilityCheck, gk, &seen).error_code(),
                grpc::StatusCode::NOT_FOUND);
    }
  }
  // The owning unit's inspector concludes one with a referral of the leader: one clue.
  v1::AccountabilityCheck k = checks[0];
  const Who owner{PersonIn("inspection-corps"), k.owner_unit_id(), "inspector"};
  v1::ConcludeAccountabilityCheckRequest c;
  c.set_request_id(NewUuid());
  c.set_check_id(k.id());
  c.set_expected_version(k.version());
  c.set_outcome(v1::ACCOUNTABILITY_OUTCOME_REFERRED);
  c.set_note("履行主体责任不力");
  v1::AccountabilityCheckReply reply;
  EXPECT_EQ(FieldOf(Call(owner, &v1::InspectionService::Stub::ConcludeAccountabilityCheck, c, &reply)), "to_unit_id");
  c.set_to_unit_id(discipline_.unit);
  EXPECT_EQ(Call(fucheng_staff_, &v1::InspectionService::Stub::ConcludeAccountabilityCheck, c, &reply).error_code(),
            grpc::StatusCode::NOT_FOUND);
  grpc::Status s = Call(owner, &v1::InspectionService::Stub::ConcludeAccountabilityCheck, c, &reply);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reply.check().outcome(), v1::ACCOUNTABILITY_OUTCOME_REFERRED);
  EXPECT_EQ(reply.check().referral().state(), v1::REFERRAL_STATE_PENDING);
  c.set_request_id(NewUuid());
  c.set_expected_version(reply.check().version());
  EXPECT_EQ(Call(owner, &v1::InspectionService::Stub::ConcludeAccountabilityCheck, c, &reply).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(feed_->relay().RunOnce().ok());
  EXPECT_EQ(
      Count("SELECT count(*) FROM clue.clues WHERE source_system = 'inspection' AND source_ref = '" + k.id() + "'"), 1);
  v1::GetAccountabilityCheckRequest gk;
  gk.set_check_id(k.id());
  ASSERT_TRUE(::sm::testing::PollUntil(
      [&] {
        v1::AccountabilityCheck now;
        return Call(owner, &v1::InspectionService::Stub::GetAccountabilityCheck, gk, &now).ok() &&
               now.referral().state() == v1::REFERRAL_STATE_DELIVERED;
      },
      std::chrono::seconds(20), std::chrono::milliseconds(50)));
  // A no-fault outcome on the other; it shows in the statistics.
  v1::ConcludeAccountabilityCheckRequest n;
  n.set_request_id(NewUuid());
  n.set_check_id(checks[1].id());
  n.set_expected_version(checks[1].version());
  n.set_outcome(v1::ACCOUNTABILITY_OUTCOME_NO_FAULT);
  n.set_note("已履行监督责任");
  ASSERT_TRUE(Call(owner, &v1::InspectionService::Stub::ConcludeAccountabilityCheck, n, &reply).ok());
  auto chain = store_->VerifyChain(k.id());
  ASSERT_TRUE(chain.ok());
  EXPECT_TRUE(chain->intact) << chain->problem;
  v1::GetInspectionStatsRequest sr;
  v1::InspectionStats st;
  ASSERT_TRUE(Call(oversight_, &v1::InspectionService::Stub::GetInspectionStats, sr, &st).ok());
  EXPECT_GE(st.accountability_checks(), 2);
}

}  // namespace
}  // namespace sm::inspection
