#include "services/clue/service.h"

#include <unordered_map>

#include <absl/strings/numbers.h>

#include <set>

#include "common/chain_guard.h"
#include "common/crypto.h"
#include "common/log.h"
#include "common/paging.h"
#include "common/status.h"
#include "common/uuid.h"
#include "common/validate.h"
#include "common/event_stream.h"
#include "common/db/idempotency.h"
#include "common/db/sql.h"

namespace sm::clue {
namespace {

constexpr size_t kMaxSummary = 500;
constexpr size_t kMaxDetails = 20000;
constexpr size_t kMaxReason = 1000;
constexpr size_t kMaxFeedback = 4000;
constexpr int kMaxSubjects = 50;

using validate::Length;
using validate::RequestId;
using validate::Uuid;
using validate::Version;

bool Oversight(const auth::Principal& p) { return p.HasRole(auth::kRoleOversight); }

absl::Status RequireCaseStaff(const auth::Principal& p) {
  return auth::RequireAnyRole(p, {auth::kRoleDiscipline});
}

absl::Status RequireReader(const auth::Principal& p) {
  return auth::RequireAnyRole(p, {auth::kRoleDiscipline, auth::kRoleOversight});
}

// The source system a service refers under: its name without "-service" ("audit-service"
// refers findings as source_system "audit").
std::string SourceSystemOf(const auth::Principal& p) {
  constexpr std::string_view kSuffix = "-service";
  const std::string& name = p.user;
  if (name.size() > kSuffix.size() && name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0) {
    return name.substr(0, name.size() - kSuffix.size());
  }
  return name;
}

std::string Fingerprint(const google::protobuf::Message& m) { return crypto::Sha256Hex(m.SerializeAsString()); }

std::string DetailsAad(const std::string& id) { return "clue:" + id + ":details"; }
std::string ReporterAad(const std::string& id) { return "clue:" + id + ":reporter"; }

}  // namespace

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
      feed_hub_("clue", [store](const Cursor& after, int limit) { return store->Feed(after, limit); }, listener,
                streams) {
  feed_hub_.Start();
  stats_version_refresher_.Start(std::chrono::milliseconds(100), [this] {
    stats_version_.Refresh([this] { return store_->StatsVersion(); });
  });
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

Rules ClueServiceImpl::RulesNow() const { return Rules{clock_.Now(), limits_, calendar_}; }

absl::Status ClueServiceImpl::Step(const server::CallInfo& call, const google::protobuf::Message& req,
                                   StepRequest step, StepFacts facts, v1::ClueReply* reply) {
  SM_RETURN_IF_ERROR(RequireCaseStaff(call.principal));
  const db::Idempotency::Key key{db::CallerKey(call.principal, RequestIdOf(step)), std::string(MethodOf(step)),
                                 Fingerprint(req)};
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
      if (s.subject_case() == v1::ClueSubject::kPersonId) Uuid(e, f + ".person_id", s.person_id());
      else if (s.subject_case() == v1::ClueSubject::kUnitId) Uuid(e, f + ".unit_id", s.unit_id());
      else e.Add(f, "give person_id or unit_id");
      if (!subjects_seen.insert(s.person_id() + "/" + s.unit_id()).second) e.Add(f, "repeats an earlier subject");
    }
    if (req->categories_size() == 0) e.Add("categories", "give at least one category");
    if (req->categories_size() > v1::ClueCategory_MAX) e.Add("categories", "at most " + std::to_string(v1::ClueCategory_MAX));
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
        if (absl::IsNotFound(person.status())) return InvalidField("subjects[" + std::to_string(i) + "].person_id", "no such person");
        SM_RETURN_IF_ERROR(person.status());
        out->set_person_id(in.person_id());
        out->set_display_name(person->name);
      } else {
        auto unit = store_->Unit(in.unit_id());
        if (absl::IsNotFound(unit.status())) return InvalidField("subjects[" + std::to_string(i) + "].unit_id", "no such unit");
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
    if (req->has_received_at()) *c.mutable_received_at() = req->received_at();
    else *c.mutable_received_at() = db::TimestampOf(now);
    *c.mutable_registered_at() = db::TimestampOf(now);
    if (!req->details().empty()) s.details_sealed = keys_->Seal(req->details(), DetailsAad(c.id()));
    if (req->has_reporter() && !req->reporter().anonymous()) {
      s.reporter_sealed = keys_->Seal(req->reporter().SerializeAsString(), ReporterAad(c.id()));
      c.set_reporter_on_file(true);
    }
    const std::string_view reporter = !req->has_reporter() ? "none" : req->reporter().anonymous() ? "anonymous" : "named";
    Rules rules = RulesNow();
    rules.now = now;
    const auto events = Register(s, req->offer_to_unit_id(), reporter, rules);
    SM_ASSIGN_OR_RETURN(*reply, store_->Register(s, Actor{p.EndUser(), p.unit},
                                                 {db::CallerKey(p, req->request_id()), "RegisterClue", Fingerprint(*req)},
                                                 events));
    ForgetStatsVersion();
    return absl::OkStatus();
  });
}

