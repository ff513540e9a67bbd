#include "common/db/sql.h"

#include <stdexcept>

#include <strings.h>

namespace sm::db {

std::vector<std::string> TextArray(const pqxx::field& f) {
  std::vector<std::string> out;
  if (f.is_null()) return out;
  auto parser = f.as_array();
  for (auto item = parser.get_next(); item.first != pqxx::array_parser::juncture::done; item = parser.get_next()) {
    if (item.first == pqxx::array_parser::juncture::string_value) out.push_back(item.second);
  }
  return out;
}

namespace {

// `v` as a quoted, escaped array element.
void AppendElement(std::string& out, const std::string& v) {
  out += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

}  // namespace

std::string TextArrayLiteral(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ",";
    AppendElement(out, values[i]);
  }
  return out + "}";
}

std::string TextArrayLiteral(const std::vector<std::optional<std::string>>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ",";
    if (values[i])
      AppendElement(out, *values[i]);
    else
      out += "NULL";
  }
  return out + "}";
}

std::string TextArrayLiteral(const google::protobuf::RepeatedPtrField<std::string>& values) {
  return TextArrayLiteral(std::vector<std::string>(values.begin(), values.end()));
}

std::string TextArrayText(const google::protobuf::RepeatedPtrField<std::string>& values) {
  std::string out = "{";
  for (const std::string& v : values) {
    if (out.size() > 1) out += ",";
    bool quote = v.empty() || strcasecmp(v.c_str(), "NULL") == 0;
    for (char c : v) {
      quote = quote || c == '"' || c == '\\' || c == '{' || c == '}' || c == ',' || c == ' ' || c == '\t' ||
              c == '\n' || c == '\r' || c == '\v' || c == '\f';
    }
    if (quote)
      AppendElement(out, v);
    else
      out += v;
  }
  return out + "}";
}

int64_t Micros(const google::protobuf::Timestamp& t) { return t.seconds() * 1000000 + t.nanos() / 1000; }

void SetMicros(google::protobuf::Timestamp* t, int64_t us) {
  int64_t s = us >= 0 ? us / 1000000 : (us - 999999) / 1000000;
  t->set_seconds(s);
  t->set_nanos(static_cast<int32_t>((us - s * 1000000) * 1000));
}

google::protobuf::Timestamp TimestampOf(TimePoint t) {
  google::protobuf::Timestamp out;
  SetMicros(&out, ToUnixMicros(t));
  return out;
}

std::optional<std::string> MicrosOrNull(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return std::nullopt;
  return std::to_string(Micros(t));
}

std::string TimestampParam(int n) { return Numbered(kTimestampExpr, n); }

std::string Numbered(std::string_view expr, int& next) {
  std::string out;
  for (char ch : expr) {
    if (ch == '?')
      out += "$" + std::to_string(next++);
    else
      out += ch;
  }
  return out;
}

std::string ValuesRows(size_t rows, const std::vector<std::string>& columns, int first) {
  std::string out;
  int n = first;
  for (size_t r = 0; r < rows; ++r) {
    out += r ? ", (" : "(";
    for (size_t c = 0; c < columns.size(); ++c) {
      if (c) out += ", ";
      out += Numbered(columns[c], n);
    }
    out += ")";
  }
  return out;
}

RowSet::RowSet(std::vector<std::string> exprs) : exprs_(std::move(exprs)), columns_(exprs_.size()) {}

void RowSet::Add(std::vector<std::optional<std::string>> row) {
  if (row.size() != exprs_.size()) throw std::logic_error("RowSet::Add: one value per column");
  for (size_t c = 0; c < row.size(); ++c) columns_[c].push_back(std::move(row[c]));
  ++rows_;
}

std::string RowSet::Select() const {
  std::string select, arrays, names;
  for (size_t c = 0; c < exprs_.size(); ++c) {
    const std::string name = "c" + std::to_string(c);
    std::string expr;
    for (char ch : exprs_[c]) {
      if (ch == '?')
        expr += "u." + name;
      else
        expr += ch;
    }
    select += (c ? ", " : "") + expr + " AS " + name;
    arrays += c ? ", ?::text[]" : "?::text[]";
    names += (c ? ", " : "") + name;
  }
  return "SELECT " + select + " FROM unnest(" + arrays + ") AS u(" + names + ")";
}

std::vector<std::optional<std::string>> RowSet::Params() const {
  std::vector<std::optional<std::string>> out;
  out.reserve(columns_.size());
  for (const auto& column : columns_) out.emplace_back(TextArrayLiteral(column));
  return out;
}

void Where::Add(std::string_view condition, std::vector<std::optional<std::string>> params) {
  const int first = next_;
  conditions_.push_back("(" + Numbered(condition, next_) + ")");
  params.resize(static_cast<size_t>(next_ - first));
  for (auto& p : params) params_.push_back(std::move(p));
}

std::string Where::Sql() const {
  if (conditions_.empty()) return "true";
  std::string out;
  for (const auto& c : conditions_) out += (out.empty() ? "" : " AND ") + c;
  return out;
}

std::string Where::Param(std::optional<std::string> value) {
  params_.push_back(std::move(value));
  return "$" + std::to_string(next_++);
}

std::string UnitsBelow(const std::string& param) {
  return "ARRAY(WITH RECURSIVE below AS (SELECT id FROM directory.v_units WHERE id = " + param +
         "::uuid UNION SELECT u.id FROM directory.v_units u JOIN below b ON u.parent_id = b.id) SELECT id FROM below)";
}

std::string MicrosOf(const std::string& column) { return "(extract(epoch FROM " + column + ") * 1000000)::bigint"; }

std::string InsertSql(std::string_view table, std::span<const Column> columns) {
  std::string names;
  std::vector<std::string> exprs;
  for (const Column& c : columns) {
    names += std::string(names.empty() ? "" : ", ") + c.name;
    exprs.push_back(c.expr);
  }
  return "INSERT INTO " + std::string(table) + " (" + names + ") VALUES " + ValuesRows(1, exprs);
}

std::string UpdateSql(std::string_view table, std::span<const Column> columns, size_t id_column) {
  std::string set, where;
  int n = 1;
  for (size_t i = 0; i < columns.size(); ++i) {
    const std::string placeholder = Numbered(columns[i].expr, n);
    if (i == id_column) {
      where = placeholder;
    } else {
      set += std::string(set.empty() ? "" : ", ") + columns[i].name + " = " + placeholder;
    }
  }
  return "UPDATE " + std::string(table) + " SET " + set + " WHERE id = " + where;
}

}  // namespace sm::db
