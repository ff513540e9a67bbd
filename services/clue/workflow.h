// Pure rules of a clue's life (no I/O): the state machine, who may take each step, and the
// stage deadlines a step starts. ARCHITECTURE.md: an illegal transition is
// FAILED_PRECONDITION naming the current state.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <absl/status/statusor.h>

#include "common/auth.h"
#include "common/clock.h"
#include "common/directory_reader.h"
#include "common/event_log.h"
#include "common/workdays.h"
#include "services/clue/access.h"
#include "services/clue/config.h"

#include "supervision/v1/clue.pb.h"
#include "supervision/v1/events.pb.h"

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
inline constexpr Action kAllActions[] = {Action::kTransfer, Action::kAccept,  Action::kReturn,
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
                          v1::DispositionMethod method = v1::DISPOSITION_METHOD_UNSPECIFIED, bool case_filed = false);

// States in which the stage clock runs (not SHELVED, CONCLUDED or MERGED).
bool ClockRuns(v1::ClueState state);

// ---------------------------------------------------------------------------------------
// One walk per command (docs/clue.md § One walk): the handler decodes and validates the
// request; the store loads the clue FOR UPDATE, with what the rules need to know around it,
// in the transaction that will write it; the functions below decide, without I/O; the store
// writes the row, its event with the chain and the custody once, and commits.

// A clue as stored: the proto without details and reporter, plus their sealed forms.
struct StoredClue {
  v1::Clue clue;
  std::string details_sealed;   // "" when none
  std::string reporter_sealed;  // "" when none
  int chain_len = 0;
  std::string chain_head;
};

using Actor = events::Actor;

// What a step does to a clue: its full new value, the event that records it, and the units
// that join its chain of custody (and so may see it).
struct Change {
  StoredClue after;
  v1::ClueEventPayload event;
  std::vector<std::pair<std::string, Custody>> custody_add;  // (unit, what it keeps)
};

// The reply of a write (stored for idempotent replays): the clue without details or
// reporter, saying whether details are withheld.
v1::ClueReply ReplyOf(const StoredClue& s);

// How the caller's unit stands to the clue as a party to a step.
Relation RelationOf(const auth::Principal& p, const StoredClue& c);

// What the rules read besides the clue: the time of the step, the stage limits and the
// working-day calendar.
struct Rules {
  TimePoint now;
  Limits limits;
  const workdays::Calendar* calendar = nullptr;
};

// Sets `c`'s stage deadline for `stage` from `rules.now` (clears it for kNone) and clears
// overdue.
void SetDeadline(v1::Clue& c, Stage stage, const Rules& rules);

// The steps taken through Decide, as their validated requests.
using StepRequest = std::variant<v1::TransferClueRequest, v1::AcceptClueRequest, v1::ReturnClueRequest,
                                 v1::AssignHandlerRequest, v1::DisposeClueRequest, v1::ConcludeClueRequest,
                                 v1::ExtendDeadlineRequest, v1::AddNoteRequest, v1::MarkInterventionRequest>;
std::string_view MethodOf(const StepRequest& r);  // "TransferClue", ...
const std::string& ClueIdOf(const StepRequest& r);
int64_t ExpectedVersionOf(const StepRequest& r);  // 0: none (AddNote)
const std::string& RequestIdOf(const StepRequest& r);

// A subject's place in the directory: the unit it is (or the person's unit), root first
// through its ancestors to itself. Empty when the subject has no unit.
struct SubjectPlace {
  std::string person_id;           // "" for a unit subject
  std::vector<std::string> units;  // ancestors, then the unit itself
};

// What a step's rules need to know around the clue. The handler fills what does not depend
// on the clue (read before the transaction); the store, what does (read in it).
struct StepFacts {
  // By the store: the custody record of the caller's unit.
  Custody custody = Custody::kNone;
  // AssignHandler. By the handler: the handler and its unit; by the store (NeedsSubjects):
  // where each subject sits. A directory read that fails refuses the step.
  std::optional<PersonInfo> handler;
  std::optional<UnitInfo> handler_unit;
  std::vector<SubjectPlace> subjects;
  // ExtendDeadline. By the handler: the approving leader and their unit; by the store
  // (NeedsHolderUnit): the holding unit.
  std::optional<PersonInfo> approver;
  std::optional<UnitInfo> approver_unit;
  std::optional<UnitInfo> holder_unit;
};
bool NeedsSubjects(const StepRequest& r);
bool NeedsHolderUnit(const StepRequest& r);

// The step `request` by `caller` on `current`, or its refusal: NOT_FOUND when the caller
// may not see the clue; ABORTED when expected_version is stale; PERMISSION_DENIED,
// FAILED_PRECONDITION (naming the state) or INVALID_ARGUMENT (naming the field) as the
// rules say. The version of the result is not yet bumped (the store does it).
absl::StatusOr<Change> Decide(const StoredClue& current, const auth::Principal& caller, const StepRequest& request,
                              const StepFacts& facts, const Rules& rules);

// Registration: the new clue's state (REGISTERED, or OFFERED to `offer_to_unit_id`), its
// first stage deadline, and its first events ("registered", then "offered"). `s.clue` holds
// everything else already; `reporter` is "none", "anonymous" or "named".
std::vector<v1::ClueEventPayload> Register(StoredClue& s, const std::string& offer_to_unit_id,
                                           std::string_view reporter, const Rules& rules);

