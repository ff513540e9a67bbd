// Storage interface of audit-service; pg_store.h is its PostgreSQL implementation.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <absl/status/statusor.h>
#include <nlohmann/json.hpp>

#include "common/chain_anchor.h"
#include "common/directory_reader.h"
#include "common/clock.h"
#include "common/event_log.h"
#include "supervision/v1/audit.pb.h"
#include "supervision/v1/clue.pb.h"

namespace sm::audit {

namespace v1 = ::supervision::v1;
using events::Actor;

// An event a change records, on the aggregate (engagement or finding) it belongs to.
struct Event {
  std::string aggregate_id;
  std::string type;
  nlohmann::json data = nlohmann::json::object();
};

// A referral command to put in the outbox with the change.
struct Command {
  std::string kind;
  std::string dedupe_key;
  std::string payload;
  bool retry = false;  // send a command parked as dead again (outbox::Requeue), payload unused
};

template <typename Row>
struct Change {
  Row after;
  std::vector<Event> events;
  std::optional<Command> command;
};

struct Mutation {
  std::string request_id;
  std::string method;
  std::string fingerprint;
  int64_t expected_version = 0;  // 0: not checked
  Actor actor;
};

using UnitInfo = sm::UnitInfo;

class Store {
 public:
  virtual ~Store() = default;

  virtual absl::StatusOr<v1::EngagementReply> CreateEngagement(const v1::Engagement& e, const Mutation& m) = 0;
  virtual absl::StatusOr<v1::EngagementReply> MutateEngagement(
      const std::string& id, const Mutation& m,
      const std::function<absl::StatusOr<Change<v1::Engagement>>(const v1::Engagement&)>& apply) = 0;
  virtual absl::StatusOr<v1::Engagement> GetEngagement(const std::string& id) = 0;
  // The list queries narrow to `visible_to` (a unit) when set: engagements it conducts or is
  // audited in; findings of its engagements, for which it is responsible, that were
  // referred to it or of which it owns a rectification; rectifications it owns or of such
  // findings. A superset: the service decides each row by the access table.
  virtual absl::StatusOr<std::vector<v1::Engagement>> ListEngagements(const v1::ListEngagementsRequest& q,
                                                                      const std::optional<std::string>& visible_to,
                                                                      std::optional<std::pair<int64_t, std::string>> after,
                                                                      int limit) = 0;

  // Adds the finding; flags it as recurring when an earlier engagement found the same
  // category at the same responsible unit.
  virtual absl::StatusOr<v1::FindingReply> AddFinding(const v1::Finding& f, const Mutation& m) = 0;
  virtual absl::StatusOr<v1::FindingReply> MutateFinding(
      const std::string& id, const Mutation& m,
      const std::function<absl::StatusOr<Change<v1::Finding>>(const v1::Finding&)>& apply) = 0;
  virtual absl::StatusOr<v1::Finding> GetFinding(const std::string& id) = 0;
  virtual absl::StatusOr<std::vector<v1::Finding>> ListFindings(const v1::ListFindingsRequest& q,
                                                                const std::optional<std::string>& visible_to,
                                                                std::optional<std::pair<int64_t, std::string>> after,
                                                                int limit) = 0;

  virtual absl::StatusOr<v1::RectificationReply> AddRectification(const v1::Rectification& r, const Mutation& m) = 0;
  virtual absl::StatusOr<v1::RectificationReply> MutateRectification(
      const std::string& id, const Mutation& m,
      const std::function<absl::StatusOr<Change<v1::Rectification>>(const v1::Rectification&)>& apply) = 0;
  virtual absl::StatusOr<v1::Rectification> GetRectification(const std::string& id) = 0;
  virtual absl::StatusOr<std::vector<v1::Rectification>> ListRectifications(const v1::ListRectificationsRequest& q,
                                                                            const std::optional<std::string>& visible_to) = 0;
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
  virtual absl::StatusOr<bool> PersonExists(const std::string& id) = 0;
};

}  // namespace sm::audit
