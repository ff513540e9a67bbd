// gRPC handlers of InspectionService that read: templates, inspections (working notes
// removed for the inspected units), findings, measures, rectifications, accountability
// checks, statistics, history, chain verification, checkpoint export and the feed. Every
// item is shown or refused by the caller's view of it (workflow.h).
#include <map>

#include "common/chain_guard.h"
#include "common/db/sql.h"
#include "common/event_stream.h"
#include "common/log.h"
#include "common/paging.h"
#include "common/rectification_request.h"
#include "common/status.h"
#include "common/uuid.h"
#include "common/validate.h"
#include "services/inspection/handler_util.h"
#include "services/inspection/service.h"

namespace sm::inspection {

using validate::Length;
using validate::Uuid;

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
    Uuid(e, "subject_person_id", req->subject_person_id(), false);
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
    // History is the inspecting unit's and oversight's (it records working steps); a check's
    // is for whoever sees the check; a template's for every reader.
    const std::string& id = req->aggregate_id();
    SM_ASSIGN_OR_RETURN(std::string kind, store_->KindOf(id));
    if (kind == "check") {
      SM_ASSIGN_OR_RETURN(v1::AccountabilityCheck k, store_->GetCheck(id));
      SM_ASSIGN_OR_RETURN(Ancestry a, AncestryOf({k.owner_unit_id(), p.unit}));
      if (!MaySeeCheck(p, k, a)) return absl::NotFoundError("not found");
    } else if (kind != "template") {
      v1::Inspection in;
      if (kind == "inspection") {
        SM_ASSIGN_OR_RETURN(in, store_->GetInspection(id));
      } else if (kind == "finding") {
        SM_ASSIGN_OR_RETURN(auto f, store_->GetFinding(id));
        in = std::move(f.inspection);
      } else {
        SM_ASSIGN_OR_RETURN(auto m, store_->GetMeasure(id));
        in = std::move(m.inspection);
      }
      SM_ASSIGN_OR_RETURN(View v, ViewOf(p, in, "history"));
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
    SM_RETURN_IF_ERROR(auth::RequireOversight(call.principal, "VerifyInspectionChain"));
    if (!IsUuid(req->aggregate_id())) return InvalidField("aggregate_id", "must be a UUID");
    SM_ASSIGN_OR_RETURN(chain::Check c, store_->VerifyChain(req->aggregate_id()));
    chain::FillCheck(c, resp);
    return absl::OkStatus();
  });
}

grpc::Status InspectionServiceImpl::VerifyAllInspectionChains(grpc::ServerContext* ctx,
                                                              const v1::VerifyAllChainsRequest*,
                                                              v1::VerifyAllInspectionChainsResponse* resp) {
  return call_.Run(ctx, "VerifyAllInspectionChains", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(auth::RequireOversight(call.principal, "VerifyAllInspectionChains"));
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
    SM_RETURN_IF_ERROR(auth::RequireOversight(call.principal, "ExportInspectionCheckpoints"));
    return chain::ExportCheckpoints([this](int64_t after, int limit) { return store_->Checkpoints(after, limit); },
                                    *req, resp);
  });
}

grpc::Status InspectionServiceImpl::Subscribe(grpc::ServerContext* ctx, const v1::SubscribeRequest* req,
                                              grpc::ServerWriter<v1::InspectionEvent>* writer) {
  return call_.Run(ctx, "Subscribe", [&](const server::CallInfo& call) -> absl::Status {
    // The whole feed: other services (risk-service) and oversight.
    return events::StreamWhole<v1::InspectionEvent>(ctx, call.principal, clock_, req->after_cursor(), feed_hub_,
                                                    writer);
  });
}

}  // namespace sm::inspection
