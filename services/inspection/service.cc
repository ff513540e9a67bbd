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
#include "services/inspection/handler_util.h"

namespace sm::inspection {
namespace {

using validate::Length;
using validate::StepFields;
using validate::Uuid;

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

// ---- rectification (shared checks and rules) ----

grpc::Status InspectionServiceImpl::AddRectification(grpc::ServerContext* ctx, const v1::AddRectificationRequest* req,
                                                     v1::RectificationReply* reply) {
  return call_.Run(ctx, "AddRectification", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(rectification::Validate(*req));
    StepFacts facts;
    // Without an owner the finding's subject unit owns it: the store reads it in the step.
    SM_RETURN_IF_ERROR(AddUnit(facts, req->owner_unit_id()));
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

}  // namespace sm::inspection
