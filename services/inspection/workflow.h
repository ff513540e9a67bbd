// Rules of inspection-service, pure (no I/O): who may do what to a template, an inspection,
// its checklist, findings and measures, and what each step writes. One walk per command as
// in clue and audit: the handler validates, the store loads the item locked, Decide below
// decides, the store writes each document once with its events. Rectification rules are the
// shared piece (common/rectification.h). docs/inspection.md.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <absl/status/statusor.h>

#include "common/auth.h"
#include "common/clock.h"
#include "common/directory_reader.h"
#include "common/doc_table.h"
#include "common/status.h"
#include "common/rectification.h"
#include "common/referral.h"
#include "common/workdays.h"
#include "supervision/v1/events.pb.h"
#include "supervision/v1/inspection.pb.h"

namespace sm::inspection {

namespace v1 = ::supervision::v1;

// ---- limits of the 《公安机关督察条例》 measures ----
struct DayLimits {
  int min, max;
};
// Days a time-limited measure may run (suspension 10..60, confinement 1..7); nullopt for
// the on-the-spot kinds, which take no days.
std::optional<DayLimits> DaysAllowed(v1::MeasureKind kind);
// Whether the kind needs the chief inspector's approval (suspension, confinement).
bool NeedsApproval(v1::MeasureKind kind);
std::string_view MeasureKindName(v1::MeasureKind kind);  // "confinement (禁闭)"
// Whether a measure is in force past its planned end at `now`.
bool IsOverdue(const v1::Measure& m, TimePoint now);

// ---- who the caller is to an inspection ----
enum class Relation {
  kInspecting,  // a member of the inspecting unit
  kTarget,      // a member of a target unit, or of a unit above one
  kNone,
};
// Where units sit: unit id -> its ancestors (root first).
using Ancestry = std::map<std::string, std::vector<std::string>>;
// Whether `unit` is `target` or above it.
bool AtOrAbove(const std::string& unit, const std::string& target, const Ancestry& ancestry);
Relation RelationTo(const auth::Principal& p, const v1::Inspection& in, const Ancestry& ancestry);

// What a caller may see of an inspection: everything, without the inspectors' working
// notes (a target unit), or nothing (NOT_FOUND).
enum class View { kFull, kNoNotes, kNone };
View InspectionView(const auth::Principal& p, const v1::Inspection& in, const Ancestry& ancestry);
// The inspection with its working notes removed.
void RemoveNotes(v1::Inspection& in);
// A finding: the inspecting unit and oversight; the subject unit and units above it.
bool MaySeeFinding(const auth::Principal& p, const v1::Inspection& in, const v1::InspectionFinding& f,
                   const Ancestry& ancestry);
// A measure: the inspecting unit and oversight; the officer's unit and units above it.
bool MaySeeMeasure(const auth::Principal& p, const v1::Inspection& in, const v1::Measure& m, const Ancestry& ancestry);

// ---- the documents as stored, with their chains ----
using docs::Stored;
using StoredRectification = rectification::Held;
// A finding with its rectifications (by id): a finding's events commit to both.
struct StoredFinding {
  Stored<v1::InspectionFinding> finding;
  std::vector<StoredRectification> rectifications;
  StoredRectification* Find(const std::string& rectification_id);
  void Count();  // the finding's rectification counts from `rectifications`
};

// The steps, as their validated requests.
using StepRequest = std::variant<
    v1::PublishTemplateRequest, v1::CreateInspectionRequest, v1::AdvanceInspectionRequest, v1::MarkItemRequest,
    v1::AddInspectionFindingRequest, v1::ImposeMeasureRequest, v1::ApproveMeasureRequest, v1::LiftMeasureRequest,
    v1::ReturnWithheldRequest, v1::AddRectificationRequest, v1::RecordProgressRequest, v1::SubmitRectificationRequest,
    v1::ReviewRectificationRequest, v1::ReopenRectificationRequest, v1::ReferFindingRequest, v1::RetryReferralRequest,
    v1::AssignAccountabilityCheckRequest, v1::ConcludeAccountabilityCheckRequest>;
std::string_view MethodOf(const StepRequest& r);  // "CreateInspection", ...
const std::string& RequestIdOf(const StepRequest& r);

// What a step loads, locked, and the id it finds it by.
enum class Loads {
  kTemplate,       // PublishTemplate: the latest version of the code (if any)
  kNewInspection,  // CreateInspection: the template version it starts from
  kInspection,     // Advance, MarkItem, AddFinding, ImposeMeasure: the inspection (with its findings)
  kMeasure,        // the other measure steps: the measure and its inspection
  kFinding,        // AddRectification, ReferFinding, RetryReferral: the finding and its inspection
  kRectification,  // the other rectification steps: the finding of the rectification
  kCheck,          // the accountability check steps: the check
};
Loads LoadsOf(const StepRequest& r);
const std::string& TargetOf(const StepRequest& r);

// What the store loaded for a step, in its transaction.
struct Current {
  int64_t now_us = 0;
  std::optional<v1::ChecklistTemplate> latest_template;   // PublishTemplate: by code
  std::optional<v1::ChecklistTemplate> template_version;  // CreateInspection: the version asked
  std::optional<Stored<v1::Inspection>> inspection;
  std::optional<StoredFinding> finding;
  std::optional<Stored<v1::Measure>> measure;
  std::optional<Stored<v1::AccountabilityCheck>> check;
  int64_t sequence = 0;         // CreateInspection: the next inspection number
  int64_t finding_ordinal = 0;  // AddFinding: the new finding's place in its inspection
};

// What the rules know besides the item: from the directory (read by the handler before the
// transaction, or by the store in it) and the new row's id. A directory read that fails
// refuses the step; an id the directory does not have is absent from the maps.
struct StepFacts {
  std::string new_id;
  std::map<std::string, UnitInfo> units;
  std::map<std::string, PersonInfo> people;
  Ancestry ancestry;  // of the caller's relation's units (filled by the store)
};

// The service's settings the rules read.
struct Policy {
  rectification::Policy rectification;
  int accountability_days = 20;  // working days to conclude an accountability check
};

struct Rules {
  TimePoint now;
  rectification::Policy policy;
  const workdays::Calendar* calendar = nullptr;
  int accountability_days = 20;  // working days to conclude an accountability check
};

struct Event {
  std::string aggregate_id;
  v1::InspectionEventPayload event;
};

// What a step writes: each document marked kInsert or kUpdate once, whole; one marked
// kNone that gets events has only its chain head written.
struct Change {
  using Row = docs::RowWrite;
  std::optional<Stored<v1::ChecklistTemplate>> template_doc;  // always an insert
  std::optional<Stored<v1::Inspection>> inspection;
  Row inspection_row = Row::kNone;
  std::optional<StoredFinding> finding;
  Row finding_row = Row::kNone;
  std::string rectification_id;
  Row rectification_row = Row::kNone;
  std::optional<Stored<v1::Measure>> measure;
  Row measure_row = Row::kNone;
  std::optional<Stored<v1::AccountabilityCheck>> check;
  Row check_row = Row::kNone;
  std::vector<Event> events;
  // A referral command to put in the outbox with the change (`retry`: send the one parked as
  // dead again).
  struct Command {
    std::string dedupe_key;
    std::string payload;
    bool retry = false;
  };
  std::optional<Command> command;
};

// The step `request` by `caller` on `current`, or its refusal in this order: NOT_FOUND when
// the caller may not see the item; PERMISSION_DENIED when they may see it but not do this;
// INVALID_ARGUMENT naming the field (a unit or person the directory does not have, an item
// not in the checklist, days outside the measure's limits); ABORTED when expected_version is
// stale; FAILED_PRECONDITION naming the state when the rules refuse.
absl::StatusOr<Change> Decide(const Current& current, const auth::Principal& caller, const StepRequest& request,
                              const StepFacts& facts, const Rules& rules);

// Checks a template's aspects and items (codes unique, texts present), each error naming
// its field path ("aspects[2].items[0].text").
void CheckTemplate(const v1::PublishTemplateRequest& req, FieldErrors& e);
// The checklist of a new inspection: every item of the template at every target unit.
std::vector<v1::ChecklistEntry> ChecklistOf(const v1::ChecklistTemplate& t,
                                            const google::protobuf::RepeatedPtrField<std::string>& targets);
// Recounts an inspection's checklist summary.
void Summarize(v1::Inspection& in);

void FillReply(const Change& c, v1::TemplateReply* out);
void FillReply(const Change& c, v1::InspectionReply* out);
void FillReply(const Change& c, v1::InspectionFindingReply* out);
void FillReply(const Change& c, v1::MeasureReply* out);
void FillReply(const Change& c, v1::RectificationReply* out);
void FillReply(const Change& c, v1::AccountabilityCheckReply* out);

// ---- referral outcomes (the relay's and the clue feed's) on a finding or a check ----
// The referral's outcomes as changes of the item holding it: nullopt when nothing changes.
std::optional<Change> LinkReferral(const StoredFinding& f, const std::string& clue_id, const std::string& number,
                                   v1::ClueState state);
std::optional<Change> LinkReferral(const Stored<v1::AccountabilityCheck>& c, const std::string& clue_id,
                                   const std::string& number, v1::ClueState state);
Change ReferralDead(const StoredFinding& f, const std::string& error);
Change ReferralDead(const Stored<v1::AccountabilityCheck>& c, const std::string& error);
std::optional<Change> FollowClue(const StoredFinding& f, const v1::ClueEventPayload& event, const std::string& type,
                                 const std::string& clue_id, int64_t seq);
std::optional<Change> FollowClue(const Stored<v1::AccountabilityCheck>& c, const v1::ClueEventPayload& event,
                                 const std::string& type, const std::string& clue_id, int64_t seq);

// ---- 一案双查 ----
// A clue concluded with a confirmed violation (form 2 or above): who it was about.
struct Violation {
  std::string clue_id, clue_number;
  v1::ClueSource source = v1::CLUE_SOURCE_UNSPECIFIED;
  int form = 0;
  std::string subject_person_id;  // the first person the clue named, if any
  std::string subject_unit_id;    // the first unit it named (the store fills it from the person otherwise)
};
// nullopt unless `event` is a "concluded" of form 2 or above.
std::optional<Violation> ViolationOf(const std::string& clue_id, const v1::ClueEventPayload& event);
// The id of a violation's check for `duty`: the same for every replay of the clue's events.
std::string CheckId(const std::string& clue_id, v1::LeaderDuty duty);
// The check a violation opens for `duty` (the store opens one per duty: principal and
// supervising), with the leader when one holds it, owned by `owner_unit_id`, due
// `rules.accountability_days` working days on; event "accountability_opened".
Change OpenCheck(const Violation& v, v1::LeaderDuty duty, const std::optional<ResponsibleLeader>& leader,
                 const std::string& owner_unit_id, int64_t now_us, const Rules& rules);
// Who sees accountability checks: inspectors of the owning unit or of an inspection unit of a
// higher level (whose parent is at or above the owning unit: the bureau's corps over a
// branch's inspection team), oversight and discipline staff. `ancestry` holds the owning
// unit's and the caller's unit's ancestors.
bool MaySeeCheck(const auth::Principal& p, const v1::AccountabilityCheck& c, const Ancestry& ancestry);
// Who works on one: inspectors of the owning unit or of a higher-level one, as above.
bool WorksOnCheck(const auth::Principal& p, const v1::AccountabilityCheck& c, const Ancestry& ancestry);
// Marks a check overdue when open past its deadline at `now`.
void MarkCheckOverdue(v1::AccountabilityCheck& c, TimePoint now);

// The overdue rule on a finding's rectification (rectification::IsOverdue), as a change.
std::optional<Change> EscalateOverdue(const StoredFinding& f, const std::string& rectification_id, TimePoint now);

}  // namespace sm::inspection
