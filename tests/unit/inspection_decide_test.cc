// The decisions of one inspection walk (workflow Decide) without a database: the inspection
// stages and the checklist (marking, findings on non-conforming entries, reporting), the
// measures of the inspection regulations (who orders, who approves, limits, lifting,
// returning withheld items, overdue), rectification through the shared rules, and who sees
// or may do what (inspectors, the chief inspector, target units and units above them,
// strangers, oversight), each refusal with its code in the service's order.
#include <gtest/gtest.h>

#include "common/db/sql.h"
#include "common/event_payload.h"
#include "common/status.h"
#include "services/inspection/workflow.h"

namespace sm::inspection {
namespace {

using Code = absl::StatusCode;

const std::string kCorps = "00000000-0000-7000-8000-0000000000a1";     // the inspecting unit (督察)
const std::string kTarget = "00000000-0000-7000-8000-0000000000a2";    // an inspected branch bureau
const std::string kTarget2 = "00000000-0000-7000-8000-0000000000a3";   // the other one
const std::string kStation = "00000000-0000-7000-8000-0000000000a4";   // below kTarget
const std::string kBureau = "00000000-0000-7000-8000-0000000000a5";    // above everything
const std::string kStranger = "00000000-0000-7000-8000-0000000000a6";  // unrelated
const std::string kInspection = "00000000-0000-7000-8000-0000000000e1";
const std::string kFinding = "00000000-0000-7000-8000-0000000000f1";
const std::string kMeasure = "00000000-0000-7000-8000-0000000000b1";
const std::string kRect = "00000000-0000-7000-8000-0000000000c1";
const std::string kNewId = "00000000-0000-7000-8000-0000000000d1";
const std::string kInspector = "00000000-0000-7000-8000-000000000101";  // listed
const std::string kOtherInspector = "00000000-0000-7000-8000-000000000102";
const std::string kChief = "00000000-0000-7000-8000-000000000103";
const std::string kOfficer = "00000000-0000-7000-8000-000000000201";  // of kStation

const TimePoint kNow = FromUnixSeconds(1737684000);  // Friday 2025-01-24 10:00 Beijing time

auth::Principal Who(const std::string& user, const std::string& unit, std::string_view role) {
  return auth::Principal{user, unit, {std::string(role)}, 2};
}
const auth::Principal kListed = Who(kInspector, kCorps, auth::kRoleInspector);
const auth::Principal kUnlisted = Who(kOtherInspector, kCorps, auth::kRoleInspector);
const auth::Principal kChiefInspector = Who(kChief, kCorps, auth::kRoleChiefInspector);
const auth::Principal kTargetStaff = Who("t", kTarget, auth::kRoleStaff);
const auth::Principal kStationStaff = Who("s", kStation, auth::kRoleStaff);
const auth::Principal kBureauStaff = Who("b", kBureau, auth::kRoleStaff);
const auth::Principal kStrangerInspector = Who("x", kStranger, auth::kRoleInspector);
const auth::Principal kOversight = Who("o", kStranger, auth::kRoleOversight);

std::string Type(const Event& e) { return events::Encode(e.event)->type; }

class InspectionDecideTest : public ::testing::Test {
 protected:
  InspectionDecideTest() {
    rules_.now = kNow;
    rules_.calendar = &calendar_;
    v1::Inspection& in = inspection_.doc;
    in.set_id(kInspection);
    in.set_number("DC-2025-0003");
    in.set_kind(v1::INSPECTION_KIND_POLITICAL);
    in.set_inspection_unit_id(kCorps);
    in.add_target_unit_ids(kTarget);
    in.add_target_unit_ids(kTarget2);
    in.add_inspector_ids(kInspector);
    in.set_state(v1::INSPECTION_STATE_IN_PROGRESS);
    in.set_version(3);
    v1::ChecklistTemplate t;
    auto* a = t.add_aspects();
    a->set_code("A1");
    a->set_title("政治建设");
    auto* i1 = a->add_items();
    i1->set_code("A1-01");
    i1->set_text("第一议题制度落实");
    auto* i2 = a->add_items();
    i2->set_code("A1-02");
    i2->set_text("民主生活会");
    for (auto& e : ChecklistOf(t, in.target_unit_ids())) *in.add_checklist() = e;
    Summarize(in);
    inspection_.chain_len = 2;
    inspection_.chain_head = "head";
    // Where units sit.
    facts_.ancestry = {{kTarget, {kBureau}}, {kTarget2, {kBureau}}, {kStation, {kBureau, kTarget}}};
    facts_.new_id = kNewId;
  }

