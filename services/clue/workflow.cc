#include "services/clue/workflow.h"

#include <algorithm>

#include "common/db/sql.h"
#include "common/status.h"

namespace sm::clue {
namespace {

absl::Status Illegal(v1::ClueState state, Action action) {
  return absl::FailedPreconditionError("cannot " + std::string(ActionName(action)) + " a clue in state " +
                                       std::string(StateName(state)));
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

absl::StatusOr<Step> Next(v1::ClueState state, Action action, Relation relation, v1::DispositionMethod method,
                          bool case_filed) {
  using S = v1::ClueState;
  // Who may act comes first: a caller who may not take this step learns nothing of the
  // clue's state from the refusal.
  const Relation party =
      (action == Action::kAccept || action == Action::kReturn) ? Relation::kOfferee : Relation::kHolder;
  if (relation != party) {
    return absl::PermissionDeniedError(std::string("only the unit ") +
                                       (party == Relation::kHolder ? "holding the clue" : "the clue is offered to") +
                                       " may " + std::string(ActionName(action)) + " it");
  }
  auto holder_only = [&](Step step) -> absl::StatusOr<Step> {
    if (relation != Relation::kHolder) {
      return absl::PermissionDeniedError("only the unit holding the clue may " + std::string(ActionName(action)) +
                                         " it");
    }
    return step;
  };
  auto offeree_only = [&](Step step) -> absl::StatusOr<Step> {
    if (relation != Relation::kOfferee) {
      return absl::PermissionDeniedError("only the unit the clue is offered to may " + std::string(ActionName(action)) +
                                         " it");
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
      if (state == S::CLUE_STATE_REGISTERED || state == S::CLUE_STATE_HELD || state == S::CLUE_STATE_IN_HANDLING ||
          state == S::CLUE_STATE_CASE_FILED) {
        return holder_only({state, Stage::kNone});  // the stage clock is unchanged
      }
      return Illegal(state, action);
    case Action::kDispose: {
      const bool from_held = state == S::CLUE_STATE_REGISTERED || state == S::CLUE_STATE_HELD;
      const bool from_shelf = state == S::CLUE_STATE_SHELVED;  // re-activating a shelved clue
      if (!from_held && !from_shelf) return Illegal(state, action);
      switch (method) {
        case v1::DISPOSITION_METHOD_TALK_OR_LETTER:
        case v1::DISPOSITION_METHOD_VERIFICATION: return holder_only({S::CLUE_STATE_IN_HANDLING, Stage::kHandle});
        case v1::DISPOSITION_METHOD_SHELVE:
          if (from_shelf) return absl::FailedPreconditionError("the clue is already in state SHELVED");
          return holder_only({S::CLUE_STATE_SHELVED, Stage::kNone});
        case v1::DISPOSITION_METHOD_CLOSE: return holder_only({S::CLUE_STATE_CONCLUDED, Stage::kNone});
        default: return InvalidField("method", "must be one of the four disposition methods");
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

namespace {

template <typename T>
const T* As(const StepRequest& r) {
  return std::get_if<T>(&r);
}

bool Contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// Refusals that say nothing of the clue to a caller who may not see it.
absl::Status Unseen() { return absl::NotFoundError("clue not found"); }

absl::Status VersionCheck(const StoredClue& c, int64_t expected) {
  if (expected != 0 && c.clue.version() != expected) {
    return absl::AbortedError("clue changed: version is " + std::to_string(c.clue.version()) + ", expected " +
                              std::to_string(expected));
  }
  return absl::OkStatus();
}

// Recusal (回避): the handler may be neither a subject nor in the chain of command of one
// (a unit at or above a subject's unit).
absl::Status Recusal(const StepFacts& f) {
  for (const auto& subject : f.subjects) {
    if (!subject.person_id.empty() && subject.person_id == f.handler->id) {
      return absl::FailedPreconditionError("recusal (回避): the handler is a subject of this clue");
    }
    if (Contains(subject.units, f.handler->unit_id)) {
      return absl::FailedPreconditionError(
          "recusal (回避): the handler's unit is in the chain of command of a subject of this clue");
    }
  }
  return absl::OkStatus();
}

// Copies `from` into `to` as ids only (person_id or unit_id, never display_name): the event
// feed reaches every subscribing service, and a follower reads names (and the person's
// unit) from the directory.
void CopySubjectIds(const google::protobuf::RepeatedPtrField<v1::ClueSubject>& from,
                    google::protobuf::RepeatedPtrField<v1::ClueSubject>* to) {
  for (const auto& subject : from) {
    auto* out = to->Add();
    if (subject.has_person_id()) out->set_person_id(subject.person_id());
    if (subject.has_unit_id()) out->set_unit_id(subject.unit_id());
  }
}

}  // namespace

v1::ClueReply ReplyOf(const StoredClue& s) {
  v1::ClueReply r;
  *r.mutable_clue() = s.clue;
  r.mutable_clue()->clear_details();
  r.mutable_clue()->clear_reporter();
  r.mutable_clue()->set_details_withheld(!s.details_sealed.empty());
  return r;
}

Relation RelationOf(const auth::Principal& p, const StoredClue& c) {
  if (!p.unit.empty() && p.unit == c.clue.holding_unit_id()) return Relation::kHolder;
  if (!p.unit.empty() && c.clue.state() == v1::CLUE_STATE_OFFERED && p.unit == c.clue.offered_to_unit_id()) {
    return Relation::kOfferee;
  }
  return Relation::kOther;
}

void SetDeadline(v1::Clue& c, Stage stage, const Rules& rules) {
  int days = 0;
  switch (stage) {
    case Stage::kAccept: days = rules.limits.accept; break;
    case Stage::kDispose: days = rules.limits.dispose; break;
    case Stage::kHandle: days = rules.limits.handle; break;
    case Stage::kConclude: days = rules.limits.conclude; break;
    case Stage::kNone: break;
  }
  if (days == 0) {
    c.clear_deadline_at();
    c.clear_deadline_stage();
  } else {
    *c.mutable_deadline_at() = db::TimestampOf(rules.calendar->Deadline(rules.now, days));
    c.set_deadline_stage(std::string(StageName(stage)));
  }
  c.set_overdue(false);
}

std::string_view MethodOf(const StepRequest& r) {
  static constexpr std::string_view kNames[] = {"TransferClue",   "AcceptClue",  "ReturnClue",
                                                "AssignHandler",  "DisposeClue", "ConcludeClue",
                                                "ExtendDeadline", "AddNote",     "MarkIntervention"};
  static_assert(std::size(kNames) == std::variant_size_v<StepRequest>);
  return kNames[r.index()];
}

const std::string& ClueIdOf(const StepRequest& r) {
  return std::visit([](const auto& req) -> const std::string& { return req.clue_id(); }, r);
}

const std::string& RequestIdOf(const StepRequest& r) {
  return std::visit([](const auto& req) -> const std::string& { return req.request_id(); }, r);
}

int64_t ExpectedVersionOf(const StepRequest& r) {
  return std::visit(
      [](const auto& req) -> int64_t {
        if constexpr (std::is_same_v<std::decay_t<decltype(req)>, v1::AddNoteRequest>) {
          return 0;  // notes never conflict with other changes
        } else {
          return req.expected_version();
        }
      },
      r);
}

bool NeedsSubjects(const StepRequest& r) { return As<v1::AssignHandlerRequest>(r) != nullptr; }
bool NeedsHolderUnit(const StepRequest& r) { return As<v1::ExtendDeadlineRequest>(r) != nullptr; }

absl::StatusOr<Change> Decide(const StoredClue& cur, const auth::Principal& caller, const StepRequest& request,
                              const StepFacts& facts, const Rules& rules) {
  const Standing standing = StandingOf(caller, cur.clue, facts.custody);
  // A clue the caller may not see does not exist for them.
  if (ViewOf(standing) == View::kNone) return Unseen();
  const Relation rel = RelationOf(caller, cur);
  if (As<v1::AssignHandlerRequest>(request) != nullptr) {
    // Standing before recusal: the recusal answer says whether a person is a subject of the
    // clue, which only its holder may learn.
    if (standing != Standing::kHolder) {
      return absl::PermissionDeniedError("only the unit holding the clue may assign a handler");
    }
    if (!facts.handler || !facts.handler_unit) return absl::InternalError("handler not resolved");
    SM_RETURN_IF_ERROR(Recusal(facts));
  }
  SM_RETURN_IF_ERROR(VersionCheck(cur, ExpectedVersionOf(request)));
  Change ch{cur, {}, {}};
  v1::Clue& c = ch.after.clue;
  const v1::Clue& was = cur.clue;

  if (const auto* req = As<v1::TransferClueRequest>(request)) {
    SM_ASSIGN_OR_RETURN(Step step, Next(was.state(), Action::kTransfer, rel));
    if (req->to_unit_id() == was.holding_unit_id()) {
      return InvalidField("to_unit_id", "is the unit already holding the clue");
    }
    auto* e = ch.event.mutable_offered();
    e->set_from_unit_id(was.holding_unit_id());
    e->set_to_unit_id(req->to_unit_id());
    e->set_reason(req->reason());
    ch.custody_add = {{req->to_unit_id(), Custody::kOffered}};
    c.set_state(step.next);
    c.set_offered_to_unit_id(req->to_unit_id());
    SetDeadline(c, step.stage, rules);
  } else if (As<v1::AcceptClueRequest>(request) != nullptr) {
    SM_ASSIGN_OR_RETURN(Step step, Next(was.state(), Action::kAccept, rel));
    // The unit handing it on keeps what it sent and the feedback owed to it.
    auto* e = ch.event.mutable_accepted();
    e->set_from_unit_id(was.holding_unit_id());
    e->set_to_unit_id(was.offered_to_unit_id());
    ch.custody_add = {{was.holding_unit_id(), Custody::kSender}};
    c.set_state(step.next);
    c.set_holding_unit_id(was.offered_to_unit_id());
    c.clear_offered_to_unit_id();
    c.clear_handler_person_id();
    SetDeadline(c, step.stage, rules);
  } else if (const auto* req = As<v1::ReturnClueRequest>(request)) {
    SM_ASSIGN_OR_RETURN(Step step, Next(was.state(), Action::kReturn, rel));
    auto* e = ch.event.mutable_returned();
    e->set_by_unit_id(was.offered_to_unit_id());
    e->set_to_unit_id(was.holding_unit_id());
    e->set_reason(req->reason());
    c.set_state(step.next);
    c.clear_offered_to_unit_id();
    SetDeadline(c, step.stage, rules);
  } else if (As<v1::AssignHandlerRequest>(request) != nullptr) {
    SM_RETURN_IF_ERROR(Next(was.state(), Action::kAssign, rel).status());  // the stage clock is unchanged
    const UnitInfo& hu = *facts.handler_unit;
    if (hu.id != was.holding_unit_id() && !Contains(hu.ancestors, was.holding_unit_id())) {
      return InvalidField("handler_person_id", "is not in the unit holding the clue");
    }
    ch.event.mutable_handler_assigned()->set_handler_person_id(facts.handler->id);
    c.set_handler_person_id(facts.handler->id);
  } else if (const auto* req = As<v1::DisposeClueRequest>(request)) {
    SM_ASSIGN_OR_RETURN(Step step, Next(was.state(), Action::kDispose, rel, req->method()));
    ch.event.mutable_disposed()->set_method(req->method());
    ch.event.mutable_disposed()->set_reason(req->reason());
    c.set_state(step.next);
    auto* d = c.mutable_disposition();
    d->set_method(req->method());
    d->set_reason(req->reason());
    d->set_decided_by(caller.EndUser());
    *d->mutable_decided_at() = db::TimestampOf(rules.now);
    if (step.next == v1::CLUE_STATE_CONCLUDED) {  // 予以了结: closed with its reason
      c.mutable_outcome()->set_feedback(req->reason());
      *c.mutable_outcome()->mutable_concluded_at() = db::TimestampOf(rules.now);
    }
    SetDeadline(c, step.stage, rules);
  } else if (const auto* req = As<v1::ConcludeClueRequest>(request)) {
    SM_ASSIGN_OR_RETURN(
        Step step, Next(was.state(), Action::kConclude, rel, v1::DISPOSITION_METHOD_UNSPECIFIED, req->case_filed()));
    auto* e = step.next == v1::CLUE_STATE_CASE_FILED ? ch.event.mutable_case_filed() : ch.event.mutable_concluded();
    e->set_form(static_cast<int>(req->form()));
    e->set_case_filed(req->case_filed());
    e->set_feedback_to_unit_id(was.origin_unit_id());
    e->set_feedback(req->feedback());
    CopySubjectIds(was.subjects(), e->mutable_subjects());
    e->set_source(was.source());
    e->set_number(was.number());
    c.set_state(step.next);
    auto* o = c.mutable_outcome();
    o->set_form(req->form());
    o->set_case_filed(req->case_filed() || was.state() == v1::CLUE_STATE_CASE_FILED);
    o->clear_sanctions();
    for (const auto& sanction : req->sanctions()) o->add_sanctions(sanction);
    o->set_feedback(req->feedback());
    if (step.next == v1::CLUE_STATE_CONCLUDED) *o->mutable_concluded_at() = db::TimestampOf(rules.now);
    SetDeadline(c, step.stage, rules);
  } else if (const auto* req = As<v1::ExtendDeadlineRequest>(request)) {
    if (rel != Relation::kHolder) return absl::PermissionDeniedError("only the holding unit extends deadlines");
    if (!facts.approver || !facts.approver_unit) return absl::InternalError("approver not resolved");
    // A leader of the holding unit or of a unit above it approves; one below does not.
    if (!facts.holder_unit) return absl::UnavailableError("the holding unit could not be read from the directory");
    const UnitInfo& holder = *facts.holder_unit;
    if (facts.approver_unit->id != holder.id && !Contains(holder.ancestors, facts.approver_unit->id)) {
      return absl::PermissionDeniedError("the approving leader is not of the holding unit or above it");
    }
    if (!ClockRuns(was.state()) || !was.has_deadline_at()) {
      return absl::FailedPreconditionError("no running deadline in state " + std::string(StateName(was.state())));
    }
    const TimePoint old_deadline = FromUnixSeconds(was.deadline_at().seconds());
    const TimePoint new_deadline =
        workdays::EndOfDay(rules.calendar->AddWorkdays(workdays::LocalDate(old_deadline), req->extra_working_days()));
    auto* e = ch.event.mutable_deadline_extended();
    e->set_stage(was.deadline_stage());
    e->set_from(ToUnixSeconds(old_deadline));
    e->set_to(ToUnixSeconds(new_deadline));
    e->set_working_days(req->extra_working_days());
    e->set_approved_by(facts.approver->id);
    e->set_reason(req->reason());
    *c.mutable_deadline_at() = db::TimestampOf(new_deadline);
    c.set_overdue(new_deadline < rules.now && was.overdue());
  } else if (const auto* req = As<v1::AddNoteRequest>(request)) {
    if (rel != Relation::kHolder) return absl::PermissionDeniedError("only the holding unit adds notes");
    if (was.state() == v1::CLUE_STATE_MERGED) {
      return absl::FailedPreconditionError("cannot add a note to a clue in state MERGED");
    }
    // The note text is case content: it is kept in the (access-controlled) history, never
    // logged.
    ch.event.mutable_note()->set_text(req->text());
    *ch.event.mutable_note()->mutable_attachments() = req->attachments();
  } else if (const auto* req = As<v1::MarkInterventionRequest>(request)) {
    if (was.state() == v1::CLUE_STATE_CONCLUDED || was.state() == v1::CLUE_STATE_MERGED) {
      return absl::FailedPreconditionError("cannot intervene in a clue in state " +
                                           std::string(StateName(was.state())));
    }
    if (was.intervened()) return absl::FailedPreconditionError("already intervened in step");
    ch.event.mutable_intervened()->set_unit_id(caller.unit);
    ch.event.mutable_intervened()->set_note(req->note());
    ch.custody_add = {{caller.unit, Custody::kSupervisor}};
    c.set_intervened(true);
  }
  return ch;
}

std::vector<v1::ClueEventPayload> Register(StoredClue& s, const std::string& offer_to_unit_id,
                                           std::string_view reporter, const Rules& rules) {
  v1::Clue& c = s.clue;
  c.set_state(v1::CLUE_STATE_REGISTERED);
  c.set_holding_unit_id(c.origin_unit_id());
  c.set_version(1);
  if (offer_to_unit_id.empty()) {
    SetDeadline(c, Stage::kDispose, rules);
  } else {
    c.set_state(v1::CLUE_STATE_OFFERED);
    c.set_offered_to_unit_id(offer_to_unit_id);
    SetDeadline(c, Stage::kAccept, rules);
  }
  std::vector<v1::ClueEventPayload> events(offer_to_unit_id.empty() ? 1 : 2);
  auto* r = events[0].mutable_registered();
  r->set_source(c.source());
  r->set_channel(c.channel());
  r->set_origin_unit_id(c.origin_unit_id());
  r->set_reporter(std::string(reporter));
  if (!c.source_system().empty()) {
    r->mutable_referral()->set_system(c.source_system());
    r->mutable_referral()->set_ref(c.source_ref());
  }
  CopySubjectIds(c.subjects(), r->mutable_subjects());
  if (!offer_to_unit_id.empty()) {
    auto* o = events[1].mutable_offered();
    o->set_from_unit_id(c.origin_unit_id());
    o->set_to_unit_id(offer_to_unit_id);
    o->set_reason("referral");
  }
  return events;
}

absl::StatusOr<std::vector<Change>> DecideMerge(const MergeItem& primary, const std::vector<MergeItem>& merged,
                                                const auth::Principal& caller, int64_t expected_version,
                                                const std::string& reason) {
  auto visible = [&](const MergeItem& m) { return ViewOf(StandingOf(caller, m.clue.clue, m.custody)) != View::kNone; };
  if (!visible(primary)) return absl::NotFoundError("clue " + primary.clue.clue.id() + " not found");
  for (const auto& m : merged) {
    if (!visible(m)) return absl::NotFoundError("clue " + m.clue.clue.id() + " not found");
  }
  SM_RETURN_IF_ERROR(VersionCheck(primary.clue, expected_version));
  auto terminal = [](v1::ClueState s) { return s == v1::CLUE_STATE_CONCLUDED || s == v1::CLUE_STATE_MERGED; };
  const v1::Clue& p = primary.clue.clue;
  if (RelationOf(caller, primary.clue) != Relation::kHolder) {
    return absl::PermissionDeniedError("only the unit holding the clues may merge them");
  }
  if (terminal(p.state())) {
    return absl::FailedPreconditionError("cannot merge into a clue in state " + std::string(StateName(p.state())));
  }
  for (const auto& m : merged) {
    const v1::Clue& o = m.clue.clue;
    if (RelationOf(caller, m.clue) != Relation::kHolder) {
      return absl::PermissionDeniedError("clue " + o.number() + " is held by another unit");
    }
    if (terminal(o.state()) || o.state() == v1::CLUE_STATE_OFFERED) {
      return absl::FailedPreconditionError("cannot merge clue " + o.number() + " in state " +
                                           std::string(StateName(o.state())));
    }
  }
  std::vector<Change> out;
  v1::ClueEventPayload into_primary;
  into_primary.mutable_merged()->set_reason(reason);
  for (const auto& m : merged) {
    const v1::Clue& o = m.clue.clue;
    auto* src = into_primary.mutable_merged()->add_merged();
    src->set_clue_id(o.id());
    src->set_number(o.number());
    src->set_origin_unit_id(o.origin_unit_id());
    src->set_source(o.source());
    Change ch{m.clue, {}, {}};
    ch.event.mutable_merged_into()->set_primary_clue_id(p.id());
    ch.event.mutable_merged_into()->set_reason(reason);
    v1::Clue& c = ch.after.clue;
    c.set_state(v1::CLUE_STATE_MERGED);
    c.set_merged_into_id(p.id());
    c.clear_deadline_at();
    c.clear_deadline_stage();
    c.set_overdue(false);
    out.push_back(std::move(ch));
  }
  out.push_back(Change{primary.clue, std::move(into_primary), {}});
  return out;
}

bool IsOverdue(const StoredClue& c, TimePoint now) {
  return !c.clue.overdue() && ClockRuns(c.clue.state()) && c.clue.has_deadline_at() &&
         FromUnixSeconds(c.clue.deadline_at().seconds()) < now;
}

Change Escalate(const StoredClue& c, const std::optional<UnitInfo>& holder) {
  // 督办 goes to the unit above the holder (the holder itself at the top of a tree).
  const std::string to_unit =
      holder && !holder->ancestors.empty() ? holder->ancestors.back() : c.clue.holding_unit_id();
  Change ch{c, {}, {{to_unit, Custody::kSupervisor}}};
  auto* e = ch.event.mutable_escalated();
  e->set_stage(c.clue.deadline_stage());
  e->set_deadline_us(c.clue.deadline_at().seconds() * 1000000);
  e->set_holding_unit_id(c.clue.holding_unit_id());
  e->set_escalated_to_unit_id(to_unit);
  ch.after.clue.set_overdue(true);
  return ch;
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

absl::StatusOr<v1::RevealState> NextReveal(v1::RevealState state, RevealAction action, RevealParty party, int approvals,
                                           int needed) {
  auto illegal = [&] {
    return absl::FailedPreconditionError("cannot " + std::string(RevealActionName(action)) +
                                         " a reveal request in state " + std::string(RevealStateName(state)));
  };
  switch (action) {
    case RevealAction::kApprove:
    case RevealAction::kRefuse:
      if (party != RevealParty::kCustodian && party != RevealParty::kDecidedCustodian) {
        return absl::PermissionDeniedError(party == RevealParty::kRequester
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

std::optional<TimePoint> RevealExpiresAt(const v1::RevealRequest& r) {
  if (!r.has_expires_at()) return std::nullopt;
  return TimePoint(std::chrono::microseconds(db::Micros(r.expires_at())));
}

bool RevealDecidedBy(const v1::RevealRequest& r, const std::string& user) {
  for (const auto& d : r.decisions()) {
    if (d.custodian() == user) return true;
  }
  return false;
}

absl::Status MayRequestReveal(const auth::Principal& p, const StoredClue& c) {
  return MayRequestReveal(p.HasRole(auth::kRoleDiscipline), p.unit == c.clue.holding_unit_id(), p.clearance,
                          c.clue.reporter_on_file() && !c.reporter_sealed.empty());
}

absl::StatusOr<RevealChange> DecideRevealRequest(const StoredClue& clue, Custody custody, const auth::Principal& caller,
                                                 const v1::RequestRevealRequest& request, const std::string& id,
                                                 const RevealRules& rules) {
  if (ViewOf(StandingOf(caller, clue.clue, custody)) == View::kNone) return Unseen();
  SM_RETURN_IF_ERROR(MayRequestReveal(caller, clue));
  RevealChange ch;
  v1::RevealRequest& r = ch.after;
  r.set_id(id);
  r.set_clue_id(clue.clue.id());
  r.set_clue_number(clue.clue.number());
  r.set_version(1);
  r.set_state(v1::REVEAL_STATE_PENDING);
  r.set_requester(caller.user);
  r.set_requester_unit_id(caller.unit);
  r.set_reason(request.reason());
  r.set_approvals_needed(rules.policy.approvals);
  *r.mutable_requested_at() = db::TimestampOf(rules.now);
  auto* e = ch.event.mutable_reveal_requested();
  e->set_reveal_request_id(id);
  e->set_reason(request.reason());
  e->set_requester(caller.user);
  e->set_approvals_needed(rules.policy.approvals);
  e->set_custodians(rules.policy.custodians);
  return ch;
}

absl::StatusOr<RevealChange> DecideRevealStep(const v1::RevealRequest& cur, const StoredClue& clue,
                                              const auth::Principal& caller, const RevealStepRequest& request,
                                              const RevealRules& rules) {
  const v1::RevealState state = EffectiveRevealState(cur.state(), RevealExpiresAt(cur), rules.now);
  RevealChange ch;
  ch.after = cur;
  if (const auto* req = std::get_if<v1::DecideRevealRequest>(&request)) {
    const bool refuse = req->verdict() == v1::REVEAL_VERDICT_REFUSE;
    const RevealParty party = RevealPartyOf(cur.requester() == caller.user, caller.HasRole(auth::kRoleCustodian),
                                            caller.clearance, RevealDecidedBy(cur, caller.user));
    SM_ASSIGN_OR_RETURN(v1::RevealState next, NextReveal(state, refuse ? RevealAction::kRefuse : RevealAction::kApprove,
                                                         party, cur.approvals(), cur.approvals_needed()));
    ch.after.set_state(next);
    v1::RevealDecision d;
    d.set_custodian(caller.user);
    d.set_custodian_unit_id(caller.unit);
    d.set_verdict(req->verdict());
    d.set_reason(req->reason());
    *d.mutable_decided_at() = db::TimestampOf(rules.now);
    ch.decision = std::move(d);
    if (refuse) {
      auto* e = ch.event.mutable_reveal_refused();
      e->set_reveal_request_id(cur.id());
      e->set_custodian(caller.user);
      e->set_reason(req->reason());
      return ch;
    }
    auto* e = ch.event.mutable_reveal_approved();
    e->set_reveal_request_id(cur.id());
    e->set_custodian(caller.user);
    e->set_approvals(cur.approvals() + 1);
    e->set_approvals_needed(cur.approvals_needed());
    e->set_state(next);
    if (!req->reason().empty()) e->set_reason(req->reason());
    if (next == v1::REVEAL_STATE_APPROVED) {
      const TimePoint expires = rules.now + rules.policy.window;
      *ch.after.mutable_approved_at() = db::TimestampOf(rules.now);
      *ch.after.mutable_expires_at() = db::TimestampOf(expires);
      e->set_expires_at(ToUnixSeconds(expires));
    }
    return ch;
  }
  const auto& req = std::get<v1::RevealReporterRequest>(request);
  if (!req.clue_id().empty() && req.clue_id() != cur.clue_id()) {
    return InvalidField("clue_id", "is not the clue of this reveal request");
  }
  const RevealParty party = RevealPartyOf(cur.requester() == caller.user, caller.HasRole(auth::kRoleCustodian),
                                          caller.clearance, RevealDecidedBy(cur, caller.user));
  SM_ASSIGN_OR_RETURN(v1::RevealState next,
                      NextReveal(state, RevealAction::kReveal, party, cur.approvals(), cur.approvals_needed()));
  SM_RETURN_IF_ERROR(MayRequestReveal(caller, clue));
  ch.after.set_state(next);
  *ch.after.mutable_used_at() = db::TimestampOf(rules.now);
  // Who looked, when and on whose approval is itself part of the clue's tamper-evident
  // history; what they saw is not.
  auto* e = ch.event.mutable_reporter_revealed();
  e->set_reveal_request_id(cur.id());
  e->set_requester(caller.user);
  e->set_reason(cur.reason());
  return ch;
}

std::string_view MethodOf(const RevealStepRequest& r) {
  return std::holds_alternative<v1::DecideRevealRequest>(r) ? "DecideReveal" : "RevealReporter";
}
const std::string& RevealIdOf(const RevealStepRequest& r) {
  return std::visit([](const auto& x) -> const std::string& { return x.reveal_request_id(); }, r);
}
const std::string& RequestIdOf(const RevealStepRequest& r) {
  return std::visit([](const auto& x) -> const std::string& { return x.request_id(); }, r);
}

}  // namespace sm::clue
