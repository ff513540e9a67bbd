#include "services/inspection/service.h"

#include <set>

#include "common/chain_guard.h"
#include "common/db/idempotency.h"
#include "common/db/sql.h"
#include "common/event_stream.h"
#include "common/log.h"
#include "common/paging.h"
#include "common/rectification_request.h"
#include "common/status.h"
#include "common/uuid.h"
#include "common/validate.h"

namespace sm::inspection {
namespace {

using validate::Length;
using validate::Uuid;
using validate::Version;

template <typename Request>
FieldErrors StepFields(const Request& req, const char* field, const std::string& id) {
  FieldErrors e;
  validate::RequestId(e, req.request_id());
  Uuid(e, field, id);
  if constexpr (requires { req.expected_version(); }) Version(e, req.expected_version());
  return e;
}

void Date(FieldErrors& e, const std::string& field, const std::string& v) {
  if (!workdays::ParseDate(v).ok()) e.Add(field, "must be a date YYYY-MM-DD");
}

void Ids(FieldErrors& e, const std::string& field, const google::protobuf::RepeatedPtrField<std::string>& ids, int min,
         int max) {
  if (ids.size() < min || ids.size() > max) {
    e.Add(field, "must list " + std::to_string(min) + " to " + std::to_string(max) + " ids");
  }
  std::set<std::string> seen;
  for (int i = 0; i < ids.size(); ++i) {
    const std::string at = field + "[" + std::to_string(i) + "]";
    Uuid(e, at, ids[i]);
    if (!seen.insert(ids[i]).second) e.Add(at, "is listed twice");
  }
}

bool Reads(const auth::Principal& p) {
  return p.HasRole(auth::kRoleInspector) || p.HasRole(auth::kRoleChiefInspector) || p.HasRole(auth::kRoleOversight) ||
         p.HasRole(auth::kRoleStaff) || p.HasRole(auth::kRoleDiscipline);
}

absl::Status GateReads(const auth::Principal& p, std::string_view method) {
  if (Reads(p)) return absl::OkStatus();
  log::Warn("access denied",
            {{"method", std::string(method)}, {"user", p.user}, {"reason", "no role reads inspections"}});
  return absl::PermissionDeniedError(std::string(method) + " is not open to the caller's roles");
}

absl::Status GateOversight(const auth::Principal& p, std::string_view method) {
  if (p.HasRole(auth::kRoleOversight)) return absl::OkStatus();
  return absl::PermissionDeniedError(std::string(method) + " is for oversight only");
}

}  // namespace

InspectionServiceImpl::InspectionServiceImpl(PgStore* store, const auth::Verifier* verifier,
                                             const workdays::Calendar* calendar, Policy policy, const Clock& clock,
                                             redis::Client* redis, db::Listener* listener, events::HubOptions streams)
    : store_(store),
      calendar_(calendar),
      policy_(policy),
      clock_(clock),
      stats_cache_(redis, "inspection_stats", std::chrono::seconds(60), /*local_entries=*/256),
      call_("InspectionService", verifier),
      feed_hub_(
          "inspection", [store](const events::Cursor& after, int limit) { return store->Feed(after, limit); }, listener,
          streams) {
  feed_hub_.Start();
}

template <typename Request, typename Reply>
absl::Status InspectionServiceImpl::Step(const server::CallInfo& call, const Request& req, StepFacts facts,
                                         Reply* reply) {
  const auth::Principal& p = call.principal;
  const StepRequest step(req);
  const std::string_view method = MethodOf(step);
  facts.new_id = NewUuid(clock_);
  const db::Idempotency::Key key = db::KeyOf(p, req.request_id(), method, req);
  auto out =
      store_->Step<Reply>(step, p, std::move(facts),
                          Rules{clock_.Now(), policy_.rectification, calendar_, policy_.accountability_days}, key);
  if (!out.ok()) {
    if (absl::IsNotFound(out.status()) || absl::IsPermissionDenied(out.status())) {
      log::Warn("access denied",
                {{"method", std::string(method)}, {"user", p.user}, {"reason", std::string(out.status().message())}});
    }
    return out.status();
  }
  *reply = *std::move(out);
  return absl::OkStatus();
}

absl::Status InspectionServiceImpl::AddUnit(StepFacts& f, const std::string& id) {
  if (id.empty() || f.units.count(id)) return absl::OkStatus();
  SM_ASSIGN_OR_RETURN(std::optional<UnitInfo> u, Known(store_->Unit(id)));
  if (u) {
    f.ancestry[id] = u->ancestors;
    f.units.emplace(id, *std::move(u));
  }
  return absl::OkStatus();
}

absl::Status InspectionServiceImpl::AddPerson(StepFacts& f, const std::string& id) {
  if (id.empty() || f.people.count(id)) return absl::OkStatus();
  SM_ASSIGN_OR_RETURN(std::optional<PersonInfo> who, Known(store_->Person(id)));
  if (who) {
    SM_RETURN_IF_ERROR(AddUnit(f, who->unit_id));
    f.people.emplace(id, *std::move(who));
  }
  return absl::OkStatus();
}

absl::StatusOr<Ancestry> InspectionServiceImpl::AncestryOf(const std::vector<std::string>& units) {
  StepFacts f;
  for (const auto& u : units) SM_RETURN_IF_ERROR(AddUnit(f, u));
  return f.ancestry;
}

absl::StatusOr<View> InspectionServiceImpl::ViewOf(const auth::Principal& p, const v1::Inspection& in,
                                                   const std::string& what) {
  SM_ASSIGN_OR_RETURN(Ancestry a, AncestryOf({in.target_unit_ids().begin(), in.target_unit_ids().end()}));
  const View v = InspectionView(p, in, a);
  if (v == View::kNone) {
    log::Warn("access denied", {{"user", p.user}, {"reason", what + " of an unrelated inspection"}});
    return absl::NotFoundError(what + " not found");
  }
  return v;
}

Visible InspectionServiceImpl::VisibleTo(const auth::Principal& p) {
  if (p.HasRole(auth::kRoleOversight)) return std::nullopt;
  return p.unit.empty() ? std::string("00000000-0000-0000-0000-000000000000") : p.unit;
}

// ---- templates ----

grpc::Status InspectionServiceImpl::PublishTemplate(grpc::ServerContext* ctx, const v1::PublishTemplateRequest* req,
                                                    v1::TemplateReply* reply) {
  return call_.Run(ctx, "PublishTemplate", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e;
    validate::RequestId(e, req->request_id());
    CheckTemplate(*req, e);
    SM_RETURN_IF_ERROR(e.ToStatus());
    return Step(call, *req, {}, reply);
  });
}

