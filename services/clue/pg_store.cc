#include "services/clue/pg_store.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <unordered_map>

#include "common/db/sql.h"
#include "common/event_payload.h"
#include "common/log.h"
#include "common/status.h"
#include "common/uuid.h"
#include "common/workdays.h"

namespace sm::clue {
namespace {

using db::Tx;
using OptStr = std::optional<std::string>;
using db::MicrosOrNull;
using db::Opt;
using db::SetMicros;
using db::Str;

int64_t Micros(const google::protobuf::Timestamp& t) { return db::Micros(t); }
OptStr TsParam(const google::protobuf::Timestamp& t) { return MicrosOrNull(t); }
std::vector<std::string> ParseArray(const pqxx::field& f) { return db::TextArray(f); }
std::string ToArrayLiteral(const std::vector<std::string>& v) { return db::TextArrayLiteral(v); }

constexpr char kColumns[] =
    "c.id::text, c.number, c.state, c.source, c.channel, c.source_system, c.source_ref, "
    "c.origin_unit_id::text, c.holding_unit_id::text, c.offered_to_unit_id::text, c.handler_person_id::text, "
    "c.categories, c.summary, c.details_sealed, c.reporter_sealed, c.has_reporter, c.severity, "
    "(extract(epoch FROM c.received_at) * 1000000)::bigint, (extract(epoch FROM c.registered_at) * 1000000)::bigint, "
    "c.disposition_method, c.disposition_reason, c.disposition_by, "
    "(extract(epoch FROM c.disposition_at) * 1000000)::bigint, "
    "c.outcome_form, c.outcome_case_filed, c.outcome_sanctions, c.outcome_feedback, "
    "(extract(epoch FROM c.concluded_at) * 1000000)::bigint, "
    "(extract(epoch FROM c.deadline_at) * 1000000)::bigint, c.deadline_stage, c.overdue, "
    "c.merged_into::text, c.intervened, c.version, c.chain_len, c.chain_head";
constexpr int kColumnCount = 36;  // FromRow reads r[0] .. r[35]

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

// A decided change and who made it.
struct Write {
  Change change;
  Actor actor;
};

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

}  // namespace

std::string StateDigest(const StoredClue& s) {
  // The row as written (RowParams, without the chain it is checked against) and the subjects.
  chain::StateDigester digest("sm-clue-state-v1");
  std::vector<OptStr> row = RowParams(s);
  for (size_t i = 0; i + kChainColumns < kRowColumns; ++i) {
    if (std::string_view(kRow[i].expr) == "?::uuid") {
      digest.AddUuid(row[i]);
    } else {
      digest.Add(row[i]);
    }
  }
  for (const auto& subj : s.clue.subjects()) {
    digest.AddUuid(Opt(subj.person_id()));
    digest.AddUuid(Opt(subj.unit_id()));
    digest.Add(subj.display_name());
  }
  return digest.Hex();
}

namespace {

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

// A unit keeps the strongest standing it ever had: sender > supervisor > offered.
constexpr char kCustodyUpsert[] =
    " ON CONFLICT (clue_id, unit_id) DO UPDATE SET standing = CASE"
    " WHEN array_position(ARRAY['offered','supervisor','sender'], EXCLUDED.standing) >"
    "      array_position(ARRAY['offered','supervisor','sender'], clue_custody.standing)"
    " THEN EXCLUDED.standing ELSE clue_custody.standing END";

// Units' custody records, added or strengthened, as one statement with "?" parameters; `flat`
// holds (clue, unit, standing) triples, at most one per clue and unit.
events::EventLog::Also CustodyUpserts(const std::vector<OptStr>& flat) {
  db::RowSet values({"?::uuid", "?::uuid", "?"});
  for (size_t i = 0; i + 2 < flat.size(); i += 3) values.Add({flat[i], flat[i + 1], flat[i + 2]});
  static const std::string sql =
      "INSERT INTO clue_custody (clue_id, unit_id, standing) " + values.Select() + kCustodyUpsert;
  return {sql, values.Params()};
}

}  // namespace

PgStore::PgStore(db::Pool* pool, const Clock& clock, Batching registrations, Batching steps)
    : pool_(pool),
      clock_(clock),
      chain_(
          chain::Anchor("clue-service", "clue_anchor", "clues", "clue_events", "clue_id"), pool, clock, &log_, "clue",
          [this](Tx& tx, const std::string& id) { return ChainEvidence(tx, id); },
          [this](Tx& tx) { return ChainRows(tx); }),
      registrations_(
          {.max_batch = registrations.max_batch, .max_running = registrations.max_running, .name = "clue_register"},
          [this](const std::vector<Registration*>& batch) { RunRegistrations(batch); },
          [](const Registration& a, const Registration& b) { return Conflict(a, b); }),
      steps_(
          {.max_batch = steps.max_batch, .max_running = steps.max_running, .name = "clue_step"},
          [this](const std::vector<StepItem*>& batch) { RunSteps(batch); },
          [](const StepItem& a, const StepItem& b) { return Conflict(a, b); }) {}

absl::StatusOr<v1::ClueReply> PgStore::Register(const StoredClue& clue, const Actor& actor,
                                                const db::Idempotency::Key& key,
                                                const std::vector<v1::ClueEventPayload>& events) {
  Registration r{&clue, &actor, &key, &events};
  registrations_.Submit(&r);
  // On this caller's thread, after its batch: the batch's slot is not held meanwhile.
  if (r.fresh) Changed();
  return std::move(r.result);
}

bool PgStore::Conflict(const Registration& a, const Registration& b) {
  return a.key->request_id == b.key->request_id ||
         (!a.clue->clue.source_system().empty() && a.clue->clue.source_system() == b.clue->clue.source_system() &&
          a.clue->clue.source_ref() == b.clue->clue.source_ref());
}

std::optional<StoredClue> PgStore::BySource(Tx& tx, const StoredClue& c) {
  if (c.clue.source_system().empty()) return std::nullopt;
  pqxx::result r = tx.exec_params("SELECT id::text FROM clues WHERE source_system = $1 AND source_ref = $2",
                                  c.clue.source_system(), c.clue.source_ref());
  if (r.empty()) return std::nullopt;
  return Load(tx, r[0][0].as<std::string>(), false);
}

void PgStore::RunRegistrations(const std::vector<Registration*>& batch) {
  absl::Status s = WriteRegistrations(batch);
  if (s.ok()) {
    return;
  }
  if (batch.size() > 1) {
    // One registration's failure (its referral registered meanwhile by another replica, a
    // lost connection) must not fail the others: each on its own. A batch whose commit
    // was in doubt is harmless to repeat: a committed registration answers from its
    // idempotency record.
    for (Registration* r : batch) RunRegistrations({r});
    return;
  }
  Registration& r = *batch[0];
  if (absl::IsAlreadyExists(s)) {
    // A concurrent registration of the same referral won: answer with its clue.
    v1::ClueReply out;
    absl::Status again = db::WithTransaction(
        *pool_,
        [&](Tx& tx) -> absl::Status {
          auto existing = BySource(tx, *r.clue);
          if (!existing) return absl::AbortedError("concurrent registration; try again");
          out = ReplyOf(*existing);
          out.mutable_mutation()->set_replayed(true);
          return absl::OkStatus();
        },
        db::TxOptions{.read_only = true});
    if (again.ok())
      r.result = std::move(out);
    else
      r.result = again;
    return;
  }
  r.result = idempotency_.Resolve<v1::ClueReply>(*pool_, s, r.key->request_id);
  r.fresh = r.result.ok();  // the commit did happen
}

absl::Status PgStore::WriteRegistrations(const std::vector<Registration*>& batch) {
  return db::WithTransaction(*pool_, [&](Tx& tx) -> absl::Status {
    std::vector<db::Idempotency::Request> keys;
    for (Registration* r : batch) {
      r->result = absl::InternalError("registration not written");
      r->fresh = false;
      keys.push_back({r->key->request_id, r->key->method, r->key->fingerprint});
    }
    // A batch is optimistic: nearly every key is new, and a taken one makes the claim below
    // come short, the batch roll back and each registration run alone, where the key is
    // locked and looked up first (a repeat answers with its first reply).
    auto prior = batch.size() > 1 ? std::vector<absl::StatusOr<std::optional<std::string>>>(
                                        batch.size(), std::optional<std::string>())
                                  : idempotency_.Begin(tx, keys);
    std::vector<Registration*> fresh;
    std::vector<StoredClue> clues;
    for (size_t i = 0; i < batch.size(); ++i) {
      Registration& r = *batch[i];
      if (!prior[i].ok()) {
        r.result = prior[i].status();
      } else if (prior[i]->has_value()) {
        v1::ClueReply out;
        if (!out.ParseFromString(**prior[i])) return absl::InternalError("stored reply unreadable");
        out.mutable_mutation()->set_replayed(true);
        r.result = std::move(out);
      } else if (auto existing = BySource(tx, *r.clue)) {
        v1::ClueReply out = ReplyOf(*existing);
        out.mutable_mutation()->set_replayed(true);
        r.result = std::move(out);
      } else {
        fresh.push_back(&r);
        clues.push_back(*r.clue);
      }
    }
    if (fresh.empty()) return absl::OkStatus();
    pqxx::result numbers =
        tx.exec_params("SELECT nextval('clue_number_seq') FROM generate_series(1, $1::integer)", fresh.size());
    std::vector<chain::Event> events;
    std::vector<OptStr> subjects, custody;
    std::vector<const StoredClue*> rows;
    std::vector<std::string> responses;
    std::vector<db::Idempotency::Request> done;
    for (size_t i = 0; i < fresh.size(); ++i) {
      StoredClue& c = clues[i];
      const Registration& r = *fresh[i];
      char number[48];
      std::snprintf(number, sizeof number, "XS-%04d-%06lld",
                    workdays::LocalDate(FromUnixSeconds(c.clue.registered_at().seconds())).year,
                    static_cast<long long>(numbers[i][0].as<int64_t>()));
      c.clue.set_number(number);
      // Every registration event commits to the row the registration writes.
      const std::string digest = StateDigest(c);
      for (v1::ClueEventPayload e : *r.events) {
        if (e.has_registered()) e.mutable_registered()->set_number(c.clue.number());
        const events::Payload p = events::MustEncode(e);
        events.push_back(events::EventLog::Next(c.clue.id(), c.chain_len, c.chain_head, *r.actor, p.type, p.json,
                                                Micros(c.clue.registered_at()), digest));
        c.chain_len = static_cast<int>(events.back().seq);
        c.chain_head = events.back().hash;
      }
      rows.push_back(&c);
      int ord = 0;
      for (const auto& subj : c.clue.subjects()) {
        subjects.insert(subjects.end(), {c.clue.id(), std::to_string(ord++), Opt(subj.person_id()), Opt(subj.unit_id()),
                                         subj.display_name()});
      }
      // The registering unit is its sender; a unit it is offered to at once, an offeree.
      custody.insert(custody.end(), {c.clue.id(), c.clue.origin_unit_id(), "sender"});
      if (!c.clue.offered_to_unit_id().empty() && c.clue.offered_to_unit_id() != c.clue.origin_unit_id()) {
        custody.insert(custody.end(), {c.clue.id(), c.clue.offered_to_unit_id(), "offered"});
      }
      v1::ClueReply out = ReplyOf(c);
      responses.push_back(out.SerializeAsString());
      done.push_back({r.key->request_id, r.key->method, r.key->fingerprint});
      fresh[i]->result = std::move(out);
      fresh[i]->fresh = true;
    }
    // The rows, subjects, custody and events: one statement.
    log_.Insert(tx, events, {RowInserts(rows), SubjectInserts(subjects), CustodyUpserts(custody)}, "clue_register");
    if (idempotency_.Claim(tx, done, responses) != done.size())
      return absl::AbortedError("request_id taken by a concurrent call");
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::ClueReply> PgStore::Step(const StepRequest& request, const auth::Principal& caller, StepFacts facts,
                                            const Rules& rules, const db::Idempotency::Key& key) {
  StepItem item{&request, &caller, facts, &rules, &key};
  steps_.Submit(&item);
  // On this caller's thread, after its batch: the batch's slot is not held meanwhile.
  if (item.alone) return StepAlone(request, caller, std::move(facts), rules, key, [this] { Changed(); });
  if (item.fresh) Changed();
  return std::move(item.result);
}

bool PgStore::Conflict(const StepItem& a, const StepItem& b) {
  return a.key->request_id == b.key->request_id || ClueIdOf(*a.request) == ClueIdOf(*b.request);
}

void PgStore::RunSteps(const std::vector<StepItem*>& batch) {
  if (batch.size() == 1) {
    // A lone step is written here, holding the batch's slot (so that, under load, steps
    // queue for the running batches and the next one takes them together).
    StepItem& item = *batch[0];
    item.result =
        StepAlone(*item.request, *item.caller, item.facts, *item.rules, *item.key, [&item] { item.fresh = true; });
    return;
  }
  absl::Status s = WriteSteps(batch);
  if (!s.ok()) {
    // One step's trouble (a key taken by a concurrent repeat, a lost connection) must not fail
    // the others: each on its own. A batch whose commit was in doubt is harmless to repeat: a
    // committed step answers from its idempotency record.
    for (StepItem* item : batch) item->alone = true;
  }
}

absl::Status PgStore::WriteSteps(const std::vector<StepItem*>& batch) {
  return db::WithTransaction(*pool_, [&](Tx& tx) -> absl::Status {
    std::vector<std::string> ids;
    std::vector<OptStr> units;
    for (StepItem* item : batch) {
      item->alone = item->fresh = false;
      ids.push_back(ClueIdOf(*item->request));
      units.push_back(IsUuid(item->caller->unit) ? Opt(item->caller->unit) : OptStr());
    }
    std::map<std::string, std::pair<StoredClue, Custody>> loaded;
    for (auto& [clue, custody] : LoadWith(tx, ids, units, true)) {
      std::string id = clue.clue.id();
      loaded.emplace(std::move(id), std::make_pair(std::move(clue), custody));
    }
    std::vector<Write> writes;
    std::vector<StepItem*> written;
    for (StepItem* item : batch) {
      auto it = loaded.find(ClueIdOf(*item->request));
      StepFacts facts = item->facts;
      absl::StatusOr<Change> change = absl::NotFoundError("clue not found");
      if (it != loaded.end()) {
        facts.custody = it->second.second;
        absl::Status known = AddFacts(tx, *item->request, it->second.first, facts);
        change = known.ok() ? Decide(it->second.first, *item->caller, *item->request, facts, *item->rules) : known;
      }
      if (!change.ok()) {
        // Refused, or its clue absent: on its own, where a repeat of an earlier step is
        // told from a refusal by its key (Idempotency::Write).
        item->alone = true;
        continue;
      }
      writes.push_back({std::move(*change), Actor{item->caller->EndUser(), item->caller->unit}});
      written.push_back(item);
    }
    if (written.empty()) return absl::OkStatus();
    std::vector<StoredClue> after = WriteChanges(tx, log_, std::move(writes), NowMicros(clock_));
    std::vector<db::Idempotency::Request> keys;
    std::vector<std::string> replies;
    for (size_t i = 0; i < written.size(); ++i) {
      written[i]->result = ReplyOf(after[i]);
      written[i]->fresh = true;
      keys.push_back(*written[i]->key);
      replies.push_back(written[i]->result->SerializeAsString());
    }
    if (idempotency_.Claim(tx, keys, replies) != keys.size()) {
      return absl::AbortedError("request_id taken by a concurrent call");
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::ClueReply> PgStore::StepAlone(const StepRequest& request, const auth::Principal& caller,
                                                 StepFacts facts, const Rules& rules, const db::Idempotency::Key& key,
                                                 const std::function<void()>& committed) {
  const Actor actor{caller.EndUser(), caller.unit};
  return idempotency_.Write<v1::ClueReply>(
      *pool_, key,
      [&](Tx& tx, v1::ClueReply& out) -> absl::Status {
        auto loaded = LoadLocked(tx, {ClueIdOf(request)}, caller.unit);
        if (loaded.empty()) return absl::NotFoundError("clue not found");
        const StoredClue& current = loaded[0].first;
        StepFacts known = facts;
        known.custody = loaded[0].second;
        SM_RETURN_IF_ERROR(AddFacts(tx, request, current, known));
        SM_ASSIGN_OR_RETURN(Change change, Decide(current, caller, request, known, rules));
        out = ReplyOf(WriteChange(tx, log_, std::move(change), actor, NowMicros(clock_)));
        return absl::OkStatus();
      },
      committed);
}

absl::Status PgStore::AddFacts(Tx& tx, const StepRequest& request, const StoredClue& current, StepFacts& facts) {
  if (NeedsSubjects(request)) {
    SM_ASSIGN_OR_RETURN(facts.subjects, SubjectPlaces(tx, current));
  }
  if (NeedsHolderUnit(request)) {
    auto holder = directory_.Unit(current.clue.holding_unit_id(), &tx);
    if (holder.ok())
      facts.holder_unit = std::move(*holder);
    else if (!absl::IsNotFound(holder.status()))
      return holder.status();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<SubjectPlace>> PgStore::SubjectPlaces(Tx& tx, const StoredClue& c) {
  std::vector<SubjectPlace> out;
  for (const auto& subject : c.clue.subjects()) {
    SubjectPlace place{subject.person_id(), {}};
    std::string unit_id = subject.unit_id();
    if (!subject.person_id().empty()) {
      SM_ASSIGN_OR_RETURN(PersonInfo person, directory_.Person(subject.person_id(), &tx));
      unit_id = person.unit_id;
    }
    if (!unit_id.empty()) {
      SM_ASSIGN_OR_RETURN(UnitInfo unit, directory_.Unit(unit_id, &tx));
      place.units = unit.ancestors;
      place.units.push_back(unit.id);
    }
    out.push_back(std::move(place));
  }
  return out;
}

void PgStore::Changed() { stats_version_.Changed(); }

absl::StatusOr<v1::ClueReply> PgStore::Merge(const std::string& primary_id, int64_t expected_version,
                                             const std::vector<std::string>& merged_ids, const auth::Principal& caller,
                                             const std::string& reason, const db::Idempotency::Key& key) {
  const Actor actor{caller.EndUser(), caller.unit};
  return idempotency_.Write<v1::ClueReply>(
      *pool_, key,
      [&](Tx& tx, v1::ClueReply& out) -> absl::Status {
        std::vector<std::string> all = merged_ids;
        all.push_back(primary_id);
        std::map<std::string, MergeItem> locked;
        for (auto& [clue, custody] : LoadLocked(tx, all, caller.unit)) {
          const std::string id = clue.clue.id();
          locked.emplace(id, MergeItem{std::move(clue), custody});
        }
        for (const auto& id : all) {
          if (!locked.count(id)) return absl::NotFoundError("clue " + id + " not found");
        }
        std::vector<MergeItem> merged;
        for (const auto& id : merged_ids) merged.push_back(locked.at(id));
        SM_ASSIGN_OR_RETURN(std::vector<Change> changes,
                            DecideMerge(locked.at(primary_id), merged, caller, expected_version, reason));
        std::vector<Write> writes;
        for (auto& change : changes) writes.push_back({std::move(change), actor});
        for (const StoredClue& written : WriteChanges(tx, log_, std::move(writes), NowMicros(clock_))) {
          if (written.clue.id() == primary_id) {
            out = ReplyOf(written);
          } else {
            // Whoever could see a merged clue may follow it into the primary.
            tx.exec_params0(
                std::string("INSERT INTO clue_custody (clue_id, unit_id, standing) SELECT $1::uuid, unit_id, "
                            "standing FROM clue_custody WHERE clue_id = $2::uuid") +
                    kCustodyUpsert,
                primary_id, written.clue.id());
          }
        }
        return absl::OkStatus();
      },
      [this] { Changed(); });
}

absl::StatusOr<int> PgStore::MarkOverdue(TimePoint now) {
  int marked = 0;
  const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  absl::Status s = db::WithTransaction(*pool_, [&](Tx& tx) -> absl::Status {
    marked = 0;
    // One scanner at a time across replicas; others skip this round.
    if (!tx.exec1("SELECT pg_try_advisory_xact_lock(hashtext('clue-overdue-scanner'))")[0].as<bool>()) {
      return absl::OkStatus();
    }
    std::vector<std::string> due;
    for (const auto& row :
         tx.exec_params("SELECT id::text FROM clues WHERE NOT overdue AND deadline_at IS NOT NULL "
                        "AND deadline_at < ('epoch'::timestamptz + $1::bigint * interval '1 microsecond') "
                        "AND state IN ('CLUE_STATE_REGISTERED', 'CLUE_STATE_OFFERED', 'CLUE_STATE_HELD', "
                        "              'CLUE_STATE_IN_HANDLING', 'CLUE_STATE_CASE_FILED') "
                        "ORDER BY deadline_at LIMIT 500 FOR UPDATE SKIP LOCKED",
                        now_us)) {
      due.push_back(row[0].as<std::string>());
    }
    std::vector<Write> writes;
    for (auto& [clue, custody] : LoadLocked(tx, due, "")) {
      if (!IsOverdue(clue, now)) continue;
      auto holder = directory_.Unit(clue.clue.holding_unit_id(), &tx);
      if (!holder.ok() && !absl::IsNotFound(holder.status())) return holder.status();
      writes.push_back({Escalate(clue, holder.ok() ? std::optional<UnitInfo>(*holder) : std::nullopt),
                        Actor{"system:overdue-scanner", ""}});
    }
    marked = static_cast<int>(writes.size());
    if (!writes.empty()) WriteChanges(tx, log_, std::move(writes), now_us);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (marked > 0) Changed();
  return marked;
}

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
        for (const auto& row : r) out.push_back(FromRow(row));
        LoadSubjects(tx, out);
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
  std::vector<StoredClue> rows;
  for (const auto& r : tx.exec(std::string("SELECT ") + kColumns + " FROM clues c")) rows.push_back(FromRow(r));
  LoadSubjects(tx, rows);
  for (const StoredClue& row : rows) {
    all.emplace(row.clue.id(), chain::Evidence{{}, row.chain_len, row.chain_head, StateDigest(row)});
  }
  return all;
}

absl::StatusOr<UnitInfo> PgStore::Unit(const std::string& id) { return directory_.Unit(id); }

absl::StatusOr<PersonInfo> PgStore::Person(const std::string& id) { return directory_.Person(id); }

}  // namespace sm::clue

namespace sm::clue {

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
        for (const auto& row : r) out.push_back(FromRow(row));
        LoadSubjects(tx, out);
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

// ---------------------------------------------------------------------------------------
// Reveal requests (the two-person rule for the reporter's identity).

namespace sm::clue {
namespace {

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
