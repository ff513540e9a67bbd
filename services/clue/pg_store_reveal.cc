#include "common/db/sql.h"
#include "common/status.h"
#include "services/clue/pg_rows.h"
#include "services/clue/pg_store.h"

// ---------------------------------------------------------------------------------------
// Reveal requests (the two-person rule for the reporter's identity).

namespace sm::clue {
namespace {

using db::Opt;
using db::SetMicros;
using db::Str;
using db::Tx;
using pg::AppendTo;
using pg::Bool;
using pg::Load;
using pg::LoadLocked;
using pg::Micros;
using pg::OptStr;
using pg::TsParam;

#define SM_TS(n) "('epoch'::timestamptz + $" #n "::bigint * interval '1 microsecond')"
#define SM_US(col) "(extract(epoch FROM " col ") * 1000000)::bigint"

constexpr char kRevealSelect[] =
    "SELECT r.id::text, r.clue_id::text, c.number, r.state, r.requester, r.requester_unit_id::text, r.reason, "
    "r.approvals_needed, " SM_US("r.requested_at") ", " SM_US("r.approved_at") ", " SM_US("r.expires_at") ", " SM_US(
        "r.used_at") ", r.version FROM reveal_requests r JOIN clues c ON c.id = r.clue_id ";
constexpr char kRevealById[] = "WHERE r.id = $1::uuid";
constexpr char kRevealLock[] = " FOR UPDATE OF r";
constexpr char kRevealDecisions[] =
    "SELECT reveal_request_id::text, custodian, custodian_unit_id, approve, reason, " SM_US(
        "decided_at") " FROM reveal_decisions WHERE reveal_request_id = ANY ($1::uuid[]) ORDER BY decided_at, "
                      "custodian";
constexpr char kRevealInsert[] =
    "INSERT INTO reveal_requests (id, clue_id, state, requester, requester_unit_id, reason, approvals_needed, "
    "requested_at) VALUES ($1::uuid, $2::uuid, $3, $4, $5::uuid, $6, $7::integer, " SM_TS(8) ")";
constexpr char kRevealUpdate[] = "UPDATE reveal_requests SET state = $2, approved_at = " SM_TS(
    3) ", expires_at = " SM_TS(4) ", used_at = " SM_TS(5) ", version = $6::bigint WHERE id = $1::uuid";
// ON CONFLICT: a second decision by the same custodian writes nothing (the caller refuses).
constexpr char kRevealDecide[] =
    "INSERT INTO reveal_decisions (reveal_request_id, custodian, custodian_unit_id, approve, reason, decided_at) "
    "VALUES ($1::uuid, $2, $3, $4::boolean, $5, " SM_TS(6) ") "
    "ON CONFLICT (reveal_request_id, custodian) DO NOTHING RETURNING 1";

#undef SM_TS
#undef SM_US

v1::RevealRequest FromRevealRow(const pqxx::row& r) {
  v1::RevealRequest q;
  q.set_id(Str(r[0]));
  q.set_clue_id(Str(r[1]));
  q.set_clue_number(Str(r[2]));
  v1::RevealState st;
  if (v1::RevealState_Parse(Str(r[3]), &st)) q.set_state(st);
  q.set_requester(Str(r[4]));
  q.set_requester_unit_id(Str(r[5]));
  q.set_reason(Str(r[6]));
  q.set_approvals_needed(r[7].as<int>());
  SetMicros(q.mutable_requested_at(), r[8].as<int64_t>());
  if (!r[9].is_null()) SetMicros(q.mutable_approved_at(), r[9].as<int64_t>());
  if (!r[10].is_null()) SetMicros(q.mutable_expires_at(), r[10].as<int64_t>());
  if (!r[11].is_null()) SetMicros(q.mutable_used_at(), r[11].as<int64_t>());
  q.set_version(r[12].as<int64_t>());
  return q;
}

// Fills each request's decisions and approval count with one query.
void LoadDecisions(Tx& tx, std::vector<v1::RevealRequest>& requests) {
  if (requests.empty()) return;
  std::vector<std::string> ids;
  std::unordered_map<std::string, v1::RevealRequest*> by_id;
  for (auto& q : requests) {
    ids.push_back(q.id());
    by_id[q.id()] = &q;
  }
  for (const auto& r : tx.exec_params(kRevealDecisions, db::TextArrayLiteral(ids))) {
    auto it = by_id.find(Str(r[0]));
    if (it == by_id.end()) continue;
    auto* d = it->second->add_decisions();
    d->set_custodian(Str(r[1]));
    d->set_custodian_unit_id(Str(r[2]));
    const bool approve = r[3].as<bool>();
    d->set_verdict(approve ? v1::REVEAL_VERDICT_APPROVE : v1::REVEAL_VERDICT_REFUSE);
    d->set_reason(Str(r[4]));
    SetMicros(d->mutable_decided_at(), r[5].as<int64_t>());
    if (approve) it->second->set_approvals(it->second->approvals() + 1);
  }
}

std::optional<v1::RevealRequest> LoadReveal(Tx& tx, const std::string& id, bool for_update) {
  pqxx::result r = tx.exec_params(std::string(kRevealSelect) + kRevealById + (for_update ? kRevealLock : ""), id);
  if (r.empty()) return std::nullopt;
  std::vector<v1::RevealRequest> one{FromRevealRow(r[0])};
  LoadDecisions(tx, one);
  return std::move(one[0]);
}

}  // namespace

absl::StatusOr<v1::RevealRequestReply> PgStore::CreateReveal(const v1::RequestRevealRequest& request,
                                                             const auth::Principal& caller, const std::string& id,
                                                             const RevealRules& rules,
                                                             const db::Idempotency::Key& key) {
  const Actor actor{caller.EndUser(), caller.unit};
  return idempotency_.Write<v1::RevealRequestReply>(
      *pool_, key, [&](Tx& tx, v1::RevealRequestReply& out) -> absl::Status {
        auto loaded = LoadLocked(tx, {request.clue_id()}, caller.unit);
        if (loaded.empty()) return absl::NotFoundError("clue not found");
        StoredClue& clue = loaded[0].first;
        SM_ASSIGN_OR_RETURN(RevealChange change,
                            DecideRevealRequest(clue, loaded[0].second, caller, request, id, rules));
        const v1::RevealRequest& r = change.after;
        tx.exec_params0(kRevealInsert, r.id(), r.clue_id(), v1::RevealState_Name(r.state()), r.requester(),
                        r.requester_unit_id(), r.reason(), std::to_string(r.approvals_needed()),
                        std::to_string(Micros(r.requested_at())));
        AppendTo(tx, log_, clue, actor, change.event, NowMicros(clock_));
        *out.mutable_request() = r;
        return absl::OkStatus();
      });
}

absl::StatusOr<RevealOutcome> PgStore::StepReveal(const RevealStepRequest& request, const auth::Principal& caller,
                                                  const RevealRules& rules, const db::Idempotency::Key& key) {
  const Actor actor{caller.EndUser(), caller.unit};
  std::string reporter_sealed;
  auto reply =
      idempotency_.Write<v1::RevealRequestReply>(*pool_, key, [&](Tx& tx, v1::RevealRequestReply& out) -> absl::Status {
        // The request first, then its clue (for the chain): every reveal step locks in this
        // order, so concurrent decisions queue on the request and cannot deadlock.
        const std::string& reveal_id = RevealIdOf(request);
        auto current = LoadReveal(tx, reveal_id, true);
        if (!current) return absl::NotFoundError("reveal request not found");
        auto clue = Load(tx, current->clue_id(), true);
        if (!clue) return absl::NotFoundError("clue not found");
        SM_ASSIGN_OR_RETURN(RevealChange change, DecideRevealStep(*current, *clue, caller, request, rules));
        const int64_t now_us = NowMicros(clock_);
        v1::RevealRequest& a = change.after;
        if (change.decision) {
          const v1::RevealDecision& d = *change.decision;
          pqxx::result written = tx.exec_params(kRevealDecide, reveal_id, d.custodian(), d.custodian_unit_id(),
                                                Bool(d.verdict() == v1::REVEAL_VERDICT_APPROVE), d.reason(),
                                                std::to_string(Micros(d.decided_at())));
          if (written.empty()) return absl::AlreadyExistsError("this custodian already decided the reveal request");
          *a.add_decisions() = d;
          if (d.verdict() == v1::REVEAL_VERDICT_APPROVE) a.set_approvals(a.approvals() + 1);
        }
        a.set_version(current->version() + 1);
        tx.exec_params0(kRevealUpdate, reveal_id, v1::RevealState_Name(a.state()), TsParam(a.approved_at()),
                        TsParam(a.expires_at()), TsParam(a.used_at()), std::to_string(a.version()));
        AppendTo(tx, log_, *clue, actor, change.event, now_us);
        reporter_sealed = std::holds_alternative<v1::RevealReporterRequest>(request) ? clue->reporter_sealed : "";
        *out.mutable_request() = std::move(a);
        return absl::OkStatus();
      });
  if (!reply.ok()) return reply.status();
  if (reply->mutation().replayed()) reporter_sealed.clear();
  return RevealOutcome{std::move(*reply), std::move(reporter_sealed)};
}

absl::StatusOr<v1::RevealRequest> PgStore::GetReveal(const std::string& reveal_id) {
  std::optional<v1::RevealRequest> out;
  absl::Status s = db::WithTransaction(
      *pool_,
      [&](Tx& tx) -> absl::Status {
        out = LoadReveal(tx, reveal_id, false);
        return out ? absl::OkStatus() : absl::NotFoundError("reveal request not found");
      },
      db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return std::move(*out);
}

absl::StatusOr<std::vector<v1::RevealRequest>> PgStore::ListReveals(const RevealQuery& q) {
  std::vector<v1::RevealRequest> out;
  db::Where where;
  if (q.requester) where.Add("r.requester = ?", {*q.requester});
  if (q.undecided_by) {
    where.Add(
        "r.state = 'REVEAL_STATE_PENDING' AND r.requester <> ? AND NOT EXISTS (SELECT 1 FROM reveal_decisions d "
        "WHERE d.reveal_request_id = r.id AND d.custodian = ?)",
        {*q.undecided_by, *q.undecided_by});
  }
  if (q.clue_id) where.Add("r.clue_id = ?::uuid", {*q.clue_id});
  if (q.after) {
    where.Add("(r.requested_at, r.id) < (" + std::string(db::kTimestampExpr) + ", ?::uuid)",
              {std::to_string(q.after->first), q.after->second});
  }
  const std::string limit = where.Param(std::to_string(q.limit));
  absl::Status s = db::WithTransaction(
      *pool_,
      [&](Tx& tx) -> absl::Status {
        out.clear();
        pqxx::result r = tx.exec_params(std::string(kRevealSelect) + "WHERE " + where.Sql() +
                                            " ORDER BY r.requested_at DESC, r.id DESC LIMIT " + limit,
                                        pqxx::prepare::make_dynamic_params(where.params()));
        for (const auto& row : r) out.push_back(FromRevealRow(row));
        LoadDecisions(tx, out);
        return absl::OkStatus();
      },
      db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return out;
}

}  // namespace sm::clue
