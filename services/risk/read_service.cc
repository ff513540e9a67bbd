// RiskService reads: each row decided by the caller's access to its person or unit.
#include "common/chain_guard.h"
#include "common/db/sql.h"
#include "common/event_stream.h"
#include "common/log.h"
#include "common/paging.h"
#include "common/status.h"
#include "common/uuid.h"
#include "common/validate.h"
#include "services/risk/service.h"

namespace sm::risk {
namespace {

using validate::Uuid;

bool AnyReader(const auth::Principal& p) {
  return p.HasRole(auth::kRolePolitical) || p.HasRole(auth::kRoleDiscipline) || p.HasRole(auth::kRoleOversight) ||
         p.HasRole(auth::kRoleStaff);
}

template <typename Req>
absl::StatusOr<std::pair<int, std::optional<paging::TimeId>>> PageOf(const Req& req, FieldErrors& e) {
  auto page = paging::PageSize(req.page_size(), 50, 200);
  if (!page.ok()) e.Add("page_size", "must not be negative");
  auto after = paging::DecodeTimeId(req.page_token(), paging::FilterFingerprint(req), e);
  SM_RETURN_IF_ERROR(e.ToStatus());
  return std::make_pair(*page, after);
}

}  // namespace

absl::StatusOr<Access> RiskServiceImpl::AccessOf(const auth::Principal& p, const CallerFacts& c,
                                                 const std::string& person_id, const std::string& unit_id) {
  StepFacts f;
  SM_RETURN_IF_ERROR(store_->SubjectFacts(nullptr, person_id, unit_id, f));
  if (!f.unit) return Access::kNone;
  return AccessTo(p, c, person_id, ChainOf(*f.unit));
}

absl::StatusOr<Visible> RiskServiceImpl::VisibleTo(const auth::Principal& p, const CallerFacts& c,
                                                   std::string_view method) {
  if (p.HasRole(auth::kRoleOversight) || p.HasRole(auth::kRoleDiscipline)) return Visible();
  if (p.HasRole(auth::kRolePolitical) && !c.serves_unit_id.empty()) return Visible(c.serves_unit_id);
  if (c.leader) return Visible(c.unit_id);
  log::Warn("access denied", {{"method", std::string(method)}, {"user", p.user}, {"reason", "no role lists risks"}});
  return absl::PermissionDeniedError(std::string(method) + " is not open to the caller's roles");
}

void RiskServiceImpl::ShowTalk(v1::TalkRecord& t, Access a) {
  if (a == Access::kFull || a == Access::kWrite) return;
  if (!t.summary().empty()) t.set_summary_withheld(true);
  t.clear_summary();
}

// ---- risk points (reference data of the political department; oversight and discipline read) ----

grpc::Status RiskServiceImpl::GetRiskPoint(grpc::ServerContext* ctx, const v1::GetRiskPointRequest* req,
                                           v1::RiskPoint* resp) {
  return call_.Run(ctx, "GetRiskPoint", [&](const server::CallInfo& call) -> absl::Status {
    if (!AnyReader(call.principal))
      return absl::PermissionDeniedError("GetRiskPoint is not open to the caller's roles");
    if (!IsUuid(req->id())) return InvalidField("id", "must be a UUID");
    SM_ASSIGN_OR_RETURN(*resp, store_->GetPoint(req->id()));
    return absl::OkStatus();
  });
}

grpc::Status RiskServiceImpl::ListRiskPoints(grpc::ServerContext* ctx, const v1::ListRiskPointsRequest* req,
                                             v1::ListRiskPointsResponse* resp) {
  return call_.Run(ctx, "ListRiskPoints", [&](const server::CallInfo& call) -> absl::Status {
    if (!AnyReader(call.principal)) {
      return absl::PermissionDeniedError("ListRiskPoints is not open to the caller's roles");
    }
    FieldErrors e;
    Uuid(e, "post_id", req->post_id(), false);
    Uuid(e, "person_id", req->person_id(), false);
    if (!v1::Power_IsValid(req->power())) e.Add("power", "unknown power");
    SM_ASSIGN_OR_RETURN(auto page, PageOf(*req, e));
    SM_ASSIGN_OR_RETURN(auto rows, store_->ListPoints(*req, page.second, page.first + 1));
    resp->set_next_page_token(paging::TakePage(
        rows, page.first, [&](v1::RiskPoint& p) { *resp->add_points() = std::move(p); },
        [&](const v1::RiskPoint& p) {
          return paging::EncodeTimeId({db::Micros(p.created_at()), p.id()}, paging::FilterFingerprint(*req));
        }));
    return absl::OkStatus();
  });
}

// ---- campaigns ----

grpc::Status RiskServiceImpl::GetCampaign(grpc::ServerContext* ctx, const v1::GetCampaignRequest* req,
                                          v1::ScreeningCampaign* resp) {
  return call_.Run(ctx, "GetCampaign", [&](const server::CallInfo& call) -> absl::Status {
    if (!AnyReader(call.principal)) return absl::PermissionDeniedError("GetCampaign is not open to the caller's roles");
    if (!IsUuid(req->campaign_id())) return InvalidField("campaign_id", "must be a UUID");
    SM_ASSIGN_OR_RETURN(*resp, store_->GetCampaign(req->campaign_id()));
    return absl::OkStatus();
  });
}

grpc::Status RiskServiceImpl::ListCampaigns(grpc::ServerContext* ctx, const v1::ListCampaignsRequest* req,
                                            v1::ListCampaignsResponse* resp) {
  return call_.Run(ctx, "ListCampaigns", [&](const server::CallInfo& call) -> absl::Status {
    if (!AnyReader(call.principal)) {
      return absl::PermissionDeniedError("ListCampaigns is not open to the caller's roles");
    }
    FieldErrors e;
    SM_ASSIGN_OR_RETURN(auto page, PageOf(*req, e));
    SM_ASSIGN_OR_RETURN(auto rows, store_->ListCampaigns(*req, page.second, page.first + 1));
    resp->set_next_page_token(paging::TakePage(
        rows, page.first, [&](v1::ScreeningCampaign& k) { *resp->add_campaigns() = std::move(k); },
        [&](const v1::ScreeningCampaign& k) {
          return paging::EncodeTimeId({db::Micros(k.created_at()), k.id()}, paging::FilterFingerprint(*req));
        }));
    return absl::OkStatus();
  });
}

grpc::Status RiskServiceImpl::ListUnscreened(grpc::ServerContext* ctx, const v1::ListUnscreenedRequest* req,
                                             v1::ListUnscreenedResponse* resp) {
  return call_.Run(ctx, "ListUnscreened", [&](const server::CallInfo& call) -> absl::Status {
    const auth::Principal& p = call.principal;
    if (!p.HasRole(auth::kRolePolitical) && !p.HasRole(auth::kRoleOversight)) {
      return absl::PermissionDeniedError("ListUnscreened is for the political department and oversight");
    }
    FieldErrors e;
    Uuid(e, "campaign_id", req->campaign_id());
    Uuid(e, "unit_id", req->unit_id(), false);
    auto page = paging::PageSize(req->page_size(), 100, 500);
    if (!page.ok()) e.Add("page_size", "must not be negative");
    SM_RETURN_IF_ERROR(e.ToStatus());
    std::optional<std::string> after;
    if (!req->page_token().empty()) after = req->page_token();  // the last badge shown
    SM_ASSIGN_OR_RETURN(v1::ScreeningCampaign k, store_->GetCampaign(req->campaign_id()));
    SM_ASSIGN_OR_RETURN(auto rows, store_->Unscreened(k, req->unit_id(), after, *page + 1));
    resp->set_total(rows.second);
    for (auto& person : rows.first) {
      if (resp->people_size() == *page) {
        resp->set_next_page_token(resp->people(*page - 1).badge_no());
        break;
      }
      *resp->add_people() = std::move(person);
    }
    return absl::OkStatus();
  });
}

// ---- risk items ----

grpc::Status RiskServiceImpl::GetRiskItem(grpc::ServerContext* ctx, const v1::GetRiskItemRequest* req,
                                          v1::RiskItem* resp) {
  return call_.Run(ctx, "GetRiskItem", [&](const server::CallInfo& call) -> absl::Status {
    const auth::Principal& p = call.principal;
    if (!IsUuid(req->item_id())) return InvalidField("item_id", "must be a UUID");
    SM_ASSIGN_OR_RETURN(CallerFacts c, store_->CallerOf(p));
    SM_ASSIGN_OR_RETURN(v1::RiskItem it, store_->GetItem(req->item_id()));
    SM_ASSIGN_OR_RETURN(Access a, AccessOf(p, c, it.person_id(), it.unit_id()));
    const bool leader = p.user == it.responsible_leader_id() && p.user != it.person_id();
    if (a == Access::kNone && !leader) {
      log::Warn("access denied", {{"method", "GetRiskItem"}, {"user", p.user}, {"reason", "unrelated risk item"}});
      return absl::NotFoundError("risk item not found");
    }
    *resp = std::move(it);
    return absl::OkStatus();
  });
}

grpc::Status RiskServiceImpl::ListRiskItems(grpc::ServerContext* ctx, const v1::ListRiskItemsRequest* req,
                                            v1::ListRiskItemsResponse* resp) {
  return call_.Run(ctx, "ListRiskItems", [&](const server::CallInfo& call) -> absl::Status {
    const auth::Principal& p = call.principal;
    FieldErrors e;
    Uuid(e, "person_id", req->person_id(), false);
    Uuid(e, "unit_id", req->unit_id(), false);
    Uuid(e, "campaign_id", req->campaign_id(), false);
    if (!v1::RiskItemState_IsValid(req->state())) e.Add("state", "unknown state");
    if (!v1::RiskLevel_IsValid(req->level())) e.Add("level", "unknown level");
    if (!v1::RiskCategory_IsValid(req->category())) e.Add("category", "unknown category");
    if (!v1::RiskSource_IsValid(req->source())) e.Add("source", "unknown source");
    SM_ASSIGN_OR_RETURN(auto page, PageOf(*req, e));
    SM_ASSIGN_OR_RETURN(CallerFacts c, store_->CallerOf(p));
    SM_ASSIGN_OR_RETURN(Visible visible, VisibleTo(p, c, "ListRiskItems"));
    SM_ASSIGN_OR_RETURN(auto rows, store_->ListItems(*req, visible, page.second, page.first + 1));
    std::map<std::string, std::vector<std::string>> chains;  // unit -> chain
    absl::Status failed;
    resp->set_next_page_token(paging::TakePage(
        rows, page.first,
        [&](v1::RiskItem& it) {
          auto& chain = chains[it.unit_id()];
          if (chain.empty()) {
            auto u = Known(store_->Unit(it.unit_id()));
            if (!u.ok()) {
              failed = u.status();
              return;
            }
            if (*u) chain = ChainOf(**u);
          }
          if (AccessTo(p, c, it.person_id(), chain) != Access::kNone) *resp->add_items() = std::move(it);
        },
        [&](const v1::RiskItem& it) {
          return paging::EncodeTimeId({db::Micros(it.created_at()), it.id()}, paging::FilterFingerprint(*req));
        }));
    return failed;
  });
}

// ---- talks ----

grpc::Status RiskServiceImpl::GetTalk(grpc::ServerContext* ctx, const v1::GetTalkRequest* req, v1::TalkRecord* resp) {
  return call_.Run(ctx, "GetTalk", [&](const server::CallInfo& call) -> absl::Status {
    const auth::Principal& p = call.principal;
    if (!IsUuid(req->talk_id())) return InvalidField("talk_id", "must be a UUID");
    SM_ASSIGN_OR_RETURN(CallerFacts c, store_->CallerOf(p));
    SM_ASSIGN_OR_RETURN(v1::TalkRecord t, store_->GetTalk(req->talk_id()));
    SM_ASSIGN_OR_RETURN(Access a, AccessOf(p, c, t.person_id(), t.unit_id()));
    if (a == Access::kNone) {
      log::Warn("access denied", {{"method", "GetTalk"}, {"user", p.user}, {"reason", "unrelated talk"}});
      return absl::NotFoundError("talk not found");
    }
    ShowTalk(t, a);
    *resp = std::move(t);
    return absl::OkStatus();
  });
}

grpc::Status RiskServiceImpl::ListTalks(grpc::ServerContext* ctx, const v1::ListTalksRequest* req,
                                        v1::ListTalksResponse* resp) {
  return call_.Run(ctx, "ListTalks", [&](const server::CallInfo& call) -> absl::Status {
    const auth::Principal& p = call.principal;
    FieldErrors e;
    Uuid(e, "person_id", req->person_id(), false);
    Uuid(e, "unit_id", req->unit_id(), false);
    if (!v1::TalkKind_IsValid(req->kind())) e.Add("kind", "unknown kind");
    SM_ASSIGN_OR_RETURN(auto page, PageOf(*req, e));
    SM_ASSIGN_OR_RETURN(CallerFacts c, store_->CallerOf(p));
    SM_ASSIGN_OR_RETURN(Visible visible, VisibleTo(p, c, "ListTalks"));
    SM_ASSIGN_OR_RETURN(auto rows, store_->ListTalks(*req, visible, page.second, page.first + 1));
    absl::Status failed;
    resp->set_next_page_token(paging::TakePage(
        rows, page.first,
        [&](v1::TalkRecord& t) {
          auto a = AccessOf(p, c, t.person_id(), t.unit_id());
          if (!a.ok()) {
            failed = a.status();
            return;
          }
          if (*a == Access::kNone) return;
          ShowTalk(t, *a);
          *resp->add_talks() = std::move(t);
        },
        [&](const v1::TalkRecord& t) {
          return paging::EncodeTimeId({db::Micros(t.held_at()), t.id()}, paging::FilterFingerprint(*req));
        }));
    return failed;
  });
}

// ---- scores ----

grpc::Status RiskServiceImpl::GetPersonScore(grpc::ServerContext* ctx, const v1::GetPersonScoreRequest* req,
                                             v1::PersonScore* resp) {
  return call_.Run(ctx, "GetPersonScore", [&](const server::CallInfo& call) -> absl::Status {
    const auth::Principal& p = call.principal;
    if (!IsUuid(req->person_id())) return InvalidField("person_id", "must be a UUID");
    SM_ASSIGN_OR_RETURN(CallerFacts c, store_->CallerOf(p));
    SM_ASSIGN_OR_RETURN(Access a, AccessOf(p, c, req->person_id(), ""));
    if (a == Access::kNone) {
      log::Warn("access denied", {{"method", "GetPersonScore"}, {"user", p.user}, {"reason", "unrelated person"}});
      return absl::NotFoundError("person not found");
    }
    SM_ASSIGN_OR_RETURN(*resp, store_->Score(req->person_id()));
    return absl::OkStatus();
  });
}

grpc::Status RiskServiceImpl::ListScores(grpc::ServerContext* ctx, const v1::ListScoresRequest* req,
                                         v1::ListScoresResponse* resp) {
  return call_.Run(ctx, "ListScores", [&](const server::CallInfo& call) -> absl::Status {
    const auth::Principal& p = call.principal;
    FieldErrors e;
    Uuid(e, "unit_id", req->unit_id(), false);
    if (req->min_score() < 0) e.Add("min_score", "must not be negative");
    auto page = paging::PageSize(req->page_size(), 50, 200);
    if (!page.ok()) e.Add("page_size", "must not be negative");
    std::optional<std::pair<double, std::string>> after;
    if (!req->page_token().empty()) {
      auto at = req->page_token().find('/');
      char* end = nullptr;
      const double score = at == std::string::npos ? 0 : std::strtod(req->page_token().c_str(), &end);
      if (at == std::string::npos || end != req->page_token().c_str() + at ||
          !IsUuid(req->page_token().substr(at + 1))) {
        e.Add("page_token", "is not a token this list gave");
      } else {
        after = std::make_pair(score, req->page_token().substr(at + 1));
      }
    }
    SM_RETURN_IF_ERROR(e.ToStatus());
    SM_ASSIGN_OR_RETURN(CallerFacts c, store_->CallerOf(p));
    SM_ASSIGN_OR_RETURN(Visible visible, VisibleTo(p, c, "ListScores"));
    SM_ASSIGN_OR_RETURN(auto rows, store_->ListScores(*req, visible, after, *page + 1));
    for (size_t i = 0; i < rows.size(); ++i) {
      if (static_cast<int>(i) == *page) {
        const auto& last = rows[i - 1];
        resp->set_next_page_token(std::to_string(last.score()) + "/" + last.id());
        break;
      }
      if (rows[i].id() == p.user) continue;  // never one's own
      *resp->add_scores() = std::move(rows[i]);
    }
    if (req->page_token().empty()) {
      SM_ASSIGN_OR_RETURN(auto units,
                          store_->UnitScores(req->unit_id().empty() ? visible : Visible(req->unit_id()), 50));
      for (auto& u : units) *resp->add_units() = std::move(u);
    }
    return absl::OkStatus();
  });
}

grpc::Status RiskServiceImpl::GetRiskStats(grpc::ServerContext* ctx, const v1::GetRiskStatsRequest* req,
                                           v1::RiskStats* resp) {
  return call_.Run(ctx, "GetRiskStats", [&](const server::CallInfo& call) -> absl::Status {
    const auth::Principal& p = call.principal;
    if (!IsUuid(req->unit_id()) && !req->unit_id().empty()) return InvalidField("unit_id", "must be a UUID");
    SM_ASSIGN_OR_RETURN(CallerFacts c, store_->CallerOf(p));
    Visible scope;
    if (p.HasRole(auth::kRoleDashboard)) {
      scope = std::nullopt;
    } else {
      SM_ASSIGN_OR_RETURN(scope, VisibleTo(p, c, "GetRiskStats"));
    }
    if (!req->unit_id().empty()) {
      if (scope) {
        SM_ASSIGN_OR_RETURN(auto unit, Known(store_->Unit(req->unit_id())));
        if (!unit) return InvalidField("unit_id", "is not a unit in the directory");
        const auto chain = ChainOf(*unit);
        if (std::find(chain.begin(), chain.end(), *scope) == chain.end()) {
          return absl::PermissionDeniedError("the caller may see figures of their own units only");
        }
      }
      scope = req->unit_id();
    }
    SM_ASSIGN_OR_RETURN(int64_t version, store_->StatsVersion());
    const std::string key = "risk:stats:v" + std::to_string(version) + ":" + scope.value_or("*");
    bool computed = false;
    auto bytes = stats_cache_.Get(key, [&]() -> absl::StatusOr<std::string> {
      computed = true;
      SM_ASSIGN_OR_RETURN(v1::RiskStats st, store_->Stats(scope));
      return st.SerializeAsString();
    });
    if (!bytes.ok()) return bytes.status();
    if (!resp->ParseFromString(*bytes)) return absl::InternalError("cached statistics unreadable");
    resp->set_from_cache(!computed);
    return absl::OkStatus();
  });
}

// ---- chains and the feed ----

grpc::Status RiskServiceImpl::GetRiskHistory(grpc::ServerContext* ctx, const v1::GetRiskHistoryRequest* req,
                                             v1::GetRiskHistoryResponse* resp) {
  return call_.Run(ctx, "GetRiskHistory", [&](const server::CallInfo& call) -> absl::Status {
    const auth::Principal& p = call.principal;
    if (!IsUuid(req->aggregate_id())) return InvalidField("aggregate_id", "must be a UUID");
    SM_ASSIGN_OR_RETURN(CallerFacts c, store_->CallerOf(p));
    const std::string& id = req->aggregate_id();
    // An item's, a talk's or a score's history follows access to its person; a point's or a
    // campaign's is for the political department, discipline and oversight.
    Access a = Access::kNone;
    if (auto it = store_->GetItem(id); it.ok()) {
      SM_ASSIGN_OR_RETURN(a, AccessOf(p, c, it->person_id(), it->unit_id()));
    } else if (auto t = store_->GetTalk(id); t.ok()) {
      SM_ASSIGN_OR_RETURN(a, AccessOf(p, c, t->person_id(), t->unit_id()));
    } else if (IsUuid(id) && (store_->GetPoint(id).ok() || store_->GetCampaign(id).ok())) {
      if (p.HasRole(auth::kRolePolitical) || p.HasRole(auth::kRoleDiscipline) || p.HasRole(auth::kRoleOversight)) {
        a = Access::kRecords;
      }
    } else {
      SM_ASSIGN_OR_RETURN(a, AccessOf(p, c, id, ""));  // a person's score
    }
    if (a == Access::kNone) return absl::NotFoundError("not found");
    FieldErrors e;
    const paging::SeqPage page = paging::DecodeSeqPage(*req, req->page_size(), req->page_token(), 200, 1000, e);
    SM_RETURN_IF_ERROR(e.ToStatus());
    SM_ASSIGN_OR_RETURN(auto h, store_->History(id));
    if (h.events.empty()) return absl::NotFoundError("not found");
    resp->set_next_page_token(paging::TakeSeqPage(h.events, page, *req, [&](const chain::Event& ev) {
      auto* out = resp->add_events();
      events::FillCommon(*out, ev);
      out->set_aggregate_id(ev.aggregate_id);
      return true;
    }));
    return absl::OkStatus();
  });
}

grpc::Status RiskServiceImpl::VerifyRiskChain(grpc::ServerContext* ctx, const v1::VerifyRiskChainRequest* req,
                                              v1::VerifyChainResponse* resp) {
  return call_.Run(ctx, "VerifyRiskChain", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(auth::RequireOversight(call.principal, "VerifyRiskChain"));
    if (!IsUuid(req->aggregate_id())) return InvalidField("aggregate_id", "must be a UUID");
    SM_ASSIGN_OR_RETURN(chain::Check c, store_->VerifyChain(req->aggregate_id()));
    chain::FillCheck(c, resp);
    return absl::OkStatus();
  });
}

