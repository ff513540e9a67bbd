// ClueService commands: registration and every step of a clue's life, each as one walk
// (docs/clue.md § One walk). The reads are in read_service.cc, the reporter reveal in
// reveal_service.cc.
#include "services/clue/service.h"

#include <set>

#include "services/clue/handler_util.h"
#include "common/log.h"
#include "common/status.h"
#include "common/uuid.h"
#include "common/db/idempotency.h"
#include "common/db/sql.h"

namespace sm::clue {

using namespace handler;  // NOLINT: the handler files' shared helpers

ClueServiceImpl::ClueServiceImpl(Store* store, const auth::Verifier* verifier, const crypto::Keyring* keys,
                                 const workdays::Calendar* calendar, Limits limits, const Clock& clock,
                                 redis::Client* redis, db::Listener* listener, RevealPolicy reveal,
                                 events::HubOptions streams)
    : store_(store),
      keys_(keys),
      calendar_(calendar),
      limits_(limits),
      clock_(clock),
      reveal_(reveal),
      stats_cache_(redis, "clue_stats", std::chrono::seconds(60), /*local_entries=*/256),
      call_("ClueService", verifier),
      feed_hub_(
          "clue", [store](const Cursor& after, int limit) { return store->Feed(after, limit); }, listener, streams) {
  feed_hub_.Start();
  stats_version_refresher_.Start(std::chrono::milliseconds(100),
                                 [this] { stats_version_.Refresh([this] { return store_->StatsVersion(); }); });
}

absl::StatusOr<Standing> ClueServiceImpl::StandingFor(const auth::Principal& p, const StoredClue& c) {
  Standing s = StandingOf(p, c.clue, Custody::kNone);
  if (s != Standing::kNone || p.unit.empty() || !IsUuid(p.unit)) return s;
  SM_ASSIGN_OR_RETURN(Custody custody, store_->CustodyOf(c.clue.id(), p.unit));
  return StandingOf(p, c.clue, custody);
}

absl::StatusOr<StoredClue> ClueServiceImpl::LoadVisible(const auth::Principal& p, const std::string& clue_id,
                                                        Standing* standing) {
  auto c = store_->Get(clue_id);
  if (!c.ok()) return c.status();
  SM_ASSIGN_OR_RETURN(Standing s, StandingFor(p, *c));
  // A clue the caller may not see does not exist for them.
  if (ViewOf(s) == View::kNone) {
    log::Info("access denied", {{"method", "clue"}, {"user", p.user}, {"reason", "no standing"}});
    return absl::NotFoundError("clue not found");
  }
  if (standing != nullptr) *standing = s;
  return c;
}

template <typename Body>
grpc::Status ClueServiceImpl::StepCall(grpc::ServerContext* ctx, const char* method, Body&& body) {
  return call_.Run(ctx, method, [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(RequireCaseStaff(call.principal));
    return body(call);
  });
}

Rules ClueServiceImpl::RulesNow() const { return Rules{clock_.Now(), limits_, calendar_}; }

absl::Status ClueServiceImpl::Step(const server::CallInfo& call, const google::protobuf::Message& req, StepRequest step,
                                   StepFacts facts, v1::ClueReply* reply) {
  const db::Idempotency::Key key = db::KeyOf(call.principal, RequestIdOf(step), MethodOf(step), req);
  SM_ASSIGN_OR_RETURN(*reply, store_->Step(step, call.principal, std::move(facts), RulesNow(), key));
  ForgetStatsVersion();
  return absl::OkStatus();
}

grpc::Status ClueServiceImpl::RegisterClue(grpc::ServerContext* ctx, const v1::RegisterClueRequest* req,
                                           v1::ClueReply* reply) {
  return call_.Run(ctx, "RegisterClue", [&](const server::CallInfo& call) -> absl::Status {
    const auth::Principal& p = call.principal;
    SM_RETURN_IF_ERROR(auth::RequireAnyRole(p, {auth::kRoleDiscipline, auth::kRoleService}));
    FieldErrors e;
    RequestId(e, req->request_id());
    Uuid(e, "origin_unit_id", req->origin_unit_id());
    if (req->source() == v1::CLUE_SOURCE_UNSPECIFIED || !v1::ClueSource_IsValid(req->source())) {
      e.Add("source", "is required: one of the clue sources");
    }
    if (req->channel() == v1::RECEIPT_CHANNEL_UNSPECIFIED || !v1::ReceiptChannel_IsValid(req->channel())) {
      e.Add("channel", "is required: online, phone, letter, in person or system");
    }
    if (req->source_system().empty() != req->source_ref().empty()) {
      e.Add(req->source_system().empty() ? "source_system" : "source_ref", "source_system and source_ref go together");
    }
    Length(e, "source_system", req->source_system(), 32, false);
    Length(e, "source_ref", req->source_ref(), 128, false);
    if (req->subjects_size() == 0) e.Add("subjects", "name at least one person or unit");
    if (req->subjects_size() > kMaxSubjects) e.Add("subjects", "at most 50");
    std::set<std::string> subjects_seen;
    for (int i = 0; i < req->subjects_size() && i < kMaxSubjects; ++i) {
      const auto& s = req->subjects(i);
      const std::string f = "subjects[" + std::to_string(i) + "]";
      if (s.subject_case() == v1::ClueSubject::kPersonId)
        Uuid(e, f + ".person_id", s.person_id());
      else if (s.subject_case() == v1::ClueSubject::kUnitId)
        Uuid(e, f + ".unit_id", s.unit_id());
      else
        e.Add(f, "give person_id or unit_id");
      if (!subjects_seen.insert(s.person_id() + "/" + s.unit_id()).second) e.Add(f, "repeats an earlier subject");
    }
    if (req->categories_size() == 0) e.Add("categories", "give at least one category");
    if (req->categories_size() > v1::ClueCategory_MAX)
      e.Add("categories", "at most " + std::to_string(v1::ClueCategory_MAX));
    std::set<int> seen;
    for (int i = 0; i < req->categories_size(); ++i) {
      int c = req->categories(i);
      if (c == v1::CLUE_CATEGORY_UNSPECIFIED || !v1::ClueCategory_IsValid(c)) {
        e.Add("categories[" + std::to_string(i) + "]", "unknown category");
      } else if (!seen.insert(c).second) {
        e.Add("categories[" + std::to_string(i) + "]", "repeats a category");
      }
    }
    Length(e, "summary", req->summary(), kMaxSummary, true);
    Length(e, "details", req->details(), kMaxDetails, false);
    if (req->has_reporter()) {
      const auto& r = req->reporter();
      if (r.anonymous()) {
        if (!r.name().empty() || !r.contact().empty() || !r.id_number().empty()) {
          e.Add("reporter", "an anonymous reporter has no name, contact or id number");
        }
      } else {
        Length(e, "reporter.name", r.name(), 64, true);
      }
      Length(e, "reporter.contact", r.contact(), 128, false);
      Length(e, "reporter.id_number", r.id_number(), 32, false);
    }
    if (!v1::Severity_IsValid(req->severity())) e.Add("severity", "unknown severity");
    const TimePoint now = clock_.Now();
    if (auto at = validate::TimestampMicros(e, "received_at", req->has_received_at() ? &req->received_at() : nullptr);
        at && TimePoint(std::chrono::microseconds(*at)) > now + std::chrono::minutes(5)) {
      e.Add("received_at", "is in the future");
    }
    SM_RETURN_IF_ERROR(e.ToStatus());
    // Fields that name another system's records are the service's own: a person cannot
    // claim (and so hijack, suppress or probe) a referral; a service only its own source.
    if (!req->source_system().empty()) {
      if (!p.HasRole(auth::kRoleService)) {
        return absl::PermissionDeniedError("source_system and source_ref are set by the referring service only");
      }
      if (req->source_system() != SourceSystemOf(p)) {
        return absl::PermissionDeniedError("source_system: " + p.user + " refers under '" + SourceSystemOf(p) +
                                           "' only");
      }
    }

    // References must resolve in the directory.
    auto origin = store_->Unit(req->origin_unit_id());
    if (absl::IsNotFound(origin.status()) || (origin.ok() && !origin->active)) {
      return InvalidField("origin_unit_id", "no such active unit");
    }
    SM_RETURN_IF_ERROR(origin.status());
    if (!p.HasRole(auth::kRoleService) && p.unit != req->origin_unit_id()) {
      return absl::PermissionDeniedError("a unit registers clues in its own name only");
    }
    if (!req->offer_to_unit_id().empty()) {
      if (!IsUuid(req->offer_to_unit_id())) return InvalidField("offer_to_unit_id", "must be a UUID");
      if (req->offer_to_unit_id() == req->origin_unit_id()) {
        return InvalidField("offer_to_unit_id", "is the registering unit itself");
      }
      auto to = store_->Unit(req->offer_to_unit_id());
      if (absl::IsNotFound(to.status()) || (to.ok() && !to->active)) {
        return InvalidField("offer_to_unit_id", "no such active unit");
      }
      SM_RETURN_IF_ERROR(to.status());
    }
    StoredClue s;
    v1::Clue& c = s.clue;
    c.set_id(NewUuid(clock_));
    for (int i = 0; i < req->subjects_size(); ++i) {
      const auto& in = req->subjects(i);
      auto* out = c.add_subjects();
      if (in.subject_case() == v1::ClueSubject::kPersonId) {
        auto person = store_->Person(in.person_id());
        if (absl::IsNotFound(person.status()))
          return InvalidField("subjects[" + std::to_string(i) + "].person_id", "no such person");
        SM_RETURN_IF_ERROR(person.status());
        out->set_person_id(in.person_id());
        out->set_display_name(person->name);
      } else {
        auto unit = store_->Unit(in.unit_id());
        if (absl::IsNotFound(unit.status()))
          return InvalidField("subjects[" + std::to_string(i) + "].unit_id", "no such unit");
        SM_RETURN_IF_ERROR(unit.status());
        out->set_unit_id(in.unit_id());
        out->set_display_name(unit->name);
      }
    }
    c.set_source(req->source());
    c.set_channel(req->channel());
    c.set_source_system(req->source_system());
    c.set_source_ref(req->source_ref());
    c.set_origin_unit_id(req->origin_unit_id());
    for (int cat : req->categories()) c.add_categories(static_cast<v1::ClueCategory>(cat));
    c.set_summary(req->summary());
    c.set_severity(req->severity() == v1::SEVERITY_UNSPECIFIED ? v1::SEVERITY_MEDIUM : req->severity());
    if (req->has_received_at())
      *c.mutable_received_at() = req->received_at();
    else
      *c.mutable_received_at() = db::TimestampOf(now);
    *c.mutable_registered_at() = db::TimestampOf(now);
    if (!req->details().empty()) s.details_sealed = keys_->Seal(req->details(), DetailsAad(c.id()));
    if (req->has_reporter() && !req->reporter().anonymous()) {
      s.reporter_sealed = keys_->Seal(req->reporter().SerializeAsString(), ReporterAad(c.id()));
      c.set_reporter_on_file(true);
    }
    const std::string_view reporter = !req->has_reporter()          ? "none"
                                      : req->reporter().anonymous() ? "anonymous"
                                                                    : "named";
    Rules rules = RulesNow();
    rules.now = now;
    const auto events = Register(s, req->offer_to_unit_id(), reporter, rules);
    SM_ASSIGN_OR_RETURN(*reply, store_->Register(s, Actor{p.EndUser(), p.unit},
                                                 db::KeyOf(p, req->request_id(), "RegisterClue", *req), events));
    ForgetStatsVersion();
    return absl::OkStatus();
  });
}

grpc::Status ClueServiceImpl::TransferClue(grpc::ServerContext* ctx, const v1::TransferClueRequest* req,
                                           v1::ClueReply* reply) {
  return StepCall(ctx, "TransferClue", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e;
    RequestId(e, req->request_id());
    Uuid(e, "clue_id", req->clue_id());
    Version(e, req->expected_version());
    Uuid(e, "to_unit_id", req->to_unit_id());
    Length(e, "reason", req->reason(), kMaxReason, false);
    SM_RETURN_IF_ERROR(e.ToStatus());
    auto to = store_->Unit(req->to_unit_id());
    if (absl::IsNotFound(to.status()) || (to.ok() && !to->active))
      return InvalidField("to_unit_id", "no such active unit");
    SM_RETURN_IF_ERROR(to.status());
    return Step(call, *req, *req, {}, reply);
  });
}

