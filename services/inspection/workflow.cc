#include "services/inspection/workflow.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <stdexcept>

#include "common/crypto.h"
#include "common/db/sql.h"
#include "common/event_payload.h"
#include "common/rectification_request.h"
#include "common/status.h"
#include "common/validate.h"

namespace sm::inspection {

using Row = Change::Row;
using db::Micros;
using db::TimestampOf;

// ---- measures ----

std::optional<DayLimits> DaysAllowed(v1::MeasureKind kind) {
  switch (kind) {
    case v1::MEASURE_KIND_SUSPENSION: return DayLimits{10, 60};
    case v1::MEASURE_KIND_CONFINEMENT: return DayLimits{1, 7};
    default: return std::nullopt;
  }
}

bool NeedsApproval(v1::MeasureKind kind) { return DaysAllowed(kind).has_value(); }

std::string_view MeasureKindName(v1::MeasureKind kind) {
  switch (kind) {
    case v1::MEASURE_KIND_CORRECTION: return "on-the-spot correction (当场纠正)";
    case v1::MEASURE_KIND_WITHHOLD: return "withholding (扣留)";
    case v1::MEASURE_KIND_REMOVAL: return "removal from the scene (带离现场)";
    case v1::MEASURE_KIND_SUSPENSION: return "suspension from duty (停止执行职务)";
    case v1::MEASURE_KIND_CONFINEMENT: return "confinement (禁闭)";
    default: return "measure";
  }
}

bool IsOverdue(const v1::Measure& m, TimePoint now) {
  return m.state() == v1::MEASURE_STATE_IN_FORCE && m.has_ends_at() && Micros(m.ends_at()) < ToUnixMicros(now);
}

// ---- relations ----

bool AtOrAbove(const std::string& unit, const std::string& target, const Ancestry& ancestry) {
  if (unit.empty()) return false;
  if (unit == target) return true;
  auto it = ancestry.find(target);
  return it != ancestry.end() && std::find(it->second.begin(), it->second.end(), unit) != it->second.end();
}

Relation RelationTo(const auth::Principal& p, const v1::Inspection& in, const Ancestry& ancestry) {
  if (!p.unit.empty() && p.unit == in.inspection_unit_id()) return Relation::kInspecting;
  for (const auto& t : in.target_unit_ids()) {
    if (AtOrAbove(p.unit, t, ancestry)) return Relation::kTarget;
  }
  return Relation::kNone;
}

View InspectionView(const auth::Principal& p, const v1::Inspection& in, const Ancestry& ancestry) {
  if (p.HasRole(auth::kRoleOversight)) return View::kFull;
  switch (RelationTo(p, in, ancestry)) {
    case Relation::kInspecting: return View::kFull;
    case Relation::kTarget: return View::kNoNotes;
    case Relation::kNone: return View::kNone;
  }
  return View::kNone;
}

void RemoveNotes(v1::Inspection& in) {
  for (auto& entry : *in.mutable_checklist()) entry.clear_note();
}

bool MaySeeFinding(const auth::Principal& p, const v1::Inspection& in, const v1::InspectionFinding& f,
                   const Ancestry& ancestry) {
  if (p.HasRole(auth::kRoleOversight) || (!p.unit.empty() && p.unit == in.inspection_unit_id())) return true;
  return AtOrAbove(p.unit, f.subject_unit_id(), ancestry);
}

bool MaySeeMeasure(const auth::Principal& p, const v1::Inspection& in, const v1::Measure& m, const Ancestry& ancestry) {
  if (p.HasRole(auth::kRoleOversight) || (!p.unit.empty() && p.unit == in.inspection_unit_id())) return true;
  return AtOrAbove(p.unit, m.unit_id(), ancestry);
}

// ---- documents ----

StoredRectification* StoredFinding::Find(const std::string& id) { return rectification::Find(rectifications, id); }

void StoredFinding::Count() {
  const rectification::Counts n = rectification::CountOf(rectifications);
  finding.doc.set_rectifications_open(n.open);
  finding.doc.set_rectifications_signed_off(n.signed_off);
}

// ---- steps ----

std::string_view MethodOf(const StepRequest& r) {
  static constexpr std::string_view kNames[] = {"PublishTemplate",
                                                "CreateInspection",
                                                "AdvanceInspection",
                                                "MarkItem",
                                                "AddFinding",
                                                "ImposeMeasure",
                                                "ApproveMeasure",
                                                "LiftMeasure",
                                                "ReturnWithheld",
                                                "AddRectification",
                                                "RecordProgress",
                                                "SubmitRectification",
                                                "ReviewRectification",
                                                "ReopenRectification",
                                                "ReferFinding",
                                                "RetryReferral",
                                                "AssignAccountabilityCheck",
                                                "ConcludeAccountabilityCheck"};
  static_assert(std::size(kNames) == std::variant_size_v<StepRequest>);
  return kNames[r.index()];
}

const std::string& RequestIdOf(const StepRequest& r) {
  return std::visit([](const auto& x) -> const std::string& { return x.request_id(); }, r);
}

namespace {

template <typename T>
const T* As(const StepRequest& r) {
  return std::get_if<T>(&r);
}

}  // namespace

Loads LoadsOf(const StepRequest& r) {
  if (As<v1::PublishTemplateRequest>(r)) return Loads::kTemplate;
  if (As<v1::CreateInspectionRequest>(r)) return Loads::kNewInspection;
  if (As<v1::AdvanceInspectionRequest>(r) || As<v1::MarkItemRequest>(r) || As<v1::AddInspectionFindingRequest>(r) ||
      As<v1::ImposeMeasureRequest>(r)) {
    return Loads::kInspection;
  }
  if (As<v1::ApproveMeasureRequest>(r) || As<v1::LiftMeasureRequest>(r) || As<v1::ReturnWithheldRequest>(r)) {
    return Loads::kMeasure;
  }
  if (As<v1::AddRectificationRequest>(r) || As<v1::ReferFindingRequest>(r) || As<v1::RetryReferralRequest>(r)) {
    return Loads::kFinding;
  }
  if (As<v1::AssignAccountabilityCheckRequest>(r) || As<v1::ConcludeAccountabilityCheckRequest>(r)) {
    return Loads::kCheck;
  }
  return Loads::kRectification;
}

const std::string& TargetOf(const StepRequest& r) {
  static const std::string none;
  if (auto* x = As<v1::PublishTemplateRequest>(r)) return x->code();
  if (auto* x = As<v1::CreateInspectionRequest>(r)) return x->template_code();
  if (auto* x = As<v1::AdvanceInspectionRequest>(r)) return x->inspection_id();
  if (auto* x = As<v1::MarkItemRequest>(r)) return x->inspection_id();
  if (auto* x = As<v1::AddInspectionFindingRequest>(r)) return x->inspection_id();
  if (auto* x = As<v1::ImposeMeasureRequest>(r)) return x->inspection_id();
  if (auto* x = As<v1::ApproveMeasureRequest>(r)) return x->measure_id();
  if (auto* x = As<v1::LiftMeasureRequest>(r)) return x->measure_id();
  if (auto* x = As<v1::ReturnWithheldRequest>(r)) return x->measure_id();
  if (auto* x = As<v1::AddRectificationRequest>(r)) return x->finding_id();
  if (auto* x = As<v1::RecordProgressRequest>(r)) return x->rectification_id();
  if (auto* x = As<v1::SubmitRectificationRequest>(r)) return x->rectification_id();
  if (auto* x = As<v1::ReviewRectificationRequest>(r)) return x->rectification_id();
  if (auto* x = As<v1::ReopenRectificationRequest>(r)) return x->rectification_id();
  if (auto* x = As<v1::ReferFindingRequest>(r)) return x->finding_id();
  if (auto* x = As<v1::RetryReferralRequest>(r)) return x->finding_id();
  if (auto* x = As<v1::AssignAccountabilityCheckRequest>(r)) return x->check_id();
  if (auto* x = As<v1::ConcludeAccountabilityCheckRequest>(r)) return x->check_id();
  return none;
}

// ---- templates and checklists ----

void CheckTemplate(const v1::PublishTemplateRequest& req, FieldErrors& e) {
  const std::string& code = req.code();
  const bool code_ok = code.size() >= 2 && code.size() <= 64 && std::all_of(code.begin(), code.end(), [](char c) {
                         return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
                       });
  if (!code_ok) e.Add("code", "must be 2 to 64 characters of a-z, 0-9 and -");
  validate::Length(e, "name", req.name(), 200, true);
  if (req.aspects_size() < 1 || req.aspects_size() > 50) e.Add("aspects", "must list 1 to 50 aspects");
  std::set<std::string> aspect_codes, item_codes;
  for (int a = 0; a < req.aspects_size(); ++a) {
    const v1::TemplateAspect& aspect = req.aspects(a);
    const std::string at = "aspects[" + std::to_string(a) + "]";
    validate::Length(e, at + ".code", aspect.code(), 32, true);
    if (!aspect.code().empty() && !aspect_codes.insert(aspect.code()).second) e.Add(at + ".code", "is used twice");
    validate::Length(e, at + ".title", aspect.title(), 200, true);
    if (aspect.items_size() < 1 || aspect.items_size() > 200) e.Add(at + ".items", "must list 1 to 200 items");
    for (int i = 0; i < aspect.items_size(); ++i) {
      const v1::TemplateItem& item = aspect.items(i);
      const std::string it = at + ".items[" + std::to_string(i) + "]";
      validate::Length(e, it + ".code", item.code(), 32, true);
      if (!item.code().empty() && !item_codes.insert(item.code()).second) e.Add(it + ".code", "is used twice");
      validate::Length(e, it + ".text", item.text(), 1000, true);
    }
  }
}

std::vector<v1::ChecklistEntry> ChecklistOf(const v1::ChecklistTemplate& t,
                                            const google::protobuf::RepeatedPtrField<std::string>& targets) {
  std::vector<v1::ChecklistEntry> out;
  for (const auto& aspect : t.aspects()) {
    for (const auto& item : aspect.items()) {
      for (const auto& unit : targets) {
        v1::ChecklistEntry& e = out.emplace_back();
        e.set_aspect_code(aspect.code());
        e.set_aspect_title(aspect.title());
        e.set_item_code(item.code());
        e.set_item_text(item.text());
        e.set_target_unit_id(unit);
      }
    }
  }
  return out;
}

void Summarize(v1::Inspection& in) {
  v1::ChecklistSummary s;
  for (const auto& e : in.checklist()) {
    s.set_entries(s.entries() + 1);
    switch (e.mark()) {
      case v1::ITEM_MARK_CONFORMING: s.set_conforming(s.conforming() + 1); break;
      case v1::ITEM_MARK_NON_CONFORMING:
        s.set_non_conforming(s.non_conforming() + 1);
        if (e.finding_ids().empty()) s.set_non_conforming_without_finding(s.non_conforming_without_finding() + 1);
        break;
      case v1::ITEM_MARK_NOT_APPLICABLE: s.set_not_applicable(s.not_applicable() + 1); break;
      default: continue;
    }
    s.set_marked(s.marked() + 1);
  }
  *in.mutable_summary() = s;
}

namespace {

std::string StateName(v1::InspectionState s) {
  std::string n = v1::InspectionState_Name(s);
  return n.substr(std::string("INSPECTION_STATE_").size());
}
std::string MeasureStateName(v1::MeasureState s) {
  std::string n = v1::MeasureState_Name(s);
  return n.substr(std::string("MEASURE_STATE_").size());
}

// Ids as PostgreSQL prints them (lower case), so that a reply made from memory is the row.
std::string Lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

absl::Status Fresh(int64_t expected, int64_t version, const std::string& what) {
  if (expected != 0 && expected != version) {
    return absl::AbortedError(what + " changed: version is " + std::to_string(version));
  }
  return absl::OkStatus();
}

bool Listed(const v1::Inspection& in, const std::string& person) {
  return std::find(in.inspector_ids().begin(), in.inspector_ids().end(), person) != in.inspector_ids().end();
}

bool IsTarget(const v1::Inspection& in, const std::string& unit) {
  return std::find(in.target_unit_ids().begin(), in.target_unit_ids().end(), unit) != in.target_unit_ids().end();
}

v1::ChecklistEntry* EntryOf(v1::Inspection& in, const std::string& item, const std::string& unit) {
  for (auto& e : *in.mutable_checklist()) {
    if (e.item_code() == item && e.target_unit_id() == unit) return &e;
  }
  return nullptr;
}

Event& Add(Change& c, const std::string& aggregate) { return c.events.emplace_back(Event{aggregate, {}}); }

// A step on one of the finding's rectifications: the rectification written, the event on the
// finding's chain.
Change RectificationChange(const StoredFinding& f, rectification::Step step, Row row, int64_t now_us) {
  Change c;
  c.finding = f;
  c.rectification_id = step.after.id();
  c.rectification_row = row;
  rectification::Put(c.finding->rectifications, std::move(step.after), now_us);
  c.finding->Count();
  // The finding's document carries its rectification counts: when they move, it is
  // written too (what its events commit to is what is stored).
  const v1::InspectionFinding& was = f.finding.doc;
  const v1::InspectionFinding& now = c.finding->finding.doc;
  if (was.rectifications_open() != now.rectifications_open() ||
      was.rectifications_signed_off() != now.rectifications_signed_off()) {
    c.finding_row = Row::kUpdate;
  }
  Event& e = Add(c, f.finding.doc.id());
  events::MustRewrap(step.event, &e.event);
  return c;
}

// A referral step on the finding: its document written with the new referral, the event on
// its chain.
Change FindingReferral(const StoredFinding& f, referral::Step step) {
  Change c;
  c.finding = f;
  c.finding_row = Row::kUpdate;
  v1::InspectionFinding& doc = c.finding->finding.doc;
  *doc.mutable_referral() = std::move(step.after);
  doc.set_version(doc.version() + 1);
  Event& e = Add(c, doc.id());
  events::MustRewrap(step.event, &e.event);
  return c;
}

Change CheckReferral(const Stored<v1::AccountabilityCheck>& k, referral::Step step) {
  Change c;
  c.check = k;
  c.check_row = Row::kUpdate;
  v1::AccountabilityCheck& doc = c.check->doc;
  *doc.mutable_referral() = std::move(step.after);
  doc.set_version(doc.version() + 1);
  Event& e = Add(c, doc.id());
  events::MustRewrap(step.event, &e.event);
  return c;
}

// The decisions, one per step.
struct Walk {
  const Current& cur;
  const auth::Principal& p;
  const StepFacts& facts;
  const Rules& rules;

