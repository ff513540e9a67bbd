#include "tools/smctl/context.h"

#include <google/protobuf/util/json_util.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "common/status.h"

namespace sm::smctl {

std::string TokenPath() {
  if (const char* d = std::getenv("SMCTL_CONFIG_DIR"); d && *d) return std::string(d) + "/token";
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) return std::string(x) + "/smctl/token";
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.config/smctl/token";
}

Context::Context(Options opts) : opts_(std::move(opts)) {
  lang_ = opts_.lang == "en" ? Lang::kEn : Lang::kZh;
  client_config_.target = opts_.addr;
  client_config_.ca_file = opts_.ca_file;
  client_config_.cert_file = opts_.cert_file;
  client_config_.key_file = opts_.key_file;
  client_config_.server_name_override = opts_.tls_server_name;
  client_config_.default_deadline = std::chrono::milliseconds(opts_.timeout_ms);
}

std::string Context::Token() const {
  if (!opts_.token.empty()) return opts_.token;
  std::ifstream in(TokenPath());
  if (!in) return "";
  std::string token;
  std::getline(in, token);
  return token;
}

std::shared_ptr<grpc::Channel> Context::Channel(const std::string& addr) {
  client::Config c = client_config_;
  if (!addr.empty()) c.target = addr;
  auto ch = client::MakeChannel(c);
  if (!ch.ok()) {
    std::cerr << "smctl: " << ch.status().message() << "\n";
    std::exit(kExitUsage);
  }
  return *ch;
}

void Context::Prepare(grpc::ClientContext* ctx) const { client::PrepareContext(ctx, client_config_, Token()); }

int Context::FailLocal(ExitCode code, const std::string& zh, const std::string& en) const {
  std::cerr << "smctl: " << (lang_ == Lang::kZh ? zh : en) << "\n";
  return code;
}

void Context::PrintJson(const google::protobuf::Message& msg) const { std::cout << JsonOf(msg); }

std::string Context::JsonOf(const google::protobuf::Message& msg) {
  google::protobuf::util::JsonPrintOptions o;
  o.add_whitespace = true;
  o.preserve_proto_field_names = true;
  o.always_print_primitive_fields = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(msg, &out, o);
  return out;
}

Failure DescribeFailure(const grpc::Status& status, const Service& service, const Options& opts, Lang lang) {
  const std::string msg = status.error_message();
  const std::string addr = opts.*service.addr;
  const std::string zh_name = service.zh;
  const std::string en_name = service.en;
  auto say = [lang](int code, const std::string& zh, const std::string& en) {
    return Failure{code, lang == Lang::kZh ? zh : en};
  };
  switch (status.error_code()) {
    case grpc::StatusCode::UNAUTHENTICATED:
      return say(kExitAuth, "身份验证失败（" + msg + "）。请先运行 smctl login。",
                 "not authenticated (" + msg + "); run smctl login first.");
    case grpc::StatusCode::PERMISSION_DENIED: return say(kExitDenied, "无权限：" + msg, "permission denied: " + msg);
    case grpc::StatusCode::NOT_FOUND: return say(kExitNotFound, "未找到：" + msg, "not found: " + msg);
    case grpc::StatusCode::INVALID_ARGUMENT: {
      std::string text = T(lang, "输入有误：", "invalid input:");
      auto violations = FieldViolations(FromGrpcStatus(status));
      if (violations.empty()) text += "\n  " + msg;
      for (const auto& v : violations) text += "\n  " + v.field + ": " + v.description;
      return {kExitInvalid, text};
    }
    case grpc::StatusCode::UNAVAILABLE:
      return say(
          kExitUnavailable, zh_name + "服务不可用（" + addr + "）：" + msg + "。服务是否已启动？",
          (en_name.empty() ? "" : en_name + " ") + "service unavailable at " + addr + ": " + msg + ". Is it running?");
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return say(kExitUnavailable, zh_name + "服务响应超时（" + addr + "）",
                 (en_name.empty() ? "" : "the " + en_name + " ") + "service did not answer in time (" + addr + ")");
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::FAILED_PRECONDITION: return say(kExitConflict, "操作冲突：" + msg, "conflict: " + msg);
    case grpc::StatusCode::UNIMPLEMENTED:
      if (service.not_implemented_tail_en != nullptr) {
        return say(kExitError, zh_name + "服务尚未实现此操作（" + addr + "）",
                   "the " + en_name + " service at " + addr + " does not implement this operation" +
                       service.not_implemented_tail_en);
      }
      [[fallthrough]];
    default: return say(kExitError, "错误：" + msg, "error: " + msg);
  }
}

int Fail(const Context& ctx, const Service& service, const grpc::Status& status) {
  Failure f = DescribeFailure(status, service, ctx.options(), ctx.lang());
  std::cerr << "smctl: " << f.message << "\n";
  return f.code;
}

int NeedToken(const Context& ctx, const Service& service) {
  return ctx.FailLocal(
      kExitAuth, std::string("未登录：请先运行 ") + service.login_hint_zh + "，或用 --token / SMCTL_TOKEN 提供令牌。",
      "not logged in: run smctl login --dev, or pass --token / SMCTL_TOKEN.");
}

}  // namespace sm::smctl
