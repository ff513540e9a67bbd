#include "services/clue/pg_store.h"

#include <map>

#include "common/db/sql.h"
#include "common/event_payload.h"
#include "common/status.h"
#include "common/uuid.h"
#include "common/workdays.h"
#include "services/clue/pg_rows.h"

// The store's writes: registrations and steps (each batched under load), merges and the
// overdue scan. Reads are in pg_store_reads.cc, reveal requests in pg_store_reveal.cc.

namespace sm::clue {
namespace {

using db::Opt;
using db::Str;
using db::Tx;
using pg::CustodyUpserts;
using pg::kCustodyUpsert;
using pg::Load;
using pg::LoadLocked;
using pg::LoadWith;
using pg::Micros;
using pg::OptStr;
using pg::RowInserts;
using pg::SubjectInserts;
using pg::Write;
using pg::WriteChange;
using pg::WriteChanges;

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
      absl::StatusOr<Change> change = it == loaded.end()
                                          ? absl::NotFoundError("clue not found")
                                          : DecideStep(tx, *item->request, *item->caller, item->facts, *item->rules,
                                                       it->second.first, it->second.second);
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
        SM_ASSIGN_OR_RETURN(Change change,
                            DecideStep(tx, request, caller, facts, rules, loaded[0].first, loaded[0].second));
        out = ReplyOf(WriteChange(tx, log_, std::move(change), actor, NowMicros(clock_)));
        return absl::OkStatus();
      },
      committed);
}

absl::StatusOr<Change> PgStore::DecideStep(Tx& tx, const StepRequest& request, const auth::Principal& caller,
                                           StepFacts facts, const Rules& rules, const StoredClue& current,
                                           Custody custody) {
  facts.custody = custody;
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
  return Decide(current, caller, request, facts, rules);
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

absl::StatusOr<UnitInfo> PgStore::Unit(const std::string& id) { return directory_.Unit(id); }

absl::StatusOr<PersonInfo> PgStore::Person(const std::string& id) { return directory_.Person(id); }

}  // namespace sm::clue
