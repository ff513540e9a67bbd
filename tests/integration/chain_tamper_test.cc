// Tamper evidence of clue chains against a database administrator (docs/clue.md § Tamper
// evidence): 200 clues with varied histories are written through the store and anchored by a
// signed checkpoint; then 10,000 random tamper operations, each applied as the superuser in a
// transaction, are each detected by the in-process verifier (at the exact event where the
// tampering has one) and rolled back. Also: the checkpoint tables refuse UPDATE, DELETE and
// TRUNCATE to the service role and the superuser, forged checkpoints are not trusted, and a
// checkpoint is never taken over tampered chains.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <set>

#include "common/auth.h"
#include "common/db/migrate.h"
#include "common/db/sql.h"
#include "common/event_log.h"
#include "common/signature.h"
#include "common/uuid.h"
#include "services/clue/pg_store.h"
#include "tests/integration/demo_directory.h"
#include "tests/support/pg_redis.h"

const std::vector<sm::db::Migration>& clue_lib_migrations();

namespace sm::clue {
namespace {

using ::sm::testing::PgRedis;

constexpr int kClues = 200;
constexpr int kOperations = 10000;
constexpr uint64_t kSeed = 20261130;

ChainKeys DevelopmentChainKeys() {
  return chain::KeysOf(
      *auth::ServiceIdentity::Create({.name = "clue-service", .key_pem = std::string(auth::kDevelopmentServiceKey)}),
      nullptr, "clue-service");
}

google::protobuf::Timestamp ToTimestamp(TimePoint t) {
  google::protobuf::Timestamp out;
  db::SetMicros(&out, std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
  return out;
}

std::string SuperuserConn() {
  return "host=127.0.0.1 port=" + std::to_string(PgRedis::Get().pg_port()) +
         " dbname=supervision user=postgres options=-csearch_path=clue";
}

class ChainTamperTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    PgRedis& env = PgRedis::Get();
    env.ResetSchemas();
    // The directory the overdue scanner reads (the test's own units are not in it: their
    // clues escalate to the holder itself).
    dir_pool_ = new db::Pool(env.Pool("sm_directory", "directory", 1));
    ::sm::testing::SeedDemoDirectory(*dir_pool_);
    pool_ = new db::Pool(env.Pool("sm_clue", "clue", 4));
    ASSERT_TRUE(db::ApplyMigrations(*pool_, "clue", clue_lib_migrations()).ok());
    clock_ = new FakeClock(FromUnixSeconds(1735689600));  // 2025-01-01
    store_ = new PgStore(pool_, *clock_);
    store_->SetChainKeys(DevelopmentChainKeys());
  }
  static void TearDownTestSuite() {
    delete store_;
    delete clock_;
    delete pool_;
    delete dir_pool_;
  }

  static std::string Register(std::mt19937_64& rng, const std::string& unit) {
    StoredClue c;
    v1::Clue& clue = c.clue;
    clue.set_id(NewUuid());
    clue.set_state(v1::CLUE_STATE_REGISTERED);
    clue.set_source(v1::CLUE_SOURCE_PETITION);
    clue.set_channel(v1::RECEIPT_CHANNEL_LETTER);
    clue.set_origin_unit_id(unit);
    clue.set_holding_unit_id(unit);
    clue.add_categories(v1::CLUE_CATEGORY_POLITICAL);
    clue.set_summary("clue " + std::to_string(rng() % 100000));
    clue.set_severity(v1::SEVERITY_MEDIUM);
    *clue.mutable_received_at() = ToTimestamp(clock_->Now() - std::chrono::hours(24));
    *clue.mutable_registered_at() = ToTimestamp(clock_->Now());
    clue.set_version(1);
    auto* subject = clue.add_subjects();
    // Upper-case on input: the state digest must not depend on how PostgreSQL spells it back.
    std::string person = NewUuid();
    for (char& ch : person) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    subject->set_person_id(person);
    subject->set_display_name("subject");
    if (rng() % 3 == 0) c.details_sealed = "sealed-details-" + std::to_string(rng());
    std::vector<std::pair<std::string, nlohmann::json>> events = {{"registered", {{"summary", clue.summary()}}}};
    if (rng() % 2 == 0) events.push_back({"offered", {{"to", NewUuid()}}});
    auto r = store_->Register(c, Actor{"registrar", unit}, {NewUuid(), "RegisterClue", "fp"}, events);
    EXPECT_TRUE(r.ok()) << r.status();
    return clue.id();
  }

