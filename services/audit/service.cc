#include "services/audit/service.h"

#include <algorithm>
#include <map>
#include <set>

#include "common/chain_guard.h"
#include "common/db/idempotency.h"

#include "common/client.h"
#include "common/crypto.h"
#include "common/log.h"
#include "common/paging.h"
#include "common/status.h"
#include "common/uuid.h"
#include "common/validate.h"
#include "common/event_stream.h"
#include "common/db/sql.h"

namespace sm::audit {
namespace {

using validate::Length;
using validate::Uuid;
using validate::Version;
std::string Fingerprint(const google::protobuf::Message& m) { return crypto::Sha256Hex(m.SerializeAsString()); }
TimePoint FromTs(const google::protobuf::Timestamp& t) { return FromUnixSeconds(t.seconds()); }
Mutation Mut(const server::CallInfo& call, const std::string& method, const google::protobuf::Message& req,
             const std::string& request_id, int64_t expected_version) {
  return Mutation{db::CallerKey(call.principal, request_id), method, Fingerprint(req), expected_version,
                  Actor{call.principal.EndUser(), call.principal.unit}};
}

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
      feed_hub_("audit", [store](const events::Cursor& after, int limit) { return store->Feed(after, limit); },
                listener, streams) {
  feed_hub_.Start();
  stats_version_refresher_.Start(std::chrono::milliseconds(100), [this] {
    stats_version_.Refresh([this] { return store_->StatsVersion(); });
  });
}

absl::Status AuditServiceImpl::Gate(const auth::Principal& p, access::Rpc rpc) const {
  if (access::Callable(rpc, p)) return absl::OkStatus();
  log::Warn("access denied", {{"method", std::string(access::RpcName(rpc))},
                              {"user", p.user},
                              {"reason", "no role of the caller is granted this method"}});
  return absl::PermissionDeniedError(std::string(access::RpcName(rpc)) + " is not open to the caller's roles");
}

absl::StatusOr<access::Outcome> AuditServiceImpl::Authorize(const auth::Principal& p, access::Rpc rpc,
                                                            const access::Relations& rel, std::string_view what) const {
  const access::Outcome o = access::Decide(rpc, p, rel);
  if (o == access::Outcome::kAllow || o == access::Outcome::kRedacted) return o;
  log::Warn("access denied", {{"method", std::string(access::RpcName(rpc))},
                              {"user", p.user},
                              {"reason", std::string(access::OutcomeName(o)) + " for relation " + rel.ToString()}});
  if (o == access::Outcome::kNotFound) return absl::NotFoundError(std::string(what) + " not found");
  return absl::PermissionDeniedError("not permitted to " + std::string(access::RpcName(rpc)) + " this " +
                                     std::string(what));
}

bool AuditServiceImpl::Above(const std::string& unit, const std::string& of) {
  if (unit.empty() || of.empty()) return false;
  auto info = store_->Unit(of);
  if (!info.ok()) return false;
  return std::find(info->ancestors.begin(), info->ancestors.end(), unit) != info->ancestors.end();
}

access::Relations AuditServiceImpl::ToEngagement(const std::string& unit, const v1::Engagement& e) {
  access::Relations r;
  if (unit.empty()) return r;
  if (unit == e.audit_unit_id()) r.Add(access::Relation::kAuditUnit);
  if (unit == e.audited_unit_id()) r.Add(access::Relation::kAudited);
  if (Above(unit, e.audited_unit_id())) r.Add(access::Relation::kParent);
  return r;
}

access::Relations AuditServiceImpl::ToFinding(const std::string& unit, const v1::Finding& f, const v1::Engagement& e,
                                              bool owns_rectification) {
  access::Relations r;
  if (unit.empty()) return r;
  if (unit == e.audit_unit_id()) r.Add(access::Relation::kAuditUnit);
  if (unit == f.responsible_unit_id()) r.Add(access::Relation::kAudited);
  if (owns_rectification) r.Add(access::Relation::kOwner);
  if (f.referral().state() != v1::REFERRAL_STATE_UNSPECIFIED && unit == f.referral().to_unit_id()) {
    r.Add(access::Relation::kReferredTo);
  }
  if (Above(unit, f.responsible_unit_id())) r.Add(access::Relation::kParent);
  return r;
}

access::Relations AuditServiceImpl::ToRectification(const std::string& unit, const v1::Rectification& x,
                                                    const v1::Finding& f, const v1::Engagement& e) {
  access::Relations r;
  if (unit.empty()) return r;
  if (unit == e.audit_unit_id()) r.Add(access::Relation::kAuditUnit);
  if (unit == f.responsible_unit_id()) r.Add(access::Relation::kAudited);
  if (unit == x.owner_unit_id()) r.Add(access::Relation::kOwner);
  if (f.referral().state() != v1::REFERRAL_STATE_UNSPECIFIED && unit == f.referral().to_unit_id()) {
    r.Add(access::Relation::kReferredTo);
  }
  if (Above(unit, x.owner_unit_id()) || Above(unit, f.responsible_unit_id())) r.Add(access::Relation::kParent);
  return r;
}

bool AuditServiceImpl::OwnsRectification(const std::string& unit, const std::string& finding_id) {
  if (unit.empty()) return false;
  v1::ListRectificationsRequest q;
  q.set_finding_id(finding_id);
  q.set_owner_unit_id(unit);
  auto rows = store_->ListRectifications(q, std::nullopt);
  return rows.ok() && !rows->empty();
}

absl::StatusOr<AuditServiceImpl::FindingView> AuditServiceImpl::LoadFinding(const std::string& unit,
                                                                            const std::string& id) {
  FindingView v;
  SM_ASSIGN_OR_RETURN(v.finding, store_->GetFinding(id));
  SM_ASSIGN_OR_RETURN(v.engagement, store_->GetEngagement(v.finding.engagement_id()));
  v.relations = ToFinding(unit, v.finding, v.engagement, OwnsRectification(unit, id));
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
  a.relations = ToEngagement(unit, *en);
  return a;
}

absl::Status AuditServiceImpl::ScopeStats(const auth::Principal& p, const v1::GetAuditStatsRequest& req,
                                          v1::GetAuditStatsRequest* scoped) {
  using access::Relation;
  *scoped = req;
  if (!req.unit_id().empty() && !IsUuid(req.unit_id())) return InvalidField("unit_id", "must be a UUID");
  // Who may see every unit (an unrelated scope) keeps "all units" as asked.
  if (access::Decide(access::Rpc::kGetAuditStats, p, {Relation::kUnrelated}) == access::Outcome::kAllow) {
    return absl::OkStatus();
  }
  std::string parent;  // the organisation the caller's unit belongs to
  if (!p.unit.empty()) {
    auto mine = store_->Unit(p.unit);
    if (mine.ok() && !mine->ancestors.empty()) parent = mine->ancestors.back();
  }
  if (scoped->unit_id().empty()) {
    // Default: the widest scope the caller's roles give: the organisation (audit office's
    // jurisdiction) when granted, else the caller's own unit.
    const bool jurisdiction = !parent.empty() && access::Decide(access::Rpc::kGetAuditStats, p,
                                                                {Relation::kAuditUnit}) == access::Outcome::kAllow;
    scoped->set_unit_id(jurisdiction ? parent : p.unit);
  }
  const std::string& s = scoped->unit_id();
  access::Relations rel;
  if (!p.unit.empty() && IsUuid(s)) {
    if (s == p.unit) rel.Add(Relation::kAudited);
    if (Above(p.unit, s)) rel.Add(Relation::kParent);
    if (!parent.empty() && (s == parent || Above(parent, s))) rel.Add(Relation::kAuditUnit);
  }
  return Authorize(p, access::Rpc::kGetAuditStats, rel, "unit").status();
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
    // The audit unit opens engagements in its own name only.
    access::Relations own;
    if (!call.principal.unit.empty() && call.principal.unit == req->audit_unit_id()) own.Add(access::Relation::kAuditUnit);
    SM_RETURN_IF_ERROR(Authorize(call.principal, access::Rpc::kCreateEngagement, own, "audit unit").status());
    auto audited = store_->Unit(req->audited_unit_id());
    if (absl::IsNotFound(audited.status()) || (audited.ok() && !audited->active)) {
      return InvalidField("audited_unit_id", "no such active unit");
    }
    SM_RETURN_IF_ERROR(audited.status());
    if (!req->audited_person_id().empty()) {
      SM_ASSIGN_OR_RETURN(bool exists, store_->PersonExists(req->audited_person_id()));
      if (!exists) return InvalidField("audited_person_id", "no such active person");
    }
    v1::Engagement en;
    en.set_id(NewUuid(clock_));
    en.set_kind(req->kind());
    en.set_title(req->title());
    en.set_audit_unit_id(req->audit_unit_id());
    en.set_audited_unit_id(req->audited_unit_id());
    en.set_audited_person_id(req->audited_person_id());
    en.set_period_from(req->period_from());
    en.set_period_to(req->period_to());
    en.set_it_stage(req->it_stage());
    en.set_state(v1::ENGAGEMENT_STATE_PLANNED);
    SM_ASSIGN_OR_RETURN(*reply, store_->CreateEngagement(en, Mut(call, "CreateEngagement", *req, req->request_id(), 0)));
    stats_version_.Forget();  // the next statistics read sees this change
    return absl::OkStatus();
  });
}

