// gRPC handlers of supervision.v1.InspectionService: decode and validate (each bad field
// named), gate by role, run the step through the store (workflow.h decides), encode; reads
// decide each row by the caller's view of it (workflow.h: InspectionView, MaySee*).
#pragma once

#include "common/clock.h"
#include "common/event_hub.h"
#include "common/overdue_scanner.h"
#include "common/periodic.h"
#include "common/pg_listen.h"
#include "common/redis.h"
#include "common/refreshed.h"
#include "common/server.h"
#include "common/workdays.h"
#include "common/worker_pool.h"
#include "services/inspection/pg_store.h"
#include "supervision/v1/inspection.grpc.pb.h"

namespace sm::inspection {

class InspectionServiceImpl final : public v1::InspectionService::Service {
 public:
  InspectionServiceImpl(PgStore* store, const auth::Verifier* verifier, const workdays::Calendar* calendar,
                        Policy policy, const Clock& clock = SystemClock::Default(), redis::Client* redis = nullptr,
                        db::Listener* listener = nullptr, events::HubOptions streams = {});

  grpc::Status PublishTemplate(grpc::ServerContext*, const v1::PublishTemplateRequest*, v1::TemplateReply*) override;
  grpc::Status GetTemplate(grpc::ServerContext*, const v1::GetTemplateRequest*, v1::ChecklistTemplate*) override;
  grpc::Status ListTemplates(grpc::ServerContext*, const v1::ListTemplatesRequest*,
                             v1::ListTemplatesResponse*) override;
  grpc::Status CreateInspection(grpc::ServerContext*, const v1::CreateInspectionRequest*,
                                v1::InspectionReply*) override;
  grpc::Status AdvanceInspection(grpc::ServerContext*, const v1::AdvanceInspectionRequest*,
                                 v1::InspectionReply*) override;
  grpc::Status MarkItem(grpc::ServerContext*, const v1::MarkItemRequest*, v1::InspectionReply*) override;
  grpc::Status GetInspection(grpc::ServerContext*, const v1::GetInspectionRequest*, v1::Inspection*) override;
  grpc::Status ListInspections(grpc::ServerContext*, const v1::ListInspectionsRequest*,
                               v1::ListInspectionsResponse*) override;
  grpc::Status AddFinding(grpc::ServerContext*, const v1::AddInspectionFindingRequest*,
                          v1::InspectionFindingReply*) override;
  grpc::Status GetFinding(grpc::ServerContext*, const v1::GetInspectionFindingRequest*,
                          v1::InspectionFinding*) override;
  grpc::Status ListFindings(grpc::ServerContext*, const v1::ListInspectionFindingsRequest*,
                            v1::ListInspectionFindingsResponse*) override;
  grpc::Status ImposeMeasure(grpc::ServerContext*, const v1::ImposeMeasureRequest*, v1::MeasureReply*) override;
  grpc::Status ApproveMeasure(grpc::ServerContext*, const v1::ApproveMeasureRequest*, v1::MeasureReply*) override;
  grpc::Status LiftMeasure(grpc::ServerContext*, const v1::LiftMeasureRequest*, v1::MeasureReply*) override;
  grpc::Status ReturnWithheld(grpc::ServerContext*, const v1::ReturnWithheldRequest*, v1::MeasureReply*) override;
  grpc::Status GetMeasure(grpc::ServerContext*, const v1::GetMeasureRequest*, v1::Measure*) override;
  grpc::Status ListMeasures(grpc::ServerContext*, const v1::ListMeasuresRequest*, v1::ListMeasuresResponse*) override;
  grpc::Status AddRectification(grpc::ServerContext*, const v1::AddRectificationRequest*,
                                v1::RectificationReply*) override;
  grpc::Status RecordProgress(grpc::ServerContext*, const v1::RecordProgressRequest*, v1::RectificationReply*) override;
  grpc::Status SubmitRectification(grpc::ServerContext*, const v1::SubmitRectificationRequest*,
                                   v1::RectificationReply*) override;
  grpc::Status ReviewRectification(grpc::ServerContext*, const v1::ReviewRectificationRequest*,
                                   v1::RectificationReply*) override;
  grpc::Status ReopenRectification(grpc::ServerContext*, const v1::ReopenRectificationRequest*,
                                   v1::RectificationReply*) override;
  grpc::Status GetRectification(grpc::ServerContext*, const v1::GetRectificationRequest*, v1::Rectification*) override;
  grpc::Status ListRectifications(grpc::ServerContext*, const v1::ListRectificationsRequest*,
                                  v1::ListRectificationsResponse*) override;
  grpc::Status ReferFinding(grpc::ServerContext*, const v1::ReferFindingRequest*, v1::InspectionFindingReply*) override;
  grpc::Status RetryReferral(grpc::ServerContext*, const v1::RetryReferralRequest*,
                             v1::InspectionFindingReply*) override;
  grpc::Status GetAccountabilityCheck(grpc::ServerContext*, const v1::GetAccountabilityCheckRequest*,
                                      v1::AccountabilityCheck*) override;
  grpc::Status ListAccountabilityChecks(grpc::ServerContext*, const v1::ListAccountabilityChecksRequest*,
                                        v1::ListAccountabilityChecksResponse*) override;
  grpc::Status AssignAccountabilityCheck(grpc::ServerContext*, const v1::AssignAccountabilityCheckRequest*,
                                         v1::AccountabilityCheckReply*) override;
  grpc::Status ConcludeAccountabilityCheck(grpc::ServerContext*, const v1::ConcludeAccountabilityCheckRequest*,
                                           v1::AccountabilityCheckReply*) override;
  grpc::Status GetInspectionStats(grpc::ServerContext*, const v1::GetInspectionStatsRequest*,
                                  v1::InspectionStats*) override;
  grpc::Status GetInspectionHistory(grpc::ServerContext*, const v1::GetInspectionHistoryRequest*,
                                    v1::GetInspectionHistoryResponse*) override;
  grpc::Status VerifyInspectionChain(grpc::ServerContext*, const v1::VerifyInspectionChainRequest*,
                                     v1::VerifyChainResponse*) override;
  grpc::Status VerifyAllInspectionChains(grpc::ServerContext*, const v1::VerifyAllChainsRequest*,
                                         v1::VerifyAllInspectionChainsResponse*) override;
  grpc::Status ExportInspectionCheckpoints(grpc::ServerContext*, const v1::ExportCheckpointsRequest*,
                                           v1::ExportCheckpointsResponse*) override;
  grpc::Status Subscribe(grpc::ServerContext*, const v1::SubscribeRequest*,
                         grpc::ServerWriter<v1::InspectionEvent>*) override;

