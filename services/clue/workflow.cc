#include "services/clue/workflow.h"

#include "common/status.h"

namespace sm::clue {
namespace {

absl::Status Illegal(v1::ClueState state, Action action) {
  return absl::FailedPreconditionError("cannot " + std::string(ActionName(action)) +
                                       " a clue in state " + std::string(StateName(state)));
}

}  // namespace

std::string_view ActionName(Action a) {
  switch (a) {
    case Action::kTransfer: return "transfer";
    case Action::kAccept: return "accept";
    case Action::kReturn: return "return";
    case Action::kAssign: return "assign a handler to";
    case Action::kDispose: return "dispose of";
    case Action::kConclude: return "conclude";
  }
  return "?";
}

std::string_view StateName(v1::ClueState s) {
  switch (s) {
    case v1::CLUE_STATE_REGISTERED: return "REGISTERED";
    case v1::CLUE_STATE_OFFERED: return "OFFERED";
    case v1::CLUE_STATE_HELD: return "HELD";
    case v1::CLUE_STATE_IN_HANDLING: return "IN_HANDLING";
    case v1::CLUE_STATE_SHELVED: return "SHELVED";
    case v1::CLUE_STATE_CASE_FILED: return "CASE_FILED";
    case v1::CLUE_STATE_CONCLUDED: return "CONCLUDED";
    case v1::CLUE_STATE_MERGED: return "MERGED";
    default: return "UNSPECIFIED";
  }
}

std::string_view StageName(Stage s) {
  switch (s) {
    case Stage::kNone: return "";
    case Stage::kAccept: return "accept";
    case Stage::kDispose: return "dispose";
    case Stage::kHandle: return "handle";
    case Stage::kConclude: return "conclude";
  }
  return "";
}

bool ClockRuns(v1::ClueState s) {
  return s == v1::CLUE_STATE_REGISTERED || s == v1::CLUE_STATE_OFFERED || s == v1::CLUE_STATE_HELD ||
         s == v1::CLUE_STATE_IN_HANDLING || s == v1::CLUE_STATE_CASE_FILED;
}

absl::StatusOr<Step> Next(v1::ClueState state, Action action, Relation relation,
                          v1::DispositionMethod method, bool case_filed) {
  using S = v1::ClueState;
  // Who may act comes first: a caller who may not take this step learns nothing of the
  // clue's state from the refusal.
  const Relation party = (action == Action::kAccept || action == Action::kReturn) ? Relation::kOfferee : Relation::kHolder;
  if (relation != party) {
    return absl::PermissionDeniedError(std::string("only the unit ") +
                                       (party == Relation::kHolder ? "holding the clue" : "the clue is offered to") +
                                       " may " + std::string(ActionName(action)) + " it");
  }
  auto holder_only = [&](Step step) -> absl::StatusOr<Step> {
    if (relation != Relation::kHolder) {
      return absl::PermissionDeniedError("only the unit holding the clue may " + std::string(ActionName(action)) + " it");
    }
    return step;
  };
  auto offeree_only = [&](Step step) -> absl::StatusOr<Step> {
    if (relation != Relation::kOfferee) {
      return absl::PermissionDeniedError("only the unit the clue is offered to may " +
                                         std::string(ActionName(action)) + " it");
    }
    return step;
  };
  switch (action) {
    case Action::kTransfer:
      if (state == S::CLUE_STATE_REGISTERED || state == S::CLUE_STATE_HELD) {
        return holder_only({S::CLUE_STATE_OFFERED, Stage::kAccept});
      }
      return Illegal(state, action);
    case Action::kAccept:
      if (state == S::CLUE_STATE_OFFERED) return offeree_only({S::CLUE_STATE_HELD, Stage::kDispose});
      return Illegal(state, action);
    case Action::kReturn:
      if (state == S::CLUE_STATE_OFFERED) return offeree_only({S::CLUE_STATE_HELD, Stage::kDispose});
      return Illegal(state, action);
    case Action::kAssign:
      if (state == S::CLUE_STATE_REGISTERED || state == S::CLUE_STATE_HELD ||
          state == S::CLUE_STATE_IN_HANDLING || state == S::CLUE_STATE_CASE_FILED) {
        return holder_only({state, Stage::kNone});  // the stage clock is unchanged
      }
      return Illegal(state, action);
    case Action::kDispose: {
      const bool from_held = state == S::CLUE_STATE_REGISTERED || state == S::CLUE_STATE_HELD;
      const bool from_shelf = state == S::CLUE_STATE_SHELVED;  // re-activating a shelved clue
      if (!from_held && !from_shelf) return Illegal(state, action);
      switch (method) {
        case v1::DISPOSITION_METHOD_TALK_OR_LETTER:
        case v1::DISPOSITION_METHOD_VERIFICATION:
          return holder_only({S::CLUE_STATE_IN_HANDLING, Stage::kHandle});
        case v1::DISPOSITION_METHOD_SHELVE:
          if (from_shelf) return absl::FailedPreconditionError("the clue is already in state SHELVED");
          return holder_only({S::CLUE_STATE_SHELVED, Stage::kNone});
        case v1::DISPOSITION_METHOD_CLOSE:
          return holder_only({S::CLUE_STATE_CONCLUDED, Stage::kNone});
        default:
          return InvalidField("method", "must be one of the four disposition methods");
      }
    }
    case Action::kConclude:
      if (state == S::CLUE_STATE_IN_HANDLING) {
        return holder_only(case_filed ? Step{S::CLUE_STATE_CASE_FILED, Stage::kConclude}
                                      : Step{S::CLUE_STATE_CONCLUDED, Stage::kNone});
      }
      if (state == S::CLUE_STATE_CASE_FILED) return holder_only({S::CLUE_STATE_CONCLUDED, Stage::kNone});
      return Illegal(state, action);
  }
  return Illegal(state, action);
}

}  // namespace sm::clue