grpc::Status AuditServiceImpl::AdvanceEngagement(grpc::ServerContext* ctx, const v1::AdvanceEngagementRequest* req,
                                                 v1::EngagementReply* reply) {
  return call_.Run(ctx, "AdvanceEngagement", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(Gate(call.principal, access::Rpc::kAdvanceEngagement));
    FieldErrors e;
    validate::RequestId(e, req->request_id());
    Uuid(e, "engagement_id", req->engagement_id());
    Version(e, req->expected_version());
    if (req->to() == v1::ENGAGEMENT_STATE_UNSPECIFIED || !v1::EngagementState_IsValid(req->to())) e.Add("to", "unknown state");
    SM_RETURN_IF_ERROR(e.ToStatus());
    SM_ASSIGN_OR_RETURN(v1::Engagement en, store_->GetEngagement(req->engagement_id()));
    SM_RETURN_IF_ERROR(Authorize(call.principal, access::Rpc::kAdvanceEngagement,
                                 ToEngagement(call.principal.unit, en), "engagement").status());
    SM_ASSIGN_OR_RETURN(*reply, store_->MutateEngagement(
        req->engagement_id(), Mut(call, "AdvanceEngagement", *req, req->request_id(), req->expected_version()),
        [&](const v1::Engagement& cur) -> absl::StatusOr<Change<v1::Engagement>> {
          SM_RETURN_IF_ERROR(CheckEngagementStep(cur.state(), req->to()));
          Change<v1::Engagement> ch{cur, {{cur.id(), "engagement_advanced",
                                           {{"from", v1::EngagementState_Name(cur.state())},
                                            {"to", v1::EngagementState_Name(req->to())}}}}, std::nullopt};
          ch.after.set_state(req->to());
          return ch;
        }));
    stats_version_.Forget();  // the next statistics read sees this change
    return absl::OkStatus();
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
    SM_RETURN_IF_ERROR(Authorize(p, access::Rpc::kGetEngagement, ToEngagement(p.unit, en), "engagement").status());
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
    std::optional<std::string> visible;
    if (access::Decide(access::Rpc::kListEngagements, p, {access::Relation::kUnrelated}) != access::Outcome::kAllow) {
      visible = p.unit;
    }
    const int page = size.ok() ? *size : 50;
    SM_ASSIGN_OR_RETURN(auto rows, store_->ListEngagements(*req, visible, after, page + 1));
    resp->set_next_page_token(paging::TakePage(
        rows, page,
        [&](v1::Engagement& r) {
          const access::Outcome o = access::Decide(access::Rpc::kListEngagements, p, ToEngagement(p.unit, r));
          if (o == access::Outcome::kAllow || o == access::Outcome::kRedacted) *resp->add_engagements() = std::move(r);
        },
        [&](const v1::Engagement& last) { return paging::EncodeTimeId({db::Micros(last.created_at()), last.id()}, fp); }));
    return absl::OkStatus();
  });
}