  // A person of discipline staff in `unit`.
  static auth::Principal StaffOf(const std::string& unit) {
    return auth::Principal{"staff-" + unit.substr(0, 8), unit, {std::string(auth::kRoleDiscipline)}, 2};
  }

  // One random step the clue's state allows, through the real workflow (store Step ->
  // workflow Decide), changing the row's fields that matter: custody, state, deadlines,
  // disposition, outcome, intervention, notes.
  static void Step(std::mt19937_64& rng, const std::string& id) {
    auto now = store_->Get(id);
    ASSERT_TRUE(now.ok()) << now.status();
    const v1::Clue& c = now->clue;
    StepRequest request;
    std::string unit = c.holding_unit_id();
    auto common = [&](auto& req) {
      req.set_request_id(NewUuid());
      req.set_clue_id(id);
    };
    const int kind = static_cast<int>(rng() % 4);
    switch (c.state()) {
      case v1::CLUE_STATE_REGISTERED:
      case v1::CLUE_STATE_HELD:
        if (kind == 0) {
          v1::DisposeClueRequest req;
          common(req);
          req.set_method(v1::DISPOSITION_METHOD_TALK_OR_LETTER);
          req.set_reason("talk first");
          request = req;
        } else if (kind == 1 && !c.intervened()) {
          v1::MarkInterventionRequest req;
          common(req);
          req.set_note("intervened");
          request = req;
        } else {
          v1::TransferClueRequest req;
          common(req);
          req.set_to_unit_id(NewUuid());
          req.set_reason("jurisdiction");
          request = req;
        }
        break;
      case v1::CLUE_STATE_OFFERED:
        unit = c.offered_to_unit_id();
        if (kind == 0) {
          v1::ReturnClueRequest req;
          common(req);
          req.set_reason("not ours");
          request = req;
        } else {
          v1::AcceptClueRequest req;
          common(req);
          request = req;
        }
        break;
      case v1::CLUE_STATE_IN_HANDLING:
      case v1::CLUE_STATE_CASE_FILED:
        if (kind == 0) {
          v1::AddNoteRequest req;
          common(req);
          req.set_text("progress note");
          request = req;
        } else {
          v1::ConcludeClueRequest req;
          common(req);
          req.set_form(v1::SUPERVISION_FORM_1);
          req.add_sanctions("warning");
          req.set_feedback("done");
          req.set_case_filed(kind == 1 && c.state() == v1::CLUE_STATE_IN_HANDLING);
          request = req;
        }
        break;
      default: {  // concluded or merged: a note where the rules allow it
        v1::AddNoteRequest req;
        common(req);
        req.set_text("after the end");
        request = req;
      }
    }
    const std::string request_id = RequestIdOf(request);
    auto r = store_->Step(request, StaffOf(unit), {}, Rules{clock_->Now(), Limits{}, calendar_},
                          {request_id, std::string(MethodOf(request)), "fp"});
    // The steps are chosen legal for the state; a note on a merged clue is refused.
    if (c.state() == v1::CLUE_STATE_MERGED) {
      ASSERT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
    } else {
      ASSERT_TRUE(r.ok()) << r.status();
    }
  }

