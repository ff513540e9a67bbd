// End to end: the local stack (deploy/local/stack) starts PostgreSQL, Redis and
// directory-service as processes; smctl, a reflection-only client and an HTTP scraper use
// them as people and tools would.
#include <gtest/gtest.h>
#include <google/protobuf/descriptor.pb.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "proto/reflection_client.grpc.pb.h"

#include "tests/support/local_stack.h"

namespace {

using sm::testing::FreePort;
using sm::testing::PollUntil;
using sm::testing::Sh;
using Result = sm::testing::ShResult;

namespace refl = grpc::reflection::v1alpha;

class DirectoryE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stack_ = new sm::testing::LocalStack("e2e");
    dir_ = new std::string(stack_->dir());
    env_ = new std::string(stack_->env());
    grpc_port_ = stack_->grpc_port("directory");
    admin_port_ = stack_->admin_port("directory");
    Result r = stack_->Start();
    ASSERT_EQ(r.code, 0) << r.out;
  }
  static void TearDownTestSuite() {
    Result r = stack_->Stop();
    EXPECT_EQ(r.code, 0) << r.out;
    // Stop ended exactly what start started: nothing listens any more.
    EXPECT_NE(Sh("bash -c \"exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(grpc_port_) + "\"").code, 0);
    EXPECT_EQ(Sh("bash -c \"exec 3<>/dev/tcp/127.0.0.1/1\"").code, 1);  // the probe itself works
    delete stack_;
    delete dir_;
    delete env_;
  }

  // smctl with its own config folder (token store) and this stack's address.
  static Result Smctl(const std::string& args, const std::string& config = "cfg") {
    return Sh("SMCTL_CONFIG_DIR=" + *dir_ + "/" + config + " SMCTL_ADDR=127.0.0.1:" + std::to_string(grpc_port_) + " " +
              SM_BINARY_DIR "/tools/smctl/smctl " + args);
  }

  static void LoginAdmin() {
    Result r = Smctl("login --dev --user e2e-admin --role admin");
    ASSERT_EQ(r.code, 0) << r.out;
    r = Smctl("directory import " SM_SOURCE_DIR "/deploy/demo/directory.yaml");
    ASSERT_EQ(r.code, 0) << r.out;
  }

  static inline sm::testing::LocalStack* stack_;
  static inline std::string* dir_;
  static inline std::string* env_;
  static inline int grpc_port_;
  static inline int admin_port_;
};

TEST_F(DirectoryE2E, SmctlImportsAndShowsTheTreeInChineseAndEnglish) {
  LoginAdmin();
  Result tree = Smctl("units list --tree");
  ASSERT_EQ(tree.code, 0) << tree.out;
  EXPECT_EQ(tree.out.rfind("市公安局", 0), 0u) << tree.out;
  EXPECT_NE(tree.out.find("├─ 涪城分局  (分局, fucheng-branch)"), std::string::npos) << tree.out;
  EXPECT_NE(tree.out.find("│  └─ 涪城分局治安管理大队"), std::string::npos) << tree.out;
  Result en = Smctl("units list --tree --lang en");
  ASSERT_EQ(en.code, 0);
  EXPECT_NE(en.out.find("Municipal Public Security Bureau  (bureau, bureau)"), std::string::npos) << en.out;
  Result people = Smctl("people search --unit gaoxin-branch --subunits --leaders -o json");
  ASSERT_EQ(people.code, 0) << people.out;
  auto j = nlohmann::json::parse(people.out);
  ASSERT_TRUE(j["people"].is_array());
  EXPECT_GT(j["people"].size(), 0u);
  for (const auto& p : j["people"]) EXPECT_TRUE(p["leader"].get<bool>());
  // Re-importing the same file is one import: reported, not repeated.
  Result again = Smctl("directory import " SM_SOURCE_DIR "/deploy/demo/directory.yaml");
  EXPECT_EQ(again.code, 0);
  EXPECT_NE(again.out.find("此前已导入"), std::string::npos) << again.out;
}

TEST_F(DirectoryE2E, SmctlExitCodesAreStable) {
  LoginAdmin();
  Result no_token = Smctl("units list", "empty-cfg");
  EXPECT_EQ(no_token.code, 3) << no_token.out;
  EXPECT_NE(no_token.out.find("smctl login"), std::string::npos);
  Result down = Sh("SMCTL_CONFIG_DIR=" + *dir_ + "/cfg " SM_BINARY_DIR "/tools/smctl/smctl --addr 127.0.0.1:" +
                   std::to_string(FreePort()) + " --timeout-ms 2000 units list");
  EXPECT_EQ(down.code, 7) << down.out;
  EXPECT_EQ(down.out.find("terminate"), std::string::npos);  // a plain message, not a crash
  Result missing = Smctl("people show 000000");
  EXPECT_EQ(missing.code, 5) << missing.out;
  const std::string bad = *dir_ + "/bad.yaml";
  std::ofstream(bad) << "units:\n  - code: x\n    name: \"\"\n    kind: BUREAU\n";
  Result invalid = Smctl("directory import " + bad);
  EXPECT_EQ(invalid.code, 6) << invalid.out;
  EXPECT_NE(invalid.out.find("units[0].name"), std::string::npos) << invalid.out;
  Result usage = Smctl("units frobnicate");
  EXPECT_EQ(usage.code, 2) << usage.out;
  ASSERT_EQ(Smctl("login --dev --user viewer --role staff", "staff-cfg").code, 0);
  Result denied = Smctl("directory import " SM_SOURCE_DIR "/deploy/demo/directory.yaml", "staff-cfg");
  EXPECT_EQ(denied.code, 4) << denied.out;
  Result forged = Smctl("--token abc.def.ghi units list");
  EXPECT_EQ(forged.code, 3) << forged.out;
}

