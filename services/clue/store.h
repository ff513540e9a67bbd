// Storage interface of clue-service; pg_store.h is its PostgreSQL implementation.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <absl/status/statusor.h>

#include "common/chain_anchor.h"
#include "common/clock.h"
#include "common/directory_reader.h"
#include "common/event_log.h"
#include "common/hash_chain.h"
#include "common/db/idempotency.h"
#include "services/clue/access.h"
#include "services/clue/workflow.h"
#include "supervision/v1/clue.pb.h"

namespace sm::clue {

namespace v1 = ::supervision::v1;

struct ListQuery {
  std::optional<std::string> visible_to_unit;  // nullopt: every clue (oversight)
  std::optional<std::string> holding_unit, origin_unit, state, category, subject_person, text;
  std::optional<int64_t> received_from_us, received_to_us;
  bool overdue_only = false;
  std::optional<std::pair<int64_t, std::string>> after;  // (received_at µs, id)
  int limit = 50;
};

using UnitInfo = sm::UnitInfo;
using PersonInfo = sm::PersonInfo;

struct StatsQuery {
  std::optional<std::string> unit_id;  // clues held by this unit or below
  std::optional<int64_t> received_from_us, received_to_us;
};

using events::Cursor;
using events::FeedEvent;

// A reveal step's reply and, for a fresh RevealReporter, the sealed reporter of the clue as
// the step saw it (opened by the handler after the commit; "" otherwise).
struct RevealOutcome {
  v1::RevealRequestReply reply;
  std::string reporter_sealed;
};

struct RevealQuery {
  std::optional<std::string> requester;     // made by this user (any state)
  std::optional<std::string> undecided_by;  // pending, neither made nor decided by this user
  std::optional<std::string> clue_id;
  std::optional<std::pair<int64_t, std::string>> after;  // (requested_at µs, id)
  int limit = 50;
};

class Store {
 public:
  virtual ~Store() = default;

  // Inserts `clue` with its first events, idempotently on the key and on (source_system,
  // source_ref): a repeat returns the first reply with replayed set. `events` are the
  // (type, data) pairs recorded for the registration, in order (workflow Register).
  virtual absl::StatusOr<v1::ClueReply> Register(const StoredClue& clue, const Actor& actor,
                                                 const db::Idempotency::Key& key,
                                                 const std::vector<v1::ClueEventPayload>& events) = 0;

  // One step on one clue, in one transaction (idempotent on `key`): loads the clue FOR
  // UPDATE with the caller unit's custody record and, where the step needs them, the
  // subjects' places or the holding unit (`facts` brings the rest); workflow Decide rules;
  // writes the row, its event with the chain and the custody once. NOT_FOUND when absent;
  // Decide's refusals as they are.
  virtual absl::StatusOr<v1::ClueReply> Step(const StepRequest& request, const auth::Principal& caller, StepFacts facts,
                                             const Rules& rules, const db::Idempotency::Key& key) = 0;

  // RequestReveal as one walk (idempotent on `key`): locks the clue with the caller unit's
  // custody record, decides by the workflow's DecideRevealRequest, inserts the request `id`
  // and appends its "reveal_requested" event. NOT_FOUND when the clue is absent.
  virtual absl::StatusOr<v1::RevealRequestReply> CreateReveal(const v1::RequestRevealRequest& request,
                                                              const auth::Principal& caller, const std::string& id,
                                                              const RevealRules& rules,
                                                              const db::Idempotency::Key& key) = 0;

  // DecideReveal and RevealReporter as one walk (idempotent on `key`; a repeat gets the
  // first reply, replayed set, and no reporter): locks the request and then its clue, decides
  // by DecideRevealStep, and writes the request, the decision and the clue's event.
  // NOT_FOUND when the request is absent; ALREADY_EXISTS if the decision's custodian has
  // one on file (the UNIQUE backstop of the workflow's own check).
  virtual absl::StatusOr<RevealOutcome> StepReveal(const RevealStepRequest& request, const auth::Principal& caller,
                                                   const RevealRules& rules, const db::Idempotency::Key& key) = 0;

