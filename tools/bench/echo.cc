// sm-bench-echo: the gRPC floor for a cheap read. A bare callback server that answers
// ClueService.GetClueStats with a fixed reply and does nothing else: no token, no access
// check, no log line, no metrics, no cache. It starts through the same
// sm::server::Server::Start as every service (same thread quota, keepalive, message limits,
// health and reflection) and, like Runtime, turns absl's mutex deadlock detection off, so
// `sm-bench --rpc stats` against it and against clue-service differ only by what the
// service does per call (scripts/bench, phase (f); docs/PERFORMANCE.md).
//
//   sm-bench-echo --listen 127.0.0.1:17199 --reply-file stats.bin
//
// --reply-file holds a serialized ClueStats (what `sm-bench --save-reply` wrote from a real
// answer), so the echo sends the same bytes as the service. Loopback addresses only. Runs
// until SIGINT/SIGTERM.
#include <CLI/CLI.hpp>
#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>

#include <csignal>
#include <cstdio>
#include <string>

#include "common/config.h"
#include "common/server.h"
#include "supervision/v1/clue.grpc.pb.h"

namespace {

namespace v1 = supervision::v1;

class EchoService final : public v1::ClueService::WithCallbackMethod_GetClueStats<v1::ClueService::Service> {
 public:
  explicit EchoService(v1::ClueStats reply) : reply_(std::move(reply)) {}

  grpc::ServerUnaryReactor* GetClueStats(grpc::CallbackServerContext* ctx, const v1::GetClueStatsRequest*,
                                         v1::ClueStats* resp) override {
    *resp = reply_;
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  const v1::ClueStats reply_;
};

bool LoopbackListen(const std::string& listen) {
  return listen.rfind("127.0.0.1:", 0) == 0 || listen.rfind("localhost:", 0) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0";
  std::string reply_file;
  CLI::App app{"sm-bench-echo: a bare gRPC callback server answering GetClueStats with fixed bytes"};
  app.add_option("--listen", listen, "address, 127.0.0.1:PORT (0: any free port, printed)");
  app.add_option("--reply-file", reply_file, "serialized ClueStats to answer with (default: an empty one)");
  CLI11_PARSE(app, argc, argv);
  if (!LoopbackListen(listen)) {
    std::fprintf(stderr, "sm-bench-echo: --listen must be 127.0.0.1:PORT or localhost:PORT\n");
    return 2;
  }
  v1::ClueStats reply;
  if (!reply_file.empty()) {
    auto bytes = sm::config::ReadFileText(reply_file);
    if (!bytes || !reply.ParseFromString(*bytes)) {
      std::fprintf(stderr, "sm-bench-echo: cannot read a ClueStats from '%s'\n", reply_file.c_str());
      return 2;
    }
  }
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);  // as Runtime::Create does

  // Block the stop signals before gRPC starts its threads, so that only sigwait sees them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  EchoService service(std::move(reply));
  sm::server::Config config;
  config.listen = listen;
  auto server = sm::server::Server::Start(config, {&service});
  if (!server.ok()) {
    std::fprintf(stderr, "sm-bench-echo: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  std::printf("listening on 127.0.0.1:%d\n", (*server)->port());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  (*server)->Shutdown(std::chrono::milliseconds(500));
  return 0;
}
