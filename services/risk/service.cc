#include "services/risk/service.h"

#include <set>

#include "common/db/idempotency.h"
#include "common/log.h"
#include "common/status.h"
#include "common/uuid.h"
#include "common/validate.h"

namespace sm::risk {
namespace {

using validate::Length;
using validate::StepFields;
using validate::Uuid;

void CheckMitigation(FieldErrors& e, const std::string& field, const v1::MitigationInput& m) {
  Length(e, field + ".measure", m.measure(), 1000, true);
  const bool has_deadline = m.has_deadline();
  if (has_deadline == (m.working_days() != 0)) {
    e.Add(field, "give either deadline or working_days");
  } else if (has_deadline) {
    validate::TimestampMicros(e, field + ".deadline", &m.deadline());
  } else if (m.working_days() < 1 || m.working_days() > 250) {
    e.Add(field + ".working_days", "must be 1 to 250");
  }
}

// The fields of a new risk item (`prefix` "" for OpenRiskItem, "item." inside a screening).
void CheckItem(FieldErrors& e, const std::string& prefix, const v1::OpenRiskItemRequest& r, bool person_given) {
  if (!person_given) {
    if (r.person_id().empty() == r.unit_id().empty()) e.Add(prefix + "person_id", "give either person_id or unit_id");
    Uuid(e, prefix + "person_id", r.person_id(), false);
    Uuid(e, prefix + "unit_id", r.unit_id(), false);
  }
  if (r.category() == v1::RISK_CATEGORY_UNSPECIFIED || !v1::RiskCategory_IsValid(r.category())) {
    e.Add(prefix + "category", "is required: one of the risk categories");
  }
  if (r.level() == v1::RISK_LEVEL_UNSPECIFIED || !v1::RiskLevel_IsValid(r.level())) {
    e.Add(prefix + "level", "is required: LOW, MEDIUM or HIGH");
  }
  if (!person_given) {
    if (r.source() == v1::RISK_SOURCE_UNSPECIFIED || !v1::RiskSource_IsValid(r.source())) {
      e.Add(prefix + "source", "is required: one of the sources");
    } else if (r.source() == v1::RISK_SOURCE_SCORE) {
      e.Add(prefix + "source", "SCORE items are opened by the service itself");
    }
  }
  Length(e, prefix + "source_ref", r.source_ref(), 200, false);
  Length(e, prefix + "description", r.description(), 4000, true);
  Uuid(e, prefix + "responsible_leader_id", r.responsible_leader_id(), false);
  if (r.mitigations_size() > 20) e.Add(prefix + "mitigations", "at most 20");
  for (int i = 0; i < r.mitigations_size(); ++i) {
    CheckMitigation(e, prefix + "mitigations[" + std::to_string(i) + "]", r.mitigations(i));
  }
}

}  // namespace

RiskServiceImpl::RiskServiceImpl(PgStore* store, const auth::Verifier* verifier, const workdays::Calendar* calendar,
                                 FileSources sources, const Clock& clock, redis::Client* redis, db::Listener* listener,
                                 events::HubOptions streams)
    : store_(store),
      calendar_(calendar),
      sources_(std::move(sources)),
      clock_(clock),
      stats_cache_(redis, "risk_stats", std::chrono::seconds(60), /*local_entries=*/256),
      call_("RiskService", verifier),
      feed_hub_(
          "risk", [store](const events::Cursor& after, int limit) { return store->Feed(after, limit); }, listener,
          streams) {
  if (sources_.clue) clue_ = v1::ClueService::NewStub(sources_.clue);
  if (sources_.audit) audit_ = v1::AuditService::NewStub(sources_.audit);
  if (sources_.inspection) inspection_ = v1::InspectionService::NewStub(sources_.inspection);
  feed_hub_.Start();
}

template <typename Reply>
absl::Status RiskServiceImpl::Step(const server::CallInfo& call, const google::protobuf::Message& req,
                                   const std::string& request_id, std::string_view method, StepFacts facts,
                                   const PgStore::Decide<Reply>& decide,
                                   const std::function<void(const Change&, Reply*)>& fill, Reply* reply) {
  const auth::Principal& p = call.principal;
  SM_ASSIGN_OR_RETURN(facts.caller, store_->CallerOf(p));
  facts.new_id = NewUuid(clock_);
  facts.calendar = calendar_;
  const db::Idempotency::Key key = db::KeyOf(p, request_id, method, req);
  auto out = store_->Step<Reply>(p, std::move(facts), key, decide, fill);
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

// ---- risk points ----

grpc::Status RiskServiceImpl::PutRiskPoint(grpc::ServerContext* ctx, const v1::PutRiskPointRequest* req,
                                           v1::RiskPointReply* reply) {
  return call_.Run(ctx, "PutRiskPoint", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e;
    validate::RequestId(e, req->request_id());
    Uuid(e, "id", req->id(), false);
    if (!req->id().empty()) validate::Version(e, req->expected_version());
    Uuid(e, "post_id", req->post_id());
    if (req->power() == v1::POWER_UNSPECIFIED || !v1::Power_IsValid(req->power())) {
      e.Add("power", "is required: CASE_HANDLING, FINANCE, PERSONNEL, PROCUREMENT or PROPERTY_CUSTODY");
    }
    Length(e, "description", req->description(), 2000, true);
    if (req->level() == v1::RISK_LEVEL_UNSPECIFIED || !v1::RiskLevel_IsValid(req->level())) {
      e.Add("level", "is required: LOW, MEDIUM or HIGH");
    }
    if (req->control_measures_size() < 1) e.Add("control_measures", "list at least one control measure");
    validate::DistinctTexts(e, "control_measures", req->control_measures(), 20, 500);
    Uuid(e, "accountable_person_id", req->accountable_person_id());
    SM_RETURN_IF_ERROR(e.ToStatus());
    StepFacts facts;
    SM_ASSIGN_OR_RETURN(facts.person, Known(store_->Person(req->accountable_person_id())));
    return Step<v1::RiskPointReply>(
        call, *req, req->request_id(), "PutRiskPoint", std::move(facts),
        [&](db::Tx& tx, StepFacts& f) -> absl::StatusOr<Change> {
          std::optional<Stored<v1::RiskPoint>> cur;
          if (!req->id().empty()) cur = store_->LoadPoint(tx, req->id(), true);
          f.post_name = store_->PostName(tx, req->post_id());
          return risk::PutRiskPoint(cur, *req, call.principal, f);
        },
        [](const Change& c, v1::RiskPointReply* r) { *r->mutable_point() = c.point->stored.doc; }, reply);
  });
}

// ---- campaigns ----

grpc::Status RiskServiceImpl::CreateCampaign(grpc::ServerContext* ctx, const v1::CreateCampaignRequest* req,
                                             v1::CampaignReply* reply) {
  return call_.Run(ctx, "CreateCampaign", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e;
    validate::RequestId(e, req->request_id());
    Length(e, "name", req->name(), 200, true);
    Length(e, "theme", req->theme(), 2000, false);
    auto from = validate::TimestampMicros(e, "starts_at", req->has_starts_at() ? &req->starts_at() : nullptr);
    auto to = validate::TimestampMicros(e, "ends_at", req->has_ends_at() ? &req->ends_at() : nullptr);
    if (!req->has_starts_at()) e.Add("starts_at", "is required");
    if (!req->has_ends_at()) e.Add("ends_at", "is required");
    if (from && to && *to < *from) e.Add("ends_at", "is before starts_at");
    if (req->scope_unit_ids_size() < 1 || req->scope_unit_ids_size() > 50) {
      e.Add("scope_unit_ids", "must list 1 to 50 units");
    }
    std::set<std::string> seen;
    for (int i = 0; i < req->scope_unit_ids_size(); ++i) {
      const std::string at = "scope_unit_ids[" + std::to_string(i) + "]";
      Uuid(e, at, req->scope_unit_ids(i));
      if (!seen.insert(req->scope_unit_ids(i)).second) e.Add(at, "is listed twice");
    }
    SM_RETURN_IF_ERROR(e.ToStatus());
    StepFacts facts;
    for (const auto& u : req->scope_unit_ids()) {
      SM_ASSIGN_OR_RETURN(auto unit, Known(store_->Unit(u)));
      if (unit) facts.units.emplace(u, *std::move(unit));
    }
    return Step<v1::CampaignReply>(
        call, *req, req->request_id(), "CreateCampaign", std::move(facts),
        [&](db::Tx&, StepFacts& f) { return risk::CreateCampaign(*req, call.principal, f); },
        [](const Change& c, v1::CampaignReply* r) { *r->mutable_campaign() = c.campaign->stored.doc; }, reply);
  });
}