grpc::Status AuditServiceImpl::AddFinding(grpc::ServerContext* ctx, const v1::AddFindingRequest* req,
                                          v1::FindingReply* reply) {
  return call_.Run(ctx, "AddFinding", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(Gate(call.principal, access::Rpc::kAddFinding));
    FieldErrors e;
    validate::RequestId(e, req->request_id());
    Uuid(e, "engagement_id", req->engagement_id());
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
    SM_ASSIGN_OR_RETURN(v1::Engagement en, store_->GetEngagement(req->engagement_id()));
    SM_RETURN_IF_ERROR(Authorize(call.principal, access::Rpc::kAddFinding, ToEngagement(call.principal.unit, en),
                                 "engagement").status());
    if (en.state() == v1::ENGAGEMENT_STATE_CLOSED) {
      return absl::FailedPreconditionError("cannot add a finding to an engagement in state CLOSED");
    }
    auto unit = store_->Unit(req->responsible_unit_id());
    if (absl::IsNotFound(unit.status()) || (unit.ok() && !unit->active)) {
      return InvalidField("responsible_unit_id", "no such active unit");
    }
    SM_RETURN_IF_ERROR(unit.status());
    if (!req->responsible_person_id().empty()) {
      SM_ASSIGN_OR_RETURN(bool exists, store_->PersonExists(req->responsible_person_id()));
      if (!exists) return InvalidField("responsible_person_id", "no such active person");
    }
    v1::Finding f;
    f.set_id(NewUuid(clock_));
    f.set_engagement_id(en.id());
    f.set_title(req->title());
    f.set_description(req->description());
    f.set_category(req->category());
    f.set_amount_fen(req->amount_fen());
    f.set_severity(req->severity() == v1::SEVERITY_UNSPECIFIED ? v1::SEVERITY_MEDIUM : req->severity());
    f.set_responsible_unit_id(req->responsible_unit_id());
    f.set_responsible_person_id(req->responsible_person_id());
    *f.mutable_evidence_refs() = req->evidence_refs();
    SM_ASSIGN_OR_RETURN(*reply, store_->AddFinding(f, Mut(call, "AddFinding", *req, req->request_id(), 0)));
    stats_version_.Forget();  // the next statistics read sees this change
    return absl::OkStatus();
  });
}

