#include "services/audit/service.h"

#include <map>
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

namespace sm::audit {
namespace {

using validate::Length;
using validate::StepFields;
using validate::Uuid;

}  // namespace

AuditServiceImpl::AuditServiceImpl(Store* store, const auth::Verifier* verifier, const workdays::Calendar* calendar,
                                   Policy policy, const Clock& clock, redis::Client* redis, db::Listener* listener,
                                   events::HubOptions streams)
    : store_(store),
      calendar_(calendar),
      policy_(policy),
      clock_(clock),
      stats_cache_(redis, "audit_stats", std::chrono::seconds(60), /*local_entries=*/256),
      call_("AuditService", verifier),
      feed_hub_(
          "audit", [store](const events::Cursor& after, int limit) { return store->Feed(after, limit); }, listener,
          streams) {
  feed_hub_.Start();
  stats_version_refresher_.Start(std::chrono::milliseconds(100),
                                 [this] { stats_version_.Refresh([this] { return store_->StatsVersion(); }); });
}

absl::Status AuditServiceImpl::Gate(const auth::Principal& p, access::Rpc rpc) const {
  if (access::Callable(rpc, p)) return absl::OkStatus();
  log::Warn("access denied", {{"method", std::string(access::RpcName(rpc))},
                              {"user", p.user},
                              {"reason", "no role of the caller is granted this method"}});
  return absl::PermissionDeniedError(std::string(access::RpcName(rpc)) + " is not open to the caller's roles");
}

template <typename Request, typename Reply>
absl::Status AuditServiceImpl::Step(const server::CallInfo& call, const Request& req, StepFacts facts, Reply* reply) {
  const auth::Principal& p = call.principal;
  const access::Rpc rpc = RpcOf(StepRequest(req));
  const db::Idempotency::Key key = db::KeyOf(p, req.request_id(), access::RpcName(rpc), req);
  auto out = store_->Step(req, p, std::move(facts), Rules{clock_.Now(), policy_, calendar_}, key);
  if (!out.ok()) {
    Refused(p, rpc, out.status());
    return out.status();
  }
  *reply = *std::move(out);
  stats_version_.Forget();  // the next statistics read sees this change
  return absl::OkStatus();
}

void AuditServiceImpl::Refused(const auth::Principal& p, access::Rpc rpc, const absl::Status& s) const {
  if (!absl::IsNotFound(s) && !absl::IsPermissionDenied(s)) return;
  log::Warn("access denied",
            {{"method", std::string(access::RpcName(rpc))}, {"user", p.user}, {"reason", std::string(s.message())}});
}

absl::StatusOr<access::Outcome> AuditServiceImpl::Authorize(const auth::Principal& p, access::Rpc rpc,
                                                            const access::Relations& rel, std::string_view what) const {
  auto o = access::Check(rpc, p, rel, what);
  if (!o.ok())
    Refused(p, rpc,
            absl::Status(o.status().code(), std::string(o.status().message()) + " (relation " + rel.ToString() + ")"));
  return o;
}

absl::StatusOr<access::Ancestry> AuditServiceImpl::AncestryOf(const std::vector<std::string>& units) {
  access::Ancestry out;
  for (const std::string& id : units) {
    if (id.empty() || out.count(id)) continue;
    SM_ASSIGN_OR_RETURN(std::optional<UnitInfo> unit, Known(store_->Unit(id)));
    if (unit) out[id] = unit->ancestors;
  }
  return out;
}

absl::StatusOr<StepFacts> AuditServiceImpl::FactsOf(const std::string& unit_id, const std::string& person_id) {
  StepFacts facts{.new_id = NewUuid(clock_)};
  if (!unit_id.empty()) {
    SM_ASSIGN_OR_RETURN(facts.unit, Known(store_->Unit(unit_id)));
  }
  if (!person_id.empty()) {
    SM_ASSIGN_OR_RETURN(facts.person, Known(store_->Person(person_id)));
  }
  return facts;
}

absl::StatusOr<access::Relations> AuditServiceImpl::ToEngagement(const std::string& unit, const v1::Engagement& e) {
  SM_ASSIGN_OR_RETURN(access::Ancestry a, AncestryOf({e.audited_unit_id()}));
  return access::ToEngagement(unit, e, a);
}

absl::StatusOr<access::Relations> AuditServiceImpl::ToRectification(const std::string& unit, const v1::Rectification& x,
                                                                    std::map<std::string, FindingRecord>& findings) {
  auto it = findings.find(x.finding_id());
  if (it == findings.end()) {
    SM_ASSIGN_OR_RETURN(FindingRecord got, store_->GetFindingRecord(x.finding_id()));
    it = findings.emplace(x.finding_id(), std::move(got)).first;
  }
  const v1::Finding& f = it->second.finding.finding;
  SM_ASSIGN_OR_RETURN(access::Ancestry ancestry, AncestryOf({x.owner_unit_id(), f.responsible_unit_id()}));
  return access::ToRectification(unit, x, f, it->second.engagement.engagement, ancestry);
}

absl::StatusOr<AuditServiceImpl::FindingView> AuditServiceImpl::LoadFinding(const std::string& unit,
                                                                            const std::string& id) {
  SM_ASSIGN_OR_RETURN(FindingRecord r, store_->GetFindingRecord(id));
  SM_ASSIGN_OR_RETURN(access::Ancestry a, AncestryOf({r.finding.finding.responsible_unit_id()}));
  FindingView v{r.finding.finding, access::ToFinding(unit, r.finding.finding, r.engagement.engagement,
                                                     OwnsRectification(r.finding, unit), a)};
  return v;
}

absl::StatusOr<AuditServiceImpl::FindingView> AuditServiceImpl::AuthorizedFinding(const auth::Principal& p,
                                                                                  access::Rpc rpc,
                                                                                  const std::string& id) {
  SM_ASSIGN_OR_RETURN(FindingView v, LoadFinding(p.unit, id));
  SM_ASSIGN_OR_RETURN(access::Outcome o, Authorize(p, rpc, v.relations, "finding"));
  if (o == access::Outcome::kRedacted) access::Redact(v.finding);
  return v;
}

absl::StatusOr<AuditServiceImpl::Aggregate> AuditServiceImpl::LoadAggregate(const std::string& unit,
                                                                            const std::string& id) {
  Aggregate a;
  auto view = LoadFinding(unit, id);
  if (view.ok()) {
    a.finding = true;
    a.relations = view->relations;
    return a;
  }
  if (!absl::IsNotFound(view.status())) return view.status();
  auto en = store_->GetEngagement(id);
  if (absl::IsNotFound(en.status())) return absl::NotFoundError("not found");
  SM_RETURN_IF_ERROR(en.status());
  SM_ASSIGN_OR_RETURN(a.relations, ToEngagement(unit, *en));
  return a;
}

absl::Status AuditServiceImpl::ScopeStats(const auth::Principal& p, const v1::GetAuditStatsRequest& req,
                                          v1::GetAuditStatsRequest* scoped) {
  *scoped = req;
  if (!req.unit_id().empty() && !IsUuid(req.unit_id())) return InvalidField("unit_id", "must be a UUID");
  // Who may see every unit (an unrelated scope) keeps "all units" as asked.
  if (access::Decide(access::Rpc::kGetAuditStats, p, {access::Relation::kUnrelated}) == access::Outcome::kAllow) {
    return absl::OkStatus();
  }
  std::string organisation;  // the one the caller's unit belongs to
  if (!p.unit.empty()) {
    auto mine = store_->Unit(p.unit);
    if (mine.ok() && !mine->ancestors.empty()) organisation = mine->ancestors.back();
  }
  scoped->set_unit_id(access::StatsScope(p, req.unit_id(), organisation));
  access::Ancestry a;
  if (IsUuid(scoped->unit_id())) {
    SM_ASSIGN_OR_RETURN(a, AncestryOf({scoped->unit_id()}));
  }
  return Authorize(p, access::Rpc::kGetAuditStats, access::ToStatsScope(p, scoped->unit_id(), organisation, a), "unit")
      .status();
}

grpc::Status AuditServiceImpl::CreateEngagement(grpc::ServerContext* ctx, const v1::CreateEngagementRequest* req,
                                                v1::EngagementReply* reply) {
  return call_.Run(ctx, "CreateEngagement", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(Gate(call.principal, access::Rpc::kCreateEngagement));
    FieldErrors e;
    validate::RequestId(e, req->request_id());
    if (req->kind() == v1::ENGAGEMENT_KIND_UNSPECIFIED || !v1::EngagementKind_IsValid(req->kind())) {
      e.Add("kind", "is required: one of the engagement kinds");
    }
    Length(e, "title", req->title(), 200, true);
    Uuid(e, "audit_unit_id", req->audit_unit_id());
    Uuid(e, "audited_unit_id", req->audited_unit_id());
    Uuid(e, "audited_person_id", req->audited_person_id(), req->kind() == v1::ENGAGEMENT_KIND_ECONOMIC_RESPONSIBILITY);
    auto from = workdays::ParseDate(req->period_from());
    auto to = workdays::ParseDate(req->period_to());
    if (!from.ok()) e.Add("period_from", "must be a date YYYY-MM-DD");
    if (!to.ok()) e.Add("period_to", "must be a date YYYY-MM-DD");
    if (from.ok() && to.ok() && *to < *from) e.Add("period_to", "is before period_from");
    if (req->kind() == v1::ENGAGEMENT_KIND_IT_PROJECT && req->it_stage() == v1::IT_STAGE_UNSPECIFIED) {
      e.Add("it_stage", "is required for an IT-project audit (before procurement, before contract, final accounts)");
    }
    if (!v1::ItStage_IsValid(req->it_stage())) e.Add("it_stage", "unknown stage");
    SM_RETURN_IF_ERROR(e.ToStatus());
    SM_ASSIGN_OR_RETURN(StepFacts facts, FactsOf(req->audited_unit_id(), req->audited_person_id()));
    return Step(call, *req, std::move(facts), reply);
  });
}

