// The decisions of one audit walk (workflow Decide and the referral and overdue changes)
// without a database: every step over every state of its item and every party that stands
// differently to it, against explicit tables of who may act and which states allow what;
// then what each step writes (rows, events, outbox command) and each refusal with its code,
// in the order the service gives them (unseen, forbidden, bad facts, stale, state).
#include <gtest/gtest.h>

#include <map>

#include "common/db/sql.h"
#include "common/event_payload.h"
#include "common/status.h"
#include "services/audit/workflow.h"

namespace sm::audit {
namespace {

using Code = absl::StatusCode;

// An event as stored: its type and its data (events.proto, common/event_payload.h).
std::string Type(const Event& e) { return events::Encode(e.event)->type; }
nlohmann::json Data(const Event& e) { return nlohmann::json::parse(events::Encode(e.event)->json); }
using S = v1::RectificationState;

const std::string kAuditUnit = "00000000-0000-7000-8000-0000000000a1";
const std::string kAudited = "00000000-0000-7000-8000-0000000000a2";   // audited and responsible unit
const std::string kOwner = "00000000-0000-7000-8000-0000000000a3";     // owns the rectification
const std::string kReferred = "00000000-0000-7000-8000-0000000000a4";  // the discipline unit referred to
const std::string kParent = "00000000-0000-7000-8000-0000000000a5";    // above the audited and owner units
const std::string kStranger = "00000000-0000-7000-8000-0000000000a6";
const std::string kEngagement = "00000000-0000-7000-8000-0000000000e1";
const std::string kFinding = "00000000-0000-7000-8000-0000000000f1";
const std::string kRect = "00000000-0000-7000-8000-0000000000c1";
const std::string kNewId = "00000000-0000-7000-8000-0000000000d1";

// Friday 2025-01-24 10:00 Beijing time (calendar without holiday files: Monday to Friday).
const TimePoint kNow = FromUnixSeconds(1737684000);

// The parties that stand differently to an item of the audit.
enum class Who {
  kAuditor,
  kOwnerStaff,
  kAuditedStaff,
  kReferredDiscipline,
  kOtherAuditor,
  kStranger,
  kParentStaff,
  kOversight
};
constexpr Who kEveryone[] = {Who::kAuditor,      Who::kOwnerStaff, Who::kAuditedStaff, Who::kReferredDiscipline,
                             Who::kOtherAuditor, Who::kStranger,   Who::kParentStaff,  Who::kOversight};
const char* NameOf(Who w) {
  static const char* kNames[] = {"auditor",       "owner staff", "audited staff", "referred discipline",
                                 "other auditor", "stranger",    "parent staff",  "oversight"};
  return kNames[static_cast<int>(w)];
}
auth::Principal Principal(Who w) {
  auto p = [](std::string unit, std::string_view role) {
    return auth::Principal{"user-" + std::string(role), std::move(unit), {std::string(role)}, 2};
  };
  switch (w) {
    case Who::kAuditor: return p(kAuditUnit, auth::kRoleAuditor);
    case Who::kOwnerStaff: return p(kOwner, auth::kRoleStaff);
    case Who::kAuditedStaff: return p(kAudited, auth::kRoleStaff);
    case Who::kReferredDiscipline: return p(kReferred, auth::kRoleDiscipline);
    case Who::kOtherAuditor: return p(kStranger, auth::kRoleAuditor);
    case Who::kStranger: return p(kStranger, auth::kRoleStaff);
    case Who::kParentStaff: return p(kParent, auth::kRoleStaff);
    case Who::kOversight: return p(kParent, auth::kRoleOversight);
  }
  return {};
}

class AuditDecideTest : public ::testing::Test {
 protected:
  AuditDecideTest() {
    rules_.now = kNow;
    rules_.calendar = &calendar_;
    rules_.policy = Policy{30, 50, 90};
    v1::Engagement& e = engagement_.engagement;
    e.set_id(kEngagement);
    e.set_number("SJ-2025-0007");
    e.set_audit_unit_id(kAuditUnit);
    e.set_audited_unit_id(kAudited);
    e.set_state(v1::ENGAGEMENT_STATE_FIELDWORK);
    e.set_version(4);
    engagement_.chain_len = 3;
    engagement_.chain_head = "engagement-head";
    v1::Finding& f = finding_.finding;
    f.set_id(kFinding);
    f.set_engagement_id(kEngagement);
    f.set_title("挪用专项资金");
    f.set_description("described");
    f.set_responsible_unit_id(kAudited);
    f.set_severity(v1::SEVERITY_HIGH);
    f.set_version(5);
    f.mutable_referral();
    finding_.chain_len = 6;
    finding_.chain_head = "finding-head";
    StoredRectification x;
    x.rectification.set_id(kRect);
    x.rectification.set_finding_id(kFinding);
    x.rectification.set_owner_unit_id(kOwner);
    x.rectification.set_state(v1::RECTIFICATION_STATE_OPEN);
    x.rectification.set_version(2);
    *x.rectification.mutable_deadline_at() = db::TimestampOf(kNow + std::chrono::hours(24 * 30));
    x.created_us = 1700000000000000;
    finding_.rectifications.push_back(x);
    finding_.Count();
    // The parent unit stands above the audited and owner units.
    facts_.ancestry = {{kAudited, {kParent}}, {kOwner, {kParent}}};
  }

