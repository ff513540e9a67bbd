// PostgreSQL implementation of the clue Store (SQL only; rules live in workflow.h and the
// service).
#pragma once

#include <mutex>
#include <optional>
#include <unordered_map>

#include "common/chain_guard.h"
#include "common/clock.h"
#include "common/coalesce.h"
#include "common/directory_reader.h"
#include "common/db/idempotency.h"
#include "common/db/pool.h"
#include "common/db/stats_version.h"
#include "services/clue/store.h"

namespace sm::clue {

// Concurrent writes are made in shared transactions (group commit): up to `max_batch` per
// transaction, at most `max_running` such transactions at once (common/coalesce.h).
struct Batching {
  int max_batch = 64;
  int max_running = 3;
};

// Digest of a clue row as stored (every column but the chain, and the subjects): what each
// chain-version-2 event commits to, and what verification recomputes from the row.
std::string StateDigest(const StoredClue& s);

// How checkpoints are signed and checked: the service's own key (chain::KeysOf).
using ChainKeys = chain::ServiceKeys;

class PgStore final : public Store {
 public:
  // Registrations, and steps on clues (each of a different clue), are batched each by their
  // own settings.
  PgStore(db::Pool* pool, const Clock& clock, Batching registrations = {},
          Batching steps = {.max_batch = 32, .max_running = 2});

  // Before serving; without it checkpoints are neither taken nor trusted.
  void SetChainKeys(ChainKeys keys) { chain_.SetKeys(std::move(keys)); }
  // The tamper evidence of the clue chains (tests verify inside their own transactions).
  const chain::Guard& chain() const { return chain_; }

  absl::StatusOr<chain::Check> VerifyChain(const std::string& clue_id) override { return chain_.Verify(clue_id); }
  absl::StatusOr<chain::ServiceCheck> VerifyAllChains() override { return chain_.VerifyAll(); }
  absl::StatusOr<std::optional<chain::Checkpoint>> TakeCheckpoint() override { return chain_.Take(); }
  absl::StatusOr<std::vector<chain::Checkpoint>> Checkpoints(int64_t after_id, int limit) override {
    return chain_.List(after_id, limit);
  }

  absl::StatusOr<v1::ClueReply> Register(const StoredClue& clue, const Actor& actor, const db::Idempotency::Key& key,
                                         const std::vector<v1::ClueEventPayload>& events) override;
  absl::StatusOr<v1::ClueReply> Step(const StepRequest& request, const auth::Principal& caller, StepFacts facts,
                                     const Rules& rules, const db::Idempotency::Key& key) override;
  absl::StatusOr<v1::RevealRequestReply> CreateReveal(const v1::RequestRevealRequest& request,
                                                      const auth::Principal& caller, const std::string& id,
                                                      const RevealRules& rules,
                                                      const db::Idempotency::Key& key) override;
  absl::StatusOr<RevealOutcome> StepReveal(const RevealStepRequest& request, const auth::Principal& caller,
                                           const RevealRules& rules, const db::Idempotency::Key& key) override;
  absl::StatusOr<v1::RevealRequest> GetReveal(const std::string& reveal_id) override;
  absl::StatusOr<std::vector<v1::RevealRequest>> ListReveals(const RevealQuery& q) override;
  absl::StatusOr<v1::ClueReply> Merge(const std::string& primary_id, int64_t expected_version,
                                      const std::vector<std::string>& merged_ids, const auth::Principal& caller,
                                      const std::string& reason, const db::Idempotency::Key& key) override;
  absl::StatusOr<int> MarkOverdue(TimePoint now) override;
  absl::StatusOr<StoredClue> Get(const std::string& clue_id) override;
  absl::StatusOr<Custody> CustodyOf(const std::string& clue_id, const std::string& unit_id) override;
  absl::StatusOr<std::unordered_map<std::string, Custody>> CustodyOf(const std::vector<std::string>& clue_ids,
                                                                     const std::string& unit_id) override;
  absl::StatusOr<std::vector<StoredClue>> List(const ListQuery& q) override;
  absl::StatusOr<std::vector<chain::Event>> Events(const std::string& clue_id) override;
  absl::StatusOr<std::vector<StoredClue>> Duplicates(const std::vector<std::string>& person_ids,
                                                     const std::optional<std::string>& visible_to_unit,
                                                     const std::string& exclude_id) override;
  absl::StatusOr<v1::ClueStats> Stats(const StatsQuery& q) override;
  absl::StatusOr<int64_t> StatsVersion() override;
  absl::StatusOr<std::vector<FeedEvent>> Feed(const Cursor& after, int limit) override;
  absl::StatusOr<UnitInfo> Unit(const std::string& id) override;
  absl::StatusOr<PersonInfo> Person(const std::string& id) override;

