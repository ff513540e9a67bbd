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

void Context::Prepare(grpc::ClientContext* ctx) const {
  client::PrepareContext(ctx, client_config_, Token());
}

int Context::FailLocal(ExitCode code, const std::string& zh, const std::string& en) const {
  std::cerr << "smctl: " << (lang_ == Lang::kZh ? zh : en) << "\n";
  return code;
}

int Context::Fail(const grpc::Status& status) const {
  const std::string msg = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::UNAUTHENTICATED:
      return FailLocal(kExitAuth, "身份验证失败（" + msg + "）。请先运行 smctl login。",
                       "not authenticated (" + msg + "); run smctl login first.");
    case grpc::StatusCode::PERMISSION_DENIED:
      return FailLocal(kExitDenied, "无权限：" + msg, "permission denied: " + msg);
    case grpc::StatusCode::NOT_FOUND:
      return FailLocal(kExitNotFound, "未找到：" + msg, "not found: " + msg);
    case grpc::StatusCode::INVALID_ARGUMENT: {
      auto violations = FieldViolations(FromGrpcStatus(status));
      std::cerr << "smctl: " << T(lang_, "输入有误：", "invalid input:") << "\n";
      if (violations.empty()) std::cerr << "  " << msg << "\n";
      for (const auto& v : violations) std::cerr << "  " << v.field << ": " << v.description << "\n";
      return kExitInvalid;
    }
    case grpc::StatusCode::UNAVAILABLE:
      return FailLocal(kExitUnavailable,
                       "服务不可用（" + opts_.addr + "）：" + msg + "。服务是否已启动？",
                       "service unavailable at " + opts_.addr + ": " + msg + ". Is it running?");
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return FailLocal(kExitUnavailable, "服务响应超时（" + opts_.addr + "）",
                       "service did not answer in time (" + opts_.addr + ")");
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::FAILED_PRECONDITION:
      return FailLocal(kExitConflict, "操作冲突：" + msg, "conflict: " + msg);
    default:
      return FailLocal(kExitError, "错误：" + msg, "error: " + msg);
  }
}

void Context::PrintJson(const google::protobuf::Message& msg) const {
  google::protobuf::util::JsonPrintOptions o;
  o.add_whitespace = true;
  o.preserve_proto_field_names = true;
  o.always_print_primitive_fields = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(msg, &out, o);
  std::cout << out;
}

}  // namespace sm::smctl