  Current OfEngagement() const {
    Current c;
    c.engagement = engagement_;
    c.now_us = 1737684000000000;
    c.finding_ordinal = 3;
    return c;
  }
  Current OfFinding() const {
    Current c = OfEngagement();
    c.finding = finding_;
    return c;
  }
  void Refer(v1::ReferralState state) {
    finding_.finding.mutable_referral()->set_state(state);
    finding_.finding.mutable_referral()->set_to_unit_id(kReferred);
  }
  v1::Rectification& Rect() { return finding_.rectifications[0].rectification; }

  absl::StatusOr<Change> Run(const StepRequest& r, Who who, const Current& c) const {
    return Decide(c, Principal(who), r, facts_, rules_);
  }
  template <typename Req>
  static Req Request(int64_t version = 0) {
    Req r;
    r.set_request_id("r1");
    if constexpr (requires { r.set_expected_version(version); }) r.set_expected_version(version);
    return r;
  }

  workdays::Calendar calendar_;
  Rules rules_;
  StoredEngagement engagement_;
  StoredFinding finding_;
  StepFacts facts_;
};

// What the access table lets each party do on a step of the audit work (AdvanceEngagement,
// AddFinding, ReferFinding, RetryReferral, AddRectification, ReviewRectification,
// ReopenRectification) and of the owner's (RecordProgress, SubmitRectification): OK, or the
// code of the refusal. The referred discipline unit sees a finding only once it is referred;
// the owner unit of a rectification sees its finding, not the engagement.
Code AuditWork(Who w, bool referred, bool engagement = false) {
  switch (w) {
    case Who::kAuditor: return Code::kOk;
    case Who::kAuditedStaff: return Code::kPermissionDenied;
    case Who::kOwnerStaff: return engagement ? Code::kNotFound : Code::kPermissionDenied;
    case Who::kReferredDiscipline: return referred ? Code::kPermissionDenied : Code::kNotFound;
    case Who::kOversight: return Code::kPermissionDenied;  // granted no step at all
    default: return Code::kNotFound;
  }
}
Code OwnerWork(Who w, bool referred) {
  switch (w) {
    case Who::kOwnerStaff: return Code::kOk;
    case Who::kAuditor:
    case Who::kAuditedStaff: return Code::kPermissionDenied;
    case Who::kReferredDiscipline: return referred ? Code::kPermissionDenied : Code::kNotFound;
    case Who::kOversight: return Code::kPermissionDenied;
    default: return Code::kNotFound;
  }
}

// ---- rectification steps: every (state, step, party, referral) ----

TEST_F(AuditDecideTest, EveryRectificationStepStateAndParty) {
  const std::map<std::pair<S, RectAction>, S> legal = {
      {{S::RECTIFICATION_STATE_OPEN, RectAction::kProgress}, S::RECTIFICATION_STATE_OPEN},
      {{S::RECTIFICATION_STATE_OPEN, RectAction::kSubmit}, S::RECTIFICATION_STATE_SUBMITTED},
      {{S::RECTIFICATION_STATE_SUBMITTED, RectAction::kApprove}, S::RECTIFICATION_STATE_SIGNED_OFF},
      {{S::RECTIFICATION_STATE_SUBMITTED, RectAction::kReject}, S::RECTIFICATION_STATE_OPEN},
      {{S::RECTIFICATION_STATE_SIGNED_OFF, RectAction::kReopen}, S::RECTIFICATION_STATE_OPEN},
  };
  auto request = [](RectAction a) -> StepRequest {
    switch (a) {
      case RectAction::kProgress: {
        auto r = Request<v1::RecordProgressRequest>();
        r.set_rectification_id(kRect);
        r.set_note("half done");
        r.add_evidence_refs("photo-1");
        return r;
      }
      case RectAction::kSubmit: {
        auto r = Request<v1::SubmitRectificationRequest>(2);
        r.set_rectification_id(kRect);
        r.set_summary("done");
        return r;
      }
      case RectAction::kApprove:
      case RectAction::kReject: {
        auto r = Request<v1::ReviewRectificationRequest>(2);
        r.set_rectification_id(kRect);
        r.set_approve(a == RectAction::kApprove);
        r.set_reason("checked");
        return r;
      }
      case RectAction::kReopen: {
        auto r = Request<v1::ReopenRectificationRequest>(2);
        r.set_rectification_id(kRect);
        r.set_reason("came back");
        return r;
      }
    }
    return {};
  };
  int checked = 0, allowed = 0;
  for (bool referred : {false, true}) {
    Refer(referred ? v1::REFERRAL_STATE_DELIVERED : v1::REFERRAL_STATE_UNSPECIFIED);
    for (S state : {S::RECTIFICATION_STATE_OPEN, S::RECTIFICATION_STATE_SUBMITTED, S::RECTIFICATION_STATE_SIGNED_OFF}) {
      Rect().set_state(state);
      for (RectAction action : rectification::kAllActions) {
        const bool owners = action == RectAction::kProgress || action == RectAction::kSubmit;
        for (Who who : kEveryone) {
          ++checked;
          const std::string where = std::string(RectificationStateName(state)) + " / " +
                                    std::string(RectActionName(action)) + " / " + NameOf(who) +
                                    (referred ? " / referred" : "");
          auto got = Run(request(action), who, OfFinding());
          const Code may = owners ? OwnerWork(who, referred) : AuditWork(who, referred);
          auto it = legal.find({state, action});
          if (may != Code::kOk) {
            EXPECT_EQ(got.status().code(), may) << where << ": " << got.status();
          } else if (it == legal.end()) {
            ASSERT_FALSE(got.ok()) << where;
            EXPECT_EQ(got.status().code(), Code::kFailedPrecondition) << where;
            EXPECT_NE(std::string(got.status().message()).find(RectificationStateName(state)), std::string::npos)
                << where << ": " << got.status();
          } else {
            ASSERT_TRUE(got.ok()) << where << ": " << got.status();
            ++allowed;
            const StoredRectification* x = got->finding->Find(kRect);
            ASSERT_NE(x, nullptr);
            EXPECT_EQ(x->rectification.state(), it->second) << where;
            EXPECT_EQ(x->rectification.version(), 3) << where;
            EXPECT_EQ(x->created_us, 1700000000000000) << where;  // kept for the digest
            EXPECT_EQ(got->rectification_row, Change::Row::kUpdate);
            EXPECT_EQ(got->finding_row, Change::Row::kNone);  // only its chain moves
            EXPECT_EQ(got->finding->finding.version(), 5);
            ASSERT_EQ(got->events.size(), 1u);
            EXPECT_EQ(got->events[0].aggregate_id, kFinding);
            EXPECT_EQ(Data(got->events[0])["rectification_id"], kRect);
            EXPECT_FALSE(got->command);
          }
        }
      }
    }
  }
  EXPECT_EQ(checked, 2 * 3 * 5 * static_cast<int>(std::size(kEveryone)));
  EXPECT_EQ(allowed, 2 * static_cast<int>(legal.size()));
}

TEST_F(AuditDecideTest, AStaleRectificationVersionIsRefusedAfterAccessAndBeforeTheState) {
  auto r = Request<v1::SubmitRectificationRequest>(1);
  r.set_rectification_id(kRect);
  EXPECT_EQ(Run(r, Who::kStranger, OfFinding()).status().code(), Code::kNotFound);
  EXPECT_EQ(Run(r, Who::kAuditor, OfFinding()).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(Run(r, Who::kOwnerStaff, OfFinding()).status(), absl::AbortedError("rectification changed: version is 2"));
  Rect().set_state(S::RECTIFICATION_STATE_SIGNED_OFF);
  EXPECT_EQ(Run(r, Who::kOwnerStaff, OfFinding()).status().code(), Code::kAborted);
  r.set_expected_version(2);
  EXPECT_EQ(Run(r, Who::kOwnerStaff, OfFinding()).status().code(), Code::kFailedPrecondition);
}

TEST_F(AuditDecideTest, ProgressAndSubmitKeepTheNoteAndSayItInTheEvent) {
  auto p = Request<v1::RecordProgressRequest>();
  p.set_rectification_id(kRect);
  p.set_note("half done");
  p.add_evidence_refs("photo-1");
  auto ch = Run(p, Who::kOwnerStaff, OfFinding());
  ASSERT_TRUE(ch.ok()) << ch.status();
  EXPECT_EQ(ch->finding->Find(kRect)->rectification.last_note(), "half done");
  EXPECT_EQ(Type(ch->events[0]), "rectification_progress");
  EXPECT_EQ(Data(ch->events[0])["note"], "half done");
  EXPECT_EQ(Data(ch->events[0])["evidence_refs"], nlohmann::json::array({"photo-1"}));
  auto s = Request<v1::SubmitRectificationRequest>(2);
  s.set_rectification_id(kRect);
  s.set_summary("all done");
  ch = Run(s, Who::kOwnerStaff, OfFinding());
  ASSERT_TRUE(ch.ok()) << ch.status();
  EXPECT_EQ(Type(ch->events[0]), "rectification_submitted");
  EXPECT_EQ(Data(ch->events[0])["from"], "RECTIFICATION_STATE_OPEN");
  EXPECT_EQ(Data(ch->events[0])["to"], "RECTIFICATION_STATE_SUBMITTED");
  EXPECT_EQ(Data(ch->events[0])["summary"], "all done");
  EXPECT_EQ(ch->finding->finding.rectifications_open(), 1);
}

TEST_F(AuditDecideTest, SignOffDrawsTheSpotCheckOpensTheLookBackAndClearsOverdue) {
  Rect().set_state(S::RECTIFICATION_STATE_SUBMITTED);
  Rect().set_overdue(true);
  auto r = Request<v1::ReviewRectificationRequest>(2);
  r.set_rectification_id(kRect);
  r.set_approve(true);
  auto ch = Run(r, Who::kAuditor, OfFinding());
  ASSERT_TRUE(ch.ok()) << ch.status();
  const v1::Rectification& x = ch->finding->Find(kRect)->rectification;
  EXPECT_EQ(x.state(), S::RECTIFICATION_STATE_SIGNED_OFF);
  EXPECT_EQ(x.signed_off_at().seconds(), ToUnixSeconds(kNow));
  EXPECT_EQ(x.lookback_until().seconds(), ToUnixSeconds(kNow) + 90 * 86400);
  EXPECT_EQ(x.spot_check(), SpotCheck(kRect, 50));
  EXPECT_FALSE(x.overdue());
  EXPECT_EQ(Type(ch->events[0]), "rectification_signed_off");
  EXPECT_EQ(Data(ch->events[0])["spot_check"], x.spot_check());
  EXPECT_EQ(ch->finding->finding.rectifications_signed_off(), 1);
  EXPECT_EQ(ch->finding->finding.rectifications_open(), 0);
  // A rejection sends it back with the reason as its note.
  r.set_approve(false);
  r.set_reason("photos missing");
  ch = Run(r, Who::kAuditor, OfFinding());
  ASSERT_TRUE(ch.ok()) << ch.status();
  EXPECT_EQ(ch->finding->Find(kRect)->rectification.state(), S::RECTIFICATION_STATE_OPEN);
  EXPECT_EQ(ch->finding->Find(kRect)->rectification.last_note(), "photos missing");
  EXPECT_EQ(Type(ch->events[0]), "rectification_rejected");
}

TEST_F(AuditDecideTest, ReopeningWorksWithinTheLookBackWindowOnly) {
  Rect().set_state(S::RECTIFICATION_STATE_SIGNED_OFF);
  Rect().set_spot_check(true);
  *Rect().mutable_signed_off_at() = db::TimestampOf(kNow - std::chrono::hours(24 * 10));
  *Rect().mutable_lookback_until() = db::TimestampOf(kNow + std::chrono::hours(24));
  auto r = Request<v1::ReopenRectificationRequest>(2);
  r.set_rectification_id(kRect);
  r.set_reason("the problem is back");
  auto ch = Run(r, Who::kAuditor, OfFinding());
  ASSERT_TRUE(ch.ok()) << ch.status();
  const v1::Rectification& x = ch->finding->Find(kRect)->rectification;
  EXPECT_EQ(x.state(), S::RECTIFICATION_STATE_OPEN);
  EXPECT_EQ(x.reopened(), 1);
  EXPECT_FALSE(x.has_signed_off_at());
  EXPECT_FALSE(x.has_lookback_until());
  EXPECT_FALSE(x.spot_check());
  EXPECT_EQ(x.last_note(), "the problem is back");
  EXPECT_EQ(x.deadline_at().seconds(), ToUnixSeconds(calendar_.Deadline(kNow, 30)));
  EXPECT_EQ(Type(ch->events[0]), "rectification_reopened");
  // After the window: refused, but only to those the table lets act (it says nothing to
  // others).
  *Rect().mutable_lookback_until() = db::TimestampOf(kNow - std::chrono::hours(1));
  auto closed = Run(r, Who::kAuditor, OfFinding());
  EXPECT_EQ(closed.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(std::string(closed.status().message()).find("look-back"), std::string::npos);
  EXPECT_EQ(Run(r, Who::kStranger, OfFinding()).status().code(), Code::kNotFound);
  EXPECT_EQ(Run(r, Who::kOwnerStaff, OfFinding()).status().code(), Code::kPermissionDenied);
}

TEST_F(AuditDecideTest, AddRectificationOwnsItToTheResponsibleUnitByDefault) {
  facts_.new_id = kNewId;
  facts_.unit = UnitInfo{kAudited, "unit", "DEPARTMENT", true, {}};
  auto r = Request<v1::AddRectificationRequest>();
  r.set_finding_id(kFinding);
  r.set_measure("return the funds");
  for (Who who : kEveryone) {
    auto got = Run(r, who, OfFinding());
    EXPECT_EQ(got.status().code(), AuditWork(who, false)) << NameOf(who);
  }
  auto ch = Run(r, Who::kAuditor, OfFinding());
  ASSERT_TRUE(ch.ok()) << ch.status();
  EXPECT_EQ(ch->rectification_row, Change::Row::kInsert);
  EXPECT_EQ(ch->rectification_id, kNewId);
  const StoredRectification* x = ch->finding->Find(kNewId);
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->rectification.owner_unit_id(), kAudited);
  EXPECT_EQ(x->rectification.state(), S::RECTIFICATION_STATE_OPEN);
  EXPECT_EQ(x->rectification.version(), 1);
  EXPECT_EQ(x->created_us, 1737684000000000);
  EXPECT_EQ(x->rectification.deadline_at().seconds(), ToUnixSeconds(calendar_.Deadline(kNow, 30)));
  EXPECT_EQ(ch->finding->rectifications.size(), 2u);
  EXPECT_EQ(ch->finding->finding.rectifications_open(), 2);
  EXPECT_EQ(Type(ch->events[0]), "rectification_added");
  EXPECT_EQ(Data(ch->events[0])["owner_unit_id"], kAudited);
  // Its own working days; an owner the directory does not have is refused by name.
  r.set_working_days(5);
  r.set_owner_unit_id(kOwner);
  ch = Run(r, Who::kAuditor, OfFinding());
  ASSERT_TRUE(ch.ok()) << ch.status();
  EXPECT_EQ(ch->finding->Find(kNewId)->rectification.deadline_at().seconds(),
            ToUnixSeconds(calendar_.Deadline(kNow, 5)));
  EXPECT_EQ(ch->finding->Find(kNewId)->rectification.owner_unit_id(), kOwner);
  facts_.unit.reset();
  EXPECT_EQ(Run(r, Who::kAuditor, OfFinding()).status(), InvalidField("owner_unit_id", "no such active unit"));
  facts_.unit = UnitInfo{kOwner, "unit", "DEPARTMENT", false, {}};
  EXPECT_EQ(Run(r, Who::kAuditor, OfFinding()).status(), InvalidField("owner_unit_id", "no such active unit"));
}

// ---- finding steps: every (referral state, step, party) ----

TEST_F(AuditDecideTest, EveryReferralStepReferralStateAndParty) {
  facts_.unit = UnitInfo{kReferred, "纪检组", "DISCIPLINE_GROUP", true, {}};
  auto refer = Request<v1::ReferFindingRequest>(5);
  refer.set_finding_id(kFinding);
  refer.set_to_unit_id(kReferred);
  auto retry = Request<v1::RetryReferralRequest>(5);
  retry.set_finding_id(kFinding);
  retry.set_reason("clue-service is back");
  int checked = 0, allowed = 0;
  for (int st = v1::ReferralState_MIN; st <= v1::ReferralState_MAX; ++st) {
    const auto state = static_cast<v1::ReferralState>(st);
    Refer(state);
    const bool referred = state != v1::REFERRAL_STATE_UNSPECIFIED;
    for (Who who : kEveryone) {
      for (bool is_retry : {false, true}) {
        ++checked;
        const std::string where =
            v1::ReferralState_Name(state) + " / " + (is_retry ? "retry" : "refer") + " / " + NameOf(who);
        auto got = is_retry ? Run(retry, who, OfFinding()) : Run(refer, who, OfFinding());
        const Code may = AuditWork(who, referred);
        const bool legal = is_retry ? state == v1::REFERRAL_STATE_DEAD : state == v1::REFERRAL_STATE_UNSPECIFIED;
        if (may != Code::kOk) {
          EXPECT_EQ(got.status().code(), may) << where;
        } else if (!legal) {
          EXPECT_EQ(got.status().code(), Code::kFailedPrecondition) << where;
          EXPECT_NE(std::string(got.status().message()).find(v1::ReferralState_Name(state)), std::string::npos)
              << where << ": " << got.status();
        } else {
          ASSERT_TRUE(got.ok()) << where << ": " << got.status();
          ++allowed;
          EXPECT_EQ(got->finding->finding.referral().state(), v1::REFERRAL_STATE_PENDING) << where;
          EXPECT_EQ(got->finding->finding.version(), 6) << where;
          EXPECT_EQ(got->finding_row, Change::Row::kUpdate) << where;
          ASSERT_TRUE(got->command) << where;
          EXPECT_EQ(got->command->dedupe_key, "finding:" + kFinding);
          EXPECT_EQ(got->command->retry, is_retry) << where;
        }
      }
    }
  }
  EXPECT_EQ(checked, (v1::ReferralState_MAX - v1::ReferralState_MIN + 1) * 2 * static_cast<int>(std::size(kEveryone)));
  EXPECT_EQ(allowed, 2);
}

TEST_F(AuditDecideTest, ReferralRegistersTheClueAtTheAuditUnitOfferedToTheDisciplineUnit) {
  facts_.unit = UnitInfo{kReferred, "纪检组", "DISCIPLINE_GROUP", true, {}};
  finding_.finding.set_responsible_person_id(kNewId);
  auto r = Request<v1::ReferFindingRequest>(5);
  r.set_finding_id(kFinding);
  r.set_to_unit_id(kReferred);
  r.add_categories(v1::CLUE_CATEGORY_INTEGRITY);
  auto ch = Run(r, Who::kAuditor, OfFinding());
  ASSERT_TRUE(ch.ok()) << ch.status();
  EXPECT_EQ(ch->command->kind, "clue.register");
  v1::RegisterClueRequest clue;
  ASSERT_TRUE(clue.ParseFromString(ch->command->payload));
  EXPECT_EQ(clue.request_id(), "audit-referral-" + kFinding);
  EXPECT_EQ(clue.origin_unit_id(), kAuditUnit);
  EXPECT_EQ(clue.offer_to_unit_id(), kReferred);
  EXPECT_EQ(clue.source_system(), "audit");
  EXPECT_EQ(clue.source_ref(), kFinding);
  ASSERT_EQ(clue.subjects_size(), 1);
  EXPECT_EQ(clue.subjects(0).person_id(), kNewId);
  EXPECT_EQ(clue.summary(), "审计移送：挪用专项资金");
  EXPECT_EQ(clue.details(), "described");
  EXPECT_EQ(Type(ch->events[0]), "referred");
  EXPECT_EQ(Data(ch->events[0])["to_unit_id"], kReferred);
  EXPECT_EQ(ch->finding->finding.referral().to_unit_id(), kReferred);
  // Refusals in order: the unit (named), then its kind, then the version.
  r.set_expected_version(4);
  facts_.unit.reset();
  EXPECT_EQ(Run(r, Who::kAuditor, OfFinding()).status(), InvalidField("to_unit_id", "no such active unit"));
  facts_.unit = UnitInfo{kReferred, "财务处", "DEPARTMENT", true, {}};
  EXPECT_EQ(Run(r, Who::kAuditor, OfFinding()).status().code(), Code::kInvalidArgument);
  facts_.unit = UnitInfo{kReferred, "纪检组", "DISCIPLINE_GROUP", true, {}};
  EXPECT_EQ(Run(r, Who::kAuditor, OfFinding()).status(), absl::AbortedError("finding changed: version is 5"));
}

TEST_F(AuditDecideTest, RetryKeepsTheLastErrorInItsEventAndClearsIt) {
  Refer(v1::REFERRAL_STATE_DEAD);
  finding_.finding.mutable_referral()->set_last_error("deadline exceeded");
  auto r = Request<v1::RetryReferralRequest>(5);
  r.set_finding_id(kFinding);
  r.set_reason("again");
  auto ch = Run(r, Who::kAuditor, OfFinding());
  ASSERT_TRUE(ch.ok()) << ch.status();
  EXPECT_EQ(Type(ch->events[0]), "referral_retried");
  EXPECT_EQ(Data(ch->events[0])["last_error"], "deadline exceeded");
  EXPECT_TRUE(ch->finding->finding.referral().last_error().empty());
  EXPECT_TRUE(ch->command->retry);
}

// ---- engagement steps ----

TEST_F(AuditDecideTest, EveryEngagementStateAndPartyForAdvanceAndAddFinding) {
  facts_.new_id = kNewId;
  facts_.unit = UnitInfo{kAudited, "unit", "DEPARTMENT", true, {}};
  int checked = 0;
  for (int st = v1::ENGAGEMENT_STATE_PLANNED; st <= v1::EngagementState_MAX; ++st) {
    const auto state = static_cast<v1::EngagementState>(st);
    engagement_.engagement.set_state(state);
    auto advance = Request<v1::AdvanceEngagementRequest>(4);
    advance.set_engagement_id(kEngagement);
    advance.set_to(state == v1::ENGAGEMENT_STATE_CLOSED ? v1::ENGAGEMENT_STATE_CLOSED
                                                        : static_cast<v1::EngagementState>(st + 1));
    auto add = Request<v1::AddFindingRequest>();
    add.set_engagement_id(kEngagement);
    add.set_title("t");
    add.set_category(v1::FINDING_CATEGORY_PROCUREMENT);
    add.set_responsible_unit_id(kAudited);
    for (Who who : kEveryone) {
      checked += 2;
      const std::string where = std::string(EngagementStateName(state)) + " / " + NameOf(who);
      const Code may = AuditWork(who, false, /*engagement=*/true);
      auto advanced = Run(advance, who, OfEngagement());
      auto added = Run(add, who, OfEngagement());
      if (may != Code::kOk) {
        EXPECT_EQ(advanced.status().code(), may) << where;
        EXPECT_EQ(added.status().code(), may) << where;
        continue;
      }
      if (state == v1::ENGAGEMENT_STATE_CLOSED) {
        EXPECT_EQ(advanced.status().code(), Code::kFailedPrecondition) << where;
        EXPECT_EQ(added.status(),
                  absl::FailedPreconditionError("cannot add a finding to an engagement in state CLOSED"));
        continue;
      }
      ASSERT_TRUE(advanced.ok()) << where << ": " << advanced.status();
      EXPECT_EQ(advanced->engagement->engagement.state(), advance.to());
      EXPECT_EQ(advanced->engagement->engagement.version(), 5);
      EXPECT_EQ(advanced->engagement_row, Change::Row::kUpdate);
      EXPECT_EQ(Type(advanced->events[0]), "engagement_advanced");
      ASSERT_TRUE(added.ok()) << where << ": " << added.status();
      EXPECT_EQ(added->finding_row, Change::Row::kInsert);
      EXPECT_FALSE(added->engagement);  // the engagement is only read
    }
  }
  EXPECT_EQ(checked, 2 * 4 * static_cast<int>(std::size(kEveryone)));
  // A stale version, after access.
  auto advance = Request<v1::AdvanceEngagementRequest>(3);
  advance.set_engagement_id(kEngagement);
  advance.set_to(v1::ENGAGEMENT_STATE_FIELDWORK);
  engagement_.engagement.set_state(v1::ENGAGEMENT_STATE_PLANNED);
  EXPECT_EQ(Run(advance, Who::kStranger, OfEngagement()).status().code(), Code::kNotFound);
  EXPECT_EQ(Run(advance, Who::kAuditor, OfEngagement()).status(),
            absl::AbortedError("engagement changed: version is 4"));
}

TEST_F(AuditDecideTest, AFindingIsNumberedInItsEngagementAndFlagsARecurrence) {
  facts_.new_id = kNewId;
  facts_.unit = UnitInfo{kAudited, "unit", "DEPARTMENT", true, {}};
  auto add = Request<v1::AddFindingRequest>();
  add.set_engagement_id(kEngagement);
  add.set_title("t");
  add.set_category(v1::FINDING_CATEGORY_PROCUREMENT);
  add.set_amount_fen(1200);
  add.set_responsible_unit_id(kAudited);
  add.add_evidence_refs("doc 1");
  Current c = OfEngagement();
  auto ch = Run(add, Who::kAuditor, c);
  ASSERT_TRUE(ch.ok()) << ch.status();
  const v1::Finding& f = ch->finding->finding;
  EXPECT_EQ(f.id(), kNewId);
  EXPECT_EQ(f.number(), "SJ-2025-0007-03");
  EXPECT_EQ(f.severity(), v1::SEVERITY_MEDIUM);  // the default
  EXPECT_EQ(f.version(), 1);
  EXPECT_EQ(db::Micros(f.created_at()), c.now_us);
  EXPECT_FALSE(f.recurring());
  ASSERT_EQ(ch->events.size(), 1u);
  EXPECT_EQ(Type(ch->events[0]), "finding_added");
  EXPECT_EQ(Data(ch->events[0])["amount_fen"], 1200);
  c.recurs_finding_id = kFinding;
  ch = Run(add, Who::kAuditor, c);
  ASSERT_TRUE(ch.ok()) << ch.status();
  EXPECT_TRUE(ch->finding->finding.recurring());
  ASSERT_EQ(ch->events.size(), 2u);
  EXPECT_EQ(Type(ch->events[1]), "recurrence_flagged");
  EXPECT_EQ(Data(ch->events[1])["recurs_finding_id"], kFinding);
  // The responsible unit and person must be on file, each named.
  add.set_responsible_person_id(kNewId);
  EXPECT_EQ(Run(add, Who::kAuditor, c).status(), InvalidField("responsible_person_id", "no such active person"));
  facts_.person = PersonInfo{kNewId, "p", kAudited, false, false};
  EXPECT_EQ(Run(add, Who::kAuditor, c).status(), InvalidField("responsible_person_id", "no such active person"));
  facts_.unit.reset();
  EXPECT_EQ(Run(add, Who::kAuditor, c).status(), InvalidField("responsible_unit_id", "no such active unit"));
}

TEST_F(AuditDecideTest, AnEngagementIsOpenedByItsAuditUnitInItsOwnNameOnly) {
  facts_.new_id = "00000000-0000-7000-8000-0000000000DD";
  facts_.unit = UnitInfo{kAudited, "unit", "DEPARTMENT", true, {}};
  Current c;
  c.sequence = 12;
  c.now_us = 1737684000000000;
  auto r = Request<v1::CreateEngagementRequest>();
  r.set_kind(v1::ENGAGEMENT_KIND_PROJECT_PAYMENT);
  r.set_title("工程款支付审计");
  r.set_audit_unit_id(kAuditUnit);
  r.set_audited_unit_id("00000000-0000-7000-8000-0000000000A2");  // as PostgreSQL writes it: lower case
  r.set_period_from("2024-01-01");
  r.set_period_to("2024-12-31");
  for (Who who : kEveryone) {
    auto got = Run(r, who, c);
    // No item yet: everyone else is refused, never told "not found".
    EXPECT_EQ(got.status().code(), who == Who::kAuditor ? Code::kOk : Code::kPermissionDenied) << NameOf(who);
  }
  auto ch = Run(r, Who::kAuditor, c);
  ASSERT_TRUE(ch.ok()) << ch.status();
  const v1::Engagement& e = ch->engagement->engagement;
  EXPECT_EQ(ch->engagement_row, Change::Row::kInsert);
  EXPECT_EQ(e.id(), "00000000-0000-7000-8000-0000000000dd");
  EXPECT_EQ(e.number(), "SJ-2025-0012");
  EXPECT_EQ(e.state(), v1::ENGAGEMENT_STATE_PLANNED);
  EXPECT_EQ(e.audited_unit_id(), kAudited);
  EXPECT_EQ(e.version(), 1);
  EXPECT_EQ(ch->engagement->chain_len, 0);
  EXPECT_EQ(Type(ch->events[0]), "engagement_created");
  r.set_audited_person_id(kNewId);
  EXPECT_EQ(Run(r, Who::kAuditor, c).status(), InvalidField("audited_person_id", "no such active person"));
  facts_.unit->active = false;
  EXPECT_EQ(Run(r, Who::kAuditor, c).status(), InvalidField("audited_unit_id", "no such active unit"));
}

// ---- what the rules read ----

TEST_F(AuditDecideTest, WhereUnitsSitIsReadOnlyWhenTheParentRelationCountsForTheCaller) {
  const StepRequest submit = [] {
    auto r = Request<v1::SubmitRectificationRequest>(2);
    r.set_rectification_id(kRect);
    return r;
  }();
  // No step grants anything to a unit above: the store need not read the directory.
  for (Who who : kEveryone) EXPECT_TRUE(NeededUnits(submit, OfFinding(), Principal(who)).empty()) << NameOf(who);
  EXPECT_TRUE(access::ParentMatters(access::Rpc::kGetAuditStats, Principal(Who::kOversight)));
  // A directory read the store makes for a step is a fact: absent is nullopt, a failure stays one.
  EXPECT_FALSE(*Known(absl::StatusOr<UnitInfo>(absl::NotFoundError("no unit"))));
  EXPECT_EQ(Known(absl::StatusOr<UnitInfo>(absl::UnavailableError("down"))).status().code(), Code::kUnavailable);
  auto add = Request<v1::AddRectificationRequest>();
  add.set_finding_id(kFinding);
  EXPECT_EQ(UnitReadInStep(add, OfFinding()), kAudited);
  add.set_owner_unit_id(kOwner);
  EXPECT_FALSE(UnitReadInStep(add, OfFinding()));
}

// ---- the referral's outcomes and the overdue rule ----

TEST_F(AuditDecideTest, ClueLinkedOnceThenOnlyWhatChanges) {
  Refer(v1::REFERRAL_STATE_PENDING);
  auto first = LinkReferral(finding_, "clue-1", "XS-2025-000001", v1::CLUE_STATE_OFFERED);
  ASSERT_TRUE(first);
  EXPECT_EQ(Type(first->events[0]), "clue_linked");
  EXPECT_EQ(first->finding->finding.referral().state(), v1::REFERRAL_STATE_DELIVERED);
  EXPECT_EQ(first->finding->finding.version(), 6);
  EXPECT_FALSE(LinkReferral(first->finding.value(), "clue-1", "XS-2025-000001", v1::CLUE_STATE_HELD));
  StoredFinding errored = *first->finding;
  errored.finding.mutable_referral()->set_last_error("timeout");
  auto again = LinkReferral(errored, "clue-1", "", v1::CLUE_STATE_HELD);
  ASSERT_TRUE(again);
  EXPECT_EQ(Type(again->events[0]), "referral_delivered");
  EXPECT_EQ(again->finding->finding.referral().clue_state(), v1::CLUE_STATE_OFFERED);  // first state kept

  auto dead = ReferralDead(finding_, "refused");
  EXPECT_EQ(dead.finding->finding.referral().state(), v1::REFERRAL_STATE_DEAD);
  EXPECT_EQ(dead.finding->finding.referral().last_error(), "refused");
  EXPECT_EQ(Type(dead.events[0]), "referral_dead");

  auto payload = events::Decode<v1::ClueEventPayload>("concluded", R"({"form":3,"feedback":"给予撤职处分"})");
  ASSERT_TRUE(payload.ok()) << payload.status();
  auto update = FromClueEvent(*payload);
  ASSERT_TRUE(update);
  auto followed = FollowClue(*first->finding, *update, "concluded", "clue-1", 7);
  EXPECT_EQ(followed.finding->finding.referral().clue_state(), v1::CLUE_STATE_CONCLUDED);
  EXPECT_EQ(followed.finding->finding.referral().outcome_form(), v1::SUPERVISION_FORM_3);
  EXPECT_EQ(followed.finding->finding.referral().outcome_feedback(), "给予撤职处分");
  EXPECT_EQ(Type(followed.events[0]), "clue_concluded");
  EXPECT_EQ(Data(followed.events[0])["clue_seq"], 7);
}

TEST_F(AuditDecideTest, AnOpenRectificationPastItsDeadlineIsEscalatedOnce) {
  *Rect().mutable_deadline_at() = db::TimestampOf(kNow - std::chrono::seconds(1));
  for (S state : {S::RECTIFICATION_STATE_SUBMITTED, S::RECTIFICATION_STATE_SIGNED_OFF}) {
    Rect().set_state(state);
    EXPECT_FALSE(EscalateOverdue(finding_, kRect, kNow)) << RectificationStateName(state);
  }
  Rect().set_state(S::RECTIFICATION_STATE_OPEN);
  EXPECT_FALSE(EscalateOverdue(finding_, kRect, kNow - std::chrono::seconds(2)));  // not yet due
  auto ch = EscalateOverdue(finding_, kRect, kNow);
  ASSERT_TRUE(ch);
  EXPECT_TRUE(ch->finding->Find(kRect)->rectification.overdue());
  EXPECT_EQ(ch->finding->Find(kRect)->rectification.version(), 3);
  EXPECT_EQ(Type(ch->events[0]), "rectification_escalated");
  EXPECT_FALSE(EscalateOverdue(*ch->finding, kRect, kNow));  // marked already
}

}  // namespace
}  // namespace sm::audit
