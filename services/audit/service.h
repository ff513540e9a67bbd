// gRPC handlers of supervision.v1.AuditService: decode and validate, authorize through the
// one access table (access.h, docs/audit.md "Access"), run the step through the store,
// encode.
#pragma once

#include "common/clock.h"
#include "common/event_hub.h"
#include "common/overdue_scanner.h"
#include "common/periodic.h"
#include "common/outbox.h"
#include "common/pg_listen.h"
#include "common/redis.h"
#include "common/refreshed.h"
#include "common/server.h"
#include "common/workdays.h"
#include "common/worker_pool.h"
#include "services/audit/access.h"
#include "services/audit/config.h"
#include "services/audit/store.h"
#include "services/audit/workflow.h"
#include "supervision/v1/audit.grpc.pb.h"
#include "supervision/v1/clue.grpc.pb.h"

namespace sm::audit {

// GetAuditStats, answered from memory nearly always, is served on the callback API (no
// handler thread per call); every other method on the sync API.
class AuditServiceImpl final : public v1::AuditService::WithCallbackMethod_GetAuditStats<v1::AuditService::Service> {
 public:
  // `redis` (statistics cache) and `listener` (Subscribe wake-ups) may be null. `streams`
  // bounds Subscribe streams per caller and in all.
  AuditServiceImpl(Store* store, const auth::Verifier* verifier, const workdays::Calendar* calendar, Policy policy,
                   const Clock& clock = SystemClock::Default(), redis::Client* redis = nullptr,
                   db::Listener* listener = nullptr, events::HubOptions streams = {});

  // The shared reader of the event feed behind Subscribe (its counts are for tests).
  const events::FeedHub& feed_hub() const { return feed_hub_; }

  grpc::Status CreateEngagement(grpc::ServerContext*, const v1::CreateEngagementRequest*,
                                v1::EngagementReply*) override;
  grpc::Status AdvanceEngagement(grpc::ServerContext*, const v1::AdvanceEngagementRequest*,
                                 v1::EngagementReply*) override;
  grpc::Status GetEngagement(grpc::ServerContext*, const v1::GetEngagementRequest*, v1::Engagement*) override;
  grpc::Status ListEngagements(grpc::ServerContext*, const v1::ListEngagementsRequest*,
                               v1::ListEngagementsResponse*) override;
  grpc::Status AddFinding(grpc::ServerContext*, const v1::AddFindingRequest*, v1::FindingReply*) override;
  grpc::Status GetFinding(grpc::ServerContext*, const v1::GetFindingRequest*, v1::Finding*) override;
  grpc::Status ListFindings(grpc::ServerContext*, const v1::ListFindingsRequest*, v1::ListFindingsResponse*) override;
  grpc::Status ReferFinding(grpc::ServerContext*, const v1::ReferFindingRequest*, v1::FindingReply*) override;
  grpc::Status RetryReferral(grpc::ServerContext*, const v1::RetryReferralRequest*, v1::FindingReply*) override;
  grpc::Status AddRectification(grpc::ServerContext*, const v1::AddRectificationRequest*,
                                v1::RectificationReply*) override;
  grpc::Status RecordProgress(grpc::ServerContext*, const v1::RecordProgressRequest*, v1::RectificationReply*) override;
  grpc::Status SubmitRectification(grpc::ServerContext*, const v1::SubmitRectificationRequest*,
                                   v1::RectificationReply*) override;
  grpc::Status ReviewRectification(grpc::ServerContext*, const v1::ReviewRectificationRequest*,
                                   v1::RectificationReply*) override;
  grpc::Status ReopenRectification(grpc::ServerContext*, const v1::ReopenRectificationRequest*,
                                   v1::RectificationReply*) override;
  grpc::Status ListRectifications(grpc::ServerContext*, const v1::ListRectificationsRequest*,
                                  v1::ListRectificationsResponse*) override;
  grpc::Status GetRectification(grpc::ServerContext*, const v1::GetRectificationRequest*, v1::Rectification*) override;
  grpc::ServerUnaryReactor* GetAuditStats(grpc::CallbackServerContext*, const v1::GetAuditStatsRequest*,
                                          v1::AuditStats*) override;
  grpc::Status GetAuditHistory(grpc::ServerContext*, const v1::GetAuditHistoryRequest*,
                               v1::GetAuditHistoryResponse*) override;
  grpc::Status VerifyAuditChain(grpc::ServerContext*, const v1::VerifyAuditChainRequest*,
                                v1::VerifyChainResponse*) override;
  grpc::Status VerifyAllAuditChains(grpc::ServerContext*, const v1::VerifyAllChainsRequest*,
                                    v1::VerifyAllAuditChainsResponse*) override;
  grpc::Status ExportAuditCheckpoints(grpc::ServerContext*, const v1::ExportCheckpointsRequest*,
                                      v1::ExportCheckpointsResponse*) override;
  grpc::Status Subscribe(grpc::ServerContext*, const v1::SubscribeRequest*,
                         grpc::ServerWriter<v1::AuditEvent>*) override;