grpc::Status RiskServiceImpl::CloseCampaign(grpc::ServerContext* ctx, const v1::CloseCampaignRequest* req,
                                            v1::CampaignReply* reply) {
  return call_.Run(ctx, "CloseCampaign", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e = StepFields(*req, "campaign_id", req->campaign_id());
    SM_RETURN_IF_ERROR(e.ToStatus());
    return Step<v1::CampaignReply>(
        call, *req, req->request_id(), "CloseCampaign", {},
        [&](db::Tx& tx, StepFacts& f) -> absl::StatusOr<Change> {
          auto cur = store_->LoadCampaign(tx, req->campaign_id(), true);
          if (!cur) return absl::NotFoundError("campaign not found");
          return risk::CloseCampaign(*cur, *req, call.principal, f);
        },
        [](const Change& c, v1::CampaignReply* r) { *r->mutable_campaign() = c.campaign->stored.doc; }, reply);
  });
}

grpc::Status RiskServiceImpl::RecordScreening(grpc::ServerContext* ctx, const v1::RecordScreeningRequest* req,
                                              v1::ScreeningReply* reply) {
  return call_.Run(ctx, "RecordScreening", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e = StepFields(*req, "campaign_id", req->campaign_id());
    Uuid(e, "person_id", req->person_id());
    if (req->outcome() == v1::SCREENING_OUTCOME_UNSPECIFIED || !v1::ScreeningOutcome_IsValid(req->outcome())) {
      e.Add("outcome", "is required: CLEAR or RISK_FOUND");
    }
    Length(e, "note", req->note(), 2000, false);
    if (req->outcome() == v1::SCREENING_OUTCOME_RISK_FOUND) {
      if (!req->has_item()) {
        e.Add("item", "is required with RISK_FOUND: the risk found");
      } else {
        CheckItem(e, "item.", req->item(), true);
      }
    } else if (req->has_item()) {
      e.Add("item", "is only for RISK_FOUND");
    }
    SM_RETURN_IF_ERROR(e.ToStatus());
    StepFacts facts;
    SM_RETURN_IF_ERROR(store_->SubjectFacts(nullptr, req->person_id(), "", facts));
    if (req->has_item()) SM_RETURN_IF_ERROR(store_->LeaderFacts(facts));
    if (req->has_item() && !req->item().responsible_leader_id().empty()) {
      SM_ASSIGN_OR_RETURN(facts.leader, Known(store_->Person(req->item().responsible_leader_id())));
    }
    return Step<v1::ScreeningReply>(
        call, *req, req->request_id(), "RecordScreening", std::move(facts),
        [&](db::Tx& tx, StepFacts& f) -> absl::StatusOr<Change> {
          auto campaign = store_->LoadCampaign(tx, req->campaign_id(), true);
          if (!campaign) return absl::NotFoundError("campaign not found");
          if (req->has_item()) f.number = store_->NextItemNumber(tx, f.now_us);
          const bool in_scope = f.unit && store_->InScope(tx, f.unit->id, campaign->doc.scope_unit_ids());
          return risk::RecordScreening(*campaign, store_->Screened(tx, req->campaign_id(), req->person_id()), in_scope,
                                       *req, call.principal, f);
        },
        [](const Change& c, v1::ScreeningReply* r) {
          *r->mutable_screening() = *c.screening;
          if (c.item) *r->mutable_item() = c.item->stored.doc;
        },
        reply);
  });
}

