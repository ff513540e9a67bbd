// The shared shape of smctl commands (tools/smctl/command.h): the status → exit code and
// message map over every gRPC code, JSON vs table output, List paging, the directory
// resolvers' errors, and Commands (token check, options into Args, choice spellings).
// Calls go to a fake DirectoryService on a loopback port: no stack needed.
#include "tools/smctl/command.h"
#include "tools/smctl/history.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/status.h"
#include "supervision/v1/clue.pb.h"
#include "supervision/v1/directory.grpc.pb.h"

namespace sm::smctl {
namespace {

namespace v1 = ::supervision::v1;
using ::testing::HasSubstr;
using ::testing::Not;

// ---------------------------------------------------------------------------------------
// Status → exit code and message.

Options TestOptions() {
  Options o;
  o.addr = "dir:1";
  o.clue_addr = "clue:2";
  o.audit_addr = "audit:3";
  return o;
}

TEST(DescribeFailure, EveryCodeHasItsExitCode) {
  const std::map<grpc::StatusCode, int> kWant = {
      {grpc::StatusCode::CANCELLED, kExitError},
      {grpc::StatusCode::UNKNOWN, kExitError},
      {grpc::StatusCode::INVALID_ARGUMENT, kExitInvalid},
      {grpc::StatusCode::DEADLINE_EXCEEDED, kExitUnavailable},
      {grpc::StatusCode::NOT_FOUND, kExitNotFound},
      {grpc::StatusCode::ALREADY_EXISTS, kExitConflict},
      {grpc::StatusCode::PERMISSION_DENIED, kExitDenied},
      {grpc::StatusCode::RESOURCE_EXHAUSTED, kExitError},
      {grpc::StatusCode::FAILED_PRECONDITION, kExitConflict},
      {grpc::StatusCode::ABORTED, kExitConflict},
      {grpc::StatusCode::OUT_OF_RANGE, kExitError},
      {grpc::StatusCode::UNIMPLEMENTED, kExitError},
      {grpc::StatusCode::INTERNAL, kExitError},
      {grpc::StatusCode::UNAVAILABLE, kExitUnavailable},
      {grpc::StatusCode::DATA_LOSS, kExitError},
      {grpc::StatusCode::UNAUTHENTICATED, kExitAuth},
  };
  ASSERT_EQ(kWant.size(), 16u);  // every code but OK: a new one must be added here
  for (const Service* service : {&kDirectoryService, &kClueService, &kAuditService}) {
    for (Lang lang : {Lang::kZh, Lang::kEn}) {
      for (const auto& [code, exit] : kWant) {
        Failure f = DescribeFailure(grpc::Status(code, "why"), *service, TestOptions(), lang);
        EXPECT_EQ(f.code, exit) << GrpcCodeName(code) << " " << service->en;
        EXPECT_FALSE(f.message.empty()) << GrpcCodeName(code);
      }
    }
  }
}

TEST(DescribeFailure, UnavailableNamesTheServiceAndItsAddress) {
  const grpc::Status down(grpc::StatusCode::UNAVAILABLE, "connection refused");
  EXPECT_EQ(DescribeFailure(down, kClueService, TestOptions(), Lang::kZh).message,
            "线索服务不可用（clue:2）：connection refused。服务是否已启动？");
  EXPECT_EQ(DescribeFailure(down, kAuditService, TestOptions(), Lang::kEn).message,
            "audit service unavailable at audit:3: connection refused. Is it running?");
  EXPECT_EQ(DescribeFailure(down, kDirectoryService, TestOptions(), Lang::kEn).message,
            "service unavailable at dir:1: connection refused. Is it running?");
  const grpc::Status slow(grpc::StatusCode::DEADLINE_EXCEEDED, "");
  EXPECT_EQ(DescribeFailure(slow, kClueService, TestOptions(), Lang::kEn).message,
            "the clue service did not answer in time (clue:2)");
  EXPECT_EQ(DescribeFailure(slow, kDirectoryService, TestOptions(), Lang::kZh).message, "服务响应超时（dir:1）");
}

TEST(DescribeFailure, UnimplementedIsNamedForClueAndAuditOnly) {
  const grpc::Status missing(grpc::StatusCode::UNIMPLEMENTED, "no such method");
  EXPECT_EQ(DescribeFailure(missing, kClueService, TestOptions(), Lang::kEn).message,
            "the clue service at clue:2 does not implement this operation yet");
  EXPECT_EQ(DescribeFailure(missing, kAuditService, TestOptions(), Lang::kZh).message,
            "审计服务尚未实现此操作（audit:3）");
  EXPECT_EQ(DescribeFailure(missing, kDirectoryService, TestOptions(), Lang::kEn).message, "error: no such method");
}

TEST(DescribeFailure, InvalidArgumentListsEachField) {
  grpc::Status bad = ToGrpcStatus(InvalidFields({{"summary", "is required"}, {"reason", "too long"}}));
  Failure f = DescribeFailure(bad, kClueService, TestOptions(), Lang::kZh);
  EXPECT_EQ(f.code, kExitInvalid);
  EXPECT_EQ(f.message, "输入有误：\n  summary: is required\n  reason: too long");
  Failure plain =
      DescribeFailure(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad"), kClueService, TestOptions(), Lang::kEn);
  EXPECT_EQ(plain.message, "invalid input:\n  bad");
}

TEST(DescribeFailure, OtherCodesQuoteTheService) {
  EXPECT_EQ(DescribeFailure(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "not your unit"), kAuditService,
                            TestOptions(), Lang::kZh)
                .message,
            "无权限：not your unit");
  EXPECT_EQ(DescribeFailure(grpc::Status(grpc::StatusCode::ABORTED, "version 3, not 2"), kClueService, TestOptions(),
                            Lang::kEn)
                .message,
            "conflict: version 3, not 2");
}

// ---------------------------------------------------------------------------------------
// A fake directory, and stdout/stderr captured.

class FakeDirectory final : public v1::DirectoryService::Service {
 public:
  grpc::Status GetUnit(grpc::ServerContext*, const v1::GetUnitRequest* req, v1::Unit* unit) override {
    if (req->code() == "denied") return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "not for you");
    if (req->code() != "fucheng-branch" && req->id() != kUnitId) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no unit");
    }
    unit->set_id(kUnitId);
    unit->set_code("fucheng-branch");
    unit->set_name("涪城分局");
    unit->set_depth(1);
    unit->set_active(true);
    return grpc::Status::OK;
  }
  grpc::Status GetPerson(grpc::ServerContext*, const v1::GetPersonRequest*, v1::Person*) override {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "no person");
  }
  // Three people, two a page.
  grpc::Status SearchPeople(grpc::ServerContext*, const v1::SearchPeopleRequest* req,
                            v1::SearchPeopleResponse* resp) override {
    const bool second = req->page_token() == "p2";
    for (const char* name : second ? std::vector<const char*>{"丙"} : std::vector<const char*>{"甲", "乙"}) {
      resp->add_people()->set_name(name);
    }
    if (!second) resp->set_next_page_token("p2");
    return grpc::Status::OK;
  }
  static constexpr const char* kUnitId = "6f1c2d3e-4a5b-4c6d-8e7f-8091a2b3c4d5";
};

class SmctlCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&fake_);
    server_ = builder.BuildAndStart();
    ASSERT_GT(port_, 0);
    old_out_ = std::cout.rdbuf(out_.rdbuf());
    old_err_ = std::cerr.rdbuf(err_.rdbuf());
  }
  void TearDown() override {
    std::cout.rdbuf(old_out_);
    std::cerr.rdbuf(old_err_);
    server_->Shutdown();
  }
  Options Opts(const std::string& output = "table", const std::string& lang = "zh") {
    Options o;
    o.addr = "127.0.0.1:" + std::to_string(port_);
    o.token = "test-token";
    o.output = output;
    o.lang = lang;
    o.timeout_ms = 5000;
    return o;
  }

  FakeDirectory fake_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::stringstream out_, err_;
  std::streambuf* old_out_ = nullptr;
  std::streambuf* old_err_ = nullptr;
};

using DirectoryClient = Client<v1::DirectoryService>;

v1::GetUnitRequest UnitByCode(const std::string& code) {
  v1::GetUnitRequest req;
  req.set_code(code);
  return req;
}

TEST_F(SmctlCommandTest, RunPrintsATableThroughPrint) {
  Context ctx(Opts("table"));
  DirectoryClient c(ctx);
  int rc = c.Run(&v1::DirectoryService::Stub::GetUnit, UnitByCode("fucheng-branch"),
                 [&](const v1::Unit& u) { std::cout << "name=" << u.name() << "\n"; });
  EXPECT_EQ(rc, kExitOk);
  EXPECT_EQ(out_.str(), "name=涪城分局\n");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(SmctlCommandTest, RunPrintsJsonWithProtoFieldNamesInsteadOfTheTable) {
  Context ctx(Opts("json"));
  DirectoryClient c(ctx);
  bool printed = false;
  int rc = c.Run(&v1::DirectoryService::Stub::GetUnit, UnitByCode("fucheng-branch"),
                 [&](const v1::Unit&) { printed = true; });
  EXPECT_EQ(rc, kExitOk);
  EXPECT_FALSE(printed);
  EXPECT_THAT(out_.str(), HasSubstr("\"code\": \"fucheng-branch\""));
  EXPECT_THAT(out_.str(), HasSubstr("\"name_en\": \"\""));  // primitive fields always printed
}

TEST_F(SmctlCommandTest, RunReturnsTheExitCodeOfPrint) {
  Context ctx(Opts("table"));
  DirectoryClient c(ctx);
  EXPECT_EQ(c.Run(&v1::DirectoryService::Stub::GetUnit, UnitByCode("fucheng-branch"),
                  [](const v1::Unit&) { return kExitError; }),
            kExitError);
}

TEST_F(SmctlCommandTest, RunReportsAFailureAndPrintsNothing) {
  Context ctx(Opts("table", "en"));
  DirectoryClient c(ctx);
  bool printed = false;
  int rc = c.Run(&v1::DirectoryService::Stub::GetUnit, UnitByCode("denied"), [&](const v1::Unit&) { printed = true; });
  EXPECT_EQ(rc, kExitDenied);
  EXPECT_FALSE(printed);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(), "smctl: permission denied: not for you\n");
}

