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

// ---- one walk per command ----

StoredRectification* StoredFinding::Find(const std::string& id) { return rectification::Find(rectifications, id); }
const StoredRectification* StoredFinding::Find(const std::string& id) const {
  return rectification::Find(rectifications, id);
}
bool OwnsRectification(const StoredFinding& f, const std::string& unit) {
  return !unit.empty() && std::any_of(f.rectifications.begin(), f.rectifications.end(),
                                      [&](const auto& x) { return x.rectification.owner_unit_id() == unit; });
}

void StoredFinding::Count() {
  const rectification::Counts n = rectification::CountOf(rectifications);
  finding.set_rectifications_open(n.open);
  finding.set_rectifications_signed_off(n.signed_off);
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

// A referral step (common/referral.h) on the finding: its row written with the new referral,
// the event on its chain.
Change ReferralChange(const StoredFinding& f, referral::Step step) {
  v1::AuditEventPayload event;
  events::MustRewrap(step.event, &event);
  Change c = FindingChange(f, std::move(event));
  *c.finding->finding.mutable_referral() = std::move(step.after);
  return c;
}

// A step on one of the finding's rectifications: the rectification written, the event on
// the finding's chain.
Change RectificationChange(const StoredFinding& f, rectification::Step step, Row row) {
  Change c;
  c.finding = f;
  c.rectification_id = step.after.id();
  c.rectification_row = row;
  rectification::Put(c.finding->rectifications, std::move(step.after), 0);
  c.finding->Count();
  Event& e = c.events.emplace_back(Event{f.finding.id(), {}});
  // Every rectification event is an audit event of the same name (events.proto).
  events::MustRewrap(step.event, &e.event);
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
    added->set_responsible_person_id(f.responsible_person_id());
    added->set_severity(f.severity());
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
    SM_RETURN_IF_ERROR(referral::CheckReceiver(facts.unit, "to_unit_id"));
    SM_RETURN_IF_ERROR(Fresh(req.expected_version(), f.version(), "finding"));
    auto step = referral::Start(f.referral(), Lower(req.to_unit_id()));
    if (!step.ok()) return absl::FailedPreconditionError("the finding is " + std::string(step.status().message()));
    // The command: register the clue at the audit unit and offer it to the discipline unit;
    // (source_system, source_ref) makes every redelivery the same clue.
    referral::ClueOf clue{.system = "audit",
                          .ref = f.id(),
                          .source = v1::CLUE_SOURCE_AUDIT,
                          .origin_unit_id = cur.engagement->engagement.audit_unit_id(),
                          .to_unit_id = req.to_unit_id(),
                          .subject_person_id = f.responsible_person_id(),
                          .subject_unit_id = f.responsible_unit_id(),
                          .summary = req.summary().empty() ? "审计移送：" + f.title() : req.summary(),
                          .details = f.description(),
                          .severity = f.severity()};
    for (int category : req.categories()) clue.categories.push_back(static_cast<v1::ClueCategory>(category));
    Change c = ReferralChange(*cur.finding, *std::move(step));
    c.command = Command{referral::kCommandKind, "finding:" + f.id(), referral::Clue(clue).SerializeAsString()};
    return c;
  }

  absl::StatusOr<Change> operator()(const v1::RetryReferralRequest& req) const {
    const v1::Finding& f = cur.finding->finding;
    SM_RETURN_IF_ERROR(Allowed(Rpc::kRetryReferral, p, FindingRelations(), "finding"));
    SM_RETURN_IF_ERROR(Fresh(req.expected_version(), f.version(), "finding"));
    SM_ASSIGN_OR_RETURN(referral::Step step, referral::Retry(f.referral(), req.reason()));
    Change c = ReferralChange(*cur.finding, std::move(step));
    c.command = Command{referral::kCommandKind, "finding:" + f.id(), "", /*retry=*/true};
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
  std::optional<referral::Step> step = referral::Link(f.finding.referral(), clue_id, clue_number, clue_state);
  if (!step) return std::nullopt;
  return ReferralChange(f, *std::move(step));
}

Change ReferralDead(const StoredFinding& f, const std::string& error) {
  return ReferralChange(f, referral::Dead(f.finding.referral(), error));
}

Change FollowClue(const StoredFinding& f, const ReferralUpdate& u, const std::string& clue_event_type,
                  const std::string& clue_id, int64_t clue_seq) {
  return ReferralChange(f, referral::Follow(f.finding.referral(), u, clue_event_type, clue_id, clue_seq));
}

std::optional<Change> EscalateOverdue(const StoredFinding& f, const std::string& rectification_id, TimePoint now) {
  const StoredRectification* x = f.Find(rectification_id);
  if (!x || !rectification::IsOverdue(x->rectification, now)) return std::nullopt;
  return RectificationChange(f, rectification::Escalate(x->rectification), Row::kUpdate);
}

}  // namespace sm::audit