grpc::Status AuditServiceImpl::AdvanceEngagement(grpc::ServerContext* ctx, const v1::AdvanceEngagementRequest* req,
                                                 v1::EngagementReply* reply) {
  return call_.Run(ctx, "AdvanceEngagement", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(Gate(call.principal, access::Rpc::kAdvanceEngagement));
    FieldErrors e = StepFields(*req, "engagement_id", req->engagement_id());
    if (req->to() == v1::ENGAGEMENT_STATE_UNSPECIFIED || !v1::EngagementState_IsValid(req->to()))
      e.Add("to", "unknown state");
    SM_RETURN_IF_ERROR(e.ToStatus());
    return Step(call, *req, {}, reply);
  });
}

grpc::Status AuditServiceImpl::GetEngagement(grpc::ServerContext* ctx, const v1::GetEngagementRequest* req,
                                             v1::Engagement* resp) {
  return call_.Run(ctx, "GetEngagement", [&](const server::CallInfo& call) -> absl::Status {
    const auth::Principal& p = call.principal;
    SM_RETURN_IF_ERROR(Gate(p, access::Rpc::kGetEngagement));
    if (!IsUuid(req->engagement_id())) return InvalidField("engagement_id", "must be a UUID");
    SM_ASSIGN_OR_RETURN(v1::Engagement en, store_->GetEngagement(req->engagement_id()));
    // An engagement carries no referral: a redacted view of it is the whole of it.
    SM_ASSIGN_OR_RETURN(access::Relations rel, ToEngagement(p.unit, en));
    SM_RETURN_IF_ERROR(Authorize(p, access::Rpc::kGetEngagement, rel, "engagement").status());
    *resp = std::move(en);
    return absl::OkStatus();
  });
}

