#include "services/audit/pg_store.h"

#include <stdexcept>

#include <google/protobuf/util/message_differencer.h>

#include "common/db/sql.h"
#include "common/log.h"
#include "common/outbox.h"
#include "common/status.h"
#include "common/workdays.h"
#include "services/audit/workflow.h"

namespace sm::audit {
namespace {

using db::Tx;
using OptStr = std::optional<std::string>;
using db::Micros;
using db::Opt;
using db::SetMicros;
using db::Str;
using google::protobuf::util::MessageDifferencer;

OptStr Ts(const google::protobuf::Timestamp& t) { return db::MicrosOrNull(t); }
int64_t NowMicros(const Clock& c) {
  return std::chrono::duration_cast<std::chrono::microseconds>(c.Now().time_since_epoch()).count();
}
std::string At(int n) { return db::TimestampParam(n); }
std::string Us(const std::string& col) { return db::MicrosOf(col); }
std::vector<std::string> ParseArray(const pqxx::field& f) { return db::TextArray(f); }
std::string ArrayLiteral(const google::protobuf::RepeatedPtrField<std::string>& v) { return db::TextArrayLiteral(v); }

// ---- engagements ----
const std::string kEngagementCols =
    "id::text, number, kind, title, audit_unit_id::text, audited_unit_id::text, audited_person_id::text, "
    "period_from::text, period_to::text, it_stage, state, version, " + Us("created_at");

v1::Engagement EngagementFromRow(const pqxx::row& r) {
  v1::Engagement e;
  e.set_id(Str(r[0]));
  e.set_number(Str(r[1]));
  v1::EngagementKind k;
  if (v1::EngagementKind_Parse(Str(r[2]), &k)) e.set_kind(k);
  e.set_title(Str(r[3]));
  e.set_audit_unit_id(Str(r[4]));
  e.set_audited_unit_id(Str(r[5]));
  e.set_audited_person_id(Str(r[6]));
  e.set_period_from(Str(r[7]));
  e.set_period_to(Str(r[8]));
  v1::ItStage st;
  if (v1::ItStage_Parse(Str(r[9]), &st)) e.set_it_stage(st);
  v1::EngagementState s;
  if (v1::EngagementState_Parse(Str(r[10]), &s)) e.set_state(s);
  e.set_version(r[11].as<int64_t>());
  SetMicros(e.mutable_created_at(), r[12].as<int64_t>());
  return e;
}

// Locked FOR NO KEY UPDATE: writers of an engagement still queue on it, but a finding's
// foreign-key check (FOR KEY SHARE, re-run whenever a transaction updates a finding row it
// has already written) does not wait for an AddFinding of the same engagement to commit.
std::optional<v1::Engagement> LoadEngagement(Tx& tx, const std::string& id, bool lock) {
  pqxx::result r = tx.exec_params("SELECT " + kEngagementCols + " FROM engagements WHERE id = $1::uuid" +
                                      (lock ? " FOR NO KEY UPDATE" : ""), id);
  if (r.empty()) return std::nullopt;
  return EngagementFromRow(r[0]);
}

// ---- findings ----
const std::string kFindingCols =
    "f.id::text, f.number, f.engagement_id::text, f.title, f.description, f.category, f.amount_fen, f.severity, "
    "f.responsible_unit_id::text, f.responsible_person_id::text, f.evidence_refs, f.referral_state, "
    "f.referral_to::text, f.clue_id::text, f.clue_number, f.clue_state, f.disposition, f.outcome_form, "
    "f.outcome_feedback, f.referral_error, f.recurring, f.recurs_finding_id::text, f.version, "
    "(SELECT count(*) FROM rectifications r WHERE r.finding_id = f.id AND r.state <> 'RECTIFICATION_STATE_SIGNED_OFF'), "
    "(SELECT count(*) FROM rectifications r WHERE r.finding_id = f.id AND r.state = 'RECTIFICATION_STATE_SIGNED_OFF'), " +
    Us("f.created_at");

v1::Finding FindingFromRow(const pqxx::row& r) {
  v1::Finding f;
  f.set_id(Str(r[0]));
  f.set_number(Str(r[1]));
  f.set_engagement_id(Str(r[2]));
  f.set_title(Str(r[3]));
  f.set_description(Str(r[4]));
  v1::FindingCategory c;
  if (v1::FindingCategory_Parse(Str(r[5]), &c)) f.set_category(c);
  f.set_amount_fen(r[6].as<int64_t>());
  v1::Severity sev;
  if (v1::Severity_Parse(Str(r[7]), &sev)) f.set_severity(sev);
  f.set_responsible_unit_id(Str(r[8]));
  f.set_responsible_person_id(Str(r[9]));
  for (const auto& e : ParseArray(r[10])) f.add_evidence_refs(e);
  auto* ref = f.mutable_referral();
  v1::ReferralState rs;
  if (v1::ReferralState_Parse(Str(r[11]), &rs)) ref->set_state(rs);
  ref->set_to_unit_id(Str(r[12]));
  ref->set_clue_id(Str(r[13]));
  ref->set_clue_number(Str(r[14]));
  v1::ClueState cs;
  if (v1::ClueState_Parse(Str(r[15]), &cs)) ref->set_clue_state(cs);
  v1::DispositionMethod dm;
  if (v1::DispositionMethod_Parse(Str(r[16]), &dm)) ref->set_disposition(dm);
  if (!r[17].is_null()) ref->set_outcome_form(static_cast<v1::SupervisionForm>(r[17].as<int>()));
  ref->set_outcome_feedback(Str(r[18]));
  ref->set_last_error(Str(r[19]));
  f.set_recurring(r[20].as<bool>());
  f.set_recurs_finding_id(Str(r[21]));
  f.set_version(r[22].as<int64_t>());
  f.set_rectifications_open(r[23].as<int>());
  f.set_rectifications_signed_off(r[24].as<int>());
  SetMicros(f.mutable_created_at(), r[25].as<int64_t>());
  return f;
}

std::optional<v1::Finding> LoadFinding(Tx& tx, const std::string& id, bool lock) {
  if (lock) tx.exec_params("SELECT 1 FROM findings WHERE id = $1::uuid FOR UPDATE", id);
  pqxx::result r = tx.exec_params("SELECT " + kFindingCols + " FROM findings f WHERE f.id = $1::uuid", id);
  if (r.empty()) return std::nullopt;
  return FindingFromRow(r[0]);
}

void WriteFinding(Tx& tx, const v1::Finding& f) {
  const auto& ref = f.referral();
  tx.exec_params0(
      "UPDATE findings SET title = $2, description = $3, category = $4, amount_fen = $5, severity = $6, "
      "  responsible_unit_id = $7::uuid, responsible_person_id = $8::uuid, evidence_refs = $9::text[], "
      "  referral_state = $10, referral_to = $11::uuid, clue_id = $12::uuid, clue_number = $13, clue_state = $14, "
      "  disposition = $15, outcome_form = $16, outcome_feedback = $17, referral_error = $18, version = $19 "
      "WHERE id = $1::uuid",
      f.id(), f.title(), f.description(), v1::FindingCategory_Name(f.category()), f.amount_fen(),
      v1::Severity_Name(f.severity()), f.responsible_unit_id(), Opt(f.responsible_person_id()),
      ArrayLiteral(f.evidence_refs()), v1::ReferralState_Name(ref.state()), Opt(ref.to_unit_id()), Opt(ref.clue_id()),
      Opt(ref.clue_number()),
      ref.clue_state() == v1::CLUE_STATE_UNSPECIFIED ? OptStr() : OptStr(v1::ClueState_Name(ref.clue_state())),
      ref.disposition() == v1::DISPOSITION_METHOD_UNSPECIFIED ? OptStr() : OptStr(v1::DispositionMethod_Name(ref.disposition())),
      ref.outcome_form() == v1::SUPERVISION_FORM_UNSPECIFIED ? std::optional<int>() : std::optional<int>(ref.outcome_form()),
      Opt(ref.outcome_feedback()), Opt(ref.last_error()), f.version());
}

// ---- rectifications ----
const std::string kRectCols = "id::text, finding_id::text, measure, owner_unit_id::text, " + Us("deadline_at") +
                              ", state, overdue, spot_check, " + Us("signed_off_at") + ", " + Us("lookback_until") +
                              ", reopened, version, last_note";

v1::Rectification RectFromRow(const pqxx::row& r) {
  v1::Rectification x;
  x.set_id(Str(r[0]));
  x.set_finding_id(Str(r[1]));
  x.set_measure(Str(r[2]));
  x.set_owner_unit_id(Str(r[3]));
  SetMicros(x.mutable_deadline_at(), r[4].as<int64_t>());
  v1::RectificationState s;
  if (v1::RectificationState_Parse(Str(r[5]), &s)) x.set_state(s);
  x.set_overdue(r[6].as<bool>());
  x.set_spot_check(r[7].as<bool>());
  if (!r[8].is_null()) SetMicros(x.mutable_signed_off_at(), r[8].as<int64_t>());
  if (!r[9].is_null()) SetMicros(x.mutable_lookback_until(), r[9].as<int64_t>());
  x.set_reopened(r[10].as<int>());
  x.set_version(r[11].as<int64_t>());
  x.set_last_note(Str(r[12]));
  return x;
}

std::optional<v1::Rectification> LoadRect(Tx& tx, const std::string& id, bool lock) {
  pqxx::result r = tx.exec_params("SELECT " + kRectCols + " FROM rectifications WHERE id = $1::uuid" +
                                      (lock ? " FOR UPDATE" : ""), id);
  if (r.empty()) return std::nullopt;
  return RectFromRow(r[0]);
}

void WriteRect(Tx& tx, const v1::Rectification& x) {
  tx.exec_params0("UPDATE rectifications SET measure = $2, owner_unit_id = $3::uuid, deadline_at = " + At(4) +
                      ", state = $5, overdue = $6, spot_check = $7, signed_off_at = " + At(8) +
                      ", lookback_until = " + At(9) + ", reopened = $10, version = $11, last_note = $12 "
                      "WHERE id = $1::uuid",
                  x.id(), x.measure(), x.owner_unit_id(), Micros(x.deadline_at()),
                  v1::RectificationState_Name(x.state()), x.overdue(), x.spot_check(), Ts(x.signed_off_at()),
                  Ts(x.lookback_until()), x.reopened(), x.version(), x.last_note());
}

// ---- state digests (chain version 2) ----
// Every stored column of an engagement, and of a finding and its rectifications, but the
// chain: what each new event commits to (hash_chain.h) and verification recomputes. Read
// back from the row in the writer's transaction, so the digest is of exactly what is stored;
// dates and times as text that does not depend on the session's DateStyle or TimeZone. A new
// column goes into these lists under a new layout tag.
const std::string kEngagementState =
    "id::text, number, kind, title, audit_unit_id::text, audited_unit_id::text, audited_person_id::text, "
    "to_char(period_from, 'YYYY-MM-DD'), to_char(period_to, 'YYYY-MM-DD'), it_stage, state, version::text, " +
    Us("created_at") + "::text";
const std::string kFindingState =
    "id::text, number, engagement_id::text, title, description, category, amount_fen::text, severity, "
    "responsible_unit_id::text, responsible_person_id::text, evidence_refs::text, referral_state, referral_to::text, "
    "clue_id::text, clue_number, clue_state, disposition, outcome_form::text, outcome_feedback, referral_error, "
    "recurring::text, recurs_finding_id::text, version::text, " + Us("created_at") + "::text";
const std::string kRectificationState =
    "finding_id::text, id::text, measure, owner_unit_id::text, " + Us("deadline_at") + "::text, state, overdue::text, "
    "spot_check::text, " + Us("signed_off_at") + "::text, " + Us("lookback_until") + "::text, reopened::text, "
    "last_note, version::text, " + Us("created_at") + "::text";

void AddColumns(chain::StateDigester& d, const pqxx::row& r, pqxx::row::size_type from) {
  for (pqxx::row::size_type i = from; i < r.size(); ++i) d.Add(r[i].is_null() ? OptStr() : OptStr(r[i].c_str()));
}

}  // namespace

std::map<std::string, PgStore::ChainRow> PgStore::ChainRows(Tx& tx, const std::optional<std::string>& id) const {
  std::map<std::string, ChainRow> out;
  const std::string where = " WHERE $1::uuid IS NULL OR id = $1::uuid";
  for (const auto& r : tx.exec_params("SELECT chain_len, chain_head, " + kEngagementState + " FROM engagements" + where,
                                      id)) {
    chain::StateDigester d("sm-audit-engagement-state-v1");
    AddColumns(d, r, 2);
    out.emplace(Str(r[2]), ChainRow{true, chain::Evidence{{}, r[0].as<int64_t>(), Str(r[1]), d.Hex()}});
  }
  std::map<std::string, std::vector<pqxx::row>> rectifications;
  pqxx::result rects = tx.exec_params("SELECT " + kRectificationState + " FROM rectifications"
                                      " WHERE $1::uuid IS NULL OR finding_id = $1::uuid ORDER BY finding_id, id",
                                      id);
  for (const auto& r : rects) rectifications[Str(r[0])].push_back(r);
  for (const auto& r :
       tx.exec_params("SELECT chain_len, chain_head, " + kFindingState + " FROM findings" + where, id)) {
    chain::StateDigester d("sm-audit-finding-state-v1");
    AddColumns(d, r, 2);
    const auto& own = rectifications[Str(r[2])];
    d.Add(std::to_string(own.size()));
    for (const pqxx::row& x : own) AddColumns(d, x, 1);
    out.emplace(Str(r[2]), ChainRow{false, chain::Evidence{{}, r[0].as<int64_t>(), Str(r[1]), d.Hex()}});
  }
  return out;
}

absl::StatusOr<std::optional<chain::Evidence>> PgStore::ChainEvidence(Tx& tx, const std::string& id) const {
  auto rows = ChainRows(tx, id);
  if (rows.empty()) return std::nullopt;
  ChainRow& row = rows.begin()->second;
  SM_ASSIGN_OR_RETURN(auto history, (row.engagement ? engagement_log_ : finding_log_).Read(tx, id));
  row.evidence.events = std::move(history.events);
  return std::move(row.evidence);
}

PgStore::PgStore(db::Pool* pool, const Clock& clock, std::function<std::string()> new_id)
    : pool_(pool),
      clock_(clock),
      new_id_(std::move(new_id)),
      chain_(chain::Anchor("audit-service", "audit_anchor", "audit_chains", "audit_events", "aggregate_id"), pool,
             clock, &finding_log_, "engagement or finding",
             [this](Tx& tx, const std::string& id) { return ChainEvidence(tx, id); },
             [this](Tx& tx) {
               std::map<std::string, chain::Evidence> all;
               for (auto& [id, row] : ChainRows(tx, std::nullopt)) all.emplace(id, std::move(row.evidence));
               return all;
             }) {}

void PgStore::Changed() { stats_version_.Changed(); }

void PgStore::AppendEvents(Tx& tx, const std::vector<Event>& evs, const Actor& actor,
                           std::optional<int64_t> at_micros) {
  for (const auto& e : evs) {
    // Engagements and findings share the events table; each keeps its own chain, and each
    // event commits to its aggregate's row as this transaction has written it.
    auto rows = ChainRows(tx, e.aggregate_id);
    if (rows.empty()) throw std::logic_error("event for an aggregate that does not exist: " + e.aggregate_id);
    const ChainRow& row = rows.begin()->second;
    (row.engagement ? engagement_log_ : finding_log_)
        .Append(tx, e.aggregate_id, actor, e.type, e.data.dump(), at_micros.value_or(NowMicros(clock_)),
                *row.evidence.state_digest);
  }
}

template <typename Reply>
absl::StatusOr<Reply> PgStore::Idempotent(const Mutation& m, const std::function<absl::Status(Tx&, Reply&)>& body) {
  return idempotency_.Write<Reply>(*pool_, {m.request_id, m.method, m.fingerprint}, body, [this] { Changed(); });
}

absl::StatusOr<v1::EngagementReply> PgStore::CreateEngagement(const v1::Engagement& e_in, const Mutation& m) {
  return Idempotent<v1::EngagementReply>(m, [&](Tx& tx, v1::EngagementReply& out) -> absl::Status {
    v1::Engagement e = e_in;
    const int64_t n = tx.exec1("SELECT nextval('engagement_number_seq')")[0].as<int64_t>();
    char number[32];
    std::snprintf(number, sizeof number, "SJ-%04d-%04lld", workdays::LocalDate(clock_.Now()).year, static_cast<long long>(n));
    e.set_number(number);
    e.set_version(1);
    tx.exec_params0("INSERT INTO engagements (id, number, kind, title, audit_unit_id, audited_unit_id, audited_person_id, "
                    "period_from, period_to, it_stage, state) VALUES ($1::uuid, $2, $3, $4, $5::uuid, $6::uuid, $7::uuid, "
                    "$8::date, $9::date, $10, $11)",
                    e.id(), e.number(), v1::EngagementKind_Name(e.kind()), e.title(), e.audit_unit_id(),
                    e.audited_unit_id(), Opt(e.audited_person_id()), e.period_from(), e.period_to(),
                    v1::ItStage_Name(e.it_stage()), v1::EngagementState_Name(e.state()));
    AppendEvents(tx, {{e.id(), "engagement_created",
                       {{"kind", v1::EngagementKind_Name(e.kind())}, {"audited_unit_id", e.audited_unit_id()}}}},
                 m.actor);
    *out.mutable_engagement() = *LoadEngagement(tx, e.id(), false);
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::EngagementReply> PgStore::MutateEngagement(
    const std::string& id, const Mutation& m,
    const std::function<absl::StatusOr<Change<v1::Engagement>>(const v1::Engagement&)>& apply) {
  return Idempotent<v1::EngagementReply>(m, [&](Tx& tx, v1::EngagementReply& out) -> absl::Status {
    auto cur = LoadEngagement(tx, id, true);
    if (!cur) return absl::NotFoundError("engagement not found");
    if (m.expected_version != 0 && cur->version() != m.expected_version) {
      return absl::AbortedError("engagement changed: version is " + std::to_string(cur->version()));
    }
    SM_ASSIGN_OR_RETURN(auto ch, apply(*cur));
    tx.exec_params0("UPDATE engagements SET state = $2, title = $3, version = version + 1 WHERE id = $1::uuid", id,
                    v1::EngagementState_Name(ch.after.state()), ch.after.title());
    AppendEvents(tx, ch.events, m.actor);
    *out.mutable_engagement() = *LoadEngagement(tx, id, false);
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::Engagement> PgStore::GetEngagement(const std::string& id) {
  std::optional<v1::Engagement> e;
  absl::Status s = db::WithTransaction(*pool_, [&](Tx& tx) {
    e = LoadEngagement(tx, id, false);
    return e ? absl::OkStatus() : absl::NotFoundError("engagement not found");
  }, db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return *e;
}

absl::StatusOr<std::vector<v1::Engagement>> PgStore::ListEngagements(
    const v1::ListEngagementsRequest& q, const std::optional<std::string>& visible_to,
    std::optional<std::pair<int64_t, std::string>> after, int limit) {
  std::vector<v1::Engagement> out;
  absl::Status s = db::WithTransaction(*pool_, [&](Tx& tx) {
    for (const auto& r : tx.exec_params(
             "SELECT " + kEngagementCols + " FROM engagements WHERE ($1::uuid IS NULL OR audit_unit_id = $1::uuid "
             "OR audited_unit_id = $1::uuid) AND ($2::uuid IS NULL OR audited_unit_id = $2::uuid) "
             "AND ($3::text IS NULL OR kind = $3) AND ($4::bigint IS NULL OR (created_at, id) < (" + At(4) + ", $5::uuid)) "
             "ORDER BY created_at DESC, id DESC LIMIT $6",
             visible_to, Opt(q.audited_unit_id()),
             q.kind() == v1::ENGAGEMENT_KIND_UNSPECIFIED ? OptStr() : OptStr(v1::EngagementKind_Name(q.kind())),
             after ? std::optional<int64_t>(after->first) : std::nullopt,
             after ? OptStr(after->second) : OptStr(), limit)) {
      out.push_back(EngagementFromRow(r));
    }
    return absl::OkStatus();
  }, db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<v1::FindingReply> PgStore::AddFinding(const v1::Finding& f_in, const Mutation& m) {
  return Idempotent<v1::FindingReply>(m, [&](Tx& tx, v1::FindingReply& out) -> absl::Status {
    auto eng = LoadEngagement(tx, f_in.engagement_id(), true);
    if (!eng) return absl::NotFoundError("engagement not found");
    const int64_t ordinal =
        tx.exec_params1("SELECT count(*) + 1 FROM findings WHERE engagement_id = $1::uuid", eng->id())[0].as<int64_t>();
    char number[48];
    std::snprintf(number, sizeof number, "%s-%02lld", eng->number().c_str(), static_cast<long long>(ordinal));
    // A recurrence: the same unit had a finding of this category in an earlier engagement.
    pqxx::result earlier = tx.exec_params(
        "SELECT f.id::text FROM findings f JOIN engagements e ON e.id = f.engagement_id "
        "WHERE f.responsible_unit_id = $1::uuid AND f.category = $2 AND f.engagement_id <> $3::uuid "
        "  AND e.created_at < (SELECT created_at FROM engagements WHERE id = $3::uuid) "
        "ORDER BY f.created_at DESC LIMIT 1",
        f_in.responsible_unit_id(), v1::FindingCategory_Name(f_in.category()), eng->id());
    const std::string recurs = earlier.empty() ? "" : earlier[0][0].as<std::string>();
    tx.exec_params0(
        "INSERT INTO findings (id, number, engagement_id, title, description, category, amount_fen, severity, "
        "responsible_unit_id, responsible_person_id, evidence_refs, recurring, recurs_finding_id) VALUES "
        "($1::uuid, $2, $3::uuid, $4, $5, $6, $7, $8, $9::uuid, $10::uuid, $11::text[], $12, $13::uuid)",
        f_in.id(), std::string(number), eng->id(), f_in.title(), f_in.description(),
        v1::FindingCategory_Name(f_in.category()), f_in.amount_fen(), v1::Severity_Name(f_in.severity()),
        f_in.responsible_unit_id(), Opt(f_in.responsible_person_id()), ArrayLiteral(f_in.evidence_refs()),
        !recurs.empty(), Opt(recurs));
    std::vector<Event> evs = {{f_in.id(), "finding_added",
                               {{"engagement_id", eng->id()}, {"category", v1::FindingCategory_Name(f_in.category())},
                                {"amount_fen", f_in.amount_fen()}, {"responsible_unit_id", f_in.responsible_unit_id()}}}};
    if (!recurs.empty()) {
      // A recurring problem escalates: it is flagged on the finding and in the feed.
      evs.push_back({f_in.id(), "recurrence_flagged", {{"recurs_finding_id", recurs}}});
    }
    AppendEvents(tx, evs, m.actor);
    *out.mutable_finding() = *LoadFinding(tx, f_in.id(), false);
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::FindingReply> PgStore::MutateFinding(
    const std::string& id, const Mutation& m,
    const std::function<absl::StatusOr<Change<v1::Finding>>(const v1::Finding&)>& apply) {
  return Idempotent<v1::FindingReply>(m, [&](Tx& tx, v1::FindingReply& out) -> absl::Status {
    auto cur = LoadFinding(tx, id, true);
    if (!cur) return absl::NotFoundError("finding not found");
    if (m.expected_version != 0 && cur->version() != m.expected_version) {
      return absl::AbortedError("finding changed: version is " + std::to_string(cur->version()));
    }
    SM_ASSIGN_OR_RETURN(auto ch, apply(*cur));
    ch.after.set_version(cur->version() + 1);
    WriteFinding(tx, ch.after);
    if (ch.command && ch.command->retry) {
      if (!outbox::Requeue(tx, "audit", ch.command->dedupe_key)) {
        return absl::FailedPreconditionError("the referral command is not parked as dead");
      }
    } else if (ch.command) {
      outbox::Enqueue(tx, "audit", ch.command->kind, ch.command->dedupe_key, ch.command->payload);
    }
    AppendEvents(tx, ch.events, m.actor);
    *out.mutable_finding() = *LoadFinding(tx, id, false);
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::Finding> PgStore::GetFinding(const std::string& id) {
  std::optional<v1::Finding> f;
  absl::Status s = db::WithTransaction(*pool_, [&](Tx& tx) {
    f = LoadFinding(tx, id, false);
    return f ? absl::OkStatus() : absl::NotFoundError("finding not found");
  }, db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return *f;
}

absl::StatusOr<std::vector<v1::Finding>> PgStore::ListFindings(const v1::ListFindingsRequest& q,
                                                              const std::optional<std::string>& visible_to,
                                                              std::optional<std::pair<int64_t, std::string>> after,
                                                              int limit) {
  std::vector<v1::Finding> out;
  absl::Status s = db::WithTransaction(*pool_, [&](Tx& tx) {
    for (const auto& r : tx.exec_params(
             "SELECT " + kFindingCols + " FROM findings f JOIN engagements e ON e.id = f.engagement_id WHERE "
             "($1::uuid IS NULL OR e.audit_unit_id = $1::uuid OR f.responsible_unit_id = $1::uuid OR f.referral_to = $1::uuid"
             "  OR EXISTS (SELECT 1 FROM rectifications o WHERE o.finding_id = f.id AND o.owner_unit_id = $1::uuid))"
             " AND ($2::uuid IS NULL OR f.engagement_id = $2::uuid) AND ($3::uuid IS NULL OR f.responsible_unit_id = $3::uuid)"
             " AND ($4::text IS NULL OR f.category = $4) AND (NOT $5 OR f.referral_state <> 'REFERRAL_STATE_UNSPECIFIED')"
             " AND ($6::bigint IS NULL OR (f.created_at, f.id) > (" + At(6) + ", $7::uuid))"
             " ORDER BY f.created_at, f.id LIMIT $8",
             visible_to, Opt(q.engagement_id()), Opt(q.responsible_unit_id()),
             q.category() == v1::FINDING_CATEGORY_UNSPECIFIED ? OptStr() : OptStr(v1::FindingCategory_Name(q.category())),
             q.referred_only(), after ? std::optional<int64_t>(after->first) : std::nullopt,
             after ? OptStr(after->second) : OptStr(), limit)) {
      out.push_back(FindingFromRow(r));
    }
    return absl::OkStatus();
  }, db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<v1::RectificationReply> PgStore::AddRectification(const v1::Rectification& x, const Mutation& m) {
  return Idempotent<v1::RectificationReply>(m, [&](Tx& tx, v1::RectificationReply& out) -> absl::Status {
    if (!LoadFinding(tx, x.finding_id(), true)) return absl::NotFoundError("finding not found");
    tx.exec_params0("INSERT INTO rectifications (id, finding_id, measure, owner_unit_id, deadline_at, state) VALUES "
                    "($1::uuid, $2::uuid, $3, $4::uuid, " + At(5) + ", $6)",
                    x.id(), x.finding_id(), x.measure(), x.owner_unit_id(), Micros(x.deadline_at()),
                    v1::RectificationState_Name(v1::RECTIFICATION_STATE_OPEN));
    AppendEvents(tx, {{x.finding_id(), "rectification_added",
                       {{"rectification_id", x.id()}, {"owner_unit_id", x.owner_unit_id()},
                        {"deadline_us", Micros(x.deadline_at())}}}},
                 m.actor);
    *out.mutable_rectification() = *LoadRect(tx, x.id(), false);
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::RectificationReply> PgStore::MutateRectification(
    const std::string& id, const Mutation& m,
    const std::function<absl::StatusOr<Change<v1::Rectification>>(const v1::Rectification&)>& apply) {
  return Idempotent<v1::RectificationReply>(m, [&](Tx& tx, v1::RectificationReply& out) -> absl::Status {
    auto cur = LoadRect(tx, id, false);
    if (!cur) return absl::NotFoundError("rectification not found");
    // Lock the finding first (its chain takes the event), then the rectification.
    LoadFinding(tx, cur->finding_id(), true);
    cur = LoadRect(tx, id, true);
    if (m.expected_version != 0 && cur->version() != m.expected_version) {
      return absl::AbortedError("rectification changed: version is " + std::to_string(cur->version()));
    }
    SM_ASSIGN_OR_RETURN(auto ch, apply(*cur));
    ch.after.set_version(cur->version() + 1);
    WriteRect(tx, ch.after);
    AppendEvents(tx, ch.events, m.actor);
    *out.mutable_rectification() = *LoadRect(tx, id, false);
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::Rectification> PgStore::GetRectification(const std::string& id) {
  std::optional<v1::Rectification> x;
  absl::Status s = db::WithTransaction(*pool_, [&](Tx& tx) {
    x = LoadRect(tx, id, false);
    return x ? absl::OkStatus() : absl::NotFoundError("rectification not found");
  }, db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return *x;
}

absl::StatusOr<std::vector<v1::Rectification>> PgStore::ListRectifications(const v1::ListRectificationsRequest& q,
                                                                          const std::optional<std::string>& visible_to) {
  std::vector<v1::Rectification> out;
  absl::Status s = db::WithTransaction(*pool_, [&](Tx& tx) {
    for (const auto& r : tx.exec_params(
             "SELECT " + kRectCols + " FROM rectifications x WHERE "
             "($1::uuid IS NULL OR x.owner_unit_id = $1::uuid OR EXISTS (SELECT 1 FROM findings f JOIN engagements e "
             "  ON e.id = f.engagement_id WHERE f.id = x.finding_id AND (e.audit_unit_id = $1::uuid "
             "  OR f.responsible_unit_id = $1::uuid OR f.referral_to = $1::uuid)))"
             " AND ($2::uuid IS NULL OR x.finding_id = $2::uuid) AND ($3::uuid IS NULL OR x.owner_unit_id = $3::uuid)"
             " AND ($4::text IS NULL OR x.state = $4) AND (NOT $5 OR x.overdue) ORDER BY x.created_at, x.id LIMIT 1000",
             visible_to, Opt(q.finding_id()), Opt(q.owner_unit_id()),
             q.state() == v1::RECTIFICATION_STATE_UNSPECIFIED ? OptStr() : OptStr(v1::RectificationState_Name(q.state())),
             q.overdue_only())) {
      out.push_back(RectFromRow(r));
    }
    return absl::OkStatus();
  }, db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<int> PgStore::MarkOverdue(TimePoint now) {
  int marked = 0;
  const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  absl::Status s = db::WithTransaction(*pool_, [&](Tx& tx) -> absl::Status {
    marked = 0;
    if (!tx.exec1("SELECT pg_try_advisory_xact_lock(hashtext('audit-overdue-scanner'))")[0].as<bool>()) {
      return absl::OkStatus();
    }
    pqxx::result due = tx.exec_params(
        "SELECT id::text, finding_id::text FROM rectifications WHERE NOT overdue AND state = 'RECTIFICATION_STATE_OPEN' "
        "AND deadline_at < " + At(1) + " ORDER BY deadline_at LIMIT 500", now_us);
    for (const auto& row : due) {
      LoadFinding(tx, Str(row[1]), true);
      tx.exec_params0("UPDATE rectifications SET overdue = true, version = version + 1 WHERE id = $1::uuid", Str(row[0]));
      AppendEvents(tx, {{Str(row[1]), "rectification_escalated", {{"rectification_id", Str(row[0])}}}},
                   Actor{"system:overdue-scanner", ""}, now_us);
      ++marked;
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (marked > 0) Changed();
  return marked;
}

absl::StatusOr<v1::AuditStats> PgStore::Stats(const std::optional<std::string>& unit_id) {
  v1::AuditStats out;
  absl::Status s = db::WithTransaction(*pool_, [&](Tx& tx) -> absl::Status {
    out.Clear();
    const std::string scope =
        "WITH RECURSIVE units AS (SELECT id FROM directory.v_units WHERE id = $1::uuid UNION ALL "
        "SELECT u.id FROM directory.v_units u JOIN units p ON u.parent_id = p.id), "
        "scope AS (SELECT * FROM findings WHERE $1::uuid IS NULL OR responsible_unit_id IN (SELECT id FROM units)) ";
    auto t = tx.exec_params1(scope + "SELECT count(*), coalesce(sum(amount_fen), 0), "
                             "count(*) FILTER (WHERE referral_state <> 'REFERRAL_STATE_UNSPECIFIED'), "
                             "count(*) FILTER (WHERE recurring) FROM scope", unit_id);
    out.set_findings(t[0].as<int64_t>());
    out.set_amount_fen(t[1].as<int64_t>());
    out.set_referred(t[2].as<int64_t>());
    out.set_recurring(t[3].as<int64_t>());
    auto fill = [&](const std::string& sql, google::protobuf::RepeatedPtrField<v1::StatsCount>* dst) {
      for (const auto& r : tx.exec_params(scope + sql, unit_id)) {
        auto* c = dst->Add();
        c->set_key(Str(r[0]));
        c->set_count(r[1].as<int64_t>());
      }
    };
    fill("SELECT category, count(*) FROM scope GROUP BY 1 ORDER BY 1", out.mutable_by_category());
    fill("SELECT severity, count(*) FROM scope GROUP BY 1 ORDER BY 1", out.mutable_by_severity());
    fill("SELECT responsible_unit_id::text, count(*) FROM scope GROUP BY 1 ORDER BY 2 DESC, 1", out.mutable_by_unit());
    fill("SELECT x.owner_unit_id::text, count(*) FROM rectifications x JOIN scope f ON f.id = x.finding_id "
         "WHERE x.state = 'RECTIFICATION_STATE_SIGNED_OFF' GROUP BY 1 ORDER BY 2 DESC, 1",
         out.mutable_signed_off_by_unit());
    auto r = tx.exec_params1(scope + "SELECT count(*), count(*) FILTER (WHERE x.state = 'RECTIFICATION_STATE_SIGNED_OFF'), "
                             "count(*) FILTER (WHERE x.overdue) FROM rectifications x JOIN scope f ON f.id = x.finding_id",
                             unit_id);
    out.set_rectifications(r[0].as<int64_t>());
    out.set_signed_off(r[1].as<int64_t>());
    out.set_overdue(r[2].as<int64_t>());
    out.set_rectification_rate(out.rectifications() == 0 ? 0.0
                                                         : static_cast<double>(out.signed_off()) / out.rectifications());
    return absl::OkStatus();
  }, db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<int64_t> PgStore::StatsVersion() {
  return stats_version_.Read();
}

absl::StatusOr<events::EventLog::History> PgStore::History(const std::string& aggregate_id) {
  auto h = finding_log_.Read(*pool_, aggregate_id);
  if (absl::IsNotFound(h.status())) return engagement_log_.Read(*pool_, aggregate_id);
  return h;
}

absl::StatusOr<std::vector<events::FeedEvent>> PgStore::Feed(const events::Cursor& after, int limit) {
  return finding_log_.Feed(*pool_, after, limit);
}

absl::Status PgStore::ApplyClueEvent(Tx& tx, const v1::ClueEvent& ev) {
  auto update = FromClueEvent(ev.type(), ev.data_json());
  if (!update) return absl::OkStatus();
  std::string finding_id;
  if (ev.type() == "registered") {
    // A referral of ours: the clue names the finding as its source.
    auto data = nlohmann::json::parse(ev.data_json(), nullptr, false);
    if (!data.is_object() || !data["referral"].is_object() || data["referral"]["system"] != "audit") {
      return absl::OkStatus();
    }
    finding_id = data["referral"]["ref"].get<std::string>();
    pqxx::result r = tx.exec_params("SELECT 1 FROM findings WHERE id::text = $1", finding_id);
    if (r.empty()) return absl::OkStatus();
    return LinkReferral(tx, finding_id, ev.clue_id(), data["number"].is_string() ? data["number"].get<std::string>() : "",
                        *update->clue_state, Actor{"system:clue-events", ""});
  }
  pqxx::result r = tx.exec_params("SELECT id::text FROM findings WHERE clue_id = $1::uuid", ev.clue_id());
  if (r.empty()) return absl::OkStatus();
  finding_id = r[0][0].as<std::string>();
  auto f = LoadFinding(tx, finding_id, true);
  v1::Finding after = *f;
  auto* ref = after.mutable_referral();
  if (update->clue_state) ref->set_clue_state(*update->clue_state);
  if (update->disposition) ref->set_disposition(*update->disposition);
  if (update->outcome_form) ref->set_outcome_form(static_cast<v1::SupervisionForm>(*update->outcome_form));
  if (update->feedback) ref->set_outcome_feedback(*update->feedback);
  after.set_version(f->version() + 1);
  WriteFinding(tx, after);
  AppendEvents(tx, {{finding_id, "clue_" + ev.type(), {{"clue_id", ev.clue_id()}, {"clue_seq", ev.seq()}}}},
               Actor{"system:clue-events", ""});
  return absl::OkStatus();
}

absl::Status PgStore::ReferralDelivered(Tx& tx, const std::string& finding_id, const v1::ClueReply& reply) {
  return LinkReferral(tx, finding_id, reply.clue().id(), reply.clue().number(), reply.clue().state(),
                      Actor{"system:outbox-relay", ""});
}

absl::Status PgStore::LinkReferral(Tx& tx, const std::string& finding_id, const std::string& clue_id,
                                   const std::string& clue_number, v1::ClueState clue_state, const Actor& actor) {
  auto f = LoadFinding(tx, finding_id, true);
  if (!f) return absl::OkStatus();
  v1::Finding after = *f;
  auto* ref = after.mutable_referral();
  const bool first = ref->clue_id().empty();
  ref->set_state(v1::REFERRAL_STATE_DELIVERED);
  ref->set_clue_id(clue_id);
  if (!clue_number.empty()) ref->set_clue_number(clue_number);
  if (ref->clue_state() == v1::CLUE_STATE_UNSPECIFIED) ref->set_clue_state(clue_state);
  ref->clear_last_error();
  // Already linked (by the relay's reply or the clue's own event, whichever came first) and
  // nothing new: no write. Every write is followed by an event, which commits to the row it
  // leaves (chain version 2); "clue_linked" is written once per finding.
  if (!first && MessageDifferencer::Equals(after, *f)) return absl::OkStatus();
  after.set_version(f->version() + 1);
  WriteFinding(tx, after);
  AppendEvents(tx, {{finding_id, first ? "clue_linked" : "referral_delivered", {{"clue_id", clue_id}}}}, actor);
  return absl::OkStatus();
}

absl::Status PgStore::ReferralDead(Tx& tx, const std::string& finding_id, const std::string& error) {
  auto f = LoadFinding(tx, finding_id, true);
  if (!f) return absl::OkStatus();
  v1::Finding after = *f;
  after.mutable_referral()->set_state(v1::REFERRAL_STATE_DEAD);
  after.mutable_referral()->set_last_error(error);
  after.set_version(f->version() + 1);
  WriteFinding(tx, after);
  AppendEvents(tx, {{finding_id, "referral_dead", {{"error", error}}}}, Actor{"system:outbox-relay", ""});
  return absl::OkStatus();
}

absl::StatusOr<UnitInfo> PgStore::Unit(const std::string& id) { return directory_.Unit(id); }

absl::StatusOr<bool> PgStore::PersonExists(const std::string& id) {
  auto person = directory_.Person(id);
  if (absl::IsNotFound(person.status())) return false;
  if (!person.ok()) return person.status();
  return person->active;
}

}  // namespace sm::audit
