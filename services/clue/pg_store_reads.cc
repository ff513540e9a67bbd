#include <unordered_map>

#include "common/db/sql.h"
#include "common/uuid.h"
#include "services/clue/pg_rows.h"
#include "services/clue/pg_store.h"

// The store's reads: clues, custody, lists, history and tamper evidence, duplicates,
// statistics and the feed.

namespace sm::clue {
namespace {

using db::Opt;
using db::Str;
using db::Tx;
using pg::CluesOf;
using pg::CustodyFrom;
using pg::kColumns;
using pg::Load;
using pg::OptStr;
using pg::ToArrayLiteral;

}  // namespace

absl::StatusOr<StoredClue> PgStore::Get(const std::string& clue_id) {
  std::optional<StoredClue> out;
  absl::Status s = db::WithTransaction(
      *pool_,
      [&](Tx& tx) -> absl::Status {
        out = Load(tx, clue_id, false);
        return out ? absl::OkStatus() : absl::NotFoundError("clue not found");
      },
      db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return *out;
}

absl::StatusOr<Custody> PgStore::CustodyOf(const std::string& clue_id, const std::string& unit_id) {
  SM_ASSIGN_OR_RETURN(auto found, CustodyOf(std::vector<std::string>{clue_id}, unit_id));
  auto it = found.find(clue_id);
  return it == found.end() ? Custody::kNone : it->second;
}

absl::StatusOr<std::unordered_map<std::string, Custody>> PgStore::CustodyOf(const std::vector<std::string>& clue_ids,
                                                                            const std::string& unit_id) {
  std::unordered_map<std::string, Custody> out;
  absl::Status s = db::WithTransaction(
      *pool_,
      [&](Tx& tx) -> absl::Status {
        pqxx::result r = tx.exec_params(
            "SELECT clue_id::text, standing FROM clue_custody WHERE clue_id = ANY ($1::uuid[]) AND unit_id = $2::uuid",
            ToArrayLiteral(clue_ids), unit_id);
        for (const auto& row : r) out[row[0].as<std::string>()] = CustodyFrom(row[1]);
        return absl::OkStatus();
      },
      db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<StoredClue>> PgStore::List(const ListQuery& q) {
  std::vector<StoredClue> out;
  db::Where where;
  if (q.visible_to_unit) {
    where.Add(
        "EXISTS (SELECT 1 FROM clue_custody cc WHERE cc.clue_id = c.id AND cc.unit_id = ?::uuid AND "
        "(cc.standing <> 'offered' OR c.holding_unit_id = cc.unit_id OR c.offered_to_unit_id = cc.unit_id))",
        {*q.visible_to_unit});
  }
  if (q.holding_unit) where.Add("c.holding_unit_id = ?::uuid", {*q.holding_unit});
  if (q.origin_unit) where.Add("c.origin_unit_id = ?::uuid", {*q.origin_unit});
  if (q.state) where.Add("c.state = ?", {*q.state});
  if (q.category) where.Add("? = ANY (c.categories)", {*q.category});
  if (q.subject_person) {
    where.Add("EXISTS (SELECT 1 FROM clue_subjects s WHERE s.clue_id = c.id AND s.person_id = ?::uuid)",
              {*q.subject_person});
  }
  if (q.text) where.Add("c.summary ILIKE ?", {"%" + *q.text + "%"});
  if (q.received_from_us)
    where.Add("c.received_at >= " + std::string(db::kTimestampExpr), {std::to_string(*q.received_from_us)});
  if (q.received_to_us)
    where.Add("c.received_at < " + std::string(db::kTimestampExpr), {std::to_string(*q.received_to_us)});
  if (q.overdue_only) where.Add("c.overdue");
  if (q.after) {
    where.Add("(c.received_at, c.id) < (" + std::string(db::kTimestampExpr) + ", ?::uuid)",
              {std::to_string(q.after->first), q.after->second});
  }
  const std::string limit = where.Param(std::to_string(q.limit));
  absl::Status s = db::WithTransaction(
      *pool_,
      [&](Tx& tx) -> absl::Status {
        pqxx::result r = tx.exec_params(std::string("SELECT ") + kColumns + " FROM clues c WHERE " + where.Sql() +
                                            " ORDER BY c.received_at DESC, c.id DESC LIMIT " + limit,
                                        pqxx::prepare::make_dynamic_params(where.params()));
        out = CluesOf(tx, r);
        return absl::OkStatus();
      },
      db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<chain::Event>> PgStore::Events(const std::string& clue_id) {
  auto h = log_.Read(*pool_, clue_id);
  if (!h.ok()) return absl::Status(h.status().code(), "clue not found");
  return std::move(h->events);
}

absl::StatusOr<std::optional<chain::Evidence>> PgStore::ChainEvidence(Tx& tx, const std::string& clue_id) const {
  auto row = Load(tx, clue_id, false);
  if (!row) return std::nullopt;
  SM_ASSIGN_OR_RETURN(auto history, log_.Read(tx, clue_id));
  return chain::Evidence{std::move(history.events), history.head_len, std::move(history.head_hash), StateDigest(*row)};
}

std::map<std::string, chain::Evidence> PgStore::ChainRows(Tx& tx) const {
  std::map<std::string, chain::Evidence> all;
  for (const StoredClue& row : CluesOf(tx, tx.exec(std::string("SELECT ") + kColumns + " FROM clues c"))) {
    all.emplace(row.clue.id(), chain::Evidence{{}, row.chain_len, row.chain_head, StateDigest(row)});
  }
  return all;
}

absl::StatusOr<std::vector<StoredClue>> PgStore::Duplicates(const std::vector<std::string>& person_ids,
                                                            const std::optional<std::string>& visible_to_unit,
                                                            const std::string& exclude_id) {
  std::vector<StoredClue> out;
  absl::Status s = db::WithTransaction(
      *pool_,
      [&](Tx& tx) -> absl::Status {
        pqxx::result r = tx.exec_params(
            std::string("SELECT ") + kColumns +
                " FROM clues c WHERE c.id <> $3::uuid"
                " AND c.state NOT IN ('CLUE_STATE_CONCLUDED', 'CLUE_STATE_MERGED')"
                " AND EXISTS (SELECT 1 FROM clue_subjects s WHERE s.clue_id = c.id AND s.person_id::text = ANY "
                "($1::text[]))" +
                std::string(visible_to_unit ? " AND EXISTS (SELECT 1 FROM clue_custody cc WHERE cc.clue_id = c.id AND "
                                              "cc.unit_id = $2::uuid AND (cc.standing <> 'offered' OR "
                                              "c.holding_unit_id = cc.unit_id OR c.offered_to_unit_id = cc.unit_id))"
                                            : " AND $2::uuid IS NULL") +
                " ORDER BY c.received_at DESC, c.id DESC LIMIT 200",
            ToArrayLiteral(person_ids), visible_to_unit,
            exclude_id.empty() ? "00000000-0000-0000-0000-000000000000" : exclude_id);
        out = CluesOf(tx, r);
        return absl::OkStatus();
      },
      db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<int64_t> PgStore::StatsVersion() { return stats_version_.Read(); }

absl::StatusOr<v1::ClueStats> PgStore::Stats(const StatsQuery& q) {
  v1::ClueStats out;
  absl::Status s = db::WithTransaction(*pool_, [&](Tx& tx) -> absl::Status {
    out.Clear();
    // The clues in scope, once; every breakdown below reads this snapshot.
    tx.exec_params0(
        "CREATE TEMP TABLE scope ON COMMIT DROP AS "
        "WITH RECURSIVE units AS ("
        "  SELECT id FROM directory.v_units WHERE id = $1::uuid"
        "  UNION ALL SELECT u.id FROM directory.v_units u JOIN units p ON u.parent_id = p.id) "
        "SELECT c.id, c.state, c.disposition_method, c.outcome_form, c.holding_unit_id, c.source, c.categories, "
        "c.overdue "
        "FROM clues c WHERE ($1::uuid IS NULL OR c.holding_unit_id IN (SELECT id FROM units))"
        " AND ($2::bigint IS NULL OR c.received_at >= ('epoch'::timestamptz + $2::bigint * interval '1 microsecond'))"
        " AND ($3::bigint IS NULL OR c.received_at < ('epoch'::timestamptz + $3::bigint * interval '1 microsecond'))",
        q.unit_id, q.received_from_us, q.received_to_us);
    auto totals = tx.exec1("SELECT count(*), count(*) FILTER (WHERE overdue) FROM scope");
    out.set_total(totals[0].as<int64_t>());
    out.set_overdue(totals[1].as<int64_t>());
    auto fill = [&](const std::string& sql, google::protobuf::RepeatedPtrField<v1::StatsCount>* dst) {
      for (const auto& r : tx.exec(sql)) {
        auto* c = dst->Add();
        c->set_key(Str(r[0]));
        c->set_count(r[1].as<int64_t>());
      }
    };
    fill("SELECT state, count(*) FROM scope GROUP BY 1 ORDER BY 1", out.mutable_by_state());
    fill("SELECT disposition_method, count(*) FROM scope WHERE disposition_method IS NOT NULL GROUP BY 1 ORDER BY 1",
         out.mutable_by_method());
    fill("SELECT 'SUPERVISION_FORM_' || outcome_form, count(*) FROM scope WHERE outcome_form > 0 GROUP BY 1 ORDER BY 1",
         out.mutable_by_form());
    fill("SELECT cat, count(*) FROM scope, unnest(categories) AS cat GROUP BY 1 ORDER BY 1", out.mutable_by_category());
    fill("SELECT holding_unit_id::text, count(*) FROM scope GROUP BY 1 ORDER BY 2 DESC, 1",
         out.mutable_by_holding_unit());
    fill("SELECT source, count(*) FROM scope GROUP BY 1 ORDER BY 1", out.mutable_by_source());
    fill(
        "SELECT kind, count(*) FROM ("
        "  SELECT CASE WHEN bool_or(p.leader) THEN 'leader' WHEN bool_or(s.person_id IS NOT NULL) THEN 'non_leader'"
        "         ELSE 'unit' END AS kind"
        "  FROM scope sc JOIN clue_subjects s ON s.clue_id = sc.id"
        "  LEFT JOIN directory.v_people p ON p.id = s.person_id GROUP BY sc.id) k GROUP BY 1 ORDER BY 1",
        out.mutable_by_subject_kind());
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<FeedEvent>> PgStore::Feed(const Cursor& after, int limit) {
  return log_.Feed(*pool_, after, limit);
}

}  // namespace sm::clue
