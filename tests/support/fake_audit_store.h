// An in-memory audit Store (services/audit/store.h) for handler tests without PostgreSQL:
// steps go through the same workflow Decide as PgStore, on rows held in maps, with the
// idempotency keys, events and outbox commands kept for the test to look at. The directory
// is two maps (a unit id in `failing_units` fails to read). Chains, checkpoints, the feed
// and statistics are not kept (UNIMPLEMENTED, or empty).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "services/audit/store.h"

namespace sm::audit::testing {

class FakeStore final : public Store {
 public:
  // The directory.
  std::map<std::string, UnitInfo> units;
  std::map<std::string, PersonInfo> people;
  std::set<std::string> failing_units;  // reading these fails (UNAVAILABLE)

  // What steps wrote.
  std::map<std::string, StoredEngagement> engagements;
  std::map<std::string, StoredFinding> findings;
  std::vector<Event> events;
  std::vector<Command> commands;
  int steps = 0;  // Step calls that reached the store
  TimePoint now;  // the "transaction's" time: created_at of new rows

  absl::StatusOr<v1::EngagementReply> Step(const EngagementStep& request, const auth::Principal& caller,
                                           StepFacts facts, const Rules& rules,
                                           const db::Idempotency::Key& key) override;
  absl::StatusOr<v1::FindingReply> Step(const FindingStep& request, const auth::Principal& caller, StepFacts facts,
                                        const Rules& rules, const db::Idempotency::Key& key) override;
  absl::StatusOr<v1::RectificationReply> Step(const RectificationStep& request, const auth::Principal& caller,
                                              StepFacts facts, const Rules& rules,
                                              const db::Idempotency::Key& key) override;

  absl::StatusOr<v1::Engagement> GetEngagement(const std::string& id) override;
  absl::StatusOr<std::vector<v1::Engagement>> ListEngagements(const v1::ListEngagementsRequest& q,
                                                              const std::optional<std::string>& visible_to,
                                                              std::optional<std::pair<int64_t, std::string>> after,
                                                              int limit) override;
  absl::StatusOr<v1::Finding> GetFinding(const std::string& id) override;
  absl::StatusOr<FindingRecord> GetFindingRecord(const std::string& id) override;
  absl::StatusOr<std::vector<v1::Finding>> ListFindings(const v1::ListFindingsRequest& q,
                                                        const std::optional<std::string>& visible_to,
                                                        std::optional<std::pair<int64_t, std::string>> after,
                                                        int limit) override;
  absl::StatusOr<v1::Rectification> GetRectification(const std::string& id) override;
  absl::StatusOr<std::vector<v1::Rectification>> ListRectifications(
      const v1::ListRectificationsRequest& q, const std::optional<std::string>& visible_to,
      std::optional<std::pair<int64_t, std::string>> after, int limit) override;
  absl::StatusOr<int> MarkOverdue(TimePoint now) override;
  absl::StatusOr<v1::AuditStats> Stats(const std::optional<std::string>&) override { return v1::AuditStats(); }
  absl::StatusOr<int64_t> StatsVersion() override { return 0; }
  absl::StatusOr<events::EventLog::History> History(const std::string& aggregate_id) override;
  absl::StatusOr<chain::Check> VerifyChain(const std::string&) override { return Unimplemented(); }
  absl::StatusOr<chain::ServiceCheck> VerifyAllChains() override { return Unimplemented(); }
  absl::StatusOr<std::optional<chain::Checkpoint>> TakeCheckpoint() override { return Unimplemented(); }
  absl::StatusOr<std::vector<chain::Checkpoint>> Checkpoints(int64_t, int) override { return Unimplemented(); }
  absl::StatusOr<std::vector<events::FeedEvent>> Feed(const events::Cursor&, int) override {
    return std::vector<events::FeedEvent>{};
  }
  absl::Status ApplyClueEvent(db::Tx&, const v1::ClueEvent&) override { return Unimplemented(); }
  absl::Status ReferralDelivered(db::Tx&, const std::string&, const v1::ClueReply&) override { return Unimplemented(); }
  absl::Status ReferralDead(db::Tx&, const std::string&, const std::string&) override { return Unimplemented(); }
  absl::StatusOr<UnitInfo> Unit(const std::string& id) override;
  absl::StatusOr<PersonInfo> Person(const std::string& id) override;

 private:
  static absl::Status Unimplemented() { return absl::UnimplementedError("not kept by the fake store"); }
  template <typename Reply>
  absl::StatusOr<Reply> Walk(const StepRequest& request, const auth::Principal& caller, StepFacts facts,
                             const Rules& rules, const db::Idempotency::Key& key);
  absl::StatusOr<Current> Load(const StepRequest& request);
  void Apply(Change& change);

  struct Stored {
    std::string method, fingerprint, reply;
  };
  std::map<std::string, Stored> replies_;  // by key
  int64_t sequence_ = 0;
};

}  // namespace sm::audit::testing
