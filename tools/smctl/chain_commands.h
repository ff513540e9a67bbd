// What the hash-chain commands of clue and audit share: `verify` of one chain, `verify-all`
// of a whole service, and `checkpoints export` of its signed checkpoints as JSON lines
// (docs/smctl.md). Each service's commands make the calls.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include "supervision/v1/clue.pb.h"
#include "tools/smctl/command.h"

namespace sm::smctl {

// A VerifyChain answer (one chain): "完整（共 N 个事件）", or the first broken event.
// Returns kExitOk when intact, kExitError when broken (with -o json too).
int PrintChainVerify(const Context& ctx, const ::supervision::v1::VerifyChainResponse& resp);

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

struct CheckpointsArgs {
  int64_t after = 0;  // --after: only checkpoints after this id
};

// Adds `verify-all` and `checkpoints export [--after ID]` (oversight) to `service`.
template <typename C>
void AddChainCommands(CLI::App* service, Commands& commands, int (*verify_all)(C&, const NoArgs&),
                      int (*export_checkpoints)(C&, const CheckpointsArgs&)) {
  commands.Add(service, "verify-all",
               "校验全部哈希链与检查点 verify every chain against the signed checkpoint (oversight)", verify_all);
  CLI::App* checkpoints = AddGroup(service, "checkpoints", "哈希链检查点 chain checkpoints (oversight)");
  auto [cmd, a] = commands.Add(checkpoints, "export", "导出检查点（每行一个JSON） export checkpoints as JSON lines",
                               export_checkpoints);
  cmd->add_option("--after", a->after, "从该编号之后 after this checkpoint id (default 0: all)");
}

}  // namespace sm::smctl