grpc::Status RiskServiceImpl::VerifyAllRiskChains(grpc::ServerContext* ctx, const v1::VerifyAllChainsRequest*,
                                                  v1::VerifyAllRiskChainsResponse* resp) {
  return call_.Run(ctx, "VerifyAllRiskChains", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(auth::RequireOversight(call.principal, "VerifyAllRiskChains"));
    SM_ASSIGN_OR_RETURN(chain::ServiceCheck c, store_->VerifyAllChains());
    chain::FillServiceCheck(
        c, resp, [](auto* r, int64_t n) { r->set_aggregates(n); },
        [](auto* b, const std::string& id) { b->set_aggregate_id(id); }, "risk event chains");
    return absl::OkStatus();
  });
}

grpc::Status RiskServiceImpl::ExportRiskCheckpoints(grpc::ServerContext* ctx, const v1::ExportCheckpointsRequest* req,
                                                    v1::ExportCheckpointsResponse* resp) {
  return call_.Run(ctx, "ExportRiskCheckpoints", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(auth::RequireOversight(call.principal, "ExportRiskCheckpoints"));
    return chain::ExportCheckpoints([this](int64_t after, int limit) { return store_->Checkpoints(after, limit); },
                                    *req, resp);
  });
}

grpc::Status RiskServiceImpl::Subscribe(grpc::ServerContext* ctx, const v1::SubscribeRequest* req,
                                        grpc::ServerWriter<v1::RiskEvent>* writer) {
  return call_.Run(ctx, "Subscribe", [&](const server::CallInfo& call) -> absl::Status {
    // The whole feed names people and scores: other services and oversight only.
    return events::StreamWhole<v1::RiskEvent>(ctx, call.principal, clock_, req->after_cursor(), feed_hub_, writer);
  });
}

}  // namespace sm::risk