grpc::Status AuditServiceImpl::GetFinding(grpc::ServerContext* ctx, const v1::GetFindingRequest* req, v1::Finding* resp) {
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
    if (!v1::FindingCategory_IsValid(req->category())) e.Add("category", "unknown category");
    auto size = paging::PageSize(req->page_size(), 50, 500);
    for (const auto& v : FieldViolations(size.status())) e.Add(v.field, v.description);
    const std::string fp = paging::FilterFingerprint(*req);
    std::optional<paging::TimeId> after = paging::DecodeTimeId(req->page_token(), fp, e);
    SM_RETURN_IF_ERROR(e.ToStatus());
    // The store narrows to findings the caller's unit stands in some relation to unless the
    // caller sees every one; each row is then decided by the table (a page can come out
    // short). A redacted row shows no referral, so "referred only" does not list it.
    std::optional<std::string> visible;
    if (access::Decide(access::Rpc::kListFindings, p, {access::Relation::kUnrelated}) != access::Outcome::kAllow) {
      visible = p.unit;
    }
    const int page = size.ok() ? *size : 50;
    SM_ASSIGN_OR_RETURN(auto rows, store_->ListFindings(*req, visible, after, page + 1));
    std::set<std::string> owned;  // findings with a rectification the caller's unit owns
    if (!p.unit.empty()) {
      v1::ListRectificationsRequest q;
      q.set_owner_unit_id(p.unit);
      SM_ASSIGN_OR_RETURN(auto mine, store_->ListRectifications(q, std::nullopt));
      for (const auto& x : mine) owned.insert(x.finding_id());
    }
    std::map<std::string, v1::Engagement> engagements;
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
              access::Decide(access::Rpc::kListFindings, p, ToFinding(p.unit, r, en->second, owned.count(r.id()) > 0));
          if (o == access::Outcome::kRedacted) {
            if (req->referred_only()) return;
            access::Redact(r);
          } else if (o != access::Outcome::kAllow) {
            return;
          }
          *resp->add_findings() = std::move(r);
        },
        [&](const v1::Finding& last) { return paging::EncodeTimeId({db::Micros(last.created_at()), last.id()}, fp); }));
    SM_RETURN_IF_ERROR(row_error);
    return absl::OkStatus();
  });
}

