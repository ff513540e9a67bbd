// ClueService reads: a clue, lists, history, duplicates, chain verification, statistics and
// the event feed.
#include "services/clue/service.h"

#include <unordered_map>
#include <absl/strings/numbers.h>

#include "services/clue/handler_util.h"
#include "common/chain_guard.h"
#include "common/log.h"
#include "common/paging.h"
#include "common/status.h"
#include "common/uuid.h"
#include "common/event_stream.h"
#include "common/db/sql.h"

namespace sm::clue {

using namespace handler;  // NOLINT: the handler files' shared helpers

grpc::Status ClueServiceImpl::GetClue(grpc::ServerContext* ctx, const v1::GetClueRequest* req, v1::Clue* resp) {
  return call_.Run(ctx, "GetClue", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(RequireReader(call.principal));
    if (!IsUuid(req->clue_id())) return InvalidField("clue_id", "must be a UUID");
    Standing standing = Standing::kNone;
    SM_ASSIGN_OR_RETURN(StoredClue s, LoadVisible(call.principal, req->clue_id(), &standing));
    *resp = ReplyOf(s).clue();
    const View view = ViewOf(standing);
    Redact(view, *resp);
    // Sealed details: the full view (holder, offeree deciding, oversight) with clearance.
    const bool may_read_details = view == View::kFull && call.principal.clearance >= auth::kClearanceInternal;
    if (!s.details_sealed.empty() && may_read_details) {
      SM_ASSIGN_OR_RETURN(std::string details, keys_->Open(s.details_sealed, DetailsAad(s.clue.id())));
      resp->set_details(details);
      resp->set_details_withheld(false);
    }
    return absl::OkStatus();
  });
}

grpc::Status ClueServiceImpl::ListClues(grpc::ServerContext* ctx, const v1::ListCluesRequest* req,
                                        v1::ListCluesResponse* resp) {
  return call_.Run(ctx, "ListClues", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(RequireReader(call.principal));
    FieldErrors e;
    ListQuery q;
    Uuid(e, "holding_unit_id", req->holding_unit_id(), false);
    Uuid(e, "origin_unit_id", req->origin_unit_id(), false);
    Uuid(e, "subject_person_id", req->subject_person_id(), false);
    if (!req->holding_unit_id().empty()) q.holding_unit = req->holding_unit_id();
    if (!req->origin_unit_id().empty()) q.origin_unit = req->origin_unit_id();
    if (!req->subject_person_id().empty()) q.subject_person = req->subject_person_id();
    if (req->state() != v1::CLUE_STATE_UNSPECIFIED) {
      if (!v1::ClueState_IsValid(req->state()))
        e.Add("state", "unknown state");
      else
        q.state = v1::ClueState_Name(req->state());
    }
    if (req->category() != v1::CLUE_CATEGORY_UNSPECIFIED) {
      if (!v1::ClueCategory_IsValid(req->category()))
        e.Add("category", "unknown category");
      else
        q.category = v1::ClueCategory_Name(req->category());
    }
    Length(e, "text", req->text(), 100, false);
    if (!req->text().empty()) {
      std::string escaped;
      for (char c : req->text()) {
        if (c == '%' || c == '_' || c == '\\') escaped += '\\';
        escaped += c;
      }
      q.text = escaped;
    }
    q.received_from_us =
        validate::TimestampMicros(e, "received_from", req->has_received_from() ? &req->received_from() : nullptr);
    q.received_to_us =
        validate::TimestampMicros(e, "received_to", req->has_received_to() ? &req->received_to() : nullptr);
    if (q.received_from_us && q.received_to_us && *q.received_to_us <= *q.received_from_us) {
      e.Add("received_to", "must be after received_from");
    }
    q.overdue_only = req->overdue_only();
    auto size = paging::PageSize(req->page_size(), 50, 500);
    for (const auto& v : FieldViolations(size.status())) e.Add(v.field, v.description);
    const std::string fingerprint = paging::FilterFingerprint(*req);
    q.after = paging::DecodeTimeId(req->page_token(), fingerprint, e);
    SM_RETURN_IF_ERROR(e.ToStatus());
    if (!Oversight(call.principal)) {
      if (!IsUuid(call.principal.unit)) return absl::PermissionDeniedError("the token names no unit");
      q.visible_to_unit = call.principal.unit;
    }
    const int page = size.ok() ? *size : 50;
    q.limit = page + 1;
    SM_ASSIGN_OR_RETURN(auto rows, store_->List(q));
    // Items the unit neither holds nor is offered: what its custody record lets it keep.
    std::vector<std::string> others;
    for (const auto& s : rows) {
      if (StandingOf(call.principal, s.clue, Custody::kNone) == Standing::kNone) others.push_back(s.clue.id());
    }
    std::unordered_map<std::string, Custody> custody;
    if (!others.empty()) {
      SM_ASSIGN_OR_RETURN(custody, store_->CustodyOf(others, call.principal.unit));
    }
    resp->set_next_page_token(paging::TakePage(
        rows, page,
        [&](const StoredClue& s) {
          auto it = custody.find(s.clue.id());
          const Standing standing =
              StandingOf(call.principal, s.clue, it == custody.end() ? Custody::kNone : it->second);
          v1::Clue* out = resp->add_clues();
          *out = ReplyOf(s).clue();
          Redact(ViewOf(standing), *out);
        },
        [&](const StoredClue& last) {
          return paging::EncodeTimeId({db::Micros(last.clue.received_at()), last.clue.id()}, fingerprint);
        }));
    return absl::OkStatus();
  });
}

