// The shared rectification rules (common/rectification.h) without a service: the state
// machine over every (state, action, party) triple against an explicit table of the legal
// steps (a party whose step it is not is refused before the state is looked at), and what
// Decide does around it: the stale version, the look-back window, the spot-check draw and
// what a reopening resets.
#include "common/rectification.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "common/db/sql.h"
#include "common/event_payload.h"

namespace sm::rectification {
namespace {

using S = v1::RectificationState;
using Code = absl::StatusCode;

std::string Where(S state, Action action, Party party) {
  return std::string(StateName(state)) + " / " + std::string(ActionName(action)) + " / party " +
         std::to_string(static_cast<int>(party));
}

TEST(RectificationTest, EveryStateActionPartyTriple) {
  const std::map<std::pair<S, Action>, S> legal = {
      {{S::RECTIFICATION_STATE_OPEN, Action::kProgress}, S::RECTIFICATION_STATE_OPEN},
      {{S::RECTIFICATION_STATE_OPEN, Action::kSubmit}, S::RECTIFICATION_STATE_SUBMITTED},
      {{S::RECTIFICATION_STATE_SUBMITTED, Action::kApprove}, S::RECTIFICATION_STATE_SIGNED_OFF},
      {{S::RECTIFICATION_STATE_SUBMITTED, Action::kReject}, S::RECTIFICATION_STATE_OPEN},
      {{S::RECTIFICATION_STATE_SIGNED_OFF, Action::kReopen}, S::RECTIFICATION_STATE_OPEN},
  };
  // Whose step each action is, whatever the state.
  const std::map<Action, Party> whose = {{Action::kProgress, Party::kOwner},
                                         {Action::kSubmit, Party::kOwner},
                                         {Action::kApprove, Party::kReviewer},
                                         {Action::kReject, Party::kReviewer},
                                         {Action::kReopen, Party::kReviewer}};
  int checked = 0, allowed = 0, denied = 0, illegal = 0;
  for (int si = v1::RectificationState_MIN; si <= v1::RectificationState_MAX; ++si) {
    const auto state = static_cast<S>(si);
    for (Action action : kAllActions) {
      ASSERT_EQ(PartyOf(action), whose.at(action));
      for (Party party : kAllParties) {
        ++checked;
        const std::string where = Where(state, action, party);
        auto got = Next(state, action, party);
        if (party != whose.at(action)) {
          // The wrong party learns nothing of the state.
          ASSERT_FALSE(got.ok()) << where;
          EXPECT_EQ(got.status().code(), Code::kPermissionDenied) << where;
          const std::string message(got.status().message());
          EXPECT_EQ(message, std::string(whose.at(action) == Party::kOwner ? "only the owner unit may "
                                                                           : "only the reviewing unit may ") +
                                 std::string(ActionName(action)) + " it")
              << where;
          EXPECT_EQ(message.find(StateName(state)), std::string::npos) << where;
          EXPECT_EQ(message.find("audit"), std::string::npos) << where;
          ++denied;
          continue;
        }
        auto it = legal.find({state, action});
        if (it == legal.end()) {
          ASSERT_FALSE(got.ok()) << where;
          EXPECT_EQ(got.status().code(), Code::kFailedPrecondition) << where;
          EXPECT_NE(std::string(got.status().message()).find(StateName(state)), std::string::npos) << where;
          ++illegal;
        } else {
          ASSERT_TRUE(got.ok()) << where << ": " << got.status();
          EXPECT_EQ(*got, it->second) << where;
          ++allowed;
        }
      }
    }
  }
  // 4 states (UNSPECIFIED included) x 5 actions x 3 parties: a new state, action or party
  // changes the count and fails here until the tables above say what it may do.
  EXPECT_EQ(checked, 4 * 5 * 3);
  EXPECT_EQ(std::size(kAllActions), 5u);
  EXPECT_EQ(std::size(kAllParties), 3u);
  EXPECT_EQ(allowed, static_cast<int>(legal.size()));
  EXPECT_EQ(denied, 4 * 5 * 2);
  EXPECT_EQ(illegal, 4 * 5 - static_cast<int>(legal.size()));
}

// Friday 2025-01-24 10:00 Beijing time (a calendar without holiday files: Monday to Friday).
const TimePoint kNow = FromUnixSeconds(1737684000);
const std::string kId = "00000000-0000-7000-8000-0000000000c1";
const std::string kFinding = "00000000-0000-7000-8000-0000000000f1";
const std::string kOwner = "00000000-0000-7000-8000-0000000000a3";

class RectificationDecideTest : public ::testing::Test {
 protected:
  RectificationDecideTest() {
    rules_.now = kNow;
    rules_.calendar = &calendar_;
    rules_.policy = Policy{30, 50, 90};
    x_.set_id(kId);
    x_.set_finding_id(kFinding);
    x_.set_owner_unit_id(kOwner);
    x_.set_measure("退还超标准费用");
    x_.set_version(4);
    *x_.mutable_deadline_at() = db::TimestampOf(kNow - std::chrono::hours(24 * 40));
  }
  // `x_` signed off `days_ago` days before now (look-back window of the policy's 90 days).
  void SignedOff(int days_ago) {
    x_.set_state(S::RECTIFICATION_STATE_SIGNED_OFF);
    x_.set_spot_check(true);
    *x_.mutable_signed_off_at() = db::TimestampOf(kNow - std::chrono::hours(24 * days_ago));
    *x_.mutable_lookback_until() = db::TimestampOf(kNow - std::chrono::hours(24 * (days_ago - 90)));
  }
  static std::string Type(const v1::RectificationEventPayload& e) { return events::Encode(e)->type; }

