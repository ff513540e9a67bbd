// A service's event log in PostgreSQL: every state change appends an event in the same
// transaction (ARCHITECTURE.md § How messages move). Per aggregate, events form a SHA-256
// hash chain (hash_chain.h) whose length and head live on the aggregate's row. Readers get
// an aggregate's history, and a commit-safe feed of all events for Subscribe.
//
// Table layout (each service's migration creates it):
//   <events>(<id_column> uuid, seq integer, type text, actor text, actor_unit_id text,
//            at timestamptz, data text, prev_hash text, hash text,
//            xid xid8 DEFAULT pg_current_xact_id(), gseq bigserial,
//            PRIMARY KEY (<id_column>, seq));  INDEX (xid, gseq)
//   with `versioned`, also: chain_version integer, state_digest text (hash_chain.h v2)
//   <aggregates>(id uuid, ..., chain_len integer, chain_head text)
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <absl/status/statusor.h>

#include "common/db/pool.h"
#include "common/hash_chain.h"

namespace sm::events {

// A position in the feed: (writer transaction id, global sequence).
struct Cursor {
  uint64_t xid = 0;
  int64_t gseq = 0;
  std::string ToString() const;
  static std::optional<Cursor> Parse(const std::string& s);  // "" is the beginning
  // Feed order: by transaction id, then global sequence.
  friend auto operator<=>(const Cursor&, const Cursor&) = default;
};

struct FeedEvent {
  chain::Event event;
  Cursor cursor;
};

struct Actor {
  std::string user;
  std::string unit;
};

class EventLog {
 public:
  // `events_table` and `aggregate_table` are unqualified names in the connection's
  // search_path; `id_column` names the aggregate in the events table; NOTIFY goes to
  // `channel` on every append.
  // `versioned`: the events table has chain_version and state_digest (events given a state
  // digest are written as chain version 2).
  EventLog(std::string events_table, std::string id_column, std::string aggregate_table, std::string channel,
           bool versioned = false);

  // Appends the next event of `aggregate_id`'s chain, for a caller that does not hold its
  // head: reads chain_len and chain_head on the aggregate row (which the caller should hold
  // locked), then writes the event and the new head in one statement. A caller that loaded
  // the row writes through Next and Insert with its own row update instead. With a
  // `state_digest` (the aggregate row's digest after this change) the event is chain
  // version 2 and commits to it. Returns the event.
  chain::Event Append(db::Tx& tx, const std::string& aggregate_id, const Actor& actor, const std::string& type,
                      const std::string& data_json, int64_t at_micros, const std::string& state_digest = "") const;

  // The event after (`prev_seq`, `prev_hash`) in `aggregate_id`'s chain, hashed; nothing
  // is written. For new aggregates, whose head (0, "") is known without reading it.
  static chain::Event Next(const std::string& aggregate_id, int64_t prev_seq, const std::string& prev_hash,
                           const Actor& actor, const std::string& type, const std::string& data_json, int64_t at_micros,
                           const std::string& state_digest = "");
  // Inserts made events (any number, any aggregates) with one statement and notifies
  // `channel` once. The aggregates' chain_len and chain_head are the caller's to set.
  void Insert(db::Tx& tx, const std::vector<chain::Event>& events) const;

  // A data-modifying statement that runs in the same statement as the events' insert (a
  // WITH item: PostgreSQL runs each once, on one snapshot), with "?" for each of `params`
  // in order: the aggregate's row update, say, so that a change is one round trip.
  struct Also {
    std::string sql;
    std::vector<std::optional<std::string>> params;
  };
  // Inserts `events` with `also` in one statement and notifies `channel`. `statement` names
  // the statement's shape for preparing it once per connection (the same name must always
  // come with the same SQL: the same `also` statements; the events, any number of them, are
  // passed as arrays, db::RowSet).
  void Insert(db::Tx& tx, const std::vector<chain::Event>& events, const std::vector<Also>& also,
              const std::string& statement) const;

  // An aggregate's events in seq order, with the head stored on its row.
  struct History {
    std::vector<chain::Event> events;
    int64_t head_len = 0;
    std::string head_hash;
  };
  // NOT_FOUND when the aggregate does not exist.
  absl::StatusOr<History> Read(db::Pool& pool, const std::string& aggregate_id) const;
  // The same inside the caller's transaction (one snapshot with other reads).
  absl::StatusOr<History> Read(db::Tx& tx, const std::string& aggregate_id) const;
  // Every aggregate's events, in seq order, by aggregate id (whole-service verification).
  std::map<std::string, std::vector<chain::Event>> ReadAll(db::Tx& tx) const;

  // Events after `after` whose writer transactions are all finished, in (xid, gseq)
  // order: a later transaction can commit before an earlier one, and a reader that moved
  // past the later would skip the earlier, so only events below the oldest running
  // transaction are handed out.
  absl::StatusOr<std::vector<FeedEvent>> Feed(db::Pool& pool, const Cursor& after, int limit) const;

  const std::string& channel() const { return channel_; }

 private:
  // The columns every read selects, and the event they make (the first 11 columns of a row).
  chain::Event FromRow(const pqxx::row& r) const;
  std::string EventColumns() const;

  std::string events_, id_, aggregates_, channel_;
  bool versioned_;
};

}  // namespace sm::events