  Current WithInspection() const {
    Current c;
    c.now_us = ToUnixMicros(kNow);
    c.inspection = inspection_;
    return c;
  }
  absl::StatusOr<Change> Run(const StepRequest& r, const auth::Principal& p, const Current& c) const {
    return Decide(c, p, r, facts_, rules_);
  }
  void Mark(const std::string& item, const std::string& unit, v1::ItemMark mark) {
    for (auto& e : *inspection_.doc.mutable_checklist()) {
      if (e.item_code() == item && e.target_unit_id() == unit) e.set_mark(mark);
    }
    Summarize(inspection_.doc);
  }
  static v1::MarkItemRequest MarkRequest(const std::string& item, const std::string& unit, v1::ItemMark mark) {
    v1::MarkItemRequest r;
    r.set_request_id("r");
    r.set_inspection_id(kInspection);
    r.set_item_code(item);
    r.set_target_unit_id(unit);
    r.set_mark(mark);
    r.set_note("working note");
    return r;
  }
  static v1::AddInspectionFindingRequest FindingRequest(const std::string& item, const std::string& unit) {
    v1::AddInspectionFindingRequest r;
    r.set_request_id("r");
    r.set_inspection_id(kInspection);
    r.set_item_code(item);
    r.set_subject_unit_id(unit);
    r.set_title("未落实第一议题");
    r.set_category(v1::INSPECTION_FINDING_CATEGORY_POLITICAL);
    r.set_severity(v1::SEVERITY_MEDIUM);
    return r;
  }
  Current WithMeasure(v1::MeasureKind kind, v1::MeasureState state) const {
    Current c = WithInspection();
    v1::Measure& m = c.measure.emplace().doc;
    m.set_id(kMeasure);
    m.set_inspection_id(kInspection);
    m.set_kind(kind);
    m.set_person_id(kOfficer);
    m.set_unit_id(kStation);
    m.set_days(kind == v1::MEASURE_KIND_CONFINEMENT ? 5 : 0);
    m.set_state(state);
    m.set_version(2);
    return c;
  }