// Merging `merged` into `primary` (each with the caller unit's custody record), at the
// primary's `expected_version`: NOT_FOUND for a clue the caller may not see, ABORTED for a
// stale version, PERMISSION_DENIED unless the caller's unit holds them all,
// FAILED_PRECONDITION for a clue that cannot be merged (concluded, merged, offered). The
// changes: each merged clue's, then the primary's (versions not yet bumped).
struct MergeItem {
  StoredClue clue;
  Custody custody = Custody::kNone;
};
absl::StatusOr<std::vector<Change>> DecideMerge(const MergeItem& primary, const std::vector<MergeItem>& merged,
                                                const auth::Principal& caller, int64_t expected_version,
                                                const std::string& reason);

// The overdue rule (督办): a clue whose running deadline passed before `now` and is not yet
// marked is overdue; it is escalated to the unit above the one holding it (`holder`
// ancestors; the holder itself at the top of a tree, or when the directory has no record).
bool IsOverdue(const StoredClue& c, TimePoint now);
Change Escalate(const StoredClue& c, const std::optional<UnitInfo>& holder);

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
  kRequester,           // asked for it (whatever roles they also hold)
  kCustodian,           // custodian with clearance >= 2 who has not decided this request
  kDecidedCustodian,    // such a custodian who already approved or refused it
  kUnclearedCustodian,  // custodian with clearance < 2
  kOther,               // anyone else
};
inline constexpr RevealParty kAllRevealParties[] = {RevealParty::kRequester, RevealParty::kCustodian,
                                                    RevealParty::kDecidedCustodian, RevealParty::kUnclearedCustodian,
                                                    RevealParty::kOther};

std::string_view RevealActionName(RevealAction a);
std::string_view RevealStateName(v1::RevealState s);  // "PENDING", ...

// The party of a caller: `is_requester` wins over everything (never one's own custodian).
RevealParty RevealPartyOf(bool is_requester, bool is_custodian, int clearance, bool already_decided);

// Who may ask: discipline staff of the unit holding the clue with clearance >= 2, for a
// clue with a named reporter on file. Errors: PERMISSION_DENIED for the wrong caller;
// FAILED_PRECONDITION when no named reporter is on file.
absl::Status MayRequestReveal(bool discipline, bool of_holding_unit, int clearance, bool reporter_on_file);
// The same for `caller` and `clue` (also the rule for opening the reporter once approved: a
// clue moved elsewhere since the request takes its reporter with it).
absl::Status MayRequestReveal(const auth::Principal& caller, const StoredClue& clue);

// The state a request is in at `now`: an APPROVED request whose window ended at or before
// `now` is EXPIRED; every other state is as stored.
v1::RevealState EffectiveRevealState(v1::RevealState stored, std::optional<TimePoint> expires_at, TimePoint now);

// The state after `action` by `party` on a request in (effective) `state` that has
// `approvals` approvals of the `needed` (N). Errors, in this order: PERMISSION_DENIED when
// the party may never take the action (approve/refuse: only a cleared custodian who is not
// the requester; reveal: only the requester); FAILED_PRECONDITION naming the current state
// when the state does not allow it (approve/refuse: PENDING; reveal: APPROVED), and when a
// custodian decides a request a second time.
absl::StatusOr<v1::RevealState> NextReveal(v1::RevealState state, RevealAction action, RevealParty party, int approvals,
                                           int needed);

std::optional<TimePoint> RevealExpiresAt(const v1::RevealRequest& r);
bool RevealDecidedBy(const v1::RevealRequest& r, const std::string& user);

// What the reveal rules read besides the request and its clue.
struct RevealRules {
  TimePoint now;
  RevealPolicy policy;
};

// What a step on a reveal request does: the request's new value (state and times; its
// decisions are read back, not written from here), the decision it adds if any, and the
// event it appends to the clue's history (never the identity).
struct RevealChange {
  v1::RevealRequest after;
  std::optional<v1::RevealDecision> decision;
  v1::ClueEventPayload event;
};

// A new reveal request `id` by `caller` for `clue` (with the caller unit's custody record):
// NOT_FOUND when the caller may not see the clue; then MayRequestReveal. The request is
// PENDING and needs the policy's approvals.
absl::StatusOr<RevealChange> DecideRevealRequest(const StoredClue& clue, Custody custody, const auth::Principal& caller,
                                                 const v1::RequestRevealRequest& request, const std::string& id,
                                                 const RevealRules& rules);

// A custodian's verdict, or the requester using an approved request, on `current` (with its
// decisions) of `clue`. The party and state rules are NextReveal's; using the request also
// needs MayRequestReveal to hold still (a clue moved elsewhere takes its reporter with it)
// and the request's clue when the caller names one (INVALID_ARGUMENT naming clue_id).
using RevealStepRequest = std::variant<v1::DecideRevealRequest, v1::RevealReporterRequest>;
absl::StatusOr<RevealChange> DecideRevealStep(const v1::RevealRequest& current, const StoredClue& clue,
                                              const auth::Principal& caller, const RevealStepRequest& request,
                                              const RevealRules& rules);
std::string_view MethodOf(const RevealStepRequest& r);  // "DecideReveal" or "RevealReporter"
const std::string& RevealIdOf(const RevealStepRequest& r);
const std::string& RequestIdOf(const RevealStepRequest& r);

}  // namespace sm::clue