// ---- risk items ----

grpc::Status RiskServiceImpl::OpenRiskItem(grpc::ServerContext* ctx, const v1::OpenRiskItemRequest* req,
                                           v1::RiskItemReply* reply) {
  return call_.Run(ctx, "OpenRiskItem", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e;
    validate::RequestId(e, req->request_id());
    CheckItem(e, "", *req, false);
    SM_RETURN_IF_ERROR(e.ToStatus());
    StepFacts facts;
    SM_RETURN_IF_ERROR(store_->SubjectFacts(nullptr, req->person_id(), req->unit_id(), facts));
    SM_RETURN_IF_ERROR(store_->LeaderFacts(facts));
    if (!req->responsible_leader_id().empty()) {
      SM_ASSIGN_OR_RETURN(facts.leader, Known(store_->Person(req->responsible_leader_id())));
    }
    return Step<v1::RiskItemReply>(
        call, *req, req->request_id(), "OpenRiskItem", std::move(facts),
        [&](db::Tx& tx, StepFacts& f) -> absl::StatusOr<Change> {
          f.number = store_->NextItemNumber(tx, f.now_us);
          return risk::OpenRiskItem(*req, call.principal, f);
        },
        [](const Change& c, v1::RiskItemReply* r) { *r->mutable_item() = c.item->stored.doc; }, reply);
  });
}

namespace {

// The steps on an existing item: load it locked with the facts of its subject.
template <typename Req, typename Fn>
PgStore::Decide<v1::RiskItemReply> OnItem(PgStore* store, const Req& req, Fn fn) {
  return [store, &req, fn](db::Tx& tx, StepFacts& f) -> absl::StatusOr<Change> {
    auto cur = store->LoadItem(tx, req.item_id(), true);
    if (!cur) return absl::NotFoundError("risk item not found");
    SM_RETURN_IF_ERROR(store->SubjectFacts(&tx, "", cur->doc.unit_id(), f));
    return fn(*cur, f);
  };
}

void FillItem(const Change& c, v1::RiskItemReply* r) { *r->mutable_item() = c.item->stored.doc; }

}  // namespace