grpc::Status AuditServiceImpl::ReferFinding(grpc::ServerContext* ctx, const v1::ReferFindingRequest* req,
                                            v1::FindingReply* reply) {
  return call_.Run(ctx, "ReferFinding", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(Gate(call.principal, access::Rpc::kReferFinding));
    FieldErrors e;
    validate::RequestId(e, req->request_id());
    Uuid(e, "finding_id", req->finding_id());
    Version(e, req->expected_version());
    Uuid(e, "to_unit_id", req->to_unit_id());
    if (req->categories_size() > v1::ClueCategory_MAX) e.Add("categories", "at most " + std::to_string(v1::ClueCategory_MAX));
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
    SM_ASSIGN_OR_RETURN(FindingView v, AuthorizedFinding(call.principal, access::Rpc::kReferFinding, req->finding_id()));
    auto to = store_->Unit(req->to_unit_id());
    if (absl::IsNotFound(to.status()) || (to.ok() && !to->active)) return InvalidField("to_unit_id", "no such active unit");
    SM_RETURN_IF_ERROR(to.status());
    if (to->kind != "DISCIPLINE_GROUP" && to->kind != "DISCIPLINE_COMMISSION" &&
        to->kind != "ORGAN_DISCIPLINE_COMMITTEE") {
      return InvalidField("to_unit_id", "is not a discipline unit (discipline group, commission or organ committee)");
    }
    SM_ASSIGN_OR_RETURN(*reply, store_->MutateFinding(
        req->finding_id(), Mut(call, "ReferFinding", *req, req->request_id(), req->expected_version()),
        [&](const v1::Finding& cur) -> absl::StatusOr<Change<v1::Finding>> {
          if (cur.referral().state() != v1::REFERRAL_STATE_UNSPECIFIED) {
            return absl::FailedPreconditionError("the finding is already referred (referral state " +
                                                 v1::ReferralState_Name(cur.referral().state()) + ")");
          }
          // The command: register the clue at the audit unit and offer it to the discipline
          // unit; (source_system, source_ref) makes every redelivery the same clue.
          v1::RegisterClueRequest clue;
          clue.set_request_id("audit-referral-" + cur.id());
          clue.set_origin_unit_id(v.engagement.audit_unit_id());
          clue.set_offer_to_unit_id(req->to_unit_id());
          clue.set_source(v1::CLUE_SOURCE_AUDIT);
          clue.set_channel(v1::RECEIPT_CHANNEL_SYSTEM);
          clue.set_source_system("audit");
          clue.set_source_ref(cur.id());
          if (!cur.responsible_person_id().empty()) clue.add_subjects()->set_person_id(cur.responsible_person_id());
          else clue.add_subjects()->set_unit_id(cur.responsible_unit_id());
          if (req->categories_size() == 0) clue.add_categories(v1::CLUE_CATEGORY_INTEGRITY);
          for (int c : req->categories()) clue.add_categories(static_cast<v1::ClueCategory>(c));
          clue.set_summary(req->summary().empty() ? "审计移送：" + cur.title() : req->summary());
          clue.set_details(cur.description());
          clue.set_severity(cur.severity());
          Change<v1::Finding> ch{cur, {{cur.id(), "referred", {{"to_unit_id", req->to_unit_id()}}}},
                                 Command{"clue.register", "finding:" + cur.id(), clue.SerializeAsString()}};
          ch.after.mutable_referral()->set_state(v1::REFERRAL_STATE_PENDING);
          ch.after.mutable_referral()->set_to_unit_id(req->to_unit_id());
          return ch;
        }));
    stats_version_.Forget();  // the next statistics read sees this change
    return absl::OkStatus();
  });
}

grpc::Status AuditServiceImpl::RetryReferral(grpc::ServerContext* ctx, const v1::RetryReferralRequest* req,
                                             v1::FindingReply* reply) {
  return call_.Run(ctx, "RetryReferral", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(Gate(call.principal, access::Rpc::kRetryReferral));
    FieldErrors e;
    validate::RequestId(e, req->request_id());
    Uuid(e, "finding_id", req->finding_id());
    Version(e, req->expected_version());
    Length(e, "reason", req->reason(), 1000, true);
    SM_RETURN_IF_ERROR(e.ToStatus());
    SM_RETURN_IF_ERROR(AuthorizedFinding(call.principal, access::Rpc::kRetryReferral, req->finding_id()).status());
    SM_ASSIGN_OR_RETURN(*reply, store_->MutateFinding(
        req->finding_id(), Mut(call, "RetryReferral", *req, req->request_id(), req->expected_version()),
        [&](const v1::Finding& cur) -> absl::StatusOr<Change<v1::Finding>> {
          if (cur.referral().state() != v1::REFERRAL_STATE_DEAD) {
            return absl::FailedPreconditionError("only a dead referral is retried (referral state " +
                                                 v1::ReferralState_Name(cur.referral().state()) + ")");
          }
          Change<v1::Finding> ch{cur,
                                 {{cur.id(), "referral_retried",
                                   {{"reason", req->reason()}, {"last_error", cur.referral().last_error()}}}},
                                 Command{"clue.register", "finding:" + cur.id(), "", /*retry=*/true}};
          ch.after.mutable_referral()->set_state(v1::REFERRAL_STATE_PENDING);
          ch.after.mutable_referral()->clear_last_error();
          return ch;
        }));
    return absl::OkStatus();
  });
}

