// The audit rules over every combination: engagement stages (forward one at a time) and
// the rectification state machine over every (state, action, party) triple, against an
// explicit table of the legal steps.
#include "services/audit/workflow.h"

#include <map>
#include <tuple>

#include <gtest/gtest.h>

#include "common/event_payload.h"

namespace sm::audit {
namespace {

using S = v1::RectificationState;

TEST(AuditWorkflowTest, EngagementsMoveForwardOneStageAtATime) {
  for (int from = v1::EngagementState_MIN; from <= v1::EngagementState_MAX; ++from) {
    for (int to = v1::EngagementState_MIN; to <= v1::EngagementState_MAX; ++to) {
      const auto f = static_cast<v1::EngagementState>(from);
      const auto t = static_cast<v1::EngagementState>(to);
      const bool legal = from >= v1::ENGAGEMENT_STATE_PLANNED && from < v1::ENGAGEMENT_STATE_CLOSED && to == from + 1;
      absl::Status s = CheckEngagementStep(f, t);
      EXPECT_EQ(s.ok(), legal) << from << " -> " << to;
      if (!legal) {
        EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
        EXPECT_NE(std::string(s.message()).find(EngagementStateName(f)), std::string::npos) << s.message();
      }
    }
  }
}

TEST(AuditWorkflowTest, EveryRectificationStateActionPartyTriple) {
  struct Legal {
    Party who;
    S next;
  };
  const std::map<std::pair<S, RectAction>, Legal> table = {
      {{S::RECTIFICATION_STATE_OPEN, RectAction::kProgress}, {Party::kOwner, S::RECTIFICATION_STATE_OPEN}},
      {{S::RECTIFICATION_STATE_OPEN, RectAction::kSubmit}, {Party::kOwner, S::RECTIFICATION_STATE_SUBMITTED}},
      {{S::RECTIFICATION_STATE_SUBMITTED, RectAction::kApprove}, {Party::kReviewer, S::RECTIFICATION_STATE_SIGNED_OFF}},
      {{S::RECTIFICATION_STATE_SUBMITTED, RectAction::kReject}, {Party::kReviewer, S::RECTIFICATION_STATE_OPEN}},
      {{S::RECTIFICATION_STATE_SIGNED_OFF, RectAction::kReopen}, {Party::kReviewer, S::RECTIFICATION_STATE_OPEN}},
  };
  int checked = 0, legal = 0;
  for (int si = v1::RectificationState_MIN; si <= v1::RectificationState_MAX; ++si) {
    const auto state = static_cast<S>(si);
    for (RectAction action :
         {RectAction::kProgress, RectAction::kSubmit, RectAction::kApprove, RectAction::kReject, RectAction::kReopen}) {
      for (Party party : {Party::kReviewer, Party::kOwner, Party::kOther}) {
        ++checked;
        auto got = NextRectification(state, action, party);
        const std::string where = std::string(RectificationStateName(state)) + " / " +
                                  std::string(RectActionName(action)) + " / party " +
                                  std::to_string(static_cast<int>(party));
        auto it = table.find({state, action});
        if (it == table.end()) {
          ASSERT_FALSE(got.ok()) << where;
          EXPECT_EQ(got.status().code(), absl::StatusCode::kFailedPrecondition) << where;
          EXPECT_NE(std::string(got.status().message()).find(RectificationStateName(state)), std::string::npos)
              << where;
        } else if (it->second.who != party) {
          ASSERT_FALSE(got.ok()) << where;
          EXPECT_EQ(got.status().code(), absl::StatusCode::kPermissionDenied) << where;
        } else {
          ASSERT_TRUE(got.ok()) << where << ": " << got.status();
          EXPECT_EQ(*got, it->second.next) << where;
          ++legal;
        }
      }
    }
  }
  EXPECT_EQ(checked, 4 * 5 * 3);
  EXPECT_EQ(legal, static_cast<int>(table.size()));
}

// A clue event as stored (type and JSON), decoded as the consumer does, then mapped.
std::optional<ReferralUpdate> FromClueEvent(const std::string& type, const std::string& json) {
  auto e = events::Decode<v1::ClueEventPayload>(type, json);
  if (!e.ok()) {
    ADD_FAILURE() << e.status();
    return std::nullopt;
  }
  return audit::FromClueEvent(*e);
}

TEST(AuditWorkflowTest, ClueEventsMapOntoTheReferral) {
  auto reg = FromClueEvent("registered", "{}");
  ASSERT_TRUE(reg);
  EXPECT_EQ(*reg->clue_state, v1::CLUE_STATE_REGISTERED);
  auto disposed = FromClueEvent("disposed", R"({"method":"DISPOSITION_METHOD_SHELVE"})");
  ASSERT_TRUE(disposed);
  EXPECT_EQ(*disposed->clue_state, v1::CLUE_STATE_SHELVED);
  EXPECT_EQ(*disposed->disposition, v1::DISPOSITION_METHOD_SHELVE);
  auto closed = FromClueEvent("disposed", R"({"method":"DISPOSITION_METHOD_CLOSE","reason":"不属实"})");
  ASSERT_TRUE(closed);
  EXPECT_EQ(*closed->clue_state, v1::CLUE_STATE_CONCLUDED);
  EXPECT_EQ(*closed->feedback, "不属实");
  auto concluded = FromClueEvent("concluded", R"({"form":3,"feedback":"给予撤职处分"})");
  ASSERT_TRUE(concluded);
  EXPECT_EQ(*concluded->outcome_form, 3);
  EXPECT_EQ(*concluded->feedback, "给予撤职处分");
  EXPECT_EQ(*FromClueEvent("case_filed", R"({"form":4})")->clue_state, v1::CLUE_STATE_CASE_FILED);
  EXPECT_EQ(*FromClueEvent("merged_into", "{}")->clue_state, v1::CLUE_STATE_MERGED);
  EXPECT_FALSE(FromClueEvent("note", "{}"));  // no effect on the finding
  EXPECT_FALSE(FromClueEvent("reporter_revealed", "{}"));
  EXPECT_FALSE(FromClueEvent("disposed", "{}"));  // no method: nothing to show
  // Malformed data or an unknown type does not decode (the consumer skips it and counts it).
  EXPECT_FALSE(events::Decode<v1::ClueEventPayload>("accepted", "not json").ok());
  EXPECT_TRUE(events::IsUnknownType(events::Decode<v1::ClueEventPayload>("teleported", "{}").status()));
}

}  // namespace
}  // namespace sm::audit
