// gRPC handlers of supervision.v1.ClueService: decode and validate, authorize (deny by
// default: a unit sees the clues it sent, holds or held; oversight sees all; dashboards
// see none of these), run the workflow step through the store, encode.
#pragma once

#include "common/clock.h"
#include "common/sealed.h"
#include "common/server.h"
#include "common/workdays.h"
#include "services/clue/config.h"
#include "services/clue/store.h"
#include "services/clue/workflow.h"
#include "supervision/v1/clue.grpc.pb.h"

namespace sm::clue {

class ClueServiceImpl final : public v1::ClueService::Service {
 public:
  // Everything passed must outlive the service.
  ClueServiceImpl(Store* store, const auth::Verifier* verifier, const crypto::Keyring* keys,
                  const workdays::Calendar* calendar, Limits limits, const Clock& clock = SystemClock::Default());

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
  grpc::Status RevealReporter(grpc::ServerContext*, const v1::RevealReporterRequest*, v1::Reporter*) override;
  grpc::Status VerifyChain(grpc::ServerContext*, const v1::VerifyChainRequest*, v1::VerifyChainResponse*) override;

 private:
  // A step on an existing clue: validation done by the caller; this authorizes, applies the
  // workflow and `edit`, sets the stage deadline and writes.
  absl::Status Step(const server::CallInfo& call, const std::string& method, const google::protobuf::Message& req,
                    const std::string& request_id, const std::string& clue_id, int64_t expected_version,
                    const std::function<absl::StatusOr<Change>(const StoredClue&, Relation)>& edit,
                    v1::ClueReply* reply);
  absl::StatusOr<StoredClue> LoadVisible(const auth::Principal& p, const std::string& clue_id);
  absl::StatusOr<bool> Visible(const auth::Principal& p, const StoredClue& c);
  Relation RelationOf(const auth::Principal& p, const StoredClue& c) const;
  void SetDeadline(v1::Clue& c, Stage stage) const;
  v1::ClueReply Render(const StoredClue& s) const;

  Store* store_;
  const crypto::Keyring* keys_;
  const workdays::Calendar* calendar_;
  Limits limits_;
  const Clock& clock_;
  server::Call call_;
};

}  // namespace sm::clue