grpc::Status AuditServiceImpl::ListEngagements(grpc::ServerContext* ctx, const v1::ListEngagementsRequest* req,
                                               v1::ListEngagementsResponse* resp) {
  return call_.Run(ctx, "ListEngagements", [&](const server::CallInfo& call) -> absl::Status {
    const auth::Principal& p = call.principal;
    SM_RETURN_IF_ERROR(Gate(p, access::Rpc::kListEngagements));
    FieldErrors e;
    Uuid(e, "audited_unit_id", req->audited_unit_id(), false);
    auto size = paging::PageSize(req->page_size(), 50, 500);
    for (const auto& v : FieldViolations(size.status())) e.Add(v.field, v.description);
    const std::string fp = paging::FilterFingerprint(*req);
    std::optional<paging::TimeId> after = paging::DecodeTimeId(req->page_token(), fp, e);
    SM_RETURN_IF_ERROR(e.ToStatus());
    // The store narrows to the caller's unit's engagements unless the caller sees every one;
    // each row is then decided by the table (a page can come out short).
    const std::optional<std::string> visible = access::NarrowTo(access::Rpc::kListEngagements, p);
    const int page = size.ok() ? *size : 50;
    SM_ASSIGN_OR_RETURN(auto rows, store_->ListEngagements(*req, visible, after, page + 1));
    std::vector<std::string> units;
    for (const auto& r : rows) units.push_back(r.audited_unit_id());
    SM_ASSIGN_OR_RETURN(access::Ancestry ancestry, AncestryOf(units));
    resp->set_next_page_token(paging::TakePage(
        rows, page,
        [&](v1::Engagement& r) {
          const access::Outcome o =
              access::Decide(access::Rpc::kListEngagements, p, access::ToEngagement(p.unit, r, ancestry));
          if (o == access::Outcome::kAllow || o == access::Outcome::kRedacted) *resp->add_engagements() = std::move(r);
        },
        [&](const v1::Engagement& last) {
          return paging::EncodeTimeId({db::Micros(last.created_at()), last.id()}, fp);
        }));
    return absl::OkStatus();
  });
}

