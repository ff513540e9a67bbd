// Pure rules of audit-service (no I/O): engagement stages, the rectification state machine
// (整改 → 销号), spot-check sampling and the look-back window, and how clue events show on
// a referred finding.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <absl/status/statusor.h>

#include "supervision/v1/audit.pb.h"
#include "supervision/v1/events.pb.h"

namespace sm::audit {

namespace v1 = ::supervision::v1;

std::string_view EngagementStateName(v1::EngagementState s);
std::string_view RectificationStateName(v1::RectificationState s);

// The engagement moves forward one stage at a time. FAILED_PRECONDITION naming the state
// otherwise.
absl::Status CheckEngagementStep(v1::EngagementState from, v1::EngagementState to);

enum class RectAction { kProgress, kSubmit, kApprove, kReject, kReopen };
enum class Party { kAuditUnit, kOwner, kOther };
std::string_view RectActionName(RectAction a);

// The state after `action` by `party`. FAILED_PRECONDITION naming the state when illegal in
// it; PERMISSION_DENIED when legal but not for this party.
absl::StatusOr<v1::RectificationState> NextRectification(v1::RectificationState state, RectAction action, Party party);

// Whether a signed-off rectification is drawn for spot-check re-inspection (抽查复核):
// a stable draw from its id, so that `percent` of items are chosen and a repeat of the
// same sign-off draws the same way.
bool SpotCheck(const std::string& rectification_id, int percent);

// How a clue event changes the referral shown on its finding. nullopt: no change.
struct ReferralUpdate {
  std::optional<v1::ClueState> clue_state;
  std::optional<v1::DispositionMethod> disposition;
  std::optional<int> outcome_form;
  std::optional<std::string> feedback;
};
std::optional<ReferralUpdate> FromClueEvent(const v1::ClueEventPayload& event);

}  // namespace sm::audit
