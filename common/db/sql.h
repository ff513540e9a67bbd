// Small helpers every store's SQL uses: NULL for empty text, reading nullable fields,
// PostgreSQL text arrays, and exact microsecond timestamps.
#pragma once

#include <google/protobuf/repeated_field.h>
#include <google/protobuf/timestamp.pb.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/db/pool.h"

namespace sm::db {

// NULL for "", else the text (parameters for nullable columns).
inline std::optional<std::string> Opt(const std::string& s) {
  return s.empty() ? std::optional<std::string>() : std::optional<std::string>(s);
}
// The field's text, "" for NULL.
inline std::string Str(const pqxx::field& f) { return f.is_null() ? "" : f.as<std::string>(); }

// The elements of a text[] field (empty for NULL).
std::vector<std::string> TextArray(const pqxx::field& f);
// A text[] literal for `values`, quoted and escaped ('{"a","b"}').
std::string TextArrayLiteral(const std::vector<std::string>& values);
std::string TextArrayLiteral(const google::protobuf::RepeatedPtrField<std::string>& values);
// The same with NULL elements for nullopt.
std::string TextArrayLiteral(const std::vector<std::optional<std::string>>& values);
// The text PostgreSQL prints for a text[] of `values` (array_out: '{a,"b c"}'; an element is
// quoted when empty, "NULL" in any case, or holding a quote, backslash, brace, comma or
// white space), for digests that must equal what the database shows.
std::string TextArrayText(const google::protobuf::RepeatedPtrField<std::string>& values);

// Microseconds since the epoch of a Timestamp, and back.
int64_t Micros(const google::protobuf::Timestamp& t);
void SetMicros(google::protobuf::Timestamp* t, int64_t micros);
// The Timestamp of a point in time (microsecond precision).
google::protobuf::Timestamp TimestampOf(TimePoint t);
// NULL for an unset Timestamp, else its microseconds as text.
std::optional<std::string> MicrosOrNull(const google::protobuf::Timestamp& t);

// SQL for the timestamptz that parameter $n (bigint microseconds) stands for, exactly (no
// floating point on the way).
std::string TimestampParam(int n);
// The timestamptz of a bigint-microseconds parameter, as a ValuesRows expression.
inline constexpr char kTimestampExpr[] = "('epoch'::timestamptz + ?::bigint * interval '1 microsecond')";

// Runs `sql` as the prepared statement `name` on the transaction's connection: libpqxx
// registers it with PostgreSQL on its first use on a connection, after which PostgreSQL
// parses and plans it once instead of on every call (for statements on hot write paths).
// One name, one text: a name given another text throws.
template <typename... Args>
pqxx::result ExecPrepared(pqxx::transaction_base& tx, const std::string& name, const std::string& sql, Args&&... args) {
  tx.conn().prepare(name, sql);
  return tx.exec_prepared(name, std::forward<Args>(args)...);
}

// `expr` with each "?" replaced by the next parameter's placeholder ($next, $next + 1, ...);
// advances `next` past the ones used. ValuesRows and Where number their "?" with it.
std::string Numbered(std::string_view expr, int& next);

// "(<row 1>), (<row 2>), ..." for a multi-row INSERT: `rows` copies of `columns`, one
// expression per column in which "?" stands for the next parameter ($first, $first+1, ...).
// ValuesRows(2, {"?::uuid", "?"}) is "($1::uuid, $2), ($3::uuid, $4)".
std::string ValuesRows(size_t rows, const std::vector<std::string>& columns, int first = 1);

// Rows passed to a statement as one text[] parameter per column, so that the statement's
// text does not depend on how many rows there are: it is prepared once and serves one row or
// a batch. Select() is "SELECT <expr 0> AS c0, <expr 1> AS c1, … FROM unnest(?::text[], …)
// AS u(c0, c1, …)", each column's expression being its `exprs` entry with "?" standing for
// the column's text ("?::uuid", kTimestampExpr, "?::text[]" for an array literal…); Params()
// are the arrays, in column order, for those "?". Use it as a query's row source
// ("INSERT INTO t (…) " + Select(), "UPDATE t SET a = v.c1 FROM (" + Select() + ") v …").
class RowSet {
 public:
  explicit RowSet(std::vector<std::string> exprs);
  // One value per column, in order (nullopt is NULL).
  void Add(std::vector<std::optional<std::string>> row);
  size_t size() const { return rows_; }
  std::string Select() const;
  std::vector<std::optional<std::string>> Params() const;

 private:
  std::vector<std::string> exprs_;
  std::vector<std::vector<std::optional<std::string>>> columns_;
  size_t rows_ = 0;
};

// The conditions of a query that apply, joined with AND: a filter that was not given adds
// nothing to the SQL (rather than "($n IS NULL OR ...)", which keeps the planner from using
// a condition's best plan, e.g. turning an EXISTS into a semi-join). In each condition "?"
// stands for its next parameter; parameters are numbered from `first`.
class Where {
 public:
  explicit Where(int first = 1) : next_(first) {}
  void Add(std::string_view condition, std::vector<std::optional<std::string>> params = {});
  std::string Sql() const;  // "a AND b", or "true" when there is no condition
  const std::vector<std::optional<std::string>>& params() const { return params_; }
  // The placeholder of one more parameter after the conditions' ($n), for LIMIT and the like.
  std::string Param(std::optional<std::string> value);

 private:
  std::vector<std::string> conditions_;
  std::vector<std::optional<std::string>> params_;
  int next_;
};

// The directory units at or below the unit `param` (a placeholder, "$2"), as an SQL array
// expression over directory.v_units.
std::string UnitsBelow(const std::string& param);

// SQL reading a timestamptz column as bigint microseconds.
std::string MicrosOf(const std::string& column);

// A column of a table whose rows a store writes whole: its name and the expression its
// parameter becomes ("?" is the parameter, e.g. "?::uuid" or kTimestampExpr).
struct Column {
  const char* name;
  const char* expr;
  // Whether the column holds a UUID (its parameter is cast to uuid): digests read it as
  // PostgreSQL prints one (chain::StateDigester::AddUuid).
  bool uuid() const { return std::string_view(expr) == "?::uuid"; }
};
// "INSERT INTO <table> (<names>) VALUES ($1…, $2…, …)": one row, its parameters in the
// order of `columns`.
std::string InsertSql(std::string_view table, std::span<const Column> columns);
// "UPDATE <table> SET <every column but columns[id_column]> WHERE id = <its parameter>":
// the parameters in the order of `columns`, as for InsertSql.
std::string UpdateSql(std::string_view table, std::span<const Column> columns, size_t id_column);

}  // namespace sm::db