grpc::Status AuditServiceImpl::AddFinding(grpc::ServerContext* ctx, const v1::AddFindingRequest* req,
                                          v1::FindingReply* reply) {
  return call_.Run(ctx, "AddFinding", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(Gate(call.principal, access::Rpc::kAddFinding));
    FieldErrors e = StepFields(*req, "engagement_id", req->engagement_id());
    Length(e, "title", req->title(), 200, true);
    Length(e, "description", req->description(), 10000, true);
    if (req->category() == v1::FINDING_CATEGORY_UNSPECIFIED || !v1::FindingCategory_IsValid(req->category())) {
      e.Add("category", "is required: one of the finding categories");
    }
    if (req->amount_fen() < 0) e.Add("amount_fen", "must not be negative (integer fen)");
    if (!v1::Severity_IsValid(req->severity())) e.Add("severity", "unknown severity");
    Uuid(e, "responsible_unit_id", req->responsible_unit_id());
    Uuid(e, "responsible_person_id", req->responsible_person_id(), false);
    validate::DistinctTexts(e, "evidence_refs", req->evidence_refs(), 50, 200);
    SM_RETURN_IF_ERROR(e.ToStatus());
    SM_ASSIGN_OR_RETURN(StepFacts facts, FactsOf(req->responsible_unit_id(), req->responsible_person_id()));
    return Step(call, *req, std::move(facts), reply);
  });
}

grpc::Status AuditServiceImpl::GetFinding(grpc::ServerContext* ctx, const v1::GetFindingRequest* req,
                                          v1::Finding* resp) {
  return call_.Run(ctx, "GetFinding", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(Gate(call.principal, access::Rpc::kGetFinding));
    if (!IsUuid(req->finding_id())) return InvalidField("finding_id", "must be a UUID");
    SM_ASSIGN_OR_RETURN(FindingView v, AuthorizedFinding(call.principal, access::Rpc::kGetFinding, req->finding_id()));
    *resp = std::move(v.finding);
    return absl::OkStatus();
  });
}