TEST_F(SmctlCommandTest, RunAgainstNoServiceIsUnavailable) {
  Options o = Opts("table", "en");
  o.addr = "127.0.0.1:1";
  Context ctx(o);
  DirectoryClient c(ctx);
  EXPECT_EQ(c.Run(&v1::DirectoryService::Stub::GetUnit, UnitByCode("x"), [](const v1::Unit&) {}), kExitUnavailable);
  EXPECT_THAT(err_.str(), HasSubstr("service unavailable at 127.0.0.1:1"));
}

int PrintNames(DirectoryClient& c, const Paging& paging) {
  return c.List(&v1::DirectoryService::Stub::SearchPeople, v1::SearchPeopleRequest(), paging,
                &v1::SearchPeopleResponse::mutable_people, "none\n", [](const auto& people) {
                  for (const auto& p : people) std::cout << p.name() << "\n";
                });
}

TEST_F(SmctlCommandTest, ListShowsOnePageAndHowToGetTheNext) {
  Context ctx(Opts());
  DirectoryClient c(ctx);
  EXPECT_EQ(PrintNames(c, Paging{}), kExitOk);
  EXPECT_EQ(out_.str(), "甲\n乙\n还有更多结果：--page-token p2\n");
}

TEST_F(SmctlCommandTest, ListWithAllPagesGathersEveryPage) {
  Context ctx(Opts());
  DirectoryClient c(ctx);
  EXPECT_EQ(PrintNames(c, Paging{50, "", true}), kExitOk);
  EXPECT_EQ(out_.str(), "甲\n乙\n丙\n");
}

