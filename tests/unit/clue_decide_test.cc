// The decisions of one walk (workflow Decide, Register, DecideMerge, Escalate) without a
// database: what each step writes (state, deadline, event, custody) and every refusal with
// its code, in the order the service gives them.
#include <gtest/gtest.h>

#include <google/protobuf/util/time_util.h>

#include "common/status.h"
#include "services/clue/workflow.h"

namespace sm::clue {
namespace {

const std::string kHolder = "00000000-0000-7000-8000-00000000000a";
const std::string kOther = "00000000-0000-7000-8000-00000000000b";
const std::string kParent = "00000000-0000-7000-8000-00000000000c";
const std::string kSubjectUnit = "00000000-0000-7000-8000-00000000000d";
const std::string kSubjectPerson = "00000000-0000-7000-8000-0000000000e1";
const std::string kHandler = "00000000-0000-7000-8000-0000000000e2";
const std::string kClue = "00000000-0000-7000-8000-0000000000f1";

// Friday 2025-01-24 10:00 Beijing time (working-day calendar without holiday files: Mon-Fri).
const TimePoint kNow = FromUnixSeconds(1737684000);

class DecideTest : public ::testing::Test {
 protected:
  DecideTest() {
    rules_.now = kNow;
    rules_.calendar = &calendar_;
    StoredClue& c = clue_;
    c.clue.set_id(kClue);
    c.clue.set_number("XS-2025-000001");
    c.clue.set_state(v1::CLUE_STATE_HELD);
    c.clue.set_origin_unit_id(kOther);
    c.clue.set_holding_unit_id(kHolder);
    c.clue.set_version(3);
    c.chain_len = 2;
    c.chain_head = "head";
    c.clue.add_subjects()->set_person_id(kSubjectPerson);
  }

  static auth::Principal Staff(const std::string& unit, int clearance = 1) {
    return auth::Principal{
        "user-" + unit.substr(unit.size() - 2), unit, {std::string(auth::kRoleDiscipline)}, clearance};
  }
  template <typename Req>
  static Req Request(int64_t version = 3) {
    Req r;
    r.set_request_id("r1");
    r.set_clue_id(kClue);
    if constexpr (!std::is_same_v<Req, v1::AddNoteRequest>) r.set_expected_version(version);
    return r;
  }
  absl::StatusOr<Change> Run(const StepRequest& req, const auth::Principal& who, const StepFacts& facts = {}) {
    return Decide(clue_, who, req, facts, rules_);
  }
  StepFacts AssignFacts(const std::string& handler_unit, std::vector<std::string> handler_ancestors = {}) {
    StepFacts f;
    f.handler = PersonInfo{kHandler, "handler", handler_unit, true, false};
    f.handler_unit = UnitInfo{handler_unit, "unit", "DISCIPLINE_GROUP", true, std::move(handler_ancestors)};
    f.subjects = {SubjectPlace{kSubjectPerson, {kParent, kSubjectUnit}}};
    return f;
  }

