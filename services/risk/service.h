// gRPC handlers of supervision.v1.RiskService: decode and validate (each bad field named),
// learn who the caller is from the directory, run the step through the store (workflow.h
// decides), encode. Reads decide each row by the caller's access (workflow.h: AccessTo).
// service.cc: the steps; read_service.cc: the reads, statistics, chains and the feed;
// person_file.cc: the personnel file, asked of the other services with the caller's token.
#pragma once

#include <memory>

#include "common/clock.h"
#include "common/event_hub.h"
#include "common/overdue_scanner.h"
#include "common/pg_listen.h"
#include "common/redis.h"
#include "common/server.h"
#include "common/workdays.h"
#include "services/risk/pg_store.h"
#include "supervision/v1/audit.grpc.pb.h"
#include "supervision/v1/clue.grpc.pb.h"
#include "supervision/v1/inspection.grpc.pb.h"
#include "supervision/v1/risk.grpc.pb.h"

namespace sm::risk {

// The services the person file asks (null channels: that part is reported missing).
struct FileSources {
  std::shared_ptr<grpc::Channel> clue, audit, inspection;
  std::chrono::milliseconds deadline{2000};
  int entries_per_part = 1000;
};

class RiskServiceImpl final : public v1::RiskService::Service {
 public:
  RiskServiceImpl(PgStore* store, const auth::Verifier* verifier, const workdays::Calendar* calendar,
                  FileSources sources, const Clock& clock = SystemClock::Default(), redis::Client* redis = nullptr,
                  db::Listener* listener = nullptr, events::HubOptions streams = {});

  grpc::Status PutRiskPoint(grpc::ServerContext*, const v1::PutRiskPointRequest*, v1::RiskPointReply*) override;
  grpc::Status GetRiskPoint(grpc::ServerContext*, const v1::GetRiskPointRequest*, v1::RiskPoint*) override;
  grpc::Status ListRiskPoints(grpc::ServerContext*, const v1::ListRiskPointsRequest*,
                              v1::ListRiskPointsResponse*) override;
  grpc::Status CreateCampaign(grpc::ServerContext*, const v1::CreateCampaignRequest*, v1::CampaignReply*) override;
  grpc::Status CloseCampaign(grpc::ServerContext*, const v1::CloseCampaignRequest*, v1::CampaignReply*) override;
  grpc::Status GetCampaign(grpc::ServerContext*, const v1::GetCampaignRequest*, v1::ScreeningCampaign*) override;
  grpc::Status ListCampaigns(grpc::ServerContext*, const v1::ListCampaignsRequest*,
                             v1::ListCampaignsResponse*) override;
  grpc::Status RecordScreening(grpc::ServerContext*, const v1::RecordScreeningRequest*, v1::ScreeningReply*) override;
  grpc::Status ListUnscreened(grpc::ServerContext*, const v1::ListUnscreenedRequest*,
                              v1::ListUnscreenedResponse*) override;
  grpc::Status OpenRiskItem(grpc::ServerContext*, const v1::OpenRiskItemRequest*, v1::RiskItemReply*) override;
  grpc::Status AddMitigation(grpc::ServerContext*, const v1::AddMitigationRequest*, v1::RiskItemReply*) override;
  grpc::Status CompleteMitigation(grpc::ServerContext*, const v1::CompleteMitigationRequest*,
                                  v1::RiskItemReply*) override;
  grpc::Status ResolveRiskItem(grpc::ServerContext*, const v1::ResolveRiskItemRequest*, v1::RiskItemReply*) override;
  grpc::Status GetRiskItem(grpc::ServerContext*, const v1::GetRiskItemRequest*, v1::RiskItem*) override;
  grpc::Status ListRiskItems(grpc::ServerContext*, const v1::ListRiskItemsRequest*,
                             v1::ListRiskItemsResponse*) override;
  grpc::Status RecordTalk(grpc::ServerContext*, const v1::RecordTalkRequest*, v1::TalkReply*) override;
  grpc::Status GetTalk(grpc::ServerContext*, const v1::GetTalkRequest*, v1::TalkRecord*) override;
  grpc::Status ListTalks(grpc::ServerContext*, const v1::ListTalksRequest*, v1::ListTalksResponse*) override;
  grpc::Status GetPersonFile(grpc::ServerContext*, const v1::GetPersonFileRequest*, v1::PersonFile*) override;
  grpc::Status GetPersonScore(grpc::ServerContext*, const v1::GetPersonScoreRequest*, v1::PersonScore*) override;
  grpc::Status ListScores(grpc::ServerContext*, const v1::ListScoresRequest*, v1::ListScoresResponse*) override;
  grpc::Status GetRiskStats(grpc::ServerContext*, const v1::GetRiskStatsRequest*, v1::RiskStats*) override;
  grpc::Status GetRiskHistory(grpc::ServerContext*, const v1::GetRiskHistoryRequest*,
                              v1::GetRiskHistoryResponse*) override;
  grpc::Status VerifyRiskChain(grpc::ServerContext*, const v1::VerifyRiskChainRequest*,
                               v1::VerifyChainResponse*) override;
  grpc::Status VerifyAllRiskChains(grpc::ServerContext*, const v1::VerifyAllChainsRequest*,
                                   v1::VerifyAllRiskChainsResponse*) override;
  grpc::Status ExportRiskCheckpoints(grpc::ServerContext*, const v1::ExportCheckpointsRequest*,
                                     v1::ExportCheckpointsResponse*) override;
  grpc::Status Subscribe(grpc::ServerContext*, const v1::SubscribeRequest*,
                         grpc::ServerWriter<v1::RiskEvent>*) override;

 private:
  template <typename Reply>
  absl::Status Step(const server::CallInfo& call, const google::protobuf::Message& req, const std::string& request_id,
                    std::string_view method, StepFacts facts, const PgStore::Decide<Reply>& decide,
                    const std::function<void(const Change&, Reply*)>& fill, Reply* reply);
  // The caller's access to a person's (or unit's) records; NOT_FOUND-free: kNone when the
  // directory does not have them.
  absl::StatusOr<Access> AccessOf(const auth::Principal& p, const CallerFacts& c, const std::string& person_id,
                                  const std::string& unit_id);
  // The units a caller's lists cover (nullopt: all); PERMISSION_DENIED for roles that list
  // nothing.
  absl::StatusOr<Visible> VisibleTo(const auth::Principal& p, const CallerFacts& c, std::string_view method);
  // A talk as the caller may see it: the summary only with full access.
  static void ShowTalk(v1::TalkRecord& t, Access a);
  // The person file's parts from the other services (person_file.cc).
  void AskServices(grpc::ServerContext* ctx, const std::string& person_id, v1::PersonFile* file);

  PgStore* store_;
  const workdays::Calendar* calendar_;
  FileSources sources_;
  const Clock& clock_;
  redis::Cache stats_cache_;
  server::Call call_;
  events::FeedHub feed_hub_;
  std::unique_ptr<v1::ClueService::Stub> clue_;
  std::unique_ptr<v1::AuditService::Stub> audit_;
  std::unique_ptr<v1::InspectionService::Stub> inspection_;
};

// Escalates overdue mitigations (common/overdue_scanner.h).
using OverdueScanner = sm::OverdueScanner<PgStore>;

}  // namespace sm::risk