grpc::Status InspectionServiceImpl::GetTemplate(grpc::ServerContext* ctx, const v1::GetTemplateRequest* req,
                                                v1::ChecklistTemplate* resp) {
  return call_.Run(ctx, "GetTemplate", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(GateReads(call.principal, "GetTemplate"));
    FieldErrors e;
    Length(e, "code", req->code(), 64, true);
    if (req->version() < 0) e.Add("version", "must not be negative (0: the latest)");
    SM_RETURN_IF_ERROR(e.ToStatus());
    SM_ASSIGN_OR_RETURN(*resp, store_->GetTemplate(req->code(), req->version()));
    return absl::OkStatus();
  });
}

grpc::Status InspectionServiceImpl::ListTemplates(grpc::ServerContext* ctx, const v1::ListTemplatesRequest* req,
                                                  v1::ListTemplatesResponse* resp) {
  return call_.Run(ctx, "ListTemplates", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(GateReads(call.principal, "ListTemplates"));
    SM_ASSIGN_OR_RETURN(int page, paging::PageSize(req->page_size(), 50, 200));
    SM_ASSIGN_OR_RETURN(auto pos, paging::Decode(req->page_token(), paging::FilterFingerprint(*req)));
    std::optional<std::string> after;
    if (pos) {
      if (!pos->is_string()) return InvalidField("page_token", "is not a token of this list");
      after = pos->get<std::string>();
    }
    SM_ASSIGN_OR_RETURN(auto rows, store_->ListTemplates(after, page + 1));
    resp->set_next_page_token(paging::TakePage(
        rows, page, [&](auto& t) { *resp->add_templates() = std::move(t); },
        [&](const auto& t) { return paging::Encode(t.code(), paging::FilterFingerprint(*req)); }));
    return absl::OkStatus();
  });
}

// ---- inspections ----

grpc::Status InspectionServiceImpl::CreateInspection(grpc::ServerContext* ctx, const v1::CreateInspectionRequest* req,
                                                     v1::InspectionReply* reply) {
  return call_.Run(ctx, "CreateInspection", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e;
    validate::RequestId(e, req->request_id());
    if (req->kind() == v1::INSPECTION_KIND_UNSPECIFIED || !v1::InspectionKind_IsValid(req->kind())) {
      e.Add("kind", "is required: one of the inspection kinds");
    }
    Length(e, "title", req->title(), 200, true);
    Uuid(e, "inspection_unit_id", req->inspection_unit_id());
    Ids(e, "target_unit_ids", req->target_unit_ids(), 1, 50);
    Ids(e, "inspector_ids", req->inspector_ids(), 1, 20);
    Date(e, "period_from", req->period_from());
    Date(e, "period_to", req->period_to());
    auto from = workdays::ParseDate(req->period_from());
    auto to = workdays::ParseDate(req->period_to());
    if (from.ok() && to.ok() && *to < *from) e.Add("period_to", "is before period_from");
    Length(e, "template_code", req->template_code(), 64, true);
    if (req->template_version() < 0) e.Add("template_version", "must not be negative (0: the latest)");
    SM_RETURN_IF_ERROR(e.ToStatus());
    StepFacts facts;
    SM_RETURN_IF_ERROR(AddUnit(facts, req->inspection_unit_id()));
    for (const auto& t : req->target_unit_ids()) SM_RETURN_IF_ERROR(AddUnit(facts, t));
    for (const auto& who : req->inspector_ids()) SM_RETURN_IF_ERROR(AddPerson(facts, who));
    return Step(call, *req, std::move(facts), reply);
  });
}

grpc::Status InspectionServiceImpl::AdvanceInspection(grpc::ServerContext* ctx, const v1::AdvanceInspectionRequest* req,
                                                      v1::InspectionReply* reply) {
  return call_.Run(ctx, "AdvanceInspection", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e = StepFields(*req, "inspection_id", req->inspection_id());
    if (req->to() == v1::INSPECTION_STATE_UNSPECIFIED || !v1::InspectionState_IsValid(req->to())) {
      e.Add("to", "unknown state");
    }
    Length(e, "report", req->report(), 20000, req->to() == v1::INSPECTION_STATE_REPORTED);
    SM_RETURN_IF_ERROR(e.ToStatus());
    return Step(call, *req, {}, reply);
  });
}