grpc::Status AuditServiceImpl::AddRectification(grpc::ServerContext* ctx, const v1::AddRectificationRequest* req,
                                                v1::RectificationReply* reply) {
  return call_.Run(ctx, "AddRectification", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(Gate(call.principal, access::Rpc::kAddRectification));
    FieldErrors e;
    validate::RequestId(e, req->request_id());
    Uuid(e, "finding_id", req->finding_id());
    Length(e, "measure", req->measure(), 2000, true);
    Uuid(e, "owner_unit_id", req->owner_unit_id(), false);
    if (req->working_days() < 0 || req->working_days() > 365) e.Add("working_days", "must be 1 to 365 (0: the default)");
    SM_RETURN_IF_ERROR(e.ToStatus());
    SM_ASSIGN_OR_RETURN(FindingView v,
                        AuthorizedFinding(call.principal, access::Rpc::kAddRectification, req->finding_id()));
    const std::string owner = req->owner_unit_id().empty() ? v.finding.responsible_unit_id() : req->owner_unit_id();
    auto unit = store_->Unit(owner);
    if (absl::IsNotFound(unit.status()) || (unit.ok() && !unit->active)) return InvalidField("owner_unit_id", "no such active unit");
    SM_RETURN_IF_ERROR(unit.status());
    v1::Rectification x;
    x.set_id(NewUuid(clock_));
    x.set_finding_id(req->finding_id());
    x.set_measure(req->measure());
    x.set_owner_unit_id(owner);
    *x.mutable_deadline_at() = db::TimestampOf(calendar_->Deadline(
        clock_.Now(), req->working_days() == 0 ? policy_.rectification_days : req->working_days()));
    SM_ASSIGN_OR_RETURN(*reply, store_->AddRectification(x, Mut(call, "AddRectification", *req, req->request_id(), 0)));
    stats_version_.Forget();  // the next statistics read sees this change
    return absl::OkStatus();
  });
}

absl::Status AuditServiceImpl::RectStep(const server::CallInfo& call, access::Rpc rpc,
                                        const google::protobuf::Message& req, const std::string& request_id,
                                        const std::string& id, int64_t expected_version, RectAction action,
                                        const std::function<absl::Status(const v1::Rectification&)>& precondition,
                                        const std::function<void(v1::Rectification&, nlohmann::json&)>& edit,
                                        v1::RectificationReply* reply) {
  const auth::Principal& p = call.principal;
  SM_ASSIGN_OR_RETURN(v1::Rectification cur, store_->GetRectification(id));
  SM_ASSIGN_OR_RETURN(v1::Finding finding, store_->GetFinding(cur.finding_id()));
  SM_ASSIGN_OR_RETURN(v1::Engagement engagement, store_->GetEngagement(finding.engagement_id()));
  SM_RETURN_IF_ERROR(
      Authorize(p, rpc, ToRectification(p.unit, cur, finding, engagement), "rectification").status());
  // The table let the caller act, as the party this step belongs to.
  const Party party = action == RectAction::kProgress || action == RectAction::kSubmit ? Party::kOwner
                                                                                        : Party::kAuditUnit;
  const std::string method(access::RpcName(rpc));
  SM_ASSIGN_OR_RETURN(*reply, store_->MutateRectification(
      id, Mut(call, method, req, request_id, expected_version),
      [&](const v1::Rectification& now) -> absl::StatusOr<Change<v1::Rectification>> {
        if (precondition) SM_RETURN_IF_ERROR(precondition(now));
        SM_ASSIGN_OR_RETURN(v1::RectificationState next, NextRectification(now.state(), action, party));
        Change<v1::Rectification> ch{now, {}, std::nullopt};
        ch.after.set_state(next);
        nlohmann::json data = {{"rectification_id", now.id()},
                               {"from", v1::RectificationState_Name(now.state())},
                               {"to", v1::RectificationState_Name(next)}};
        edit(ch.after, data);
        static const char* kTypes[] = {"rectification_progress", "rectification_submitted", "rectification_signed_off",
                                       "rectification_rejected", "rectification_reopened"};
        ch.events.push_back({now.finding_id(), kTypes[static_cast<int>(action)], data});
        return ch;
      }));
  stats_version_.Forget();  // the next statistics read sees this change
  return absl::OkStatus();
}