grpc::Status RiskServiceImpl::AddMitigation(grpc::ServerContext* ctx, const v1::AddMitigationRequest* req,
                                            v1::RiskItemReply* reply) {
  return call_.Run(ctx, "AddMitigation", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e = StepFields(*req, "item_id", req->item_id());
    CheckMitigation(e, "mitigation", req->mitigation());
    SM_RETURN_IF_ERROR(e.ToStatus());
    return Step<v1::RiskItemReply>(call, *req, req->request_id(), "AddMitigation", {},
                                   OnItem(store_, *req,
                                          [&](const Stored<v1::RiskItem>& cur, const StepFacts& f) {
                                            return risk::AddMitigation(cur, *req, call.principal, f);
                                          }),
                                   FillItem, reply);
  });
}

grpc::Status RiskServiceImpl::CompleteMitigation(grpc::ServerContext* ctx, const v1::CompleteMitigationRequest* req,
                                                 v1::RiskItemReply* reply) {
  return call_.Run(ctx, "CompleteMitigation", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e = StepFields(*req, "item_id", req->item_id());
    if (req->index() < 1) e.Add("index", "must be 1 or more");
    Length(e, "note", req->note(), 2000, true);
    SM_RETURN_IF_ERROR(e.ToStatus());
    return Step<v1::RiskItemReply>(call, *req, req->request_id(), "CompleteMitigation", {},
                                   OnItem(store_, *req,
                                          [&](const Stored<v1::RiskItem>& cur, const StepFacts& f) {
                                            return risk::CompleteMitigation(cur, *req, call.principal, f);
                                          }),
                                   FillItem, reply);
  });
}

grpc::Status RiskServiceImpl::ResolveRiskItem(grpc::ServerContext* ctx, const v1::ResolveRiskItemRequest* req,
                                              v1::RiskItemReply* reply) {
  return call_.Run(ctx, "ResolveRiskItem", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e = StepFields(*req, "item_id", req->item_id());
    Length(e, "resolution", req->resolution(), 4000, true);
    SM_RETURN_IF_ERROR(e.ToStatus());
    return Step<v1::RiskItemReply>(call, *req, req->request_id(), "ResolveRiskItem", {},
                                   OnItem(store_, *req,
                                          [&](const Stored<v1::RiskItem>& cur, const StepFacts& f) {
                                            return risk::ResolveRiskItem(cur, *req, call.principal, f);
                                          }),
                                   FillItem, reply);
  });
}

// ---- talks ----

grpc::Status RiskServiceImpl::RecordTalk(grpc::ServerContext* ctx, const v1::RecordTalkRequest* req,
                                         v1::TalkReply* reply) {
  return call_.Run(ctx, "RecordTalk", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e;
    validate::RequestId(e, req->request_id());
    if (req->kind() == v1::TALK_KIND_UNSPECIFIED || !v1::TalkKind_IsValid(req->kind())) {
      e.Add("kind", "is required: HEART_TO_HEART, INTEGRITY, REMINDER or ADMONISHMENT");
    }
    Uuid(e, "talker_person_id", req->talker_person_id(), false);
    Uuid(e, "person_id", req->person_id());
    if (!req->has_held_at()) e.Add("held_at", "is required");
    auto held = validate::TimestampMicros(e, "held_at", req->has_held_at() ? &req->held_at() : nullptr);
    if (held && *held > NowMicros(clock_) + 3600LL * 1000000) e.Add("held_at", "is in the future");
    Length(e, "summary", req->summary(), 20000, true);
    validate::DistinctTexts(e, "follow_ups", req->follow_ups(), 20, 1000);
    Uuid(e, "risk_item_id", req->risk_item_id(), false);
    SM_RETURN_IF_ERROR(e.ToStatus());
    const std::string talker = req->talker_person_id().empty() ? call.principal.user : req->talker_person_id();
    StepFacts facts;
    SM_RETURN_IF_ERROR(store_->SubjectFacts(nullptr, req->person_id(), "", facts));
    if (IsUuid(talker)) {
      SM_ASSIGN_OR_RETURN(facts.talker, Known(store_->Person(talker)));
    }
    return Step<v1::TalkReply>(
        call, *req, req->request_id(), "RecordTalk", std::move(facts),
        [&](db::Tx& tx, StepFacts& f) -> absl::StatusOr<Change> {
          if (!req->risk_item_id().empty()) {
            if (auto it = store_->LoadItem(tx, req->risk_item_id(), false)) f.talk_item = std::move(it->doc);
          }
          return risk::RecordTalk(*req, call.principal, f);
        },
        [](const Change& c, v1::TalkReply* r) { *r->mutable_talk() = c.talk->stored.doc; }, reply);
  });
}

}  // namespace sm::risk