  static inline workdays::Calendar* calendar_ = new workdays::Calendar();
  static db::Pool* pool_;
  static inline db::Pool* dir_pool_ = nullptr;
  static FakeClock* clock_;
  static PgStore* store_;
};

db::Pool* ChainTamperTest::pool_;
FakeClock* ChainTamperTest::clock_;
PgStore* ChainTamperTest::store_;

// What a tamper operation did and where the verifier must report it.
struct Expect {
  std::string kind;
  std::string clue_id;
  int64_t seq = 0;  // 0: the clue is gone
};

TEST_F(ChainTamperTest, EveryTamperOperationIsDetectedAtItsEvent) {
  std::mt19937_64 rng(kSeed);
  std::vector<std::string> ids;
  // Pairs (0, 1) .. (18, 19) are registered by one unit each, and merged first: merges
  // and the overdue scanner write through their own paths.
  std::string unit;
  for (int i = 0; i < kClues; ++i) {
    if (i >= 20 || i % 2 == 0) unit = NewUuid();
    ids.push_back(Register(rng, unit));
  }
  std::set<std::string> merged_into;
  for (int i = 0; i < 10; ++i) {
    const std::string primary = ids[static_cast<size_t>(i * 2)], merged = ids[static_cast<size_t>(i * 2 + 1)];
    auto p = store_->Get(primary);
    ASSERT_TRUE(p.ok());
    auto r = store_->Merge(primary, p->clue.version(), {merged}, StaffOf(p->clue.holding_unit_id()), "same",
                           {NewUuid(), "MergeClues", "fp"});
    ASSERT_TRUE(r.ok()) << r.status();
    merged_into.insert(primary);
  }
  for (int i = 0; i < kClues * 3; ++i) Step(rng, ids[rng() % ids.size()]);
  auto overdue = store_->MarkOverdue(clock_->Now() + std::chrono::hours(24 * 90));
  ASSERT_TRUE(overdue.ok());
  EXPECT_GT(*overdue, 0);

  auto cp = store_->TakeCheckpoint();
  ASSERT_TRUE(cp.ok()) << cp.status();
  ASSERT_TRUE(cp->has_value());
  EXPECT_EQ((*cp)->aggregates, kClues);
  // Some chains grow past the checkpoint.
  for (int i = 0; i < 40; ++i) Step(rng, ids[rng() % ids.size()]);

  std::map<std::string, int64_t> checkpointed;  // clue -> its length in the checkpoint
  {
    pqxx::connection c(SuperuserConn());
    pqxx::nontransaction q(c);
    for (const auto& r : q.exec_params("SELECT aggregate_id::text, chain_len FROM clue_anchor.chain_checkpoint_heads "
                                       "WHERE checkpoint_id = $1",
                                       (*cp)->id)) {
      checkpointed[r[0].as<std::string>()] = r[1].as<int64_t>();
    }
  }
  auto all = store_->VerifyAllChains();
  ASSERT_TRUE(all.ok());
  ASSERT_TRUE(all->intact) << all->checkpoint_problem << (all->broken.empty() ? "" : all->broken[0].check.problem);
  EXPECT_EQ(all->aggregates, kClues);

  pqxx::connection conn(SuperuserConn());
  events::EventLog log("clue_events", "clue_id", "clues", "clue_events", true);
  std::map<std::string, int> by_kind;
  const auto start = std::chrono::steady_clock::now();
  for (int op = 0; op < kOperations; ++op) {
    pqxx::work tx(conn);
    const std::string id = ids[rng() % ids.size()];
    auto h = log.Read(tx, id);
    ASSERT_TRUE(h.ok());
    std::vector<chain::Event> ev = h->events;
    const int64_t len = static_cast<int64_t>(ev.size());
    const int64_t cp_len = checkpointed.at(id);
    auto pick = [&](int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo + 1)); };
    // Rewrites events from..len of `ev` (already edited in memory) with consistent hashes.
    auto rehash = [&](int64_t from) {
      for (int64_t s = from; s <= static_cast<int64_t>(ev.size()); ++s) {
        chain::Event& e = ev[static_cast<size_t>(s - 1)];
        e.prev_hash = s == 1 ? "" : ev[static_cast<size_t>(s - 2)].hash;
        e.hash = chain::Hash(e.prev_hash, e);
      }
    };
    auto write_event = [&](const chain::Event& e) {
      tx.exec_params0("UPDATE clue_events SET type = $3, actor = $4, data = $5, prev_hash = $6, hash = $7 "
                      "WHERE clue_id = $1::uuid AND seq = $2",
                      id, e.seq, e.type, e.actor, e.data, e.prev_hash, e.hash);
    };
    auto set_head = [&](int64_t n, const std::string& head) {
      tx.exec_params0("UPDATE clues SET chain_len = $2, chain_head = $3 WHERE id = $1::uuid", id, n, head);
    };
    Expect x{"", id, 0};
    switch (op % 10) {
      case 0: {  // edit an event's data, type, actor or time
        const int64_t k = pick(1, len);
        static const char* kEdits[] = {"data = '{\"forged\":true}'", "type = type || '_forged'", "actor = 'forger'",
                                       "at = at + interval '1 second'"};
        const int which = static_cast<int>(rng() % 4);
        tx.exec_params0(std::string("UPDATE clue_events SET ") + kEdits[which] + " WHERE clue_id = $1::uuid AND seq = $2",
                        id, k);
        x = {std::string("edit_event_") + std::to_string(which), id, k};
        break;
      }
      case 1: {  // delete a middle event
        if (len < 2) {  // none: another clue
          tx.abort();
          --op;
          continue;
        }
        const int64_t k = pick(1, len - 1);
        tx.exec_params0("DELETE FROM clue_events WHERE clue_id = $1::uuid AND seq = $2", id, k);
        x = {"delete_middle", id, k};
        break;
      }
      case 2: {  // delete tail events
        const int64_t k = pick(1, len);
        tx.exec_params0("DELETE FROM clue_events WHERE clue_id = $1::uuid AND seq >= $2", id, k);
        x = {"delete_tail", id, k};
        break;
      }
      case 3: {  // delete tail events and rewrite chain_len / chain_head to match
        const int64_t k = pick(1, len);
        tx.exec_params0("DELETE FROM clue_events WHERE clue_id = $1::uuid AND seq >= $2", id, k);
        set_head(k - 1, k == 1 ? "" : ev[static_cast<size_t>(k - 2)].hash);
        // Within the checkpoint the first missing event is known; past it, the row no longer
        // is the state the new last event committed to.
        x = {"delete_tail_rewrite_head", id, k <= cp_len ? k : k - 1};
        break;
      }
      case 4: {  // edit a checkpointed event and rehash the whole chain with the unkeyed algorithm
        const int64_t k = pick(1, cp_len);
        ev[static_cast<size_t>(k - 1)].data = "{\"rewritten\":" + std::to_string(op) + "}";
        rehash(1);
        for (const auto& e : ev) write_event(e);
        set_head(len, ev.back().hash);
        x = {"rehash_chain", id, cp_len};
        break;
      }
      case 5: case 6: {  // edit the clue row
        static const char* kRowEdits[] = {
            "state = CASE WHEN state = 'CLUE_STATE_CONCLUDED' THEN 'CLUE_STATE_HELD' ELSE 'CLUE_STATE_CONCLUDED' END",
            "holding_unit_id = gen_random_uuid()", "version = version + 1", "handler_person_id = gen_random_uuid()",
            "offered_to_unit_id = gen_random_uuid()", "deadline_at = coalesce(deadline_at, now()) + interval '30 days'",
            "disposition_reason = 'shelved quietly', disposition_method = 'DISPOSITION_METHOD_SHELVE'",
            "outcome_feedback = 'nothing found', outcome_form = 0", "details_sealed = 'v1:forged'",
            "summary = summary || ' (edited)'", "overdue = NOT overdue"};
        const size_t which = rng() % std::size(kRowEdits);
        tx.exec_params0(std::string("UPDATE clues SET ") + kRowEdits[which] + " WHERE id = $1::uuid", id);
        if (rng() % 2 == 0) {  // and the subjects, sometimes
          tx.exec_params0("UPDATE clue_subjects SET display_name = 'someone else' WHERE clue_id = $1::uuid", id);
        }
        x = {"edit_row_" + std::to_string(which), id, len};
        break;
      }
      case 7: {  // delete the whole clue
        if (merged_into.count(id) != 0) {  // another clue points at it: delete one that nothing references
          tx.abort();
          --op;
          continue;
        }
        for (const char* sql : {"DELETE FROM clue_events WHERE clue_id = $1::uuid",
                                "DELETE FROM clue_subjects WHERE clue_id = $1::uuid",
                                "DELETE FROM clue_custody WHERE clue_id = $1::uuid", "DELETE FROM clues WHERE id = $1::uuid"}) {
          tx.exec_params0(sql, id);
        }
        x = {"delete_clue", id, 0};
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
        x = {"forge_append", id, len + 1};
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
        tx.exec_params0("DELETE FROM clue_events WHERE clue_id = $1::uuid", id);
        log.Insert(tx, ev);
        set_head(len + 1, ev.back().hash);
        x = {"forge_splice", id, cp_len};
        break;
      }
    }
    ++by_kind[x.kind];
    auto c = store_->VerifyChainIn(tx, id);
    ASSERT_TRUE(c.ok()) << x.kind << ": " << c.status();
    ASSERT_FALSE(c->intact) << "op " << op << " " << x.kind << " on " << id << " not detected";
    ASSERT_EQ(c->first_broken_seq, x.seq) << "op " << op << " " << x.kind << " on " << id << ": " << c->problem;
    if (x.kind == "delete_clue" || op % 97 == 0) {
      chain::ServiceCheck s = store_->VerifyAllChainsIn(tx);
      ASSERT_FALSE(s.intact) << "op " << op << " " << x.kind;
      ASSERT_TRUE(s.checkpoint_problem.empty()) << s.checkpoint_problem;
      ASSERT_EQ(s.broken.size(), 1u) << "op " << op << " " << x.kind;
      EXPECT_EQ(s.broken[0].aggregate_id, id);
      EXPECT_EQ(s.broken[0].check.first_broken_seq, x.seq) << s.broken[0].check.problem;
    }
    tx.abort();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%d tamper operations, every one detected, in %.1f s (seed %llu):", kOperations, seconds,
              static_cast<unsigned long long>(kSeed));
  for (const auto& [kind, n] : by_kind) std::printf(" %s=%d", kind.c_str(), n);
  std::printf("\n");
  RecordProperty("tamper_seconds", std::to_string(seconds));
  // Nothing stuck: rolled back, the chains are intact again.
  auto after = store_->VerifyAllChains();
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->intact);
}