grpc::Status AuditServiceImpl::ListFindings(grpc::ServerContext* ctx, const v1::ListFindingsRequest* req,
                                            v1::ListFindingsResponse* resp) {
  return call_.Run(ctx, "ListFindings", [&](const server::CallInfo& call) -> absl::Status {
    const auth::Principal& p = call.principal;
    SM_RETURN_IF_ERROR(Gate(p, access::Rpc::kListFindings));
    FieldErrors e;
    Uuid(e, "engagement_id", req->engagement_id(), false);
    Uuid(e, "responsible_unit_id", req->responsible_unit_id(), false);
    Uuid(e, "responsible_person_id", req->responsible_person_id(), false);
    if (!v1::FindingCategory_IsValid(req->category())) e.Add("category", "unknown category");
    auto size = paging::PageSize(req->page_size(), 50, 500);
    for (const auto& v : FieldViolations(size.status())) e.Add(v.field, v.description);
    const std::string fp = paging::FilterFingerprint(*req);
    std::optional<paging::TimeId> after = paging::DecodeTimeId(req->page_token(), fp, e);
    SM_RETURN_IF_ERROR(e.ToStatus());
    // The store narrows to findings the caller's unit stands in some relation to unless the
    // caller sees every one; each row is then decided by the table (a page can come out
    // short). A redacted row shows no referral, so "referred only" does not list it.
    const std::optional<std::string> visible = access::NarrowTo(access::Rpc::kListFindings, p);
    const int page = size.ok() ? *size : 50;
    SM_ASSIGN_OR_RETURN(auto rows, store_->ListFindings(*req, visible, after, page + 1));
    std::set<std::string> owned;  // findings with a rectification the caller's unit owns
    if (!p.unit.empty()) {
      v1::ListRectificationsRequest q;
      q.set_owner_unit_id(p.unit);
      SM_ASSIGN_OR_RETURN(auto mine, store_->ListRectifications(q, std::nullopt, std::nullopt, 1000));
      for (const auto& x : mine) owned.insert(x.finding_id());
    }
    std::map<std::string, v1::Engagement> engagements;
    std::vector<std::string> units;
    for (const auto& r : rows) units.push_back(r.responsible_unit_id());
    SM_ASSIGN_OR_RETURN(access::Ancestry ancestry, AncestryOf(units));
    absl::Status row_error;
    resp->set_next_page_token(paging::TakePage(
        rows, page,
        [&](v1::Finding& r) {
          auto en = engagements.find(r.engagement_id());
          if (en == engagements.end()) {
            auto got = store_->GetEngagement(r.engagement_id());
            if (!got.ok()) {
              row_error.Update(got.status());
              return;
            }
            en = engagements.emplace(r.engagement_id(), *std::move(got)).first;
          }
          const access::Outcome o =
              access::Decide(access::Rpc::kListFindings, p,
                             access::ToFinding(p.unit, r, en->second, owned.count(r.id()) > 0, ancestry));
          if (o == access::Outcome::kRedacted) {
            if (req->referred_only()) return;
            access::Redact(r);
          } else if (o != access::Outcome::kAllow) {
            return;
          }
          *resp->add_findings() = std::move(r);
        },
        [&](const v1::Finding& last) {
          return paging::EncodeTimeId({db::Micros(last.created_at()), last.id()}, fp);
        }));
    SM_RETURN_IF_ERROR(row_error);
    return absl::OkStatus();
  });
}

grpc::Status AuditServiceImpl::ReferFinding(grpc::ServerContext* ctx, const v1::ReferFindingRequest* req,
                                            v1::FindingReply* reply) {
  return call_.Run(ctx, "ReferFinding", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(Gate(call.principal, access::Rpc::kReferFinding));
    FieldErrors e = StepFields(*req, "finding_id", req->finding_id());
    Uuid(e, "to_unit_id", req->to_unit_id());
    if (req->categories_size() > v1::ClueCategory_MAX)
      e.Add("categories", "at most " + std::to_string(v1::ClueCategory_MAX));
    std::set<int> categories_seen;
    for (int i = 0; i < req->categories_size(); ++i) {
      if (req->categories(i) == v1::CLUE_CATEGORY_UNSPECIFIED || !v1::ClueCategory_IsValid(req->categories(i))) {
        e.Add("categories[" + std::to_string(i) + "]", "unknown category");
      } else if (!categories_seen.insert(req->categories(i)).second) {
        e.Add("categories[" + std::to_string(i) + "]", "repeats a category");
      }
    }
    Length(e, "summary", req->summary(), 500, false);
    SM_RETURN_IF_ERROR(e.ToStatus());
    SM_ASSIGN_OR_RETURN(StepFacts facts, FactsOf(req->to_unit_id(), ""));
    return Step(call, *req, std::move(facts), reply);
  });
}