grpc::Status InspectionServiceImpl::MarkItem(grpc::ServerContext* ctx, const v1::MarkItemRequest* req,
                                             v1::InspectionReply* reply) {
  return call_.Run(ctx, "MarkItem", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e = StepFields(*req, "inspection_id", req->inspection_id());
    Length(e, "item_code", req->item_code(), 32, true);
    Uuid(e, "target_unit_id", req->target_unit_id());
    if (req->mark() == v1::ITEM_MARK_UNSPECIFIED || !v1::ItemMark_IsValid(req->mark())) {
      e.Add("mark", "is required: CONFORMING, NON_CONFORMING or NOT_APPLICABLE");
    }
    Length(e, "note", req->note(), 4000, req->mark() == v1::ITEM_MARK_NON_CONFORMING);
    validate::DistinctTexts(e, "evidence_refs", req->evidence_refs(), 50, 200);
    SM_RETURN_IF_ERROR(e.ToStatus());
    return Step(call, *req, {}, reply);
  });
}

grpc::Status InspectionServiceImpl::GetInspection(grpc::ServerContext* ctx, const v1::GetInspectionRequest* req,
                                                  v1::Inspection* resp) {
  return call_.Run(ctx, "GetInspection", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(GateReads(call.principal, "GetInspection"));
    if (!IsUuid(req->inspection_id())) return InvalidField("inspection_id", "must be a UUID");
    SM_ASSIGN_OR_RETURN(*resp, store_->GetInspection(req->inspection_id()));
    SM_ASSIGN_OR_RETURN(View v, ViewOf(call.principal, *resp, "inspection"));
    if (v == View::kNoNotes) RemoveNotes(*resp);
    return absl::OkStatus();
  });
}

grpc::Status InspectionServiceImpl::ListInspections(grpc::ServerContext* ctx, const v1::ListInspectionsRequest* req,
                                                    v1::ListInspectionsResponse* resp) {
  return call_.Run(ctx, "ListInspections", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(GateReads(call.principal, "ListInspections"));
    FieldErrors e;
    if (!v1::InspectionKind_IsValid(req->kind())) e.Add("kind", "unknown kind");
    if (!v1::InspectionState_IsValid(req->state())) e.Add("state", "unknown state");
    Uuid(e, "target_unit_id", req->target_unit_id(), false);
    auto page = paging::PageSize(req->page_size(), 50, 200);
    if (!page.ok()) e.Add("page_size", "must not be negative");
    auto after = paging::DecodeTimeId(req->page_token(), paging::FilterFingerprint(*req), e);
    SM_RETURN_IF_ERROR(e.ToStatus());
    SM_ASSIGN_OR_RETURN(auto rows, store_->ListInspections(*req, VisibleTo(call.principal), after, *page + 1));
    resp->set_next_page_token(paging::TakePage(
        rows, *page,
        [&](v1::Inspection& in) {
          auto v = ViewOf(call.principal, in, "inspection");
          if (!v.ok()) return;
          if (*v == View::kNoNotes) RemoveNotes(in);
          in.clear_checklist();  // a list shows the summary; GetInspection the checklist
          *resp->add_inspections() = std::move(in);
        },
        [&](const v1::Inspection& in) {
          return paging::EncodeTimeId({db::Micros(in.created_at()), in.id()}, paging::FilterFingerprint(*req));
        }));
    return absl::OkStatus();
  });
}

// ---- findings ----

grpc::Status InspectionServiceImpl::AddFinding(grpc::ServerContext* ctx, const v1::AddInspectionFindingRequest* req,
                                               v1::InspectionFindingReply* reply) {
  return call_.Run(ctx, "AddFinding", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e = StepFields(*req, "inspection_id", req->inspection_id());
    Length(e, "item_code", req->item_code(), 32, true);
    Uuid(e, "subject_unit_id", req->subject_unit_id());
    Uuid(e, "subject_person_id", req->subject_person_id(), false);
    Length(e, "title", req->title(), 200, true);
    Length(e, "description", req->description(), 8000, false);
    if (req->category() == v1::INSPECTION_FINDING_CATEGORY_UNSPECIFIED ||
        !v1::InspectionFindingCategory_IsValid(req->category())) {
      e.Add("category", "is required: one of the finding categories");
    }
    if (req->severity() == v1::SEVERITY_UNSPECIFIED || !v1::Severity_IsValid(req->severity())) {
      e.Add("severity", "is required");
    }
    validate::DistinctTexts(e, "evidence_refs", req->evidence_refs(), 50, 200);
    SM_RETURN_IF_ERROR(e.ToStatus());
    StepFacts facts;
    SM_RETURN_IF_ERROR(AddPerson(facts, req->subject_person_id()));
    return Step(call, *req, std::move(facts), reply);
  });
}

grpc::Status InspectionServiceImpl::GetFinding(grpc::ServerContext* ctx, const v1::GetInspectionFindingRequest* req,
                                               v1::InspectionFinding* resp) {
  return call_.Run(ctx, "GetFinding", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(GateReads(call.principal, "GetFinding"));
    if (!IsUuid(req->finding_id())) return InvalidField("finding_id", "must be a UUID");
    SM_ASSIGN_OR_RETURN(auto r, store_->GetFinding(req->finding_id()));
    SM_ASSIGN_OR_RETURN(Ancestry a, AncestryOf({r.finding.subject_unit_id()}));
    if (!MaySeeFinding(call.principal, r.inspection, r.finding, a)) return absl::NotFoundError("finding not found");
    *resp = std::move(r.finding);
    return absl::OkStatus();
  });
}

