// smctl: the command-line client of Supervision Mesh: the global options, then each area's
// commands (directory_commands.cc, clue_*.cc, audit_*.cc, inspection_*.cc, risk_*.cc; see command.h for their shape).
// Speaks Chinese by default; --lang en or SMCTL_LANG=en for English.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

#include "tools/smctl/audit_commands.h"
#include "tools/smctl/clue_commands.h"
#include "tools/smctl/directory_commands.h"
#include "tools/smctl/inspection_commands.h"
#include "tools/smctl/risk_commands.h"

namespace {

std::string Env(const char* name, const std::string& def) {
  const char* v = std::getenv(name);
  return v && *v ? v : def;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sm::smctl;
  CLI::App app{"smctl — Supervision Mesh 命令行工具 (command-line client)"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand too
  Options opts;
  opts.addr = Env("SMCTL_ADDR", "127.0.0.1:7101");
  opts.clue_addr = Env("SMCTL_CLUE_ADDR", "127.0.0.1:7102");
  opts.audit_addr = Env("SMCTL_AUDIT_ADDR", "127.0.0.1:7103");
  opts.inspection_addr = Env("SMCTL_INSPECTION_ADDR", "127.0.0.1:7104");
  opts.risk_addr = Env("SMCTL_RISK_ADDR", "127.0.0.1:7105");
  opts.token = Env("SMCTL_TOKEN", "");
  opts.lang = Env("SMCTL_LANG", "zh");
  opts.ca_file = Env("SMCTL_CA_FILE", "");
  opts.cert_file = Env("SMCTL_CERT_FILE", "");
  opts.key_file = Env("SMCTL_KEY_FILE", "");
  opts.tls_server_name = Env("SMCTL_TLS_SERVER_NAME", "");
  app.add_option("--addr", opts.addr, "服务地址 service address host:port (SMCTL_ADDR)");
  app.add_option("--clue-addr", opts.clue_addr, "线索服务地址 clue service address host:port (SMCTL_CLUE_ADDR)");
  app.add_option("--audit-addr", opts.audit_addr, "审计服务地址 audit service address host:port (SMCTL_AUDIT_ADDR)");
  app.add_option("--inspection-addr", opts.inspection_addr,
                 "督察服务地址 inspection service address host:port (SMCTL_INSPECTION_ADDR)");
  app.add_option("--risk-addr", opts.risk_addr, "风险排查服务地址 risk service address host:port (SMCTL_RISK_ADDR)");
  app.add_option("--token", opts.token, "访问令牌 bearer token (SMCTL_TOKEN)");
  app.add_option("-o,--output", opts.output, "输出格式 output: table|json")->check(CLI::IsMember({"table", "json"}));
  app.add_option("--lang", opts.lang, "语言 language: zh|en (SMCTL_LANG)")->check(CLI::IsMember({"zh", "en"}));
  app.add_option("--timeout-ms", opts.timeout_ms, "每次调用的超时 per-call deadline (ms)")
      ->check(CLI::Range(100, 600000));
  app.add_option("--ca-file", opts.ca_file, "TLS: 服务证书的 CA CA of the services' certificates (SMCTL_CA_FILE)");
  app.add_option("--cert-file", opts.cert_file, "双向TLS客户端证书 mutual TLS client certificate (SMCTL_CERT_FILE)");
  app.add_option("--key-file", opts.key_file, "客户端证书私钥 its private key (SMCTL_KEY_FILE)");
  app.add_option("--tls-server-name", opts.tls_server_name,
                 "要验证的服务器名 server name to verify, when not the address's host (SMCTL_TLS_SERVER_NAME)");

  Commands commands;
  AddDirectoryCommands(app, commands);
  AddClueCommands(app, commands);
  AddAuditCommands(app, commands);
  AddInspectionCommands(app, commands);
  AddRiskCommands(app, commands);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  Context ctx(opts);
  return commands.Run(ctx);
}
