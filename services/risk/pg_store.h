// PostgreSQL storage of risk-service (SQL only): risk points, campaigns, risk items, talks and
// person scores as documents (common/doc_table.h) on one hash-chained event log; the
// screenings of each campaign; the signals scores are computed from; the three feeds'
// appliers (clue, audit, inspection), each event in the consumer's transaction.
#pragma once

#include <functional>
#include <map>
#include <optional>

#include "common/chain_guard.h"
#include "common/db/idempotency.h"
#include "common/db/pool.h"
#include "common/db/stats_version.h"
#include "common/directory_reader.h"
#include "common/doc_table.h"
#include "common/event_log.h"
#include "common/paging.h"
#include "common/sealed.h"
#include "services/risk/workflow.h"
#include "supervision/v1/audit.pb.h"
#include "supervision/v1/clue.pb.h"
#include "supervision/v1/inspection.pb.h"

namespace sm::risk {

// A list narrowed to the units at or below `unit` (nullopt: all); the service then decides
// each row by the caller's access to it.
using Visible = std::optional<std::string>;

class PgStore {
 public:
  PgStore(db::Pool* pool, const Clock& clock, const crypto::Keyring* keys, const Rules* rules);

  void SetChainKeys(chain::ServiceKeys keys) { chain_.SetKeys(std::move(keys)); }
  const chain::Guard& chain() const { return chain_; }
  const Rules& rules() const { return *rules_; }

  // One walk: in one transaction the reply stored under `key` is replayed, or `decide` runs
  // on what `load` read (locked) and its change is written — documents, screening, events and
  // the signals it adds with the person's new score — and `fill` builds the reply.
  template <typename Reply>
  using Decide = std::function<absl::StatusOr<Change>(db::Tx& tx, StepFacts& facts)>;
  template <typename Reply>
  absl::StatusOr<Reply> Step(const auth::Principal& caller, StepFacts facts, const db::Idempotency::Key& key,
                             const Decide<Reply>& decide, const std::function<void(const Change&, Reply*)>& fill);

  // Locked loads and facts for the steps (in the step's transaction).
  std::optional<Stored<v1::RiskPoint>> LoadPoint(db::Tx& tx, const std::string& id, bool lock) const {
    return points_.Load(tx, id, lock);
  }
  std::optional<Stored<v1::ScreeningCampaign>> LoadCampaign(db::Tx& tx, const std::string& id, bool lock) const {
    return campaigns_.Load(tx, id, lock);
  }
  std::optional<Stored<v1::RiskItem>> LoadItem(db::Tx& tx, const std::string& id, bool lock) const {
    return items_.Load(tx, id, lock);
  }
  bool Screened(db::Tx& tx, const std::string& campaign_id, const std::string& person_id) const;
  // Whether `unit` is at or below one of `scope`.
  bool InScope(db::Tx& tx, const std::string& unit, const google::protobuf::RepeatedPtrField<std::string>& scope) const;
  std::optional<std::string> PostName(db::Tx& tx, const std::string& post_id) const;
  std::string NextItemNumber(db::Tx& tx, int64_t now_us) const;
  // The subject facts of `person_id` (or of `unit_id` alone): the person and their unit.
  absl::Status SubjectFacts(db::Tx* tx, const std::string& person_id, const std::string& unit_id, StepFacts& f);
  // The responsible leaders of the subject's unit (for a new item's default leader).
  absl::Status LeaderFacts(StepFacts& f);
  // The caller's facts (their unit, whom a political department serves, leader or not).
  absl::StatusOr<CallerFacts> CallerOf(const auth::Principal& p);

