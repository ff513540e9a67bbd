#include "services/audit/pg_store.h"

#include <stdexcept>

#include "common/db/sql.h"
#include "common/event_payload.h"
#include "common/log.h"
#include "common/outbox.h"
#include "common/rectification_store.h"
#include "common/status.h"
#include "common/workdays.h"
#include "services/audit/workflow.h"

namespace sm::audit {
namespace {

// The clue-service event feed this store applies (the consumer's name, referrals.cc).
constexpr char kClueFeed[] = "clue-events";

using db::Tx;
using OptStr = std::optional<std::string>;
using db::Micros;
using db::Opt;
using db::SetMicros;
using db::Str;

std::string At(int n) { return db::TimestampParam(n); }
std::string Us(const std::string& col) { return db::MicrosOf(col); }
std::vector<std::string> ParseArray(const pqxx::field& f) { return db::TextArray(f); }
std::string ArrayLiteral(const google::protobuf::RepeatedPtrField<std::string>& v) { return db::TextArrayLiteral(v); }

// ---- engagements ----
std::string EngagementCols(const std::string& e) {
  return e + "id::text, " + e + "number, " + e + "kind, " + e + "title, " + e + "audit_unit_id::text, " + e +
         "audited_unit_id::text, " + e + "audited_person_id::text, " + e + "period_from::text, " + e +
         "period_to::text, " + e + "it_stage, " + e + "state, " + e + "version, " + Us(e + "created_at");
}
const std::string kEngagementCols = EngagementCols("");
constexpr int kEngagementColCount = 13;

v1::Engagement EngagementFromRow(const pqxx::row& r, int at = 0) {
  v1::Engagement e;
  e.set_id(Str(r[at + 0]));
  e.set_number(Str(r[at + 1]));
  v1::EngagementKind k;
  if (v1::EngagementKind_Parse(Str(r[at + 2]), &k)) e.set_kind(k);
  e.set_title(Str(r[at + 3]));
  e.set_audit_unit_id(Str(r[at + 4]));
  e.set_audited_unit_id(Str(r[at + 5]));
  e.set_audited_person_id(Str(r[at + 6]));
  e.set_period_from(Str(r[at + 7]));
  e.set_period_to(Str(r[at + 8]));
  v1::ItStage st;
  if (v1::ItStage_Parse(Str(r[at + 9]), &st)) e.set_it_stage(st);
  v1::EngagementState s;
  if (v1::EngagementState_Parse(Str(r[at + 10]), &s)) e.set_state(s);
  e.set_version(r[at + 11].as<int64_t>());
  SetMicros(e.mutable_created_at(), r[at + 12].as<int64_t>());
  return e;
}

std::optional<v1::Engagement> LoadEngagement(Tx& tx, const std::string& id) {
  pqxx::result r = tx.exec_params("SELECT " + kEngagementCols + " FROM engagements WHERE id = $1::uuid", id);
  if (r.empty()) return std::nullopt;
  return EngagementFromRow(r[0]);
}

// ---- findings ----
const std::string kFindingCols =
    "f.id::text, f.number, f.engagement_id::text, f.title, f.description, f.category, f.amount_fen, f.severity, "
    "f.responsible_unit_id::text, f.responsible_person_id::text, f.evidence_refs, f.referral_state, "
    "f.referral_to::text, f.clue_id::text, f.clue_number, f.clue_state, f.disposition, f.outcome_form, "
    "f.outcome_feedback, f.referral_error, f.recurring, f.recurs_finding_id::text, f.version, "
    "(SELECT count(*) FROM rectifications r WHERE r.finding_id = f.id AND r.state <> "
    "'RECTIFICATION_STATE_SIGNED_OFF'), "
    "(SELECT count(*) FROM rectifications r WHERE r.finding_id = f.id AND r.state = "
    "'RECTIFICATION_STATE_SIGNED_OFF'), " +
    Us("f.created_at");

v1::Finding FindingFromRow(const pqxx::row& r, int at = 0) {
  v1::Finding f;
  f.set_id(Str(r[at + 0]));
  f.set_number(Str(r[at + 1]));
  f.set_engagement_id(Str(r[at + 2]));
  f.set_title(Str(r[at + 3]));
  f.set_description(Str(r[at + 4]));
  v1::FindingCategory c;
  if (v1::FindingCategory_Parse(Str(r[at + 5]), &c)) f.set_category(c);
  f.set_amount_fen(r[at + 6].as<int64_t>());
  v1::Severity sev;
  if (v1::Severity_Parse(Str(r[at + 7]), &sev)) f.set_severity(sev);
  f.set_responsible_unit_id(Str(r[at + 8]));
  f.set_responsible_person_id(Str(r[at + 9]));
  for (const auto& e : ParseArray(r[at + 10])) f.add_evidence_refs(e);
  auto* ref = f.mutable_referral();
  v1::ReferralState rs;
  if (v1::ReferralState_Parse(Str(r[at + 11]), &rs)) ref->set_state(rs);
  ref->set_to_unit_id(Str(r[at + 12]));
  ref->set_clue_id(Str(r[at + 13]));
  ref->set_clue_number(Str(r[at + 14]));
  v1::ClueState cs;
  if (v1::ClueState_Parse(Str(r[at + 15]), &cs)) ref->set_clue_state(cs);
  v1::DispositionMethod dm;
  if (v1::DispositionMethod_Parse(Str(r[at + 16]), &dm)) ref->set_disposition(dm);
  if (!r[at + 17].is_null()) ref->set_outcome_form(static_cast<v1::SupervisionForm>(r[at + 17].as<int>()));
  ref->set_outcome_feedback(Str(r[at + 18]));
  ref->set_last_error(Str(r[at + 19]));
  f.set_recurring(r[at + 20].as<bool>());
  f.set_recurs_finding_id(Str(r[at + 21]));
  f.set_version(r[at + 22].as<int64_t>());
  f.set_rectifications_open(r[at + 23].as<int>());
  f.set_rectifications_signed_off(r[at + 24].as<int>());
  SetMicros(f.mutable_created_at(), r[at + 25].as<int64_t>());
  return f;
}

constexpr int kFindingColCount = 26;

std::optional<v1::Finding> LoadFinding(Tx& tx, const std::string& id) {
  pqxx::result r = tx.exec_params("SELECT " + kFindingCols + " FROM findings f WHERE f.id = $1::uuid", id);
  if (r.empty()) return std::nullopt;
  return FindingFromRow(r[0]);
}

// ---- state digests (chain version 2) ----
// Every stored column of an engagement, and of a finding and its rectifications
// (rectification_store.h), but the chain: what each new event commits to (hash_chain.h) and verification recomputes.
// Read back from the row in the writer's transaction, so the digest is of exactly what is stored; dates and times as
// text that does not depend on the session's DateStyle or TimeZone. A new column goes into these lists under a new
// layout tag.
const std::string kEngagementState =
    "id::text, number, kind, title, audit_unit_id::text, audited_unit_id::text, audited_person_id::text, "
    "to_char(period_from, 'YYYY-MM-DD'), to_char(period_to, 'YYYY-MM-DD'), it_stage, state, version::text, " +
    Us("created_at") + "::text";
const std::string kFindingState =
    "id::text, number, engagement_id::text, title, description, category, amount_fen::text, severity, "
    "responsible_unit_id::text, responsible_person_id::text, evidence_refs::text, referral_state, referral_to::text, "
    "clue_id::text, clue_number, clue_state, disposition, outcome_form::text, outcome_feedback, referral_error, "
    "recurring::text, recurs_finding_id::text, version::text, " +
    Us("created_at") + "::text";
void AddColumns(chain::StateDigester& d, const pqxx::row& r, pqxx::row::size_type from) {
  for (pqxx::row::size_type i = from; i < r.size(); ++i) d.Add(r[i].is_null() ? OptStr() : OptStr(r[i].c_str()));
}

// ---- one write per row ----
// The columns of each table as a step writes them, each with the expression its parameter
// becomes ("?" is the parameter), in the order of the state lists above (then the chain).
// The *Params functions give the values in this order; Digest reads the same values as
// PostgreSQL prints them, so the digest a new event commits to is the one ChainRows
// computes from the stored row.
using db::Column;
const Column kEngagementRow[] = {{"id", "?::uuid"},
                                 {"number", "?"},
                                 {"kind", "?"},
                                 {"title", "?"},
                                 {"audit_unit_id", "?::uuid"},
                                 {"audited_unit_id", "?::uuid"},
                                 {"audited_person_id", "?::uuid"},
                                 {"period_from", "?::date"},
                                 {"period_to", "?::date"},
                                 {"it_stage", "?"},
                                 {"state", "?"},
                                 {"version", "?::bigint"},
                                 {"created_at", db::kTimestampExpr},
                                 {"chain_len", "?::integer"},
                                 {"chain_head", "?"}};
const Column kFindingRow[] = {{"id", "?::uuid"},
                              {"number", "?"},
                              {"engagement_id", "?::uuid"},
                              {"title", "?"},
                              {"description", "?"},
                              {"category", "?"},
                              {"amount_fen", "?::bigint"},
                              {"severity", "?"},
                              {"responsible_unit_id", "?::uuid"},
                              {"responsible_person_id", "?::uuid"},
                              {"evidence_refs", "?::text[]"},
                              {"referral_state", "?"},
                              {"referral_to", "?::uuid"},
                              {"clue_id", "?::uuid"},
                              {"clue_number", "?"},
                              {"clue_state", "?"},
                              {"disposition", "?"},
                              {"outcome_form", "?::integer"},
                              {"outcome_feedback", "?"},
                              {"referral_error", "?"},
                              {"recurring", "?::boolean"},
                              {"recurs_finding_id", "?::uuid"},
                              {"version", "?::bigint"},
                              {"created_at", db::kTimestampExpr},
                              {"chain_len", "?::integer"},
                              {"chain_head", "?"}};
constexpr size_t kEvidenceRefsColumn = 10;
constexpr size_t kChainColumns = 2;

template <size_t N>
struct Table {
  const char* name;
  const Column (&columns)[N];
  size_t id_column;  // the column the row is found by
  bool chained;      // the last two columns are the chain
};
const Table kEngagements{"engagements", kEngagementRow, 0, true};
const Table kFindings{"findings", kFindingRow, 0, true};

OptStr Bool(bool b) { return std::string(b ? "true" : "false"); }
OptStr Num(int64_t n) { return std::to_string(n); }
OptStr Enum(const std::string& name, bool unspecified) { return unspecified ? OptStr() : OptStr(name); }

std::vector<OptStr> EngagementParams(const StoredEngagement& s) {
  const v1::Engagement& e = s.engagement;
  return {e.id(),
          e.number(),
          v1::EngagementKind_Name(e.kind()),
          e.title(),
          e.audit_unit_id(),
          e.audited_unit_id(),
          Opt(e.audited_person_id()),
          e.period_from(),
          e.period_to(),
          v1::ItStage_Name(e.it_stage()),
          v1::EngagementState_Name(e.state()),
          Num(e.version()),
          Num(Micros(e.created_at())),
          Num(s.chain_len),
          s.chain_head};
}

std::vector<OptStr> FindingParams(const StoredFinding& s) {
  const v1::Finding& f = s.finding;
  const auto& ref = f.referral();
  return {f.id(),
          f.number(),
          f.engagement_id(),
          f.title(),
          f.description(),
          v1::FindingCategory_Name(f.category()),
          Num(f.amount_fen()),
          v1::Severity_Name(f.severity()),
          f.responsible_unit_id(),
          Opt(f.responsible_person_id()),
          ArrayLiteral(f.evidence_refs()),
          v1::ReferralState_Name(ref.state()),
          Opt(ref.to_unit_id()),
          Opt(ref.clue_id()),
          Opt(ref.clue_number()),
          Enum(v1::ClueState_Name(ref.clue_state()), ref.clue_state() == v1::CLUE_STATE_UNSPECIFIED),
          Enum(v1::DispositionMethod_Name(ref.disposition()), ref.disposition() == v1::DISPOSITION_METHOD_UNSPECIFIED),
          ref.outcome_form() == v1::SUPERVISION_FORM_UNSPECIFIED ? OptStr() : Num(ref.outcome_form()),
          Opt(ref.outcome_feedback()),
          Opt(ref.last_error()),
          Bool(f.recurring()),
          Opt(f.recurs_finding_id()),
          Num(f.version()),
          Num(Micros(f.created_at())),
          Num(s.chain_len),
          s.chain_head};
}

// Adds `params` (of `columns`, from `from`, without the chain) as PostgreSQL prints them.
template <size_t N>
void AddParams(chain::StateDigester& d, const Table<N>& t, const std::vector<OptStr>& params, size_t from) {
  for (size_t i = from; i + (t.chained ? kChainColumns : 0) < N; ++i) {
    if (t.columns[i].uuid())
      d.AddUuid(params[i]);
    else
      d.Add(params[i]);
  }
}

std::string EngagementDigest(const StoredEngagement& s) {
  chain::StateDigester d("sm-audit-engagement-state-v1");
  AddParams(d, kEngagements, EngagementParams(s), 0);
  return d.Hex();
}

std::string FindingDigest(const StoredFinding& s) {
  chain::StateDigester d("sm-audit-finding-state-v1");
  std::vector<OptStr> row = FindingParams(s);
  row[kEvidenceRefsColumn] = db::TextArrayText(s.finding.evidence_refs());
  AddParams(d, kFindings, row, 0);
  d.Add(std::to_string(s.rectifications.size()));
  for (const auto& x : s.rectifications) rectification::AddToDigest(d, x.rectification);
  return d.Hex();
}

// Writes a row of table `t` as `how` says: whole (insert or update), or only its new chain
// head. (The table is a template argument so that each keeps its own statements.)
template <const auto& t>
void WriteRow(Tx& tx, Change::Row how, bool chain_moved, const std::vector<OptStr>& params) {
  constexpr size_t N = std::size(t.columns);
  static const std::string insert = db::InsertSql(t.name, t.columns),
                           update = db::UpdateSql(t.name, t.columns, t.id_column);
  if (how == Change::Row::kInsert) {
    tx.exec_params0(insert, pqxx::prepare::make_dynamic_params(params));
  } else if (how == Change::Row::kUpdate) {
    tx.exec_params0(update, pqxx::prepare::make_dynamic_params(params));
  } else if (chain_moved) {
    tx.exec_params0(std::string("UPDATE ") + t.name + " SET chain_len = $2, chain_head = $3 WHERE id = $1::uuid",
                    params[t.id_column], params[N - 2], params[N - 1]);
  }
}

// ---- loading a step's item, locked ----
const std::string kNowMicros = db::MicrosOf("now()");

// A finding with its engagement and rectifications (one row each, by id), locked unless
// `read_only`; by the finding's id, or by one of its rectifications' ids.
std::optional<StoredFinding> LoadFindingRow(Tx& tx, const std::string& id, bool by_rectification,
                                            std::optional<StoredEngagement>* engagement, int64_t* now_us,
                                            bool read_only = false) {
  static const std::string sql = [] {
    return "SELECT " + kFindingCols + ", f.chain_len, f.chain_head, " + EngagementCols("e.") +
           ", e.chain_len, e.chain_head, " + kNowMicros + ", " + rectification::Columns("x.") +
           " FROM findings f JOIN engagements e ON e.id = f.engagement_id"
           " LEFT JOIN rectifications x ON x.finding_id = f.id WHERE f.id = ";
  }();
  static const std::string by_id = sql + "$1::uuid ORDER BY x.id";
  static const std::string by_rect = sql + "(SELECT finding_id FROM rectifications WHERE id = $1::uuid) ORDER BY x.id";
  static const std::string lock = " FOR NO KEY UPDATE OF f";
  pqxx::result rows = tx.exec_params((by_rectification ? by_rect : by_id) + (read_only ? "" : lock), id);
  if (rows.empty()) return std::nullopt;
  const pqxx::row& first = rows[0];
  StoredFinding out;
  int at = 0;
  out.finding = FindingFromRow(first, at);
  at += kFindingColCount;
  out.chain_len = first[at].as<int64_t>();
  out.chain_head = Str(first[at + 1]);
  at += 2;
  if (engagement) {
    *engagement = StoredEngagement{EngagementFromRow(first, at), first[at + kEngagementColCount].as<int64_t>(),
                                   Str(first[at + kEngagementColCount + 1])};
  }
  at += kEngagementColCount + 2;
  if (now_us) *now_us = first[at].as<int64_t>();
  ++at;
  for (const auto& r : rows) {
    if (r[at].is_null()) continue;  // no rectification
    v1::Rectification x = rectification::FromRow(r, at);
    const int64_t created_us = Micros(x.created_at());
    out.rectifications.push_back({std::move(x), created_us});
  }
  out.Count();
  return out;
}

// The item a step works on, locked, with what its rules read besides. NOT_FOUND when absent.
absl::StatusOr<Current> LoadFor(Tx& tx, const StepRequest& r) {
  Current c;
  switch (LoadsOf(r)) {
    case Loads::kNothing: {
      pqxx::row row = tx.exec1("SELECT nextval('engagement_number_seq'), " + kNowMicros);
      c.sequence = row[0].as<int64_t>();
      c.now_us = row[1].as<int64_t>();
      return c;
    }
    case Loads::kEngagement: {
      static const std::string sql = "SELECT " + kEngagementCols + ", chain_len, chain_head, " + kNowMicros +
                                     " FROM engagements e WHERE e.id = $1::uuid FOR NO KEY UPDATE";
      pqxx::result rows = tx.exec_params(sql, TargetOf(r));
      if (rows.empty()) return absl::NotFoundError("engagement not found");
      const pqxx::row& row = rows[0];
      constexpr int n = kEngagementColCount;
      c.engagement = StoredEngagement{EngagementFromRow(row), row[n].as<int64_t>(), Str(row[n + 1])};
      c.now_us = row[n + 2].as<int64_t>();
      if (const auto* add = std::get_if<v1::AddFindingRequest>(&r)) {
        // A new finding's ordinal and an earlier engagement's finding of the same category at
        // the same unit (a recurrence), read once the engagement is locked: in a statement of
        // their own, whose snapshot has every finding added by whoever held the lock before
        // (a subquery of the locking statement would count from before the wait, and two
        // concurrent additions would take one number).
        static const std::string more =
            "SELECT (SELECT count(*) + 1 FROM findings WHERE engagement_id = e.id), "
            "  (SELECT f.id::text FROM findings f JOIN engagements o ON o.id = f.engagement_id "
            "   WHERE $2::uuid IS NOT NULL AND f.responsible_unit_id = $2::uuid AND f.category = $3 "
            "     AND f.engagement_id <> e.id AND o.created_at < e.created_at ORDER BY f.created_at DESC LIMIT 1) "
            "FROM engagements e WHERE e.id = $1::uuid";
        pqxx::row m = tx.exec_params1(more, TargetOf(r), Opt(add->responsible_unit_id()),
                                      v1::FindingCategory_Name(add->category()));
        c.finding_ordinal = m[0].as<int64_t>();
        c.recurs_finding_id = Str(m[1]);
      }
      return c;
    }
    case Loads::kFinding:
    case Loads::kRectification: {
      const bool by_rectification = LoadsOf(r) == Loads::kRectification;
      c.finding = LoadFindingRow(tx, TargetOf(r), by_rectification, &c.engagement, &c.now_us);
      if (!c.finding) return absl::NotFoundError(by_rectification ? "rectification not found" : "finding not found");
      return c;
    }
  }
  return absl::InternalError("unknown step");
}

}  // namespace

std::map<std::string, PgStore::ChainRow> PgStore::ChainRows(Tx& tx, const std::optional<std::string>& id) const {
  std::map<std::string, ChainRow> out;
  const std::string where = " WHERE $1::uuid IS NULL OR id = $1::uuid";
  for (const auto& r :
       tx.exec_params("SELECT chain_len, chain_head, " + kEngagementState + " FROM engagements" + where, id)) {
    chain::StateDigester d("sm-audit-engagement-state-v1");
    AddColumns(d, r, 2);
    out.emplace(Str(r[2]), ChainRow{true, chain::Evidence{{}, r[0].as<int64_t>(), Str(r[1]), d.Hex()}});
  }
  std::map<std::string, std::vector<pqxx::row>> rectifications;
  pqxx::result rects = tx.exec_params("SELECT " + rectification::StateColumns() +
                                          " FROM rectifications"
                                          " WHERE $1::uuid IS NULL OR finding_id = $1::uuid ORDER BY finding_id, id",
                                      id);
  for (const auto& r : rects) rectifications[Str(r[0])].push_back(r);
  for (const auto& r :
       tx.exec_params("SELECT chain_len, chain_head, " + kFindingState + " FROM findings" + where, id)) {
    chain::StateDigester d("sm-audit-finding-state-v1");
    AddColumns(d, r, 2);
    const auto& own = rectifications[Str(r[2])];
    d.Add(std::to_string(own.size()));
    for (const pqxx::row& x : own) rectification::AddStoredToDigest(d, x);
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
      chain_(
          chain::Anchor("audit-service", "audit_anchor", "audit_chains", "audit_events", "aggregate_id"), pool, clock,
          &finding_log_, "engagement or finding",
          [this](Tx& tx, const std::string& id) { return ChainEvidence(tx, id); },
          [this](Tx& tx) {
            std::map<std::string, chain::Evidence> all;
            for (auto& [id, row] : ChainRows(tx, std::nullopt)) all.emplace(id, std::move(row.evidence));
            return all;
          }) {}

void PgStore::Changed() { stats_version_.Changed(); }

absl::Status PgStore::Write(Tx& tx, Change& c, const Actor& actor, int64_t at_us) {
  if (c.command && c.command->retry) {
    if (!outbox::Requeue(tx, "audit", c.command->dedupe_key)) {
      return absl::FailedPreconditionError("the referral command is not parked as dead");
    }
  } else if (c.command) {
    outbox::Enqueue(tx, "audit", c.command->kind, c.command->dedupe_key, c.command->payload);
  }
  // Each event commits to its aggregate's row as this change leaves it (all of them: they
  // are written below); engagements and findings share the events table, each its chain.
  std::vector<chain::Event> made;
  bool engagement_chain = false, finding_chain = false;
  for (const Event& ev : c.events) {
    int64_t* len;
    std::string* head;
    std::string digest;
    if (c.engagement && ev.aggregate_id == c.engagement->engagement.id()) {
      len = &c.engagement->chain_len;
      head = &c.engagement->chain_head;
      digest = EngagementDigest(*c.engagement);
      engagement_chain = true;
    } else if (c.finding && ev.aggregate_id == c.finding->finding.id()) {
      len = &c.finding->chain_len;
      head = &c.finding->chain_head;
      digest = FindingDigest(*c.finding);
      finding_chain = true;
    } else {
      throw std::logic_error("event for an aggregate the change does not hold: " + ev.aggregate_id);
    }
    const events::Payload payload = events::MustEncode(ev.event);
    made.push_back(
        events::EventLog::Next(ev.aggregate_id, *len, *head, actor, payload.type, payload.json, at_us, digest));
    *len = made.back().seq;
    *head = made.back().hash;
  }
  if (c.engagement) WriteRow<kEngagements>(tx, c.engagement_row, engagement_chain, EngagementParams(*c.engagement));
  if (c.finding) WriteRow<kFindings>(tx, c.finding_row, finding_chain, FindingParams(*c.finding));
  if (c.rectification_row != Change::Row::kNone) {
    const StoredRectification* x = c.finding ? c.finding->Find(c.rectification_id) : nullptr;
    if (!x) throw std::logic_error("rectification the change does not hold: " + c.rectification_id);
    if (c.rectification_row == Change::Row::kInsert)
      rectification::Insert(tx, x->rectification);
    else
      rectification::Update(tx, x->rectification);
  }
  finding_log_.Insert(tx, made);
  return absl::OkStatus();
}

template <typename Reply>
absl::StatusOr<Reply> PgStore::Walk(const StepRequest& request, const auth::Principal& caller, StepFacts facts,
                                    const Rules& rules, const db::Idempotency::Key& key) {
  const Actor actor{caller.EndUser(), caller.unit};
  return idempotency_.Write<Reply>(
      *pool_, key,
      [&](Tx& tx, Reply& out) -> absl::Status {
        SM_ASSIGN_OR_RETURN(Current current, LoadFor(tx, request));
        // What the rules need to know around the item: directory reads, in memory nearly always.
        SM_RETURN_IF_ERROR(ReadStepUnits(
            request, current, caller, [&](const std::string& id) { return directory_.Unit(id, &tx); }, facts));
        SM_ASSIGN_OR_RETURN(Change change, Decide(current, caller, request, facts, rules));
        SM_RETURN_IF_ERROR(Write(tx, change, actor, NowMicros(clock_)));
        FillReply(change, &out);
        return absl::OkStatus();
      },
      [this] { Changed(); });
}

absl::StatusOr<v1::EngagementReply> PgStore::Step(const EngagementStep& request, const auth::Principal& caller,
                                                  StepFacts facts, const Rules& rules,
                                                  const db::Idempotency::Key& key) {
  return Walk<v1::EngagementReply>(AsStep(request), caller, std::move(facts), rules, key);
}
absl::StatusOr<v1::FindingReply> PgStore::Step(const FindingStep& request, const auth::Principal& caller,
                                               StepFacts facts, const Rules& rules, const db::Idempotency::Key& key) {
  return Walk<v1::FindingReply>(AsStep(request), caller, std::move(facts), rules, key);
}
absl::StatusOr<v1::RectificationReply> PgStore::Step(const RectificationStep& request, const auth::Principal& caller,
                                                     StepFacts facts, const Rules& rules,
                                                     const db::Idempotency::Key& key) {
  return Walk<v1::RectificationReply>(AsStep(request), caller, std::move(facts), rules, key);
}

absl::StatusOr<v1::Engagement> PgStore::GetEngagement(const std::string& id) {
  std::optional<v1::Engagement> e;
  absl::Status s = db::WithTransaction(
      *pool_,
      [&](Tx& tx) {
        e = LoadEngagement(tx, id);
        return e ? absl::OkStatus() : absl::NotFoundError("engagement not found");
      },
      db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return *e;
}

absl::StatusOr<std::vector<v1::Engagement>> PgStore::ListEngagements(
    const v1::ListEngagementsRequest& q, const std::optional<std::string>& visible_to,
    std::optional<std::pair<int64_t, std::string>> after, int limit) {
  std::vector<v1::Engagement> out;
  absl::Status s = db::WithTransaction(
      *pool_,
      [&](Tx& tx) {
        for (const auto& r : tx.exec_params(
                 "SELECT " + kEngagementCols +
                     " FROM engagements WHERE ($1::uuid IS NULL OR audit_unit_id = $1::uuid "
                     "OR audited_unit_id = $1::uuid) AND ($2::uuid IS NULL OR audited_unit_id = $2::uuid) "
                     "AND ($3::text IS NULL OR kind = $3) AND ($4::bigint IS NULL OR (created_at, id) < (" +
                     At(4) +
                     ", $5::uuid)) "
                     "ORDER BY created_at DESC, id DESC LIMIT $6",
                 visible_to, Opt(q.audited_unit_id()),
                 q.kind() == v1::ENGAGEMENT_KIND_UNSPECIFIED ? OptStr() : OptStr(v1::EngagementKind_Name(q.kind())),
                 after ? std::optional<int64_t>(after->first) : std::nullopt, after ? OptStr(after->second) : OptStr(),
                 limit)) {
          out.push_back(EngagementFromRow(r));
        }
        return absl::OkStatus();
      },
      db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<v1::Finding> PgStore::GetFinding(const std::string& id) {
  std::optional<v1::Finding> f;
  absl::Status s = db::WithTransaction(
      *pool_,
      [&](Tx& tx) {
        f = LoadFinding(tx, id);
        return f ? absl::OkStatus() : absl::NotFoundError("finding not found");
      },
      db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return *f;
}

absl::StatusOr<FindingRecord> PgStore::GetFindingRecord(const std::string& id) {
  FindingRecord out;
  absl::Status s = db::WithTransaction(
      *pool_,
      [&](Tx& tx) {
        std::optional<StoredEngagement> engagement;
        auto f = LoadFindingRow(tx, id, false, &engagement, nullptr, /*read_only=*/true);
        if (!f) return absl::NotFoundError("finding not found");
        out = FindingRecord{*std::move(f), *std::move(engagement)};
        return absl::OkStatus();
      },
      db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<v1::Finding>> PgStore::ListFindings(const v1::ListFindingsRequest& q,
                                                               const std::optional<std::string>& visible_to,
                                                               std::optional<std::pair<int64_t, std::string>> after,
                                                               int limit) {
  std::vector<v1::Finding> out;
  absl::Status s = db::WithTransaction(
      *pool_,
      [&](Tx& tx) {
        for (const auto& r : tx.exec_params(
                 "SELECT " + kFindingCols +
                     " FROM findings f JOIN engagements e ON e.id = f.engagement_id WHERE "
                     "($1::uuid IS NULL OR e.audit_unit_id = $1::uuid OR f.responsible_unit_id = $1::uuid OR "
                     "f.referral_to = $1::uuid"
                     "  OR EXISTS (SELECT 1 FROM rectifications o WHERE o.finding_id = f.id AND o.owner_unit_id = "
                     "$1::uuid))"
                     " AND ($2::uuid IS NULL OR f.engagement_id = $2::uuid) AND ($3::uuid IS NULL OR "
                     "f.responsible_unit_id = $3::uuid)"
                     " AND ($4::text IS NULL OR f.category = $4) AND (NOT $5 OR f.referral_state <> "
                     "'REFERRAL_STATE_UNSPECIFIED')"
                     " AND ($6::bigint IS NULL OR (f.created_at, f.id) > (" +
                     At(6) +
                     ", $7::uuid))"
                     " AND ($9::uuid IS NULL OR f.responsible_person_id = $9::uuid)"
                     " ORDER BY f.created_at, f.id LIMIT $8",
                 visible_to, Opt(q.engagement_id()), Opt(q.responsible_unit_id()),
                 q.category() == v1::FINDING_CATEGORY_UNSPECIFIED ? OptStr()
                                                                  : OptStr(v1::FindingCategory_Name(q.category())),
                 q.referred_only(), after ? std::optional<int64_t>(after->first) : std::nullopt,
                 after ? OptStr(after->second) : OptStr(), limit, Opt(q.responsible_person_id()))) {
          out.push_back(FindingFromRow(r));
        }
        return absl::OkStatus();
      },
      db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<v1::Rectification> PgStore::GetRectification(const std::string& id) {
  std::optional<v1::Rectification> x;
  absl::Status s = db::WithTransaction(
      *pool_,
      [&](Tx& tx) {
        x = rectification::Get(tx, id);
        return x ? absl::OkStatus() : absl::NotFoundError("rectification not found");
      },
      db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return *x;
}

absl::StatusOr<std::vector<v1::Rectification>> PgStore::ListRectifications(
    const v1::ListRectificationsRequest& q, const std::optional<std::string>& visible_to,
    std::optional<std::pair<int64_t, std::string>> after, int limit) {
  rectification::ListQuery query{.after = std::move(after), .limit = limit};
  if (visible_to) {
    // Besides what it owns: the rectifications of the findings of engagements the unit
    // conducts, for which it is responsible or that were referred to it.
    query.visible = rectification::ListQuery::VisibleTo{
        *visible_to,
        "EXISTS (SELECT 1 FROM findings f JOIN engagements e ON e.id = f.engagement_id WHERE f.id = x.finding_id "
        "AND (e.audit_unit_id = ?::uuid OR f.responsible_unit_id = ?::uuid OR f.referral_to = ?::uuid))"};
  }
  std::vector<v1::Rectification> out;
  absl::Status s = db::WithTransaction(
      *pool_,
      [&](Tx& tx) {
        out = rectification::List(tx, q, query);
        return absl::OkStatus();
      },
      db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<int> PgStore::MarkOverdue(TimePoint now) {
  int marked = 0;
  absl::Status s = db::WithTransaction(*pool_, [&](Tx& tx) -> absl::Status {
    marked = 0;
    if (!tx.exec1("SELECT pg_try_advisory_xact_lock(hashtext('audit-overdue-scanner'))")[0].as<bool>()) {
      return absl::OkStatus();
    }
    // The findings with a rectification due (each locked in id order as it is loaded), then
    // the rule on each of their rectifications.
    SM_ASSIGN_OR_RETURN(
        marked, rectification::EscalateDue(
                    tx, now, [&](const std::string& id) { return LoadFindingRow(tx, id, false, nullptr, nullptr); },
                    [&](const StoredFinding& f, const std::string& id) -> absl::StatusOr<std::optional<StoredFinding>> {
                      std::optional<Change> change = EscalateOverdue(f, id, now);
                      if (!change) return std::nullopt;
                      SM_RETURN_IF_ERROR(Write(tx, *change, Actor{"system:overdue-scanner", ""}, ToUnixMicros(now)));
                      return std::move(change->finding);
                    }));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (marked > 0) Changed();
  return marked;
}

absl::StatusOr<v1::AuditStats> PgStore::Stats(const std::optional<std::string>& unit_id) {
  v1::AuditStats out;
  absl::Status s = db::WithTransaction(
      *pool_,
      [&](Tx& tx) -> absl::Status {
        out.Clear();
        const std::string scope =
            "WITH RECURSIVE units AS (SELECT id FROM directory.v_units WHERE id = $1::uuid UNION ALL "
            "SELECT u.id FROM directory.v_units u JOIN units p ON u.parent_id = p.id), "
            "scope AS (SELECT * FROM findings WHERE $1::uuid IS NULL OR responsible_unit_id IN (SELECT id FROM "
            "units)) ";
        auto t = tx.exec_params1(scope +
                                     "SELECT count(*), coalesce(sum(amount_fen), 0), "
                                     "count(*) FILTER (WHERE referral_state <> 'REFERRAL_STATE_UNSPECIFIED'), "
                                     "count(*) FILTER (WHERE recurring) FROM scope",
                                 unit_id);
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
        fill("SELECT responsible_unit_id::text, count(*) FROM scope GROUP BY 1 ORDER BY 2 DESC, 1",
             out.mutable_by_unit());
        v1::RectificationStats r = rectification::Stats(tx, scope, "SELECT id FROM scope", {unit_id});
        *out.mutable_signed_off_by_unit() = std::move(*r.mutable_signed_off_by_unit());
        out.set_rectifications(r.rectifications());
        out.set_signed_off(r.signed_off());
        out.set_overdue(r.overdue());
        out.set_rectification_rate(r.rectification_rate());
        return absl::OkStatus();
      },
      db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<int64_t> PgStore::StatsVersion() { return stats_version_.Read(); }

absl::StatusOr<events::EventLog::History> PgStore::History(const std::string& aggregate_id) {
  auto h = finding_log_.Read(*pool_, aggregate_id);
  if (absl::IsNotFound(h.status())) return engagement_log_.Read(*pool_, aggregate_id);
  return h;
}

absl::StatusOr<std::vector<events::FeedEvent>> PgStore::Feed(const events::Cursor& after, int limit) {
  return finding_log_.Feed(*pool_, after, limit);
}

absl::Status PgStore::ApplyClueEvent(Tx& tx, const v1::ClueEvent& ev) {
  auto payload = events::Decode<v1::ClueEventPayload>(ev.type(), ev.data_json());
  if (!payload.ok()) {
    // A type this version does not know, or data it cannot read: counted and skipped, so
    // one event never stops the feed.
    events::Skip(kClueFeed, ev.type(), payload.status());
    return absl::OkStatus();
  }
  auto update = FromClueEvent(*payload);
  if (!update) return absl::OkStatus();
  if (payload->has_registered()) {
    // A referral of ours: the clue names the finding as its source.
    const v1::ClueRegistered& reg = payload->registered();
    if (reg.referral().system() != "audit") return absl::OkStatus();
    const std::string& finding_id = reg.referral().ref();
    pqxx::result r = tx.exec_params("SELECT 1 FROM findings WHERE id::text = $1", finding_id);
    if (r.empty()) return absl::OkStatus();
    return LinkReferral(tx, finding_id, ev.clue_id(), reg.number(), *update->clue_state,
                        Actor{"system:clue-events", ""});
  }
  pqxx::result r = tx.exec_params("SELECT id::text FROM findings WHERE clue_id = $1::uuid", ev.clue_id());
  if (r.empty()) return absl::OkStatus();
  auto f = LoadFindingRow(tx, r[0][0].as<std::string>(), false, nullptr, nullptr);
  if (!f) return absl::OkStatus();
  Change change = FollowClue(*f, *update, ev.type(), ev.clue_id(), ev.seq());
  return Write(tx, change, Actor{"system:clue-events", ""}, NowMicros(clock_));
}

absl::Status PgStore::ReferralDelivered(Tx& tx, const std::string& finding_id, const v1::ClueReply& reply) {
  return LinkReferral(tx, finding_id, reply.clue().id(), reply.clue().number(), reply.clue().state(),
                      Actor{"system:outbox-relay", ""});
}

absl::Status PgStore::LinkReferral(Tx& tx, const std::string& finding_id, const std::string& clue_id,
                                   const std::string& clue_number, v1::ClueState clue_state, const Actor& actor) {
  auto f = LoadFindingRow(tx, finding_id, false, nullptr, nullptr);
  if (!f) return absl::OkStatus();
  std::optional<Change> change = audit::LinkReferral(*f, clue_id, clue_number, clue_state);
  if (!change) return absl::OkStatus();
  return Write(tx, *change, actor, NowMicros(clock_));
}

absl::Status PgStore::ReferralDead(Tx& tx, const std::string& finding_id, const std::string& error) {
  auto f = LoadFindingRow(tx, finding_id, false, nullptr, nullptr);
  if (!f) return absl::OkStatus();
  Change change = audit::ReferralDead(*f, error);
  return Write(tx, change, Actor{"system:outbox-relay", ""}, NowMicros(clock_));
}

absl::StatusOr<UnitInfo> PgStore::Unit(const std::string& id) { return directory_.Unit(id); }

absl::StatusOr<PersonInfo> PgStore::Person(const std::string& id) { return directory_.Person(id); }

}  // namespace sm::audit