grpc::Status ClueServiceImpl::AcceptClue(grpc::ServerContext* ctx, const v1::AcceptClueRequest* req,
                                         v1::ClueReply* reply) {
  return StepCall(ctx, "AcceptClue", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e;
    RequestId(e, req->request_id());
    Uuid(e, "clue_id", req->clue_id());
    Version(e, req->expected_version());
    SM_RETURN_IF_ERROR(e.ToStatus());
    return Step(call, *req, *req, {}, reply);
  });
}

grpc::Status ClueServiceImpl::ReturnClue(grpc::ServerContext* ctx, const v1::ReturnClueRequest* req,
                                         v1::ClueReply* reply) {
  return StepCall(ctx, "ReturnClue", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e;
    RequestId(e, req->request_id());
    Uuid(e, "clue_id", req->clue_id());
    Version(e, req->expected_version());
    Length(e, "reason", req->reason(), kMaxReason, true);
    SM_RETURN_IF_ERROR(e.ToStatus());
    return Step(call, *req, *req, {}, reply);
  });
}

grpc::Status ClueServiceImpl::AssignHandler(grpc::ServerContext* ctx, const v1::AssignHandlerRequest* req,
                                            v1::ClueReply* reply) {
  return StepCall(ctx, "AssignHandler", [&](const server::CallInfo& call) -> absl::Status {
    // Role (StepCall) and standing first: the recusal answer says whether a person is a
    // subject of the clue, which only its holder may learn.
    FieldErrors e;
    RequestId(e, req->request_id());
    Uuid(e, "clue_id", req->clue_id());
    Version(e, req->expected_version());
    Uuid(e, "handler_person_id", req->handler_person_id());
    SM_RETURN_IF_ERROR(e.ToStatus());
    auto handler = store_->Person(req->handler_person_id());
    if (absl::IsNotFound(handler.status()) || (handler.ok() && !handler->active)) {
      return InvalidField("handler_person_id", "no such active person");
    }
    SM_RETURN_IF_ERROR(handler.status());
    SM_ASSIGN_OR_RETURN(UnitInfo handler_unit, store_->Unit(handler->unit_id));
    // Standing, then recusal (a directory read that fails refuses), then the state: in
    // the step's transaction (workflow Decide).
    StepFacts facts;
    facts.handler = std::move(*handler);
    facts.handler_unit = std::move(handler_unit);
    return Step(call, *req, *req, std::move(facts), reply);
  });
}