  // NOT_FOUND when absent.
  virtual absl::StatusOr<v1::RevealRequest> GetReveal(const std::string& reveal_id) = 0;
  // Newest first, at most q.limit.
  virtual absl::StatusOr<std::vector<v1::RevealRequest>> ListReveals(const RevealQuery& q) = 0;

  // Merges `merged_ids` into `primary_id` in one transaction (idempotent on `key`): locks
  // them all in id order with the caller unit's custody of each, workflow DecideMerge
  // rules; each merged clue and the primary get an event, and whoever could see a merged
  // clue may follow it into the primary.
  virtual absl::StatusOr<v1::ClueReply> Merge(const std::string& primary_id, int64_t expected_version,
                                              const std::vector<std::string>& merged_ids, const auth::Principal& caller,
                                              const std::string& reason, const db::Idempotency::Key& key) = 0;

  // Marks clues whose running deadline passed before `now` as overdue (workflow IsOverdue),
  // each escalated (workflow Escalate) with an "escalated" event. Only one caller at a time
  // does the work (advisory lock); returns how many it marked.
  virtual absl::StatusOr<int> MarkOverdue(TimePoint now) = 0;

  virtual absl::StatusOr<StoredClue> Get(const std::string& clue_id) = 0;
  // What the custody record says of `unit_id` (kNone when it was never in custody).
  virtual absl::StatusOr<Custody> CustodyOf(const std::string& clue_id, const std::string& unit_id) = 0;
  // The same for several clues in one query (a list page); clues never in the unit's
  // custody are absent from the map.
  virtual absl::StatusOr<std::unordered_map<std::string, Custody>> CustodyOf(const std::vector<std::string>& clue_ids,
                                                                             const std::string& unit_id) = 0;
  virtual absl::StatusOr<std::vector<StoredClue>> List(const ListQuery& q) = 0;
  virtual absl::StatusOr<std::vector<chain::Event>> Events(const std::string& clue_id) = 0;

  // Tamper evidence (docs/clue.md § Tamper evidence). The clue's chain, its row against the
  // state its last event committed to, and its prefix against the latest checkpoint.
  // NOT_FOUND when the clue is absent and no checkpoint had it.
  virtual absl::StatusOr<chain::Check> VerifyChain(const std::string& clue_id) = 0;
  // Every clue, and the latest checkpoint's signature, count and Merkle root.
  virtual absl::StatusOr<chain::ServiceCheck> VerifyAllChains() = 0;
  // Takes a signed checkpoint of all chain heads unless another replica is (nullopt).
  // DATA_LOSS when the chains no longer extend the latest checkpoint (see chain::Anchor::Take).
  virtual absl::StatusOr<std::optional<chain::Checkpoint>> TakeCheckpoint() = 0;
  // Checkpoints after `after_id`, oldest first, with their changed heads (for export).
  virtual absl::StatusOr<std::vector<chain::Checkpoint>> Checkpoints(int64_t after_id, int limit) = 0;
  // Open clues sharing one of `person_ids` as a subject, visible to `visible_to_unit` (nullopt:
  // all), excluding `exclude_id`.
  virtual absl::StatusOr<std::vector<StoredClue>> Duplicates(const std::vector<std::string>& person_ids,
                                                             const std::optional<std::string>& visible_to_unit,
                                                             const std::string& exclude_id) = 0;
  virtual absl::StatusOr<v1::ClueStats> Stats(const StatsQuery& q) = 0;
  // Changes whenever a change commits (the cache key of statistics).
  virtual absl::StatusOr<int64_t> StatsVersion() = 0;
  // Events after `after` whose writers have all finished, in commit-safe order.
  virtual absl::StatusOr<std::vector<FeedEvent>> Feed(const Cursor& after, int limit) = 0;

  // Directory reads (through the directory views). NOT_FOUND when absent.
  virtual absl::StatusOr<UnitInfo> Unit(const std::string& id) = 0;
  virtual absl::StatusOr<PersonInfo> Person(const std::string& id) = 0;
};

}  // namespace sm::clue
