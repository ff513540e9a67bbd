// Pure rules of audit-service (no I/O): engagement stages, who may take each step and what
// it writes (one walk per command, below), and how clue events show on a referred finding.
// The rectification rules themselves are shared with inspection-service
// (common/rectification.h).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <absl/status/statusor.h>

#include "common/auth.h"
#include "common/directory_reader.h"
#include "common/rectification.h"
#include "common/referral.h"
#include "services/audit/access.h"
#include "supervision/v1/audit.pb.h"
#include "supervision/v1/clue.pb.h"
#include "supervision/v1/events.pb.h"

namespace sm::audit {

namespace v1 = ::supervision::v1;

using rectification::Party;
using rectification::Policy;
using rectification::SpotCheck;
using RectAction = rectification::Action;
using Rules = rectification::Rules;
inline std::string_view RectificationStateName(v1::RectificationState s) { return rectification::StateName(s); }
inline std::string_view RectActionName(RectAction a) { return rectification::ActionName(a); }
std::string_view EngagementStateName(v1::EngagementState s);

// The engagement moves forward one stage at a time. FAILED_PRECONDITION naming the state
// otherwise.
absl::Status CheckEngagementStep(v1::EngagementState from, v1::EngagementState to);

// How a clue event changes the referral shown on its finding (the shared referral rules,
// common/referral.h). nullopt: no change.
using ReferralUpdate = referral::Update;
using referral::FromClueEvent;

// ---------------------------------------------------------------------------------------
// One walk per command (docs/audit.md): the handler decodes and validates the request and
// reads the directory facts that do not depend on the item; the store loads the item FOR
// UPDATE with what the rules need around it, in the transaction that will write it; Decide
// below decides without I/O; the store writes each row once (chain head included), the
// events and the outbox command, and commits.

// The rows as stored, with their chains (engagements and findings carry one each).
struct StoredEngagement {
  v1::Engagement engagement;
  int64_t chain_len = 0;
  std::string chain_head;
};
using StoredRectification = rectification::Held;
// A finding with all its rectifications (by id): a finding's events commit to both.
struct StoredFinding {
  v1::Finding finding;  // rectifications_open and _signed_off as counted from `rectifications`
  int64_t chain_len = 0;
  std::string chain_head;
  std::vector<StoredRectification> rectifications;
  StoredRectification* Find(const std::string& rectification_id);
  const StoredRectification* Find(const std::string& rectification_id) const;
  void Count();  // sets the finding's rectification counts from `rectifications`
};

// A finding as the rules see it: with its engagement.
struct FindingRecord {
  StoredFinding finding;
  StoredEngagement engagement;
};
// Whether `unit` owns one of the finding's rectifications.
bool OwnsRectification(const StoredFinding& f, const std::string& unit);

// An event a change records, on the engagement or finding it belongs to.
struct Event {
  std::string aggregate_id;
  v1::AuditEventPayload event;  // events.proto: its type and data
};

// A referral command to put in the outbox with the change.
struct Command {
  std::string kind;
  std::string dedupe_key;
  std::string payload;
  bool retry = false;  // send a command parked as dead again (outbox::Requeue), payload unused
};

// What a step writes. A row marked kInsert or kUpdate is written whole, once, with its new
// chain head; an engagement or finding marked kNone that gets events has only its chain
// head written. `rectification_id` names the rectification (in `finding`) written.
struct Change {
  enum class Row { kNone, kInsert, kUpdate };
  std::optional<StoredEngagement> engagement;
  Row engagement_row = Row::kNone;
  std::optional<StoredFinding> finding;
  Row finding_row = Row::kNone;
  std::string rectification_id;
  Row rectification_row = Row::kNone;
  std::vector<Event> events;
  std::optional<Command> command;
};

// The steps, as their validated requests, grouped by the reply they give.
using EngagementStep = std::variant<v1::CreateEngagementRequest, v1::AdvanceEngagementRequest>;
using FindingStep = std::variant<v1::AddFindingRequest, v1::ReferFindingRequest, v1::RetryReferralRequest>;
using RectificationStep =
    std::variant<v1::AddRectificationRequest, v1::RecordProgressRequest, v1::SubmitRectificationRequest,
                 v1::ReviewRectificationRequest, v1::ReopenRectificationRequest>;
using StepRequest = std::variant<v1::CreateEngagementRequest, v1::AdvanceEngagementRequest, v1::AddFindingRequest,
                                 v1::ReferFindingRequest, v1::RetryReferralRequest, v1::AddRectificationRequest,
                                 v1::RecordProgressRequest, v1::SubmitRectificationRequest,
                                 v1::ReviewRectificationRequest, v1::ReopenRectificationRequest>;
StepRequest AsStep(const EngagementStep& r);
StepRequest AsStep(const FindingStep& r);
StepRequest AsStep(const RectificationStep& r);

access::Rpc RpcOf(const StepRequest& r);
const std::string& RequestIdOf(const StepRequest& r);

// What a step loads: nothing (CreateEngagement), an engagement (AdvanceEngagement,
// AddFinding), a finding (ReferFinding, RetryReferral, AddRectification) or the finding of
// a rectification (the other rectification steps), with the id it is found by.
enum class Loads { kNothing, kEngagement, kFinding, kRectification };
Loads LoadsOf(const StepRequest& r);
const std::string& TargetOf(const StepRequest& r);  // "" for kNothing

// What the store loaded for a step, in the step's transaction.
struct Current {
  std::optional<StoredEngagement> engagement;  // the engagement, or the finding's
  std::optional<StoredFinding> finding;
  int64_t now_us = 0;             // the transaction's time: created_at of new rows
  int64_t sequence = 0;           // CreateEngagement: the next engagement number
  int64_t finding_ordinal = 0;    // AddFinding: the new finding's place in its engagement
  std::string recurs_finding_id;  // AddFinding: the same unit's finding of the same category in
                                  // an earlier engagement, if any
};

// What a step's rules need to know besides the item.
struct StepFacts {
  // By the handler, before the transaction: the id of a new row; the unit the request
  // names (CreateEngagement: audited_unit_id; AddFinding: responsible_unit_id; ReferFinding:
  // to_unit_id; AddRectification: owner_unit_id when given, else the store reads the
  // finding's responsible unit) and the person (audited_person_id, responsible_person_id);
  // nullopt: the directory has no such record. A directory read that fails refuses the step.
  std::string new_id;
  std::optional<UnitInfo> unit;
  std::optional<PersonInfo> person;
  // By the store, in the transaction: where the units the item names sit (NeededUnits).
  access::Ancestry ancestry;
};

// The units whose ancestors the rules need (the caller's relation "parent"): none when the
// caller has no unit or no role of theirs gets anything from that relation on this step.
std::vector<std::string> NeededUnits(const StepRequest& r, const Current& current, const auth::Principal& caller);
// Whether the store reads `facts.unit` itself (AddRectification without an owner: the
// finding's responsible unit).
std::optional<std::string> UnitReadInStep(const StepRequest& r, const Current& current);

// Completes `facts` with what the step reads of the directory once its item is loaded
// (UnitReadInStep, NeededUnits), through `read_unit` (id -> absl::StatusOr<UnitInfo>, the
// store's reader in the step's transaction). A read that fails refuses the step: the error.
template <typename ReadUnit>
absl::Status ReadStepUnits(const StepRequest& request, const Current& current, const auth::Principal& caller,
                           ReadUnit&& read_unit, StepFacts& facts) {
  if (auto id = UnitReadInStep(request, current)) {
    auto unit = Known(read_unit(*id));
    if (!unit.ok()) return unit.status();
    facts.unit = *std::move(unit);
  }
  for (const std::string& id : NeededUnits(request, current, caller)) {
    auto unit = Known(read_unit(id));
    if (!unit.ok()) return unit.status();
    if (*unit) facts.ancestry[id] = (*unit)->ancestors;
  }
  return absl::OkStatus();
}

// The step `request` by `caller` on `current`, or its refusal, in the order the service
// gives them: NOT_FOUND when the caller may not see the item; PERMISSION_DENIED when they
// may see it but not do this; INVALID_ARGUMENT naming the field for a unit or person the
// directory does not have; ABORTED when expected_version is stale; FAILED_PRECONDITION
// naming the current state when the rules refuse. Versions of written rows are moved on.
absl::StatusOr<Change> Decide(const Current& current, const auth::Principal& caller, const StepRequest& request,
                              const StepFacts& facts, const Rules& rules);

// The replies of a written change.
void FillReply(const Change& c, v1::EngagementReply* out);
void FillReply(const Change& c, v1::FindingReply* out);
void FillReply(const Change& c, v1::RectificationReply* out);

// The referral's outcomes on its finding (the relay's and the clue feed's): linking the clue
// it became ("clue_linked" the first time, "referral_delivered" when a later arrival
// changes something, nothing when it changes nothing); a dead letter; a clue event.
std::optional<Change> LinkReferral(const StoredFinding& f, const std::string& clue_id, const std::string& clue_number,
                                   v1::ClueState clue_state);
Change ReferralDead(const StoredFinding& f, const std::string& error);
Change FollowClue(const StoredFinding& f, const ReferralUpdate& update, const std::string& clue_event_type,
                  const std::string& clue_id, int64_t clue_seq);

// The overdue rule on a finding's rectification (rectification::IsOverdue), as a change.
std::optional<Change> EscalateOverdue(const StoredFinding& f, const std::string& rectification_id, TimePoint now);

}  // namespace sm::audit
