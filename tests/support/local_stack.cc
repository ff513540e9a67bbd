#include "tests/support/local_stack.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace sm::testing {
namespace {

bool PortFree(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

int PickPort(std::set<int>& taken, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> dist(20000, 32000);
  for (int i = 0; i < 1000; ++i) {
    const int p = dist(rng);
    if (taken.count(p) == 0 && PortFree(p)) {
      taken.insert(p);
      return p;
    }
  }
  throw std::runtime_error("no free loopback port in 20000-32000");
}

}  // namespace

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

ShResult Sh(const std::string& cmd, bool merge_stderr) {
  ShResult r;
  FILE* p = popen((cmd + (merge_stderr ? " 2>&1" : " 2>/dev/null")).c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

ShResult ShInTerminal(const std::string& cmd, const std::string& input, std::chrono::milliseconds limit) {
  ShResult r;
  int terminal = -1;
  const pid_t pid = forkpty(&terminal, nullptr, nullptr, nullptr);
  if (pid < 0) return r;
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto until = std::chrono::steady_clock::now() + limit;
  size_t typed = 0;
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      kill(pid, SIGKILL);
      break;
    }
    pollfd p{terminal, static_cast<short>(POLLIN | (typed < input.size() ? POLLOUT : 0)), 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    if (typed < input.size() && (p.revents & POLLOUT) != 0) {
      const ssize_t n = write(terminal, input.data() + typed, input.size() - typed);
      if (n > 0) typed += static_cast<size_t>(n);
    }
    if ((p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      std::array<char, 4096> buf;
      const ssize_t n = read(terminal, buf.data(), buf.size());
      if (n <= 0) break;  // EIO: the command and all it started have closed the terminal
      r.out.append(buf.data(), static_cast<size_t>(n));
    }
  }
  close(terminal);
  int status = 0;
  waitpid(pid, &status, 0);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

bool PollUntil(const std::function<bool()>& done, std::chrono::milliseconds limit, std::chrono::milliseconds every) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (true) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(every);
  }
}

std::string ReadTrimmed(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  std::string s = buf.str();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t start = 0;
  while (start < s.size() && std::isspace(static_cast<unsigned char>(s[start]))) ++start;
  return s.substr(start);
}

LocalStack::LocalStack(const std::string& name) {
  std::string tmpl = "/tmp/sm-" + name + "-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp " + tmpl);
  dir_ = tmpl;
  // The stack drops to the postgres user for PostgreSQL: it must reach the folder.
  std::filesystem::permissions(dir_, std::filesystem::perms(0755));
  std::mt19937_64 rng{std::random_device{}()};
  std::set<int> taken;
  pg_port_ = PickPort(taken, rng);
  redis_port_ = PickPort(taken, rng);
  env_ = "SM_RUN_DIR=" + run_dir() + " SM_BUILD_DIR=" + std::string(SM_BINARY_DIR) +
         " SM_PG_PORT=" + std::to_string(pg_port_) + " SM_REDIS_PORT=" + std::to_string(redis_port_);
  for (const std::string name : kServices) {
    grpc_port_[name] = PickPort(taken, rng);
    admin_port_[name] = PickPort(taken, rng);
    std::string upper = name;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    env_ += " SM_" + upper + "_GRPC_PORT=" + std::to_string(grpc_port_[name]) + " SM_" + upper +
            "_ADMIN_PORT=" + std::to_string(admin_port_[name]);
  }
  env_ += " ";
}

LocalStack::~LocalStack() {
  if (started_) Stop();
  const char* keep = std::getenv("SM_KEEP_STACK");
  if (keep == nullptr || std::string(keep) != "1") {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

ShResult LocalStack::Start(const std::string& flags) {
  started_ = true;  // a half-started stack is stopped too
  return Run("start" + (flags.empty() ? "" : " " + flags));
}

ShResult LocalStack::Stop() {
  started_ = false;
  return Run("stop");
}

ShResult LocalStack::Run(const std::string& args) const {
  return Sh(env_ + SM_SOURCE_DIR "/deploy/local/stack " + args);
}

ShResult LocalStack::Smctl(const std::string& args, const std::string& user, bool merge_stderr,
                           const std::string& env) const {
  return Sh(SmctlCommand(args, user, env), merge_stderr);
}

ShResult LocalStack::ImportDemoDirectory(const std::string& admin) const {
  ShResult r = Smctl("login --dev --user e2e-admin --role admin", admin);
  if (r.code != 0) return r;
  return Smctl("directory import " SM_SOURCE_DIR "/deploy/demo/directory.yaml", admin);
}

std::string LocalStack::SmctlCommand(const std::string& args, const std::string& user, const std::string& env) const {
  return env + (env.empty() || env.back() == ' ' ? "" : " ") + "SMCTL_CONFIG_DIR=" + dir_ + "/" + user +
         " SMCTL_ADDR=127.0.0.1:" + std::to_string(grpc_port_.at("directory")) +
         " SMCTL_CLUE_ADDR=127.0.0.1:" + std::to_string(grpc_port_.at("clue")) +
         " SMCTL_AUDIT_ADDR=127.0.0.1:" + std::to_string(grpc_port_.at("audit")) +
         " SMCTL_INSPECTION_ADDR=127.0.0.1:" + std::to_string(grpc_port_.at("inspection")) +
         " SMCTL_RISK_ADDR=127.0.0.1:" + std::to_string(grpc_port_.at("risk")) +
         " " SM_BINARY_DIR "/tools/smctl/smctl " + args;
}

pid_t LocalStack::Pid(const std::string& service) const {
  const std::string s = ReadTrimmed(PidFile(service));
  return s.empty() ? -1 : static_cast<pid_t>(std::atoi(s.c_str()));
}

std::string LocalStack::Conn() const {
  return "host=127.0.0.1 port=" + std::to_string(pg_port_) + " dbname=supervision user=postgres";
}

}  // namespace sm::testing
