// The clues table as clue-service's PostgreSQL store reads and writes it, shared by the
// store's files (pg_store.cc writes, pg_store_reads.cc, pg_store_reveal.cc; pg_rows.cc
// holds it): a row's columns, loading clues with their subjects and custody, and writing
// decided changes with their chained events. Internal: nothing outside the store uses it.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/db/pool.h"
#include "common/event_log.h"
#include "services/clue/workflow.h"

namespace sm::clue::pg {

using OptStr = std::optional<std::string>;
using events::Actor;

// Parameters: a Timestamp's microseconds (NULL when unset), a boolean, a text[] literal.
int64_t Micros(const google::protobuf::Timestamp& t);
OptStr TsParam(const google::protobuf::Timestamp& t);
OptStr Bool(bool b);
std::string ToArrayLiteral(const std::vector<std::string>& v);

// The columns of a clue row `c` that FromRow reads, in its order.
inline constexpr char kColumns[] =
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
inline constexpr int kColumnCount = 36;  // FromRow reads r[0] .. r[35]
StoredClue FromRow(const pqxx::row& r);
// Reads the subjects of `clues` with one query, whatever their number.
void LoadSubjects(db::Tx& tx, std::vector<StoredClue>& clues);
// The clues of rows selected with kColumns, with their subjects (one more query).
std::vector<StoredClue> CluesOf(db::Tx& tx, const pqxx::result& rows);
// A custody record's standing (kNone for NULL).
Custody CustodyFrom(const pqxx::field& f);

// Reads `ids` with their subjects and each with the custody record of the unit at the same
// place in `units` (none when nullopt), in one statement; with `lock`, locks them in id order
// (so that concurrent writers cannot deadlock). Clues that do not exist are absent.
std::vector<std::pair<StoredClue, Custody>> LoadWith(db::Tx& tx, const std::vector<std::string>& ids,
                                                     const std::vector<OptStr>& units, bool lock);
// The same, locked, each with `caller_unit`'s custody.
std::vector<std::pair<StoredClue, Custody>> LoadLocked(db::Tx& tx, const std::vector<std::string>& ids,
                                                       const std::string& caller_unit);
// One clue with its subjects (nullopt when absent).
std::optional<StoredClue> Load(db::Tx& tx, const std::string& id, bool for_update);

// A decided change and who made it.
struct Write {
  Change change;
  Actor actor;
};
// Writes decided changes, each of another clue, with one statement (see pg_rows.cc);
// returns the clues as written, in order.
std::vector<StoredClue> WriteChanges(db::Tx& tx, const events::EventLog& log, std::vector<Write> writes, int64_t at_us);
StoredClue WriteChange(db::Tx& tx, const events::EventLog& log, Change change, const Actor& actor, int64_t at_us);
// Appends an event that changes nothing else of the row (reveal steps), with the new head.
void AppendTo(db::Tx& tx, const events::EventLog& log, StoredClue& s, const Actor& actor,
              const v1::ClueEventPayload& event, int64_t at_us);

// New clues' rows, their subjects (flattened: clue, ord, person, unit, display name) and
// custody records (flattened: clue, unit, standing), each as one statement with "?"
// parameters for EventLog::Insert.
events::EventLog::Also RowInserts(const std::vector<const StoredClue*>& clues);
events::EventLog::Also SubjectInserts(const std::vector<OptStr>& flat);
events::EventLog::Also CustodyUpserts(const std::vector<OptStr>& flat);
// A unit keeps the strongest standing it ever had: sender > supervisor > offered.
inline constexpr char kCustodyUpsert[] =
    " ON CONFLICT (clue_id, unit_id) DO UPDATE SET standing = CASE"
    " WHEN array_position(ARRAY['offered','supervisor','sender'], EXCLUDED.standing) >"
    "      array_position(ARRAY['offered','supervisor','sender'], clue_custody.standing)"
    " THEN EXCLUDED.standing ELSE clue_custody.standing END";

}  // namespace sm::clue::pg