  // ---- reads ----
  absl::StatusOr<v1::RiskPoint> GetPoint(const std::string& id);
  absl::StatusOr<std::vector<v1::RiskPoint>> ListPoints(const v1::ListRiskPointsRequest& q,
                                                        const std::optional<paging::TimeId>& after, int limit);
  absl::StatusOr<v1::ScreeningCampaign> GetCampaign(const std::string& id);  // with its progress
  absl::StatusOr<std::vector<v1::ScreeningCampaign>> ListCampaigns(const v1::ListCampaignsRequest& q,
                                                                   const std::optional<paging::TimeId>& after,
                                                                   int limit);
  // Active people of the campaign's scope (or of `unit` within it) not screened yet, by badge.
  absl::StatusOr<std::pair<std::vector<v1::UnscreenedPerson>, int64_t>> Unscreened(
      const v1::ScreeningCampaign& c, const std::string& unit, const std::optional<std::string>& after_badge,
      int limit);
  absl::StatusOr<v1::RiskItem> GetItem(const std::string& id);
  absl::StatusOr<std::vector<v1::RiskItem>> ListItems(const v1::ListRiskItemsRequest& q, const Visible& visible,
                                                      const std::optional<paging::TimeId>& after, int limit);
  // A talk with its summary opened (the service decides whether to show it).
  absl::StatusOr<v1::TalkRecord> GetTalk(const std::string& id);
  absl::StatusOr<std::vector<v1::TalkRecord>> ListTalks(const v1::ListTalksRequest& q, const Visible& visible,
                                                        const std::optional<paging::TimeId>& after, int limit);
  // The person's score recomputed now from their signals, with the explanation (a person
  // without signals scores 0).
  absl::StatusOr<v1::PersonScore> Score(const std::string& person_id);
  absl::StatusOr<std::vector<v1::PersonScore>> ListScores(const v1::ListScoresRequest& q, const Visible& visible,
                                                          const std::optional<std::pair<double, std::string>>& after,
                                                          int limit);
  absl::StatusOr<std::vector<v1::UnitScore>> UnitScores(const Visible& visible, int limit);
  absl::StatusOr<v1::RiskStats> Stats(const Visible& visible);
  absl::StatusOr<int64_t> StatsVersion() { return stats_version_.Read(); }
  // After a feed's event committed: scores moved and items may have opened.
  void StatsChanged() { stats_version_.Changed(); }
  // Everything in this service about a person (items, talks), newest first.
  absl::StatusOr<std::pair<std::vector<v1::RiskItem>, std::vector<v1::TalkRecord>>> PersonRecords(
      const std::string& person_id, int limit);

  // ---- the feeds (each call in the consumer's transaction) ----
  absl::Status ApplyClueEvent(db::Tx& tx, const v1::ClueEvent& ev);
  absl::Status ApplyAuditEvent(db::Tx& tx, const v1::AuditEvent& ev);
  absl::Status ApplyInspectionEvent(db::Tx& tx, const v1::InspectionEvent& ev);

  // Escalates overdue mitigations (advisory lock; one scanner).
  absl::StatusOr<int> MarkOverdue(TimePoint now);

  absl::StatusOr<events::EventLog::History> History(const std::string& aggregate_id) {
    return log_.Read(*pool_, aggregate_id);
  }
  absl::StatusOr<chain::Check> VerifyChain(const std::string& id) { return chain_.Verify(id); }
  absl::StatusOr<chain::ServiceCheck> VerifyAllChains() { return chain_.VerifyAll(); }
  absl::StatusOr<std::optional<chain::Checkpoint>> TakeCheckpoint() { return chain_.Take(); }
  absl::StatusOr<std::vector<chain::Checkpoint>> Checkpoints(int64_t after_id, int limit) {
    return chain_.List(after_id, limit);
  }
  absl::StatusOr<std::vector<events::FeedEvent>> Feed(const events::Cursor& after, int limit) {
    return log_.Feed(*pool_, after, limit);
  }
  absl::StatusOr<UnitInfo> Unit(const std::string& id) { return directory_.Unit(id); }
  absl::StatusOr<PersonInfo> Person(const std::string& id) { return directory_.Person(id); }

 private:
  absl::Status Write(db::Tx& tx, Change& c, const events::Actor& actor, int64_t at_us);
  // Adds a signal about a person (once, by its key) and, when it is new, moves the person's
  // score (and opens the crossing's item), written as a change of its own.
  absl::Status AddSignal(db::Tx& tx, const PersonSignal& signal, const events::Actor& actor, int64_t at_us);
  // The person's unit from the directory ("" when unknown) and the signals for them.
  absl::Status SignalPeople(db::Tx& tx, const std::vector<std::string>& people, const std::string& key_prefix,
                            const Signal& s, int64_t at_us);
  std::map<std::string, chain::Evidence> Evidence(db::Tx& tx, const std::optional<std::string>& id) const;
  std::string Seal(const std::string& talk_id, const std::string& summary) const;
  absl::StatusOr<std::string> Open(const std::string& talk_id, const std::string& sealed) const;
  void OpenSummary(v1::TalkRecord& t) const;
  std::vector<Signal> SignalsOf(db::Tx& tx, const std::string& person_id) const;

  db::Pool* pool_;
  DirectoryReader directory_{pool_};
  const Clock& clock_;
  const crypto::Keyring* keys_;
  const Rules* rules_;
  db::Idempotency idempotency_{"risk"};
  db::StatsVersion stats_version_{pool_};
  events::EventLog log_{"risk_events", "aggregate_id", "risk_chains", "risk_events", /*versioned=*/true};
  docs::DocTable<v1::RiskPoint> points_;
  docs::DocTable<v1::ScreeningCampaign> campaigns_;
  docs::DocTable<v1::RiskItem> items_;
  docs::DocTable<v1::TalkRecord> talks_;
  docs::DocTable<v1::PersonScore> scores_;
  chain::Guard chain_;
};

}  // namespace sm::risk