  workdays::Calendar calendar_;
  Rules rules_;
  v1::Rectification x_;
};

TEST_F(RectificationDecideTest, ReopeningWorksWithinTheLookBackWindowOnly) {
  SignedOff(89);
  auto inside = Decide(x_, Party::kReviewer, {Action::kReopen, "回头看发现问题反弹", {}, 4}, rules_);
  ASSERT_TRUE(inside.ok()) << inside.status();
  EXPECT_EQ(inside->after.state(), S::RECTIFICATION_STATE_OPEN);
  SignedOff(91);
  auto closed = Decide(x_, Party::kReviewer, {Action::kReopen, "too late", {}, 4}, rules_);
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(std::string(closed.status().message()).find("回头看"), std::string::npos) << closed.status();
  // The owner is refused as the wrong party before anything else is looked at.
  auto owner = Decide(x_, Party::kOwner, {Action::kReopen, "too late", {}, 9}, rules_);
  EXPECT_EQ(owner.status().code(), Code::kPermissionDenied) << owner.status();
}

TEST_F(RectificationDecideTest, AStaleVersionIsRefusedAfterThePartyAndBeforeTheState) {
  x_.set_state(S::RECTIFICATION_STATE_SIGNED_OFF);  // submitting is illegal here
  auto stale = Decide(x_, Party::kOwner, {Action::kSubmit, "done", {}, 3}, rules_);
  EXPECT_EQ(stale.status().code(), Code::kAborted) << stale.status();
  EXPECT_EQ(std::string(stale.status().message()), "rectification changed: version is 4");
  auto any = Decide(x_, Party::kOwner, {Action::kSubmit, "done", {}, 0}, rules_);
  EXPECT_EQ(any.status().code(), Code::kFailedPrecondition) << any.status();
  auto wrong = Decide(x_, Party::kReviewer, {Action::kSubmit, "done", {}, 3}, rules_);
  EXPECT_EQ(wrong.status().code(), Code::kPermissionDenied) << wrong.status();
}

TEST_F(RectificationDecideTest, TheSpotCheckDrawIsStable) {
  // The same id draws the same way, on every call and at every sign-off.
  int drawn = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = "00000000-0000-7000-8000-" + std::to_string(100000000000 + i);
    const bool first = SpotCheck(id, 20);
    EXPECT_EQ(SpotCheck(id, 20), first) << id;
    EXPECT_FALSE(SpotCheck(id, 0)) << id;
    EXPECT_TRUE(SpotCheck(id, 100)) << id;
    drawn += first ? 1 : 0;
  }
  // About the percentage asked for.
  EXPECT_GT(drawn, 150);
  EXPECT_LT(drawn, 250);
  x_.set_state(S::RECTIFICATION_STATE_SUBMITTED);
  x_.set_overdue(true);
  for (int round = 0; round < 2; ++round) {
    auto step = Decide(x_, Party::kReviewer, {Action::kApprove, "", {}, 4}, rules_);
    ASSERT_TRUE(step.ok()) << step.status();
    EXPECT_EQ(step->after.spot_check(), SpotCheck(kId, 50));
    EXPECT_EQ(step->event.rectification_signed_off().spot_check(), SpotCheck(kId, 50));
    EXPECT_FALSE(step->after.overdue());
    EXPECT_EQ(step->after.lookback_until().seconds(), ToUnixSeconds(kNow + std::chrono::hours(24 * 90)));
  }
}

TEST_F(RectificationDecideTest, ReopeningResetsTheSignOff) {
  SignedOff(10);
  x_.set_reopened(1);
  x_.set_overdue(false);
  auto step = Decide(x_, Party::kReviewer, {Action::kReopen, "问题反弹", {}, 4}, rules_);
  ASSERT_TRUE(step.ok()) << step.status();
  const v1::Rectification& after = step->after;
  EXPECT_EQ(after.state(), S::RECTIFICATION_STATE_OPEN);
  EXPECT_EQ(after.reopened(), 2);
  EXPECT_EQ(after.version(), 5);
  EXPECT_FALSE(after.has_signed_off_at());
  EXPECT_FALSE(after.has_lookback_until());
  EXPECT_FALSE(after.spot_check());
  EXPECT_EQ(after.last_note(), "问题反弹");
  // A new deadline: the policy's 30 working days from now.
  EXPECT_EQ(after.deadline_at().seconds(), ToUnixSeconds(calendar_.Deadline(kNow, 30)));
  // What it does not touch.
  EXPECT_EQ(after.id(), kId);
  EXPECT_EQ(after.finding_id(), kFinding);
  EXPECT_EQ(after.owner_unit_id(), kOwner);
  EXPECT_EQ(after.measure(), x_.measure());
  EXPECT_EQ(Type(step->event), "rectification_reopened");
  EXPECT_EQ(step->event.rectification_reopened().reason(), "问题反弹");
  EXPECT_EQ(step->event.rectification_reopened().from(), S::RECTIFICATION_STATE_SIGNED_OFF);
  EXPECT_EQ(step->event.rectification_reopened().to(), S::RECTIFICATION_STATE_OPEN);
}

TEST_F(RectificationDecideTest, OpenSetsTheDeadlineAndTheOverdueRuleMarksOnce) {
  Step opened = Open(kId, kFinding, "建立台账", kOwner, 5, rules_);
  EXPECT_EQ(opened.after.state(), S::RECTIFICATION_STATE_OPEN);
  EXPECT_EQ(opened.after.version(), 1);
  EXPECT_EQ(opened.after.deadline_at().seconds(), ToUnixSeconds(calendar_.Deadline(kNow, 5)));
  EXPECT_EQ(Open(kId, kFinding, "建立台账", kOwner, 0, rules_).after.deadline_at().seconds(),
            ToUnixSeconds(calendar_.Deadline(kNow, 30)));
  EXPECT_EQ(Type(opened.event), "rectification_added");
  EXPECT_FALSE(IsOverdue(opened.after, kNow));
  x_.set_state(S::RECTIFICATION_STATE_OPEN);
  EXPECT_TRUE(IsOverdue(x_, kNow));
  Step marked = Escalate(x_);
  EXPECT_TRUE(marked.after.overdue());
  EXPECT_EQ(marked.after.version(), 5);
  EXPECT_FALSE(IsOverdue(marked.after, kNow));
  x_.set_state(S::RECTIFICATION_STATE_SUBMITTED);
  EXPECT_FALSE(IsOverdue(x_, kNow));  // waiting for review is not the owner's delay
}

}  // namespace
}  // namespace sm::rectification
