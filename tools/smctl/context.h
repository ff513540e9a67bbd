// What every smctl command shares: global options, the stored token, the channel, and
// the mapping from errors to plain messages and exit codes that scripts can rely on.
#pragma once

#include <memory>
#include <string>

#include <absl/status/status.h>
#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include "common/client.h"
#include "tools/smctl/output.h"

namespace sm::smctl {

// Exit codes (documented in docs/smctl.md).
enum ExitCode {
  kExitOk = 0,
  kExitError = 1,        // anything else
  kExitUsage = 2,        // bad command line
  kExitAuth = 3,         // not logged in, or the token was refused (UNAUTHENTICATED)
  kExitDenied = 4,       // PERMISSION_DENIED
  kExitNotFound = 5,     // NOT_FOUND
  kExitInvalid = 6,      // INVALID_ARGUMENT, or a bad input file
  kExitUnavailable = 7,  // service down or too slow (UNAVAILABLE, DEADLINE_EXCEEDED)
  kExitConflict = 8,     // ABORTED, ALREADY_EXISTS, FAILED_PRECONDITION
};

struct Options {
  std::string addr;              // --addr, SMCTL_ADDR, default 127.0.0.1:7101
  std::string clue_addr;         // --clue-addr, SMCTL_CLUE_ADDR, default 127.0.0.1:7102
  std::string audit_addr;        // --audit-addr, SMCTL_AUDIT_ADDR, default 127.0.0.1:7103
  std::string inspection_addr;   // --inspection-addr, SMCTL_INSPECTION_ADDR, default 127.0.0.1:7104
  std::string risk_addr;         // --risk-addr, SMCTL_RISK_ADDR, default 127.0.0.1:7105
  std::string token;             // --token, SMCTL_TOKEN, else the stored token
  std::string output = "table";  // table | json
  std::string lang = "zh";       // zh | en (--lang, SMCTL_LANG)
  int timeout_ms = 10000;
  std::string ca_file;          // TLS: CA of the services (--ca-file, SMCTL_CA_FILE)
  std::string cert_file;        // mutual TLS: client certificate (--cert-file, SMCTL_CERT_FILE)
  std::string key_file;         // and its key (--key-file, SMCTL_KEY_FILE)
  std::string tls_server_name;  // name to verify when not the address's host
};

class Context {
 public:
  explicit Context(Options opts);

  Lang lang() const { return lang_; }
  bool json() const { return opts_.output == "json"; }
  const Options& options() const { return opts_; }

  // The token to send, or "" when there is none (the caller reports kExitAuth).
  std::string Token() const;
  // A channel to `addr` (defaults to --addr).
  std::shared_ptr<grpc::Channel> Channel(const std::string& addr = "");
  // A channel to the clue service (--clue-addr).
  std::shared_ptr<grpc::Channel> ClueChannel() { return Channel(opts_.clue_addr); }
  // A channel to the audit service (--audit-addr).
  std::shared_ptr<grpc::Channel> AuditChannel() { return Channel(opts_.audit_addr); }
  // Prepares a call context: deadline, token, request and trace ids.
  void Prepare(grpc::ClientContext* ctx) const;

  // Prints "smctl: " and the message in the chosen language on stderr; returns `code`.
  int FailLocal(ExitCode code, const std::string& zh, const std::string& en) const;

  // Prints `msg` as JSON on stdout.
  void PrintJson(const google::protobuf::Message& msg) const;
  // `msg` as that JSON (proto field names, every field), for a reply smctl assembles.
  static std::string JsonOf(const google::protobuf::Message& msg);

 private:
  Options opts_;
  Lang lang_;
  client::Config client_config_;
};

// A service smctl talks to: where it is and how its errors name it.
struct Service {
  const char* zh;              // "线索" (as in 线索服务); "" for the directory, whose errors say just 服务
  const char* en;              // "clue"; "" for the directory
  std::string Options::*addr;  // --addr, --clue-addr, ...
  // UNIMPLEMENTED gets a message of its own, ending in this ("" or " yet"); nullptr: it does
  // not (the directory's errors print the status message as it came).
  const char* not_implemented_tail_en;
  const char* login_hint_zh;  // the login command as the not-logged-in message shows it
};

inline constexpr Service kDirectoryService{"", "", &Options::addr, nullptr, "smctl login --dev"};
inline constexpr Service kClueService{"线索", "clue", &Options::clue_addr, " yet", "smctl login --dev"};
inline constexpr Service kAuditService{"审计", "audit", &Options::audit_addr, "", "smctl login --dev …"};
inline constexpr Service kInspectionService{"督察", "inspection", &Options::inspection_addr, "", "smctl login --dev …"};
inline constexpr Service kRiskService{"风险排查", "risk", &Options::risk_addr, "", "smctl login --dev …"};

// What a failed call means to the person at the terminal: the exit code and the message
// (without the "smctl: " prefix; several lines for field violations). Pure, for tests.
struct Failure {
  int code = kExitError;
  std::string message;
};
Failure DescribeFailure(const grpc::Status& status, const Service& service, const Options& opts, Lang lang);

// Prints DescribeFailure's message on stderr and returns its exit code.
int Fail(const Context& ctx, const Service& service, const grpc::Status& status);
// "not logged in": exit 3.
int NeedToken(const Context& ctx, const Service& service);

// Where `smctl login` stores the token: $SMCTL_CONFIG_DIR, else
// $XDG_CONFIG_HOME/smctl, else ~/.config/smctl; file "token", mode 0600.
std::string TokenPath();

// A whole history, page by page: calls `call(req, &page)` and appends each page's events to
// `all` until the last page (bounded at 100 pages of 1,000 events).
template <typename Req, typename Resp, typename Call>
grpc::Status AllHistoryPages(Req req, Resp* all, Call call) {
  req.set_page_size(1000);
  for (int pages = 0; pages < 100; ++pages) {
    Resp page;
    grpc::Status st = call(req, &page);
    if (!st.ok()) return st;
    all->mutable_events()->MergeFrom(page.events());
    if (page.next_page_token().empty()) break;
    req.set_page_token(page.next_page_token());
  }
  return grpc::Status::OK;
}

}  // namespace sm::smctl
