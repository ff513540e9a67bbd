// Aggregates stored as documents: one row per aggregate holding its proto message (`body`,
// the deterministic binary form), the columns that queries filter and sort on (copied from
// the message by the same write), and the head of its hash chain. A service declares one
// DocTable per aggregate type instead of writing a column list, a row mapper and a digest
// per table (inspection-service and risk-service store their aggregates this way; clue and
// audit keep their column tables).
//
// The table a DocTable needs (in the service's schema, found through its search_path):
//   CREATE TABLE <name> (
//     id uuid PRIMARY KEY,
//     body bytea NOT NULL,                    -- the message, deterministic serialization
//     chain_len integer NOT NULL DEFAULT 0,
//     chain_head text NOT NULL DEFAULT '',
//     <key columns>                           -- as declared, each with its SQL type
//   );
// The key columns are an index of the body: every reply is built from the body, which is
// what each event's state digest commits to (layout tag, then the body's SHA-256), so a key
// column changed behind the service's back can hide a row from a list but never change
// what is shown of it.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <google/protobuf/message.h>

#include "common/chain_anchor.h"
#include "common/db/pool.h"
#include "common/event_log.h"
#include "common/event_payload.h"

namespace sm::docs {

using OptStr = std::optional<std::string>;

// A key column: its name and the expression its parameter becomes ("?::uuid", "?",
// "?::bigint", "?::uuid[]", db::kTimestampExpr for microseconds).
struct Key {
  const char* name;
  const char* expr;
};

// The untyped table: rows as bytes. DocTable below is what services use.
class Table {
 public:
  // `layout` tags the state digest ("sm-inspection-v1"); `keys` in the order the values
  // of a row's `keys` are given.
  Table(std::string name, std::string layout, std::vector<Key> keys);

  struct Row {
    std::string id;
    std::string body;
    std::vector<OptStr> keys;  // written only; not read back
    int64_t chain_len = 0;
    std::string chain_head;
  };

  // The row of `id`, locked FOR NO KEY UPDATE when `lock`; nullopt when absent.
  std::optional<Row> Load(db::Tx& tx, const std::string& id, bool lock) const;
  // Rows (id, body and chain) WHERE `where` (with "$n" placeholders over `params`), in the
  // order and count `tail` says ("ORDER BY ... LIMIT n"; "" none).
  std::vector<Row> Select(db::Tx& tx, const std::string& where, const std::vector<OptStr>& params,
                          const std::string& tail = "") const;
  // The whole row, once: inserted, or updated (body, keys and chain).
  void Insert(db::Tx& tx, const Row& row) const;
  void Update(db::Tx& tx, const Row& row) const;
  // Only the chain head (an aggregate whose body did not change gets an event).
  void UpdateChain(db::Tx& tx, const Row& row) const;

  // The state digest of a body (what an event on it commits to).
  std::string Digest(const std::string& body) const;
  // Each row's chain head and state digest (`id`: that one; nullopt: all), by id.
  std::map<std::string, chain::Evidence> Evidence(db::Tx& tx, const std::optional<std::string>& id) const;

  const std::string& name() const { return name_; }

 private:
  std::string name_, layout_;
  std::vector<Key> keys_;
  std::string insert_sql_, update_sql_;
};

// Serializes `m` deterministically (what a document's body and digest are made of).
std::string Serialize(const google::protobuf::Message& m);

// A document as stored: the message and its chain head.
template <typename M>
struct Stored {
  M doc;
  int64_t chain_len = 0;
  std::string chain_head;
};

// A table of `M` documents.
template <typename M>
class DocTable {
 public:
  using Keys = std::function<std::vector<OptStr>(const M&)>;
  // `id_of` reads the message's id; `keys_of` its key values in `keys` order.
  DocTable(std::string name, std::string layout, std::vector<Key> keys, Keys keys_of)
      : table_(std::move(name), std::move(layout), std::move(keys)), keys_of_(std::move(keys_of)) {}

  using Stored = docs::Stored<M>;

  std::optional<Stored> Load(db::Tx& tx, const std::string& id, bool lock) const {
    std::optional<Table::Row> row = table_.Load(tx, id, lock);
    if (!row) return std::nullopt;
    return FromRow(*row);
  }
  std::vector<Stored> Select(db::Tx& tx, const std::string& where, const std::vector<OptStr>& params,
                             const std::string& tail = "") const {
    std::vector<Stored> out;
    for (const Table::Row& row : table_.Select(tx, where, params, tail)) out.push_back(FromRow(row));
    return out;
  }
  void Insert(db::Tx& tx, const Stored& s) const { table_.Insert(tx, ToRow(s)); }
  void Update(db::Tx& tx, const Stored& s) const { table_.Update(tx, ToRow(s)); }
  void UpdateChain(db::Tx& tx, const Stored& s) const {
    table_.UpdateChain(tx, Table::Row{s.doc.id(), "", {}, s.chain_len, s.chain_head});
  }
  std::string Digest(const M& doc) const { return table_.Digest(Serialize(doc)); }
  const Table& table() const { return table_; }

 private:
  static Stored FromRow(const Table::Row& row) {
    Stored s;
    if (!s.doc.ParseFromString(row.body)) throw std::runtime_error("unreadable document " + row.id);
    s.chain_len = row.chain_len;
    s.chain_head = row.chain_head;
    return s;
  }
  Table::Row ToRow(const Stored& s) const {
    return Table::Row{s.doc.id(), Serialize(s.doc), keys_of_(s.doc), s.chain_len, s.chain_head};
  }

  Table table_;
  Keys keys_of_;
};

// How a change leaves a document's row: written whole (inserted or updated), or neither —
// then only its chain head moves, and only when the change records an event on it.
enum class RowWrite { kNone, kInsert, kUpdate };

// The documents one change writes and the events it records on them, written together (the
// one write of inspection's and risk's steps): each event is hashed onto its document's
// chain, committing to the document as the change leaves it; then each document is written
// once — whole when inserted or updated, else its new chain head when it got an event — and
// the events with one statement. The documents are held by reference until Write.
class ChangeWriter {
 public:
  // `digest` (default: the table's digest of the document) is what an event on it commits to.
  template <typename M>
  void Add(const DocTable<M>& table, Stored<M>& doc, RowWrite row, std::function<std::string()> digest = nullptr) {
    if (!digest) digest = [&table, &doc] { return table.Digest(doc.doc); };
    entries_.push_back(
        {doc.doc.id(), &doc.chain_len, &doc.chain_head, std::move(digest), [&table, &doc, row](db::Tx& tx, bool moved) {
           if (row == RowWrite::kInsert) {
             table.Insert(tx, doc);
           } else if (row == RowWrite::kUpdate) {
             table.Update(tx, doc);
           } else if (moved) {
             table.UpdateChain(tx, doc);
           }
         }});
  }
  // Chains `events` ((document id, payload) in order) and writes the documents and the events.
  // std::logic_error for an event on a document that was not added.
  void Write(db::Tx& tx, const events::EventLog& log,
             const std::vector<std::pair<std::string, events::Payload>>& events, const events::Actor& actor,
             int64_t at_us);

 private:
  struct Entry {
    std::string id;
    int64_t* chain_len;
    std::string* chain_head;
    std::function<std::string()> digest;
    std::function<void(db::Tx&, bool moved)> write;
  };
  std::vector<Entry> entries_;
};

}  // namespace sm::docs