TEST_F(DirectoryE2E, ReflectionAloneListsTheServiceAndItsMethods) {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(grpc_port_), grpc::InsecureChannelCredentials());
  auto stub = refl::ServerReflection::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto stream = stub->ServerReflectionInfo(&ctx);
  refl::ServerReflectionRequest req;
  req.set_list_services("");
  ASSERT_TRUE(stream->Write(req));
  refl::ServerReflectionResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  std::set<std::string> services;
  for (const auto& s : resp.list_services_response().service()) services.insert(s.name());
  EXPECT_TRUE(services.count("supervision.v1.DirectoryService"));
  EXPECT_TRUE(services.count("grpc.health.v1.Health"));
  req.set_file_containing_symbol("supervision.v1.DirectoryService");
  ASSERT_TRUE(stream->Write(req));
  ASSERT_TRUE(stream->Read(&resp));
  std::set<std::string> methods;
  for (const auto& bytes : resp.file_descriptor_response().file_descriptor_proto()) {
    google::protobuf::FileDescriptorProto file;
    ASSERT_TRUE(file.ParseFromString(bytes));
    for (const auto& svc : file.service()) {
      if (svc.name() != "DirectoryService") continue;
      for (const auto& m : svc.method()) methods.insert(m.name());
    }
  }
  EXPECT_EQ(methods, (std::set<std::string>{"ImportDirectory", "GetUnit", "ListUnits", "GetPerson", "SearchPeople",
                                            "GetPost", "ListPosts"}));
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(DirectoryE2E, AdminPortServesHealthAndMetricsAndLogsAreJson) {
  LoginAdmin();
  httplib::Client http("127.0.0.1", admin_port_);
  auto health = http.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  // The local stack runs in development mode, and says so.
  EXPECT_NE(health->body.find("mode: development"), std::string::npos) << health->body;
  std::ifstream startup(*dir_ + "/run/logs/directory.log");
  std::stringstream startup_text;
  startup_text << startup.rdbuf();
  EXPECT_NE(startup_text.str().find("DEVELOPMENT MODE"), std::string::npos);
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("sm_rpc_requests_total{"), std::string::npos);
  EXPECT_NE(metrics->body.find("method=\"/supervision.v1.DirectoryService/ImportDirectory\""), std::string::npos);
  EXPECT_NE(metrics->body.find("sm_rpc_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(metrics->body.find("sm_db_pool_connections{state=\"size\"}"), std::string::npos);
  // Every log line is a JSON object; access lines carry request and trace ids.
  std::ifstream log(*dir_ + "/run/logs/directory.log");
  std::string line;
  int lines = 0, access = 0;
  while (std::getline(log, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    ++lines;
    if (j.value("msg", "") == "rpc") {
      ++access;
      EXPECT_TRUE(j.contains("request_id")) << line;
      EXPECT_TRUE(j.contains("trace_id")) << line;
      EXPECT_TRUE(j.contains("code")) << line;
    }
  }
  EXPECT_GT(lines, 0);
  EXPECT_GT(access, 0);
}

// Started without `mode: development` and without keys, each service refuses to start and
// names the missing key; development mode is refused off loopback. (The real binaries,
// as an operator would start them.)
TEST_F(DirectoryE2E, WithoutDevelopmentModeOrKeysAServiceRefusesToStartNamingTheKey) {
  const std::string cfg = *dir_ + "/startup.yaml";
  auto run = [&](const std::string& service, const std::string& yaml) {
    std::ofstream(cfg) << yaml;
    return Sh("timeout 20 " SM_BINARY_DIR "/services/" + service + "/" + service + "-service --config " + cfg);
  };
  const std::string base = "grpc:\n  listen: 127.0.0.1:" + std::to_string(FreePort()) +
                           "\nadmin:\n  listen: 127.0.0.1:" + std::to_string(FreePort()) + "\n";
  const std::string calendar = std::string("  calendar_dir: ") + SM_SOURCE_DIR + "/deploy/calendar\n";
  struct Case {
    std::string service, yaml;
    std::vector<std::string> named;
  };
  const std::vector<Case> cases = {
      {"directory", base, {"auth.keys_file"}},
      {"clue", base + "clue:\n" + calendar, {"auth.keys_file", "clue.keys", "identity.key_file"}},
      {"audit", base + "audit:\n" + calendar, {"auth.keys_file", "identity.key_file"}},
      // A people key alone is not enough for clue (sealing keys; its own identity, which signs
      // chain checkpoints) or audit (its own identity).
      {"clue",
       base + "auth:\n  verify_key: 0123456789abcdef0123456789abcdef-own\nclue:\n" + calendar,
       {"clue.keys", "identity.key_file"}},
      {"audit",
       base + "auth:\n  verify_key: 0123456789abcdef0123456789abcdef-own\naudit:\n" + calendar,
       {"identity.key_file"}},
      {"directory",
       "mode: development\ngrpc:\n  listen: 0.0.0.0:" + std::to_string(FreePort()) + "\n  allow_plaintext: true\n",
       {"mode: development is refused on a non-loopback grpc.listen"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.service + ": " + c.yaml);
    Result r = run(c.service, c.yaml);
    EXPECT_EQ(r.code, 2) << r.out;
    for (const auto& key : c.named) EXPECT_NE(r.out.find(key), std::string::npos) << r.out;
  }
}

}  // namespace
