// The whole local stack (deploy/local/stack) as processes, for the e2e and fault tests:
// its own temporary folder and free loopback ports, started and stopped by the same script
// a developer uses, and the shell helpers those tests drive it with. Links no project
// library (the e2e tests keep their own reflection client proto).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>

namespace sm::testing {

struct ShResult {
  int code = -1;    // the exit code; -1 when the command did not exit normally
  std::string out;  // stdout (and stderr when merged)
};

// A loopback port that is free now (the kernel's pick): for an address nothing listens on.
int FreePort();

// Runs `cmd` with /bin/sh and collects its output.
ShResult Sh(const std::string& cmd, bool merge_stderr = true);

// Runs `cmd` with /bin/sh in a new pseudo-terminal (its stdin, stdout and stderr), typing
// `input` into it, and collects what the terminal shows (the typed input echoed too) until the
// command exits, or kills it when `limit` has passed (code -1).
ShResult ShInTerminal(const std::string& cmd, const std::string& input,
                      std::chrono::milliseconds limit = std::chrono::seconds(60));

// Calls `done` every `every` until it returns true (true) or `limit` has passed (false).
bool PollUntil(const std::function<bool()>& done, std::chrono::milliseconds limit = std::chrono::seconds(30),
               std::chrono::milliseconds every = std::chrono::milliseconds(250));

// A whole file's text with surrounding white space trimmed ("" when unreadable).
std::string ReadTrimmed(const std::string& path);

class LocalStack {
 public:
  static constexpr const char* kServices[] = {"directory", "clue", "audit", "inspection", "risk"};

  // Makes /tmp/sm-<name>-XXXXXX and picks free loopback ports for PostgreSQL, Redis and
  // every service's gRPC and admin port, below the kernel's ephemeral range (32768+) so
  // that no outgoing connection takes a service's port while it is down between a kill
  // and a restart.
  explicit LocalStack(const std::string& name);
  // Stops the stack if it was started and removes the folder (unless SM_KEEP_STACK=1).
  ~LocalStack();
  LocalStack(const LocalStack&) = delete;
  LocalStack& operator=(const LocalStack&) = delete;

  // deploy/local/stack start [flags] ("--tls").
  ShResult Start(const std::string& flags = "");
  ShResult Stop();
  // deploy/local/stack <args> with this stack's folders and ports.
  ShResult Run(const std::string& args) const;

  // smctl with the token store `user` (a folder of its own in this stack's folder) and this
  // stack's addresses; `env` is put before the command (more variables, e.g. SMCTL_LANG=en).
  ShResult Smctl(const std::string& args, const std::string& user, bool merge_stderr = true,
                 const std::string& env = "") const;
  // Logs `admin` in as an administrator (a development token) and imports the demo
  // directory (deploy/demo/directory.yaml) as them: the first failure, or the import's result.
  ShResult ImportDemoDirectory(const std::string& admin) const;
  // The shell command Smctl runs, to run it another way (ShInTerminal).
  std::string SmctlCommand(const std::string& args, const std::string& user, const std::string& env = "") const;

  const std::string& dir() const { return dir_; }
  std::string run_dir() const { return dir_ + "/run"; }
  const std::string& env() const { return env_; }  // "SM_RUN_DIR=... " prefix
  int grpc_port(const std::string& service) const { return grpc_port_.at(service); }
  int admin_port(const std::string& service) const { return admin_port_.at(service); }
  int pg_port() const { return pg_port_; }
  int redis_port() const { return redis_port_; }
  std::string PidFile(const std::string& service) const { return run_dir() + "/pids/" + service + ".pid"; }
  pid_t Pid(const std::string& service) const;
  // libpq connection string of the stack's PostgreSQL as the superuser.
  std::string Conn() const;

 private:
  std::string dir_;
  std::string env_;
  int pg_port_ = 0, redis_port_ = 0;
  std::map<std::string, int> grpc_port_, admin_port_;
  bool started_ = false;
};

}  // namespace sm::testing
