// What `clue verify-all` / `audit verify-all` and `clue checkpoints export` / `audit
// checkpoints export` share: the printing of a whole-service chain check, and the export of
// signed checkpoints as JSON lines (docs/smctl.md). Each service's commands make the calls.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include "supervision/v1/clue.pb.h"
#include "tools/smctl/context.h"

namespace sm::smctl {

// A VerifyAllChains / VerifyAllAuditChains answer, as printed.
struct ChainReport {
  bool intact = false;
  int64_t count = 0;  // aggregates verified
  int64_t checkpoint_id = 0;
  std::string checkpoint_problem;
  struct Broken {
    std::string id;
    int64_t seq = 0;
    std::string problem;
  };
  std::vector<Broken> broken;
};

// Prints `report` (`resp` as it came, with --output json; else a line a problem, counting
// `zh_noun` / `en_noun`). Returns kExitOk when intact, kExitError when broken.
int PrintChainReport(Context& ctx, const google::protobuf::Message& resp, const ChainReport& report,
                     const char* zh_noun, const char* en_noun);

// Every checkpoint after `after_id`, oldest first, one JSON object a line on stdout, page by
// page through `call`; an error goes through `fail` (the service's own error messages).
using ExportCall = std::function<grpc::Status(const ::supervision::v1::ExportCheckpointsRequest&,
                                              ::supervision::v1::ExportCheckpointsResponse*)>;
int ExportCheckpointLines(int64_t after_id, const ExportCall& call,
                          const std::function<int(const grpc::Status&)>& fail);

}  // namespace sm::smctl
