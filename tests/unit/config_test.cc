// Tests for common/config.h: YAML file, environment and --set precedence, typed reads that
// collect every problem, and Finish() naming the key and where each bad value came from.
#include "common/config.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sm::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// An environment made of a map, so no test touches the real one.
EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

EnvLookup NoEnv() { return FakeEnv({}); }

Source MustYaml(const std::string& yaml, EnvLookup env = NoEnv()) {
  auto s = Source::FromYaml(yaml, "file test.yaml", std::move(env));
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : *Source::FromYaml("", "empty", NoEnv());
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

// The line of `text` that mentions `needle`, or "" if none does.
std::string LineWith(const std::string& text, const std::string& needle) {
  size_t at = text.find(needle);
  if (at == std::string::npos) return "";
  size_t begin = text.rfind('\n', at);
  begin = begin == std::string::npos ? 0 : begin + 1;
  size_t end = text.find('\n', at);
  return text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

// A temporary file removed when the test ends.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    char name[] = "/tmp/sm_config_test_XXXXXX";
    int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    close(fd);
    path_ = name;
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(ConfigSource, EnvNameIsUpperCaseWithUnderscores) {
  EXPECT_EQ(Source::EnvName("db.pool_size"), "SM_DB_POOL_SIZE");
  EXPECT_EQ(Source::EnvName("grpc.tls.cert-file"), "SM_GRPC_TLS_CERT_FILE");
  EXPECT_EQ(Source::EnvName("x"), "SM_X");
}

TEST(ConfigSource, NestedYamlFlattensToDottedKeys) {
  Source s = MustYaml(
      "db:\n"
      "  host: db.internal\n"
      "  pool_size: 16\n"
      "grpc:\n"
      "  tls:\n"
      "    cert_file: /etc/cert.pem\n"
      "list: [a, b, c]\n"
      "empty:\n");
  ASSERT_TRUE(s.Lookup("db.host").has_value());
  EXPECT_EQ(s.Lookup("db.host")->text, "db.internal");
  EXPECT_EQ(s.Lookup("db.host")->origin, "file test.yaml");
  EXPECT_EQ(s.Lookup("db.pool_size")->text, "16");
  EXPECT_EQ(s.Lookup("grpc.tls.cert_file")->text, "/etc/cert.pem");
  EXPECT_EQ(s.Lookup("list")->text, "a,b,c");
  ASSERT_TRUE(s.Lookup("empty").has_value());
  EXPECT_EQ(s.Lookup("empty")->text, "");
  EXPECT_FALSE(s.Lookup("db").has_value());
  EXPECT_FALSE(s.Lookup("missing").has_value());
  EXPECT_EQ(s.ExplicitKeys(),
            (std::set<std::string>{"db.host", "db.pool_size", "grpc.tls.cert_file", "list", "empty"}));
}

TEST(ConfigSource, PrecedenceIsFlagThenEnvThenFile) {
  Source s = MustYaml("db:\n  host: from-file\n  port: 1\n  user: file-user\n",
                      FakeEnv({{"SM_DB_HOST", "from-env"}, {"SM_DB_PORT", "2"}}));
  s.Set("db.host", "from-flag");
  EXPECT_EQ(s.Lookup("db.host")->text, "from-flag");
  EXPECT_EQ(s.Lookup("db.host")->origin, "flag --set db.host");
  EXPECT_EQ(s.Lookup("db.port")->text, "2");
  EXPECT_EQ(s.Lookup("db.port")->origin, "env SM_DB_PORT");
  EXPECT_EQ(s.Lookup("db.user")->text, "file-user");
  EXPECT_EQ(s.Lookup("db.user")->origin, "file test.yaml");
}

TEST(ConfigSource, EnvAloneSuppliesAKeyTheFileLacks) {
  Source s = MustYaml("", FakeEnv({{"SM_REDIS_HOST", "cache"}}));
  ASSERT_TRUE(s.Lookup("redis.host").has_value());
  EXPECT_EQ(s.Lookup("redis.host")->text, "cache");
  EXPECT_TRUE(s.ExplicitKeys().empty()) << "environment keys are not explicit";
}

TEST(ConfigSource, BadYamlIsInvalidArgumentNamingTheOrigin) {
  auto s = Source::FromYaml("db: [unclosed\n", "file bad.yaml", NoEnv());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(s.status()), HasSubstr("bad.yaml"));

  s = Source::FromYaml("- a\n- b\n", "file list.yaml", NoEnv());
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(Message(s.status()), HasSubstr("list.yaml"));
  EXPECT_THAT(Message(s.status()), HasSubstr("map"));

  // A list of maps cannot become one value; it must be an error, not an exception.
  s = Source::FromYaml("db:\n  - host: a\n", "file nested.yaml", NoEnv());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ConfigSource, FromArgsReadsConfigFileAndSets) {
  TempFile file("db:\n  host: file-host\n  port: 5433\n");
  const char* argv[] = {"svc", "--config", file.path().c_str(), "--set", "db.port=6000", "--set=log.level=debug"};
  auto s = Source::FromArgs(6, argv, NoEnv());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->Lookup("db.host")->text, "file-host");
  EXPECT_EQ(s->Lookup("db.host")->origin, "file " + file.path());
  EXPECT_EQ(s->Lookup("db.port")->text, "6000");
  EXPECT_EQ(s->Lookup("db.port")->origin, "flag --set db.port");
  EXPECT_EQ(s->Lookup("log.level")->text, "debug");
}

