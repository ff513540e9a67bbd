// The clue state machine over every (state, action, relation) triple, against an explicit
// table of the legal steps. Everything not in the table must be refused: with
// PERMISSION_DENIED when the caller is not the party the action belongs to (whatever the
// state, so the refusal tells nothing of it), else FAILED_PRECONDITION naming the state when
// the step is illegal in that state.
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
      t[{s, Action::kDispose, v1::DISPOSITION_METHOD_TALK_OR_LETTER, cf}] = {Relation::kHolder,
                                                                             S::CLUE_STATE_IN_HANDLING, Stage::kHandle};
      t[{s, Action::kDispose, v1::DISPOSITION_METHOD_VERIFICATION, cf}] = {Relation::kHolder, S::CLUE_STATE_IN_HANDLING,
                                                                           Stage::kHandle};
      t[{s, Action::kDispose, v1::DISPOSITION_METHOD_SHELVE, cf}] = {Relation::kHolder, S::CLUE_STATE_SHELVED,
                                                                     Stage::kNone};
      t[{s, Action::kDispose, v1::DISPOSITION_METHOD_CLOSE, cf}] = {Relation::kHolder, S::CLUE_STATE_CONCLUDED,
                                                                    Stage::kNone};
    }
    // A shelved clue is taken up again by any method but shelving.
    t[{S::CLUE_STATE_SHELVED, Action::kDispose, v1::DISPOSITION_METHOD_TALK_OR_LETTER, cf}] = {
        Relation::kHolder, S::CLUE_STATE_IN_HANDLING, Stage::kHandle};
    t[{S::CLUE_STATE_SHELVED, Action::kDispose, v1::DISPOSITION_METHOD_VERIFICATION, cf}] = {
        Relation::kHolder, S::CLUE_STATE_IN_HANDLING, Stage::kHandle};
    t[{S::CLUE_STATE_SHELVED, Action::kDispose, v1::DISPOSITION_METHOD_CLOSE, cf}] = {
        Relation::kHolder, S::CLUE_STATE_CONCLUDED, Stage::kNone};
    t[{S::CLUE_STATE_OFFERED, Action::kAccept, none, cf}] = {Relation::kOfferee, S::CLUE_STATE_HELD, Stage::kDispose};
    t[{S::CLUE_STATE_OFFERED, Action::kReturn, none, cf}] = {Relation::kOfferee, S::CLUE_STATE_HELD, Stage::kDispose};
    for (S s : {S::CLUE_STATE_REGISTERED, S::CLUE_STATE_HELD, S::CLUE_STATE_IN_HANDLING, S::CLUE_STATE_CASE_FILED}) {
      t[{s, Action::kAssign, none, cf}] = {Relation::kHolder, s, Stage::kNone};
    }
    t[{S::CLUE_STATE_CASE_FILED, Action::kConclude, none, cf}] = {Relation::kHolder, S::CLUE_STATE_CONCLUDED,
                                                                  Stage::kNone};
  }
  t[{S::CLUE_STATE_IN_HANDLING, Action::kConclude, v1::DISPOSITION_METHOD_UNSPECIFIED, false}] = {
      Relation::kHolder, S::CLUE_STATE_CONCLUDED, Stage::kNone};
  t[{S::CLUE_STATE_IN_HANDLING, Action::kConclude, v1::DISPOSITION_METHOD_UNSPECIFIED, true}] = {
      Relation::kHolder, S::CLUE_STATE_CASE_FILED, Stage::kConclude};
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
        for (int m = v1::DispositionMethod_MIN + 1; m <= v1::DispositionMethod_MAX; ++m)
          methods.push_back(static_cast<M>(m));
      }
      for (M method : methods) {
        for (bool case_filed : {false, true}) {
          for (Relation rel : kAllRelations) {
            auto got = Next(state, action, rel, method, case_filed);
            const std::string where = std::string(StateName(state)) + " / " + std::string(ActionName(action)) +
                                      " / method " + std::to_string(method) + " / case_filed " +
                                      std::to_string(case_filed) + " / relation " +
                                      std::to_string(static_cast<int>(rel));
            ++checked;
            auto it = table.find({state, action, method, case_filed});
            // The party is checked first: another caller is refused whatever the state.
            const Relation party =
                action == Action::kAccept || action == Action::kReturn ? Relation::kOfferee : Relation::kHolder;
            if (rel != party) {
              ASSERT_FALSE(got.ok()) << where << " is not for this caller";
              EXPECT_EQ(got.status().code(), absl::StatusCode::kPermissionDenied) << where;
              EXPECT_EQ(std::string(got.status().message()).find(StateName(state)), std::string::npos)
                  << where << ": the refusal must not name the state";
              continue;
            }
            if (it == table.end()) {
              ASSERT_FALSE(got.ok()) << where << " should be refused";
              if (action == Action::kDispose && method == v1::DISPOSITION_METHOD_UNSPECIFIED &&
                  (state == S::CLUE_STATE_REGISTERED || state == S::CLUE_STATE_HELD ||
                   state == S::CLUE_STATE_SHELVED)) {
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

// ---------------------------------------------------------------------------------------
// The two-person rule for the reporter: every (state, action, party) with the last vote and
// not, against the few legal steps; everything else refused with the right code.

namespace sm::clue {
namespace {

using RS = v1::RevealState;

TEST(RevealWorkflowTest, EveryStateActionPartyCombination) {
  // (state, action, party, last vote) -> the state after; nothing else is legal.
  std::map<std::tuple<RS, RevealAction, RevealParty, bool>, RS> legal;
  for (bool last : {false, true}) {
    legal[{RS::REVEAL_STATE_PENDING, RevealAction::kApprove, RevealParty::kCustodian, last}] =
        last ? RS::REVEAL_STATE_APPROVED : RS::REVEAL_STATE_PENDING;
    legal[{RS::REVEAL_STATE_PENDING, RevealAction::kRefuse, RevealParty::kCustodian, last}] = RS::REVEAL_STATE_REFUSED;
    legal[{RS::REVEAL_STATE_APPROVED, RevealAction::kReveal, RevealParty::kRequester, last}] = RS::REVEAL_STATE_USED;
  }
  // Parties who may take an action in some state; the rest are PERMISSION_DENIED in all.
  auto may_ever = [](RevealAction a, RevealParty p) {
    if (a == RevealAction::kReveal) return p == RevealParty::kRequester;
    return p == RevealParty::kCustodian || p == RevealParty::kDecidedCustodian;
  };
  int checked = 0, ok = 0;
  for (int si = v1::RevealState_MIN; si <= v1::RevealState_MAX; ++si) {
    const RS state = static_cast<RS>(si);
    for (RevealAction action : kAllRevealActions) {
      for (RevealParty party : kAllRevealParties) {
        for (bool last : {false, true}) {
          // N = 2: one approval in makes the next one the last.
          auto got = NextReveal(state, action, party, last ? 1 : 0, 2);
          const std::string where = std::string(RevealStateName(state)) + " / " +
                                    std::string(RevealActionName(action)) + " / party " +
                                    std::to_string(static_cast<int>(party)) + " / last " + std::to_string(last);
          ++checked;
          auto it = legal.find({state, action, party, last});
          if (it != legal.end()) {
            ASSERT_TRUE(got.ok()) << where << ": " << got.status();
            EXPECT_EQ(*got, it->second) << where;
            ++ok;
            continue;
          }
          ASSERT_FALSE(got.ok()) << where << " should be refused";
          if (!may_ever(action, party)) {
            EXPECT_EQ(got.status().code(), absl::StatusCode::kPermissionDenied) << where << ": " << got.status();
          } else {
            EXPECT_EQ(got.status().code(), absl::StatusCode::kFailedPrecondition) << where << ": " << got.status();
            EXPECT_NE(std::string(got.status().message()).find(RevealStateName(state)), std::string::npos)
                << where << ": " << got.status().message();
          }
        }
      }
    }
  }
  // 6 states (with UNSPECIFIED) x 3 actions x 5 parties x 2: a new state, action or party
  // changes the count and must be added to the table.
  EXPECT_EQ(checked, 6 * 3 * 5 * 2);
  EXPECT_EQ(ok, static_cast<int>(legal.size()));
  EXPECT_EQ(ok, 6);
}

TEST(RevealWorkflowTest, ApprovalCountsAgainstN) {
  // 1-of-M: the first approval approves; 3-of-M: the third.
  EXPECT_EQ(*NextReveal(RS::REVEAL_STATE_PENDING, RevealAction::kApprove, RevealParty::kCustodian, 0, 1),
            RS::REVEAL_STATE_APPROVED);
  EXPECT_EQ(*NextReveal(RS::REVEAL_STATE_PENDING, RevealAction::kApprove, RevealParty::kCustodian, 1, 3),
            RS::REVEAL_STATE_PENDING);
  EXPECT_EQ(*NextReveal(RS::REVEAL_STATE_PENDING, RevealAction::kApprove, RevealParty::kCustodian, 2, 3),
            RS::REVEAL_STATE_APPROVED);
  // A refusal ends the request however many approvals are in.
  EXPECT_EQ(*NextReveal(RS::REVEAL_STATE_PENDING, RevealAction::kRefuse, RevealParty::kCustodian, 2, 3),
            RS::REVEAL_STATE_REFUSED);
  // A second decision by the same custodian names why.
  auto twice = NextReveal(RS::REVEAL_STATE_PENDING, RevealAction::kApprove, RevealParty::kDecidedCustodian, 1, 3);
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(std::string(twice.status().message()).find("already decided"), std::string::npos);
}

TEST(RevealWorkflowTest, PartyOfACaller) {
  struct Case {
    bool requester, custodian;
    int clearance;
    bool decided;
    RevealParty want;
  };
  const Case cases[] = {
      {true, true, 3, false, RevealParty::kRequester},  // never one's own custodian
      {true, false, 2, false, RevealParty::kRequester},
      {false, true, 2, false, RevealParty::kCustodian},
      {false, true, 3, true, RevealParty::kDecidedCustodian},
      {false, true, 1, false, RevealParty::kUnclearedCustodian},
      {false, true, 0, true, RevealParty::kUnclearedCustodian},
      {false, false, 3, false, RevealParty::kOther},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(RevealPartyOf(c.requester, c.custodian, c.clearance, c.decided), c.want)
        << c.requester << c.custodian << c.clearance << c.decided;
  }
}

TEST(RevealWorkflowTest, WhoMayAsk) {
  EXPECT_TRUE(MayRequestReveal(true, true, 2, true).ok());
  EXPECT_TRUE(MayRequestReveal(true, true, 3, true).ok());
  EXPECT_EQ(MayRequestReveal(true, true, 1, true).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(MayRequestReveal(true, false, 3, true).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(MayRequestReveal(false, true, 3, true).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(MayRequestReveal(true, true, 2, false).code(), absl::StatusCode::kFailedPrecondition);
  // Who is asking is checked before what is on file: no hint to outsiders.
  EXPECT_EQ(MayRequestReveal(true, false, 2, false).code(), absl::StatusCode::kPermissionDenied);
}

TEST(RevealWorkflowTest, AnApprovedRequestExpiresAtTheEndOfItsWindow) {
  const TimePoint t0 = FromUnixSeconds(1700000000);
  const TimePoint end = t0 + std::chrono::minutes(60);
  EXPECT_EQ(EffectiveRevealState(RS::REVEAL_STATE_APPROVED, end, t0), RS::REVEAL_STATE_APPROVED);
  EXPECT_EQ(EffectiveRevealState(RS::REVEAL_STATE_APPROVED, end, end - std::chrono::seconds(1)),
            RS::REVEAL_STATE_APPROVED);
  EXPECT_EQ(EffectiveRevealState(RS::REVEAL_STATE_APPROVED, end, end), RS::REVEAL_STATE_EXPIRED);
  // Other states do not expire; a used request stays used.
  for (RS s : {RS::REVEAL_STATE_PENDING, RS::REVEAL_STATE_REFUSED, RS::REVEAL_STATE_USED}) {
    EXPECT_EQ(EffectiveRevealState(s, end, end + std::chrono::hours(1)), s);
  }
  EXPECT_EQ(EffectiveRevealState(RS::REVEAL_STATE_PENDING, std::nullopt, end), RS::REVEAL_STATE_PENDING);
}

}  // namespace
}  // namespace sm::clue