grpc::Status ClueServiceImpl::GetClueHistory(grpc::ServerContext* ctx, const v1::GetClueHistoryRequest* req,
                                             v1::GetClueHistoryResponse* resp) {
  return call_.Run(ctx, "GetClueHistory", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(RequireReader(call.principal));
    if (!IsUuid(req->clue_id())) return InvalidField("clue_id", "must be a UUID");
    Standing standing = Standing::kNone;
    SM_RETURN_IF_ERROR(LoadVisible(call.principal, req->clue_id(), &standing).status());
    if (!MayReadHistory(standing)) {
      return absl::PermissionDeniedError("the case history is for the holding unit, a supervising unit and oversight");
    }
    FieldErrors e;
    const paging::SeqPage page = paging::DecodeSeqPage(*req, req->page_size(), req->page_token(), 200, 1000, e);
    SM_RETURN_IF_ERROR(e.ToStatus());
    const bool texts = HistoryTextsVisible(call.principal);
    SM_ASSIGN_OR_RETURN(auto events, store_->Events(req->clue_id()));
    resp->set_next_page_token(paging::TakeSeqPage(events, page, *req, [&](const chain::Event& ev) {
      auto* out = resp->add_events();
      events::FillCommon(*out, ev);
      out->set_clue_id(ev.aggregate_id);
      // The hash covers the data as written; a redacted copy cannot be checked against it.
      if (!texts) out->set_data_json(RedactEventData(ev.data, false));
      return true;
    }));
    return absl::OkStatus();
  });
}

grpc::Status ClueServiceImpl::VerifyChain(grpc::ServerContext* ctx, const v1::VerifyChainRequest* req,
                                          v1::VerifyChainResponse* resp) {
  return call_.Run(ctx, "VerifyChain", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(RequireReader(call.principal));
    if (!IsUuid(req->clue_id())) return InvalidField("clue_id", "must be a UUID");
    Standing standing = Standing::kNone;
    SM_ASSIGN_OR_RETURN(StoredClue s, LoadVisible(call.principal, req->clue_id(), &standing));
    if (!MayVerify(standing)) {
      return absl::PermissionDeniedError(
          "verifying the chain is for the holding unit, a supervising unit and oversight");
    }
    SM_ASSIGN_OR_RETURN(chain::Check c, store_->VerifyChain(req->clue_id()));
    chain::FillCheck(c, resp);
    if (!c.intact) {
      log::Error("clue event chain broken",
                 {{"clue_id", s.clue.id()}, {"seq", c.first_broken_seq}, {"problem", c.problem}});
    }
    return absl::OkStatus();
  });
}

grpc::Status ClueServiceImpl::VerifyAllChains(grpc::ServerContext* ctx, const v1::VerifyAllChainsRequest*,
                                              v1::VerifyAllChainsResponse* resp) {
  return call_.Run(ctx, "VerifyAllChains", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(auth::RequireAnyRole(call.principal, {auth::kRoleOversight}));
    SM_ASSIGN_OR_RETURN(chain::ServiceCheck c, store_->VerifyAllChains());
    chain::FillServiceCheck(
        c, resp, [](auto* r, int64_t n) { r->set_clues(n); },
        [](auto* b, const std::string& id) { b->set_clue_id(id); }, "clue event chains");
    return absl::OkStatus();
  });
}

grpc::Status ClueServiceImpl::ExportCheckpoints(grpc::ServerContext* ctx, const v1::ExportCheckpointsRequest* req,
                                                v1::ExportCheckpointsResponse* resp) {
  return call_.Run(ctx, "ExportCheckpoints", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(auth::RequireAnyRole(call.principal, {auth::kRoleOversight}));
    return chain::ExportCheckpoints([this](int64_t after, int limit) { return store_->Checkpoints(after, limit); },
                                    *req, resp);
  });
}

