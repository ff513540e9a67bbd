// The clue state machine over every (state, action, relation) triple, against an explicit
// table of the legal steps. Everything not in the table must be refused: with
// FAILED_PRECONDITION naming the state when the step is illegal in that state, and with
// PERMISSION_DENIED when it is legal but not for that caller.
#include "services/clue/workflow.h"

#include <gtest/gtest.h>

#include <map>
#include <tuple>

namespace sm::clue {
namespace {

using S = v1::ClueState;
using M = v1::DispositionMethod;

struct Legal {
  Relation who;
  S next;
  Stage stage;
};

// (state, action, method or UNSPECIFIED, case_filed) -> the legal step.
using Key = std::tuple<S, Action, M, bool>;

std::map<Key, Legal> Table() {
  std::map<Key, Legal> t;
  const M none = v1::DISPOSITION_METHOD_UNSPECIFIED;
  for (bool cf : {false, true}) {
    for (S s : {S::CLUE_STATE_REGISTERED, S::CLUE_STATE_HELD}) {
      t[{s, Action::kTransfer, none, cf}] = {Relation::kHolder, S::CLUE_STATE_OFFERED, Stage::kAccept};
      t[{s, Action::kDispose, v1::DISPOSITION_METHOD_TALK_OR_LETTER, cf}] = {Relation::kHolder, S::CLUE_STATE_IN_HANDLING, Stage::kHandle};
      t[{s, Action::kDispose, v1::DISPOSITION_METHOD_VERIFICATION, cf}] = {Relation::kHolder, S::CLUE_STATE_IN_HANDLING, Stage::kHandle};
      t[{s, Action::kDispose, v1::DISPOSITION_METHOD_SHELVE, cf}] = {Relation::kHolder, S::CLUE_STATE_SHELVED, Stage::kNone};
      t[{s, Action::kDispose, v1::DISPOSITION_METHOD_CLOSE, cf}] = {Relation::kHolder, S::CLUE_STATE_CONCLUDED, Stage::kNone};
    }
    // A shelved clue is taken up again by any method but shelving.
    t[{S::CLUE_STATE_SHELVED, Action::kDispose, v1::DISPOSITION_METHOD_TALK_OR_LETTER, cf}] = {Relation::kHolder, S::CLUE_STATE_IN_HANDLING, Stage::kHandle};
    t[{S::CLUE_STATE_SHELVED, Action::kDispose, v1::DISPOSITION_METHOD_VERIFICATION, cf}] = {Relation::kHolder, S::CLUE_STATE_IN_HANDLING, Stage::kHandle};
    t[{S::CLUE_STATE_SHELVED, Action::kDispose, v1::DISPOSITION_METHOD_CLOSE, cf}] = {Relation::kHolder, S::CLUE_STATE_CONCLUDED, Stage::kNone};
    t[{S::CLUE_STATE_OFFERED, Action::kAccept, none, cf}] = {Relation::kOfferee, S::CLUE_STATE_HELD, Stage::kDispose};
    t[{S::CLUE_STATE_OFFERED, Action::kReturn, none, cf}] = {Relation::kOfferee, S::CLUE_STATE_HELD, Stage::kDispose};
    for (S s : {S::CLUE_STATE_REGISTERED, S::CLUE_STATE_HELD, S::CLUE_STATE_IN_HANDLING, S::CLUE_STATE_CASE_FILED}) {
      t[{s, Action::kAssign, none, cf}] = {Relation::kHolder, s, Stage::kNone};
    }
    t[{S::CLUE_STATE_CASE_FILED, Action::kConclude, none, cf}] = {Relation::kHolder, S::CLUE_STATE_CONCLUDED, Stage::kNone};
  }
  t[{S::CLUE_STATE_IN_HANDLING, Action::kConclude, v1::DISPOSITION_METHOD_UNSPECIFIED, false}] = {Relation::kHolder, S::CLUE_STATE_CONCLUDED, Stage::kNone};
  t[{S::CLUE_STATE_IN_HANDLING, Action::kConclude, v1::DISPOSITION_METHOD_UNSPECIFIED, true}] = {Relation::kHolder, S::CLUE_STATE_CASE_FILED, Stage::kConclude};
  return t;
}

TEST(ClueWorkflowTest, EveryStateActionRelationTriple) {
  const auto table = Table();
  int checked = 0, legal = 0;
  for (int si = v1::ClueState_MIN; si <= v1::ClueState_MAX; ++si) {
    const S state = static_cast<S>(si);
    for (Action action : kAllActions) {
      // Dispose is checked for each method (and a missing one); the rest with none.
      std::vector<M> methods = {v1::DISPOSITION_METHOD_UNSPECIFIED};
      if (action == Action::kDispose) {
        for (int m = v1::DispositionMethod_MIN + 1; m <= v1::DispositionMethod_MAX; ++m) methods.push_back(static_cast<M>(m));
      }
      for (M method : methods) {
        for (bool case_filed : {false, true}) {
          for (Relation rel : kAllRelations) {
            auto got = Next(state, action, rel, method, case_filed);
            const std::string where = std::string(StateName(state)) + " / " + std::string(ActionName(action)) +
                                      " / method " + std::to_string(method) + " / case_filed " +
                                      std::to_string(case_filed) + " / relation " + std::to_string(static_cast<int>(rel));
            ++checked;
            auto it = table.find({state, action, method, case_filed});
            if (it == table.end()) {
              ASSERT_FALSE(got.ok()) << where << " should be refused";
              if (action == Action::kDispose && method == v1::DISPOSITION_METHOD_UNSPECIFIED &&
                  (state == S::CLUE_STATE_REGISTERED || state == S::CLUE_STATE_HELD || state == S::CLUE_STATE_SHELVED)) {
                EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << where;
                continue;
              }
              EXPECT_EQ(got.status().code(), absl::StatusCode::kFailedPrecondition) << where;
              EXPECT_NE(std::string(got.status().message()).find(StateName(state)), std::string::npos)
                  << where << ": " << got.status().message();
            } else if (it->second.who != rel) {
              ASSERT_FALSE(got.ok()) << where << " is not for this caller";
              EXPECT_EQ(got.status().code(), absl::StatusCode::kPermissionDenied) << where;
            } else {
              ASSERT_TRUE(got.ok()) << where << ": " << got.status();
              EXPECT_EQ(got->next, it->second.next) << where;
              EXPECT_EQ(got->stage, it->second.stage) << where;
              ++legal;
            }
          }
        }
      }
    }
  }
  // 9 states x (5 actions + dispose with 5 methods) x 2 x 3 relations.
  EXPECT_EQ(checked, 9 * (5 + 5) * 2 * 3);
  EXPECT_EQ(legal, static_cast<int>(table.size()));
}

TEST(ClueWorkflowTest, TheClockRunsOnlyWhileTheClueIsOpen) {
  EXPECT_TRUE(ClockRuns(S::CLUE_STATE_REGISTERED));
  EXPECT_TRUE(ClockRuns(S::CLUE_STATE_OFFERED));
  EXPECT_TRUE(ClockRuns(S::CLUE_STATE_HELD));
  EXPECT_TRUE(ClockRuns(S::CLUE_STATE_IN_HANDLING));
  EXPECT_TRUE(ClockRuns(S::CLUE_STATE_CASE_FILED));
  EXPECT_FALSE(ClockRuns(S::CLUE_STATE_SHELVED));  // 暂存待查 pauses the clock
  EXPECT_FALSE(ClockRuns(S::CLUE_STATE_CONCLUDED));
  EXPECT_FALSE(ClockRuns(S::CLUE_STATE_MERGED));
  EXPECT_FALSE(ClockRuns(S::CLUE_STATE_UNSPECIFIED));
}

}  // namespace
}  // namespace sm::clue