grpc::Status ClueServiceImpl::DisposeClue(grpc::ServerContext* ctx, const v1::DisposeClueRequest* req,
                                          v1::ClueReply* reply) {
  return StepCall(ctx, "DisposeClue", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e;
    RequestId(e, req->request_id());
    Uuid(e, "clue_id", req->clue_id());
    Version(e, req->expected_version());
    if (req->method() == v1::DISPOSITION_METHOD_UNSPECIFIED || !v1::DispositionMethod_IsValid(req->method())) {
      e.Add("method", "is required: one of the four disposition methods");
    }
    const bool reason_required =
        req->method() == v1::DISPOSITION_METHOD_SHELVE || req->method() == v1::DISPOSITION_METHOD_CLOSE;
    Length(e, "reason", req->reason(), kMaxReason, reason_required);
    SM_RETURN_IF_ERROR(e.ToStatus());
    return Step(call, *req, *req, {}, reply);
  });
}

grpc::Status ClueServiceImpl::ConcludeClue(grpc::ServerContext* ctx, const v1::ConcludeClueRequest* req,
                                           v1::ClueReply* reply) {
  return StepCall(ctx, "ConcludeClue", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e;
    RequestId(e, req->request_id());
    Uuid(e, "clue_id", req->clue_id());
    Version(e, req->expected_version());
    if (req->form() == v1::SUPERVISION_FORM_UNSPECIFIED || !v1::SupervisionForm_IsValid(req->form())) {
      e.Add("form", "is required: one of the four forms (1-4)");
    }
    Length(e, "feedback", req->feedback(), kMaxFeedback, true);
    validate::DistinctTexts(e, "sanctions", req->sanctions(), 20, 200);
    SM_RETURN_IF_ERROR(e.ToStatus());
    return Step(call, *req, *req, {}, reply);
  });
}