 private:
  // Authorization: every handler goes through these and the access table (access.h).
  // Refuses with PERMISSION_DENIED unless some role of the caller is granted something on
  // `rpc` (before any item is read, so the answer says nothing about items). Logged.
  absl::Status Gate(const auth::Principal& p, access::Rpc rpc) const;
  // The caller's outcome on an item they stand in `rel` to: kAllow or kRedacted, or
  // NOT_FOUND ("<what> not found") / PERMISSION_DENIED, logged without content.
  absl::StatusOr<access::Outcome> Authorize(const auth::Principal& p, access::Rpc rpc, const access::Relations& rel,
                                            std::string_view what) const;
  // Logs a refusal (NOT_FOUND or PERMISSION_DENIED; other codes are not refusals).
  void Refused(const auth::Principal& p, access::Rpc rpc, const absl::Status& s) const;
  // Where `units` sit in the directory (unknown ones are absent). Errors: a failed read.
  absl::StatusOr<access::Ancestry> AncestryOf(const std::vector<std::string>& units);
  absl::StatusOr<access::Relations> ToEngagement(const std::string& unit, const v1::Engagement& e);
  // How `unit` stands to the rectification `x`, through its finding (read once per finding
  // into `findings`). Errors: a failed read.
  absl::StatusOr<access::Relations> ToRectification(const std::string& unit, const v1::Rectification& x,
                                                    std::map<std::string, FindingRecord>& findings);
  // The facts a step's rules read before its transaction: a new id, and the unit and the
  // person the request names ("": none). Errors: a failed directory read (refuses the step).
  absl::StatusOr<StepFacts> FactsOf(const std::string& unit_id, const std::string& person_id);
  // One walk (store.h Step): the step `req`, validated, with the facts read before it; the
  // key is the caller's request_id, the method and the request's fingerprint.
  template <typename Request, typename Reply>
  absl::Status Step(const server::CallInfo& call, const Request& req, StepFacts facts, Reply* reply);
  // A step on an existing rectification (progress, submit, review, reopen): the gate, the
  // shared field checks (rectification_request.h), then Step.
  template <typename Request>
  grpc::Status RectificationStep(grpc::ServerContext* ctx, const Request& req, v1::RectificationReply* reply);

  // A finding and the caller's relations to it. Errors: NOT_FOUND.
  struct FindingView {
    v1::Finding finding;
    access::Relations relations;
  };
  absl::StatusOr<FindingView> LoadFinding(const std::string& unit, const std::string& id);
  // LoadFinding, then Authorize: NOT_FOUND ("finding not found") or PERMISSION_DENIED.
  absl::StatusOr<FindingView> AuthorizedFinding(const auth::Principal& p, access::Rpc rpc, const std::string& id);
  // The aggregate an id names (a finding or an engagement: the event chains) and the
  // caller's relations to it. Errors: NOT_FOUND.
  struct Aggregate {
    bool finding = false;
    access::Relations relations;
  };
  absl::StatusOr<Aggregate> LoadAggregate(const std::string& unit, const std::string& id);
  // GetAuditStats: the scope the caller may ask for (an empty unit becomes the caller's own
  // scope unless they may see all units). PERMISSION_DENIED outside it.
  absl::Status ScopeStats(const auth::Principal& p, const v1::GetAuditStatsRequest& req,
                          v1::GetAuditStatsRequest* scoped);

  Store* store_;
  const workdays::Calendar* calendar_;
  Policy policy_;
  const Clock& clock_;
  redis::Cache stats_cache_;
  server::Call call_;
  // The statistics version, as in clue-service: refreshed every 100 ms in the background,
  // read on the caller's path only at start and after a change made here (Forget()), so a
  // held answer costs no PostgreSQL round trip and answers while PostgreSQL is down.
  Refreshed<int64_t> stats_version_{std::chrono::milliseconds(100)};
  // Subscribe streams share one reader of the feed.
  events::FeedHub feed_hub_;
  // Statistics not held in memory are computed here, off gRPC's callback threads.
  WorkerPool stats_workers_{"audit_stats", 2, 16};
  Periodic stats_version_refresher_;  // last: stops before the rest goes
};

// Marks overdue rectifications and escalates them (common/overdue_scanner.h).
using OverdueScanner = sm::OverdueScanner<Store>;

}  // namespace sm::audit
