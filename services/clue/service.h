// gRPC handlers of supervision.v1.ClueService: decode and validate, authorize (deny by
// default: a unit sees the clues it sent, holds or held; oversight sees all; dashboards
// see none of these), run the workflow step through the store, encode.
#pragma once

#include "common/clock.h"
#include "common/event_hub.h"
#include "common/overdue_scanner.h"
#include "common/periodic.h"
#include "common/refreshed.h"
#include "common/pg_listen.h"
#include "common/redis.h"
#include "common/sealed.h"
#include "common/server.h"
#include "common/workdays.h"
#include "common/worker_pool.h"
#include "services/clue/config.h"
#include "services/clue/store.h"
#include "services/clue/workflow.h"
#include "supervision/v1/clue.grpc.pb.h"

namespace sm::clue {

// GetClueStats, answered from a cache nearly always, is served raw on the callback API (no
// handler thread per call; a hit sends the cached bytes as they are); every other method on
// the sync API.
class ClueServiceImpl final : public v1::ClueService::WithRawCallbackMethod_GetClueStats<v1::ClueService::Service> {
 public:
  // Everything passed must outlive the service.
  // `redis` (statistics cache) and `listener` (Subscribe wake-ups) may be null. `streams`
  // bounds Subscribe streams per caller and in all.
  ClueServiceImpl(Store* store, const auth::Verifier* verifier, const crypto::Keyring* keys,
                  const workdays::Calendar* calendar, Limits limits, const Clock& clock = SystemClock::Default(),
                  redis::Client* redis = nullptr, db::Listener* listener = nullptr, RevealPolicy reveal = {},
                  events::HubOptions streams = {});

  // The shared reader of the event feed behind Subscribe (its counts are for tests).
  const events::FeedHub& feed_hub() const { return feed_hub_; }