grpc::Status InspectionServiceImpl::ListFindings(grpc::ServerContext* ctx, const v1::ListInspectionFindingsRequest* req,
                                                 v1::ListInspectionFindingsResponse* resp) {
  return call_.Run(ctx, "ListFindings", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(GateReads(call.principal, "ListFindings"));
    FieldErrors e;
    Uuid(e, "inspection_id", req->inspection_id(), false);
    Uuid(e, "subject_unit_id", req->subject_unit_id(), false);
    if (!v1::InspectionFindingCategory_IsValid(req->category())) e.Add("category", "unknown category");
    auto page = paging::PageSize(req->page_size(), 50, 200);
    if (!page.ok()) e.Add("page_size", "must not be negative");
    auto after = paging::DecodeTimeId(req->page_token(), paging::FilterFingerprint(*req), e);
    SM_RETURN_IF_ERROR(e.ToStatus());
    SM_ASSIGN_OR_RETURN(auto rows, store_->ListFindings(*req, VisibleTo(call.principal), after, *page + 1));
    std::vector<std::string> units;
    for (const auto& r : rows) units.push_back(r.finding.subject_unit_id());
    SM_ASSIGN_OR_RETURN(Ancestry a, AncestryOf(units));
    resp->set_next_page_token(paging::TakePage(
        rows, *page,
        [&](PgStore::FindingRecord& r) {
          if (MaySeeFinding(call.principal, r.inspection, r.finding, a)) *resp->add_findings() = std::move(r.finding);
        },
        [&](const PgStore::FindingRecord& r) {
          return paging::EncodeTimeId({db::Micros(r.finding.created_at()), r.finding.id()},
                                      paging::FilterFingerprint(*req));
        }));
    return absl::OkStatus();
  });
}

// ---- measures ----

grpc::Status InspectionServiceImpl::ImposeMeasure(grpc::ServerContext* ctx, const v1::ImposeMeasureRequest* req,
                                                  v1::MeasureReply* reply) {
  return call_.Run(ctx, "ImposeMeasure", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e = StepFields(*req, "inspection_id", req->inspection_id());
    Uuid(e, "finding_id", req->finding_id(), false);
    if (req->kind() == v1::MEASURE_KIND_UNSPECIFIED || !v1::MeasureKind_IsValid(req->kind())) {
      e.Add("kind", "is required: one of the measures of the inspection regulations");
    }
    Uuid(e, "person_id", req->person_id());
    Length(e, "basis", req->basis(), 500, true);
    Length(e, "reason", req->reason(), 4000, true);
    if (auto limits = DaysAllowed(req->kind())) {
      if (req->days() < limits->min || req->days() > limits->max) {
        e.Add("days", "must be " + std::to_string(limits->min) + " to " + std::to_string(limits->max) + " for " +
                          std::string(MeasureKindName(req->kind())));
      }
    } else if (req->days() != 0) {
      e.Add("days", "is only for suspension and confinement");
    }
    if (req->kind() == v1::MEASURE_KIND_WITHHOLD) {
      if (req->withheld_size() < 1 || req->withheld_size() > 20) e.Add("withheld", "must list 1 to 20 items");
      for (int i = 0; i < req->withheld_size(); ++i) {
        const auto& w = req->withheld(i);
        const std::string at = "withheld[" + std::to_string(i) + "]";
        if (w.kind() == v1::WITHHELD_KIND_UNSPECIFIED || !v1::WithheldKind_IsValid(w.kind())) {
          e.Add(at + ".kind", "is required: weapon, equipment, vehicle, insignia or document");
        }
        Length(e, at + ".description", w.description(), 200, true);
        if (w.returned() || w.has_returned_at() || !w.returned_to().empty() || !w.returned_by().empty()) {
          e.Add(at, "a new withheld item cannot be returned already");
        }
      }
    } else if (req->withheld_size() > 0) {
      e.Add("withheld", "is only for withholding (扣留)");
    }
    SM_RETURN_IF_ERROR(e.ToStatus());
    StepFacts facts;
    SM_RETURN_IF_ERROR(AddPerson(facts, req->person_id()));
    return Step(call, *req, std::move(facts), reply);
  });
}

grpc::Status InspectionServiceImpl::ApproveMeasure(grpc::ServerContext* ctx, const v1::ApproveMeasureRequest* req,
                                                   v1::MeasureReply* reply) {
  return call_.Run(ctx, "ApproveMeasure", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e = StepFields(*req, "measure_id", req->measure_id());
    Length(e, "reason", req->reason(), 2000, !req->approve());
    SM_RETURN_IF_ERROR(e.ToStatus());
    return Step(call, *req, {}, reply);
  });
}

grpc::Status InspectionServiceImpl::LiftMeasure(grpc::ServerContext* ctx, const v1::LiftMeasureRequest* req,
                                                v1::MeasureReply* reply) {
  return call_.Run(ctx, "LiftMeasure", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e = StepFields(*req, "measure_id", req->measure_id());
    Length(e, "reason", req->reason(), 2000, true);
    SM_RETURN_IF_ERROR(e.ToStatus());
    return Step(call, *req, {}, reply);
  });
}

