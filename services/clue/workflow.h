// Pure rules of a clue's life (no I/O): the state machine, who may take each step, and the
// stage deadlines a step starts. ARCHITECTURE.md: an illegal transition is
// FAILED_PRECONDITION naming the current state.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <absl/status/statusor.h>

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

}  // namespace sm::clue