TEST(ConfigSource, FromArgsTakesConfigFileFromEnv) {
  TempFile file("name: from-env-file\n");
  const char* argv[] = {"svc"};
  auto s = Source::FromArgs(1, argv, FakeEnv({{"SM_CONFIG", file.path()}}));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->Lookup("name")->text, "from-env-file");

  // --config beats SM_CONFIG.
  TempFile other("name: from-flag-file\n");
  const std::string flag = "--config=" + other.path();
  const char* argv2[] = {"svc", flag.c_str()};
  s = Source::FromArgs(2, argv2, FakeEnv({{"SM_CONFIG", file.path()}}));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->Lookup("name")->text, "from-flag-file");
}

TEST(ConfigSource, FromArgsErrors) {
  struct Case {
    std::vector<const char*> args;
    const char* want;
  };
  const Case cases[] = {
      {{"svc", "--bogus"}, "--bogus"},
      {{"svc", "--set"}, "key=value"},
      {{"svc", "--set", "novalue"}, "novalue"},
      {{"svc", "--set", "=x"}, "key=value"},
      {{"svc", "--config"}, "--config"},
      {{"svc", "--config", "/nonexistent/sm/config.yaml"}, "/nonexistent/sm/config.yaml"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.args.back());
    auto s = Source::FromArgs(static_cast<int>(c.args.size()), c.args.data(), NoEnv());
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(Message(s.status()), HasSubstr(c.want));
  }
}

TEST(ConfigSource, FromArgsRejectsAnInvalidFileNamingIt) {
  TempFile file("a: [1, 2\n");
  const char* argv[] = {"svc", "--config", file.path().c_str()};
  auto s = Source::FromArgs(3, argv, NoEnv());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(s.status()), HasSubstr(file.path()));
}

TEST(ConfigReader, DefaultsWhenNothingIsSet) {
  Source s = MustYaml("");
  Reader r(s);
  EXPECT_EQ(r.String("a", "def"), "def");
  EXPECT_EQ(r.Int("b", 7, 0, 10), 7);
  EXPECT_TRUE(r.Bool("c", true));
  EXPECT_EQ(r.Millis("d", 1500, 0, 10000), std::chrono::milliseconds(1500));
  EXPECT_EQ(r.Enum("e", "info", {"info", "debug"}), "info");
  EXPECT_EQ(r.HostPort("f", "127.0.0.1:50051"), "127.0.0.1:50051");
  EXPECT_TRUE(r.Finish().ok()) << r.Finish();
}

