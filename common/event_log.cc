#include "common/event_log.h"

#include <stdexcept>

#include "common/db/sql.h"

namespace sm::events {
namespace {

std::string Str(const pqxx::field& f) { return f.is_null() ? "" : f.as<std::string>(); }

}  // namespace

std::string Cursor::ToString() const { return std::to_string(xid) + ":" + std::to_string(gseq); }

std::optional<Cursor> Cursor::Parse(const std::string& s) {
  if (s.empty()) return Cursor{};
  size_t colon = s.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= s.size() || s.size() > 48) return std::nullopt;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i != colon && (s[i] < '0' || s[i] > '9')) return std::nullopt;
  }
  try {
    return Cursor{std::stoull(s.substr(0, colon)), std::stoll(s.substr(colon + 1))};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

EventLog::EventLog(std::string events_table, std::string id_column, std::string aggregate_table, std::string channel,
                   bool versioned)
    : events_(std::move(events_table)),
      id_(std::move(id_column)),
      aggregates_(std::move(aggregate_table)),
      channel_(std::move(channel)),
      versioned_(versioned) {}

std::string EventLog::EventColumns() const {
  return "seq, " + id_ +
         "::text, type, actor, actor_unit_id, (extract(epoch FROM at) * 1000000)::bigint, "
         "data, prev_hash, hash, " +
         std::string(versioned_ ? "chain_version, state_digest" : "1, ''");
}

chain::Event EventLog::FromRow(const pqxx::row& r) const {
  chain::Event e;
  e.seq = r[0].as<int64_t>();
  e.aggregate_id = Str(r[1]);
  e.type = Str(r[2]);
  e.actor = Str(r[3]);
  e.actor_unit = Str(r[4]);
  e.at_micros = r[5].as<int64_t>();
  e.data = Str(r[6]);
  e.prev_hash = Str(r[7]);
  e.hash = Str(r[8]);
  e.chain_version = r[9].as<int>();
  e.state_digest = Str(r[10]);
  return e;
}

chain::Event EventLog::Next(const std::string& aggregate_id, int64_t prev_seq, const std::string& prev_hash,
                            const Actor& actor, const std::string& type, const std::string& data_json,
                            int64_t at_micros, const std::string& state_digest) {
  chain::Event e;
  e.seq = prev_seq + 1;
  e.aggregate_id = aggregate_id;
  e.type = type;
  e.actor = actor.user;
  e.actor_unit = actor.unit;
  e.at_micros = at_micros;
  e.data = data_json;
  if (!state_digest.empty()) {
    e.chain_version = chain::kChainVersion;
    e.state_digest = state_digest;
  }
  e.prev_hash = prev_hash;
  e.hash = chain::Hash(e.prev_hash, e);
  return e;
}

void EventLog::Insert(db::Tx& tx, const std::vector<chain::Event>& events) const {
  Insert(tx, events, {}, events_ + "_insert");
}

void EventLog::Insert(db::Tx& tx, const std::vector<chain::Event>& events, const std::vector<Also>& also,
                      const std::string& statement) const {
  if (events.empty() && also.empty()) return;
  std::vector<std::optional<std::string>> params;
  std::string with;
  int next = 1;
  for (size_t i = 0; i < also.size(); ++i) {
    with += "also" + std::to_string(i) + " AS (" + db::Numbered(also[i].sql, next) + "), ";
    params.insert(params.end(), also[i].params.begin(), also[i].params.end());
  }
  // The events as one array per column: the statement's text is the same for any number.
  std::vector<std::string> exprs = {"?::uuid", "?::integer", "?", "?", "?", db::kTimestampExpr, "?", "?", "?"};
  if (versioned_) exprs.insert(exprs.end(), {"?::integer", "?"});
  db::RowSet rows(std::move(exprs));
  for (const auto& e : events) {
    std::vector<std::optional<std::string>> row = {e.aggregate_id, std::to_string(e.seq), e.type,
                                                   e.actor,        e.actor_unit,          std::to_string(e.at_micros),
                                                   e.data,         e.prev_hash,           e.hash};
    if (versioned_) {
      row.insert(row.end(), {std::to_string(e.chain_version), e.state_digest});
    } else if (e.chain_version != 1) {
      throw std::logic_error(events_ + " holds chain version 1 events only");
    }
    rows.Add(std::move(row));
  }
  const std::vector<std::optional<std::string>> arrays = rows.Params();
  params.insert(params.end(), arrays.begin(), arrays.end());
  with += "written AS (INSERT INTO " + events_ + " (" + id_ +
          ", seq, type, actor, actor_unit_id, at, data, prev_hash, hash" +
          (versioned_ ? ", chain_version, state_digest" : "") + ") " + db::Numbered(rows.Select(), next) + ")";
  // The writes and the NOTIFY in one round trip.
  const std::string sql = "WITH " + with + " SELECT pg_notify(" + tx.quote(channel_) + ", '')";
  if (!statement.empty()) {
    db::ExecPrepared(tx, statement, sql, pqxx::prepare::make_dynamic_params(params));
  } else {
    tx.exec_params1(sql, pqxx::prepare::make_dynamic_params(params));
  }
}

chain::Event EventLog::Append(db::Tx& tx, const std::string& aggregate_id, const Actor& actor, const std::string& type,
                              const std::string& data_json, int64_t at_micros, const std::string& state_digest) const {
  pqxx::row head =
      tx.exec_params1("SELECT chain_len, chain_head FROM " + aggregates_ + " WHERE id = $1::uuid", aggregate_id);
  chain::Event e =
      Next(aggregate_id, head[0].as<int64_t>(), Str(head[1]), actor, type, data_json, at_micros, state_digest);
  // The event and the aggregate's new head: one statement.
  Insert(tx, {e},
         {{"UPDATE " + aggregates_ + " SET chain_len = ?::integer, chain_head = ? WHERE id = ?::uuid",
           {std::to_string(e.seq), e.hash, aggregate_id}}},
         events_ + "_append");
  return e;
}

absl::StatusOr<EventLog::History> EventLog::Read(db::Tx& tx, const std::string& aggregate_id) const {
  History h;
  pqxx::result head =
      tx.exec_params("SELECT chain_len, chain_head FROM " + aggregates_ + " WHERE id = $1::uuid", aggregate_id);
  if (head.empty()) return absl::NotFoundError("not found");
  h.head_len = head[0][0].as<int64_t>();
  h.head_hash = Str(head[0][1]);
  for (const auto& r :
       tx.exec_params("SELECT " + EventColumns() + " FROM " + events_ + " WHERE " + id_ + " = $1::uuid ORDER BY seq",
                      aggregate_id)) {
    h.events.push_back(FromRow(r));
  }
  return h;
}

std::map<std::string, std::vector<chain::Event>> EventLog::ReadAll(db::Tx& tx) const {
  std::map<std::string, std::vector<chain::Event>> out;
  for (const auto& r : tx.exec("SELECT " + EventColumns() + " FROM " + events_ + " ORDER BY " + id_ + ", seq")) {
    chain::Event e = FromRow(r);
    out[e.aggregate_id].push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<EventLog::History> EventLog::Read(db::Pool& pool, const std::string& aggregate_id) const {
  absl::StatusOr<History> h = absl::InternalError("not read");
  absl::Status s = db::WithTransaction(
      pool,
      [&](db::Tx& tx) -> absl::Status {
        h = Read(tx, aggregate_id);
        return h.status();
      },
      db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return h;
}

absl::StatusOr<std::vector<FeedEvent>> EventLog::Feed(db::Pool& pool, const Cursor& after, int limit) const {
  std::vector<FeedEvent> out;
  absl::Status s = db::WithTransaction(
      pool,
      [&](db::Tx& tx) -> absl::Status {
        pqxx::result r = tx.exec_params(
            "SELECT " + EventColumns() + ", xid::text AS xid_text, gseq FROM " + events_ +
                " WHERE (xid, gseq) > ($1::text::xid8, $2::bigint) AND xid < pg_snapshot_xmin(pg_current_snapshot()) "
                " ORDER BY xid, gseq LIMIT $3",
            std::to_string(after.xid), after.gseq, limit);
        for (const auto& row : r) {
          FeedEvent f;
          f.event = FromRow(row);
          f.cursor.xid = std::stoull(Str(row[11]));
          f.cursor.gseq = row[12].as<int64_t>();
          out.push_back(std::move(f));
        }
        return absl::OkStatus();
      },
      db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return out;
}

}  // namespace sm::events