namespace sm::clue {

std::string_view RevealActionName(RevealAction a) {
  switch (a) {
    case RevealAction::kApprove: return "approve";
    case RevealAction::kRefuse: return "refuse";
    case RevealAction::kReveal: return "use";
  }
  return "?";
}

std::string_view RevealStateName(v1::RevealState s) {
  switch (s) {
    case v1::REVEAL_STATE_PENDING: return "PENDING";
    case v1::REVEAL_STATE_APPROVED: return "APPROVED";
    case v1::REVEAL_STATE_REFUSED: return "REFUSED";
    case v1::REVEAL_STATE_USED: return "USED";
    case v1::REVEAL_STATE_EXPIRED: return "EXPIRED";
    default: return "UNSPECIFIED";
  }
}

RevealParty RevealPartyOf(bool is_requester, bool is_custodian, int clearance, bool already_decided) {
  if (is_requester) return RevealParty::kRequester;
  if (!is_custodian) return RevealParty::kOther;
  if (clearance < kRevealClearance) return RevealParty::kUnclearedCustodian;
  return already_decided ? RevealParty::kDecidedCustodian : RevealParty::kCustodian;
}

absl::Status MayRequestReveal(bool discipline, bool of_holding_unit, int clearance, bool reporter_on_file) {
  if (!discipline || !of_holding_unit || clearance < kRevealClearance) {
    return absl::PermissionDeniedError(
        "only discipline staff of the unit holding the clue with clearance >= 2 may ask to see the reporter");
  }
  if (!reporter_on_file) return absl::FailedPreconditionError("the clue has no named reporter on file");
  return absl::OkStatus();
}

v1::RevealState EffectiveRevealState(v1::RevealState stored, std::optional<TimePoint> expires_at, TimePoint now) {
  if (stored == v1::REVEAL_STATE_APPROVED && expires_at && now >= *expires_at) return v1::REVEAL_STATE_EXPIRED;
  return stored;
}

absl::StatusOr<v1::RevealState> NextReveal(v1::RevealState state, RevealAction action, RevealParty party,
                                           int approvals, int needed) {
  auto illegal = [&] {
    return absl::FailedPreconditionError("cannot " + std::string(RevealActionName(action)) +
                                         " a reveal request in state " + std::string(RevealStateName(state)));
  };
  switch (action) {
    case RevealAction::kApprove:
    case RevealAction::kRefuse:
      if (party != RevealParty::kCustodian && party != RevealParty::kDecidedCustodian) {
        return absl::PermissionDeniedError(
            party == RevealParty::kRequester
                ? "the requester cannot decide their own reveal request"
                : "only a custodian with clearance >= 2 decides reveal requests");
      }
      if (state != v1::REVEAL_STATE_PENDING) return illegal();
      if (party == RevealParty::kDecidedCustodian) {
        return absl::FailedPreconditionError("you already decided this reveal request (state PENDING)");
      }
      if (action == RevealAction::kRefuse) return v1::REVEAL_STATE_REFUSED;
      return approvals + 1 >= needed ? v1::REVEAL_STATE_APPROVED : v1::REVEAL_STATE_PENDING;
    case RevealAction::kReveal:
      if (party != RevealParty::kRequester) {
        return absl::PermissionDeniedError("only the requester may see the reporter");
      }
      if (state != v1::REVEAL_STATE_APPROVED) return illegal();
      return v1::REVEAL_STATE_USED;
  }
  return illegal();
}

}  // namespace sm::clue