grpc::Status AuditServiceImpl::RetryReferral(grpc::ServerContext* ctx, const v1::RetryReferralRequest* req,
                                             v1::FindingReply* reply) {
  return call_.Run(ctx, "RetryReferral", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(Gate(call.principal, access::Rpc::kRetryReferral));
    FieldErrors e = StepFields(*req, "finding_id", req->finding_id());
    Length(e, "reason", req->reason(), 1000, true);
    SM_RETURN_IF_ERROR(e.ToStatus());
    return Step(call, *req, {}, reply);
  });
}

grpc::Status AuditServiceImpl::AddRectification(grpc::ServerContext* ctx, const v1::AddRectificationRequest* req,
                                                v1::RectificationReply* reply) {
  return call_.Run(ctx, "AddRectification", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(Gate(call.principal, access::Rpc::kAddRectification));
    SM_RETURN_IF_ERROR(rectification::Validate(*req));
    // Without an owner, the finding's responsible unit owns it: the store reads it in the step.
    SM_ASSIGN_OR_RETURN(StepFacts facts, FactsOf(req->owner_unit_id(), ""));
    return Step(call, *req, std::move(facts), reply);
  });
}

// The other rectification steps: the shared field checks, then one walk.
template <typename Request>
grpc::Status AuditServiceImpl::RectificationStep(grpc::ServerContext* ctx, const Request& req,
                                                 v1::RectificationReply* reply) {
  const access::Rpc rpc = RpcOf(StepRequest(req));
  return call_.Run(ctx, access::RpcName(rpc), [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(Gate(call.principal, rpc));
    SM_RETURN_IF_ERROR(rectification::Validate(req));
    return Step(call, req, {}, reply);
  });
}

grpc::Status AuditServiceImpl::RecordProgress(grpc::ServerContext* ctx, const v1::RecordProgressRequest* req,
                                              v1::RectificationReply* reply) {
  return RectificationStep(ctx, *req, reply);
}

grpc::Status AuditServiceImpl::SubmitRectification(grpc::ServerContext* ctx, const v1::SubmitRectificationRequest* req,
                                                   v1::RectificationReply* reply) {
  return RectificationStep(ctx, *req, reply);
}

grpc::Status AuditServiceImpl::ReviewRectification(grpc::ServerContext* ctx, const v1::ReviewRectificationRequest* req,
                                                   v1::RectificationReply* reply) {
  return RectificationStep(ctx, *req, reply);
}

grpc::Status AuditServiceImpl::ReopenRectification(grpc::ServerContext* ctx, const v1::ReopenRectificationRequest* req,
                                                   v1::RectificationReply* reply) {
  return RectificationStep(ctx, *req, reply);
}

grpc::Status AuditServiceImpl::ListRectifications(grpc::ServerContext* ctx, const v1::ListRectificationsRequest* req,
                                                  v1::ListRectificationsResponse* resp) {
  return call_.Run(ctx, "ListRectifications", [&](const server::CallInfo& call) -> absl::Status {
    const auth::Principal& p = call.principal;
    SM_RETURN_IF_ERROR(Gate(p, access::Rpc::kListRectifications));
    SM_ASSIGN_OR_RETURN(rectification::ListPage page, rectification::ReadList(*req));
    // The store narrows to the caller's unit's rectifications unless the caller sees every
    // one; each row is then decided by the table (a page can come out short).
    const std::optional<std::string> visible = access::NarrowTo(access::Rpc::kListRectifications, p);
    SM_ASSIGN_OR_RETURN(auto rows, store_->ListRectifications(*req, visible, page.after, page.size + 1));
    std::map<std::string, FindingRecord> findings;  // each finding with its engagement, read once
    absl::Status row_error;
    resp->set_next_page_token(paging::TakePage(
        rows, page.size,
        [&](v1::Rectification& r) {
          if (!row_error.ok()) return;
          auto rel = ToRectification(p.unit, r, findings);
          if (!rel.ok()) {
            row_error = rel.status();
            return;
          }
          const access::Outcome o = access::Decide(access::Rpc::kListRectifications, p, *rel);
          if (o == access::Outcome::kAllow || o == access::Outcome::kRedacted)
            *resp->add_rectifications() = std::move(r);
        },
        [&](const v1::Rectification& last) { return rectification::NextPageToken(page, last); }));
    return row_error;
  });
}

