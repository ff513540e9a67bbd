// Pure rules of a rectification (整改 → 销号), no I/O: the state table, which party takes
// which step, sign-off with its spot-check draw (抽查复核) and look-back window (回头看),
// reopening within that window, and the overdue rule. Shared by every service that follows
// its findings to rectification (audit-service, inspection-service): nothing here knows
// engagements, inspections or findings (the item a rectification belongs to is its
// `finding_id`; the reviewing unit — the audit or inspection (审核/督察) unit — is whoever
// the service's access table calls so). The requests of the steps are read by
// rectification_request.h, the rows stored by rectification_store.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <absl/status/statusor.h>

#include "common/clock.h"
#include "common/workdays.h"
#include "supervision/v1/events.pb.h"
#include "supervision/v1/rectification.pb.h"

namespace sm::rectification {

namespace v1 = ::supervision::v1;

std::string_view StateName(v1::RectificationState s);  // "OPEN", ...

enum class Action { kProgress, kSubmit, kApprove, kReject, kReopen };
inline constexpr Action kAllActions[] = {Action::kProgress, Action::kSubmit, Action::kApprove, Action::kReject,
                                         Action::kReopen};
std::string_view ActionName(Action a);  // "submit", ...

// Who stands where to a rectification: the unit that reviews it (the audit or inspection
// unit that found the problem), the unit that owns it, anyone else.
enum class Party { kReviewer, kOwner, kOther };
inline constexpr Party kAllParties[] = {Party::kReviewer, Party::kOwner, Party::kOther};

// The state after `action` by `party`. PERMISSION_DENIED when the step is not this
// party's, whatever the state ("only the owner unit may …", "only the reviewing unit may
// …"); then FAILED_PRECONDITION naming the state when the step is illegal in it.
absl::StatusOr<v1::RectificationState> Next(v1::RectificationState state, Action action, Party party);

// The party a step belongs to: progress and submission the owner's, review and reopening
// the reviewer's.
Party PartyOf(Action a);
// OK when `action` is `party`'s step, else PERMISSION_DENIED as Next says.
absl::Status CheckParty(Action action, Party party);

// Whether a signed-off rectification is drawn for spot-check re-inspection: a stable draw
// from its id, so that `percent` of items are chosen and a repeat of the same sign-off
// draws the same way.
bool SpotCheck(const std::string& rectification_id, int percent);

struct Policy {
  int rectification_days = 30;  // working days to rectify, unless the request says
  int spot_check_percent = 20;
  int lookback_days = 90;  // calendar days after sign-off in which it may be reopened
};

// What the rules read besides the rectification: the time of the step, the policy and the
// working-day calendar.
struct Rules {
  TimePoint now;
  Policy policy;
  const workdays::Calendar* calendar = nullptr;
};

// What a step does to a rectification: its full new value (version moved on) and the event
// that records it (on the chain of the item the rectification belongs to).
struct Step {
  v1::Rectification after;
  v1::RectificationEventPayload event;
};

// A new rectification of `item_id`: OPEN, owned by `owner_unit_id`, due `working_days`
// working days from now (0: the policy's), version 1; event "rectification_added".
Step Open(const std::string& id, const std::string& item_id, const std::string& measure,
          const std::string& owner_unit_id, int working_days, const Rules& rules);

// What a caller asks of an existing rectification (rectification_request.h reads it from
// the step's request).
struct Command {
  Action action;
  std::string text;                        // progress note, summary, review or reopen reason
  std::vector<std::string> evidence_refs;  // progress only
  int64_t expected_version = 0;            // 0: whatever the current version is
};

// The step `command` by `party` on `current`, refused in this order: PERMISSION_DENIED when
// the step is not the party's; ABORTED ("rectification changed: version is N") when
// expected_version is set and stale; FAILED_PRECONDITION when the look-back window of a
// signed-off rectification closed (reopen), or naming the state when the step is illegal in
// it. The service decides before this whether the caller may see the rectification at all.
absl::StatusOr<Step> Decide(const v1::Rectification& current, Party party, const Command& command, const Rules& rules);

// A finding's rectifications as its service holds them with the finding (a finding's events
// commit to both), each with its row's created_at, in id order.
struct Held {
  v1::Rectification rectification;
  int64_t created_us = 0;
};
Held* Find(std::vector<Held>& list, const std::string& rectification_id);
const Held* Find(const std::vector<Held>& list, const std::string& rectification_id);
// A step's new value in the list: in place of the one with its id, or added in id order
// (with `created_us`, the new row's time).
void Put(std::vector<Held>& list, v1::Rectification after, int64_t created_us);
struct Counts {
  int open = 0;  // not signed off
  int signed_off = 0;
};
Counts CountOf(const std::vector<Held>& list);

// The overdue rule: an OPEN rectification whose deadline passed before `now` and that is
// not yet marked. Escalate marks it (event "rectification_escalated").
bool IsOverdue(const v1::Rectification& x, TimePoint now);
Step Escalate(const v1::Rectification& x);

}  // namespace sm::rectification
