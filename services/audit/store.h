// Storage interface of audit-service; pg_store.h is its PostgreSQL implementation.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <absl/status/statusor.h>
#include <nlohmann/json.hpp>

#include "common/chain_anchor.h"
#include "common/directory_reader.h"
#include "common/clock.h"
#include "common/db/idempotency.h"
#include "common/event_log.h"
#include "services/audit/workflow.h"
#include "supervision/v1/audit.pb.h"
#include "supervision/v1/clue.pb.h"

namespace sm::audit {

namespace v1 = ::supervision::v1;
using events::Actor;

using UnitInfo = sm::UnitInfo;
using PersonInfo = sm::PersonInfo;

class Store {
 public:
  virtual ~Store() = default;

  // One walk per command (workflow.h): in one transaction, the reply stored under `key` is
  // replayed, or the step's item is loaded FOR UPDATE with what its rules need (directory
  // reads in the same transaction; one that fails refuses the step), workflow Decide rules,
  // and the change is written (each row once with its chain head, its events, its outbox
  // command) and committed. Errors: NOT_FOUND when the item does not exist; Decide's
  // refusals as they are; INVALID_ARGUMENT naming request_id for a key reused with other
  // parameters.
  virtual absl::StatusOr<v1::EngagementReply> Step(const EngagementStep& request, const auth::Principal& caller,
                                                   StepFacts facts, const Rules& rules,
                                                   const db::Idempotency::Key& key) = 0;
  virtual absl::StatusOr<v1::FindingReply> Step(const FindingStep& request, const auth::Principal& caller,
                                                StepFacts facts, const Rules& rules,
                                                const db::Idempotency::Key& key) = 0;
  virtual absl::StatusOr<v1::RectificationReply> Step(const RectificationStep& request, const auth::Principal& caller,
                                                      StepFacts facts, const Rules& rules,
                                                      const db::Idempotency::Key& key) = 0;

  virtual absl::StatusOr<v1::Engagement> GetEngagement(const std::string& id) = 0;
  // The list queries narrow to `visible_to` (a unit) when set: engagements it conducts or is
  // audited in; findings of its engagements, for which it is responsible, that were
  // referred to it or of which it owns a rectification; rectifications it owns or of such
  // findings. A superset: the service decides each row by the access table.
  virtual absl::StatusOr<std::vector<v1::Engagement>> ListEngagements(
      const v1::ListEngagementsRequest& q, const std::optional<std::string>& visible_to,
      std::optional<std::pair<int64_t, std::string>> after, int limit) = 0;

  virtual absl::StatusOr<v1::Finding> GetFinding(const std::string& id) = 0;
  // A finding with its engagement and rectifications, in one statement. NOT_FOUND.
  virtual absl::StatusOr<FindingRecord> GetFindingRecord(const std::string& id) = 0;
  virtual absl::StatusOr<std::vector<v1::Finding>> ListFindings(const v1::ListFindingsRequest& q,
                                                                const std::optional<std::string>& visible_to,
                                                                std::optional<std::pair<int64_t, std::string>> after,
                                                                int limit) = 0;

  // A rectification as stored (rectification_store.h). NOT_FOUND.
  virtual absl::StatusOr<v1::Rectification> GetRectification(const std::string& id) = 0;
  // A page of rectifications in the order created_at, id: those after `after`, at most
  // `limit` (rectification::List).
  virtual absl::StatusOr<std::vector<v1::Rectification>> ListRectifications(
      const v1::ListRectificationsRequest& q, const std::optional<std::string>& visible_to,
      std::optional<std::pair<int64_t, std::string>> after, int limit) = 0;
  // Marks open rectifications past their deadline as overdue (advisory lock; one scanner).
  virtual absl::StatusOr<int> MarkOverdue(TimePoint now) = 0;

  virtual absl::StatusOr<v1::AuditStats> Stats(const std::optional<std::string>& unit_id) = 0;
  virtual absl::StatusOr<int64_t> StatsVersion() = 0;

  virtual absl::StatusOr<events::EventLog::History> History(const std::string& aggregate_id) = 0;

  // Tamper evidence (docs/audit.md § Tamper evidence). The engagement's or finding's chain,
  // its row against the state its last event committed to, and its prefix against the latest
  // checkpoint. NOT_FOUND when it is absent and no checkpoint had it.
  virtual absl::StatusOr<chain::Check> VerifyChain(const std::string& aggregate_id) = 0;
  // Every chain, and the latest checkpoint's signature, count and Merkle root.
  virtual absl::StatusOr<chain::ServiceCheck> VerifyAllChains() = 0;
  // Takes a signed checkpoint of all chain heads unless another replica is (nullopt).
  // DATA_LOSS when the chains no longer extend the latest checkpoint (chain::Anchor::Take).
  virtual absl::StatusOr<std::optional<chain::Checkpoint>> TakeCheckpoint() = 0;
  // Checkpoints after `after_id`, oldest first, with their changed heads (for export).
  virtual absl::StatusOr<std::vector<chain::Checkpoint>> Checkpoints(int64_t after_id, int limit) = 0;
  virtual absl::StatusOr<std::vector<events::FeedEvent>> Feed(const events::Cursor& after, int limit) = 0;

  // Applies one clue event in the consumer's transaction: links and updates the referred
  // finding it concerns, if any.
  virtual absl::Status ApplyClueEvent(db::Tx& tx, const v1::ClueEvent& ev) = 0;
  // Outbox outcomes of a referral (in the relay's transaction).
  virtual absl::Status ReferralDelivered(db::Tx& tx, const std::string& finding_id, const v1::ClueReply& reply) = 0;
  virtual absl::Status ReferralDead(db::Tx& tx, const std::string& finding_id, const std::string& error) = 0;

  virtual absl::StatusOr<UnitInfo> Unit(const std::string& id) = 0;
  // Directory look-ups (kept in memory per directory generation). NOT_FOUND when absent.
  virtual absl::StatusOr<PersonInfo> Person(const std::string& id) = 0;
};

}  // namespace sm::audit