TEST(ConfigReader, TypedValuesAreParsed) {
  Source s = MustYaml(
      "name: directory\n"
      "n: 42\n"
      "neg: -3\n"
      "flags:\n  a: true\n  b: 'off'\n  c: 1\n  d: no\n"
      "timeout_ms: 250\n"
      "level: debug\n"
      "listen: 0.0.0.0:9000\n"
      "v6: '[::1]:80'\n");
  Reader r(s);
  EXPECT_EQ(r.String("name", ""), "directory");
  EXPECT_EQ(r.RequiredString("name"), "directory");
  EXPECT_EQ(r.Int("n", 0, 0, 100), 42);
  EXPECT_EQ(r.Int("neg", 0, -10, 10), -3);
  EXPECT_TRUE(r.Bool("flags.a", false));
  EXPECT_FALSE(r.Bool("flags.b", true));
  EXPECT_TRUE(r.Bool("flags.c", false));
  EXPECT_FALSE(r.Bool("flags.d", true));
  EXPECT_EQ(r.Millis("timeout_ms", 0, 10, 1000), std::chrono::milliseconds(250));
  EXPECT_EQ(r.Enum("level", "info", {"info", "debug"}), "debug");
  EXPECT_EQ(r.HostPort("listen", ""), "0.0.0.0:9000");
  EXPECT_EQ(r.HostPort("v6", ""), "[::1]:80");
  EXPECT_TRUE(r.Finish().ok()) << r.Finish();
}

TEST(ConfigReader, EveryProblemIsReportedWithKeyAndOrigin) {
  Source s = MustYaml(
      "db:\n"
      "  pool_size: 1000\n"
      "  port: fifty\n"
      "flag: maybe\n"
      "level: LOUD\n"
      "listen: nohost\n",
      FakeEnv({{"SM_REDIS_DB", "99"}}));
  s.Set("timeout_ms", "12x");
  Reader r(s);
  EXPECT_EQ(r.Int("db.pool_size", 8, 1, 256), 8) << "out of range falls back to the default";
  EXPECT_EQ(r.Int("db.port", 5432, 1, 65535), 5432);
  EXPECT_EQ(r.Int("redis.db", 0, 0, 15), 0);
  EXPECT_FALSE(r.Bool("flag", false));
  EXPECT_EQ(r.Enum("level", "info", {"info", "debug"}), "info");
  EXPECT_EQ(r.HostPort("listen", "127.0.0.1:1"), "127.0.0.1:1");
  EXPECT_EQ(r.Millis("timeout_ms", 5, 0, 100), std::chrono::milliseconds(5));
  EXPECT_EQ(r.RequiredString("db.password"), "");
  r.Fail("grpc.tls", "cert_file and key_file must be set together");

  absl::Status st = r.Finish();
  ASSERT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  const std::string m = Message(st);
  EXPECT_THAT(m, HasSubstr("db.pool_size: value 1000 from file test.yaml is outside 1..256"));
  EXPECT_THAT(m, HasSubstr("db.port: value 'fifty' from file test.yaml is not an integer"));
  EXPECT_THAT(m, HasSubstr("redis.db: value 99 from env SM_REDIS_DB is outside 0..15"));
  EXPECT_THAT(m, HasSubstr("flag: value 'maybe' from file test.yaml is not a boolean"));
  EXPECT_THAT(m, HasSubstr("level: value 'LOUD' from file test.yaml is not one of info, debug"));
  EXPECT_THAT(m, HasSubstr("listen: value 'nohost' from file test.yaml is not host:port"));
  EXPECT_THAT(m, HasSubstr("timeout_ms: value '12x' from flag --set timeout_ms is not an integer"));
  EXPECT_THAT(m, HasSubstr("db.password: is required"));
  EXPECT_THAT(m, HasSubstr("SM_DB_PASSWORD"));
  EXPECT_THAT(m, HasSubstr("grpc.tls: cert_file and key_file must be set together"));
  // One problem per line, after a heading line.
  EXPECT_EQ(std::count(m.begin(), m.end(), '\n'), 9);
}