grpc::Status AuditServiceImpl::GetRectification(grpc::ServerContext* ctx, const v1::GetRectificationRequest* req,
                                                v1::Rectification* resp) {
  return call_.Run(ctx, "GetRectification", [&](const server::CallInfo& call) -> absl::Status {
    const auth::Principal& p = call.principal;
    SM_RETURN_IF_ERROR(Gate(p, access::Rpc::kGetRectification));
    SM_RETURN_IF_ERROR(rectification::Validate(*req));
    SM_ASSIGN_OR_RETURN(v1::Rectification x, store_->GetRectification(req->rectification_id()));
    std::map<std::string, FindingRecord> findings;
    SM_ASSIGN_OR_RETURN(access::Relations rel, ToRectification(p.unit, x, findings));
    // A rectification carries no referral: a redacted view of it is the whole of it.
    SM_RETURN_IF_ERROR(Authorize(p, access::Rpc::kGetRectification, rel, "rectification").status());
    *resp = std::move(x);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AuditServiceImpl::GetAuditStats(grpc::CallbackServerContext* ctx,
                                                          const v1::GetAuditStatsRequest* req, v1::AuditStats* resp) {
  auto body = [this, req, resp](const server::CallInfo& call, server::Call::Later* later) -> absl::Status {
    const auth::Principal& p = call.principal;
    SM_RETURN_IF_ERROR(Gate(p, access::Rpc::kGetAuditStats));
    // The scope the caller may see (directory look-ups kept in memory; the directory
    // generation is re-read at most every 250 ms).
    v1::GetAuditStatsRequest scoped;
    SM_RETURN_IF_ERROR(ScopeStats(p, *req, &scoped));
    if (!scoped.unit_id().empty() && !IsUuid(scoped.unit_id())) return InvalidField("unit_id", "must be a UUID");
    std::optional<std::string> scope;
    if (!scoped.unit_id().empty()) scope = scoped.unit_id();
    auto key = [scope](int64_t version) {
      return "audit:stats:v" + std::to_string(version) + ":" + scope.value_or("*");
    };
    // On this callback thread only what needs no I/O: a version and answer held in memory.
    if (std::optional<int64_t> version = stats_version_.Held()) {
      if (std::optional<std::string> bytes = stats_cache_.Peek(key(*version))) {
        if (!resp->ParseFromString(*bytes)) return absl::InternalError("cached statistics unreadable");
        resp->set_from_cache(true);
        return absl::OkStatus();
      }
    }
    *later = [this, scope, key, resp]() -> absl::Status {
      SM_ASSIGN_OR_RETURN(int64_t version, stats_version_.GetHeld([this] { return store_->StatsVersion(); }));
      bool computed = false;
      auto bytes = stats_cache_.Get(key(version), [&]() -> absl::StatusOr<std::string> {
        computed = true;
        SM_ASSIGN_OR_RETURN(v1::AuditStats st, store_->Stats(scope));
        return st.SerializeAsString();
      });
      if (!bytes.ok()) return bytes.status();
      if (!resp->ParseFromString(*bytes)) return absl::InternalError("cached statistics unreadable");
      resp->set_from_cache(!computed);
      return absl::OkStatus();
    };
    return absl::OkStatus();
  };
  return call_.RunUnary(ctx, "GetAuditStats", body, &stats_workers_);
}

grpc::Status AuditServiceImpl::GetAuditHistory(grpc::ServerContext* ctx, const v1::GetAuditHistoryRequest* req,
                                               v1::GetAuditHistoryResponse* resp) {
  return call_.Run(ctx, "GetAuditHistory", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(Gate(call.principal, access::Rpc::kGetAuditHistory));
    if (!IsUuid(req->aggregate_id())) return InvalidField("aggregate_id", "must be a UUID");
    SM_ASSIGN_OR_RETURN(Aggregate a, LoadAggregate(call.principal.unit, req->aggregate_id()));
    SM_ASSIGN_OR_RETURN(access::Outcome o, Authorize(call.principal, access::Rpc::kGetAuditHistory, a.relations,
                                                     a.finding ? "finding" : "engagement"));
    FieldErrors e;
    const paging::SeqPage page = paging::DecodeSeqPage(*req, req->page_size(), req->page_token(), 200, 1000, e);
    SM_RETURN_IF_ERROR(e.ToStatus());
    SM_ASSIGN_OR_RETURN(auto h, store_->History(req->aggregate_id()));
    resp->set_next_page_token(paging::TakeSeqPage(h.events, page, *req, [&](const chain::Event& ev) {
      if (o == access::Outcome::kRedacted && access::IsReferralEvent(ev.type)) return false;
      auto* out = resp->add_events();
      events::FillCommon(*out, ev);
      out->set_aggregate_id(ev.aggregate_id);
      return true;
    }));
    return absl::OkStatus();
  });
}

grpc::Status AuditServiceImpl::VerifyAuditChain(grpc::ServerContext* ctx, const v1::VerifyAuditChainRequest* req,
                                                v1::VerifyChainResponse* resp) {
  return call_.Run(ctx, "VerifyAuditChain", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(Gate(call.principal, access::Rpc::kVerifyAuditChain));
    if (!IsUuid(req->aggregate_id())) return InvalidField("aggregate_id", "must be a UUID");
    SM_ASSIGN_OR_RETURN(Aggregate a, LoadAggregate(call.principal.unit, req->aggregate_id()));
    SM_RETURN_IF_ERROR(
        Authorize(call.principal, access::Rpc::kVerifyAuditChain, a.relations, a.finding ? "finding" : "engagement")
            .status());
    SM_ASSIGN_OR_RETURN(chain::Check c, store_->VerifyChain(req->aggregate_id()));
    chain::FillCheck(c, resp);
    return absl::OkStatus();
  });
}

grpc::Status AuditServiceImpl::VerifyAllAuditChains(grpc::ServerContext* ctx, const v1::VerifyAllChainsRequest*,
                                                    v1::VerifyAllAuditChainsResponse* resp) {
  return call_.Run(ctx, "VerifyAllAuditChains", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(Gate(call.principal, access::Rpc::kVerifyAllAuditChains));
    SM_RETURN_IF_ERROR(Authorize(call.principal, access::Rpc::kVerifyAllAuditChains, {}, "chains").status());
    SM_ASSIGN_OR_RETURN(chain::ServiceCheck c, store_->VerifyAllChains());
    chain::FillServiceCheck(
        c, resp, [](auto* r, int64_t n) { r->set_aggregates(n); },
        [](auto* b, const std::string& id) { b->set_aggregate_id(id); }, "audit event chains");
    return absl::OkStatus();
  });
}