grpc::Status InspectionServiceImpl::ReturnWithheld(grpc::ServerContext* ctx, const v1::ReturnWithheldRequest* req,
                                                   v1::MeasureReply* reply) {
  return call_.Run(ctx, "ReturnWithheld", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e = StepFields(*req, "measure_id", req->measure_id());
    if (req->items_size() < 1) e.Add("items", "must list at least one withheld item");
    Uuid(e, "returned_to", req->returned_to());
    SM_RETURN_IF_ERROR(e.ToStatus());
    StepFacts facts;
    SM_RETURN_IF_ERROR(AddPerson(facts, req->returned_to()));
    return Step(call, *req, std::move(facts), reply);
  });
}

grpc::Status InspectionServiceImpl::GetMeasure(grpc::ServerContext* ctx, const v1::GetMeasureRequest* req,
                                               v1::Measure* resp) {
  return call_.Run(ctx, "GetMeasure", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(GateReads(call.principal, "GetMeasure"));
    if (!IsUuid(req->measure_id())) return InvalidField("measure_id", "must be a UUID");
    SM_ASSIGN_OR_RETURN(auto r, store_->GetMeasure(req->measure_id()));
    SM_ASSIGN_OR_RETURN(Ancestry a, AncestryOf({r.measure.unit_id()}));
    if (!MaySeeMeasure(call.principal, r.inspection, r.measure, a)) return absl::NotFoundError("measure not found");
    *resp = std::move(r.measure);
    return absl::OkStatus();
  });
}

grpc::Status InspectionServiceImpl::ListMeasures(grpc::ServerContext* ctx, const v1::ListMeasuresRequest* req,
                                                 v1::ListMeasuresResponse* resp) {
  return call_.Run(ctx, "ListMeasures", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(GateReads(call.principal, "ListMeasures"));
    FieldErrors e;
    Uuid(e, "inspection_id", req->inspection_id(), false);
    Uuid(e, "person_id", req->person_id(), false);
    Uuid(e, "unit_id", req->unit_id(), false);
    if (!v1::MeasureState_IsValid(req->state())) e.Add("state", "unknown state");
    auto page = paging::PageSize(req->page_size(), 50, 200);
    if (!page.ok()) e.Add("page_size", "must not be negative");
    auto after = paging::DecodeTimeId(req->page_token(), paging::FilterFingerprint(*req), e);
    SM_RETURN_IF_ERROR(e.ToStatus());
    SM_ASSIGN_OR_RETURN(auto rows, store_->ListMeasures(*req, VisibleTo(call.principal), after, *page + 1));
    std::vector<std::string> units;
    for (const auto& r : rows) units.push_back(r.measure.unit_id());
    SM_ASSIGN_OR_RETURN(Ancestry a, AncestryOf(units));
    resp->set_next_page_token(paging::TakePage(
        rows, *page,
        [&](PgStore::MeasureRecord& r) {
          if (MaySeeMeasure(call.principal, r.inspection, r.measure, a)) *resp->add_measures() = std::move(r.measure);
        },
        [&](const PgStore::MeasureRecord& r) {
          return paging::EncodeTimeId({db::Micros(r.measure.created_at()), r.measure.id()},
                                      paging::FilterFingerprint(*req));
        }));
    return absl::OkStatus();
  });
}

// ---- rectification (shared checks and rules) ----

grpc::Status InspectionServiceImpl::AddRectification(grpc::ServerContext* ctx, const v1::AddRectificationRequest* req,
                                                     v1::RectificationReply* reply) {
  return call_.Run(ctx, "AddRectification", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(rectification::Validate(*req));
    StepFacts facts;
    SM_RETURN_IF_ERROR(AddUnit(facts, req->owner_unit_id()));
    if (req->owner_unit_id().empty()) {
      // The finding's subject unit owns it: read here, before the step's transaction.
      auto f = store_->GetFinding(req->finding_id());
      if (f.ok()) SM_RETURN_IF_ERROR(AddUnit(facts, f->finding.subject_unit_id()));
    }
    return Step(call, *req, std::move(facts), reply);
  });
}

grpc::Status InspectionServiceImpl::RecordProgress(grpc::ServerContext* ctx, const v1::RecordProgressRequest* req,
                                                   v1::RectificationReply* reply) {
  return call_.Run(ctx, "RecordProgress", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(rectification::Validate(*req));
    return Step(call, *req, {}, reply);
  });
}

grpc::Status InspectionServiceImpl::SubmitRectification(grpc::ServerContext* ctx,
                                                        const v1::SubmitRectificationRequest* req,
                                                        v1::RectificationReply* reply) {
  return call_.Run(ctx, "SubmitRectification", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(rectification::Validate(*req));
    return Step(call, *req, {}, reply);
  });
}

grpc::Status InspectionServiceImpl::ReviewRectification(grpc::ServerContext* ctx,
                                                        const v1::ReviewRectificationRequest* req,
                                                        v1::RectificationReply* reply) {
  return call_.Run(ctx, "ReviewRectification", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(rectification::Validate(*req));
    return Step(call, *req, {}, reply);
  });
}

grpc::Status InspectionServiceImpl::ReopenRectification(grpc::ServerContext* ctx,
                                                        const v1::ReopenRectificationRequest* req,
                                                        v1::RectificationReply* reply) {
  return call_.Run(ctx, "ReopenRectification", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(rectification::Validate(*req));
    return Step(call, *req, {}, reply);
  });
}