 private:
  // One RegisterClue waiting for (or written by) a batch.
  struct Registration {
    const StoredClue* clue;
    const Actor* actor;
    const db::Idempotency::Key* key;
    const std::vector<v1::ClueEventPayload>* events;
    absl::StatusOr<v1::ClueReply> result = absl::InternalError("registration not run");
    bool fresh = false;  // written now, not answered from an earlier write
  };
  // Registrations that must not share a transaction: the same request id or referral.
  static bool Conflict(const Registration& a, const Registration& b);
  // Settles every registration of `batch`: one transaction for all, else each alone.
  void RunRegistrations(const std::vector<Registration*>& batch);
  absl::Status WriteRegistrations(const std::vector<Registration*>& batch);
  // The clue registered earlier for `c`'s referral (source_system, source_ref), if any.
  std::optional<StoredClue> BySource(db::Tx& tx, const StoredClue& c);

  // One step waiting for (or written by) a batch.
  struct StepItem {
    const StepRequest* request;
    const auth::Principal* caller;
    StepFacts facts;
    const Rules* rules;
    const db::Idempotency::Key* key;
    absl::StatusOr<v1::ClueReply> result = absl::InternalError("step not run");
    bool alone = false;  // not written by its batch: the caller runs it on its own (StepAlone)
    bool fresh = false;  // written now, not answered from an earlier write
  };
  // Steps that must not share a transaction: the same clue or request id.
  static bool Conflict(const StepItem& a, const StepItem& b);
  // Writes the steps of `batch` in one transaction when it holds more than one; a step the
  // batch did not write (refused, its clue absent, a directory read failed, or the batch
  // failed) is marked `alone`.
  void RunSteps(const std::vector<StepItem*>& batch);
  absl::Status WriteSteps(const std::vector<StepItem*>& batch);
  // One step in its own transaction, idempotently on its key (Idempotency::Write);
  // `committed` runs when it wrote.
  absl::StatusOr<v1::ClueReply> StepAlone(const StepRequest& request, const auth::Principal& caller, StepFacts facts,
                                          const Rules& rules, const db::Idempotency::Key& key,
                                          const std::function<void()>& committed);
  // The workflow's decision on `request` for `current` (loaded locked, with the caller unit's
  // `custody`), given what the rules need around it: the subjects' places and the holding
  // unit, from the directory (in memory nearly always; a failed read refuses).
  absl::StatusOr<Change> DecideStep(db::Tx& tx, const StepRequest& request, const auth::Principal& caller,
                                    StepFacts facts, const Rules& rules, const StoredClue& current, Custody custody);

  // A clue's tamper evidence as stored (nullopt: no such clue), and every clue row's.
  absl::StatusOr<std::optional<chain::Evidence>> ChainEvidence(db::Tx& tx, const std::string& clue_id) const;
  std::map<std::string, chain::Evidence> ChainRows(db::Tx& tx) const;
  // After a commit: moves the statistics cache key on (see StatsVersion).
  void Changed();
  // Where each subject of `c` sits in the directory (for recusal); a failed read refuses.
  absl::StatusOr<std::vector<SubjectPlace>> SubjectPlaces(db::Tx& tx, const StoredClue& c);

  db::Pool* pool_;
  const Clock& clock_;
  db::Idempotency idempotency_{"clue"};
  db::StatsVersion stats_version_{pool_};
  events::EventLog log_{"clue_events", "clue_id", "clues", "clue_events", /*versioned=*/true};
  chain::Guard chain_;
  Coalescer<Registration> registrations_;
  Coalescer<StepItem> steps_;
  DirectoryReader directory_{pool_};
};

}  // namespace sm::clue