  Stored<v1::Inspection> inspection_;
  StepFacts facts_;
  Rules rules_;
  workdays::Calendar calendar_;
};

// ---- who sees an inspection ----

TEST_F(InspectionDecideTest, ViewsOfAnInspection) {
  const v1::Inspection& in = inspection_.doc;
  EXPECT_EQ(InspectionView(kListed, in, facts_.ancestry), View::kFull);
  EXPECT_EQ(InspectionView(kUnlisted, in, facts_.ancestry), View::kFull);
  EXPECT_EQ(InspectionView(kOversight, in, facts_.ancestry), View::kFull);
  EXPECT_EQ(InspectionView(kTargetStaff, in, facts_.ancestry), View::kNoNotes);
  EXPECT_EQ(InspectionView(kBureauStaff, in, facts_.ancestry), View::kNoNotes);  // above a target
  EXPECT_EQ(InspectionView(kStationStaff, in, facts_.ancestry), View::kNone);    // below a target
  EXPECT_EQ(InspectionView(kStrangerInspector, in, facts_.ancestry), View::kNone);
  v1::Inspection copy = in;
  copy.mutable_checklist(0)->set_note("secret");
  RemoveNotes(copy);
  for (const auto& e : copy.checklist()) EXPECT_TRUE(e.note().empty());
}

// ---- the checklist ----

TEST_F(InspectionDecideTest, MarkingIsTheListedInspectorsInProgressOnly) {
  const auto req = MarkRequest("A1-01", kTarget, v1::ITEM_MARK_NON_CONFORMING);
  auto ok = Run(req, kListed, WithInspection());
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->inspection_row, Change::Row::kUpdate);
  EXPECT_EQ(ok->inspection->doc.version(), 4);
  EXPECT_EQ(ok->inspection->doc.summary().non_conforming(), 1);
  EXPECT_EQ(ok->inspection->doc.summary().non_conforming_without_finding(), 1);
  ASSERT_EQ(ok->events.size(), 1u);
  EXPECT_EQ(Type(ok->events[0]), "item_marked");
  EXPECT_EQ(events::Encode(ok->events[0].event)->json.find("working note"), std::string::npos)
      << "the working note stays out of the event";
  // The chief inspector of the unit may too; an unlisted inspector may not.
  EXPECT_TRUE(Run(req, kChiefInspector, WithInspection()).ok());
  EXPECT_EQ(Run(req, kUnlisted, WithInspection()).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(Run(req, kTargetStaff, WithInspection()).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(Run(req, kStrangerInspector, WithInspection()).status().code(), Code::kNotFound);
  // Not a target; not an item of the checklist.
  auto other = MarkRequest("A1-01", kStranger, v1::ITEM_MARK_CONFORMING);
  EXPECT_EQ(Run(other, kListed, WithInspection()).status(),
            InvalidField("target_unit_id", "is not a target unit of this inspection"));
  auto unknown = MarkRequest("Z9", kTarget, v1::ITEM_MARK_CONFORMING);
  EXPECT_EQ(FieldViolations(Run(unknown, kListed, WithInspection()).status()).at(0).field, "item_code");
  // Every state but IN_PROGRESS refuses, naming the state.
  for (auto s : {v1::INSPECTION_STATE_PLANNED, v1::INSPECTION_STATE_REPORTED, v1::INSPECTION_STATE_CLOSED}) {
    inspection_.doc.set_state(s);
    auto got = Run(req, kListed, WithInspection());
    EXPECT_EQ(got.status().code(), Code::kFailedPrecondition) << v1::InspectionState_Name(s);
    EXPECT_NE(got.status().message().find(v1::InspectionState_Name(s).substr(17)), std::string::npos) << got.status();
  }
}

TEST_F(InspectionDecideTest, AFindingNeedsANonConformingEntryAndLinksToIt) {
  auto req = FindingRequest("A1-01", kTarget);
  EXPECT_EQ(Run(req, kListed, WithInspection()).status().code(), Code::kFailedPrecondition);  // unmarked
  Mark("A1-01", kTarget, v1::ITEM_MARK_CONFORMING);
  EXPECT_EQ(Run(req, kListed, WithInspection()).status().code(), Code::kFailedPrecondition);
  Mark("A1-01", kTarget, v1::ITEM_MARK_NON_CONFORMING);
  Current c = WithInspection();
  c.finding_ordinal = 2;
  auto got = Run(req, kListed, c);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->finding_row, Change::Row::kInsert);
  EXPECT_EQ(got->finding->finding.doc.number(), "DC-2025-0003-02");
  EXPECT_EQ(got->finding->finding.doc.id(), kNewId);
  EXPECT_EQ(got->inspection->doc.summary().non_conforming_without_finding(), 0);
  ASSERT_EQ(got->events.size(), 2u);  // on the finding's chain and the inspection's
  EXPECT_EQ(got->events[0].aggregate_id, kNewId);
  EXPECT_EQ(got->events[1].aggregate_id, kInspection);
  // The subject must be a target unit; a person must be known to the directory.
  EXPECT_EQ(Run(FindingRequest("A1-01", kStranger), kListed, c).status(),
            InvalidField("subject_unit_id", "is not a target unit of this inspection"));
  req.set_subject_person_id(kOfficer);
  EXPECT_EQ(Run(req, kListed, c).status(), InvalidField("subject_person_id", "no such active person"));
  // A non-conforming entry with a finding cannot be re-marked conforming.
  Current after = c;
  after.inspection = *got->inspection;
  EXPECT_EQ(Run(MarkRequest("A1-01", kTarget, v1::ITEM_MARK_CONFORMING), kListed, after).status().code(),
            Code::kFailedPrecondition);
}

TEST_F(InspectionDecideTest, ReportingNeedsEveryEntryMarkedAndEveryNonConformingOneFound) {
  v1::AdvanceInspectionRequest req;
  req.set_request_id("r");
  req.set_inspection_id(kInspection);
  req.set_to(v1::INSPECTION_STATE_REPORTED);
  req.set_report("报告");
  auto got = Run(req, kListed, WithInspection());
  EXPECT_EQ(got.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(got.status().message().find("4 checklist entries unmarked"), std::string::npos) << got.status();
  for (const auto& unit : {kTarget, kTarget2}) {
    Mark("A1-01", unit, v1::ITEM_MARK_CONFORMING);
    Mark("A1-02", unit, v1::ITEM_MARK_NOT_APPLICABLE);
  }
  Mark("A1-02", kTarget2, v1::ITEM_MARK_NON_CONFORMING);
  got = Run(req, kListed, WithInspection());
  EXPECT_NE(got.status().message().find("1 non-conforming entries have no finding"), std::string::npos) << got.status();
  for (auto& e : *inspection_.doc.mutable_checklist()) {
    if (e.mark() == v1::ITEM_MARK_NON_CONFORMING) e.add_finding_ids(kFinding);
  }
  Summarize(inspection_.doc);
  got = Run(req, kListed, WithInspection());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->inspection->doc.state(), v1::INSPECTION_STATE_REPORTED);
  EXPECT_EQ(got->inspection->doc.report(), "报告");
  // Stale version; skipping a stage; a target unit advancing.
  req.set_expected_version(2);
  EXPECT_EQ(Run(req, kListed, WithInspection()).status().code(), Code::kAborted);
  req.set_expected_version(0);
  req.set_to(v1::INSPECTION_STATE_CLOSED);
  EXPECT_EQ(Run(req, kListed, WithInspection()).status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(Run(req, kTargetStaff, WithInspection()).status().code(), Code::kPermissionDenied);
}

// ---- measures ----

TEST_F(InspectionDecideTest, OnTheSpotMeasuresTakeEffectAtOnceTimeLimitedOnesWaitForTheChief) {
  facts_.people[kOfficer] = PersonInfo{kOfficer, "警员", kStation, true, false};
  v1::ImposeMeasureRequest req;
  req.set_request_id("r");
  req.set_inspection_id(kInspection);
  req.set_person_id(kOfficer);
  req.set_basis("《公安机关督察条例》");
  req.set_reason("r");
  const std::map<v1::MeasureKind, v1::MeasureState> expected = {
      {v1::MEASURE_KIND_CORRECTION, v1::MEASURE_STATE_ENDED},
      {v1::MEASURE_KIND_WITHHOLD, v1::MEASURE_STATE_IN_FORCE},
      {v1::MEASURE_KIND_REMOVAL, v1::MEASURE_STATE_IN_FORCE},
      {v1::MEASURE_KIND_SUSPENSION, v1::MEASURE_STATE_PENDING_APPROVAL},
      {v1::MEASURE_KIND_CONFINEMENT, v1::MEASURE_STATE_PENDING_APPROVAL}};
  for (const auto& [kind, state] : expected) {
    req.set_kind(kind);
    auto got = Run(req, kListed, WithInspection());
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->measure->doc.state(), state) << v1::MeasureKind_Name(kind);
    EXPECT_EQ(got->measure->doc.unit_id(), kStation);
    EXPECT_EQ(got->measure->doc.ordered_by(), kInspector);
    EXPECT_EQ(Type(got->events[0]), "measure_imposed");
  }
  EXPECT_EQ(Run(req, kUnlisted, WithInspection()).status().code(), Code::kPermissionDenied);
  req.set_person_id(kStranger);
  EXPECT_EQ(Run(req, kListed, WithInspection()).status(), InvalidField("person_id", "no such active person"));
  req.set_person_id(kOfficer);
  req.set_finding_id(kFinding);
  EXPECT_EQ(Run(req, kListed, WithInspection()).status(),
            InvalidField("finding_id", "is not a finding of this inspection"));
  req.clear_finding_id();
  inspection_.doc.set_state(v1::INSPECTION_STATE_REPORTED);
  EXPECT_EQ(Run(req, kListed, WithInspection()).status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(DaysAllowed(v1::MEASURE_KIND_SUSPENSION)->min, 10);
  EXPECT_EQ(DaysAllowed(v1::MEASURE_KIND_SUSPENSION)->max, 60);
  EXPECT_EQ(DaysAllowed(v1::MEASURE_KIND_CONFINEMENT)->min, 1);
  EXPECT_EQ(DaysAllowed(v1::MEASURE_KIND_CONFINEMENT)->max, 7);
  EXPECT_FALSE(DaysAllowed(v1::MEASURE_KIND_WITHHOLD));
}

TEST_F(InspectionDecideTest, OnlyTheChiefInspectorOfTheInspectingUnitApproves) {
  v1::ApproveMeasureRequest req;
  req.set_request_id("r");
  req.set_measure_id(kMeasure);
  req.set_approve(true);
  const Current c = WithMeasure(v1::MEASURE_KIND_CONFINEMENT, v1::MEASURE_STATE_PENDING_APPROVAL);
  for (const auto* p : {&kListed, &kUnlisted, &kOversight}) {
    EXPECT_EQ(Run(req, *p, c).status().code(), Code::kPermissionDenied) << p->user;
  }
  EXPECT_EQ(Run(req, kStrangerInspector, c).status().code(), Code::kNotFound);
  EXPECT_EQ(Run(req, Who(kChief, kStranger, auth::kRoleChiefInspector), c).status().code(), Code::kNotFound)
      << "a chief inspector of another level sees nothing";
  auto got = Run(req, kChiefInspector, c);
  ASSERT_TRUE(got.ok()) << got.status();
  const v1::Measure& m = got->measure->doc;
  EXPECT_EQ(m.state(), v1::MEASURE_STATE_IN_FORCE);
  EXPECT_EQ(m.approved_by(), kChief);
  EXPECT_EQ(db::Micros(m.ends_at()) - db::Micros(m.starts_at()), int64_t{5} * 24 * 3600 * 1000000);
  EXPECT_EQ(Type(got->events[0]), "measure_approved");
  req.set_approve(false);
  got = Run(req, kChiefInspector, c);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->measure->doc.state(), v1::MEASURE_STATE_REFUSED);
  EXPECT_EQ(Type(got->events[0]), "measure_refused");
  // Only once, and only when pending.
  EXPECT_EQ(
      Run(req, kChiefInspector, WithMeasure(v1::MEASURE_KIND_CONFINEMENT, v1::MEASURE_STATE_IN_FORCE)).status().code(),
      Code::kFailedPrecondition);
  req.set_expected_version(1);
  EXPECT_EQ(Run(req, kChiefInspector, c).status().code(), Code::kAborted);
}

TEST_F(InspectionDecideTest, LiftingReturningAndOverdue) {
  v1::LiftMeasureRequest lift;
  lift.set_request_id("r");
  lift.set_measure_id(kMeasure);
  lift.set_reason("期满");
  Current c = WithMeasure(v1::MEASURE_KIND_CONFINEMENT, v1::MEASURE_STATE_IN_FORCE);
  *c.measure->doc.mutable_ends_at() = db::TimestampOf(kNow - std::chrono::hours(1));
  EXPECT_TRUE(IsOverdue(c.measure->doc, kNow));
  EXPECT_FALSE(IsOverdue(c.measure->doc, kNow - std::chrono::hours(2)));
  EXPECT_EQ(Run(lift, kTargetStaff, c).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(Run(lift, kStationStaff, c).status().code(), Code::kPermissionDenied);  // the officer's unit sees it
  EXPECT_EQ(Run(lift, Who("y", kTarget2, auth::kRoleStaff), c).status().code(), Code::kNotFound);
  auto got = Run(lift, kUnlisted, c);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->measure->doc.state(), v1::MEASURE_STATE_ENDED);
  EXPECT_FALSE(IsOverdue(got->measure->doc, kNow));
  EXPECT_TRUE(got->events[0].event.measure_lifted().overdue());
  EXPECT_EQ(
      Run(lift, kListed, WithMeasure(v1::MEASURE_KIND_CONFINEMENT, v1::MEASURE_STATE_PENDING_APPROVAL)).status().code(),
      Code::kFailedPrecondition);

  // A withholding ends when every item is back, one return at a time.
  facts_.people[kOfficer] = PersonInfo{kOfficer, "警员", kStation, true, false};
  Current w = WithMeasure(v1::MEASURE_KIND_WITHHOLD, v1::MEASURE_STATE_IN_FORCE);
  for (auto kind : {v1::WITHHELD_KIND_VEHICLE, v1::WITHHELD_KIND_INSIGNIA})
    w.measure->doc.add_withheld()->set_kind(kind);
  EXPECT_EQ(Run(lift, kListed, w).status().code(), Code::kFailedPrecondition);
  v1::ReturnWithheldRequest ret;
  ret.set_request_id("r");
  ret.set_measure_id(kMeasure);
  ret.set_returned_to(kOfficer);
  ret.add_items(1);
  got = Run(ret, kListed, w);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->measure->doc.state(), v1::MEASURE_STATE_IN_FORCE);
  EXPECT_TRUE(got->measure->doc.withheld(1).returned());
  w.measure = *got->measure;
  EXPECT_EQ(Run(ret, kListed, w).status().code(), Code::kFailedPrecondition);  // returned already
  ret.set_items(0, 2);
  EXPECT_EQ(Run(ret, kListed, w).status(), InvalidField("items[0]", "no such withheld item"));
  ret.set_items(0, 0);
  got = Run(ret, kListed, w);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->measure->doc.state(), v1::MEASURE_STATE_ENDED);
  EXPECT_TRUE(got->events[0].event.withheld_returned().all_returned());
  // Returning is for withholdings only.
  EXPECT_EQ(Run(ret, kListed, c).status(), InvalidField("measure_id", "is not a withholding (扣留)"));
}