grpc::Status ClueServiceImpl::TransferClue(grpc::ServerContext* ctx, const v1::TransferClueRequest* req,
                                           v1::ClueReply* reply) {
  return call_.Run(ctx, "TransferClue", [&](const server::CallInfo& call) -> absl::Status {
    FieldErrors e;
    RequestId(e, req->request_id());
    Uuid(e, "clue_id", req->clue_id());
    Version(e, req->expected_version());
    Uuid(e, "to_unit_id", req->to_unit_id());
    Length(e, "reason", req->reason(), kMaxReason, false);
    SM_RETURN_IF_ERROR(e.ToStatus());
    auto to = store_->Unit(req->to_unit_id());
    if (absl::IsNotFound(to.status()) || (to.ok() && !to->active)) return InvalidField("to_unit_id", "no such active unit");
    SM_RETURN_IF_ERROR(to.status());
    return Step(call, *req, *req, {}, reply);
  });
}

grpc::Status ClueServiceImpl::AcceptClue(grpc::ServerContext* ctx, const v1::AcceptClueRequest* req,
                                         v1::ClueReply* reply) {
  return call_.Run(ctx, "AcceptClue", [&](const server::CallInfo& call) -> absl::Status {
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
  return call_.Run(ctx, "ReturnClue", [&](const server::CallInfo& call) -> absl::Status {
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
  return call_.Run(ctx, "AssignHandler", [&](const server::CallInfo& call) -> absl::Status {
    // Role and standing first: the recusal answer says whether a person is a subject of
    // the clue, which only its holder may learn.
    SM_RETURN_IF_ERROR(RequireCaseStaff(call.principal));
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
  return call_.Run(ctx, "DisposeClue", [&](const server::CallInfo& call) -> absl::Status {
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
  return call_.Run(ctx, "ConcludeClue", [&](const server::CallInfo& call) -> absl::Status {
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
      if (!v1::ClueState_IsValid(req->state())) e.Add("state", "unknown state");
      else q.state = v1::ClueState_Name(req->state());
    }
    if (req->category() != v1::CLUE_CATEGORY_UNSPECIFIED) {
      if (!v1::ClueCategory_IsValid(req->category())) e.Add("category", "unknown category");
      else q.category = v1::ClueCategory_Name(req->category());
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
    q.received_to_us = validate::TimestampMicros(e, "received_to", req->has_received_to() ? &req->received_to() : nullptr);
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
          const Standing standing = StandingOf(call.principal, s.clue, it == custody.end() ? Custody::kNone : it->second);
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

// ---------------------------------------------------------------------------------------
// The two-person rule for the reporter (workflow.h has the rules; docs/clue.md the story).
// The identity is opened only inside RevealReporter, returned to the requester, and never
// stored in a reply record, an event, a log line or a cache.

namespace {

absl::Status RequireUser(const auth::Principal& p) {
  if (p.user.empty()) return absl::PermissionDeniedError("the token names no user");
  return absl::OkStatus();
}

}  // namespace

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
                                                     {db::CallerKey(p, req->request_id()), "RequestReveal",
                                                      Fingerprint(*req)}));
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
                                                                {db::CallerKey(p, req->request_id()), "DecideReveal",
                                                                 Fingerprint(*req)}));
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
    SM_ASSIGN_OR_RETURN(RevealOutcome done, store_->StepReveal(*req, p, RevealRulesNow(),
                                                                {db::CallerKey(p, req->request_id()), "RevealReporter",
                                                                 Fingerprint(*req)}));
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

grpc::Status ClueServiceImpl::VerifyChain(grpc::ServerContext* ctx, const v1::VerifyChainRequest* req,
                                          v1::VerifyChainResponse* resp) {
  return call_.Run(ctx, "VerifyChain", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(RequireReader(call.principal));
    if (!IsUuid(req->clue_id())) return InvalidField("clue_id", "must be a UUID");
    Standing standing = Standing::kNone;
    SM_ASSIGN_OR_RETURN(StoredClue s, LoadVisible(call.principal, req->clue_id(), &standing));
    if (!MayVerify(standing)) {
      return absl::PermissionDeniedError("verifying the chain is for the holding unit, a supervising unit and oversight");
    }
    SM_ASSIGN_OR_RETURN(chain::Check c, store_->VerifyChain(req->clue_id()));
    resp->set_intact(c.intact);
    resp->set_events(c.events);
    resp->set_first_broken_seq(c.first_broken_seq);
    resp->set_problem(c.problem);
    if (!c.intact) {
      log::Error("clue event chain broken", {{"clue_id", s.clue.id()}, {"seq", c.first_broken_seq}, {"problem", c.problem}});
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
        c, resp, [](auto* r, int64_t n) { r->set_clues(n); }, [](auto* b, const std::string& id) { b->set_clue_id(id); },
        "clue event chains");
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

grpc::Status ClueServiceImpl::ExtendDeadline(grpc::ServerContext* ctx, const v1::ExtendDeadlineRequest* req,
                                             v1::ClueReply* reply) {
  return call_.Run(ctx, "ExtendDeadline", [&](const server::CallInfo& call) -> absl::Status {
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
      return absl::PermissionDeniedError("an extension needs a leader of the holding unit (token subject must be that leader)");
    }
    SM_ASSIGN_OR_RETURN(UnitInfo approver_unit, store_->Unit(person->unit_id));
    StepFacts facts;
    facts.approver = std::move(*person);
    facts.approver_unit = std::move(approver_unit);
    return Step(call, *req, *req, std::move(facts), reply);
  });
}

grpc::Status ClueServiceImpl::AddNote(grpc::ServerContext* ctx, const v1::AddNoteRequest* req, v1::ClueReply* reply) {
  return call_.Run(ctx, "AddNote", [&](const server::CallInfo& call) -> absl::Status {
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
  return call_.Run(ctx, "MergeClues", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(RequireCaseStaff(call.principal));
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
    SM_ASSIGN_OR_RETURN(*reply, store_->Merge(req->primary_clue_id(), req->expected_version(), merged, call.principal,
                                              req->reason(),
                                              {db::CallerKey(call.principal, req->request_id()), "MergeClues",
                                               Fingerprint(*req)}));
    ForgetStatsVersion();
    return absl::OkStatus();
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

grpc::Status ClueServiceImpl::MarkIntervention(grpc::ServerContext* ctx, const v1::MarkInterventionRequest* req,
                                               v1::ClueReply* reply) {
  return call_.Run(ctx, "MarkIntervention", [&](const server::CallInfo& call) -> absl::Status {
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

absl::StatusOr<int> OverdueScanner::ScanOnce() { return store_->MarkOverdue(clock_.Now()); }

void OverdueScanner::Start(std::chrono::milliseconds interval) {
  worker_.Start(interval, [this] {
    auto n = ScanOnce();
    if (!n.ok()) {
      log::Warn("overdue scan failed", {{"error", std::string(n.status().message())}});
    } else if (*n > 0) {
      log::Info("overdue clues escalated", {{"count", *n}});
    }
  });
}

}  // namespace sm::clue
