#include "common/rectification_store.h"

#include <algorithm>

#include "common/db/sql.h"

namespace sm::rectification {
namespace {

using OptStr = std::optional<std::string>;
using db::Micros;
using db::Str;

const std::string kSignedOff = "'RECTIFICATION_STATE_SIGNED_OFF'";

std::string Us(const std::string& column) { return db::MicrosOf(column); }
OptStr Num(int64_t n) { return std::to_string(n); }
OptStr Bool(bool b) { return std::string(b ? "true" : "false"); }

// The columns as a step writes them, each with the expression its parameter becomes, in the
// order of the state digest (finding_id first: the finding's digest leaves it out). Params
// gives the values in this order; StateColumns reads the same values as PostgreSQL prints
// them, so the digest a new event commits to is the one recomputed from the stored row.
const db::Column kRow[] = {{"finding_id", "?::uuid"},
                           {"id", "?::uuid"},
                           {"measure", "?"},
                           {"owner_unit_id", "?::uuid"},
                           {"deadline_at", db::kTimestampExpr},
                           {"state", "?"},
                           {"overdue", "?::boolean"},
                           {"spot_check", "?::boolean"},
                           {"signed_off_at", db::kTimestampExpr},
                           {"lookback_until", db::kTimestampExpr},
                           {"reopened", "?::integer"},
                           {"last_note", "?"},
                           {"version", "?::bigint"},
                           {"created_at", db::kTimestampExpr}};
constexpr size_t kIdColumn = 1;

std::vector<OptStr> Params(const v1::Rectification& x) {
  return {x.finding_id(),
          x.id(),
          x.measure(),
          x.owner_unit_id(),
          Num(Micros(x.deadline_at())),
          v1::RectificationState_Name(x.state()),
          Bool(x.overdue()),
          Bool(x.spot_check()),
          db::MicrosOrNull(x.signed_off_at()),
          db::MicrosOrNull(x.lookback_until()),
          Num(x.reopened()),
          x.last_note(),
          Num(x.version()),
          Num(Micros(x.created_at()))};
}

// How many "?" `sql` has.
size_t Placeholders(const std::string& sql) { return static_cast<size_t>(std::count(sql.begin(), sql.end(), '?')); }

}  // namespace

std::vector<std::string> ColumnNames() {
  return {"id",         "finding_id",    "measure",        "owner_unit_id", "deadline_at", "state",   "overdue",
          "spot_check", "signed_off_at", "lookback_until", "reopened",      "last_note",   "version", "created_at"};
}

std::string Columns(const std::string& a) {
  return a + "id::text, " + a + "finding_id::text, " + a + "measure, " + a + "owner_unit_id::text, " +
         Us(a + "deadline_at") + ", " + a + "state, " + a + "overdue, " + a + "spot_check, " + Us(a + "signed_off_at") +
         ", " + Us(a + "lookback_until") + ", " + a + "reopened, " + a + "version, " + a + "last_note, " +
         Us(a + "created_at");
}

v1::Rectification FromRow(const pqxx::row& r, int at) {
  v1::Rectification x;
  x.set_id(Str(r[at + 0]));
  x.set_finding_id(Str(r[at + 1]));
  x.set_measure(Str(r[at + 2]));
  x.set_owner_unit_id(Str(r[at + 3]));
  db::SetMicros(x.mutable_deadline_at(), r[at + 4].as<int64_t>());
  v1::RectificationState s;
  if (v1::RectificationState_Parse(Str(r[at + 5]), &s)) x.set_state(s);
  x.set_overdue(r[at + 6].as<bool>());
  x.set_spot_check(r[at + 7].as<bool>());
  if (!r[at + 8].is_null()) db::SetMicros(x.mutable_signed_off_at(), r[at + 8].as<int64_t>());
  if (!r[at + 9].is_null()) db::SetMicros(x.mutable_lookback_until(), r[at + 9].as<int64_t>());
  x.set_reopened(r[at + 10].as<int>());
  x.set_version(r[at + 11].as<int64_t>());
  x.set_last_note(Str(r[at + 12]));
  db::SetMicros(x.mutable_created_at(), r[at + 13].as<int64_t>());
  return x;
}

void Insert(pqxx::transaction_base& tx, const v1::Rectification& x) {
  static const std::string sql = db::InsertSql("rectifications", kRow);
  tx.exec_params0(sql, pqxx::prepare::make_dynamic_params(Params(x)));
}

void Update(pqxx::transaction_base& tx, const v1::Rectification& x) {
  static const std::string sql = db::UpdateSql("rectifications", kRow, kIdColumn);
  tx.exec_params0(sql, pqxx::prepare::make_dynamic_params(Params(x)));
}

void AddToDigest(chain::StateDigester& d, const v1::Rectification& x) {
  const std::vector<OptStr> params = Params(x);
  for (size_t i = 1; i < std::size(kRow); ++i) {
    if (kRow[i].uuid())
      d.AddUuid(params[i]);
    else
      d.Add(params[i]);
  }
}

std::string StateColumns() {
  return "finding_id::text, id::text, measure, owner_unit_id::text, " + Us("deadline_at") +
         "::text, state, overdue::text, spot_check::text, " + Us("signed_off_at") + "::text, " + Us("lookback_until") +
         "::text, reopened::text, last_note, version::text, " + Us("created_at") + "::text";
}

void AddStoredToDigest(chain::StateDigester& d, const pqxx::row& r) {
  for (pqxx::row::size_type i = 1; i < r.size(); ++i) d.Add(r[i].is_null() ? OptStr() : OptStr(r[i].c_str()));
}

std::optional<v1::Rectification> Get(pqxx::transaction_base& tx, const std::string& id) {
  static const std::string sql = "SELECT " + Columns() + " FROM rectifications WHERE id = $1::uuid";
  pqxx::result r = tx.exec_params(sql, id);
  if (r.empty()) return std::nullopt;
  return FromRow(r[0]);
}

std::vector<v1::Rectification> List(pqxx::transaction_base& tx, const v1::ListRectificationsRequest& q,
                                    const ListQuery& query) {
  db::Where where;
  if (query.visible) {
    const std::string& cond = query.visible->finding_condition;
    if (cond.empty()) {
      where.Add("x.owner_unit_id = ?::uuid", {query.visible->unit});
    } else {
      where.Add("x.owner_unit_id = ?::uuid OR " + cond,
                std::vector<OptStr>(1 + Placeholders(cond), query.visible->unit));
    }
  }
  if (!q.finding_id().empty()) where.Add("x.finding_id = ?::uuid", {q.finding_id()});
  if (!q.owner_unit_id().empty()) where.Add("x.owner_unit_id = ?::uuid", {q.owner_unit_id()});
  if (q.state() != v1::RECTIFICATION_STATE_UNSPECIFIED)
    where.Add("x.state = ?", {v1::RectificationState_Name(q.state())});
  if (q.overdue_only()) where.Add("x.overdue");
  if (query.after) {
    where.Add("(x.created_at, x.id) > (" + std::string(db::kTimestampExpr) + ", ?::uuid)",
              {std::to_string(query.after->first), query.after->second});
  }
  const std::string limit = where.Param(std::to_string(query.limit));
  pqxx::result rows = tx.exec_params("SELECT " + Columns("x.") + " FROM rectifications x WHERE " + where.Sql() +
                                         " ORDER BY x.created_at, x.id LIMIT " + limit,
                                     pqxx::prepare::make_dynamic_params(where.params()));
  std::vector<v1::Rectification> out;
  for (const auto& r : rows) out.push_back(FromRow(r));
  return out;
}

v1::RectificationStats Stats(pqxx::transaction_base& tx, const std::string& with, const std::string& findings,
                             const std::vector<OptStr>& params) {
  const std::string from = " FROM rectifications x WHERE x.finding_id IN (" + findings + ")";
  const auto args = pqxx::prepare::make_dynamic_params(params);
  v1::RectificationStats out;
  pqxx::row t = tx.exec_params1(with +
                                    "SELECT count(*), count(*) FILTER (WHERE x.state = 'RECTIFICATION_STATE_OPEN'), "
                                    "count(*) FILTER (WHERE x.state = 'RECTIFICATION_STATE_SUBMITTED'), "
                                    "count(*) FILTER (WHERE x.state = " +
                                    kSignedOff +
                                    "), count(*) FILTER (WHERE x.overdue), "
                                    "count(*) FILTER (WHERE x.reopened > 0)" +
                                    from,
                                args);
  out.set_rectifications(t[0].as<int64_t>());
  out.set_open(t[1].as<int64_t>());
  out.set_submitted(t[2].as<int64_t>());
  out.set_signed_off(t[3].as<int64_t>());
  out.set_overdue(t[4].as<int64_t>());
  out.set_reopened(t[5].as<int64_t>());
  out.set_rectification_rate(out.rectifications() == 0 ? 0.0
                                                       : static_cast<double>(out.signed_off()) / out.rectifications());
  auto by_unit = [&](const std::string& only, google::protobuf::RepeatedPtrField<v1::StatsCount>* dst) {
    for (const auto& r : tx.exec_params(
             with + "SELECT x.owner_unit_id::text, count(*)" + from + only + " GROUP BY 1 ORDER BY 2 DESC, 1", args)) {
      auto* c = dst->Add();
      c->set_key(Str(r[0]));
      c->set_count(r[1].as<int64_t>());
    }
  };
  by_unit("", out.mutable_by_owner_unit());
  by_unit(" AND x.state = " + kSignedOff, out.mutable_signed_off_by_unit());
  return out;
}

std::vector<std::string> DueFindings(pqxx::transaction_base& tx, TimePoint now, int limit) {
  static const std::string sql =
      "SELECT DISTINCT finding_id::text FROM (SELECT finding_id FROM rectifications WHERE NOT overdue "
      "AND state = 'RECTIFICATION_STATE_OPEN' AND deadline_at < " +
      db::TimestampParam(1) + " ORDER BY deadline_at LIMIT $2) d ORDER BY 1";
  std::vector<std::string> out;
  for (const auto& r : tx.exec_params(sql, ToUnixMicros(now), limit)) out.push_back(Str(r[0]));
  return out;
}

}  // namespace sm::rectification