TEST_F(ChainTamperTest, CheckpointTablesAreAppendOnlyForTheServiceAndTheSuperuser) {
  std::mt19937_64 rng(kSeed + 1);
  Register(rng, NewUuid());
  auto cp = store_->TakeCheckpoint();
  ASSERT_TRUE(cp.ok() && cp->has_value()) << cp.status();
  const std::vector<std::string> refused = {
      "UPDATE clue_anchor.chain_checkpoints SET merkle_root = 'x'",
      "DELETE FROM clue_anchor.chain_checkpoints",
      "TRUNCATE clue_anchor.chain_checkpoints CASCADE",
      "UPDATE clue_anchor.chain_checkpoint_heads SET chain_len = 0",
      "DELETE FROM clue_anchor.chain_checkpoint_heads",
      "TRUNCATE clue_anchor.chain_checkpoint_heads",
  };
  const std::string service_conn = "host=127.0.0.1 port=" + std::to_string(PgRedis::Get().pg_port()) +
                                   " dbname=supervision user=sm_clue";
  // The error `sql` fails with ("" when it does not fail).
  auto error_of = [](pqxx::connection& conn, const std::string& sql) -> std::string {
    pqxx::work tx(conn);
    try {
      tx.exec(sql);
    } catch (const pqxx::sql_error& e) {
      return e.what();
    }
    return "";
  };
  // The service role lacks the privilege; the superuser, who has it, meets the trigger.
  const std::vector<std::pair<std::string, std::string>> roles = {{service_conn, "permission denied"},
                                                                   {SuperuserConn(), "append-only"}};
  for (const auto& [conn_str, why] : roles) {
    pqxx::connection conn(conn_str);
    for (const std::string& sql : refused) {
      EXPECT_THAT(error_of(conn, sql), ::testing::HasSubstr(why)) << conn_str << ": " << sql;
    }
    // Heads may not be slipped into an existing (signed) checkpoint.
    EXPECT_THAT(error_of(conn, "INSERT INTO clue_anchor.chain_checkpoint_heads VALUES (" + std::to_string((*cp)->id) +
                                   ", gen_random_uuid(), 1, 'x')"),
                ::testing::HasSubstr("same transaction"))
        << conn_str;
  }
  {  // The service role cannot drop, alter or take over the anchor either.
    pqxx::connection conn(service_conn);
    for (const char* sql : {"DROP TABLE clue_anchor.chain_checkpoints CASCADE",
                            "ALTER TABLE clue_anchor.chain_checkpoints DISABLE TRIGGER append_only",
                            "DROP SCHEMA clue_anchor CASCADE", "SET ROLE sm_clue_anchor"}) {
      EXPECT_THAT(error_of(conn, sql), ::testing::AnyOf(::testing::HasSubstr("must be owner"),
                                                        ::testing::HasSubstr("permission denied")))
          << sql;
    }
  }
  auto list = store_->Checkpoints(0, 10);
  ASSERT_TRUE(list.ok());
  ASSERT_FALSE(list->empty());
  EXPECT_EQ(list->back().id, (*cp)->id);
}