grpc::Status AuditServiceImpl::RecordProgress(grpc::ServerContext* ctx, const v1::RecordProgressRequest* req,
                                              v1::RectificationReply* reply) {
  return call_.Run(ctx, "RecordProgress", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(Gate(call.principal, access::Rpc::kRecordProgress));
    FieldErrors e;
    validate::RequestId(e, req->request_id());
    Uuid(e, "rectification_id", req->rectification_id());
    Length(e, "note", req->note(), 4000, true);
    validate::DistinctTexts(e, "evidence_refs", req->evidence_refs(), 50, 200);
    SM_RETURN_IF_ERROR(e.ToStatus());
    return RectStep(call, access::Rpc::kRecordProgress, *req, req->request_id(), req->rectification_id(), 0,
                    RectAction::kProgress, nullptr,
                    [&](v1::Rectification& x, nlohmann::json& data) {
                      x.set_last_note(req->note());
                      data["note"] = req->note();
                      data["evidence_refs"] = std::vector<std::string>(req->evidence_refs().begin(), req->evidence_refs().end());
                    },
                    reply);
  });
}

grpc::Status AuditServiceImpl::SubmitRectification(grpc::ServerContext* ctx, const v1::SubmitRectificationRequest* req,
                                                   v1::RectificationReply* reply) {
  return call_.Run(ctx, "SubmitRectification", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(Gate(call.principal, access::Rpc::kSubmitRectification));
    FieldErrors e;
    validate::RequestId(e, req->request_id());
    Uuid(e, "rectification_id", req->rectification_id());
    Version(e, req->expected_version());
    Length(e, "summary", req->summary(), 4000, true);
    SM_RETURN_IF_ERROR(e.ToStatus());
    return RectStep(call, access::Rpc::kSubmitRectification, *req, req->request_id(), req->rectification_id(),
                    req->expected_version(), RectAction::kSubmit, nullptr,
                    [&](v1::Rectification& x, nlohmann::json& data) {
                      x.set_last_note(req->summary());
                      data["summary"] = req->summary();
                    },
                    reply);
  });
}

grpc::Status AuditServiceImpl::ReviewRectification(grpc::ServerContext* ctx, const v1::ReviewRectificationRequest* req,
                                                   v1::RectificationReply* reply) {
  return call_.Run(ctx, "ReviewRectification", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(Gate(call.principal, access::Rpc::kReviewRectification));
    FieldErrors e;
    validate::RequestId(e, req->request_id());
    Uuid(e, "rectification_id", req->rectification_id());
    Version(e, req->expected_version());
    Length(e, "reason", req->reason(), 2000, !req->approve());
    SM_RETURN_IF_ERROR(e.ToStatus());
    const TimePoint now = clock_.Now();
    return RectStep(call, access::Rpc::kReviewRectification, *req, req->request_id(), req->rectification_id(),
                    req->expected_version(), req->approve() ? RectAction::kApprove : RectAction::kReject, nullptr,
                    [&](v1::Rectification& x, nlohmann::json& data) {
                      if (req->approve()) {
                        *x.mutable_signed_off_at() = db::TimestampOf(now);
                        *x.mutable_lookback_until() = db::TimestampOf(now + std::chrono::hours(24 * policy_.lookback_days));
                        x.set_spot_check(SpotCheck(x.id(), policy_.spot_check_percent));
                        x.set_overdue(false);
                        data["spot_check"] = x.spot_check();
                      } else {
                        x.set_last_note(req->reason());
                      }
                      data["reason"] = req->reason();
                    },
                    reply);
  });
}