grpc::Status ClueServiceImpl::ListDuplicates(grpc::ServerContext* ctx, const v1::ListDuplicatesRequest* req,
                                             v1::ListCluesResponse* resp) {
  return call_.Run(ctx, "ListDuplicates", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(RequireReader(call.principal));
    std::vector<std::string> people;
    std::string exclude;
    if (!req->clue_id().empty()) {
      if (!IsUuid(req->clue_id())) return InvalidField("clue_id", "must be a UUID");
      SM_ASSIGN_OR_RETURN(StoredClue c, LoadVisible(call.principal, req->clue_id()));
      for (const auto& s : c.clue.subjects()) {
        if (!s.person_id().empty()) people.push_back(s.person_id());
      }
      exclude = c.clue.id();
    } else if (!req->subject_person_id().empty()) {
      if (!IsUuid(req->subject_person_id())) return InvalidField("subject_person_id", "must be a UUID");
      people.push_back(req->subject_person_id());
    } else {
      return InvalidField("clue_id", "give clue_id or subject_person_id");
    }
    if (people.empty()) return absl::OkStatus();
    std::optional<std::string> visible;
    if (!Oversight(call.principal)) visible = call.principal.unit;
    SM_ASSIGN_OR_RETURN(auto rows, store_->Duplicates(people, visible, exclude));
    for (const auto& r : rows) *resp->add_clues() = ReplyOf(r).clue();
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ClueServiceImpl::GetClueStats(grpc::CallbackServerContext* ctx,
                                                        const grpc::ByteBuffer* request, grpc::ByteBuffer* response) {
  v1::GetClueStatsRequest parsed;
  const v1::GetClueStatsRequest* req = &parsed;
  auto body = [this, req](const server::CallInfo& call, server::Call::ReplyBytes* reply,
                          server::Call::Later* later) -> absl::Status {
    const auth::Principal& p = call.principal;
    SM_RETURN_IF_ERROR(auth::RequireAnyRole(p, {auth::kRoleDashboard, auth::kRoleOversight, auth::kRoleDiscipline}));
    FieldErrors e;
    Uuid(e, "unit_id", req->unit_id(), false);
    // Whole days: ranges that differ within a day share a cache entry, and the figures are
    // computed for exactly the range the entry is kept under.
    const validate::DayRange days =
        validate::WholeDays(e, "received_from", req->has_received_from() ? &req->received_from() : nullptr,
                            "received_to", req->has_received_to() ? &req->received_to() : nullptr);
    SM_RETURN_IF_ERROR(e.ToStatus());
    StatsQuery q;
    q.received_from_us = days.from_us;
    q.received_to_us = days.to_us;
    std::string scope = req->unit_id();
    const bool broad = p.HasRole(auth::kRoleDashboard) || Oversight(p);
    if (!broad) {
      // Discipline staff see their own unit's figures.
      if (!scope.empty() && scope != p.unit) return absl::PermissionDeniedError("statistics of another unit");
      scope = p.unit;
      if (!IsUuid(scope)) return absl::PermissionDeniedError("the token names no unit");
    }
    if (!scope.empty()) q.unit_id = scope;
    // Cached per scope and range under the statistics version, which moves after every
    // change: a flushed or lost cache only costs a recomputation. ("stats2": its entries are
    // replies as a hit sends them, from_cache set; the older code's "stats" entries lack it.)
    auto key = [q](int64_t version) {
      return "clue:stats2:v" + std::to_string(version) + ":" + q.unit_id.value_or("*") + ":" +
             std::to_string(q.received_from_us.value_or(0)) + ":" + std::to_string(q.received_to_us.value_or(0));
    };
    // The cache holds the reply as a hit sends it (from_cache set), so a hit on this
    // callback thread is a look-up and nothing else: no I/O, no message built.
    if (std::optional<int64_t> version = stats_version_.Held()) {
      if ((*reply = stats_cache_.PeekShared(key(*version)))) return absl::OkStatus();
    }
    *later = [this, q, key, reply]() -> absl::Status {
      SM_ASSIGN_OR_RETURN(int64_t version, StatsVersion());
      bool computed = false;
      auto bytes = stats_cache_.Get(key(version), [&]() -> absl::StatusOr<std::string> {
        computed = true;
        SM_ASSIGN_OR_RETURN(v1::ClueStats st, store_->Stats(q));
        *st.mutable_computed_at() = db::TimestampOf(clock_.Now());
        st.set_from_cache(true);
        return st.SerializeAsString();
      });
      if (!bytes.ok()) return bytes.status();
      if (computed) {  // this call computed the figures: it says so
        v1::ClueStats st;
        if (!st.ParseFromString(*bytes)) return absl::InternalError("statistics unreadable");
        st.set_from_cache(false);
        *bytes = st.SerializeAsString();
      }
      *reply = std::make_shared<const std::string>(*std::move(bytes));
      return absl::OkStatus();
    };
    return absl::OkStatus();
  };
  return call_.RunUnaryBytes(ctx, "GetClueStats", request, &parsed, response, body, &stats_workers_);
}

absl::StatusOr<int64_t> ClueServiceImpl::StatsVersion() {
  return stats_version_.GetHeld([this] { return store_->StatsVersion(); });
}

grpc::Status ClueServiceImpl::Subscribe(grpc::ServerContext* ctx, const v1::SubscribeRequest* req,
                                        grpc::ServerWriter<v1::ClueEvent>* writer) {
  return call_.Run(ctx, "Subscribe", [&](const server::CallInfo& call) -> absl::Status {
    // The feed carries every clue's events: for other services and oversight only.
    SM_RETURN_IF_ERROR(auth::RequireAnyRole(call.principal, {auth::kRoleService, auth::kRoleOversight}));
    return events::Stream<v1::ClueEvent>(
        ctx, call.principal, clock_, req->after_cursor(), feed_hub_,
        [](v1::ClueEvent& ev, const FeedEvent& f) { ev.set_clue_id(f.event.aggregate_id); }, writer);
  });
}

}  // namespace sm::clue