 private:
  template <typename Request, typename Reply>
  absl::Status Step(const server::CallInfo& call, const Request& req, StepFacts facts, Reply* reply);
  // Directory facts a step names, read before its transaction (kept in memory).
  absl::Status AddUnit(StepFacts& f, const std::string& id);
  absl::Status AddPerson(StepFacts& f, const std::string& id);
  absl::StatusOr<Ancestry> AncestryOf(const std::vector<std::string>& units);
  // The caller's view of an inspection (NOT_FOUND "<what> not found" when none).
  absl::StatusOr<View> ViewOf(const auth::Principal& p, const v1::Inspection& in, const std::string& what);
  // Lists narrow to the caller's unit unless they see everything (oversight).
  static Visible VisibleTo(const auth::Principal& p);
  // Stats: the unit the caller may see figures of.
  absl::StatusOr<std::optional<std::string>> StatsScope(const auth::Principal& p, const std::string& asked);

  PgStore* store_;
  const workdays::Calendar* calendar_;
  Policy policy_;
  const Clock& clock_;
  redis::Cache stats_cache_;
  server::Call call_;
  events::FeedHub feed_hub_;
};

// Marks overdue rectifications (common/overdue_scanner.h).
using OverdueScanner = sm::OverdueScanner<PgStore>;

}  // namespace sm::inspection
