#include "services/audit/workflow.h"

#include <nlohmann/json.hpp>

#include "common/crypto.h"

namespace sm::audit {

std::string_view EngagementStateName(v1::EngagementState s) {
  switch (s) {
    case v1::ENGAGEMENT_STATE_PLANNED: return "PLANNED";
    case v1::ENGAGEMENT_STATE_FIELDWORK: return "FIELDWORK";
    case v1::ENGAGEMENT_STATE_REPORTED: return "REPORTED";
    case v1::ENGAGEMENT_STATE_CLOSED: return "CLOSED";
    default: return "UNSPECIFIED";
  }
}

std::string_view RectificationStateName(v1::RectificationState s) {
  switch (s) {
    case v1::RECTIFICATION_STATE_OPEN: return "OPEN";
    case v1::RECTIFICATION_STATE_SUBMITTED: return "SUBMITTED";
    case v1::RECTIFICATION_STATE_SIGNED_OFF: return "SIGNED_OFF";
    default: return "UNSPECIFIED";
  }
}

std::string_view RectActionName(RectAction a) {
  switch (a) {
    case RectAction::kProgress: return "record progress on";
    case RectAction::kSubmit: return "submit";
    case RectAction::kApprove: return "sign off";
    case RectAction::kReject: return "reject";
    case RectAction::kReopen: return "reopen";
  }
  return "?";
}

absl::Status CheckEngagementStep(v1::EngagementState from, v1::EngagementState to) {
  if (from == v1::ENGAGEMENT_STATE_UNSPECIFIED || from == v1::ENGAGEMENT_STATE_CLOSED ||
      static_cast<int>(to) != static_cast<int>(from) + 1) {
    return absl::FailedPreconditionError("cannot move an engagement in state " + std::string(EngagementStateName(from)) +
                                         " to " + std::string(EngagementStateName(to)));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::RectificationState> NextRectification(v1::RectificationState state, RectAction action, Party party) {
  using S = v1::RectificationState;
  auto illegal = [&] {
    return absl::FailedPreconditionError("cannot " + std::string(RectActionName(action)) + " a rectification in state " +
                                         std::string(RectificationStateName(state)));
  };
  auto only = [&](Party who, S next) -> absl::StatusOr<S> {
    if (party != who) {
      return absl::PermissionDeniedError(who == Party::kOwner ? "only the owner unit may " + std::string(RectActionName(action)) + " it"
                                                              : "only the audit unit may " + std::string(RectActionName(action)) + " it");
    }
    return next;
  };
  switch (action) {
    case RectAction::kProgress:
      if (state == S::RECTIFICATION_STATE_OPEN) return only(Party::kOwner, state);
      return illegal();
    case RectAction::kSubmit:
      if (state == S::RECTIFICATION_STATE_OPEN) return only(Party::kOwner, S::RECTIFICATION_STATE_SUBMITTED);
      return illegal();
    case RectAction::kApprove:
      if (state == S::RECTIFICATION_STATE_SUBMITTED) return only(Party::kAuditUnit, S::RECTIFICATION_STATE_SIGNED_OFF);
      return illegal();
    case RectAction::kReject:
      if (state == S::RECTIFICATION_STATE_SUBMITTED) return only(Party::kAuditUnit, S::RECTIFICATION_STATE_OPEN);
      return illegal();
    case RectAction::kReopen:
      if (state == S::RECTIFICATION_STATE_SIGNED_OFF) return only(Party::kAuditUnit, S::RECTIFICATION_STATE_OPEN);
      return illegal();
  }
  return illegal();
}

bool SpotCheck(const std::string& rectification_id, int percent) {
  if (percent <= 0) return false;
  if (percent >= 100) return true;
  const std::string h = crypto::Sha256Hex("spot-check:" + rectification_id);
  const unsigned draw = static_cast<unsigned>(std::stoul(h.substr(0, 8), nullptr, 16)) % 100u;
  return draw < static_cast<unsigned>(percent);
}

std::optional<ReferralUpdate> FromClueEvent(const v1::ClueEventPayload& e) {
  using P = v1::ClueEventPayload;
  ReferralUpdate u;
  switch (e.event_case()) {
    case P::kRegistered: u.clue_state = v1::CLUE_STATE_REGISTERED; break;
    case P::kOffered: u.clue_state = v1::CLUE_STATE_OFFERED; break;
    case P::kAccepted:
    case P::kReturned: u.clue_state = v1::CLUE_STATE_HELD; break;
    case P::kDisposed: {
      const v1::DispositionMethod m = e.disposed().method();
      if (m == v1::DISPOSITION_METHOD_UNSPECIFIED) return std::nullopt;
      u.disposition = m;
      u.clue_state = m == v1::DISPOSITION_METHOD_SHELVE  ? v1::CLUE_STATE_SHELVED
                     : m == v1::DISPOSITION_METHOD_CLOSE ? v1::CLUE_STATE_CONCLUDED
                                                         : v1::CLUE_STATE_IN_HANDLING;
      if (m == v1::DISPOSITION_METHOD_CLOSE) u.feedback = e.disposed().reason();
      break;
    }
    case P::kCaseFiled:
    case P::kConcluded: {
      const v1::ClueConcluded& c = e.has_case_filed() ? e.case_filed() : e.concluded();
      u.clue_state = e.has_case_filed() ? v1::CLUE_STATE_CASE_FILED : v1::CLUE_STATE_CONCLUDED;
      u.outcome_form = c.form();
      u.feedback = c.feedback();
      break;
    }
    case P::kMergedInto: u.clue_state = v1::CLUE_STATE_MERGED; break;
    default: return std::nullopt;
  }
  return u;
}

}  // namespace sm::audit