  const v1::Inspection& In() const { return cur.inspection->doc; }

  // The caller must see the inspection (NOT_FOUND otherwise) and be of the inspecting unit
  // with an inspector's role (PERMISSION_DENIED otherwise); `listed`: one of its inspectors.
  absl::Status Inspector(bool listed) const {
    if (InspectionView(p, In(), facts.ancestry) == View::kNone) return absl::NotFoundError("inspection not found");
    if (RelationTo(p, In(), facts.ancestry) != Relation::kInspecting ||
        !(p.HasRole(auth::kRoleInspector) || p.HasRole(auth::kRoleChiefInspector))) {
      return absl::PermissionDeniedError("only inspectors of the inspecting unit may do this");
    }
    if (listed && !Listed(In(), p.user) && !p.HasRole(auth::kRoleChiefInspector)) {
      return absl::PermissionDeniedError("only the inspection's own inspectors may do this");
    }
    return absl::OkStatus();
  }

  absl::Status InState(v1::InspectionState want, const std::string& doing) const {
    if (In().state() != want) {
      return absl::FailedPreconditionError("cannot " + doing + " an inspection in state " + StateName(In().state()));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Change> operator()(const v1::PublishTemplateRequest& req) const {
    if (!p.HasRole(auth::kRoleInspector) && !p.HasRole(auth::kRoleChiefInspector)) {
      return absl::PermissionDeniedError("only inspectors publish checklist templates");
    }
    Change c;
    Stored<v1::ChecklistTemplate>& t = c.template_doc.emplace();
    v1::ChecklistTemplate& doc = t.doc;
    doc.set_id(Lower(facts.new_id));
    doc.set_code(req.code());
    doc.set_version(cur.latest_template ? cur.latest_template->version() + 1 : 1);
    doc.set_name(req.name());
    *doc.mutable_aspects() = req.aspects();
    doc.set_published_by(p.EndUser());
    doc.set_published_by_unit_id(p.unit);
    db::SetMicros(doc.mutable_published_at(), cur.now_us);
    int items = 0;
    for (const auto& a : doc.aspects()) items += a.items_size();
    doc.set_items(items);
    auto* e = Add(c, doc.id()).event.mutable_template_published();
    e->set_code(doc.code());
    e->set_version(doc.version());
    e->set_aspects(doc.aspects_size());
    e->set_items(items);
    return c;
  }

  absl::StatusOr<Change> operator()(const v1::CreateInspectionRequest& req) const {
    if (!p.HasRole(auth::kRoleInspector) && !p.HasRole(auth::kRoleChiefInspector)) {
      return absl::PermissionDeniedError("only inspectors create inspections");
    }
    if (req.inspection_unit_id() != p.unit) return InvalidField("inspection_unit_id", "must be the caller's unit");
    auto unit = facts.units.find(req.inspection_unit_id());
    if (unit == facts.units.end() || !unit->second.active) {
      return InvalidField("inspection_unit_id", "no such active unit");
    }
    if (unit->second.kind != "INSPECTION_CORPS") {
      return InvalidField("inspection_unit_id", "is not an inspection unit (督察)");
    }
    for (int i = 0; i < req.target_unit_ids_size(); ++i) {
      auto t = facts.units.find(req.target_unit_ids(i));
      if (t == facts.units.end() || !t->second.active) {
        return InvalidField("target_unit_ids[" + std::to_string(i) + "]", "no such active unit");
      }
    }
    for (int i = 0; i < req.inspector_ids_size(); ++i) {
      auto who = facts.people.find(req.inspector_ids(i));
      const std::string field = "inspector_ids[" + std::to_string(i) + "]";
      if (who == facts.people.end() || !who->second.active) return InvalidField(field, "no such active person");
      if (!AtOrAbove(req.inspection_unit_id(), who->second.unit_id, facts.ancestry)) {
        return InvalidField(field, "is not a member of the inspecting unit");
      }
    }
    if (!cur.template_version) {
      return InvalidField("template_code",
                          "no such checklist template" + (req.template_version() ? " version" : std::string()));
    }
    const v1::ChecklistTemplate& t = *cur.template_version;
    Change c;
    c.inspection_row = Row::kInsert;
    v1::Inspection& in = c.inspection.emplace().doc;
    in.set_id(Lower(facts.new_id));
    char number[32];
    std::snprintf(number, sizeof number, "DC-%04d-%04lld", workdays::LocalDate(rules.now).year,
                  static_cast<long long>(cur.sequence));
    in.set_number(number);
    in.set_kind(req.kind());
    in.set_title(req.title());
    in.set_inspection_unit_id(req.inspection_unit_id());
    *in.mutable_target_unit_ids() = req.target_unit_ids();
    in.set_period_from(req.period_from());
    in.set_period_to(req.period_to());
    *in.mutable_inspector_ids() = req.inspector_ids();
    in.set_template_code(t.code());
    in.set_template_version(t.version());
    in.set_state(v1::INSPECTION_STATE_PLANNED);
    for (auto& e : ChecklistOf(t, req.target_unit_ids())) *in.add_checklist() = std::move(e);
    Summarize(in);
    in.set_version(1);
    db::SetMicros(in.mutable_created_at(), cur.now_us);
    auto* e = Add(c, in.id()).event.mutable_inspection_created();
    e->set_kind(in.kind());
    e->set_number(in.number());
    e->set_inspection_unit_id(in.inspection_unit_id());
    *e->mutable_target_unit_ids() = in.target_unit_ids();
    e->set_template_code(t.code());
    e->set_template_version(t.version());
    e->set_entries(in.checklist_size());
    return c;
  }

  absl::StatusOr<Change> operator()(const v1::AdvanceInspectionRequest& req) const {
    SM_RETURN_IF_ERROR(Inspector(false));
    SM_RETURN_IF_ERROR(Fresh(req.expected_version(), In().version(), "inspection"));
    const v1::InspectionState from = In().state();
    if (from == v1::INSPECTION_STATE_CLOSED || static_cast<int>(req.to()) != static_cast<int>(from) + 1) {
      return absl::FailedPreconditionError("cannot move an inspection in state " + StateName(from) + " to " +
                                           StateName(req.to()));
    }
    if (req.to() == v1::INSPECTION_STATE_REPORTED) {
      const v1::ChecklistSummary& s = In().summary();
      if (s.marked() < s.entries()) {
        return absl::FailedPreconditionError("cannot report an inspection in state IN_PROGRESS: " +
                                             std::to_string(s.entries() - s.marked()) + " checklist entries unmarked");
      }
      if (s.non_conforming_without_finding() > 0) {
        return absl::FailedPreconditionError(
            "cannot report an inspection in state IN_PROGRESS: " + std::to_string(s.non_conforming_without_finding()) +
            " non-conforming entries have no finding");
      }
    }
    Change c;
    c.inspection = *cur.inspection;
    c.inspection_row = Row::kUpdate;
    v1::Inspection& in = c.inspection->doc;
    in.set_state(req.to());
    if (req.to() == v1::INSPECTION_STATE_REPORTED) in.set_report(req.report());
    in.set_version(in.version() + 1);
    auto* e = Add(c, in.id()).event.mutable_inspection_advanced();
    e->set_from(from);
    e->set_to(req.to());
    return c;
  }

  absl::StatusOr<Change> operator()(const v1::MarkItemRequest& req) const {
    SM_RETURN_IF_ERROR(Inspector(true));
    if (!IsTarget(In(), req.target_unit_id())) {
      return InvalidField("target_unit_id", "is not a target unit of this inspection");
    }
    Change c;
    c.inspection = *cur.inspection;
    v1::Inspection& in = c.inspection->doc;
    v1::ChecklistEntry* entry = EntryOf(in, req.item_code(), req.target_unit_id());
    if (!entry) return InvalidField("item_code", "is not an item of this inspection's checklist");
    SM_RETURN_IF_ERROR(InState(v1::INSPECTION_STATE_IN_PROGRESS, "mark items of"));
    if (entry->mark() == v1::ITEM_MARK_NON_CONFORMING && req.mark() != v1::ITEM_MARK_NON_CONFORMING &&
        !entry->finding_ids().empty()) {
      return absl::FailedPreconditionError("cannot re-mark an entry in state NON_CONFORMING that has findings");
    }
    const v1::ItemMark from = entry->mark();
    entry->set_mark(req.mark());
    entry->set_note(req.note());
    *entry->mutable_evidence_refs() = req.evidence_refs();
    entry->set_marked_by(p.EndUser());
    db::SetMicros(entry->mutable_marked_at(), cur.now_us);
    Summarize(in);
    in.set_version(in.version() + 1);
    c.inspection_row = Row::kUpdate;
    auto* e = Add(c, in.id()).event.mutable_item_marked();
    e->set_item_code(req.item_code());
    e->set_target_unit_id(req.target_unit_id());
    e->set_from(from);
    e->set_to(req.mark());
    e->set_evidence_refs(req.evidence_refs_size());
    return c;
  }

  absl::StatusOr<Change> operator()(const v1::AddInspectionFindingRequest& req) const {
    SM_RETURN_IF_ERROR(Inspector(true));
    if (!IsTarget(In(), req.subject_unit_id())) {
      return InvalidField("subject_unit_id", "is not a target unit of this inspection");
    }
    if (!req.subject_person_id().empty()) {
      auto who = facts.people.find(req.subject_person_id());
      if (who == facts.people.end() || !who->second.active) {
        return InvalidField("subject_person_id", "no such active person");
      }
    }
    Change c;
    c.inspection = *cur.inspection;
    v1::Inspection& in = c.inspection->doc;
    v1::ChecklistEntry* entry = EntryOf(in, req.item_code(), req.subject_unit_id());
    if (!entry) return InvalidField("item_code", "is not an item of this inspection's checklist");
    SM_RETURN_IF_ERROR(InState(v1::INSPECTION_STATE_IN_PROGRESS, "add findings to"));
    if (entry->mark() != v1::ITEM_MARK_NON_CONFORMING) {
      return absl::FailedPreconditionError(
          "a finding needs its checklist entry marked NON_CONFORMING; the entry is " +
          std::string(entry->mark() == v1::ITEM_MARK_UNSPECIFIED ? "UNMARKED" : v1::ItemMark_Name(entry->mark())));
    }
    StoredFinding& f = c.finding.emplace();
    v1::InspectionFinding& doc = f.finding.doc;
    doc.set_id(Lower(facts.new_id));
    char number[48];
    std::snprintf(number, sizeof number, "%s-%02lld", in.number().c_str(), static_cast<long long>(cur.finding_ordinal));
    doc.set_number(number);
    doc.set_inspection_id(in.id());
    doc.set_item_code(req.item_code());
    doc.set_subject_unit_id(req.subject_unit_id());
    doc.set_subject_person_id(req.subject_person_id());
    doc.set_title(req.title());
    doc.set_description(req.description());
    doc.set_category(req.category());
    doc.set_severity(req.severity());
    *doc.mutable_evidence_refs() = req.evidence_refs();
    doc.set_version(1);
    db::SetMicros(doc.mutable_created_at(), cur.now_us);
    c.finding_row = Row::kInsert;
    entry->add_finding_ids(doc.id());
    Summarize(in);
    in.set_version(in.version() + 1);
    c.inspection_row = Row::kUpdate;
    v1::InspectionEventPayload added;
    auto* e = added.mutable_finding_added();
    e->set_number(doc.number());
    e->set_inspection_id(in.id());
    e->set_item_code(doc.item_code());
    e->set_subject_unit_id(doc.subject_unit_id());
    e->set_has_person(!doc.subject_person_id().empty());
    e->set_subject_person_id(doc.subject_person_id());
    e->set_category(doc.category());
    e->set_severity(doc.severity());
    c.events.push_back({doc.id(), added});
    c.events.push_back({in.id(), added});
    return c;
  }

  // Measures run on the service's clock (the one overdue is judged by).
  int64_t Now() const { return ToUnixMicros(rules.now); }

  absl::StatusOr<Change> operator()(const v1::ImposeMeasureRequest& req) const {
    SM_RETURN_IF_ERROR(Inspector(true));
    auto who = facts.people.find(req.person_id());
    if (who == facts.people.end() || !who->second.active) return InvalidField("person_id", "no such active person");
    if (!req.finding_id().empty()) {
      bool known = false;
      for (const auto& e : In().checklist()) {
        known = known ||
                std::find(e.finding_ids().begin(), e.finding_ids().end(), req.finding_id()) != e.finding_ids().end();
      }
      if (!known) return InvalidField("finding_id", "is not a finding of this inspection");
    }
    SM_RETURN_IF_ERROR(InState(v1::INSPECTION_STATE_IN_PROGRESS, "take measures in"));
    Change c;
    c.measure_row = Row::kInsert;
    v1::Measure& m = c.measure.emplace().doc;
    m.set_id(Lower(facts.new_id));
    m.set_inspection_id(In().id());
    m.set_finding_id(req.finding_id());
    m.set_kind(req.kind());
    m.set_person_id(req.person_id());
    m.set_unit_id(who->second.unit_id);
    m.set_ordered_by(p.EndUser());
    m.set_basis(req.basis());
    m.set_reason(req.reason());
    m.set_days(req.days());
    m.set_version(1);
    db::SetMicros(m.mutable_created_at(), cur.now_us);
    for (const auto& w : req.withheld()) {
      v1::WithheldItem& item = *m.add_withheld();
      item.set_kind(w.kind());
      item.set_description(w.description());
    }
    if (NeedsApproval(req.kind())) {
      m.set_state(v1::MEASURE_STATE_PENDING_APPROVAL);
    } else {
      db::SetMicros(m.mutable_starts_at(), Now());
      if (req.kind() == v1::MEASURE_KIND_CORRECTION) {  // done on the spot
        m.set_state(v1::MEASURE_STATE_ENDED);
        db::SetMicros(m.mutable_ended_at(), Now());
        m.set_end_reason("corrected on the spot");
      } else {
        m.set_state(v1::MEASURE_STATE_IN_FORCE);
      }
    }
    auto* e = Add(c, m.id()).event.mutable_measure_imposed();
    e->set_kind(m.kind());
    e->set_inspection_id(m.inspection_id());
    e->set_unit_id(m.unit_id());
    e->set_state(m.state());
    e->set_days(m.days());
    e->set_withheld(m.withheld_size());
    e->set_person_id(m.person_id());
    return c;
  }

  // A measure step: the caller must see it (NOT_FOUND), then `allowed` (PERMISSION_DENIED),
  // then the version (ABORTED), then the state (FAILED_PRECONDITION).
  absl::StatusOr<Change> MeasureChange(bool allowed, const std::string& why_not, int64_t expected,
                                       std::initializer_list<v1::MeasureState> states, const std::string& doing) const {
    const v1::Measure& m = cur.measure->doc;
    if (!MaySeeMeasure(p, In(), m, facts.ancestry)) return absl::NotFoundError("measure not found");
    if (!allowed) return absl::PermissionDeniedError(why_not);
    SM_RETURN_IF_ERROR(Fresh(expected, m.version(), "measure"));
    if (std::find(states.begin(), states.end(), m.state()) == states.end()) {
      return absl::FailedPreconditionError("cannot " + doing + " a " + std::string(MeasureKindName(m.kind())) +
                                           " in state " + MeasureStateName(m.state()));
    }
    Change c;
    c.measure = *cur.measure;
    c.measure_row = Row::kUpdate;
    c.measure->doc.set_version(m.version() + 1);
    return c;
  }

  bool OfInspectingUnit() const {
    return !p.unit.empty() && p.unit == In().inspection_unit_id() &&
           (p.HasRole(auth::kRoleInspector) || p.HasRole(auth::kRoleChiefInspector));
  }

  absl::StatusOr<Change> operator()(const v1::ApproveMeasureRequest& req) const {
    // The chief inspector (督察长) of the inspection body's own level approves.
    const bool chief = p.HasRole(auth::kRoleChiefInspector) && p.unit == In().inspection_unit_id();
    SM_ASSIGN_OR_RETURN(
        Change c, MeasureChange(chief, "only the chief inspector (督察长) of the inspecting unit approves measures",
                                req.expected_version(), {v1::MEASURE_STATE_PENDING_APPROVAL}, "approve"));
    v1::Measure& m = c.measure->doc;
    v1::MeasureDecided* e;
    if (req.approve()) {
      m.set_state(v1::MEASURE_STATE_IN_FORCE);
      m.set_approved_by(p.EndUser());
      const TimePoint ends = rules.now + std::chrono::hours(24 * m.days());
      db::SetMicros(m.mutable_starts_at(), Now());
      *m.mutable_ends_at() = TimestampOf(ends);
      e = Add(c, m.id()).event.mutable_measure_approved();
      e->set_starts_us(Now());
      e->set_ends_us(Micros(m.ends_at()));
    } else {
      m.set_state(v1::MEASURE_STATE_REFUSED);
      m.set_approved_by(p.EndUser());
      m.set_end_reason(req.reason());
      e = Add(c, m.id()).event.mutable_measure_refused();
    }
    e->set_approved(req.approve());
    e->set_reason(req.reason());
    return c;
  }

  absl::StatusOr<Change> operator()(const v1::LiftMeasureRequest& req) const {
    const v1::Measure& was = cur.measure->doc;
    if (was.kind() == v1::MEASURE_KIND_WITHHOLD && was.state() == v1::MEASURE_STATE_IN_FORCE &&
        MaySeeMeasure(p, In(), was, facts.ancestry) && OfInspectingUnit()) {
      return absl::FailedPreconditionError(
          "cannot lift a withholding (扣留) in state IN_FORCE: return the withheld items instead");
    }
    SM_ASSIGN_OR_RETURN(Change c, MeasureChange(OfInspectingUnit(), "only the inspecting unit lifts its measures",
                                                req.expected_version(), {v1::MEASURE_STATE_IN_FORCE}, "lift"));
    v1::Measure& m = c.measure->doc;
    const bool overdue = IsOverdue(m, rules.now);
    m.set_state(v1::MEASURE_STATE_ENDED);
    db::SetMicros(m.mutable_ended_at(), Now());
    m.set_end_reason(req.reason());
    m.set_overdue(false);
    auto* e = Add(c, m.id()).event.mutable_measure_lifted();
    e->set_reason(req.reason());
    e->set_overdue(overdue);
    return c;
  }

  absl::StatusOr<Change> operator()(const v1::ReturnWithheldRequest& req) const {
    const v1::Measure& was = cur.measure->doc;
    if (was.kind() != v1::MEASURE_KIND_WITHHOLD && MaySeeMeasure(p, In(), was, facts.ancestry)) {
      return InvalidField("measure_id", "is not a withholding (扣留)");
    }
    auto who = facts.people.find(req.returned_to());
    if (who == facts.people.end() || !who->second.active) return InvalidField("returned_to", "no such active person");
    SM_ASSIGN_OR_RETURN(Change c,
                        MeasureChange(OfInspectingUnit(), "only the inspecting unit returns withheld items",
                                      req.expected_version(), {v1::MEASURE_STATE_IN_FORCE}, "return items of"));
    v1::Measure& m = c.measure->doc;
    std::set<int> seen;
    for (int i = 0; i < req.items_size(); ++i) {
      const int k = req.items(i);
      const std::string field = "items[" + std::to_string(i) + "]";
      if (k < 0 || k >= m.withheld_size()) return InvalidField(field, "no such withheld item");
      if (!seen.insert(k).second) return InvalidField(field, "is listed twice");
      if (m.withheld(k).returned())
        return absl::FailedPreconditionError("withheld item " + std::to_string(k) + " was already returned");
      v1::WithheldItem& item = *m.mutable_withheld(k);
      item.set_returned(true);
      db::SetMicros(item.mutable_returned_at(), Now());
      item.set_returned_to(req.returned_to());
      item.set_returned_by(p.EndUser());
    }
    const bool all = std::all_of(m.withheld().begin(), m.withheld().end(), [](const auto& w) { return w.returned(); });
    if (all) {
      m.set_state(v1::MEASURE_STATE_ENDED);
      db::SetMicros(m.mutable_ended_at(), Now());
      m.set_end_reason("all withheld items returned");
    }
    auto* e = Add(c, m.id()).event.mutable_withheld_returned();
    *e->mutable_items() = req.items();
    e->set_returned_to(req.returned_to());
    e->set_all_returned(all);
    return c;
  }

  // ---- referral of a finding (the shared rules) ----

  absl::StatusOr<Change> operator()(const v1::ReferFindingRequest& req) const {
    const v1::InspectionFinding& f = cur.finding->finding.doc;
    if (!MaySeeFinding(p, In(), f, facts.ancestry)) return absl::NotFoundError("finding not found");
    if (!OfInspectingUnit()) return absl::PermissionDeniedError("only the inspecting unit refers its findings");
    auto to = facts.units.find(req.to_unit_id());
    SM_RETURN_IF_ERROR(referral::CheckReceiver(
        to == facts.units.end() ? std::nullopt : std::optional<UnitInfo>(to->second), "to_unit_id"));
    SM_RETURN_IF_ERROR(Fresh(req.expected_version(), f.version(), "finding"));
    SM_ASSIGN_OR_RETURN(referral::Step step, referral::Start(f.referral(), Lower(req.to_unit_id())));
    referral::ClueOf clue{.system = "inspection",
                          .ref = f.id(),
                          .source = v1::CLUE_SOURCE_INSPECTION,
                          .origin_unit_id = In().inspection_unit_id(),
                          .to_unit_id = req.to_unit_id(),
                          .subject_person_id = f.subject_person_id(),
                          .subject_unit_id = f.subject_unit_id(),
                          .summary = req.summary().empty() ? "督察移送：" + f.title() : req.summary(),
                          .details = f.description(),
                          .severity = f.severity()};
    for (int category : req.categories()) clue.categories.push_back(static_cast<v1::ClueCategory>(category));
    Change c = FindingReferral(*cur.finding, std::move(step));
    c.command = Change::Command{"finding:" + f.id(), referral::Clue(clue).SerializeAsString()};
    return c;
  }

  absl::StatusOr<Change> operator()(const v1::RetryReferralRequest& req) const {
    const v1::InspectionFinding& f = cur.finding->finding.doc;
    if (!MaySeeFinding(p, In(), f, facts.ancestry)) return absl::NotFoundError("finding not found");
    if (!OfInspectingUnit()) return absl::PermissionDeniedError("only the inspecting unit refers its findings");
    SM_RETURN_IF_ERROR(Fresh(req.expected_version(), f.version(), "finding"));
    SM_ASSIGN_OR_RETURN(referral::Step step, referral::Retry(f.referral(), req.reason()));
    Change c = FindingReferral(*cur.finding, std::move(step));
    c.command = Change::Command{"finding:" + f.id(), "", /*retry=*/true};
    return c;
  }

  // ---- accountability checks (一案双查) ----

  absl::StatusOr<Change> CheckStep(int64_t expected) const {
    const v1::AccountabilityCheck& k = cur.check->doc;
    if (!MaySeeCheck(p, k, facts.ancestry)) return absl::NotFoundError("accountability check not found");
    if (!WorksOnCheck(p, k, facts.ancestry)) {
      return absl::PermissionDeniedError("only inspectors of the owning unit work on accountability checks");
    }
    SM_RETURN_IF_ERROR(Fresh(expected, k.version(), "accountability check"));
    if (k.outcome() != v1::ACCOUNTABILITY_OUTCOME_UNSPECIFIED) {
      return absl::FailedPreconditionError("the accountability check is CONCLUDED (" +
                                           v1::AccountabilityOutcome_Name(k.outcome()) + ")");
    }
    Change c;
    c.check = *cur.check;
    c.check_row = Row::kUpdate;
    c.check->doc.set_version(k.version() + 1);
    c.check->doc.clear_overdue();
    return c;
  }

  absl::StatusOr<Change> operator()(const v1::AssignAccountabilityCheckRequest& req) const {
    SM_ASSIGN_OR_RETURN(Change c, CheckStep(req.expected_version()));
    v1::AccountabilityCheck& k = c.check->doc;
    auto who = facts.people.find(req.owner_person_id());
    if (who == facts.people.end() || !who->second.active) {
      return InvalidField("owner_person_id", "no such active person");
    }
    // A member of the owning unit, or of a unit above it that takes the check over.
    if (!AtOrAbove(k.owner_unit_id(), who->second.unit_id, facts.ancestry) &&
        !AtOrAbove(who->second.unit_id, k.owner_unit_id(), facts.ancestry)) {
      return InvalidField("owner_person_id", "is not a member of the owning unit or of a unit above it");
    }
    k.set_owner_person_id(req.owner_person_id());
    Add(c, k.id()).event.mutable_accountability_assigned()->set_owner_person_id(req.owner_person_id());
    return c;
  }

  absl::StatusOr<Change> operator()(const v1::ConcludeAccountabilityCheckRequest& req) const {
    SM_ASSIGN_OR_RETURN(Change c, CheckStep(req.expected_version()));
    v1::AccountabilityCheck& k = c.check->doc;
    k.set_outcome(req.outcome());
    k.set_outcome_note(req.note());
    k.set_concluded_by(p.EndUser());
    db::SetMicros(k.mutable_concluded_at(), cur.now_us);
    auto* e = Add(c, k.id()).event.mutable_accountability_concluded();
    e->set_outcome(req.outcome());
    if (req.outcome() != v1::ACCOUNTABILITY_OUTCOME_REFERRED) return c;
    // A referral of the leader to discipline: exactly one clue, as a finding's.
    if (k.leader_person_id().empty()) {
      return absl::FailedPreconditionError("no leader holds this duty: there is nobody to refer");
    }
    auto to = facts.units.find(req.to_unit_id());
    SM_RETURN_IF_ERROR(referral::CheckReceiver(
        to == facts.units.end() ? std::nullopt : std::optional<UnitInfo>(to->second), "to_unit_id"));
    SM_ASSIGN_OR_RETURN(referral::Step step, referral::Start(k.referral(), Lower(req.to_unit_id())));
    e->set_to_unit_id(Lower(req.to_unit_id()));
    *k.mutable_referral() = step.after;
    Event& referred = Add(c, k.id());
    events::MustRewrap(step.event, &referred.event);
    referral::ClueOf clue{.system = "inspection",
                          .ref = k.id(),
                          .source = v1::CLUE_SOURCE_INSPECTION,
                          .origin_unit_id = k.owner_unit_id(),
                          .to_unit_id = req.to_unit_id(),
                          .subject_person_id = k.leader_person_id(),
                          .summary = "一案双查：" +
                                     std::string(k.duty() == v1::LEADER_DUTY_PRINCIPAL ? "主体责任" : "监督责任") +
                                     "（线索 " + k.clue_number() + "）",
                          .details = req.note(),
                          .severity = v1::SEVERITY_MEDIUM};
    for (int category : req.categories()) clue.categories.push_back(static_cast<v1::ClueCategory>(category));
    c.command = Change::Command{"check:" + k.id(), referral::Clue(clue).SerializeAsString()};
    return c;
  }

  // ---- rectification (the shared rules; the inspecting unit reviews) ----

  rectification::Party PartyOf(const v1::Rectification& x) const {
    if (OfInspectingUnit()) return rectification::Party::kReviewer;
    if (!p.unit.empty() && p.unit == x.owner_unit_id()) return rectification::Party::kOwner;
    return rectification::Party::kOther;
  }

  bool MaySeeRectification(const v1::Rectification& x) const {
    const v1::InspectionFinding& f = cur.finding->finding.doc;
    return MaySeeFinding(p, In(), f, facts.ancestry) || AtOrAbove(p.unit, x.owner_unit_id(), facts.ancestry);
  }

  absl::StatusOr<Change> operator()(const v1::AddRectificationRequest& req) const {
    const v1::InspectionFinding& f = cur.finding->finding.doc;
    if (!MaySeeFinding(p, In(), f, facts.ancestry)) return absl::NotFoundError("finding not found");
    if (!OfInspectingUnit()) return absl::PermissionDeniedError("only the inspecting unit sets rectifications");
    const std::string owner = req.owner_unit_id().empty() ? f.subject_unit_id() : req.owner_unit_id();
    auto unit = facts.units.find(owner);
    if (unit == facts.units.end() || !unit->second.active) {
      return InvalidField("owner_unit_id", "no such active unit");
    }
    rectification::Step step = rectification::Open(Lower(facts.new_id), f.id(), req.measure(), owner,
                                                   req.working_days(), {rules.now, rules.policy, rules.calendar});
    db::SetMicros(step.after.mutable_created_at(), cur.now_us);
    return RectificationChange(*cur.finding, std::move(step), Row::kInsert, cur.now_us);
  }

  absl::StatusOr<Change> Rectify(const std::string& id, const rectification::Command& command) const {
    StoredFinding copy = *cur.finding;
    const StoredRectification* x = copy.Find(id);
    if (!x || !MaySeeRectification(x->rectification)) return absl::NotFoundError("rectification not found");
    // The shared rules refuse a wrong party first, then a stale version, then the state.
    SM_ASSIGN_OR_RETURN(rectification::Step step,
                        rectification::Decide(x->rectification, PartyOf(x->rectification), command,
                                              {rules.now, rules.policy, rules.calendar}));
    return RectificationChange(*cur.finding, std::move(step), Row::kUpdate, cur.now_us);
  }
  absl::StatusOr<Change> operator()(const v1::RecordProgressRequest& req) const {
    return Rectify(req.rectification_id(), rectification::CommandOf(req));
  }
  absl::StatusOr<Change> operator()(const v1::SubmitRectificationRequest& req) const {
    return Rectify(req.rectification_id(), rectification::CommandOf(req));
  }
  absl::StatusOr<Change> operator()(const v1::ReviewRectificationRequest& req) const {
    return Rectify(req.rectification_id(), rectification::CommandOf(req));
  }
  absl::StatusOr<Change> operator()(const v1::ReopenRectificationRequest& req) const {
    return Rectify(req.rectification_id(), rectification::CommandOf(req));
  }
};

}  // namespace

absl::StatusOr<Change> Decide(const Current& current, const auth::Principal& caller, const StepRequest& request,
                              const StepFacts& facts, const Rules& rules) {
  return std::visit(Walk{current, caller, facts, rules}, request);
}

void FillReply(const Change& c, v1::TemplateReply* out) { *out->mutable_template_() = c.template_doc->doc; }
void FillReply(const Change& c, v1::InspectionReply* out) { *out->mutable_inspection() = c.inspection->doc; }
void FillReply(const Change& c, v1::InspectionFindingReply* out) { *out->mutable_finding() = c.finding->finding.doc; }
void FillReply(const Change& c, v1::MeasureReply* out) { *out->mutable_measure() = c.measure->doc; }
void FillReply(const Change& c, v1::RectificationReply* out) {
  for (const auto& x : c.finding->rectifications) {
    if (x.rectification.id() == c.rectification_id) *out->mutable_rectification() = x.rectification;
  }
}

void FillReply(const Change& c, v1::AccountabilityCheckReply* out) { *out->mutable_check() = c.check->doc; }

std::optional<Change> LinkReferral(const StoredFinding& f, const std::string& clue_id, const std::string& number,
                                   v1::ClueState state) {
  auto step = referral::Link(f.finding.doc.referral(), clue_id, number, state);
  if (!step) return std::nullopt;
  return FindingReferral(f, *std::move(step));
}
std::optional<Change> LinkReferral(const Stored<v1::AccountabilityCheck>& k, const std::string& clue_id,
                                   const std::string& number, v1::ClueState state) {
  auto step = referral::Link(k.doc.referral(), clue_id, number, state);
  if (!step) return std::nullopt;
  return CheckReferral(k, *std::move(step));
}
Change ReferralDead(const StoredFinding& f, const std::string& error) {
  return FindingReferral(f, referral::Dead(f.finding.doc.referral(), error));
}
Change ReferralDead(const Stored<v1::AccountabilityCheck>& k, const std::string& error) {
  return CheckReferral(k, referral::Dead(k.doc.referral(), error));
}
std::optional<Change> FollowClue(const StoredFinding& f, const v1::ClueEventPayload& event, const std::string& type,
                                 const std::string& clue_id, int64_t seq) {
  auto step = referral::Follow(f.finding.doc.referral(), event, type, clue_id, seq);
  if (!step) return std::nullopt;
  return FindingReferral(f, *std::move(step));
}
std::optional<Change> FollowClue(const Stored<v1::AccountabilityCheck>& k, const v1::ClueEventPayload& event,
                                 const std::string& type, const std::string& clue_id, int64_t seq) {
  auto step = referral::Follow(k.doc.referral(), event, type, clue_id, seq);
  if (!step) return std::nullopt;
  return CheckReferral(k, *std::move(step));
}

std::optional<Violation> ViolationOf(const std::string& clue_id, const v1::ClueEventPayload& event) {
  if (!event.has_concluded() || event.concluded().form() < 2) return std::nullopt;
  const v1::ClueConcluded& c = event.concluded();
  Violation v{.clue_id = clue_id, .clue_number = c.number(), .source = c.source(), .form = c.form()};
  for (const auto& s : c.subjects()) {
    if (s.has_person_id() && v.subject_person_id.empty()) v.subject_person_id = s.person_id();
    if (s.has_unit_id() && v.subject_unit_id.empty()) v.subject_unit_id = s.unit_id();
  }
  if (v.subject_person_id.empty() && v.subject_unit_id.empty()) return std::nullopt;
  return v;
}

std::string CheckId(const std::string& clue_id, v1::LeaderDuty duty) {
  // A name-based UUID (version 8 layout) from the clue and the duty.
  std::string h = crypto::Sha256Hex("sm-accountability-check:" + Lower(clue_id) + ":" + v1::LeaderDuty_Name(duty));
  h[12] = '8';
  h[16] = "89ab"[std::stoi(h.substr(16, 1), nullptr, 16) & 3];
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20, 12);
}

Change OpenCheck(const Violation& v, v1::LeaderDuty duty, const std::optional<ResponsibleLeader>& leader,
                 const std::string& owner_unit_id, int64_t now_us, const Rules& rules) {
  Change c;
  c.check_row = Row::kInsert;
  v1::AccountabilityCheck& k = c.check.emplace().doc;
  k.set_id(CheckId(v.clue_id, duty));
  k.set_clue_id(Lower(v.clue_id));
  k.set_clue_number(v.clue_number);
  k.set_clue_source(v.source);
  k.set_form(static_cast<v1::SupervisionForm>(v.form));
  k.set_subject_unit_id(v.subject_unit_id);
  k.set_subject_person_id(v.subject_person_id);
  k.set_duty(duty);
  if (leader) {
    k.set_leader_person_id(leader->person_id);
    k.set_leader_name(leader->name);
    k.set_leader_unit_id(leader->unit_id);
  }
  k.set_owner_unit_id(owner_unit_id);
  *k.mutable_deadline_at() = TimestampOf(rules.calendar->Deadline(rules.now, rules.accountability_days));
  k.set_version(1);
  db::SetMicros(k.mutable_created_at(), now_us);
  auto* e = Add(c, k.id()).event.mutable_accountability_opened();
  e->set_clue_id(k.clue_id());
  e->set_form(v.form);
  e->set_duty(duty);
  e->set_subject_unit_id(v.subject_unit_id);
  e->set_leader_found(leader.has_value());
  e->set_leader_person_id(k.leader_person_id());
  e->set_owner_unit_id(owner_unit_id);
  e->set_deadline_us(Micros(k.deadline_at()));
  return c;
}

bool WorksOnCheck(const auth::Principal& p, const v1::AccountabilityCheck& c, const Ancestry& ancestry) {
  if (!p.HasRole(auth::kRoleInspector) && !p.HasRole(auth::kRoleChiefInspector)) return false;
  if (!p.unit.empty() && p.unit == c.owner_unit_id()) return true;
  // An inspection unit of a higher level: its parent is at or above the owning unit (the
  // bureau's corps over a branch's inspection team; not a sibling branch's team).
  auto mine = ancestry.find(p.unit);
  return mine != ancestry.end() && !mine->second.empty() && AtOrAbove(mine->second.back(), c.owner_unit_id(), ancestry);
}

bool MaySeeCheck(const auth::Principal& p, const v1::AccountabilityCheck& c, const Ancestry& ancestry) {
  if (p.HasRole(auth::kRoleOversight) || p.HasRole(auth::kRoleDiscipline)) return true;
  return WorksOnCheck(p, c, ancestry);
}

void MarkCheckOverdue(v1::AccountabilityCheck& c, TimePoint now) {
  c.set_overdue(c.outcome() == v1::ACCOUNTABILITY_OUTCOME_UNSPECIFIED && c.has_deadline_at() &&
                Micros(c.deadline_at()) < ToUnixMicros(now));
}

std::optional<Change> EscalateOverdue(const StoredFinding& f, const std::string& rectification_id, TimePoint now) {
  StoredFinding copy = f;
  const StoredRectification* x = copy.Find(rectification_id);
  if (!x || !rectification::IsOverdue(x->rectification, now)) return std::nullopt;
  return RectificationChange(f, rectification::Escalate(x->rectification), Row::kUpdate, x->created_us);
}

}  // namespace sm::inspection
