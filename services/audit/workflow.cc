#include "services/audit/workflow.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <stdexcept>

#include <google/protobuf/util/message_differencer.h>

#include "common/db/sql.h"
#include "common/event_payload.h"
#include "common/rectification_request.h"
#include "common/status.h"
#include "common/workdays.h"

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

absl::Status CheckEngagementStep(v1::EngagementState from, v1::EngagementState to) {
  if (from == v1::ENGAGEMENT_STATE_UNSPECIFIED || from == v1::ENGAGEMENT_STATE_CLOSED ||
      static_cast<int>(to) != static_cast<int>(from) + 1) {
    return absl::FailedPreconditionError("cannot move an engagement in state " +
                                         std::string(EngagementStateName(from)) + " to " +
                                         std::string(EngagementStateName(to)));
  }
  return absl::OkStatus();
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

// ---- one walk per command ----

StoredRectification* StoredFinding::Find(const std::string& id) {
  for (auto& x : rectifications) {
    if (x.rectification.id() == id) return &x;
  }
  return nullptr;
}
const StoredRectification* StoredFinding::Find(const std::string& id) const {
  return const_cast<StoredFinding*>(this)->Find(id);
}
bool OwnsRectification(const StoredFinding& f, const std::string& unit) {
  return !unit.empty() && std::any_of(f.rectifications.begin(), f.rectifications.end(),
                                      [&](const auto& x) { return x.rectification.owner_unit_id() == unit; });
}

void StoredFinding::Count() {
  int open = 0, signed_off = 0;
  for (const auto& x : rectifications) {
    (x.rectification.state() == v1::RECTIFICATION_STATE_SIGNED_OFF ? signed_off : open)++;
  }
  finding.set_rectifications_open(open);
  finding.set_rectifications_signed_off(signed_off);
}

namespace {

using Row = Change::Row;
using access::Rpc;

template <typename T>
const T* As(const StepRequest& r) {
  return std::get_if<T>(&r);
}

// Ids as PostgreSQL writes them (lower case), so that a reply made from memory is the row.
std::string Lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

absl::Status Allowed(Rpc rpc, const auth::Principal& p, const access::Relations& rel, std::string_view what) {
  return access::Check(rpc, p, rel, what).status();
}

absl::Status Fresh(int64_t expected, int64_t version, const std::string& what) {
  if (expected != 0 && expected != version) {
    return absl::AbortedError(what + " changed: version is " + std::to_string(version));
  }
  return absl::OkStatus();
}

absl::Status ActiveUnit(const StepFacts& f, const std::string& field) {
  if (!f.unit || !f.unit->active) return InvalidField(field, "no such active unit");
  return absl::OkStatus();
}

absl::Status ActivePerson(const StepFacts& f, const std::string& id, const std::string& field) {
  if (!id.empty() && (!f.person || !f.person->active)) return InvalidField(field, "no such active person");
  return absl::OkStatus();
}

std::string DateText(const std::string& s) {
  auto d = workdays::ParseDate(s);
  return d.ok() ? d->ToString() : s;
}

// A change of the finding's own row, with one event on it.
Change FindingChange(const StoredFinding& f, v1::AuditEventPayload event) {
  Change c;
  c.finding = f;
  c.finding_row = Row::kUpdate;
  c.finding->finding.set_version(f.finding.version() + 1);
  c.events.push_back({f.finding.id(), std::move(event)});
  return c;
}

// A step on one of the finding's rectifications: the rectification written, the event on
// the finding's chain.
Change RectificationChange(const StoredFinding& f, rectification::Step step, Row row) {
  Change c;
  c.finding = f;
  c.rectification_id = step.after.id();
  c.rectification_row = row;
  if (StoredRectification* x = c.finding->Find(step.after.id())) {
    x->rectification = std::move(step.after);
  } else {
    c.finding->rectifications.push_back({std::move(step.after), 0});
    std::sort(c.finding->rectifications.begin(), c.finding->rectifications.end(),
              [](const auto& a, const auto& b) { return a.rectification.id() < b.rectification.id(); });
  }
  c.finding->Count();
  Event& e = c.events.emplace_back(Event{f.finding.id(), {}});
  // Every rectification event is an audit event of the same name (events.proto).
  if (absl::Status s = events::Rewrap(step.event, &e.event); !s.ok()) throw std::logic_error(std::string(s.message()));
  return c;
}

// The decisions, one per step.
struct Walk {
  const Current& cur;
  const auth::Principal& p;
  const StepFacts& facts;
  const Rules& rules;

  access::Relations FindingRelations() const {
    return access::ToFinding(p.unit, cur.finding->finding, cur.engagement->engagement,
                             OwnsRectification(*cur.finding, p.unit), facts.ancestry);
  }

  absl::StatusOr<Change> operator()(const v1::CreateEngagementRequest& req) const {
    // The audit unit opens engagements in its own name only.
    access::Relations own;
    if (!p.unit.empty() && p.unit == req.audit_unit_id()) own.Add(access::Relation::kAuditUnit);
    SM_RETURN_IF_ERROR(Allowed(Rpc::kCreateEngagement, p, own, "audit unit"));
    SM_RETURN_IF_ERROR(ActiveUnit(facts, "audited_unit_id"));
    SM_RETURN_IF_ERROR(ActivePerson(facts, req.audited_person_id(), "audited_person_id"));
    Change c;
    c.engagement_row = Row::kInsert;
    v1::Engagement& e = c.engagement.emplace().engagement;
    e.set_id(Lower(facts.new_id));
    char number[32];
    std::snprintf(number, sizeof number, "SJ-%04d-%04lld", workdays::LocalDate(rules.now).year,
                  static_cast<long long>(cur.sequence));
    e.set_number(number);
    e.set_kind(req.kind());
    e.set_title(req.title());
    e.set_audit_unit_id(Lower(req.audit_unit_id()));
    e.set_audited_unit_id(Lower(req.audited_unit_id()));
    e.set_audited_person_id(Lower(req.audited_person_id()));
    e.set_period_from(DateText(req.period_from()));
    e.set_period_to(DateText(req.period_to()));
    e.set_it_stage(req.it_stage());
    e.set_state(v1::ENGAGEMENT_STATE_PLANNED);
    e.set_version(1);
    db::SetMicros(e.mutable_created_at(), cur.now_us);
    auto* created = c.events.emplace_back(Event{e.id(), {}}).event.mutable_engagement_created();
    created->set_kind(e.kind());
    created->set_audited_unit_id(e.audited_unit_id());
    return c;
  }

  absl::StatusOr<Change> operator()(const v1::AdvanceEngagementRequest& req) const {
    const v1::Engagement& e = cur.engagement->engagement;
    SM_RETURN_IF_ERROR(
        Allowed(Rpc::kAdvanceEngagement, p, access::ToEngagement(p.unit, e, facts.ancestry), "engagement"));
    SM_RETURN_IF_ERROR(Fresh(req.expected_version(), e.version(), "engagement"));
    SM_RETURN_IF_ERROR(CheckEngagementStep(e.state(), req.to()));
    Change c;
    c.engagement = cur.engagement;
    c.engagement_row = Row::kUpdate;
    c.engagement->engagement.set_state(req.to());
    c.engagement->engagement.set_version(e.version() + 1);
    auto* advanced = c.events.emplace_back(Event{e.id(), {}}).event.mutable_engagement_advanced();
    advanced->set_from(e.state());
    advanced->set_to(req.to());
    return c;
  }

  absl::StatusOr<Change> operator()(const v1::AddFindingRequest& req) const {
    const v1::Engagement& e = cur.engagement->engagement;
    SM_RETURN_IF_ERROR(Allowed(Rpc::kAddFinding, p, access::ToEngagement(p.unit, e, facts.ancestry), "engagement"));
    if (e.state() == v1::ENGAGEMENT_STATE_CLOSED) {
      return absl::FailedPreconditionError("cannot add a finding to an engagement in state CLOSED");
    }
    SM_RETURN_IF_ERROR(ActiveUnit(facts, "responsible_unit_id"));
    SM_RETURN_IF_ERROR(ActivePerson(facts, req.responsible_person_id(), "responsible_person_id"));
    Change c;
    c.finding_row = Row::kInsert;
    v1::Finding& f = c.finding.emplace().finding;
    f.set_id(Lower(facts.new_id));
    char number[64];
    std::snprintf(number, sizeof number, "%s-%02lld", e.number().c_str(), static_cast<long long>(cur.finding_ordinal));
    f.set_number(number);
    f.set_engagement_id(e.id());
    f.set_title(req.title());
    f.set_description(req.description());
    f.set_category(req.category());
    f.set_amount_fen(req.amount_fen());
    f.set_severity(req.severity() == v1::SEVERITY_UNSPECIFIED ? v1::SEVERITY_MEDIUM : req.severity());
    f.set_responsible_unit_id(Lower(req.responsible_unit_id()));
    f.set_responsible_person_id(Lower(req.responsible_person_id()));
    *f.mutable_evidence_refs() = req.evidence_refs();
    f.mutable_referral();  // as a stored finding reads: a referral in no state
    f.set_recurring(!cur.recurs_finding_id.empty());
    f.set_recurs_finding_id(cur.recurs_finding_id);
    f.set_version(1);
    db::SetMicros(f.mutable_created_at(), cur.now_us);
    c.finding->Count();
    auto* added = c.events.emplace_back(Event{f.id(), {}}).event.mutable_finding_added();
    added->set_engagement_id(e.id());
    added->set_category(f.category());
    added->set_amount_fen(f.amount_fen());
    added->set_responsible_unit_id(f.responsible_unit_id());
    if (f.recurring()) {
      // A recurring problem escalates: it is flagged on the finding and in the feed.
      c.events.emplace_back(Event{f.id(), {}})
          .event.mutable_recurrence_flagged()
          ->set_recurs_finding_id(f.recurs_finding_id());
    }
    return c;
  }

  absl::StatusOr<Change> operator()(const v1::ReferFindingRequest& req) const {
    const v1::Finding& f = cur.finding->finding;
    SM_RETURN_IF_ERROR(Allowed(Rpc::kReferFinding, p, FindingRelations(), "finding"));
    SM_RETURN_IF_ERROR(ActiveUnit(facts, "to_unit_id"));
    const std::string& kind = facts.unit->kind;
    if (kind != "DISCIPLINE_GROUP" && kind != "DISCIPLINE_COMMISSION" && kind != "ORGAN_DISCIPLINE_COMMITTEE") {
      return InvalidField("to_unit_id", "is not a discipline unit (discipline group, commission or organ committee)");
    }
    SM_RETURN_IF_ERROR(Fresh(req.expected_version(), f.version(), "finding"));
    if (f.referral().state() != v1::REFERRAL_STATE_UNSPECIFIED) {
      return absl::FailedPreconditionError("the finding is already referred (referral state " +
                                           v1::ReferralState_Name(f.referral().state()) + ")");
    }
    // The command: register the clue at the audit unit and offer it to the discipline unit;
    // (source_system, source_ref) makes every redelivery the same clue.
    v1::RegisterClueRequest clue;
    clue.set_request_id("audit-referral-" + f.id());
    clue.set_origin_unit_id(cur.engagement->engagement.audit_unit_id());
    clue.set_offer_to_unit_id(req.to_unit_id());
    clue.set_source(v1::CLUE_SOURCE_AUDIT);
    clue.set_channel(v1::RECEIPT_CHANNEL_SYSTEM);
    clue.set_source_system("audit");
    clue.set_source_ref(f.id());
    if (!f.responsible_person_id().empty())
      clue.add_subjects()->set_person_id(f.responsible_person_id());
    else
      clue.add_subjects()->set_unit_id(f.responsible_unit_id());
    if (req.categories_size() == 0) clue.add_categories(v1::CLUE_CATEGORY_INTEGRITY);
    for (int category : req.categories()) clue.add_categories(static_cast<v1::ClueCategory>(category));
    clue.set_summary(req.summary().empty() ? "审计移送：" + f.title() : req.summary());
    clue.set_details(f.description());
    clue.set_severity(f.severity());
    v1::AuditEventPayload referred;
    referred.mutable_referred()->set_to_unit_id(req.to_unit_id());
    Change c = FindingChange(*cur.finding, std::move(referred));
    c.command = Command{"clue.register", "finding:" + f.id(), clue.SerializeAsString()};
    c.finding->finding.mutable_referral()->set_state(v1::REFERRAL_STATE_PENDING);
    c.finding->finding.mutable_referral()->set_to_unit_id(Lower(req.to_unit_id()));
    return c;
  }

  absl::StatusOr<Change> operator()(const v1::RetryReferralRequest& req) const {
    const v1::Finding& f = cur.finding->finding;
    SM_RETURN_IF_ERROR(Allowed(Rpc::kRetryReferral, p, FindingRelations(), "finding"));
    SM_RETURN_IF_ERROR(Fresh(req.expected_version(), f.version(), "finding"));
    if (f.referral().state() != v1::REFERRAL_STATE_DEAD) {
      return absl::FailedPreconditionError("only a dead referral is retried (referral state " +
                                           v1::ReferralState_Name(f.referral().state()) + ")");
    }
    v1::AuditEventPayload retried;
    retried.mutable_referral_retried()->set_reason(req.reason());
    retried.mutable_referral_retried()->set_last_error(f.referral().last_error());
    Change c = FindingChange(*cur.finding, std::move(retried));
    c.command = Command{"clue.register", "finding:" + f.id(), "", /*retry=*/true};
    c.finding->finding.mutable_referral()->set_state(v1::REFERRAL_STATE_PENDING);
    c.finding->finding.mutable_referral()->clear_last_error();
    return c;
  }

  absl::StatusOr<Change> operator()(const v1::AddRectificationRequest& req) const {
    const v1::Finding& f = cur.finding->finding;
    SM_RETURN_IF_ERROR(Allowed(Rpc::kAddRectification, p, FindingRelations(), "finding"));
    SM_RETURN_IF_ERROR(ActiveUnit(facts, "owner_unit_id"));
    const std::string owner = req.owner_unit_id().empty() ? f.responsible_unit_id() : Lower(req.owner_unit_id());
    rectification::Step step =
        rectification::Open(Lower(facts.new_id), f.id(), req.measure(), owner, req.working_days(), rules);
    db::SetMicros(step.after.mutable_created_at(), cur.now_us);
    Change c = RectificationChange(*cur.finding, std::move(step), Row::kInsert);
    c.finding->Find(c.rectification_id)->created_us = cur.now_us;
    return c;
  }

  // The other steps on a rectification: the access table, then the shared rules (stale
  // version, look-back window, state) with the request's command.
  template <typename Request>
  absl::StatusOr<Change> operator()(const Request& req) const requires requires {
    rectification::CommandOf(req);
  }
  {
    const StoredRectification* x = cur.finding->Find(req.rectification_id());
    if (!x) return absl::NotFoundError("rectification not found");
    SM_RETURN_IF_ERROR(Allowed(RpcOf(StepRequest(req)), p,
                               access::ToRectification(p.unit, x->rectification, cur.finding->finding,
                                                       cur.engagement->engagement, facts.ancestry),
                               "rectification"));
    const rectification::Command command = rectification::CommandOf(req);
    // The table let the caller act, as the party this step belongs to.
    const Party party = rectification::PartyOf(command.action);
    SM_ASSIGN_OR_RETURN(rectification::Step step, rectification::Decide(x->rectification, party, command, rules));
    return RectificationChange(*cur.finding, std::move(step), Row::kUpdate);
  }
};

}  // namespace

StepRequest AsStep(const EngagementStep& r) {
  return std::visit([](const auto& x) { return StepRequest(x); }, r);
}
StepRequest AsStep(const FindingStep& r) {
  return std::visit([](const auto& x) { return StepRequest(x); }, r);
}
StepRequest AsStep(const RectificationStep& r) {
  return std::visit([](const auto& x) { return StepRequest(x); }, r);
}

access::Rpc RpcOf(const StepRequest& r) {
  static constexpr Rpc kRpcs[] = {Rpc::kCreateEngagement,   Rpc::kAdvanceEngagement,   Rpc::kAddFinding,
                                  Rpc::kReferFinding,       Rpc::kRetryReferral,       Rpc::kAddRectification,
                                  Rpc::kRecordProgress,     Rpc::kSubmitRectification, Rpc::kReviewRectification,
                                  Rpc::kReopenRectification};
  static_assert(std::size(kRpcs) == std::variant_size_v<StepRequest>);
  return kRpcs[r.index()];
}

const std::string& RequestIdOf(const StepRequest& r) {
  return std::visit([](const auto& x) -> const std::string& { return x.request_id(); }, r);
}

Loads LoadsOf(const StepRequest& r) {
  switch (RpcOf(r)) {
    case Rpc::kCreateEngagement: return Loads::kNothing;
    case Rpc::kAdvanceEngagement:
    case Rpc::kAddFinding: return Loads::kEngagement;
    case Rpc::kReferFinding:
    case Rpc::kRetryReferral:
    case Rpc::kAddRectification: return Loads::kFinding;
    default: return Loads::kRectification;
  }
}

const std::string& TargetOf(const StepRequest& r) {
  static const std::string kNone;
  if (auto* x = As<v1::AdvanceEngagementRequest>(r)) return x->engagement_id();
  if (auto* x = As<v1::AddFindingRequest>(r)) return x->engagement_id();
  if (auto* x = As<v1::ReferFindingRequest>(r)) return x->finding_id();
  if (auto* x = As<v1::RetryReferralRequest>(r)) return x->finding_id();
  if (auto* x = As<v1::AddRectificationRequest>(r)) return x->finding_id();
  if (auto* x = As<v1::RecordProgressRequest>(r)) return x->rectification_id();
  if (auto* x = As<v1::SubmitRectificationRequest>(r)) return x->rectification_id();
  if (auto* x = As<v1::ReviewRectificationRequest>(r)) return x->rectification_id();
  if (auto* x = As<v1::ReopenRectificationRequest>(r)) return x->rectification_id();
  return kNone;
}

std::vector<std::string> NeededUnits(const StepRequest& r, const Current& cur, const auth::Principal& caller) {
  std::vector<std::string> out;
  if (caller.unit.empty() || !access::ParentMatters(RpcOf(r), caller)) return out;
  if (cur.finding) {
    out.push_back(cur.finding->finding.responsible_unit_id());
    if (const StoredRectification* x = cur.finding->Find(TargetOf(r))) {
      out.push_back(x->rectification.owner_unit_id());
    }
  } else if (cur.engagement) {
    out.push_back(cur.engagement->engagement.audited_unit_id());
  }
  return out;
}

std::optional<std::string> UnitReadInStep(const StepRequest& r, const Current& cur) {
  const auto* add = As<v1::AddRectificationRequest>(r);
  if (!add || !add->owner_unit_id().empty() || !cur.finding) return std::nullopt;
  return cur.finding->finding.responsible_unit_id();
}

absl::StatusOr<Change> Decide(const Current& current, const auth::Principal& caller, const StepRequest& request,
                              const StepFacts& facts, const Rules& rules) {
  const Loads loads = LoadsOf(request);
  if ((loads == Loads::kEngagement && !current.engagement) ||
      ((loads == Loads::kFinding || loads == Loads::kRectification) && (!current.finding || !current.engagement))) {
    return absl::InternalError("the step's item was not loaded");
  }
  return std::visit(Walk{current, caller, facts, rules}, request);
}

void FillReply(const Change& c, v1::EngagementReply* out) {
  if (c.engagement) *out->mutable_engagement() = c.engagement->engagement;
}
void FillReply(const Change& c, v1::FindingReply* out) {
  if (c.finding) *out->mutable_finding() = c.finding->finding;
}
void FillReply(const Change& c, v1::RectificationReply* out) {
  if (!c.finding) return;
  if (const StoredRectification* x = c.finding->Find(c.rectification_id))
    *out->mutable_rectification() = x->rectification;
}

std::optional<Change> LinkReferral(const StoredFinding& f, const std::string& clue_id, const std::string& clue_number,
                                   v1::ClueState clue_state) {
  v1::Finding after = f.finding;
  auto* ref = after.mutable_referral();
  const bool first = ref->clue_id().empty();
  ref->set_state(v1::REFERRAL_STATE_DELIVERED);
  ref->set_clue_id(clue_id);
  if (!clue_number.empty()) ref->set_clue_number(clue_number);
  if (ref->clue_state() == v1::CLUE_STATE_UNSPECIFIED) ref->set_clue_state(clue_state);
  ref->clear_last_error();
  // Already linked (by the relay's reply or the clue's own event, whichever came first) and
  // nothing new: no write. "clue_linked" is written once per finding.
  if (!first && google::protobuf::util::MessageDifferencer::Equals(after, f.finding)) return std::nullopt;
  v1::AuditEventPayload linked;
  (first ? linked.mutable_clue_linked() : linked.mutable_referral_delivered())->set_clue_id(clue_id);
  Change c = FindingChange(f, std::move(linked));
  *c.finding->finding.mutable_referral() = after.referral();
  return c;
}

Change ReferralDead(const StoredFinding& f, const std::string& error) {
  v1::AuditEventPayload dead;
  dead.mutable_referral_dead()->set_error(error);
  Change c = FindingChange(f, std::move(dead));
  c.finding->finding.mutable_referral()->set_state(v1::REFERRAL_STATE_DEAD);
  c.finding->finding.mutable_referral()->set_last_error(error);
  return c;
}

Change FollowClue(const StoredFinding& f, const ReferralUpdate& u, const std::string& clue_event_type,
                  const std::string& clue_id, int64_t clue_seq) {
  v1::ClueFollowed followed;
  followed.set_clue_id(clue_id);
  followed.set_clue_seq(clue_seq);
  v1::AuditEventPayload event;
  // "clue_" + the clue event's type: the clue events a referral follows are members of
  // AuditEventPayload (FromClueEvent maps no others).
  if (absl::Status s = events::SetMember(&event, "clue_" + clue_event_type, followed); !s.ok()) {
    throw std::logic_error(std::string(s.message()));
  }
  Change c = FindingChange(f, std::move(event));
  auto* ref = c.finding->finding.mutable_referral();
  if (u.clue_state) ref->set_clue_state(*u.clue_state);
  if (u.disposition) ref->set_disposition(*u.disposition);
  if (u.outcome_form) ref->set_outcome_form(static_cast<v1::SupervisionForm>(*u.outcome_form));
  if (u.feedback) ref->set_outcome_feedback(*u.feedback);
  return c;
}

std::optional<Change> EscalateOverdue(const StoredFinding& f, const std::string& rectification_id, TimePoint now) {
  const StoredRectification* x = f.Find(rectification_id);
  if (!x || !rectification::IsOverdue(x->rectification, now)) return std::nullopt;
  return RectificationChange(f, rectification::Escalate(x->rectification), Row::kUpdate);
}

}  // namespace sm::audit
