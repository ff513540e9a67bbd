// PostgreSQL implementation of the audit Store (SQL only).
#pragma once

#include <map>
#include <optional>

#include "common/chain_guard.h"
#include "common/db/idempotency.h"
#include "common/db/pool.h"
#include "common/db/stats_version.h"
#include "services/audit/store.h"

namespace sm::audit {

class PgStore final : public Store {
 public:
  PgStore(db::Pool* pool, const Clock& clock, std::function<std::string()> new_id);

  // Before serving; without keys checkpoints are neither taken nor trusted.
  void SetChainKeys(chain::ServiceKeys keys) { chain_.SetKeys(std::move(keys)); }
  // The tamper evidence of the engagement and finding chains (tests verify inside their own
  // transactions).
  const chain::Guard& chain() const { return chain_; }

  absl::StatusOr<chain::Check> VerifyChain(const std::string& aggregate_id) override {
    return chain_.Verify(aggregate_id);
  }
  absl::StatusOr<chain::ServiceCheck> VerifyAllChains() override { return chain_.VerifyAll(); }
  absl::StatusOr<std::optional<chain::Checkpoint>> TakeCheckpoint() override { return chain_.Take(); }
  absl::StatusOr<std::vector<chain::Checkpoint>> Checkpoints(int64_t after_id, int limit) override {
    return chain_.List(after_id, limit);
  }

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
  absl::StatusOr<v1::AuditStats> Stats(const std::optional<std::string>& unit_id) override;
  absl::StatusOr<int64_t> StatsVersion() override;
  absl::StatusOr<events::EventLog::History> History(const std::string& aggregate_id) override;
  absl::StatusOr<std::vector<events::FeedEvent>> Feed(const events::Cursor& after, int limit) override;
  absl::Status ApplyClueEvent(db::Tx& tx, const v1::ClueEvent& ev) override;
  absl::Status ReferralDelivered(db::Tx& tx, const std::string& finding_id, const v1::ClueReply& reply) override;
  absl::Status ReferralDead(db::Tx& tx, const std::string& finding_id, const std::string& error) override;
  absl::StatusOr<UnitInfo> Unit(const std::string& id) override;
  absl::StatusOr<PersonInfo> Person(const std::string& id) override;

 private:
  // One walk (Store::Step) giving `Reply`.
  template <typename Reply>
  absl::StatusOr<Reply> Walk(const StepRequest& request, const auth::Principal& caller, StepFacts facts,
                             const Rules& rules, const db::Idempotency::Key& key);
  // Writes a decided change: the outbox command, each row once with its new chain head, and
  // the events, each committing to its aggregate's row as the change leaves it (at
  // `at_micros`). FAILED_PRECONDITION when a retried command is not parked as dead.
  absl::Status Write(db::Tx& tx, Change& change, const Actor& actor, int64_t at_micros);
  // Links a finding to the clue its referral became, from either path (the relay's reply or
  // the clue's "registered" event): "clue_linked" the first time, "referral_delivered" when
  // a later arrival changes something, nothing when it changes nothing.
  absl::Status LinkReferral(db::Tx& tx, const std::string& finding_id, const std::string& clue_id,
                            const std::string& clue_number, supervision::v1::ClueState clue_state, const Actor& actor);
  // Each aggregate's head and state digest as stored (`id`: that one; nullopt: all), by id.
  struct ChainRow {
    bool engagement = false;   // else a finding
    chain::Evidence evidence;  // without events
  };
  std::map<std::string, ChainRow> ChainRows(db::Tx& tx, const std::optional<std::string>& id) const;
  // An aggregate's tamper evidence as stored; nullopt when it does not exist.
  absl::StatusOr<std::optional<chain::Evidence>> ChainEvidence(db::Tx& tx, const std::string& id) const;
  void Changed();

  db::Pool* pool_;
  DirectoryReader directory_{pool_};  // units and people, kept per directory generation
  const Clock& clock_;
  std::function<std::string()> new_id_;
  db::Idempotency idempotency_{"audit"};
  db::StatsVersion stats_version_{pool_};
  events::EventLog engagement_log_{"audit_events", "aggregate_id", "engagements", "audit_events", /*versioned=*/true};
  events::EventLog finding_log_{"audit_events", "aggregate_id", "findings", "audit_events", /*versioned=*/true};
  chain::Guard chain_;
};

}  // namespace sm::audit
