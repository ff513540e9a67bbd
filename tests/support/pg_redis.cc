#include "tests/support/pg_redis.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace sm::testing {
namespace {

std::string PgBin() {
  std::string best;
  for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql")) {
    std::string bin = e.path().string() + "/bin";
    if (std::filesystem::exists(bin + "/initdb") && bin > best) best = bin;
  }
  if (best.empty()) throw std::runtime_error("PostgreSQL server binaries not found (apt-get install postgresql)");
  return best;
}

bool CanConnect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

class Cleanup : public ::testing::Environment {
 public:
  void TearDown() override { PgRedis::Get().Shutdown(); }
};

}  // namespace

int Run(const std::string& command, bool as_postgres) {
  std::string cmd = command;
  if (as_postgres && geteuid() == 0) {
    std::string quoted = "'";
    for (char c : command) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    cmd = "runuser -u postgres -- sh -c " + quoted + "'";
  }
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

PgRedis& PgRedis::Get() {
  static PgRedis* instance = [] {
    auto* p = new PgRedis();
    p->Start();
    ::testing::AddGlobalTestEnvironment(new Cleanup());
    return p;
  }();
  return *instance;
}

void PgRedis::Start() {
  char tmpl[] = "/tmp/sm-test-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  if (geteuid() == 0) {
    passwd* pw = getpwnam("postgres");
    if (pw == nullptr) throw std::runtime_error("no postgres user (apt-get install postgresql)");
    if (chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("chown failed");
  }
  chmod(dir_.c_str(), 0755);
  const std::string bin = PgBin();
  if (Run(bin + "/initdb -D " + dir_ + "/pg -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 -N > " + dir_ +
              "/initdb.log 2>&1",
          true) != 0) {
    throw std::runtime_error("initdb failed: see " + dir_ + "/initdb.log");
  }
  pg_port_ = FreePort();
  StartPostgres();
  if (Run(bin + "/psql -h 127.0.0.1 -p " + std::to_string(pg_port_) +
          " -U postgres -q -c 'CREATE DATABASE supervision' > /dev/null") != 0) {
    throw std::runtime_error("createdb failed");
  }
  ResetSchemas();
  redis_port_ = FreePort();
  StartRedis();
}

void PgRedis::StartPostgres() {
  const std::string bin = PgBin();
  // fsync off: the test database is thrown away; synchronous_commit stays on as in production.
  std::string cmd = bin + "/pg_ctl -D " + dir_ + "/pg -l " + dir_ +
                    "/pg.log -w -t 60 -o \"-c listen_addresses=127.0.0.1 -p " + std::to_string(pg_port_) + " -k " +
                    dir_ + " -c fsync=off -c max_connections=200\" start > /dev/null";
  if (Run(cmd, true) != 0) throw std::runtime_error("postgres did not start: see " + dir_ + "/pg.log");
}

void PgRedis::StopPostgres() {
  Run(PgBin() + "/pg_ctl -D " + dir_ + "/pg -m immediate -w stop > /dev/null 2>&1", true);
}

void PgRedis::RestartPostgres() {
  StopPostgres();
  StartPostgres();
}

db::PoolConfig PgRedis::Pool(const std::string& role, const std::string& schema, int size) const {
  db::PoolConfig c;
  c.host = "127.0.0.1";
  c.port = pg_port_;
  c.dbname = "supervision";
  c.user = role;
  c.search_path = schema;
  c.size = size;
  c.application_name = "test";
  return c;
}

redis::Config PgRedis::Redis() const {
  redis::Config c;
  c.port = redis_port_;
  c.retry_interval = std::chrono::milliseconds(100);
  return c;
}

void PgRedis::Exec(const std::string& sql) const {
  pqxx::connection conn("host=127.0.0.1 port=" + std::to_string(pg_port_) + " dbname=supervision user=postgres");
  pqxx::nontransaction tx(conn);
  tx.exec("SET client_min_messages = warning");
  tx.exec(sql);
}

void PgRedis::ResetSchemas() const {
  Exec(
      "DROP SCHEMA IF EXISTS directory, clue, audit, inspection, risk, clue_anchor, audit_anchor, inspection_anchor, risk_anchor "
      "CASCADE");
  std::ifstream in(std::string(SM_SOURCE_DIR) + "/deploy/local/bootstrap.sql");
  std::stringstream buf;
  buf << in.rdbuf();
  Exec(buf.str());
}

TlsPostgres::TlsPostgres(const std::string& cert_file, const std::string& key_file) {
  char tmpl[] = "/tmp/sm-tls-pg-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  // PostgreSQL reads its key only when the key is its own and private.
  std::filesystem::copy_file(cert_file, dir_ + "/server.crt");
  std::filesystem::copy_file(key_file, dir_ + "/server.key");
  chmod((dir_ + "/server.key").c_str(), 0600);
  chmod(dir_.c_str(), 0755);
  if (geteuid() == 0) {
    passwd* pw = getpwnam("postgres");
    if (pw == nullptr) throw std::runtime_error("no postgres user (apt-get install postgresql)");
    for (const std::string& f : {dir_, dir_ + "/server.crt", dir_ + "/server.key"}) {
      if (chown(f.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("chown failed");
    }
  }
  const std::string bin = PgBin();
  if (Run(bin + "/initdb -D " + dir_ + "/pg -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 -N > " + dir_ +
              "/initdb.log 2>&1 && sed -i 's/^host\\([[:space:]]\\)/hostssl\\1/' " + dir_ + "/pg/pg_hba.conf",
          true) != 0) {
    throw std::runtime_error("initdb failed: see " + dir_ + "/initdb.log");
  }
  port_ = FreePort();
  std::string cmd = bin + "/pg_ctl -D " + dir_ + "/pg -l " + dir_ +
                    "/pg.log -w -t 60 -o \"-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) + " -k " + dir_ +
                    " -c fsync=off -c ssl=on -c ssl_cert_file=" + dir_ + "/server.crt -c ssl_key_file=" + dir_ +
                    "/server.key\" start > /dev/null";
  if (Run(cmd, true) != 0) throw std::runtime_error("TLS postgres did not start: see " + dir_ + "/pg.log");
}

TlsPostgres::~TlsPostgres() {
  Run(PgBin() + "/pg_ctl -D " + dir_ + "/pg -m immediate -w stop > /dev/null 2>&1", true);
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void PgRedis::StartRedis() {
  pid_t pid = fork();
  if (pid == 0) {
    std::string port = std::to_string(redis_port_);
    execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1", "--dir", dir_.c_str(),
           "--save", "", "--appendonly", "no", "--logfile", (dir_ + "/redis.log").c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  redis_pid_ = pid;
  for (int i = 0; i < 200 && !CanConnect(redis_port_); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!CanConnect(redis_port_)) throw std::runtime_error("redis-server did not start");
}

void PgRedis::StopRedis() {
  if (redis_pid_ > 0) {
    kill(redis_pid_, SIGKILL);
    waitpid(redis_pid_, nullptr, 0);
    redis_pid_ = 0;
  }
}

void PgRedis::Shutdown() {
  StopRedis();
  if (!dir_.empty()) {
    StopPostgres();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    dir_.clear();
  }
}

}  // namespace sm::testing