grpc::Status ClueServiceImpl::ExtendDeadline(grpc::ServerContext* ctx, const v1::ExtendDeadlineRequest* req,
                                             v1::ClueReply* reply) {
  return StepCall(ctx, "ExtendDeadline", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e;
    RequestId(e, req->request_id());
    Uuid(e, "clue_id", req->clue_id());
    Version(e, req->expected_version());
    if (req->extra_working_days() < 1 || req->extra_working_days() > 60) {
      e.Add("extra_working_days", "must be 1 to 60");
    }
    Length(e, "reason", req->reason(), kMaxReason, true);
    SM_RETURN_IF_ERROR(e.ToStatus());
    // The approver is the caller: a leader (领导干部) of the holding unit, by directory record.
    const std::string approver = call.principal.user;
    auto person = IsUuid(approver) ? store_->Person(approver) : absl::StatusOr<PersonInfo>(absl::NotFoundError(""));
    if (!person.ok() || !person->active || !person->leader) {
      return absl::PermissionDeniedError(
          "an extension needs a leader of the holding unit (token subject must be that leader)");
    }
    SM_ASSIGN_OR_RETURN(UnitInfo approver_unit, store_->Unit(person->unit_id));
    StepFacts facts;
    facts.approver = std::move(*person);
    facts.approver_unit = std::move(approver_unit);
    return Step(call, *req, *req, std::move(facts), reply);
  });
}