TEST_F(SmctlCommandTest, ListAsJsonIsOneReplyWithEveryItem) {
  Context ctx(Opts("json"));
  DirectoryClient c(ctx);
  EXPECT_EQ(PrintNames(c, Paging{50, "", true}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("\"丙\""));
  EXPECT_THAT(out_.str(), HasSubstr("\"next_page_token\": \"\""));
}

// ---------------------------------------------------------------------------------------
// Resolvers: a unit code or badge number that is not there is named in the error.

TEST_F(SmctlCommandTest, ResolverErrorNamesTheUnitCodeGiven) {
  Context ctx(Opts("table", "zh"));
  DirectoryClient c(ctx);
  std::string id;
  EXPECT_EQ(c.dir.UnitId("fucheng-branch", &id), kExitOk);
  EXPECT_EQ(id, FakeDirectory::kUnitId);
  EXPECT_EQ(c.dir.UnitId("no-such-unit", &id), kExitNotFound);
  EXPECT_EQ(err_.str(), "smctl: 未找到单位 no-such-unit\n");
}

TEST_F(SmctlCommandTest, ResolverErrorNamesTheBadgeGiven) {
  Context ctx(Opts("table", "en"));
  DirectoryClient c(ctx);
  std::string id;
  EXPECT_EQ(c.dir.PersonId("510683", &id), kExitNotFound);
  EXPECT_EQ(err_.str(), "smctl: no person with badge number 510683\n");
}

TEST_F(SmctlCommandTest, ResolverPassesOtherErrorsThroughTheDirectorysMessages) {
  Context ctx(Opts("table", "en"));
  DirectoryClient c(ctx);
  std::string id;
  EXPECT_EQ(c.dir.UnitId("denied", &id), kExitDenied);
  EXPECT_EQ(err_.str(), "smctl: permission denied: not for you\n");
}

TEST_F(SmctlCommandTest, ResolverLeavesAnOptionLeftOutEmptyWithoutACall) {
  Options o = Opts();
  o.addr = "127.0.0.1:1";  // nothing there: a call would fail
  Context ctx(o);
  DirectoryClient c(ctx);
  std::string id = "stale";
  EXPECT_EQ(c.dir.UnitIdIfGiven("", &id), kExitOk);
  EXPECT_EQ(id, "");
  EXPECT_EQ(c.dir.PersonIdIfGiven("", &id), kExitOk);
  EXPECT_EQ(err_.str(), "");
}

TEST_F(SmctlCommandTest, NotVisibleNamesWhatWasAskedFor) {
  Context ctx(Opts("table", "en"));
  DirectoryClient c(ctx);
  EXPECT_EQ(c.NotVisible("线索", "clue", "XS-2026-000009"), kExitNotFound);
  EXPECT_EQ(err_.str(), "smctl: clue XS-2026-000009 not found (or not visible to you)\n");
}

TEST_F(SmctlCommandTest, ReadByIdWithoutFetchMakesNoCall) {
  Options o = Opts();
  o.addr = "127.0.0.1:1";
  Context ctx(o);
  DirectoryClient c(ctx);
  v1::Unit u;
  EXPECT_EQ(c.ReadById(&v1::DirectoryService::Stub::GetUnit, v1::GetUnitRequest(), FakeDirectory::kUnitId, false, &u),
            kExitOk);
  EXPECT_EQ(u.id(), FakeDirectory::kUnitId);
}

TEST_F(SmctlCommandTest, ResolverTakesAUuidAsItIsWithoutACall) {
  Options o = Opts();
  o.addr = "127.0.0.1:1";  // nothing there: a call would fail
  Context ctx(o);
  DirectoryClient c(ctx);
  std::string id;
  EXPECT_EQ(c.dir.UnitId(FakeDirectory::kUnitId, &id), kExitOk);
  EXPECT_EQ(id, FakeDirectory::kUnitId);
}

// ---------------------------------------------------------------------------------------
// Commands: options into Args, the token check, choices.

const Choices kColours = {{1, "red", "红", "red"}, {2, "dark-blue", "深蓝", "dark blue"}};

struct ShowArgs {
  std::string unit;
  int colour = 0;
  std::vector<int> more;
};

ShowArgs* g_seen = nullptr;

int ShowUnit(DirectoryClient& c, const ShowArgs& a) {
  *g_seen = a;
  return c.Run(&v1::DirectoryService::Stub::GetUnit, UnitByCode(a.unit),
               [](const v1::Unit& u) { std::cout << u.code() << "\n"; });
}

struct Cli {
  CLI::App app{"test"};
  Commands commands;
  ShowArgs seen;
  Cli() {
    g_seen = &seen;
    auto [cmd, a] = commands.Add(&app, "show", "show a unit", ShowUnit);
    cmd->add_option("UNIT", a->unit, "unit code")->required();
    AddChoiceOption(cmd, "--colour", &a->colour, kColours, "colour");
    AddChoicesOption(cmd, "--more", &a->more, kColours, "colours")->delimiter(',');
  }
  void Parse(std::vector<std::string> args) {
    std::reverse(args.begin(), args.end());  // CLI11 takes them last first
    app.parse(args);
  }
};

TEST_F(SmctlCommandTest, CommandsFillArgsAndRunTheChosenHandler) {
  Cli cli;
  cli.Parse({"show", "fucheng-branch", "--colour", "dark-blue", "--more", "red,dark-blue"});
  Context ctx(Opts());
  EXPECT_EQ(cli.commands.Run(ctx), kExitOk);
  EXPECT_EQ(cli.seen.unit, "fucheng-branch");
  EXPECT_EQ(cli.seen.colour, 2);
  EXPECT_EQ(cli.seen.more, (std::vector<int>{1, 2}));
  EXPECT_EQ(out_.str(), "fucheng-branch\n");
}

TEST_F(SmctlCommandTest, CommandsRefuseWithoutATokenBeforeTheHandler) {
  Cli cli;
  cli.Parse({"show", "fucheng-branch"});
  Options o = Opts("table", "en");
  o.token = "";
  ::setenv("SMCTL_CONFIG_DIR", "/nonexistent/smctl-test", 1);  // no stored token either
  Context ctx(o);
  EXPECT_EQ(cli.commands.Run(ctx), kExitAuth);
  EXPECT_EQ(cli.seen.unit, "");  // the handler never ran
  EXPECT_EQ(err_.str(), "smctl: not logged in: run smctl login --dev, or pass --token / SMCTL_TOKEN.\n");
}

TEST_F(SmctlCommandTest, CommandsWithoutAChoiceRunNothing) {
  Cli cli;
  cli.Parse({});
  Context ctx(Opts());
  EXPECT_EQ(cli.commands.Run(ctx), kExitUsage);
}

TEST(SmctlChoices, AnUnknownSpellingIsAParseErrorListingTheChoices) {
  CLI::App app{"test"};
  Commands commands;
  int colour = 0;
  AddChoiceOption(&app, "--colour", &colour, kColours, "colour");
  std::vector<std::string> args = {"green", "--colour"};
  try {
    app.parse(args);
    FAIL() << "parsed";
  } catch (const CLI::ParseError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("red"));
    EXPECT_THAT(std::string(e.what()), HasSubstr("dark-blue"));
  }
  EXPECT_EQ(colour, 0);
}