grpc::Status InspectionServiceImpl::GetRectification(grpc::ServerContext* ctx, const v1::GetRectificationRequest* req,
                                                     v1::Rectification* resp) {
  return call_.Run(ctx, "GetRectification", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(GateReads(call.principal, "GetRectification"));
    SM_RETURN_IF_ERROR(rectification::Validate(*req));
    SM_ASSIGN_OR_RETURN(auto r, store_->GetRectification(req->rectification_id()));
    SM_ASSIGN_OR_RETURN(Ancestry a, AncestryOf({r.finding.finding.subject_unit_id(), r.rectification.owner_unit_id()}));
    if (!MaySeeFinding(call.principal, r.finding.inspection, r.finding.finding, a) &&
        !AtOrAbove(call.principal.unit, r.rectification.owner_unit_id(), a)) {
      return absl::NotFoundError("rectification not found");
    }
    *resp = std::move(r.rectification);
    return absl::OkStatus();
  });
}

grpc::Status InspectionServiceImpl::ListRectifications(grpc::ServerContext* ctx,
                                                       const v1::ListRectificationsRequest* req,
                                                       v1::ListRectificationsResponse* resp) {
  return call_.Run(ctx, "ListRectifications", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(GateReads(call.principal, "ListRectifications"));
    SM_ASSIGN_OR_RETURN(rectification::ListPage page, rectification::ReadList(*req));
    SM_ASSIGN_OR_RETURN(auto rows,
                        store_->ListRectifications(*req, VisibleTo(call.principal), page.after, page.size + 1));
    std::vector<std::string> units;
    for (const auto& r : rows) {
      units.push_back(r.finding.finding.subject_unit_id());
      units.push_back(r.rectification.owner_unit_id());
    }
    SM_ASSIGN_OR_RETURN(Ancestry a, AncestryOf(units));
    resp->set_next_page_token(paging::TakePage(
        rows, page.size,
        [&](PgStore::RectificationRecord& r) {
          if (MaySeeFinding(call.principal, r.finding.inspection, r.finding.finding, a) ||
              AtOrAbove(call.principal.unit, r.rectification.owner_unit_id(), a)) {
            *resp->add_rectifications() = std::move(r.rectification);
          }
        },
        [&](const PgStore::RectificationRecord& r) { return rectification::NextPageToken(page, r.rectification); }));
    return absl::OkStatus();
  });
}

// ---- referral of a finding ----

grpc::Status InspectionServiceImpl::ReferFinding(grpc::ServerContext* ctx, const v1::ReferFindingRequest* req,
                                                 v1::InspectionFindingReply* reply) {
  return call_.Run(ctx, "ReferFinding", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e = StepFields(*req, "finding_id", req->finding_id());
    Uuid(e, "to_unit_id", req->to_unit_id());
    for (int i = 0; i < req->categories_size(); ++i) {
      if (req->categories(i) == v1::CLUE_CATEGORY_UNSPECIFIED || !v1::ClueCategory_IsValid(req->categories(i))) {
        e.Add("categories[" + std::to_string(i) + "]", "unknown category");
      }
    }
    Length(e, "summary", req->summary(), 500, false);
    SM_RETURN_IF_ERROR(e.ToStatus());
    StepFacts facts;
    SM_RETURN_IF_ERROR(AddUnit(facts, req->to_unit_id()));
    return Step(call, *req, std::move(facts), reply);
  });
}

grpc::Status InspectionServiceImpl::RetryReferral(grpc::ServerContext* ctx, const v1::RetryReferralRequest* req,
                                                  v1::InspectionFindingReply* reply) {
  return call_.Run(ctx, "RetryReferral", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e = StepFields(*req, "finding_id", req->finding_id());
    Length(e, "reason", req->reason(), 1000, true);
    SM_RETURN_IF_ERROR(e.ToStatus());
    return Step(call, *req, {}, reply);
  });
}

// ---- accountability checks (一案双查) ----

grpc::Status InspectionServiceImpl::GetAccountabilityCheck(grpc::ServerContext* ctx,
                                                           const v1::GetAccountabilityCheckRequest* req,
                                                           v1::AccountabilityCheck* resp) {
  return call_.Run(ctx, "GetAccountabilityCheck", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(GateReads(call.principal, "GetAccountabilityCheck"));
    if (!IsUuid(req->check_id())) return InvalidField("check_id", "must be a UUID");
    SM_ASSIGN_OR_RETURN(*resp, store_->GetCheck(req->check_id()));
    SM_ASSIGN_OR_RETURN(Ancestry a, AncestryOf({resp->owner_unit_id(), call.principal.unit}));
    if (!MaySeeCheck(call.principal, *resp, a)) {
      log::Warn("access denied", {{"method", "GetAccountabilityCheck"}, {"user", call.principal.user}});
      return absl::NotFoundError("accountability check not found");
    }
    return absl::OkStatus();
  });
}