// ---- rectification through the shared rules ----

TEST_F(InspectionDecideTest, RectificationIsReviewedByTheInspectingUnitAndOwnedByTheSubject) {
  Current c = WithInspection();
  StoredFinding& f = c.finding.emplace();
  f.finding.doc.set_id(kFinding);
  f.finding.doc.set_inspection_id(kInspection);
  f.finding.doc.set_subject_unit_id(kTarget);
  f.finding.doc.set_version(1);
  facts_.units[kTarget] = UnitInfo{kTarget, "分局", "BRANCH_BUREAU", true, {kBureau}};
  v1::AddRectificationRequest add;
  add.set_request_id("r");
  add.set_finding_id(kFinding);
  add.set_measure("整改措施");
  EXPECT_EQ(Run(add, kTargetStaff, c).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(Run(add, kStrangerInspector, c).status().code(), Code::kNotFound);
  auto got = Run(add, kUnlisted, c);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->finding->rectifications.size(), 1u);
  const v1::Rectification x = got->finding->rectifications[0].rectification;
  EXPECT_EQ(x.owner_unit_id(), kTarget);
  EXPECT_EQ(got->finding->finding.doc.rectifications_open(), 1);
  EXPECT_EQ(Type(got->events[0]), "rectification_added");
  EXPECT_EQ(got->events[0].aggregate_id, kFinding);

  c.finding = *got->finding;
  v1::SubmitRectificationRequest submit;
  submit.set_request_id("r");
  submit.set_rectification_id(x.id());
  submit.set_summary("已整改");
  // The reviewing unit may not submit, whatever the version: PERMISSION_DENIED first.
  submit.set_expected_version(9);
  EXPECT_EQ(Run(submit, kListed, c).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(Run(submit, kTargetStaff, c).status().code(), Code::kAborted);
  submit.set_expected_version(1);
  got = Run(submit, kTargetStaff, c);
  ASSERT_TRUE(got.ok()) << got.status();
  c.finding = *got->finding;
  v1::ReviewRectificationRequest review;
  review.set_request_id("r");
  review.set_rectification_id(x.id());
  review.set_approve(true);
  EXPECT_EQ(Run(review, kTargetStaff, c).status().code(), Code::kPermissionDenied);
  got = Run(review, kListed, c);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->finding->finding.doc.rectifications_signed_off(), 1);
  EXPECT_EQ(Type(got->events[0]), "rectification_signed_off");
}

}  // namespace
}  // namespace sm::inspection