TEST_F(ChainTamperTest, ForgedCheckpointIsNotTrustedAndTamperedChainsAreNotCheckpointed) {
  std::mt19937_64 rng(kSeed + 2);
  const std::string id = Register(rng, NewUuid());
  Step(rng, id);
  auto cp = store_->TakeCheckpoint();
  ASSERT_TRUE(cp.ok() && cp->has_value()) << cp.status();
  auto ok = store_->VerifyChain(id);
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->intact) << ok->problem;
  {
    // The service role may insert checkpoints, but cannot sign them: a forged one is seen.
    pqxx::connection conn("host=127.0.0.1 port=" + std::to_string(PgRedis::Get().pg_port()) +
                          " dbname=supervision user=sm_clue options=-csearch_path=clue");
    pqxx::work tx(conn);
    tx.exec_params0("INSERT INTO clue_anchor.chain_checkpoints (id, service, taken_at, aggregates, merkle_root, kid, "
                    "signature) VALUES ($1, 'clue-service', now(), 0, 'x', $2, '3045022100')",
                    (*cp)->id + 1, (*cp)->kid);
    auto c = store_->VerifyChainIn(tx, id);
    ASSERT_TRUE(c.ok());
    EXPECT_FALSE(c->intact);
    EXPECT_NE(c->problem.find("not trusted"), std::string::npos) << c->problem;
    chain::ServiceCheck s = store_->VerifyAllChainsIn(tx);
    EXPECT_FALSE(s.intact);
    EXPECT_NE(s.checkpoint_problem.find("signature"), std::string::npos) << s.checkpoint_problem;
    tx.abort();
  }
  // A truncated chain is not laundered into a new checkpoint.
  pqxx::connection conn(SuperuserConn());
  {
    pqxx::work tx(conn);
    tx.exec_params0("DELETE FROM clue_events WHERE clue_id = $1::uuid AND seq = 2", id);
    tx.exec_params0("UPDATE clues SET chain_len = 1, chain_head = (SELECT hash FROM clue_events WHERE clue_id = $1::uuid "
                    "AND seq = 1) WHERE id = $1::uuid",
                    id);
    tx.commit();
  }
  auto refused = store_->TakeCheckpoint();
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kDataLoss) << refused.status();
  auto broken = store_->VerifyChain(id);
  ASSERT_TRUE(broken.ok());
  EXPECT_FALSE(broken->intact);
  EXPECT_EQ(broken->first_broken_seq, 2);
  // Leave the database as the other tests expect it: a fresh schema.
  PgRedis::Get().ResetSchemas();
  ASSERT_TRUE(db::ApplyMigrations(*pool_, "clue", clue_lib_migrations()).ok());
}

}  // namespace
}  // namespace sm::clue