grpc::Status InspectionServiceImpl::ListAccountabilityChecks(grpc::ServerContext* ctx,
                                                             const v1::ListAccountabilityChecksRequest* req,
                                                             v1::ListAccountabilityChecksResponse* resp) {
  return call_.Run(ctx, "ListAccountabilityChecks", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(GateReads(call.principal, "ListAccountabilityChecks"));
    FieldErrors e;
    Uuid(e, "clue_id", req->clue_id(), false);
    Uuid(e, "leader_person_id", req->leader_person_id(), false);
    Uuid(e, "subject_unit_id", req->subject_unit_id(), false);
    auto page = paging::PageSize(req->page_size(), 50, 200);
    if (!page.ok()) e.Add("page_size", "must not be negative");
    auto after = paging::DecodeTimeId(req->page_token(), paging::FilterFingerprint(*req), e);
    SM_RETURN_IF_ERROR(e.ToStatus());
    SM_ASSIGN_OR_RETURN(auto rows, store_->ListChecks(*req, after, *page + 1));
    std::vector<std::string> owners = {call.principal.unit};
    for (const auto& k : rows) owners.push_back(k.owner_unit_id());
    SM_ASSIGN_OR_RETURN(Ancestry a, AncestryOf(owners));
    resp->set_next_page_token(paging::TakePage(
        rows, *page,
        [&](v1::AccountabilityCheck& k) {
          if (MaySeeCheck(call.principal, k, a)) *resp->add_checks() = std::move(k);
        },
        [&](const v1::AccountabilityCheck& k) {
          return paging::EncodeTimeId({db::Micros(k.created_at()), k.id()}, paging::FilterFingerprint(*req));
        }));
    return absl::OkStatus();
  });
}

grpc::Status InspectionServiceImpl::AssignAccountabilityCheck(grpc::ServerContext* ctx,
                                                              const v1::AssignAccountabilityCheckRequest* req,
                                                              v1::AccountabilityCheckReply* reply) {
  return call_.Run(ctx, "AssignAccountabilityCheck", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e = StepFields(*req, "check_id", req->check_id());
    Uuid(e, "owner_person_id", req->owner_person_id());
    SM_RETURN_IF_ERROR(e.ToStatus());
    StepFacts facts;
    SM_RETURN_IF_ERROR(AddPerson(facts, req->owner_person_id()));
    return Step(call, *req, std::move(facts), reply);
  });
}

grpc::Status InspectionServiceImpl::ConcludeAccountabilityCheck(grpc::ServerContext* ctx,
                                                                const v1::ConcludeAccountabilityCheckRequest* req,
                                                                v1::AccountabilityCheckReply* reply) {
  return call_.Run(ctx, "ConcludeAccountabilityCheck", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e = StepFields(*req, "check_id", req->check_id());
    if (req->outcome() == v1::ACCOUNTABILITY_OUTCOME_UNSPECIFIED ||
        !v1::AccountabilityOutcome_IsValid(req->outcome())) {
      e.Add("outcome", "is required: NO_FAULT, TALK or REFERRED");
    }
    Length(e, "note", req->note(), 4000, true);
    const bool referred = req->outcome() == v1::ACCOUNTABILITY_OUTCOME_REFERRED;
    Uuid(e, "to_unit_id", req->to_unit_id(), referred);
    if (!referred && !req->to_unit_id().empty()) e.Add("to_unit_id", "is only for outcome REFERRED");
    for (int i = 0; i < req->categories_size(); ++i) {
      if (req->categories(i) == v1::CLUE_CATEGORY_UNSPECIFIED || !v1::ClueCategory_IsValid(req->categories(i))) {
        e.Add("categories[" + std::to_string(i) + "]", "unknown category");
      }
    }
    SM_RETURN_IF_ERROR(e.ToStatus());
    StepFacts facts;
    SM_RETURN_IF_ERROR(AddUnit(facts, req->to_unit_id()));
    return Step(call, *req, std::move(facts), reply);
  });
}

// ---- statistics, history, chains, feed ----

absl::StatusOr<std::optional<std::string>> InspectionServiceImpl::StatsScope(const auth::Principal& p,
                                                                             const std::string& asked) {
  if (!asked.empty() && !IsUuid(asked)) return InvalidField("unit_id", "must be a UUID");
  if (p.HasRole(auth::kRoleOversight) || p.HasRole(auth::kRoleDashboard)) {
    return asked.empty() ? std::optional<std::string>() : asked;
  }
  if (p.unit.empty()) return absl::PermissionDeniedError("statistics need a unit");
  if (asked.empty() || asked == p.unit) return std::optional<std::string>(p.unit);
  SM_ASSIGN_OR_RETURN(Ancestry a, AncestryOf({asked}));
  if (!AtOrAbove(p.unit, asked, a)) return absl::PermissionDeniedError("statistics of a unit outside the caller's");
  return std::optional<std::string>(asked);
}

grpc::Status InspectionServiceImpl::GetInspectionStats(grpc::ServerContext* ctx,
                                                       const v1::GetInspectionStatsRequest* req,
                                                       v1::InspectionStats* resp) {
  return call_.Run(ctx, "GetInspectionStats", [&](const server::CallInfo& call) -> absl::Status {
    if (!Reads(call.principal) && !call.principal.HasRole(auth::kRoleDashboard)) {
      return absl::PermissionDeniedError("GetInspectionStats is not open to the caller's roles");
    }
    SM_ASSIGN_OR_RETURN(std::optional<std::string> scope, StatsScope(call.principal, req->unit_id()));
    SM_ASSIGN_OR_RETURN(int64_t version, store_->StatsVersion());
    const std::string key = "inspection:stats:v" + std::to_string(version) + ":" + scope.value_or("*");
    bool computed = false;
    auto bytes = stats_cache_.Get(key, [&]() -> absl::StatusOr<std::string> {
      computed = true;
      SM_ASSIGN_OR_RETURN(v1::InspectionStats st, store_->Stats(scope));
      return st.SerializeAsString();
    });
    if (!bytes.ok()) return bytes.status();
    if (!resp->ParseFromString(*bytes)) return absl::InternalError("cached statistics unreadable");
    resp->set_from_cache(!computed);
    return absl::OkStatus();
  });
}

