// Pure rules of a clue's life (no I/O): the state machine, who may take each step, and the
// stage deadlines a step starts. ARCHITECTURE.md: an illegal transition is
// FAILED_PRECONDITION naming the current state.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <absl/status/statusor.h>

#include "common/clock.h"

#include "supervision/v1/clue.pb.h"

namespace sm::clue {

namespace v1 = ::supervision::v1;

enum class Action {
  kTransfer,  // offer to another unit
  kAccept,    // the offered unit takes it
  kReturn,    // the offered unit sends it back with a reason
  kAssign,    // name a handler in the holding unit
  kDispose,   // decide one of the four methods
  kConclude,  // record the outcome
};
inline constexpr Action kAllActions[] = {Action::kTransfer, Action::kAccept, Action::kReturn,
                                         Action::kAssign,   Action::kDispose, Action::kConclude};

// How the caller's unit stands to the clue.
enum class Relation {
  kHolder,   // the unit holding the clue
  kOfferee,  // the unit it is offered to (while OFFERED)
  kOther,    // any other unit that may see it (sender, oversight)
};
inline constexpr Relation kAllRelations[] = {Relation::kHolder, Relation::kOfferee, Relation::kOther};

std::string_view ActionName(Action a);
std::string_view StateName(v1::ClueState s);  // "REGISTERED", ...

// Stages with a working-day limit (from config: clue.limits.*).
enum class Stage { kNone, kAccept, kDispose, kHandle, kConclude };
std::string_view StageName(Stage s);

struct Step {
  v1::ClueState next;
  Stage stage;  // the deadline the new state runs against
};

// The state after `action` by a caller in `relation` to a clue in `state`. `method` is
// required for kDispose; `case_filed` matters for kConclude. Errors: FAILED_PRECONDITION
// naming the current state when the step is illegal in it; PERMISSION_DENIED when the step
// is legal but not for this caller; INVALID_ARGUMENT naming `method` for a bad method.
absl::StatusOr<Step> Next(v1::ClueState state, Action action, Relation relation,
                          v1::DispositionMethod method = v1::DISPOSITION_METHOD_UNSPECIFIED,
                          bool case_filed = false);

// States in which the stage clock runs (not SHELVED, CONCLUDED or MERGED).
bool ClockRuns(v1::ClueState state);

// ---------------------------------------------------------------------------------------
// The two-person rule for the reporter's identity (DOMAIN.md § Clues: the most sensitive
// data in the system). A request by cleared staff of the holding unit needs N custodians'
// approvals; one refusal ends it; the requester then sees the reporter once, within a
// window.

// Clearance needed to ask for, and to approve, a reveal (秘密).
inline constexpr int kRevealClearance = 2;

enum class RevealAction {
  kApprove,  // a custodian approves
  kRefuse,   // a custodian refuses (with a reason)
  kReveal,   // the requester sees the reporter
};
inline constexpr RevealAction kAllRevealActions[] = {RevealAction::kApprove, RevealAction::kRefuse,
                                                     RevealAction::kReveal};

// How the caller stands to one reveal request.
enum class RevealParty {
  kRequester,          // asked for it (whatever roles they also hold)
  kCustodian,          // custodian with clearance >= 2 who has not decided this request
  kDecidedCustodian,   // such a custodian who already approved or refused it
  kUnclearedCustodian, // custodian with clearance < 2
  kOther,              // anyone else
};
inline constexpr RevealParty kAllRevealParties[] = {RevealParty::kRequester, RevealParty::kCustodian,
                                                    RevealParty::kDecidedCustodian,
                                                    RevealParty::kUnclearedCustodian, RevealParty::kOther};

std::string_view RevealActionName(RevealAction a);
std::string_view RevealStateName(v1::RevealState s);  // "PENDING", ...

// The party of a caller: `is_requester` wins over everything (never one's own custodian).
RevealParty RevealPartyOf(bool is_requester, bool is_custodian, int clearance, bool already_decided);

// Who may ask: discipline staff of the unit holding the clue with clearance >= 2, for a
// clue with a named reporter on file. Errors: PERMISSION_DENIED for the wrong caller;
// FAILED_PRECONDITION when no named reporter is on file.
absl::Status MayRequestReveal(bool discipline, bool of_holding_unit, int clearance, bool reporter_on_file);

// The state a request is in at `now`: an APPROVED request whose window ended at or before
// `now` is EXPIRED; every other state is as stored.
v1::RevealState EffectiveRevealState(v1::RevealState stored, std::optional<TimePoint> expires_at, TimePoint now);

// The state after `action` by `party` on a request in (effective) `state` that has
// `approvals` approvals of the `needed` (N). Errors, in this order: PERMISSION_DENIED when
// the party may never take the action (approve/refuse: only a cleared custodian who is not
// the requester; reveal: only the requester); FAILED_PRECONDITION naming the current state
// when the state does not allow it (approve/refuse: PENDING; reveal: APPROVED), and when a
// custodian decides a request a second time.
absl::StatusOr<v1::RevealState> NextReveal(v1::RevealState state, RevealAction action, RevealParty party,
                                           int approvals, int needed);

}  // namespace sm::clue
