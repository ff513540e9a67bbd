#include "tests/support/chain_tamper.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <random>

#include "common/event_log.h"
#include "tests/support/pg_redis.h"

namespace sm::testing::tamper {
namespace {

std::string ConnAs(const Target& t, const std::string& user) {
  return "host=127.0.0.1 port=" + std::to_string(PgRedis::Get().pg_port()) + " dbname=supervision user=" + user +
         " options=-csearch_path=" + t.schema;
}

// What a tamper operation did and where the verifier must report it.
struct Expect {
  std::string kind;
  int64_t seq = 0;  // 0: the aggregate is gone
};

// The error `sql` fails with ("" when it does not fail), in a transaction rolled back.
std::string ErrorOf(pqxx::connection& conn, const std::string& sql) {
  pqxx::work tx(conn);
  try {
    tx.exec(sql);
  } catch (const pqxx::sql_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

std::string SuperuserConn(const Target& t) { return ConnAs(t, "postgres"); }
std::string ServiceConn(const Target& t) { return ConnAs(t, t.service_role); }

std::map<std::string, int64_t> CheckpointedLengths(const Target& t, int64_t checkpoint_id) {
  std::map<std::string, int64_t> out;
  pqxx::connection c(SuperuserConn(t));
  pqxx::nontransaction q(c);
  for (const auto& r :
       q.exec_params("SELECT DISTINCT ON (aggregate_id) aggregate_id::text, chain_len FROM " + t.anchor_schema +
                         ".chain_checkpoint_heads WHERE checkpoint_id <= $1 "
                         "ORDER BY aggregate_id, checkpoint_id DESC",
                     checkpoint_id)) {
    out[r[0].as<std::string>()] = r[1].as<int64_t>();
  }
  return out;
}

void ExpectEveryOperationDetected(const Target& t, const std::vector<std::string>& ids,
                                  const std::map<std::string, int64_t>& checkpointed, int operations, uint64_t seed) {
  std::mt19937_64 rng(seed);
  pqxx::connection conn(SuperuserConn(t));
  std::map<std::string, int> by_kind;
  const auto start = std::chrono::steady_clock::now();
  for (int op = 0; op < operations; ++op) {
    pqxx::work tx(conn);
    const std::string id = ids[rng() % ids.size()];
    const std::string table = t.table_of(id);
    const events::EventLog log(t.events_table, t.id_column, table, t.events_table, /*versioned=*/true);
    auto h = log.Read(tx, id);
    ASSERT_TRUE(h.ok()) << id << ": " << h.status();
    std::vector<chain::Event> ev = h->events;
    const int64_t len = static_cast<int64_t>(ev.size());
    ASSERT_EQ(checkpointed.count(id), 1u) << id << " is not in the checkpoint";
    const int64_t cp_len = checkpointed.at(id);
    auto pick = [&](int64_t lo, int64_t hi) {
      return lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo + 1));
    };
    const std::string of_id = " WHERE " + t.id_column + " = $1::uuid";
    // Rewrites events from..len of `ev` (already edited in memory) with consistent hashes.
    auto rehash = [&](int64_t from) {
      for (int64_t s = from; s <= static_cast<int64_t>(ev.size()); ++s) {
        chain::Event& e = ev[static_cast<size_t>(s - 1)];
        e.prev_hash = s == 1 ? "" : ev[static_cast<size_t>(s - 2)].hash;
        e.hash = chain::Hash(e.prev_hash, e);
      }
    };
    auto write_event = [&](const chain::Event& e) {
      tx.exec_params0("UPDATE " + t.events_table + " SET type = $3, actor = $4, data = $5, prev_hash = $6, hash = $7" +
                          of_id + " AND seq = $2",
                      id, e.seq, e.type, e.actor, e.data, e.prev_hash, e.hash);
    };
    auto set_head = [&](int64_t n, const std::string& head) {
      tx.exec_params0("UPDATE " + table + " SET chain_len = $2, chain_head = $3 WHERE id = $1::uuid", id, n, head);
    };
    auto another = [&] {  // this aggregate cannot take this operation: another draw
      tx.abort();
      --op;
    };
    Expect x;
    switch (op % 10) {
      case 0: {  // edit an event's data, type, actor or time
        const int64_t k = pick(1, len);
        static const char* kEdits[] = {"data = '{\"forged\":true}'", "type = type || '_forged'", "actor = 'forger'",
                                       "at = at + interval '1 second'"};
        const int which = static_cast<int>(rng() % 4);
        tx.exec_params0("UPDATE " + t.events_table + " SET " + kEdits[which] + of_id + " AND seq = $2", id, k);
        x = {std::string("edit_event_") + std::to_string(which), k};
        break;
      }
      case 1: {  // delete a middle event
        if (len < 2) {
          another();
          continue;
        }
        const int64_t k = pick(1, len - 1);
        tx.exec_params0("DELETE FROM " + t.events_table + of_id + " AND seq = $2", id, k);
        x = {"delete_middle", k};
        break;
      }
      case 2: {  // delete tail events
        const int64_t k = pick(1, len);
        tx.exec_params0("DELETE FROM " + t.events_table + of_id + " AND seq >= $2", id, k);
        x = {"delete_tail", k};
        break;
      }
      case 3: {  // delete tail events and rewrite chain_len / chain_head to match
        const int64_t k = pick(1, len);
        tx.exec_params0("DELETE FROM " + t.events_table + of_id + " AND seq >= $2", id, k);
        set_head(k - 1, k == 1 ? "" : ev[static_cast<size_t>(k - 2)].hash);
        // Within the checkpoint the first missing event is known; past it, the row no longer
        // is the state the new last event committed to.
        x = {"delete_tail_rewrite_head", k <= cp_len ? k : k - 1};
        break;
      }
      case 4: {  // edit a checkpointed event and rehash the whole chain with the unkeyed algorithm
        const int64_t k = pick(1, cp_len);
        ev[static_cast<size_t>(k - 1)].data = "{\"rewritten\":" + std::to_string(op) + "}";
        rehash(1);
        for (const auto& e : ev) write_event(e);
        set_head(len, ev.back().hash);
        x = {"rehash_chain", cp_len};
        break;
      }
      case 5:
      case 6: {  // edit the row (and sometimes the rows that belong to it), or those alone
        if (op % 10 == 6 && !t.child_edits.empty()) {
          const size_t which = rng() % t.child_edits.size();
          if (tx.exec_params(t.child_edits[which], id).affected_rows() > 0) {
            x = {"child_edit_" + std::to_string(which), len};
            break;
          }
        }
        const std::vector<std::string> edits = t.row_edits(id);
        const size_t which = rng() % edits.size();
        tx.exec_params0("UPDATE " + table + " SET " + edits[which] + " WHERE id = $1::uuid", id);
        if (!t.child_edits.empty() && rng() % 2 == 0) {
          tx.exec_params0(t.child_edits[rng() % t.child_edits.size()], id);
        }
        x = {table + "_edit_row_" + std::to_string(which), len};
        break;
      }
      case 7: {  // delete the whole aggregate
        const std::vector<std::string> deletes = t.delete_whole(id);
        if (deletes.empty()) {  // something references it
          another();
          continue;
        }
        for (const std::string& sql : deletes) tx.exec_params0(sql, id);
        x = {"delete_" + table, 0};
        break;
      }
      case 8: {  // insert a forged event after the head, the row left alone
        chain::Event f = ev.back();
        f.seq = len + 1;
        f.type = "forged";
        f.data = "{}";
        f.prev_hash = ev.back().hash;
        f.hash = chain::Hash(f.prev_hash, f);
        log.Insert(tx, {f});
        x = {"forge_append", len + 1};
        break;
      }
      default: {  // splice a forged event into the checkpointed part, renumber, rehash, fix the head
        const int64_t k = pick(1, cp_len);
        chain::Event f = ev[static_cast<size_t>(k - 1)];
        f.type = "forged";
        f.data = "{\"spliced\":true}";
        ev.insert(ev.begin() + (k - 1), f);
        for (size_t i = 0; i < ev.size(); ++i) ev[i].seq = static_cast<int64_t>(i) + 1;
        rehash(1);
        tx.exec_params0("DELETE FROM " + t.events_table + of_id, id);
        log.Insert(tx, ev);
        set_head(len + 1, ev.back().hash);
        x = {"forge_splice", cp_len};
        break;
      }
    }
    ++by_kind[x.kind];
    auto c = t.guard->VerifyIn(tx, id);
    ASSERT_TRUE(c.ok()) << x.kind << ": " << c.status();
    ASSERT_FALSE(c->intact) << "op " << op << " " << x.kind << " on " << id << " not detected";
    ASSERT_EQ(c->first_broken_seq, x.seq) << "op " << op << " " << x.kind << " on " << id << ": " << c->problem;
    if (x.seq == 0 || op % 97 == 0) {
      chain::ServiceCheck s = t.guard->VerifyAllIn(tx);
      ASSERT_FALSE(s.intact) << "op " << op << " " << x.kind;
      ASSERT_TRUE(s.checkpoint_problem.empty()) << s.checkpoint_problem;
      ASSERT_EQ(s.broken.size(), 1u) << "op " << op << " " << x.kind;
      EXPECT_EQ(s.broken[0].aggregate_id, id);
      EXPECT_EQ(s.broken[0].check.first_broken_seq, x.seq) << s.broken[0].check.problem;
    }
    tx.abort();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s: %d tamper operations, every one detected, in %.1f s (seed %llu):", t.service.c_str(), operations,
              seconds, static_cast<unsigned long long>(seed));
  for (const auto& [kind, n] : by_kind) std::printf(" %s=%d", kind.c_str(), n);
  std::printf("\n");
  ::testing::Test::RecordProperty("tamper_seconds", std::to_string(seconds));
}

void ExpectAnchorAppendOnly(const Target& t, int64_t checkpoint_id) {
  auto list = t.guard->List(0, 1000);
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_FALSE(list->empty());
  EXPECT_EQ(list->back().id, checkpoint_id);
  EXPECT_EQ(list->back().service, t.service);
  const std::string checkpoints = t.anchor_schema + ".chain_checkpoints";
  const std::string heads = t.anchor_schema + ".chain_checkpoint_heads";
  const std::vector<std::string> refused = {
      "UPDATE " + checkpoints + " SET merkle_root = 'x'",
      "DELETE FROM " + checkpoints,
      "TRUNCATE " + checkpoints + " CASCADE",
      "UPDATE " + heads + " SET chain_len = 0",
      "DELETE FROM " + heads,
      "TRUNCATE " + heads,
  };
  // The service role lacks the privilege; the superuser, who has it, meets the trigger.
  const std::vector<std::pair<std::string, std::string>> roles = {{ServiceConn(t), "permission denied"},
                                                                  {SuperuserConn(t), "append-only"}};
  for (const auto& [conn_str, why] : roles) {
    pqxx::connection conn(conn_str);
    for (const std::string& sql : refused) {
      EXPECT_THAT(ErrorOf(conn, sql), ::testing::HasSubstr(why)) << conn_str << ": " << sql;
    }
    // Heads may not be slipped into an existing (signed) checkpoint.
    EXPECT_THAT(ErrorOf(conn, "INSERT INTO " + heads + " VALUES (" + std::to_string(checkpoint_id) +
                                  ", gen_random_uuid(), 1, 'x')"),
                ::testing::HasSubstr("same transaction"))
        << conn_str;
  }
  // The service role cannot drop, alter or take over the anchor either.
  pqxx::connection conn(ServiceConn(t));
  for (const std::string& sql :
       {"DROP TABLE " + checkpoints + " CASCADE", "ALTER TABLE " + checkpoints + " DISABLE TRIGGER append_only",
        "DROP SCHEMA " + t.anchor_schema + " CASCADE", "SET ROLE " + t.service_role + "_anchor"}) {
    EXPECT_THAT(ErrorOf(conn, sql),
                ::testing::AnyOf(::testing::HasSubstr("must be owner"), ::testing::HasSubstr("permission denied")))
        << sql;
  }
}

void ExpectForgedCheckpointDistrustedAndTamperingNotCheckpointed(const Target& t, const std::string& id,
                                                                 const chain::Checkpoint& cp) {
  auto ok = t.guard->Verify(id);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE(ok->intact) << ok->problem;
  {
    // The service role may insert checkpoints, but cannot sign them: a forged one is seen.
    pqxx::connection conn(ServiceConn(t));
    pqxx::work tx(conn);
    tx.exec_params0("INSERT INTO " + t.anchor_schema +
                        ".chain_checkpoints (id, service, taken_at, aggregates, "
                        "merkle_root, kid, signature) VALUES ($1, $2, now(), 0, 'x', $3, '3045022100')",
                    cp.id + 1, t.service, cp.kid);
    auto c = t.guard->VerifyIn(tx, id);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_FALSE(c->intact);
    EXPECT_THAT(c->problem, ::testing::HasSubstr("not trusted"));
    chain::ServiceCheck s = t.guard->VerifyAllIn(tx);
    EXPECT_FALSE(s.intact);
    EXPECT_THAT(s.checkpoint_problem, ::testing::HasSubstr("signature"));
    tx.abort();
  }
  // A truncated chain is not laundered into a new checkpoint.
  const std::string table = t.table_of(id);
  {
    pqxx::connection conn(SuperuserConn(t));
    pqxx::work tx(conn);
    tx.exec_params0("DELETE FROM " + t.events_table + " WHERE " + t.id_column + " = $1::uuid AND seq = 2", id);
    tx.exec_params0("UPDATE " + table + " SET chain_len = 1, chain_head = (SELECT hash FROM " + t.events_table +
                        " WHERE " + t.id_column + " = $1::uuid AND seq = 1) WHERE id = $1::uuid",
                    id);
    tx.commit();
  }
  auto refused = t.guard->Take();
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kDataLoss) << refused.status();
  auto broken = t.guard->Verify(id);
  ASSERT_TRUE(broken.ok()) << broken.status();
  EXPECT_FALSE(broken->intact);
  EXPECT_EQ(broken->first_broken_seq, 2);
}

}  // namespace sm::testing::tamper