  workdays::Calendar calendar_;
  Rules rules_;
  StoredClue clue_;
};

TEST_F(DecideTest, TransferOffersTheClueStartsTheAcceptClockAndAddsTheOfferee) {
  auto req = Request<v1::TransferClueRequest>();
  req.set_to_unit_id(kOther);
  req.set_reason("jurisdiction");
  auto ch = Run(req, Staff(kHolder));
  ASSERT_TRUE(ch.ok()) << ch.status();
  EXPECT_EQ(ch->after.clue.state(), v1::CLUE_STATE_OFFERED);
  EXPECT_EQ(ch->after.clue.offered_to_unit_id(), kOther);
  EXPECT_EQ(ch->after.clue.deadline_stage(), "accept");
  // Three working days from Friday: Wednesday, end of day.
  EXPECT_EQ(ch->after.clue.deadline_at().seconds(), ToUnixSeconds(calendar_.Deadline(kNow, 3)));
  ASSERT_TRUE(ch->event.has_offered());
  EXPECT_EQ(ch->event.offered().to_unit_id(), kOther);
  ASSERT_EQ(ch->custody_add.size(), 1u);
  EXPECT_EQ(ch->custody_add[0], std::make_pair(kOther, Custody::kOffered));
  // The store bumps the version and keeps the chain it loaded.
  EXPECT_EQ(ch->after.clue.version(), 3);
  EXPECT_EQ(ch->after.chain_len, 2);

  req.set_to_unit_id(kHolder);
  EXPECT_EQ(Run(req, Staff(kHolder)).status(), InvalidField("to_unit_id", "is the unit already holding the clue"));
}

TEST_F(DecideTest, RefusalsComeInOrderUnseenThenStaleThenRules) {
  auto req = Request<v1::TransferClueRequest>(2);
  req.set_to_unit_id(kOther);
  // A unit with no standing learns nothing, not even that the version is stale.
  EXPECT_EQ(Run(req, Staff(kParent)).status().code(), absl::StatusCode::kNotFound);
  // A past sender sees the clue but is not its holder: the stale version is said first.
  StepFacts sender;
  sender.custody = Custody::kSender;
  EXPECT_EQ(Run(req, Staff(kParent), sender).status().code(), absl::StatusCode::kAborted);
  req.set_expected_version(3);
  EXPECT_EQ(Run(req, Staff(kParent), sender).status().code(), absl::StatusCode::kPermissionDenied);
  // expected_version 0 skips the check only where a request has none (notes).
  clue_.clue.set_state(v1::CLUE_STATE_CONCLUDED);
  EXPECT_EQ(Run(req, Staff(kHolder)).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(DecideTest, AcceptMovesTheClueAndTheSenderKeepsItsStanding) {
  clue_.clue.set_state(v1::CLUE_STATE_OFFERED);
  clue_.clue.set_offered_to_unit_id(kOther);
  clue_.clue.set_handler_person_id(kHandler);
  auto ch = Run(Request<v1::AcceptClueRequest>(), Staff(kOther));
  ASSERT_TRUE(ch.ok()) << ch.status();
  EXPECT_EQ(ch->after.clue.state(), v1::CLUE_STATE_HELD);
  EXPECT_EQ(ch->after.clue.holding_unit_id(), kOther);
  EXPECT_TRUE(ch->after.clue.offered_to_unit_id().empty());
  EXPECT_TRUE(ch->after.clue.handler_person_id().empty());
  EXPECT_EQ(ch->after.clue.deadline_stage(), "dispose");
  EXPECT_EQ(ch->custody_add, (std::vector<std::pair<std::string, Custody>>{{kHolder, Custody::kSender}}));
  // The holder cannot accept its own offer.
  EXPECT_EQ(Run(Request<v1::AcceptClueRequest>(), Staff(kHolder)).status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(DecideTest, AssignHandlerChecksStandingThenRecusalThenTheHoldingUnit) {
  auto req = Request<v1::AssignHandlerRequest>();
  req.set_handler_person_id(kHandler);
  // Not the holder: refused before the recusal could say who is a subject.
  StepFacts facts = AssignFacts(kHolder);
  facts.custody = Custody::kSender;
  EXPECT_EQ(Run(req, Staff(kParent), facts).status().code(), absl::StatusCode::kPermissionDenied);
  // The handler is the subject.
  facts = AssignFacts(kHolder);
  facts.handler->id = kSubjectPerson;
  EXPECT_EQ(Run(req, Staff(kHolder), facts).status().message(),
            "recusal (回避): the handler is a subject of this clue");
  // The handler's unit is the subject's unit or above it.
  for (const std::string& unit : {kSubjectUnit, kParent}) {
    EXPECT_EQ(Run(req, Staff(kHolder), AssignFacts(unit)).status().code(), absl::StatusCode::kFailedPrecondition)
        << unit;
  }
  // Outside the holding unit.
  EXPECT_EQ(Run(req, Staff(kHolder), AssignFacts(kOther)).status(),
            InvalidField("handler_person_id", "is not in the unit holding the clue"));
  // In a unit below the holder: assigned, the stage clock unchanged.
  auto ch = Run(req, Staff(kHolder), AssignFacts("00000000-0000-7000-8000-000000000099", {kHolder}));
  ASSERT_TRUE(ch.ok()) << ch.status();
  EXPECT_EQ(ch->after.clue.handler_person_id(), kHandler);
  EXPECT_EQ(ch->after.clue.state(), v1::CLUE_STATE_HELD);
  EXPECT_EQ(ch->event.handler_assigned().handler_person_id(), kHandler);
}

TEST_F(DecideTest, DisposeAndConcludeRecordWhoDecidedAndTheOutcome) {
  auto dispose = Request<v1::DisposeClueRequest>();
  dispose.set_method(v1::DISPOSITION_METHOD_CLOSE);
  dispose.set_reason("no substance");
  auto closed = Run(dispose, Staff(kHolder));
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_EQ(closed->after.clue.state(), v1::CLUE_STATE_CONCLUDED);
  EXPECT_EQ(closed->after.clue.disposition().decided_by(), Staff(kHolder).user);
  EXPECT_EQ(closed->after.clue.outcome().feedback(), "no substance");
  EXPECT_FALSE(closed->after.clue.has_deadline_at());

  clue_.clue.set_state(v1::CLUE_STATE_IN_HANDLING);
  auto conclude = Request<v1::ConcludeClueRequest>();
  conclude.set_form(v1::SUPERVISION_FORM_2);
  conclude.set_case_filed(true);
  conclude.set_feedback("filed");
  auto filed = Run(conclude, Staff(kHolder));
  ASSERT_TRUE(filed.ok()) << filed.status();
  EXPECT_EQ(filed->after.clue.state(), v1::CLUE_STATE_CASE_FILED);
  ASSERT_TRUE(filed->event.has_case_filed());
  EXPECT_EQ(filed->after.clue.deadline_stage(), "conclude");
  EXPECT_EQ(filed->event.case_filed().feedback_to_unit_id(), kOther);
  EXPECT_EQ(filed->event.case_filed().form(), 2);
}

// Both outcome events say who and what the clue was about, so that a follower (一案双查 in
// inspection-service) needs no read of the clue: the subjects by id only (the feed reaches
// every subscribing service), the source and the number.
TEST_F(DecideTest, OutcomeEventsCarryTheSubjectsSourceAndNumber) {
  clue_.clue.mutable_subjects(0)->set_display_name("王某");
  auto* unit_subject = clue_.clue.add_subjects();
  unit_subject->set_unit_id(kSubjectUnit);
  unit_subject->set_display_name("某派出所");
  clue_.clue.set_source(v1::CLUE_SOURCE_INSPECTION);
  struct Row {
    v1::ClueState from;
    bool case_filed;
    bool expect_case_filed_event;  // else "concluded"
  };
  const Row rows[] = {
      {v1::CLUE_STATE_IN_HANDLING, true, true},
      {v1::CLUE_STATE_IN_HANDLING, false, false},
      {v1::CLUE_STATE_CASE_FILED, false, false},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(std::string(v1::ClueState_Name(row.from)) + (row.case_filed ? " filed" : ""));
    clue_.clue.set_state(row.from);
    auto conclude = Request<v1::ConcludeClueRequest>();
    conclude.set_form(v1::SUPERVISION_FORM_2);
    conclude.set_case_filed(row.case_filed);
    conclude.set_feedback("done");
    auto ch = Run(conclude, Staff(kHolder));
    ASSERT_TRUE(ch.ok()) << ch.status();
    ASSERT_EQ(ch->event.has_case_filed(), row.expect_case_filed_event);
    ASSERT_EQ(ch->event.has_concluded(), !row.expect_case_filed_event);
    const v1::ClueConcluded& e = row.expect_case_filed_event ? ch->event.case_filed() : ch->event.concluded();
    ASSERT_EQ(e.subjects_size(), 2);
    EXPECT_EQ(e.subjects(0).person_id(), kSubjectPerson);
    EXPECT_EQ(e.subjects(1).unit_id(), kSubjectUnit);
    EXPECT_EQ(e.subjects(0).subject_case(), v1::ClueSubject::kPersonId);
    EXPECT_EQ(e.subjects(1).subject_case(), v1::ClueSubject::kUnitId);
    for (const auto& subject : e.subjects()) EXPECT_EQ(subject.display_name(), "") << "ids only";
    EXPECT_EQ(e.source(), v1::CLUE_SOURCE_INSPECTION);
    EXPECT_EQ(e.number(), "XS-2025-000001");
    // What the event said before is unchanged.
    EXPECT_EQ(e.form(), 2);
    EXPECT_EQ(e.case_filed(), row.case_filed);
    EXPECT_EQ(e.feedback_to_unit_id(), kOther);
    EXPECT_EQ(e.feedback(), "done");
    // The clue keeps its subjects' names.
    EXPECT_EQ(ch->after.clue.subjects(0).display_name(), "王某");
  }
}

TEST_F(DecideTest, ExtensionNeedsALeaderAtOrAboveTheHolderAndARunningClock) {
  auto req = Request<v1::ExtendDeadlineRequest>();
  req.set_extra_working_days(5);
  req.set_reason("complex");
  *clue_.clue.mutable_deadline_at() = google::protobuf::util::TimeUtil::SecondsToTimestamp(ToUnixSeconds(kNow) + 3600);
  clue_.clue.set_deadline_stage("dispose");
  StepFacts f;
  f.approver = PersonInfo{"leader", "leader", kParent, true, true};
  f.approver_unit = UnitInfo{kParent, "parent", "BUREAU", true, {}};
  f.holder_unit = UnitInfo{kHolder, "holder", "DISCIPLINE_GROUP", true, {kParent}};
  auto ch = Run(req, Staff(kHolder), f);
  ASSERT_TRUE(ch.ok()) << ch.status();
  EXPECT_GT(ch->after.clue.deadline_at().seconds(), clue_.clue.deadline_at().seconds());
  EXPECT_EQ(ch->event.deadline_extended().approved_by(), "leader");
  EXPECT_EQ(ch->event.deadline_extended().working_days(), 5);
  // A leader of a unit below (or beside) the holder does not approve.
  f.holder_unit->ancestors.clear();
  EXPECT_EQ(Run(req, Staff(kHolder), f).status().code(), absl::StatusCode::kPermissionDenied);
  // The holding unit could not be read: refused, never passed.
  f.holder_unit.reset();
  EXPECT_EQ(Run(req, Staff(kHolder), f).status().code(), absl::StatusCode::kUnavailable);
  // No running clock.
  f.holder_unit = UnitInfo{kHolder, "holder", "DISCIPLINE_GROUP", true, {kParent}};
  clue_.clue.set_state(v1::CLUE_STATE_SHELVED);
  EXPECT_EQ(Run(req, Staff(kHolder), f).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(DecideTest, NotesAndInterventions) {
  auto note = Request<v1::AddNoteRequest>();
  note.set_text("called the witness");
  auto* a = note.add_attachments();
  a->set_name("minutes.pdf");
  a->set_sha256(std::string(64, 'a'));
  auto ch = Run(note, Staff(kHolder));
  ASSERT_TRUE(ch.ok()) << ch.status();
  ASSERT_EQ(ch->event.note().attachments_size(), 1);
  EXPECT_EQ(ch->event.note().attachments(0).name(), "minutes.pdf");
  EXPECT_EQ(ch->after.clue.SerializeAsString(), clue_.clue.SerializeAsString());  // the row is unchanged
  EXPECT_EQ(Run(note, Staff(kOther), StepFacts{.custody = Custody::kSender}).status().code(),
            absl::StatusCode::kPermissionDenied);

  auto intervene = Request<v1::MarkInterventionRequest>();
  StepFacts supervisor{.custody = Custody::kSupervisor};
  auto in = Run(intervene, Staff(kParent), supervisor);
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_TRUE(in->after.clue.intervened());
  EXPECT_EQ(in->custody_add, (std::vector<std::pair<std::string, Custody>>{{kParent, Custody::kSupervisor}}));
  clue_.clue.set_intervened(true);
  EXPECT_EQ(Run(intervene, Staff(kParent), supervisor).status().message(), "already intervened in step");

  clue_.clue.set_state(v1::CLUE_STATE_MERGED);
  EXPECT_EQ(Run(note, Staff(kHolder)).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(DecideTest, RegistrationStartsTheDisposeOrAcceptClock) {
  StoredClue s;
  s.clue.set_origin_unit_id(kHolder);
  auto* person = s.clue.add_subjects();
  person->set_person_id("p-1");
  person->set_display_name("张某");
  auto* unit = s.clue.add_subjects();
  unit->set_unit_id(kOther);
  unit->set_display_name("某派出所");
  auto events = Register(s, "", "named", rules_);
  EXPECT_EQ(s.clue.state(), v1::CLUE_STATE_REGISTERED);
  EXPECT_EQ(s.clue.holding_unit_id(), kHolder);
  EXPECT_EQ(s.clue.deadline_stage(), "dispose");
  EXPECT_EQ(s.clue.version(), 1);
  ASSERT_EQ(events.size(), 1u);
  ASSERT_TRUE(events[0].has_registered());
  EXPECT_EQ(events[0].registered().reporter(), "named");
  EXPECT_FALSE(events[0].registered().has_referral());
  // The subjects by id only: names stay out of the feed.
  ASSERT_EQ(events[0].registered().subjects_size(), 2);
  EXPECT_EQ(events[0].registered().subjects(0).person_id(), "p-1");
  EXPECT_EQ(events[0].registered().subjects(1).unit_id(), kOther);
  for (const auto& subject : events[0].registered().subjects()) EXPECT_TRUE(subject.display_name().empty());

  StoredClue offered;
  offered.clue.set_origin_unit_id(kHolder);
  offered.clue.set_source_system("audit");
  offered.clue.set_source_ref("F-1");
  events = Register(offered, kOther, "none", rules_);
  EXPECT_EQ(offered.clue.state(), v1::CLUE_STATE_OFFERED);
  EXPECT_EQ(offered.clue.offered_to_unit_id(), kOther);
  EXPECT_EQ(offered.clue.deadline_stage(), "accept");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].registered().referral().ref(), "F-1");
  EXPECT_EQ(events[0].registered().referral().system(), "audit");
  ASSERT_TRUE(events[1].has_offered());
  EXPECT_EQ(events[1].offered().to_unit_id(), kOther);
}

TEST_F(DecideTest, MergeNeedsTheHolderOfEveryClueAndMergeableStates) {
  MergeItem primary{clue_, Custody::kNone};
  MergeItem other{clue_, Custody::kNone};
  other.clue.clue.set_id("00000000-0000-7000-8000-0000000000f2");
  other.clue.clue.set_number("XS-2025-000002");
  auto changes = DecideMerge(primary, {other}, Staff(kHolder), 3, "same facts");
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_EQ(changes->size(), 2u);
  EXPECT_EQ((*changes)[0].after.clue.state(), v1::CLUE_STATE_MERGED);
  EXPECT_EQ((*changes)[0].after.clue.merged_into_id(), kClue);
  ASSERT_EQ((*changes)[1].event.merged().merged_size(), 1);
  EXPECT_EQ((*changes)[1].event.merged().merged(0).number(), "XS-2025-000002");
  EXPECT_EQ((*changes)[0].event.merged_into().primary_clue_id(), kClue);

  EXPECT_EQ(DecideMerge(primary, {other}, Staff(kHolder), 2, "").status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(DecideMerge(primary, {other}, Staff(kParent), 3, "").status().code(), absl::StatusCode::kNotFound);
  other.clue.clue.set_holding_unit_id(kOther);
  other.custody = Custody::kSender;
  EXPECT_EQ(DecideMerge(primary, {other}, Staff(kHolder), 3, "").status().code(), absl::StatusCode::kPermissionDenied);
  other.clue.clue.set_holding_unit_id(kHolder);
  other.clue.clue.set_state(v1::CLUE_STATE_OFFERED);
  EXPECT_EQ(DecideMerge(primary, {other}, Staff(kHolder), 3, "").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(DecideTest, OverdueClueIsEscalatedToTheUnitAboveTheHolder) {
  *clue_.clue.mutable_deadline_at() = google::protobuf::util::TimeUtil::SecondsToTimestamp(ToUnixSeconds(kNow) - 1);
  clue_.clue.set_deadline_stage("dispose");
  EXPECT_TRUE(IsOverdue(clue_, kNow));
  EXPECT_FALSE(IsOverdue(clue_, kNow - std::chrono::hours(1)));
  Change up = Escalate(clue_, UnitInfo{kHolder, "holder", "DISCIPLINE_GROUP", true, {kParent}});
  EXPECT_TRUE(up.after.clue.overdue());
  EXPECT_EQ(up.event.escalated().escalated_to_unit_id(), kParent);
  EXPECT_EQ(up.custody_add, (std::vector<std::pair<std::string, Custody>>{{kParent, Custody::kSupervisor}}));
  // At the top of a tree, or unknown to the directory: the holder itself.
  EXPECT_EQ(Escalate(clue_, std::nullopt).event.escalated().escalated_to_unit_id(), kHolder);
  clue_.clue.set_overdue(true);
  EXPECT_FALSE(IsOverdue(clue_, kNow));
  clue_.clue.set_overdue(false);
  clue_.clue.set_state(v1::CLUE_STATE_SHELVED);
  EXPECT_FALSE(IsOverdue(clue_, kNow));
}

// The reporter reveal walks (DecideRevealRequest, DecideRevealStep): what each writes and
// every refusal; NextReveal's own table (clue_workflow_test) covers every state x party.
class RevealDecideTest : public DecideTest {
 protected:
  RevealDecideTest() {
    clue_.clue.set_reporter_on_file(true);
    clue_.reporter_sealed = "sealed";
    reveal_rules_.now = kNow;
    reveal_rules_.policy.approvals = 2;
    reveal_rules_.policy.custodians = 3;
    reveal_rules_.policy.window = std::chrono::minutes(30);
  }
  static auth::Principal Custodian(const std::string& name, int clearance = 2) {
    return auth::Principal{name, kParent, {std::string(auth::kRoleCustodian)}, clearance};
  }
  v1::RevealRequest Pending() {
    v1::RequestRevealRequest ask;
    ask.set_clue_id(kClue);
    ask.set_reason("need to contact the reporter");
    auto made = DecideRevealRequest(clue_, Custody::kNone, Staff(kHolder, 2), ask, "rv-1", reveal_rules_);
    EXPECT_TRUE(made.ok()) << made.status();
    return made.ok() ? made->after : v1::RevealRequest();
  }
  static v1::DecideRevealRequest Verdict(v1::RevealVerdict v, const std::string& reason = "") {
    v1::DecideRevealRequest d;
    d.set_reveal_request_id("rv-1");
    d.set_verdict(v);
    d.set_reason(reason);
    return d;
  }
  RevealRules reveal_rules_;
};

TEST_F(RevealDecideTest, ARequestIsPendingWithItsEventAndOnlyClearedHoldingStaffMayAsk) {
  v1::RequestRevealRequest ask;
  ask.set_clue_id(kClue);
  ask.set_reason("need to contact the reporter");
  auto made = DecideRevealRequest(clue_, Custody::kNone, Staff(kHolder, 2), ask, "rv-1", reveal_rules_);
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(made->after.state(), v1::REVEAL_STATE_PENDING);
  EXPECT_EQ(made->after.approvals_needed(), 2);
  EXPECT_EQ(made->after.clue_number(), "XS-2025-000001");
  EXPECT_EQ(made->after.version(), 1);
  EXPECT_EQ(made->event.reveal_requested().reveal_request_id(), "rv-1");
  EXPECT_EQ(made->event.reveal_requested().custodians(), 3);
  EXPECT_FALSE(made->decision);
  // A unit that may not see the clue learns nothing about it.
  EXPECT_EQ(DecideRevealRequest(clue_, Custody::kNone, Staff(kOther, 2), ask, "x", reveal_rules_).status().code(),
            absl::StatusCode::kNotFound);
  // A sender sees the clue but does not hold it; clearance 1 is not enough.
  EXPECT_EQ(DecideRevealRequest(clue_, Custody::kSender, Staff(kOther, 2), ask, "x", reveal_rules_).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(DecideRevealRequest(clue_, Custody::kNone, Staff(kHolder, 1), ask, "x", reveal_rules_).status().code(),
            absl::StatusCode::kPermissionDenied);
  clue_.reporter_sealed.clear();
  EXPECT_EQ(DecideRevealRequest(clue_, Custody::kNone, Staff(kHolder, 2), ask, "x", reveal_rules_).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(RevealDecideTest, ApprovalsCountToTheWindowAndOneRefusalEndsIt) {
  v1::RevealRequest r = Pending();
  auto first = DecideRevealStep(r, clue_, Custodian("c1"), Verdict(v1::REVEAL_VERDICT_APPROVE), reveal_rules_);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->after.state(), v1::REVEAL_STATE_PENDING);
  ASSERT_TRUE(first->decision);
  EXPECT_EQ(first->decision->custodian(), "c1");
  EXPECT_FALSE(first->event.reveal_approved().has_expires_at());
  EXPECT_FALSE(first->event.reveal_approved().has_reason());
  // The store adds the decision back: the second custodian completes the request.
  r.set_approvals(1);
  *r.add_decisions() = *first->decision;
  EXPECT_EQ(
      DecideRevealStep(r, clue_, Custodian("c1"), Verdict(v1::REVEAL_VERDICT_APPROVE), reveal_rules_).status().code(),
      absl::StatusCode::kFailedPrecondition);  // c1 already decided
  auto second = DecideRevealStep(r, clue_, Custodian("c2"), Verdict(v1::REVEAL_VERDICT_APPROVE, "ok"), reveal_rules_);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->after.state(), v1::REVEAL_STATE_APPROVED);
  EXPECT_EQ(second->after.expires_at().seconds(), ToUnixSeconds(kNow + std::chrono::minutes(30)));
  EXPECT_EQ(second->event.reveal_approved().expires_at(), ToUnixSeconds(kNow + std::chrono::minutes(30)));
  EXPECT_EQ(second->event.reveal_approved().reason(), "ok");
  // A refusal ends a pending request; the requester never decides; nor an uncleared custodian.
  auto refused = DecideRevealStep(r, clue_, Custodian("c3"), Verdict(v1::REVEAL_VERDICT_REFUSE, "no"), reveal_rules_);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->after.state(), v1::REVEAL_STATE_REFUSED);
  EXPECT_EQ(refused->event.reveal_refused().reason(), "no");
  auth::Principal self = Staff(kHolder, 2);
  self.roles.push_back(std::string(auth::kRoleCustodian));
  EXPECT_EQ(DecideRevealStep(r, clue_, self, Verdict(v1::REVEAL_VERDICT_APPROVE), reveal_rules_).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(DecideRevealStep(r, clue_, Custodian("c4", 1), Verdict(v1::REVEAL_VERDICT_APPROVE), reveal_rules_)
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(RevealDecideTest, OnlyTheRequesterUsesAnApprovedRequestWithinItsWindowWhileHoldingTheClue) {
  v1::RevealRequest r = Pending();
  v1::RevealReporterRequest use;
  use.set_reveal_request_id("rv-1");
  // Not yet approved.
  EXPECT_EQ(DecideRevealStep(r, clue_, Staff(kHolder, 2), use, reveal_rules_).status().code(),
            absl::StatusCode::kFailedPrecondition);
  r.set_state(v1::REVEAL_STATE_APPROVED);
  *r.mutable_expires_at() = google::protobuf::util::TimeUtil::SecondsToTimestamp(ToUnixSeconds(kNow) + 60);
  auto used = DecideRevealStep(r, clue_, Staff(kHolder, 2), use, reveal_rules_);
  ASSERT_TRUE(used.ok()) << used.status();
  EXPECT_EQ(used->after.state(), v1::REVEAL_STATE_USED);
  EXPECT_EQ(used->after.used_at().seconds(), ToUnixSeconds(kNow));
  EXPECT_EQ(used->event.reporter_revealed().requester(), Staff(kHolder, 2).user);
  EXPECT_FALSE(used->decision);
  // Someone else; a wrong clue named; the clue moved to another unit; the window ended.
  EXPECT_EQ(DecideRevealStep(r, clue_, Custodian("c1"), use, reveal_rules_).status().code(),
            absl::StatusCode::kPermissionDenied);
  v1::RevealReporterRequest wrong = use;
  wrong.set_clue_id(kHolder);
  EXPECT_EQ(DecideRevealStep(r, clue_, Staff(kHolder, 2), wrong, reveal_rules_).status(),
            InvalidField("clue_id", "is not the clue of this reveal request"));
  StoredClue moved = clue_;
  moved.clue.set_holding_unit_id(kOther);
  EXPECT_EQ(DecideRevealStep(r, moved, Staff(kHolder, 2), use, reveal_rules_).status().code(),
            absl::StatusCode::kPermissionDenied);
  RevealRules later = reveal_rules_;
  later.now = kNow + std::chrono::minutes(2);
  EXPECT_EQ(DecideRevealStep(r, clue_, Staff(kHolder, 2), use, later).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace sm::clue
