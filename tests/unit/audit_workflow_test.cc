// The audit rules over every combination: engagement stages (forward one at a time), and
// how clue events show on a referred finding. (The rectification state machine is shared:
// tests/unit/rectification_test.cc.)
#include "services/audit/workflow.h"

#include <gtest/gtest.h>

#include "common/event_payload.h"

namespace sm::audit {
namespace {

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
