// An in-memory clue Store for handler tests that need no PostgreSQL: the handler's own
// decisions (validation, roles, directory look-ups, what it passes the store). Writes go
// through the same pure workflow functions PgStore calls (Register, Decide, DecideMerge,
// DecideRevealRequest, DecideRevealStep, IsOverdue/Escalate), so a step refused or allowed
// here is refused or allowed there; what it does not model (hash chains, checkpoints,
// statistics by SQL) it refuses with FAILED_PRECONDITION naming itself, never a made-up
// answer. Every call is counted by name, so a test can show the store was never reached.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <tuple>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "services/clue/store.h"

namespace sm::clue::testing {

class FakeStore : public Store {
 public:
  // `clock` times the writes that take no rules' time (Merge).
  explicit FakeStore(const Clock& clock) : clock_(clock) {}

  // The directory the handler reads through Unit() and Person().
  std::map<std::string, UnitInfo> units;
  std::map<std::string, PersonInfo> persons;
  // When set, every directory read fails with it (PostgreSQL down, say).
  std::optional<absl::Status> directory_error;

  // How often each method was called ("Register", "Step", "Unit", ...).
  int Calls(const std::string& method) const;
  // The stored clues, events and reveal requests.
  std::vector<StoredClue> Clues() const;
  std::vector<chain::Event> AllEvents() const;
  // Writes (Register, Step, Merge, reveals, MarkOverdue) that reached the store.
  int Writes() const;

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
  absl::StatusOr<chain::Check> VerifyChain(const std::string& clue_id) override;
  absl::StatusOr<chain::ServiceCheck> VerifyAllChains() override;
  absl::StatusOr<std::optional<chain::Checkpoint>> TakeCheckpoint() override;
  absl::StatusOr<std::vector<chain::Checkpoint>> Checkpoints(int64_t after_id, int limit) override;
  absl::StatusOr<std::vector<StoredClue>> Duplicates(const std::vector<std::string>& person_ids,
                                                     const std::optional<std::string>& visible_to_unit,
                                                     const std::string& exclude_id) override;
  absl::StatusOr<v1::ClueStats> Stats(const StatsQuery& q) override;
  absl::StatusOr<int64_t> StatsVersion() override;
  absl::StatusOr<std::vector<FeedEvent>> Feed(const Cursor& after, int limit) override;
  absl::StatusOr<UnitInfo> Unit(const std::string& id) override;
  absl::StatusOr<PersonInfo> Person(const std::string& id) override;

 private:
  // An idempotent write: a stored reply for `key` is replayed (INVALID_ARGUMENT naming
  // request_id when the method or fingerprint differ); else `body` runs and its reply is kept.
  template <typename Reply>
  absl::StatusOr<Reply> Write(const db::Idempotency::Key& key, const std::function<absl::StatusOr<Reply>()>& body);
  void Count(const std::string& method) const;
  void Append(StoredClue& c, const Actor& actor, const v1::ClueEventPayload& e, TimePoint at);
  StoredClue Apply(Change change, const Actor& actor, TimePoint at);
  Custody CustodyLocked(const std::string& clue_id, const std::string& unit_id) const;

  const Clock& clock_;
  mutable std::mutex mu_;
  mutable std::map<std::string, int> calls_;
  int writes_ = 0;
  int64_t version_ = 1;
  int64_t next_number_ = 1;
  std::map<std::string, StoredClue> clues_;
  std::map<std::pair<std::string, std::string>, Custody> custody_;  // (clue, unit)
  std::vector<chain::Event> events_;
  std::map<std::string, v1::RevealRequest> reveals_;
  std::map<std::string, std::tuple<std::string, std::string, std::string>> replies_;  // key -> (method, fp, bytes)
};

}  // namespace sm::clue::testing
