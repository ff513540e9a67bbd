#include "services/clue/pg_rows.h"

#include <iterator>
#include <map>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "common/db/sql.h"
#include "common/event_payload.h"
#include "common/uuid.h"
#include "services/clue/pg_store.h"

namespace sm::clue::pg {

using db::MicrosOrNull;
using db::Opt;
using db::SetMicros;
using db::Str;
using db::Tx;

int64_t Micros(const google::protobuf::Timestamp& t) { return db::Micros(t); }
OptStr TsParam(const google::protobuf::Timestamp& t) { return MicrosOrNull(t); }
std::vector<std::string> ParseArray(const pqxx::field& f) { return db::TextArray(f); }
std::string ToArrayLiteral(const std::vector<std::string>& v) { return db::TextArrayLiteral(v); }

StoredClue FromRow(const pqxx::row& r) {
  StoredClue s;
  v1::Clue& c = s.clue;
  c.set_id(Str(r[0]));
  c.set_number(Str(r[1]));
  v1::ClueState st;
  if (v1::ClueState_Parse(Str(r[2]), &st)) c.set_state(st);
  v1::ClueSource src;
  if (v1::ClueSource_Parse(Str(r[3]), &src)) c.set_source(src);
  v1::ReceiptChannel ch;
  if (v1::ReceiptChannel_Parse(Str(r[4]), &ch)) c.set_channel(ch);
  c.set_source_system(Str(r[5]));
  c.set_source_ref(Str(r[6]));
  c.set_origin_unit_id(Str(r[7]));
  c.set_holding_unit_id(Str(r[8]));
  c.set_offered_to_unit_id(Str(r[9]));
  c.set_handler_person_id(Str(r[10]));
  for (const auto& name : ParseArray(r[11])) {
    v1::ClueCategory cat;
    if (v1::ClueCategory_Parse(name, &cat)) c.add_categories(cat);
  }
  c.set_summary(Str(r[12]));
  s.details_sealed = Str(r[13]);
  s.reporter_sealed = Str(r[14]);
  c.set_reporter_on_file(r[15].as<bool>());
  v1::Severity sev;
  if (v1::Severity_Parse(Str(r[16]), &sev)) c.set_severity(sev);
  SetMicros(c.mutable_received_at(), r[17].as<int64_t>());
  SetMicros(c.mutable_registered_at(), r[18].as<int64_t>());
  if (!r[19].is_null()) {
    v1::DispositionMethod m;
    if (v1::DispositionMethod_Parse(Str(r[19]), &m)) c.mutable_disposition()->set_method(m);
    c.mutable_disposition()->set_reason(Str(r[20]));
    c.mutable_disposition()->set_decided_by(Str(r[21]));
    if (!r[22].is_null()) SetMicros(c.mutable_disposition()->mutable_decided_at(), r[22].as<int64_t>());
  }
  if (!r[23].is_null() || !r[27].is_null()) {
    auto* o = c.mutable_outcome();
    if (!r[23].is_null()) o->set_form(static_cast<v1::SupervisionForm>(r[23].as<int>()));
    o->set_case_filed(!r[24].is_null() && r[24].as<bool>());
    for (const auto& sanction : ParseArray(r[25])) o->add_sanctions(sanction);
    o->set_feedback(Str(r[26]));
    if (!r[27].is_null()) SetMicros(o->mutable_concluded_at(), r[27].as<int64_t>());
  }
  if (!r[28].is_null()) SetMicros(c.mutable_deadline_at(), r[28].as<int64_t>());
  c.set_deadline_stage(Str(r[29]));
  c.set_overdue(r[30].as<bool>());
  c.set_merged_into_id(Str(r[31]));
  c.set_intervened(r[32].as<bool>());
  c.set_version(r[33].as<int64_t>());
  s.chain_len = r[34].as<int>();
  s.chain_head = Str(r[35]);
  return s;
}

// Reads the subjects of `clues` with one query, whatever their number.
void LoadSubjects(Tx& tx, std::vector<StoredClue>& clues) {
  if (clues.empty()) return;
  std::vector<std::string> ids;
  std::unordered_map<std::string, StoredClue*> by_id;
  for (auto& c : clues) {
    ids.push_back(c.clue.id());
    by_id[c.clue.id()] = &c;
  }
  for (const auto& r :
       tx.exec_params("SELECT clue_id::text, person_id::text, unit_id::text, display_name FROM clue_subjects "
                      "WHERE clue_id = ANY ($1::uuid[]) ORDER BY clue_id, ord",
                      db::TextArrayLiteral(ids))) {
    auto it = by_id.find(Str(r[0]));
    if (it == by_id.end()) continue;
    auto* subj = it->second->clue.add_subjects();
    if (!r[1].is_null()) subj->set_person_id(Str(r[1]));
    if (!r[2].is_null()) subj->set_unit_id(Str(r[2]));
    subj->set_display_name(Str(r[3]));
  }
}
std::vector<StoredClue> CluesOf(Tx& tx, const pqxx::result& rows) {
  std::vector<StoredClue> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(FromRow(row));
  LoadSubjects(tx, out);
  return out;
}
std::vector<std::string> CategoryNames(const v1::Clue& c) {
  std::vector<std::string> out;
  for (int cat : c.categories()) out.push_back(v1::ClueCategory_Name(static_cast<v1::ClueCategory>(cat)));
  return out;
}

std::vector<std::optional<std::string>> RowParams(const StoredClue& s);

// Appends the next event of the clue's chain after the head `s` was loaded with (the row is
// locked), and stores the new head on the row. `s` is the clue as written: the event
// commits to its state digest. For events that change nothing else of the row (reveal
// steps); a step that changes the row writes it once with its head (WriteChange).
void AppendTo(Tx& tx, const events::EventLog& log, StoredClue& s, const Actor& actor, const v1::ClueEventPayload& event,
              int64_t at_us);

Custody CustodyFrom(const pqxx::field& f) {
  if (f.is_null()) return Custody::kNone;
  const std::string standing = f.as<std::string>();
  return standing == "sender" ? Custody::kSender : standing == "supervisor" ? Custody::kSupervisor : Custody::kOffered;
}

// Reads `ids` with their subjects and each with the custody record of the unit at the same
// place in `units` (none when nullopt), in one statement; with `lock`, locks them in id order
// (so that concurrent writers cannot deadlock). Clues that do not exist are absent.
std::vector<std::pair<StoredClue, Custody>> LoadWith(Tx& tx, const std::vector<std::string>& ids,
                                                     const std::vector<OptStr>& units, bool lock) {
  static const std::string select =
      std::string("SELECT ") + kColumns +
      ", (SELECT k.standing FROM clue_custody k WHERE k.clue_id = c.id AND k.unit_id = q.unit)"
      ", (SELECT json_agg(json_build_array(s.person_id, s.unit_id, s.display_name) ORDER BY s.ord)"
      "     FROM clue_subjects s WHERE s.clue_id = c.id)"
      " FROM unnest($1::uuid[], $2::uuid[]) AS q(id, unit) JOIN clues c ON c.id = q.id ORDER BY c.id";
  // NO KEY UPDATE: writers of one clue still queue on it, but the foreign-key checks of rows
  // that point at it (events, custody) take KEY SHARE, which it does not block.
  static const std::string locked = select + " FOR NO KEY UPDATE OF c";
  std::vector<std::pair<StoredClue, Custody>> out;
  for (const auto& r : db::ExecPrepared(tx, lock ? "clue_load_locked" : "clue_load", lock ? locked : select,
                                        ToArrayLiteral(ids), db::TextArrayLiteral(units))) {
    StoredClue c = FromRow(r);
    if (!r[kColumnCount + 1].is_null()) {
      for (const auto& subj : nlohmann::json::parse(r[kColumnCount + 1].c_str())) {
        auto* out_subject = c.clue.add_subjects();
        if (!subj[0].is_null()) out_subject->set_person_id(subj[0].get<std::string>());
        if (!subj[1].is_null()) out_subject->set_unit_id(subj[1].get<std::string>());
        out_subject->set_display_name(subj[2].get<std::string>());
      }
    }
    out.emplace_back(std::move(c), CustodyFrom(r[kColumnCount]));
  }
  return out;
}
std::vector<std::pair<StoredClue, Custody>> LoadLocked(Tx& tx, const std::vector<std::string>& ids,
                                                       const std::string& caller_unit) {
  return LoadWith(tx, ids, std::vector<OptStr>(ids.size(), IsUuid(caller_unit) ? Opt(caller_unit) : OptStr()), true);
}
// One clue with its subjects (nullopt when absent).
std::optional<StoredClue> Load(Tx& tx, const std::string& id, bool for_update) {
  auto found = LoadWith(tx, {id}, {OptStr()}, for_update);
  if (found.empty()) return std::nullopt;
  return std::move(found[0].first);
}

events::EventLog::Also RowUpdates(const std::vector<const StoredClue*>& rows);
events::EventLog::Also CustodyUpserts(const std::vector<std::optional<std::string>>& flat);
const char* CustodyName(Custody c);

// Writes decided changes, each of another clue: every version moves on, each event commits
// to its clue's new row, and the rows (with their new chain heads), the custody they add and
// the events are written with one statement, whatever their number. Returns the clues as
// written, in order.
std::vector<StoredClue> WriteChanges(Tx& tx, const events::EventLog& log, std::vector<Write> writes, int64_t at_us) {
  std::vector<chain::Event> events;
  std::vector<const StoredClue*> rows;
  std::vector<OptStr> custody;  // (clue, unit, standing) flattened
  for (Write& w : writes) {
    StoredClue& after = w.change.after;
    after.clue.set_version(after.clue.version() + 1);
    const events::Payload p = events::MustEncode(w.change.event);
    events.push_back(events::EventLog::Next(after.clue.id(), after.chain_len, after.chain_head, w.actor, p.type, p.json,
                                            at_us, StateDigest(after)));
    after.chain_len = static_cast<int>(events.back().seq);
    after.chain_head = events.back().hash;
    rows.push_back(&after);
    std::map<std::string, Custody> units;  // one upsert per unit (a statement may not touch a row twice)
    for (const auto& [unit, standing] : w.change.custody_add) {
      if (!unit.empty()) units[unit] = standing;
    }
    for (const auto& [unit, standing] : units) {
      custody.insert(custody.end(), {after.clue.id(), unit, std::string(CustodyName(standing))});
    }
  }
  log.Insert(tx, events, {RowUpdates(rows), CustodyUpserts(custody)}, "clue_write");
  std::vector<StoredClue> out;
  out.reserve(writes.size());
  for (Write& w : writes) out.push_back(std::move(w.change.after));
  return out;
}
StoredClue WriteChange(Tx& tx, const events::EventLog& log, Change change, const Actor& actor, int64_t at_us) {
  std::vector<Write> one;
  one.push_back({std::move(change), actor});
  return std::move(WriteChanges(tx, log, std::move(one), at_us)[0]);
}

// The columns of a clues row as the service writes it, each with the expression its
// parameter becomes ("?" is the parameter). RowParams gives the values in this order; an
// update sets all but id and the chain (kept by the event log).
struct Column {
  const char* name;
  const char* expr;
};
const Column kRow[] = {{"id", "?::uuid"},
                       {"number", "?"},
                       {"state", "?"},
                       {"source", "?"},
                       {"channel", "?"},
                       {"source_system", "?"},
                       {"source_ref", "?"},
                       {"origin_unit_id", "?::uuid"},
                       {"holding_unit_id", "?::uuid"},
                       {"offered_to_unit_id", "?::uuid"},
                       {"handler_person_id", "?::uuid"},
                       {"categories", "?::text[]"},
                       {"summary", "?"},
                       {"details_sealed", "?"},
                       {"reporter_sealed", "?"},
                       {"has_reporter", "?::boolean"},
                       {"severity", "?"},
                       {"received_at", db::kTimestampExpr},
                       {"registered_at", db::kTimestampExpr},
                       {"disposition_method", "?"},
                       {"disposition_reason", "?"},
                       {"disposition_by", "?"},
                       {"disposition_at", db::kTimestampExpr},
                       {"outcome_form", "?::integer"},
                       {"outcome_case_filed", "?::boolean"},
                       {"outcome_sanctions", "?::text[]"},
                       {"outcome_feedback", "?"},
                       {"concluded_at", db::kTimestampExpr},
                       {"deadline_at", db::kTimestampExpr},
                       {"deadline_stage", "?"},
                       {"overdue", "?::boolean"},
                       {"version", "?::bigint"},
                       {"merged_into", "?::uuid"},
                       {"intervened", "?::boolean"},
                       {"chain_len", "?::integer"},
                       {"chain_head", "?"}};
constexpr size_t kRowColumns = std::size(kRow);
constexpr size_t kChainColumns = 2;  // the last two

OptStr Bool(bool b) { return std::string(b ? "true" : "false"); }

std::vector<OptStr> RowParams(const StoredClue& s) {
  const v1::Clue& c = s.clue;
  const bool disposed = c.has_disposition() && c.disposition().method() != v1::DISPOSITION_METHOD_UNSPECIFIED;
  const bool concluded = c.has_outcome();
  std::vector<std::string> sanctions(c.outcome().sanctions().begin(), c.outcome().sanctions().end());
  std::vector<OptStr> p = {c.id(),
                           c.number(),
                           v1::ClueState_Name(c.state()),
                           v1::ClueSource_Name(c.source()),
                           v1::ReceiptChannel_Name(c.channel()),
                           Opt(c.source_system()),
                           Opt(c.source_ref()),
                           c.origin_unit_id(),
                           c.holding_unit_id(),
                           Opt(c.offered_to_unit_id()),
                           Opt(c.handler_person_id()),
                           ToArrayLiteral(CategoryNames(c)),
                           c.summary(),
                           Opt(s.details_sealed),
                           Opt(s.reporter_sealed),
                           Bool(c.reporter_on_file()),
                           v1::Severity_Name(c.severity()),
                           std::to_string(Micros(c.received_at())),
                           std::to_string(Micros(c.registered_at())),
                           disposed ? OptStr(v1::DispositionMethod_Name(c.disposition().method())) : OptStr(),
                           disposed ? OptStr(c.disposition().reason()) : OptStr(),
                           disposed ? OptStr(c.disposition().decided_by()) : OptStr(),
                           disposed ? TsParam(c.disposition().decided_at()) : OptStr(),
                           concluded ? OptStr(std::to_string(static_cast<int>(c.outcome().form()))) : OptStr(),
                           concluded ? Bool(c.outcome().case_filed()) : OptStr(),
                           concluded ? OptStr(ToArrayLiteral(sanctions)) : OptStr(),
                           concluded ? OptStr(c.outcome().feedback()) : OptStr(),
                           concluded ? TsParam(c.outcome().concluded_at()) : OptStr(),
                           TsParam(c.deadline_at()),
                           Opt(c.deadline_stage()),
                           Bool(c.overdue()),
                           std::to_string(c.version()),
                           Opt(c.merged_into_id()),
                           Bool(c.intervened()),
                           std::to_string(s.chain_len),
                           s.chain_head};
  return p;
}

// The clues rows of `clues` as written (RowParams), chain heads included, in a db::RowSet.
db::RowSet RowsOf(const std::vector<const StoredClue*>& clues) {
  static const std::vector<std::string> exprs = [] {
    std::vector<std::string> out;
    for (const auto& c : kRow) out.push_back(c.expr);
    return out;
  }();
  db::RowSet rows(exprs);
  for (const StoredClue* c : clues) rows.Add(RowParams(*c));
  return rows;
}

// New clues, chain heads included, as one statement with "?" parameters.
events::EventLog::Also RowInserts(const std::vector<const StoredClue*>& clues) {
  db::RowSet rows = RowsOf(clues);
  static const std::string sql = [&] {
    std::string columns;
    for (const auto& c : kRow) columns += std::string(columns.empty() ? "" : ", ") + c.name;
    return "INSERT INTO clues (" + columns + ") " + rows.Select();
  }();
  return {sql, rows.Params()};
}

// The subjects of new clues, flattened (clue, ord, person, unit, display name), as one
// statement with "?" parameters.
events::EventLog::Also SubjectInserts(const std::vector<OptStr>& flat) {
  db::RowSet rows({"?::uuid", "?::integer", "?::uuid", "?::uuid", "?"});
  for (size_t i = 0; i + 4 < flat.size(); i += 5)
    rows.Add({flat[i], flat[i + 1], flat[i + 2], flat[i + 3], flat[i + 4]});
  static const std::string sql =
      "INSERT INTO clue_subjects (clue_id, ord, person_id, unit_id, display_name) " + rows.Select();
  return {sql, rows.Params()};
}

// Existing clues' new values, chain heads included, as one statement with "?" parameters
// (its text the same for any number of clues).
events::EventLog::Also RowUpdates(const std::vector<const StoredClue*>& rows) {
  db::RowSet values = RowsOf(rows);
  static const std::string sql = [&] {
    std::string set;
    for (size_t i = 1; i < kRowColumns; ++i) {
      set += std::string(set.empty() ? "" : ", ") + kRow[i].name + " = v.c" + std::to_string(i);
    }
    return "UPDATE clues SET " + set + ", updated_at = now() FROM (" + values.Select() + ") AS v WHERE clues.id = v.c0";
  }();
  return {sql, values.Params()};
}

const char* CustodyName(Custody c) {
  switch (c) {
    case Custody::kSender: return "sender";
    case Custody::kSupervisor: return "supervisor";
    default: return "offered";
  }
}

void AppendTo(Tx& tx, const events::EventLog& log, StoredClue& s, const Actor& actor, const v1::ClueEventPayload& event,
              int64_t at_us) {
  const events::Payload p = events::MustEncode(event);
  chain::Event e =
      events::EventLog::Next(s.clue.id(), s.chain_len, s.chain_head, actor, p.type, p.json, at_us, StateDigest(s));
  s.chain_len = static_cast<int>(e.seq);
  s.chain_head = e.hash;
  // The event and the row's new chain head: one statement.
  log.Insert(tx, {e},
             {{"UPDATE clues SET chain_len = ?::integer, chain_head = ? WHERE id = ?::uuid",
               {std::to_string(e.seq), e.hash, s.clue.id()}}},
             "clue_append");
}

// Units' custody records, added or strengthened, as one statement with "?" parameters; `flat`
// holds (clue, unit, standing) triples, at most one per clue and unit.
events::EventLog::Also CustodyUpserts(const std::vector<OptStr>& flat) {
  db::RowSet values({"?::uuid", "?::uuid", "?"});
  for (size_t i = 0; i + 2 < flat.size(); i += 3) values.Add({flat[i], flat[i + 1], flat[i + 2]});
  static const std::string sql =
      "INSERT INTO clue_custody (clue_id, unit_id, standing) " + values.Select() + kCustodyUpsert;
  return {sql, values.Params()};
}

}  // namespace sm::clue::pg

namespace sm::clue {

std::string StateDigest(const StoredClue& s) {
  // The row as written (RowParams, without the chain it is checked against) and the subjects.
  chain::StateDigester digest("sm-clue-state-v1");
  std::vector<pg::OptStr> row = pg::RowParams(s);
  for (size_t i = 0; i + pg::kChainColumns < pg::kRowColumns; ++i) {
    if (std::string_view(pg::kRow[i].expr) == "?::uuid") {
      digest.AddUuid(row[i]);
    } else {
      digest.Add(row[i]);
    }
  }
  for (const auto& subj : s.clue.subjects()) {
    digest.AddUuid(db::Opt(subj.person_id()));
    digest.AddUuid(db::Opt(subj.unit_id()));
    digest.Add(subj.display_name());
  }
  return digest.Hex();
}

}  // namespace sm::clue