TEST(ConfigReader, IntBoundsAreInclusiveAndTextMustBeWhole) {
  Source s = MustYaml("lo: 1\nhi: 256\nbelow: 0\nfloat: 1.5\nbig: 99999999999999999999999\n");
  Reader r(s);
  EXPECT_EQ(r.Int("lo", 8, 1, 256), 1);
  EXPECT_EQ(r.Int("hi", 8, 1, 256), 256);
  EXPECT_EQ(r.Int("below", 8, 1, 256), 8);
  EXPECT_EQ(r.Int("float", 8, 1, 256), 8);
  EXPECT_EQ(r.Int("big", 8, 1, 256), 8);
  const std::string m = Message(r.Finish());
  EXPECT_THAT(m, HasSubstr("below:"));
  EXPECT_THAT(m, HasSubstr("float:"));
  EXPECT_THAT(m, HasSubstr("big:"));
  EXPECT_THAT(m, Not(HasSubstr("lo:")));
  EXPECT_THAT(m, Not(HasSubstr("hi:")));
}

TEST(ConfigReader, HostPortChecks) {
  struct Case {
    const char* value;
    bool ok;
  };
  const Case cases[] = {
      {"127.0.0.1:0", true}, {"localhost:65535", true}, {"[::1]:8080", true}, {"host:65536", false}, {":80", false},
      {"host:", false},      {"host", false},           {"host:8o", false},   {"host:-1", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.value);
    Source s = MustYaml("");
    s.Set("addr", c.value);
    Reader r(s);
    std::string got = r.HostPort("addr", "127.0.0.1:1");
    EXPECT_EQ(r.Finish().ok(), c.ok) << r.Finish();
    EXPECT_EQ(got, c.ok ? c.value : "127.0.0.1:1");
  }
}

TEST(ConfigReader, HostPortWithAHugePortIsAProblemNotAnException) {
  Source s = MustYaml("");
  s.Set("addr", "host:99999999999999999999");
  Reader r(s);
  // Regression (fixed): config.cc Reader::HostPort calls std::stol on an unbounded run of digits, which
  // throws std::out_of_range instead of recording "is not host:port".
  std::string got;
  EXPECT_NO_THROW(got = r.HostPort("addr", "127.0.0.1:1"));
  EXPECT_EQ(r.Finish().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ConfigReader, UnknownKeysAreReportedForFileAndFlags) {
  Source s = MustYaml("db:\n  host: h\n  pool_sise: 4\n", FakeEnv({{"SM_NOT_A_KEY", "x"}}));
  s.Set("log.levle", "debug");
  Reader r(s);
  r.String("db.host", "");
  r.Int("db.pool_size", 8, 1, 256);
  r.String("log.level", "info");
  absl::Status st = r.Finish();
  ASSERT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  const std::string m = Message(st);
  EXPECT_THAT(m, HasSubstr("db.pool_sise: unknown key"));
  EXPECT_THAT(m, HasSubstr("log.levle: unknown key"));
  EXPECT_THAT(m, Not(HasSubstr("db.host")));
  EXPECT_THAT(m, Not(HasSubstr("NOT_A_KEY"))) << "stray environment is not the config's business";
}

TEST(ConfigReader, UnknownKeysNameWhereTheyCameFrom) {
  Source s = MustYaml("db:\n  pool_sise: 4\n");
  s.Set("log.levle", "debug");
  Reader r(s);
  const std::string m = Message(r.Finish());
  // Regression (fixed): config.cc Reader::Finish reports "<key>: unknown key" without the origin, although
  // the contract (config.h) is that every message names the key and where the value came
  // from; with one file, env and several --set flags the user cannot tell where the typo is.
  EXPECT_THAT(LineWith(m, "db.pool_sise"), HasSubstr("file test.yaml"));
  EXPECT_THAT(LineWith(m, "log.levle"), HasSubstr("flag --set"));
}

TEST(ConfigReader, EnvValueReadTwiceIsConsistent) {
  Source s = MustYaml("", FakeEnv({{"SM_A", "x"}}));
  Reader r(s);
  EXPECT_EQ(r.String("a", ""), "x");
  EXPECT_EQ(r.String("a", ""), "x");
  EXPECT_TRUE(r.Finish().ok());
}

}  // namespace
}  // namespace sm::config
