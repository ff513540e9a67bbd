// ClueService: the reporter reveal (the two-person rule) and its requests.
#include "services/clue/service.h"

#include "services/clue/handler_util.h"
#include "common/log.h"
#include "common/paging.h"
#include "common/status.h"
#include "common/uuid.h"
#include "common/db/idempotency.h"
#include "common/db/sql.h"

namespace sm::clue {

using namespace handler;  // NOLINT: the handler files' shared helpers

// ---------------------------------------------------------------------------------------
// The two-person rule for the reporter (workflow.h has the rules; docs/clue.md the story).
// The identity is opened only inside RevealReporter, returned to the requester, and never
// stored in a reply record, an event, a log line or a cache.

void ClueServiceImpl::ShowRevealState(v1::RevealRequest& r) const {
  r.set_state(EffectiveRevealState(r.state(), RevealExpiresAt(r), clock_.Now()));
}

absl::StatusOr<v1::Reporter> ClueServiceImpl::OpenReporter(const std::string& clue_id,
                                                           const std::string& sealed) const {
  SM_ASSIGN_OR_RETURN(std::string bytes, keys_->Open(sealed, ReporterAad(clue_id)));
  v1::Reporter r;
  if (!r.ParseFromString(bytes)) return absl::DataLossError("reporter record unreadable");
  return r;
}

grpc::Status ClueServiceImpl::RequestReveal(grpc::ServerContext* ctx, const v1::RequestRevealRequest* req,
                                            v1::RevealRequestReply* reply) {
  return call_.Run(ctx, "RequestReveal", [&](const server::CallInfo& call) -> absl::Status {
    const auth::Principal& p = call.principal;
    SM_RETURN_IF_ERROR(RequireCaseStaff(p));
    FieldErrors e;
    RequestId(e, req->request_id());
    Uuid(e, "clue_id", req->clue_id());
    Length(e, "reason", req->reason(), kMaxReason, true);
    SM_RETURN_IF_ERROR(e.ToStatus());
    SM_RETURN_IF_ERROR(RequireUser(p));
    SM_ASSIGN_OR_RETURN(*reply, store_->CreateReveal(*req, p, NewRandomUuid(), RevealRulesNow(),
                                                     db::KeyOf(p, req->request_id(), "RequestReveal", *req)));
    ShowRevealState(*reply->mutable_request());
    if (!reply->mutation().replayed()) {
      log::Info("reporter reveal requested",
                {{"clue_id", req->clue_id()}, {"reveal_request_id", reply->request().id()}, {"by", p.user}});
    }
    return absl::OkStatus();
  });
}

grpc::Status ClueServiceImpl::DecideReveal(grpc::ServerContext* ctx, const v1::DecideRevealRequest* req,
                                           v1::RevealRequestReply* reply) {
  return call_.Run(ctx, "DecideReveal", [&](const server::CallInfo& call) -> absl::Status {
    const auth::Principal& p = call.principal;
    SM_RETURN_IF_ERROR(auth::RequireAnyRole(p, {auth::kRoleCustodian}));
    const bool refuse = req->verdict() == v1::REVEAL_VERDICT_REFUSE;
    FieldErrors e;
    RequestId(e, req->request_id());
    Uuid(e, "reveal_request_id", req->reveal_request_id());
    if (req->verdict() != v1::REVEAL_VERDICT_APPROVE && !refuse) e.Add("verdict", "is required: approve or refuse");
    Length(e, "reason", req->reason(), kMaxReason, refuse);
    SM_RETURN_IF_ERROR(e.ToStatus());
    SM_RETURN_IF_ERROR(RequireUser(p));
    SM_ASSIGN_OR_RETURN(RevealOutcome done, store_->StepReveal(*req, p, RevealRulesNow(),
                                                               db::KeyOf(p, req->request_id(), "DecideReveal", *req)));
    *reply = std::move(done.reply);
    ShowRevealState(*reply->mutable_request());
    if (!reply->mutation().replayed()) {
      log::Info("reporter reveal decided", {{"reveal_request_id", req->reveal_request_id()},
                                            {"by", p.user},
                                            {"verdict", v1::RevealVerdict_Name(req->verdict())}});
    }
    return absl::OkStatus();
  });
}

grpc::Status ClueServiceImpl::RevealReporter(grpc::ServerContext* ctx, const v1::RevealReporterRequest* req,
                                             v1::RevealReporterResponse* resp) {
  return call_.Run(ctx, "RevealReporter", [&](const server::CallInfo& call) -> absl::Status {
    const auth::Principal& p = call.principal;
    SM_RETURN_IF_ERROR(RequireCaseStaff(p));
    FieldErrors e;
    RequestId(e, req->request_id());
    Uuid(e, "reveal_request_id", req->reveal_request_id());
    Uuid(e, "clue_id", req->clue_id(), false);
    SM_RETURN_IF_ERROR(e.ToStatus());
    SM_RETURN_IF_ERROR(RequireUser(p));
    SM_ASSIGN_OR_RETURN(
        RevealOutcome done,
        store_->StepReveal(*req, p, RevealRulesNow(), db::KeyOf(p, req->request_id(), "RevealReporter", *req)));
    const v1::RevealRequest& r = done.reply.request();
    std::string sealed = std::move(done.reporter_sealed);
    if (done.reply.mutation().replayed()) {
      // The same reveal asked again (its reply was lost): only its requester, only within
      // its window, still under the rule the step checked, and it is not a second reveal.
      if (r.requester() != p.user) return absl::PermissionDeniedError("only the requester may see the reporter");
      const auto expires = RevealExpiresAt(r);
      if (!expires || clock_.Now() >= *expires) {
        return absl::FailedPreconditionError("cannot repeat a reveal whose window has ended (state EXPIRED)");
      }
      SM_ASSIGN_OR_RETURN(StoredClue clue, store_->Get(r.clue_id()));
      SM_RETURN_IF_ERROR(MayRequestReveal(p, clue));
      sealed = std::move(clue.reporter_sealed);
    }
    // Opened after the commit from the sealed form the step saw: a key that cannot open it
    // is DATA_LOSS, and the requester may repeat the call within the window.
    SM_ASSIGN_OR_RETURN(*resp->mutable_reporter(), OpenReporter(r.clue_id(), sealed));
    *resp->mutable_request() = std::move(*done.reply.mutable_request());
    *resp->mutable_mutation() = done.reply.mutation();
    log::Info(resp->mutation().replayed() ? "reporter reveal repeated" : "reporter revealed",
              {{"clue_id", resp->request().clue_id()}, {"reveal_request_id", resp->request().id()}, {"by", p.user}});
    return absl::OkStatus();
  });
}

grpc::Status ClueServiceImpl::GetRevealRequest(grpc::ServerContext* ctx, const v1::GetRevealRequestRequest* req,
                                               v1::RevealRequest* resp) {
  return call_.Run(ctx, "GetRevealRequest", [&](const server::CallInfo& call) -> absl::Status {
    const auth::Principal& p = call.principal;
    SM_RETURN_IF_ERROR(auth::RequireAnyRole(p, {auth::kRoleDiscipline, auth::kRoleCustodian}));
    if (!IsUuid(req->reveal_request_id())) return InvalidField("reveal_request_id", "must be a UUID");
    SM_RETURN_IF_ERROR(RequireUser(p));
    SM_ASSIGN_OR_RETURN(*resp, store_->GetReveal(req->reveal_request_id()));
    const bool custodian = p.HasRole(auth::kRoleCustodian) && p.clearance >= kRevealClearance;
    // A request the caller neither made nor may decide does not exist for them.
    if (resp->requester() != p.user && !custodian) {
      resp->Clear();
      return absl::NotFoundError("reveal request not found");
    }
    ShowRevealState(*resp);
    return absl::OkStatus();
  });
}

grpc::Status ClueServiceImpl::ListRevealRequests(grpc::ServerContext* ctx, const v1::ListRevealRequestsRequest* req,
                                                 v1::ListRevealRequestsResponse* resp) {
  return call_.Run(ctx, "ListRevealRequests", [&](const server::CallInfo& call) -> absl::Status {
    const auth::Principal& p = call.principal;
    SM_RETURN_IF_ERROR(auth::RequireAnyRole(p, {auth::kRoleDiscipline, auth::kRoleCustodian}));
    FieldErrors e;
    Uuid(e, "clue_id", req->clue_id(), false);
    auto size = paging::PageSize(req->page_size(), 50, 200);
    for (const auto& v : FieldViolations(size.status())) e.Add(v.field, v.description);
    const std::string fingerprint = paging::FilterFingerprint(*req);
    RevealQuery q;
    q.after = paging::DecodeTimeId(req->page_token(), fingerprint, e);
    SM_RETURN_IF_ERROR(e.ToStatus());
    SM_RETURN_IF_ERROR(RequireUser(p));
    if (req->mine()) {
      q.requester = p.user;
    } else {
      if (!p.HasRole(auth::kRoleCustodian) || p.clearance < kRevealClearance) {
        return absl::PermissionDeniedError("only a custodian with clearance >= 2 has requests to decide (use mine)");
      }
      q.undecided_by = p.user;
    }
    if (!req->clue_id().empty()) q.clue_id = req->clue_id();
    const int page = size.ok() ? *size : 50;
    q.limit = page + 1;
    SM_ASSIGN_OR_RETURN(auto rows, store_->ListReveals(q));
    resp->set_next_page_token(paging::TakePage(
        rows, page,
        [&](v1::RevealRequest& r) {
          ShowRevealState(r);
          *resp->add_requests() = std::move(r);
        },
        [&](const v1::RevealRequest& last) {
          return paging::EncodeTimeId({db::Micros(last.requested_at()), last.id()}, fingerprint);
        }));
    return absl::OkStatus();
  });
}

}  // namespace sm::clue
