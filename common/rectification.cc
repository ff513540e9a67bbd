#include "common/rectification.h"

#include <algorithm>

#include "common/crypto.h"
#include "common/db/sql.h"
#include "common/status.h"

namespace sm::rectification {
namespace {

using S = v1::RectificationState;

using db::Micros;
using db::TimestampOf;

// The event of a step from `from` to `to` on `id`: the member of the action's type, with
// the rectification and the two states set.
template <typename Event>
Event* Moved(Event* e, const std::string& id, S from, S to) {
  e->set_rectification_id(id);
  e->set_from(from);
  e->set_to(to);
  return e;
}

}  // namespace

std::string_view StateName(v1::RectificationState s) {
  switch (s) {
    case v1::RECTIFICATION_STATE_OPEN: return "OPEN";
    case v1::RECTIFICATION_STATE_SUBMITTED: return "SUBMITTED";
    case v1::RECTIFICATION_STATE_SIGNED_OFF: return "SIGNED_OFF";
    default: return "UNSPECIFIED";
  }
}

std::string_view ActionName(Action a) {
  switch (a) {
    case Action::kProgress: return "record progress on";
    case Action::kSubmit: return "submit";
    case Action::kApprove: return "sign off";
    case Action::kReject: return "reject";
    case Action::kReopen: return "reopen";
  }
  return "?";
}

Party PartyOf(Action a) { return a == Action::kProgress || a == Action::kSubmit ? Party::kOwner : Party::kReviewer; }

absl::Status CheckParty(Action action, Party party) {
  const Party who = PartyOf(action);
  if (party == who) return absl::OkStatus();
  return absl::PermissionDeniedError(
      std::string(who == Party::kOwner ? "only the owner unit may " : "only the reviewing unit may ") +
      std::string(ActionName(action)) + " it");
}

absl::StatusOr<v1::RectificationState> Next(v1::RectificationState state, Action action, Party party) {
  // Whose step it is comes first: a party that may not take it learns nothing of the state.
  SM_RETURN_IF_ERROR(CheckParty(action, party));
  // The one state each action starts from, and where it leads.
  struct Edge {
    S from, to;
  };
  Edge edge{S::RECTIFICATION_STATE_UNSPECIFIED, S::RECTIFICATION_STATE_UNSPECIFIED};
  switch (action) {
    case Action::kProgress: edge = {S::RECTIFICATION_STATE_OPEN, S::RECTIFICATION_STATE_OPEN}; break;
    case Action::kSubmit: edge = {S::RECTIFICATION_STATE_OPEN, S::RECTIFICATION_STATE_SUBMITTED}; break;
    case Action::kApprove: edge = {S::RECTIFICATION_STATE_SUBMITTED, S::RECTIFICATION_STATE_SIGNED_OFF}; break;
    case Action::kReject: edge = {S::RECTIFICATION_STATE_SUBMITTED, S::RECTIFICATION_STATE_OPEN}; break;
    case Action::kReopen: edge = {S::RECTIFICATION_STATE_SIGNED_OFF, S::RECTIFICATION_STATE_OPEN}; break;
  }
  if (edge.from == S::RECTIFICATION_STATE_UNSPECIFIED || state != edge.from) {
    return absl::FailedPreconditionError("cannot " + std::string(ActionName(action)) + " a rectification in state " +
                                         std::string(StateName(state)));
  }
  return edge.to;
}

bool SpotCheck(const std::string& rectification_id, int percent) {
  if (percent <= 0) return false;
  if (percent >= 100) return true;
  const std::string h = crypto::Sha256Hex("spot-check:" + rectification_id);
  const unsigned draw = static_cast<unsigned>(std::stoul(h.substr(0, 8), nullptr, 16)) % 100u;
  return draw < static_cast<unsigned>(percent);
}

Step Open(const std::string& id, const std::string& item_id, const std::string& measure,
          const std::string& owner_unit_id, int working_days, const Rules& rules) {
  Step out;
  v1::Rectification& x = out.after;
  x.set_id(id);
  x.set_finding_id(item_id);
  x.set_measure(measure);
  x.set_owner_unit_id(owner_unit_id);
  *x.mutable_deadline_at() = TimestampOf(
      rules.calendar->Deadline(rules.now, working_days == 0 ? rules.policy.rectification_days : working_days));
  x.set_state(S::RECTIFICATION_STATE_OPEN);
  x.set_version(1);
  auto* e = out.event.mutable_rectification_added();
  e->set_rectification_id(x.id());
  e->set_owner_unit_id(x.owner_unit_id());
  e->set_deadline_us(Micros(x.deadline_at()));
  return out;
}

absl::StatusOr<Step> Decide(const v1::Rectification& cur, Party party, const Command& command, const Rules& rules) {
  SM_RETURN_IF_ERROR(CheckParty(command.action, party));
  if (command.expected_version != 0 && command.expected_version != cur.version()) {
    return absl::AbortedError("rectification changed: version is " + std::to_string(cur.version()));
  }
  // Reopening a signed-off rectification is in the state table; the window may still
  // refuse it.
  if (command.action == Action::kReopen && cur.state() == S::RECTIFICATION_STATE_SIGNED_OFF &&
      cur.has_lookback_until() && rules.now > FromUnixSeconds(cur.lookback_until().seconds())) {
    return absl::FailedPreconditionError("the look-back window (回头看) of this rectification has closed");
  }
  SM_ASSIGN_OR_RETURN(S next, Next(cur.state(), command.action, party));
  Step out{cur, {}};
  v1::RectificationEventPayload& ev = out.event;
  v1::Rectification& x = out.after;
  x.set_state(next);
  x.set_version(cur.version() + 1);
  switch (command.action) {
    case Action::kProgress:
      x.set_last_note(command.text);
      Moved(ev.mutable_rectification_progress(), cur.id(), cur.state(), next)->set_note(command.text);
      for (const auto& ref : command.evidence_refs) ev.mutable_rectification_progress()->add_evidence_refs(ref);
      break;
    case Action::kSubmit:
      x.set_last_note(command.text);
      Moved(ev.mutable_rectification_submitted(), cur.id(), cur.state(), next)->set_summary(command.text);
      break;
    case Action::kApprove:
      *x.mutable_signed_off_at() = TimestampOf(rules.now);
      *x.mutable_lookback_until() = TimestampOf(rules.now + std::chrono::hours(24 * rules.policy.lookback_days));
      x.set_spot_check(SpotCheck(x.id(), rules.policy.spot_check_percent));
      x.set_overdue(false);
      Moved(ev.mutable_rectification_signed_off(), cur.id(), cur.state(), next)->set_spot_check(x.spot_check());
      ev.mutable_rectification_signed_off()->set_reason(command.text);
      break;
    case Action::kReject:
      x.set_last_note(command.text);
      Moved(ev.mutable_rectification_rejected(), cur.id(), cur.state(), next)->set_reason(command.text);
      break;
    case Action::kReopen:
      x.set_reopened(x.reopened() + 1);
      x.clear_signed_off_at();
      x.clear_lookback_until();
      x.set_spot_check(false);
      x.set_last_note(command.text);
      *x.mutable_deadline_at() = TimestampOf(rules.calendar->Deadline(rules.now, rules.policy.rectification_days));
      Moved(ev.mutable_rectification_reopened(), cur.id(), cur.state(), next)->set_reason(command.text);
      break;
  }
  return out;
}

Held* Find(std::vector<Held>& list, const std::string& id) {
  for (auto& x : list) {
    if (x.rectification.id() == id) return &x;
  }
  return nullptr;
}

const Held* Find(const std::vector<Held>& list, const std::string& id) {
  return Find(const_cast<std::vector<Held>&>(list), id);
}

void Put(std::vector<Held>& list, v1::Rectification after, int64_t created_us) {
  if (Held* x = Find(list, after.id())) {
    x->rectification = std::move(after);
    return;
  }
  list.push_back({std::move(after), created_us});
  std::sort(list.begin(), list.end(),
            [](const Held& a, const Held& b) { return a.rectification.id() < b.rectification.id(); });
}

Counts CountOf(const std::vector<Held>& list) {
  Counts c;
  for (const auto& x : list) (x.rectification.state() == v1::RECTIFICATION_STATE_SIGNED_OFF ? c.signed_off : c.open)++;
  return c;
}

bool IsOverdue(const v1::Rectification& x, TimePoint now) {
  return !x.overdue() && x.state() == S::RECTIFICATION_STATE_OPEN && Micros(x.deadline_at()) < ToUnixMicros(now);
}

Step Escalate(const v1::Rectification& x) {
  Step out{x, {}};
  out.event.mutable_rectification_escalated()->set_rectification_id(x.id());
  out.after.set_overdue(true);
  out.after.set_version(x.version() + 1);
  return out;
}

}  // namespace sm::rectification
