#include "tools/smctl/chain_commands.h"

#include <iostream>

#include <google/protobuf/util/json_util.h>

namespace sm::smctl {

int PrintChainVerify(const Context& ctx, const ::supervision::v1::VerifyChainResponse& resp) {
  if (ctx.json()) {
    ctx.PrintJson(resp);
    return resp.intact() ? kExitOk : kExitError;
  }
  const Lang l = ctx.lang();
  if (resp.intact()) {
    std::cout << T(l, "完整", "intact") << T(l, "（共 ", " (") << resp.events() << T(l, " 个事件）", " events)")
              << "\n";
    return kExitOk;
  }
  std::cout << T(l, "已损坏：第 ", "broken at event ") << resp.first_broken_seq() << T(l, " 号事件：", ": ")
            << resp.problem() << T(l, "（共 ", " (") << resp.events() << T(l, " 个事件）", " events)") << "\n";
  return kExitError;
}

int PrintChainReport(Context& ctx, const google::protobuf::Message& resp, const ChainReport& r, const char* zh_noun,
                     const char* en_noun) {
  const int rc = r.intact ? kExitOk : kExitError;
  if (ctx.json()) {
    ctx.PrintJson(resp);
    return rc;
  }
  const Lang l = ctx.lang();
  std::cout << (r.intact ? T(l, "完整", "intact") : T(l, "已损坏", "broken")) << T(l, "（共 ", " (") << r.count << " "
            << T(l, zh_noun, en_noun) << T(l, "，检查点 ", ", checkpoint ") << r.checkpoint_id << T(l, "）", ")")
            << "\n";
  if (!r.checkpoint_problem.empty()) std::cout << T(l, "检查点：", "checkpoint: ") << r.checkpoint_problem << "\n";
  for (const auto& b : r.broken) {
    std::cout << b.id << T(l, " 第 ", " at event ") << b.seq << T(l, " 号事件：", ": ") << b.problem << "\n";
  }
  return rc;
}

int ExportCheckpointLines(int64_t after_id, const ExportCall& call,
                          const std::function<int(const grpc::Status&)>& fail) {
  constexpr int kPage = 500;
  google::protobuf::util::JsonPrintOptions one_line;
  one_line.preserve_proto_field_names = true;
  for (int64_t after = after_id;;) {
    ::supervision::v1::ExportCheckpointsRequest req;
    req.set_after_id(after);
    req.set_limit(kPage);
    ::supervision::v1::ExportCheckpointsResponse resp;
    grpc::Status st = call(req, &resp);
    if (!st.ok()) return fail(st);
    for (const auto& c : resp.checkpoints()) {
      std::string line;
      if (!google::protobuf::util::MessageToJsonString(c, &line, one_line).ok()) return kExitError;
      std::cout << line << "\n";
      after = c.id();
    }
    if (resp.checkpoints_size() < kPage) return kExitOk;
  }
}

}  // namespace sm::smctl