grpc::Status ClueServiceImpl::AddNote(grpc::ServerContext* ctx, const v1::AddNoteRequest* req, v1::ClueReply* reply) {
  return StepCall(ctx, "AddNote", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e;
    RequestId(e, req->request_id());
    Uuid(e, "clue_id", req->clue_id());
    Length(e, "text", req->text(), 4000, true);
    if (req->attachments_size() > 20) e.Add("attachments", "at most 20");
    for (int i = 0; i < req->attachments_size() && i < 20; ++i) {
      const auto& a = req->attachments(i);
      const std::string f = "attachments[" + std::to_string(i) + "]";
      Length(e, f + ".name", a.name(), 200, true);
      bool hex = a.sha256().size() == 64;
      for (char c : a.sha256()) hex = hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
      if (!hex) e.Add(f + ".sha256", "must be 64 lower-case hex characters");
      for (int j = 0; j < i; ++j) {
        if (hex && req->attachments(j).sha256() == a.sha256()) e.Add(f + ".sha256", "repeats an earlier attachment");
      }
      if (a.size_bytes() < 0) e.Add(f + ".size_bytes", "must not be negative");
      Length(e, f + ".media_type", a.media_type(), 100, false);
    }
    SM_RETURN_IF_ERROR(e.ToStatus());
    // Notes never conflict with other changes: no expected_version.
    return Step(call, *req, *req, {}, reply);
  });
}

grpc::Status ClueServiceImpl::MergeClues(grpc::ServerContext* ctx, const v1::MergeCluesRequest* req,
                                         v1::ClueReply* reply) {
  return StepCall(ctx, "MergeClues", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e;
    RequestId(e, req->request_id());
    Uuid(e, "primary_clue_id", req->primary_clue_id());
    Version(e, req->expected_version());
    if (req->merged_clue_ids_size() == 0 || req->merged_clue_ids_size() > 20) {
      e.Add("merged_clue_ids", "give 1 to 20 clues to merge");
    }
    std::set<std::string> ids;
    for (int i = 0; i < req->merged_clue_ids_size(); ++i) {
      const std::string f = "merged_clue_ids[" + std::to_string(i) + "]";
      Uuid(e, f, req->merged_clue_ids(i));
      if (req->merged_clue_ids(i) == req->primary_clue_id()) e.Add(f, "is the primary clue");
      if (!ids.insert(req->merged_clue_ids(i)).second) e.Add(f, "repeats a clue");
    }
    Length(e, "reason", req->reason(), kMaxReason, false);
    SM_RETURN_IF_ERROR(e.ToStatus());
    std::vector<std::string> merged(req->merged_clue_ids().begin(), req->merged_clue_ids().end());
    SM_ASSIGN_OR_RETURN(
        *reply, store_->Merge(req->primary_clue_id(), req->expected_version(), merged, call.principal, req->reason(),
                              db::KeyOf(call.principal, req->request_id(), "MergeClues", *req)));
    ForgetStatsVersion();
    return absl::OkStatus();
  });
}

grpc::Status ClueServiceImpl::MarkIntervention(grpc::ServerContext* ctx, const v1::MarkInterventionRequest* req,
                                               v1::ClueReply* reply) {
  return StepCall(ctx, "MarkIntervention", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e;
    RequestId(e, req->request_id());
    Uuid(e, "clue_id", req->clue_id());
    Version(e, req->expected_version());
    Length(e, "note", req->note(), kMaxReason, false);
    SM_RETURN_IF_ERROR(e.ToStatus());
    auto unit = IsUuid(call.principal.unit) ? store_->Unit(call.principal.unit)
                                            : absl::StatusOr<UnitInfo>(absl::NotFoundError(""));
    if (!unit.ok() || (unit->kind != "DISCIPLINE_COMMISSION" && unit->kind != "DISCIPLINE_GROUP")) {
      return absl::PermissionDeniedError("only the discipline commission or its group intervenes in step");
    }
    return Step(call, *req, *req, {}, reply);
  });
}

}  // namespace sm::clue
