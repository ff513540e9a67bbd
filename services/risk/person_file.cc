// The personnel file (一人一档): this service's records of a person, and what clue-, audit-
// and inspection-service show the caller about them. Those parts are asked of the owning
// services at once, with the caller's own token, so each service applies its own access
// rules; a service that does not answer within the deadline is named in `missing` and the
// rest of the file still comes back.
#include <future>

#include "common/log.h"
#include "common/status.h"
#include "common/uuid.h"
#include "services/risk/service.h"

namespace sm::risk {
namespace {

v1::FileEntry Entry(const google::protobuf::Timestamp& at, const std::string& source, const std::string& kind,
                    const std::string& ref, const std::string& number, const std::string& title,
                    const std::string& state, bool disciplinary = false) {
  v1::FileEntry e;
  *e.mutable_at() = at;
  e.set_source(source);
  e.set_kind(kind);
  e.set_ref(ref);
  e.set_number(number);
  e.set_title(title);
  e.set_state(state);
  e.set_disciplinary(disciplinary);
  return e;
}

// One part of the file, as gathered from one service.
struct Part {
  v1::FilePart part;
  std::vector<v1::FileEntry> entries;
};

// Pages through a list with `call(ctx, page_token, &next)`, each on a fresh context that
// `prepare` fills, until `limit` entries or the end.
template <typename Prepare, typename Call>
void Pages(Part& out, int limit, const Prepare& prepare, Call call) {
  std::string token;
  do {
    std::string next;
    grpc::ClientContext ctx;
    prepare(ctx);
    grpc::Status s = call(&ctx, token, &next);
    if (s.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
      // The service keeps this part from the caller: shown as empty, not missing.
      out.part.set_error("PERMISSION_DENIED: " + s.error_message());
      return;
    }
    if (!s.ok()) {
      out.part.set_available(false);
      out.part.set_error(std::string(GrpcCodeName(s.error_code())) + ": " + s.error_message());
      return;
    }
    token = next;
    if (static_cast<int>(out.entries.size()) >= limit) {
      out.part.set_truncated(!token.empty());
      out.entries.resize(limit);
      return;
    }
  } while (!token.empty());
}

}  // namespace

void RiskServiceImpl::AskServices(grpc::ServerContext* ctx, const std::string& person_id, v1::PersonFile* file) {
  // The caller's own credentials, passed on as they came.
  std::string authorization;
  auto md = ctx->client_metadata().find("authorization");
  if (md != ctx->client_metadata().end()) authorization.assign(md->second.data(), md->second.size());
  const auto deadline = std::chrono::system_clock::now() + sources_.deadline;
  auto prepare = [&](grpc::ClientContext& c) {
    c.set_deadline(deadline);
    c.AddMetadata("authorization", authorization);
  };
  const int limit = sources_.entries_per_part;
  auto unavailable = [](const std::string& source) {
    Part p;
    p.part.set_source(source);
    p.part.set_available(false);
    p.part.set_error("UNAVAILABLE: not configured");
    return p;
  };

  auto clue = std::async(std::launch::async, [&]() -> Part {
    if (!clue_) return unavailable("clue");
    Part p;
    p.part.set_source("clue");
    p.part.set_available(true);
    Pages(p, limit, prepare, [&](grpc::ClientContext* c, const std::string& page, std::string* next) {
      v1::ListCluesRequest q;
      q.set_subject_person_id(person_id);
      q.set_page_size(500);
      q.set_page_token(page);
      v1::ListCluesResponse r;
      grpc::Status s = clue_->ListClues(c, q, &r);
      for (const auto& x : r.clues()) {
        p.entries.push_back(Entry(x.received_at(), "clue", "clue", x.id(), x.number(), x.summary(),
                                  Unprefixed(v1::ClueState_Name(x.state()), "CLUE_STATE_")));
      }
      *next = r.next_page_token();
      return s;
    });
    return p;
  });
  auto audit = std::async(std::launch::async, [&]() -> Part {
    if (!audit_) return unavailable("audit");
    Part p;
    p.part.set_source("audit");
    p.part.set_available(true);
    Pages(p, limit, prepare, [&](grpc::ClientContext* c, const std::string& page, std::string* next) {
      v1::ListFindingsRequest q;
      q.set_responsible_person_id(person_id);
      q.set_page_size(500);
      q.set_page_token(page);
      v1::ListFindingsResponse r;
      grpc::Status s = audit_->ListFindings(c, q, &r);
      for (const auto& x : r.findings()) {
        p.entries.push_back(Entry(x.created_at(), "audit", "audit_finding", x.id(), x.number(), x.title(),
                                  Unprefixed(v1::Severity_Name(x.severity()), "SEVERITY_")));
      }
      *next = r.next_page_token();
      return s;
    });
    return p;
  });
  auto inspection = std::async(std::launch::async, [&]() -> Part {
    if (!inspection_) return unavailable("inspection");
    Part p;
    p.part.set_source("inspection");
    p.part.set_available(true);
    Pages(p, limit, prepare, [&](grpc::ClientContext* c, const std::string& page, std::string* next) {
      v1::ListInspectionFindingsRequest q;
      q.set_subject_person_id(person_id);
      q.set_page_size(200);
      q.set_page_token(page);
      v1::ListInspectionFindingsResponse r;
      grpc::Status s = inspection_->ListFindings(c, q, &r);
      for (const auto& x : r.findings()) {
        p.entries.push_back(Entry(x.created_at(), "inspection", "inspection_finding", x.id(), x.number(), x.title(),
                                  Unprefixed(v1::Severity_Name(x.severity()), "SEVERITY_")));
      }
      *next = r.next_page_token();
      return s;
    });
    if (!p.part.available()) return p;
    Pages(p, limit, prepare, [&](grpc::ClientContext* c, const std::string& page, std::string* next) {
      v1::ListMeasuresRequest q;
      q.set_person_id(person_id);
      q.set_page_size(200);
      q.set_page_token(page);
      v1::ListMeasuresResponse r;
      grpc::Status s = inspection_->ListMeasures(c, q, &r);
      for (const auto& x : r.measures()) {
        p.entries.push_back(Entry(x.created_at(), "inspection", "measure", x.id(), "", x.reason(),
                                  Unprefixed(v1::MeasureKind_Name(x.kind()), "MEASURE_KIND_") + "/" +
                                      Unprefixed(v1::MeasureState_Name(x.state()), "MEASURE_STATE_"),
                                  true));
      }
      *next = r.next_page_token();
      return s;
    });
    if (!p.part.available()) return p;
    Pages(p, limit, prepare, [&](grpc::ClientContext* c, const std::string& page, std::string* next) {
      v1::ListAccountabilityChecksRequest q;
      q.set_leader_person_id(person_id);
      q.set_page_size(200);
      q.set_page_token(page);
      v1::ListAccountabilityChecksResponse r;
      grpc::Status s = inspection_->ListAccountabilityChecks(c, q, &r);
      for (const auto& x : r.checks()) {
        p.entries.push_back(Entry(x.created_at(), "inspection", "accountability_check", x.id(), x.clue_number(),
                                  Unprefixed(v1::LeaderDuty_Name(x.duty()), "LEADER_DUTY_"),
                                  Unprefixed(v1::AccountabilityOutcome_Name(x.outcome()), "ACCOUNTABILITY_OUTCOME_")));
      }
      *next = r.next_page_token();
      return s;
    });
    return p;
  });

  static const std::map<std::string, std::string> kService = {
      {"clue", "clue-service"}, {"audit", "audit-service"}, {"inspection", "inspection-service"}};
  for (auto* f : {&clue, &audit, &inspection}) {
    Part p = f->get();
    p.part.set_entries(static_cast<int>(p.entries.size()));
    if (!p.part.available()) {
      file->add_missing(kService.at(p.part.source()));
      log::Warn("person file part missing", {{"source", p.part.source()}, {"error", p.part.error()}});
    }
    for (auto& e : p.entries) *file->add_timeline() = std::move(e);
    *file->add_parts() = std::move(p.part);
  }
}

grpc::Status RiskServiceImpl::GetPersonFile(grpc::ServerContext* ctx, const v1::GetPersonFileRequest* req,
                                            v1::PersonFile* resp) {
  return call_.Run(ctx, "GetPersonFile", [&](const server::CallInfo& call) -> absl::Status {
    const auth::Principal& p = call.principal;
    if (!IsUuid(req->person_id())) return InvalidField("person_id", "must be a UUID");
    if (p.user == req->person_id()) {
      log::Warn("access denied", {{"method", "GetPersonFile"}, {"user", p.user}, {"reason", "own file"}});
      return absl::PermissionDeniedError("no one may read their own personnel file");
    }
    SM_ASSIGN_OR_RETURN(CallerFacts c, store_->CallerOf(p));
    StepFacts subject;
    SM_RETURN_IF_ERROR(store_->SubjectFacts(nullptr, req->person_id(), "", subject));
    if (!subject.person || !subject.unit) return absl::NotFoundError("person not found");
    const Access a = AccessTo(p, c, req->person_id(), ChainOf(*subject.unit));
    if (a == Access::kNone) {
      log::Warn("access denied", {{"method", "GetPersonFile"}, {"user", p.user}, {"reason", "unrelated person"}});
      return absl::NotFoundError("person not found");
    }
    if (a == Access::kRecords) {
      return absl::PermissionDeniedError(
          "the personnel file is for the political department, discipline units and the person's unit leaders");
    }
    resp->set_person_id(subject.person->id);
    resp->set_person_name(subject.person->name);
    resp->set_unit_id(subject.unit->id);
    resp->set_unit_name(subject.unit->name);
    // The other services are asked while this one reads its own part.
    auto others = std::async(std::launch::async, [&] { AskServices(ctx, req->person_id(), resp); });
    auto score = store_->Score(req->person_id());
    auto mine = store_->PersonRecords(req->person_id(), sources_.entries_per_part);
    v1::ListRiskPointsRequest pq;
    pq.set_person_id(req->person_id());
    auto points = store_->ListPoints(pq, std::nullopt, 100);
    others.get();
    if (!score.ok()) return score.status();
    if (!mine.ok()) return mine.status();
    if (!points.ok()) return points.status();
    *resp->mutable_score() = *std::move(score);
    resp->mutable_score()->set_person_name(subject.person->name);
    for (auto& rp : *points) {
      if (resp->post_name().empty()) resp->set_post_name(rp.post_name());
      *resp->add_risk_points() = std::move(rp);
    }
    v1::FilePart own;
    own.set_source("risk");
    own.set_available(true);
    for (auto& it : mine->first) {
      resp->add_timeline()->CopyFrom(Entry(it.created_at(), "risk", "risk_item", it.id(), it.number(), it.description(),
                                           Unprefixed(v1::RiskItemState_Name(it.state()), "RISK_ITEM_STATE_")));
      *resp->add_items() = std::move(it);
    }
    for (auto& t : mine->second) {
      ShowTalk(t, a);
      resp->add_timeline()->CopyFrom(Entry(t.held_at(), "risk", "talk", t.id(), "",
                                           Unprefixed(v1::TalkKind_Name(t.kind()), "TALK_KIND_"), "",
                                           t.disciplinary()));
      *resp->add_talks() = std::move(t);
    }
    own.set_entries(static_cast<int>(mine->first.size() + mine->second.size()));
    *resp->add_parts() = std::move(own);
    std::stable_sort(resp->mutable_timeline()->begin(), resp->mutable_timeline()->end(),
                     [](const v1::FileEntry& x, const v1::FileEntry& y) {
                       return std::make_pair(x.at().seconds(), x.at().nanos()) >
                              std::make_pair(y.at().seconds(), y.at().nanos());
                     });
    return absl::OkStatus();
  });
}

}  // namespace sm::risk