  grpc::Status RegisterClue(grpc::ServerContext*, const v1::RegisterClueRequest*, v1::ClueReply*) override;
  grpc::Status TransferClue(grpc::ServerContext*, const v1::TransferClueRequest*, v1::ClueReply*) override;
  grpc::Status AcceptClue(grpc::ServerContext*, const v1::AcceptClueRequest*, v1::ClueReply*) override;
  grpc::Status ReturnClue(grpc::ServerContext*, const v1::ReturnClueRequest*, v1::ClueReply*) override;
  grpc::Status AssignHandler(grpc::ServerContext*, const v1::AssignHandlerRequest*, v1::ClueReply*) override;
  grpc::Status DisposeClue(grpc::ServerContext*, const v1::DisposeClueRequest*, v1::ClueReply*) override;
  grpc::Status ConcludeClue(grpc::ServerContext*, const v1::ConcludeClueRequest*, v1::ClueReply*) override;
  grpc::Status GetClue(grpc::ServerContext*, const v1::GetClueRequest*, v1::Clue*) override;
  grpc::Status ListClues(grpc::ServerContext*, const v1::ListCluesRequest*, v1::ListCluesResponse*) override;
  grpc::Status GetClueHistory(grpc::ServerContext*, const v1::GetClueHistoryRequest*,
                              v1::GetClueHistoryResponse*) override;
  grpc::Status ExtendDeadline(grpc::ServerContext*, const v1::ExtendDeadlineRequest*, v1::ClueReply*) override;
  grpc::Status AddNote(grpc::ServerContext*, const v1::AddNoteRequest*, v1::ClueReply*) override;
  grpc::Status MergeClues(grpc::ServerContext*, const v1::MergeCluesRequest*, v1::ClueReply*) override;
  grpc::Status ListDuplicates(grpc::ServerContext*, const v1::ListDuplicatesRequest*, v1::ListCluesResponse*) override;
  grpc::Status MarkIntervention(grpc::ServerContext*, const v1::MarkInterventionRequest*, v1::ClueReply*) override;
  grpc::ServerUnaryReactor* GetClueStats(grpc::CallbackServerContext*, const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;
  grpc::Status Subscribe(grpc::ServerContext*, const v1::SubscribeRequest*,
                         grpc::ServerWriter<v1::ClueEvent>*) override;
  grpc::Status RequestReveal(grpc::ServerContext*, const v1::RequestRevealRequest*, v1::RevealRequestReply*) override;
  grpc::Status DecideReveal(grpc::ServerContext*, const v1::DecideRevealRequest*, v1::RevealRequestReply*) override;
  grpc::Status RevealReporter(grpc::ServerContext*, const v1::RevealReporterRequest*,
                              v1::RevealReporterResponse*) override;
  grpc::Status GetRevealRequest(grpc::ServerContext*, const v1::GetRevealRequestRequest*, v1::RevealRequest*) override;
  grpc::Status ListRevealRequests(grpc::ServerContext*, const v1::ListRevealRequestsRequest*,
                                  v1::ListRevealRequestsResponse*) override;
  grpc::Status VerifyChain(grpc::ServerContext*, const v1::VerifyChainRequest*, v1::VerifyChainResponse*) override;
  grpc::Status VerifyAllChains(grpc::ServerContext*, const v1::VerifyAllChainsRequest*,
                               v1::VerifyAllChainsResponse*) override;
  grpc::Status ExportCheckpoints(grpc::ServerContext*, const v1::ExportCheckpointsRequest*,
                                 v1::ExportCheckpointsResponse*) override;

 private:
  // A step's call: the role (case staff) is checked before the request is read, then `body`
  // decodes, validates and calls Step.
  template <typename Body>
  grpc::Status StepCall(grpc::ServerContext* ctx, const char* method, Body&& body);
  // A step on an existing clue (validation done by the caller, inside StepCall): the
  // store loads, workflow Decide rules and the store writes, in one transaction. `req` is
  // fingerprinted for the idempotency key; `facts` carries what the handler read.
  absl::Status Step(const server::CallInfo& call, const google::protobuf::Message& req, StepRequest step,
                    StepFacts facts, v1::ClueReply* reply);
  Rules RulesNow() const;
  // Loads a clue the caller may see (NOT_FOUND otherwise) and says in what standing.
  absl::StatusOr<StoredClue> LoadVisible(const auth::Principal& p, const std::string& clue_id,
                                         Standing* standing = nullptr);
  absl::StatusOr<Standing> StandingFor(const auth::Principal& p, const StoredClue& c);
  RevealRules RevealRulesNow() const { return RevealRules{clock_.Now(), reveal_}; }
  // The reporter sealed for `clue_id` (the rules were checked by the step that allowed it).
  // DATA_LOSS when the sealed value does not open.
  absl::StatusOr<v1::Reporter> OpenReporter(const std::string& clue_id, const std::string& sealed) const;
  // `r` as the caller sees it: an approved request past its window shows as EXPIRED.
  void ShowRevealState(v1::RevealRequest& r) const;

  Store* store_;
  const crypto::Keyring* keys_;
  const workdays::Calendar* calendar_;
  Limits limits_;
  const Clock& clock_;
  RevealPolicy reveal_;
  // The statistics version, refreshed every 100 ms by a background thread and read on the
  // caller's path only at start and after a change made here: a cache hit costs no
  // PostgreSQL round trip and never waits on one (GetClueStats runs on gRPC's callback
  // threads), even while PostgreSQL is unreachable; a change elsewhere shows within ~100 ms.
  absl::StatusOr<int64_t> StatsVersion();
  void ForgetStatsVersion() { stats_version_.Forget(); }

  redis::Cache stats_cache_;
  server::Call call_;
  Refreshed<int64_t> stats_version_{std::chrono::milliseconds(100)};
  // Subscribe streams share one reader of the feed.
  events::FeedHub feed_hub_;
  // Statistics that are not held in memory are computed here, off gRPC's callback threads:
  // two at a time (each is one PostgreSQL query), a few more waiting, the rest refused.
  WorkerPool stats_workers_{"clue_stats", 2, 16};
  Periodic stats_version_refresher_;  // last: stops before the rest goes
};

// The deadline scanner: marks overdue clues and escalates (督办) each to the unit above the
// one holding it (common/overdue_scanner.h).
using OverdueScanner = sm::OverdueScanner<Store>;

}  // namespace sm::clue
