// PostgreSQL storage of inspection-service (SQL only): templates, inspections, findings and
// measures as documents (common/doc_table.h), rectifications in the shared table
// (common/rectification_store.h), all on one hash-chained event log.
#pragma once

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
#include "common/referral_feed.h"
#include "services/inspection/workflow.h"

namespace sm::inspection {

// Which rows a list shows a caller: all (nullopt), or those of inspections `unit` conducts
// or that target it or a unit below it (the service then decides each row).
using Visible = std::optional<std::string>;

class PgStore final : public referral::Sink {
 public:
  PgStore(db::Pool* pool, const Clock& clock);

  void SetChainKeys(chain::ServiceKeys keys) { chain_.SetKeys(std::move(keys)); }
  const chain::Guard& chain() const { return chain_; }

  // One walk per command (workflow.h): in one transaction the reply stored under `key` is
  // replayed, or the item is loaded locked, the directory facts completed, Decide rules and
  // the change is written (each document once with its chain head, its events) and
  // committed. NOT_FOUND when the item does not exist; Decide's refusals as they are.
  // Reply: the step's reply message (TemplateReply, InspectionReply, InspectionFindingReply,
  // MeasureReply, RectificationReply).
  template <typename Reply>
  absl::StatusOr<Reply> Step(const StepRequest& request, const auth::Principal& caller, StepFacts facts,
                             const Rules& rules, const db::Idempotency::Key& key);

  // NOT_FOUND when absent. `version` 0: the latest.
  absl::StatusOr<v1::ChecklistTemplate> GetTemplate(const std::string& code, int version);
  // The latest version of each template (without aspects), by code.
  absl::StatusOr<std::vector<v1::ChecklistTemplate>> ListTemplates(const std::optional<std::string>& after_code,
                                                                   int limit);

  absl::StatusOr<v1::Inspection> GetInspection(const std::string& id);
  absl::StatusOr<std::vector<v1::Inspection>> ListInspections(const v1::ListInspectionsRequest& q,
                                                              const Visible& visible,
                                                              const std::optional<paging::TimeId>& after, int limit);
  // A finding with its inspection.
  struct FindingRecord {
    v1::InspectionFinding finding;
    v1::Inspection inspection;
  };
  absl::StatusOr<FindingRecord> GetFinding(const std::string& id);
  absl::StatusOr<std::vector<FindingRecord>> ListFindings(const v1::ListInspectionFindingsRequest& q,
                                                          const Visible& visible,
                                                          const std::optional<paging::TimeId>& after, int limit);
  struct MeasureRecord {
    v1::Measure measure;
    v1::Inspection inspection;
  };
  absl::StatusOr<MeasureRecord> GetMeasure(const std::string& id);
  absl::StatusOr<std::vector<MeasureRecord>> ListMeasures(const v1::ListMeasuresRequest& q, const Visible& visible,
                                                          const std::optional<paging::TimeId>& after, int limit);
  struct RectificationRecord {
    v1::Rectification rectification;
    FindingRecord finding;
  };
  absl::StatusOr<RectificationRecord> GetRectification(const std::string& id);
  absl::StatusOr<std::vector<RectificationRecord>> ListRectifications(const v1::ListRectificationsRequest& q,
                                                                      const Visible& visible,
                                                                      const std::optional<paging::TimeId>& after,
                                                                      int limit);
  absl::StatusOr<v1::AccountabilityCheck> GetCheck(const std::string& id);

  // Which kind of aggregate `id` is ("template", "inspection", "finding", "measure",
  // "check"); NOT_FOUND when none.
  absl::StatusOr<std::string> KindOf(const std::string& id);
  absl::StatusOr<std::vector<v1::AccountabilityCheck>> ListChecks(const v1::ListAccountabilityChecksRequest& q,
                                                                  const std::optional<paging::TimeId>& after,
                                                                  int limit);

  // referral::Sink: the relay's outcomes of a referral command ("finding:<id>" or
  // "check:<id>"), and each clue event in the consumer's transaction: a referred clue's
  // progress followed onto its finding or check, and a concluded violation's accountability
  // checks opened (一案双查, exactly once per clue: their ids come from the clue).
  absl::Status Delivered(db::Tx& tx, const std::string& kind, const std::string& item,
                         const v1::ClueReply& reply) override;
  absl::Status Dead(db::Tx& tx, const std::string& kind, const std::string& item, const std::string& error) override;
  absl::Status ApplyClueEvent(db::Tx& tx, const v1::ClueEvent& ev) override;
  // The rules the consumer opens checks with (the service's calendar and deadlines).
  void SetRules(std::function<Rules()> rules) { rules_ = std::move(rules); }

  // Marks open rectifications past their deadline as overdue (advisory lock; one scanner).
  absl::StatusOr<int> MarkOverdue(TimePoint now);

  // Figures over the inspections `unit_id` conducts or that target it or a unit below it
  // (nullopt: all).
  absl::StatusOr<v1::InspectionStats> Stats(const std::optional<std::string>& unit_id);
  absl::StatusOr<int64_t> StatsVersion() { return stats_version_.Read(); }

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

  // Directory look-ups (kept in memory per directory generation). NOT_FOUND when absent.
  absl::StatusOr<UnitInfo> Unit(const std::string& id) { return directory_.Unit(id); }
  absl::StatusOr<PersonInfo> Person(const std::string& id) { return directory_.Person(id); }

 private:
  absl::StatusOr<Current> LoadFor(db::Tx& tx, const StepRequest& r) const;
  std::optional<StoredFinding> LoadFinding(db::Tx& tx, const std::string& id, bool lock) const;
  // A finding with its inspection, in the caller's transaction. NOT_FOUND.
  absl::StatusOr<FindingRecord> FindingIn(db::Tx& tx, const std::string& id) const;
  absl::Status Write(db::Tx& tx, Change& c, const events::Actor& actor, int64_t at_us) const;
  std::string FindingDigest(const StoredFinding& f) const;
  std::map<std::string, chain::Evidence> Evidence(db::Tx& tx, const std::optional<std::string>& id) const;
  absl::Status OpenChecks(db::Tx& tx, Violation v);
  // The item of a referral command, locked, as the change of `apply`; nothing when gone.
  template <typename Apply>
  absl::Status OnReferred(db::Tx& tx, const std::string& kind, const std::string& item, Apply apply,
                          const std::string& actor);

  db::Pool* pool_;
  DirectoryReader directory_{pool_};
  const Clock& clock_;
  db::Idempotency idempotency_{"inspection"};
  db::StatsVersion stats_version_{pool_};
  events::EventLog log_{"inspection_events", "aggregate_id", "inspection_chains", "inspection_events",
                        /*versioned=*/true};
  docs::DocTable<v1::ChecklistTemplate> templates_;
  docs::DocTable<v1::Inspection> inspections_;
  docs::DocTable<v1::InspectionFinding> findings_;
  docs::DocTable<v1::Measure> measures_;
  docs::DocTable<v1::AccountabilityCheck> checks_;
  std::function<Rules()> rules_;
  chain::Guard chain_;
};

}  // namespace sm::inspection