grpc::Status InspectionServiceImpl::GetInspectionHistory(grpc::ServerContext* ctx,
                                                         const v1::GetInspectionHistoryRequest* req,
                                                         v1::GetInspectionHistoryResponse* resp) {
  return call_.Run(ctx, "GetInspectionHistory", [&](const server::CallInfo& call) -> absl::Status {
    const auth::Principal& p = call.principal;
    SM_RETURN_IF_ERROR(GateReads(p, "GetInspectionHistory"));
    if (!IsUuid(req->aggregate_id())) return InvalidField("aggregate_id", "must be a UUID");
    // History is the inspecting unit's and oversight's: it records working steps.
    const std::string& id = req->aggregate_id();
    std::optional<v1::Inspection> in;
    if (auto got = store_->GetInspection(id); got.ok()) {
      in = *got;
    } else if (auto f = store_->GetFinding(id); f.ok()) {
      in = f->inspection;
    } else if (auto m = store_->GetMeasure(id); m.ok()) {
      in = m->inspection;
    }
    const bool template_ok = !in && store_->History(id).ok();
    if (!template_ok) {
      if (!in) return absl::NotFoundError("not found");
      SM_ASSIGN_OR_RETURN(View v, ViewOf(p, *in, "history"));
      if (v != View::kFull) return absl::PermissionDeniedError("history is the inspecting unit's");
    }
    FieldErrors e;
    const paging::SeqPage page = paging::DecodeSeqPage(*req, req->page_size(), req->page_token(), 200, 1000, e);
    SM_RETURN_IF_ERROR(e.ToStatus());
    SM_ASSIGN_OR_RETURN(auto h, store_->History(id));
    resp->set_next_page_token(paging::TakeSeqPage(h.events, page, *req, [&](const chain::Event& ev) {
      auto* out = resp->add_events();
      events::FillCommon(*out, ev);
      out->set_aggregate_id(ev.aggregate_id);
      return true;
    }));
    return absl::OkStatus();
  });
}

grpc::Status InspectionServiceImpl::VerifyInspectionChain(grpc::ServerContext* ctx,
                                                          const v1::VerifyInspectionChainRequest* req,
                                                          v1::VerifyChainResponse* resp) {
  return call_.Run(ctx, "VerifyInspectionChain", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(GateOversight(call.principal, "VerifyInspectionChain"));
    if (!IsUuid(req->aggregate_id())) return InvalidField("aggregate_id", "must be a UUID");
    SM_ASSIGN_OR_RETURN(chain::Check c, store_->VerifyChain(req->aggregate_id()));
    resp->set_intact(c.intact);
    resp->set_events(c.events);
    resp->set_first_broken_seq(c.first_broken_seq);
    resp->set_problem(c.problem);
    return absl::OkStatus();
  });
}

grpc::Status InspectionServiceImpl::VerifyAllInspectionChains(grpc::ServerContext* ctx,
                                                              const v1::VerifyAllChainsRequest*,
                                                              v1::VerifyAllInspectionChainsResponse* resp) {
  return call_.Run(ctx, "VerifyAllInspectionChains", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(GateOversight(call.principal, "VerifyAllInspectionChains"));
    SM_ASSIGN_OR_RETURN(chain::ServiceCheck c, store_->VerifyAllChains());
    chain::FillServiceCheck(
        c, resp, [](auto* r, int64_t n) { r->set_aggregates(n); },
        [](auto* b, const std::string& id) { b->set_aggregate_id(id); }, "inspection event chains");
    return absl::OkStatus();
  });
}

grpc::Status InspectionServiceImpl::ExportInspectionCheckpoints(grpc::ServerContext* ctx,
                                                                const v1::ExportCheckpointsRequest* req,
                                                                v1::ExportCheckpointsResponse* resp) {
  return call_.Run(ctx, "ExportInspectionCheckpoints", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(GateOversight(call.principal, "ExportInspectionCheckpoints"));
    return chain::ExportCheckpoints([this](int64_t after, int limit) { return store_->Checkpoints(after, limit); },
                                    *req, resp);
  });
}

grpc::Status InspectionServiceImpl::Subscribe(grpc::ServerContext* ctx, const v1::SubscribeRequest* req,
                                              grpc::ServerWriter<v1::InspectionEvent>* writer) {
  return call_.Run(ctx, "Subscribe", [&](const server::CallInfo& call) -> absl::Status {
    // The whole feed: other services (risk-service) and oversight.
    if (!call.principal.HasRole(auth::kRoleService) && !call.principal.HasRole(auth::kRoleOversight)) {
      return absl::PermissionDeniedError("Subscribe is for services and oversight");
    }
    return events::Stream<v1::InspectionEvent>(
        ctx, call.principal, clock_, req->after_cursor(), feed_hub_,
        [](v1::InspectionEvent& ev, const events::FeedEvent& f) { ev.set_aggregate_id(f.event.aggregate_id); }, writer);
  });
}

void OverdueScanner::Start(std::chrono::milliseconds interval) {
  worker_.Start(interval, [this] {
    auto n = ScanOnce();
    if (!n.ok()) log::Warn("rectification scan failed", {{"error", std::string(n.status().message())}});
  });
}

}  // namespace sm::inspection