grpc::Status AuditServiceImpl::ExportAuditCheckpoints(grpc::ServerContext* ctx, const v1::ExportCheckpointsRequest* req,
                                                      v1::ExportCheckpointsResponse* resp) {
  return call_.Run(ctx, "ExportAuditCheckpoints", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(Gate(call.principal, access::Rpc::kExportAuditCheckpoints));
    SM_RETURN_IF_ERROR(Authorize(call.principal, access::Rpc::kExportAuditCheckpoints, {}, "checkpoints").status());
    return chain::ExportCheckpoints([this](int64_t after, int limit) { return store_->Checkpoints(after, limit); },
                                    *req, resp);
  });
}

grpc::Status AuditServiceImpl::Subscribe(grpc::ServerContext* ctx, const v1::SubscribeRequest* req,
                                         grpc::ServerWriter<v1::AuditEvent>* writer) {
  return call_.Run(ctx, "Subscribe", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(Gate(call.principal, access::Rpc::kSubscribe));
    SM_RETURN_IF_ERROR(Authorize(call.principal, access::Rpc::kSubscribe, {}, "feed").status());
    return events::Stream<v1::AuditEvent>(
        ctx, call.principal, clock_, req->after_cursor(), feed_hub_,
        [](v1::AuditEvent& ev, const events::FeedEvent& f) { ev.set_aggregate_id(f.event.aggregate_id); }, writer);
  });
}

}  // namespace sm::audit
