#include "common/doc_table.h"

#include <algorithm>
#include <set>
#include <stdexcept>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "common/crypto.h"
#include "common/db/sql.h"
#include "common/hash_chain.h"

namespace sm::docs {

namespace {

// Bytes to and from a bytea parameter/column (hex form: no escaping questions).
std::string HexOf(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string BytesOf(const pqxx::field& f) {
  const pqxx::binarystring b(f);
  return b.str();
}

constexpr char kCols[] = "id::text, body, chain_len, chain_head";

Table::Row RowOf(const pqxx::row& r) {
  Table::Row out;
  out.id = r[0].as<std::string>();
  out.body = BytesOf(r[1]);
  out.chain_len = r[2].as<int64_t>();
  out.chain_head = r[3].as<std::string>();
  return out;
}

std::vector<OptStr> Params(const Table::Row& row) {
  std::vector<OptStr> p{row.id, HexOf(row.body), std::to_string(row.chain_len), row.chain_head};
  p.insert(p.end(), row.keys.begin(), row.keys.end());
  return p;
}

}  // namespace

std::string Serialize(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  m.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

Table::Table(std::string name, std::string layout, std::vector<Key> keys)
    : name_(std::move(name)), layout_(std::move(layout)), keys_(std::move(keys)) {
  std::vector<std::string> columns = {"id", "body", "chain_len", "chain_head"};
  std::vector<std::string> exprs = {"?::uuid", "?::bytea", "?::integer", "?"};
  for (const Key& k : keys_) {
    columns.push_back(k.name);
    exprs.push_back(k.expr);
  }
  std::string names, set;
  int n = 1;
  for (size_t i = 0; i < columns.size(); ++i) {
    names += (i ? ", " : "") + columns[i];
    const std::string placeholder = db::Numbered(exprs[i], n);
    if (i > 0) set += (i > 1 ? ", " : "") + columns[i] + " = " + placeholder;
  }
  insert_sql_ = "INSERT INTO " + name_ + " (" + names + ") VALUES " + db::ValuesRows(1, exprs);
  update_sql_ = "UPDATE " + name_ + " SET " + set + " WHERE id = $1::uuid";
}

std::optional<Table::Row> Table::Load(db::Tx& tx, const std::string& id, bool lock) const {
  pqxx::result r = tx.exec_params(
      std::string("SELECT ") + kCols + " FROM " + name_ + " WHERE id = $1::uuid" + (lock ? " FOR NO KEY UPDATE" : ""),
      id);
  if (r.empty()) return std::nullopt;
  return RowOf(r[0]);
}

std::vector<Table::Row> Table::Select(db::Tx& tx, const std::string& where, const std::vector<OptStr>& params,
                                      const std::string& tail) const {
  std::vector<Row> out;
  for (const auto& r :
       tx.exec_params(std::string("SELECT ") + kCols + " FROM " + name_ + " WHERE " + where + " " + tail,
                      pqxx::prepare::make_dynamic_params(params))) {
    out.push_back(RowOf(r));
  }
  return out;
}

void Table::Insert(db::Tx& tx, const Row& row) const {
  if (row.keys.size() != keys_.size()) throw std::logic_error("key values do not match the keys of " + name_);
  db::ExecPrepared(tx, name_ + "_insert", insert_sql_, pqxx::prepare::make_dynamic_params(Params(row)));
}

void Table::Update(db::Tx& tx, const Row& row) const {
  if (row.keys.size() != keys_.size()) throw std::logic_error("key values do not match the keys of " + name_);
  pqxx::result r =
      db::ExecPrepared(tx, name_ + "_update", update_sql_, pqxx::prepare::make_dynamic_params(Params(row)));
  if (r.affected_rows() != 1) throw std::logic_error("no " + name_ + " row " + row.id + " to update");
}

void Table::UpdateChain(db::Tx& tx, const Row& row) const {
  db::ExecPrepared(tx, name_ + "_chain", "UPDATE " + name_ + " SET chain_len = $2, chain_head = $3 WHERE id = $1::uuid",
                   row.id, row.chain_len, row.chain_head);
}

std::string Table::Digest(const std::string& body) const {
  chain::StateDigester d(layout_);
  d.Add(crypto::Sha256Hex(body));
  return d.Hex();
}

std::map<std::string, chain::Evidence> Table::Evidence(db::Tx& tx, const std::optional<std::string>& id) const {
  std::map<std::string, chain::Evidence> out;
  for (const Row& row : Select(tx, "($1::uuid IS NULL OR id = $1::uuid)", {id})) {
    out.emplace(row.id, chain::Evidence{{}, row.chain_len, row.chain_head, Digest(row.body)});
  }
  return out;
}

void ChangeWriter::Write(db::Tx& tx, const events::EventLog& log,
                         const std::vector<std::pair<std::string, events::Payload>>& events, const events::Actor& actor,
                         int64_t at_us) {
  std::vector<chain::Event> made;
  std::set<std::string> moved;
  for (const auto& [id, payload] : events) {
    auto entry = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.id == id; });
    if (entry == entries_.end()) throw std::logic_error("event for a document the change does not hold: " + id);
    made.push_back(events::EventLog::Next(id, *entry->chain_len, *entry->chain_head, actor, payload.type, payload.json,
                                          at_us, entry->digest()));
    *entry->chain_len = made.back().seq;
    *entry->chain_head = made.back().hash;
    moved.insert(id);
  }
  for (const Entry& e : entries_) e.write(tx, moved.count(e.id) > 0);
  log.Insert(tx, made);
}

}  // namespace sm::docs