TEST(SmctlChoices, LabelsAndValues) {
  EXPECT_EQ(Spellings(kColours), (std::vector<std::string>{"red", "dark-blue"}));
  EXPECT_EQ(ChoiceValue(kColours, "dark-blue"), 2);
  EXPECT_EQ(ChoiceValue(kColours, "green"), 0);
  EXPECT_EQ(Label(Lang::kZh, kColours, 2), "深蓝");
  EXPECT_EQ(Label(Lang::kEn, kColours, 2), "dark blue");
  EXPECT_EQ(Label(Lang::kEn, kColours, 0), "");
  EXPECT_EQ(Label(Lang::kEn, kColours, 7), "?7");
}

TEST(SmctlHistory, EventDataIsLabelledKeysAndTheirTexts) {
  const KeyLabels labels = {{"reason", {"理由", "reason"}}};
  auto text = [](const std::string& key, const nlohmann::json& v) -> std::optional<std::string> {
    if (key == "secret") return std::nullopt;
    return v.is_string() ? v.get<std::string>() : v.dump();
  };
  EXPECT_EQ(EventDataText(Lang::kZh, R"({"reason":"超时","days":3,"secret":"x"})", labels, text),
            "days：3；理由：超时");
  EXPECT_EQ(EventDataText(Lang::kEn, R"({"reason":"late"})", labels, text), "reason: late");
  EXPECT_EQ(EventDataText(Lang::kEn, "not json", labels, text), "not json");
}

TEST(SmctlHistory, PrintsSeqTimeEventActorData) {
  google::protobuf::RepeatedPtrField<v1::ClueEvent> events;
  v1::ClueEvent* ev = events.Add();
  ev->set_seq(1);
  ev->mutable_at()->set_seconds(1772690587);  // 2026-03-05 06:03:07 UTC
  ev->set_type("registered");
  std::stringstream out;
  auto* old = std::cout.rdbuf(out.rdbuf());
  PrintHistory(Lang::kEn, events, [](const v1::ClueEvent& e) { return EventCells{e.type(), "zhang", "x: 1"}; });
  std::cout.rdbuf(old);
  EXPECT_THAT(out.str(), HasSubstr("seq  time (Beijing)"));
  EXPECT_THAT(out.str(), HasSubstr("1    2026-03-05 14:03:07  registered  zhang  x: 1"));
}

TEST(SmctlNeedToken, NamesTheLoginCommand) {
  Options o = TestOptions();
  o.lang = "zh";
  Context ctx(o);
  std::stringstream err;
  auto* old = std::cerr.rdbuf(err.rdbuf());
  EXPECT_EQ(NeedToken(ctx, kClueService), kExitAuth);
  std::cerr.rdbuf(old);
  EXPECT_EQ(err.str(), "smctl: 未登录：请先运行 smctl login --dev，或用 --token / SMCTL_TOKEN 提供令牌。\n");
  EXPECT_THAT(err.str(), Not(HasSubstr("…")));
}

}  // namespace
}  // namespace sm::smctl