grpc::Status AuditServiceImpl::ReopenRectification(grpc::ServerContext* ctx, const v1::ReopenRectificationRequest* req,
                                                   v1::RectificationReply* reply) {
  return call_.Run(ctx, "ReopenRectification", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(Gate(call.principal, access::Rpc::kReopenRectification));
    FieldErrors e;
    validate::RequestId(e, req->request_id());
    Uuid(e, "rectification_id", req->rectification_id());
    Version(e, req->expected_version());
    Length(e, "reason", req->reason(), 2000, true);
    SM_RETURN_IF_ERROR(e.ToStatus());
    const TimePoint now = clock_.Now();
    // Checked after authorization, on the locked row: the window says nothing to outsiders.
    auto window = [&](const v1::Rectification& cur) -> absl::Status {
      if (cur.state() == v1::RECTIFICATION_STATE_SIGNED_OFF && cur.has_lookback_until() &&
          now > FromTs(cur.lookback_until())) {
        return absl::FailedPreconditionError("the look-back window (回头看) of this rectification has closed");
      }
      return absl::OkStatus();
    };
    return RectStep(call, access::Rpc::kReopenRectification, *req, req->request_id(), req->rectification_id(),
                    req->expected_version(), RectAction::kReopen, window,
                    [&](v1::Rectification& x, nlohmann::json& data) {
                      x.set_reopened(x.reopened() + 1);
                      x.clear_signed_off_at();
                      x.clear_lookback_until();
                      x.set_spot_check(false);
                      x.set_last_note(req->reason());
                      *x.mutable_deadline_at() = db::TimestampOf(calendar_->Deadline(now, policy_.rectification_days));
                      data["reason"] = req->reason();
                    },
                    reply);
  });
}

grpc::Status AuditServiceImpl::ListRectifications(grpc::ServerContext* ctx, const v1::ListRectificationsRequest* req,
                                                  v1::ListRectificationsResponse* resp) {
  return call_.Run(ctx, "ListRectifications", [&](const server::CallInfo& call) -> absl::Status {
    const auth::Principal& p = call.principal;
    SM_RETURN_IF_ERROR(Gate(p, access::Rpc::kListRectifications));
    FieldErrors e;
    Uuid(e, "finding_id", req->finding_id(), false);
    Uuid(e, "owner_unit_id", req->owner_unit_id(), false);
    if (!v1::RectificationState_IsValid(req->state())) e.Add("state", "unknown state");
    SM_RETURN_IF_ERROR(e.ToStatus());
    // The store narrows to the caller's unit's rectifications unless the caller sees every
    // one; each row is then decided by the table.
    std::optional<std::string> visible;
    if (access::Decide(access::Rpc::kListRectifications, p, {access::Relation::kUnrelated}) !=
        access::Outcome::kAllow) {
      visible = p.unit;
    }
    SM_ASSIGN_OR_RETURN(auto rows, store_->ListRectifications(*req, visible));
    std::map<std::string, v1::Finding> findings;
    std::map<std::string, v1::Engagement> engagements;
    for (auto& r : rows) {
      auto f = findings.find(r.finding_id());
      if (f == findings.end()) {
        SM_ASSIGN_OR_RETURN(v1::Finding got, store_->GetFinding(r.finding_id()));
        f = findings.emplace(r.finding_id(), std::move(got)).first;
      }
      auto en = engagements.find(f->second.engagement_id());
      if (en == engagements.end()) {
        SM_ASSIGN_OR_RETURN(v1::Engagement got, store_->GetEngagement(f->second.engagement_id()));
        en = engagements.emplace(f->second.engagement_id(), std::move(got)).first;
      }
      const access::Outcome o =
          access::Decide(access::Rpc::kListRectifications, p, ToRectification(p.unit, r, f->second, en->second));
      if (o == access::Outcome::kAllow || o == access::Outcome::kRedacted) *resp->add_rectifications() = std::move(r);
    }
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
    auto key = [scope](int64_t version) { return "audit:stats:v" + std::to_string(version) + ":" + scope.value_or("*"); };
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
    SM_RETURN_IF_ERROR(Authorize(call.principal, access::Rpc::kVerifyAuditChain, a.relations,
                                 a.finding ? "finding" : "engagement").status());
    SM_ASSIGN_OR_RETURN(chain::Check c, store_->VerifyChain(req->aggregate_id()));
    resp->set_intact(c.intact);
    resp->set_events(c.events);
    resp->set_first_broken_seq(c.first_broken_seq);
    resp->set_problem(c.problem);
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

void OverdueScanner::Start(std::chrono::milliseconds interval) {
  worker_.Start(interval, [this] {
    auto n = ScanOnce();
    if (!n.ok()) log::Warn("rectification scan failed", {{"error", std::string(n.status().message())}});
  });
}

}  // namespace sm::audit
