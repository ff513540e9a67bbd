// directory-service through its generated stub, against a real PostgreSQL and Redis.
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "common/auth.h"
#include "common/client.h"
#include "common/log.h"
#include <spdlog/sinks/ostream_sink.h>
#include "common/db/migrate.h"
#include "common/directory_reader.h"
#include "common/metrics.h"
#include "common/status.h"
#include "common/uuid.h"
#include "services/directory/pg_store.h"
#include "services/directory/service.h"
#include "tests/integration/demo_directory.h"
#include "tests/support/pg_redis.h"

const std::vector<sm::db::Migration>& directory_lib_migrations();

namespace sm::directory {
namespace {

using ::sm::testing::PgRedis;

std::string ReadDemo() { return ::sm::testing::DemoDirectoryYaml(); }

class DirectoryServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    PgRedis& env = PgRedis::Get();
    env.ResetSchemas();
    pool_ = new db::Pool(env.Pool("sm_directory", "directory", 8));
    ASSERT_TRUE(db::ApplyMigrations(*pool_, "directory", directory_lib_migrations()).ok());
    redis_ = new redis::Client(env.Redis());
    auth::Config ac;
    ac.keys = auth::DevelopmentKeys();
    verifier_ = new auth::Verifier(*auth::Verifier::Create(ac));
    store_ = new PgStore(pool_, [] { return NewUuid(); });
    service_ = new DirectoryServiceImpl(store_, redis_, verifier_);
    server::Config sc;
    sc.listen = "127.0.0.1:0";
    server_ = std::move(*server::Server::Start(sc, {service_})).release();
    channel_ = new std::shared_ptr<grpc::Channel>(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
    demo_ = new std::string(ReadDemo());
  }
  static void TearDownTestSuite() {
    server_->Shutdown(std::chrono::milliseconds(100));
    delete server_;
    delete service_;
    delete store_;
    delete verifier_;
    delete redis_;
    delete pool_;
    delete channel_;
    delete demo_;
  }

  void SetUp() override {
    stub_ = v1::DirectoryService::NewStub(*channel_);
    // Every test starts from the demo directory (re-importing restores any change).
    auto r = Import(*demo_, NewUuid());
    ASSERT_TRUE(r.first.ok()) << r.first.error_message();
  }

  static std::string Token(std::vector<std::string> roles, std::chrono::seconds ttl = std::chrono::hours(1),
                           TimePoint now = {}, std::string secret = std::string(auth::kDevelopmentSecret)) {
    auth::Principal p{.user = "tester", .roles = std::move(roles)};
    if (p.HasRole(auth::kRoleService)) p.user = "directory-client-service";
    auth::MintRequest m = auth::DevelopmentMint(p, ttl);
    if (!p.HasRole(auth::kRoleService)) m.signing_key = secret;
    m.now = now;
    return *auth::Mint(m);
  }

  static void Authorize(grpc::ClientContext* ctx, const std::string& token) {
    ctx->AddMetadata("authorization", "Bearer " + token);
  }

  std::pair<grpc::Status, v1::ImportDirectoryResponse> Import(const std::string& doc, const std::string& request_id,
                                                              bool dry_run = false) {
    grpc::ClientContext ctx;
    Authorize(&ctx, Token({"admin"}));
    v1::ImportDirectoryRequest req;
    req.set_document(doc);
    req.set_request_id(request_id);
    req.set_dry_run(dry_run);
    v1::ImportDirectoryResponse resp;
    grpc::Status s = stub_->ImportDirectory(&ctx, req, &resp);
    return {s, resp};
  }

  std::vector<v1::Person> AllPeople(bool include_inactive = false) {
    std::vector<v1::Person> out;
    v1::SearchPeopleRequest req;
    req.set_page_size(100);
    req.set_include_inactive(include_inactive);
    while (true) {
      grpc::ClientContext ctx;
      Authorize(&ctx, Token({"staff"}));
      v1::SearchPeopleResponse resp;
      grpc::Status s = stub_->SearchPeople(&ctx, req, &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) break;
      for (const auto& p : resp.people()) out.push_back(p);
      if (resp.next_page_token().empty()) break;
      req.set_page_token(resp.next_page_token());
    }
    return out;
  }

  grpc::Status GetPerson(const std::string& badge, v1::Person* out) {
    grpc::ClientContext ctx;
    Authorize(&ctx, Token({"staff"}));
    v1::GetPersonRequest req;
    req.set_badge_no(badge);
    return stub_->GetPerson(&ctx, req, out);
  }

  int64_t Generation() { return *store_->Generation(); }

  static inline db::Pool* pool_;
  static inline redis::Client* redis_;
  static inline auth::Verifier* verifier_;
  static inline PgStore* store_;
  static inline DirectoryServiceImpl* service_;
  static inline server::Server* server_;
  static inline std::shared_ptr<grpc::Channel>* channel_;
  static inline std::string* demo_;
  std::unique_ptr<v1::DirectoryService::Stub> stub_;
};

std::vector<std::string> Fields(const grpc::Status& s) {
  std::vector<std::string> out;
  for (const auto& v : FieldViolations(FromGrpcStatus(s))) out.push_back(v.field);
  return out;
}

TEST_F(DirectoryServiceTest, ImportsDemoAndListsTheTreeInPreOrder) {
  grpc::ClientContext ctx;
  Authorize(&ctx, Token({"staff"}));
  v1::ListUnitsResponse resp;
  ASSERT_TRUE(stub_->ListUnits(&ctx, v1::ListUnitsRequest(), &resp).ok());
  ASSERT_EQ(resp.units_size(), 44);
  EXPECT_EQ(resp.units(0).code(), "bureau");
  EXPECT_EQ(resp.units(0).name(), "市公安局");
  EXPECT_EQ(resp.units(0).depth(), 0);
  // Pre-order: every unit's parent appears before it, with depth = parent depth + 1.
  std::map<std::string, int> depth;
  for (const auto& u : resp.units()) {
    if (!u.parent_id().empty()) {
      ASSERT_TRUE(depth.count(u.parent_id())) << u.code();
      EXPECT_EQ(u.depth(), depth[u.parent_id()] + 1);
      EXPECT_EQ(u.ancestor_ids(u.ancestor_ids_size() - 1), u.parent_id());
    }
    depth[u.id()] = u.depth();
  }
}

TEST_F(DirectoryServiceTest, ListsASubtreeByCodeWithDepthLimit) {
  grpc::ClientContext ctx;
  Authorize(&ctx, Token({"staff"}));
  v1::ListUnitsRequest req;
  req.set_root_code("fucheng-branch");
  v1::ListUnitsResponse resp;
  ASSERT_TRUE(stub_->ListUnits(&ctx, req, &resp).ok());
  ASSERT_GT(resp.units_size(), 1);
  EXPECT_EQ(resp.units(0).code(), "fucheng-branch");
  EXPECT_EQ(resp.units(0).depth(), 1);
  for (int i = 1; i < resp.units_size(); ++i) {
    EXPECT_EQ(resp.units(i).parent_id(), resp.units(0).id());
    EXPECT_EQ(resp.units(i).depth(), 2);
    EXPECT_EQ(resp.units(i).code().rfind("fucheng-branch-", 0), 0u);
  }
  grpc::ClientContext ctx2;
  Authorize(&ctx2, Token({"staff"}));
  req.set_root_code("");
  req.set_max_depth(1);
  ASSERT_TRUE(stub_->ListUnits(&ctx2, req, &resp).ok());
  for (const auto& u : resp.units()) EXPECT_LE(u.depth(), 1);

  grpc::ClientContext ctx3;
  Authorize(&ctx3, Token({"staff"}));
  req.set_root_code("no-such-unit");
  EXPECT_EQ(stub_->ListUnits(&ctx3, req, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(DirectoryServiceTest, ReimportIsIdempotentAndReportsNoChange) {
  const int64_t before = Generation();
  auto [s, resp] = Import(*demo_, NewUuid());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(resp.units().unchanged(), 44);
  EXPECT_EQ(resp.people().unchanged(), 367);
  EXPECT_EQ(resp.people().created() + resp.people().updated() + resp.people().deactivated(), 0);
  EXPECT_EQ(resp.changes_size(), 0);
  EXPECT_EQ(Generation(), before);
}

TEST_F(DirectoryServiceTest, RepeatedRequestIdReplaysAndDifferentContentIsRefused) {
  const std::string key = NewUuid();
  std::string changed = std::regex_replace(*demo_, std::regex("name: \"市公安局\""), "name: \"市公安局（新）\"");
  auto first = Import(changed, key);
  ASSERT_TRUE(first.first.ok()) << first.first.error_message();
  EXPECT_FALSE(first.second.mutation().replayed());
  EXPECT_EQ(first.second.units().updated(), 1);
  const int64_t gen = Generation();
  auto again = Import(changed, key);
  ASSERT_TRUE(again.first.ok());
  EXPECT_TRUE(again.second.mutation().replayed());
  EXPECT_EQ(again.second.units().updated(), 1);
  EXPECT_EQ(Generation(), gen);
  auto other = Import(*demo_, key);
  EXPECT_EQ(other.first.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(other.first), std::vector<std::string>{"request_id"});
  EXPECT_EQ(Generation(), gen);
}

TEST_F(DirectoryServiceTest, ReportsChangesAndInvalidatesTheCache) {
  const std::string people_pos = "\npeople:\n";
  const size_t at = demo_->find(people_pos);
  ASSERT_NE(at, std::string::npos);
  // Warm the cache for the first person.
  std::smatch m;
  std::string tail = demo_->substr(at);
  ASSERT_TRUE(std::regex_search(tail, m, std::regex("badge: \"([^\"]+)\"\n    name: \"([^\"]+)\"")));
  const std::string badge = m[1], name = m[2];
  v1::Person p;
  ASSERT_TRUE(GetPerson(badge, &p).ok());
  EXPECT_EQ(p.name(), name);
  // Rename that person and drop the last one.
  std::string doc = *demo_;
  doc.replace(doc.find("name: \"" + name + "\"", at), name.size() + 8, "name: \"" + name + "改\"");
  size_t last = doc.rfind("  - badge:");
  doc.erase(last);
  auto [s, resp] = Import(doc, NewUuid());
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.people().updated(), 1);
  EXPECT_EQ(resp.people().deactivated(), 1);
  bool saw_rename = false;
  for (const auto& c : resp.changes()) {
    if (c.key() == badge) {
      saw_rename = true;
      EXPECT_EQ(c.action(), v1::ImportChange::ACTION_UPDATED);
      ASSERT_EQ(c.fields_size(), 1);
      EXPECT_EQ(c.fields(0), "name");
    }
  }
  EXPECT_TRUE(saw_rename);
  ASSERT_TRUE(GetPerson(badge, &p).ok());
  EXPECT_EQ(p.name(), name + "改");  // not the cached old name
  EXPECT_EQ(AllPeople().size(), 366u);
  EXPECT_EQ(AllPeople(true).size(), 367u);
}

TEST_F(DirectoryServiceTest, DryRunWritesNothing) {
  const int64_t gen = Generation();
  std::string doc = std::regex_replace(*demo_, std::regex("name: \"市公安局\""), "name: \"试运行\"");
  auto [s, resp] = Import(doc, NewUuid(), true);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(resp.dry_run());
  EXPECT_EQ(resp.units().updated(), 1);
  EXPECT_EQ(Generation(), gen);
  grpc::ClientContext ctx;
  Authorize(&ctx, Token({"staff"}));
  v1::GetUnitRequest req;
  req.set_code("bureau");
  v1::Unit u;
  ASSERT_TRUE(stub_->GetUnit(&ctx, req, &u).ok());
  EXPECT_EQ(u.name(), "市公安局");
}

struct BadInput {
  const char* label;
  std::string doc;
  std::string field;
};

TEST_F(DirectoryServiceTest, BadInputsNameTheFieldAndChangeNothing) {
  const std::string unit_a = "  - code: a\n    name: 甲\n    kind: BUREAU\n    parent: \"\"\n";
  const std::string person = "people:\n  - badge: \"100001\"\n    name: 张三\n    unit: a\n    category: POLICE\n";
  const std::vector<BadInput> cases = {
      {"empty name", "units:\n  - code: a\n    name: \"\"\n    kind: BUREAU\n" + person, "units[0].name"},
      {"unknown parent", "units:\n" + unit_a + "  - code: b\n    name: 乙\n    kind: STATION\n    parent: nowhere\n",
       "units[1].parent"},
      {"cycle",
       "units:\n  - code: a\n    name: 甲\n    kind: BUREAU\n    parent: b\n"
       "  - code: b\n    name: 乙\n    kind: STATION\n    parent: a\n",
       "units[0].parent"},
      {"duplicate badge",
       "units:\n" + unit_a + person + "  - badge: \"100001\"\n    name: 李四\n    unit: a\n    category: POLICE\n",
       "people[1].badge"},
      {"oversize string", "units:\n  - code: a\n    name: " + std::string(65, 'x') + "\n    kind: BUREAU\n",
       "units[0].name"},
      {"invalid UTF-8",
       "units:\n" + unit_a +
           "people:\n  - badge: \"100001\"\n    name: \"\xff\xfe\"\n    unit: a\n    category: POLICE\n",
       "people[0].name"},
  };
  const int64_t gen = Generation();
  for (const auto& c : cases) {
    auto [s, resp] = Import(c.doc, NewUuid());
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.label;
    auto fields = Fields(s);
    EXPECT_NE(std::find(fields.begin(), fields.end(), c.field), fields.end())
        << c.label << ": got " << (fields.empty() ? s.error_message() : fields[0]);
    EXPECT_NE(s.error_message().find(fields.empty() ? "?" : fields[0]), std::string::npos) << c.label;
  }
  EXPECT_EQ(Generation(), gen);
  EXPECT_EQ(AllPeople().size(), 367u);
}

TEST_F(DirectoryServiceTest, BadReadArgumentsNameTheField) {
  grpc::ClientContext ctx;
  Authorize(&ctx, Token({"staff"}));
  v1::GetUnitRequest req;
  req.set_id("not-a-uuid");
  v1::Unit u;
  grpc::Status s = stub_->GetUnit(&ctx, req, &u);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(s), std::vector<std::string>{"id"});

  grpc::ClientContext ctx2;
  Authorize(&ctx2, Token({"staff"}));
  v1::SearchPeopleRequest sreq;
  sreq.set_page_token("garbage!");
  sreq.set_page_size(-1);
  v1::SearchPeopleResponse sresp;
  s = stub_->SearchPeople(&ctx2, sreq, &sresp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(s), (std::vector<std::string>{"page_size", "page_token"}));
}

TEST_F(DirectoryServiceTest, SearchPagesThroughEveryoneInPinyinOrder) {
  auto people = AllPeople();
  ASSERT_EQ(people.size(), 367u);
  std::set<std::string> ids;
  for (const auto& p : people) ids.insert(p.id());
  EXPECT_EQ(ids.size(), 367u);

  // Filters: leaders of 涪城分局 and every unit below it.
  grpc::ClientContext uctx;
  Authorize(&uctx, Token({"staff"}));
  v1::GetUnitRequest ureq;
  ureq.set_code("fucheng-branch");
  v1::Unit branch;
  ASSERT_TRUE(stub_->GetUnit(&uctx, ureq, &branch).ok());
  v1::SearchPeopleRequest req;
  req.set_unit_id(branch.id());
  req.set_include_subunits(true);
  req.set_leader(v1::SearchPeopleRequest::LEADER_FILTER_LEADERS);
  req.set_page_size(3);
  grpc::ClientContext ctx;
  Authorize(&ctx, Token({"staff"}));
  v1::SearchPeopleResponse resp;
  ASSERT_TRUE(stub_->SearchPeople(&ctx, req, &resp).ok());
  ASSERT_EQ(resp.people_size(), 3);
  for (const auto& p : resp.people()) {
    EXPECT_TRUE(p.leader());
    EXPECT_NE(p.unit_name().find("涪城分局"), std::string::npos);
  }
  ASSERT_FALSE(resp.next_page_token().empty());
  // The token is bound to its filters.
  req.set_page_token(resp.next_page_token());
  req.set_leader(v1::SearchPeopleRequest::LEADER_FILTER_ANY);
  grpc::ClientContext ctx2;
  Authorize(&ctx2, Token({"staff"}));
  grpc::Status s = stub_->SearchPeople(&ctx2, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(s), std::vector<std::string>{"page_token"});

  // Name substring and badge prefix.
  v1::SearchPeopleRequest nreq;
  nreq.set_name(people[0].name().substr(0, 3));  // the first character (UTF-8: 3 bytes)
  grpc::ClientContext ctx3;
  Authorize(&ctx3, Token({"staff"}));
  ASSERT_TRUE(stub_->SearchPeople(&ctx3, nreq, &resp).ok());
  ASSERT_GT(resp.people_size(), 0);
  for (const auto& p : resp.people()) EXPECT_NE(p.name().find(nreq.name()), std::string::npos);
}

TEST_F(DirectoryServiceTest, AuthenticationAndRoles) {
  v1::ListUnitsResponse resp;
  {
    grpc::ClientContext ctx;
    EXPECT_EQ(stub_->ListUnits(&ctx, v1::ListUnitsRequest(), &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext ctx;
    Authorize(&ctx, Token({"staff"}, std::chrono::hours(1), std::chrono::system_clock::now() - std::chrono::hours(2)));
    grpc::Status s = stub_->ListUnits(&ctx, v1::ListUnitsRequest(), &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_NE(s.error_message().find("expired"), std::string::npos);
  }
  {
    grpc::ClientContext ctx;
    Authorize(&ctx, Token({"admin"}, std::chrono::hours(1), {}, std::string(64, 'k')));  // forged
    EXPECT_EQ(stub_->ListUnits(&ctx, v1::ListUnitsRequest(), &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer not.a.jwt");
    EXPECT_EQ(stub_->ListUnits(&ctx, v1::ListUnitsRequest(), &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    const int64_t gen = Generation();
    grpc::ClientContext ctx;
    Authorize(&ctx, Token({"staff", "discipline"}));
    v1::ImportDirectoryRequest req;
    req.set_request_id(NewUuid());
    req.set_document("units: []\n");
    v1::ImportDirectoryResponse iresp;
    EXPECT_EQ(stub_->ImportDirectory(&ctx, req, &iresp).error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(Generation(), gen);
  }
  {
    grpc::ClientContext ctx;
    Authorize(&ctx, Token({}));  // a token without roles reads nothing
    EXPECT_EQ(stub_->ListUnits(&ctx, v1::ListUnitsRequest(), &resp).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
}

// The access table of docs/directory.md, cell by cell: each read RPC for each role.
TEST_F(DirectoryServiceTest, AccessTableCellByCell) {
  const std::vector<std::string> roles = {"admin",     "discipline", "oversight", "auditor", "inspector", "staff",
                                          "dashboard", "service",    "custodian", "visitor", ""};
  int checked = 0;
  for (const auto& role : roles) {
    SCOPED_TRACE("role '" + role + "'");
    const std::string token = Token(role.empty() ? std::vector<std::string>{} : std::vector<std::string>{role});
    const bool known = !role.empty() && role != "visitor";
    const bool people = known && role != "dashboard";
    auto expect = [&](bool allowed, const grpc::Status& s, const char* rpc) {
      EXPECT_EQ(s.error_code(), allowed ? grpc::StatusCode::OK : grpc::StatusCode::PERMISSION_DENIED)
          << rpc << ": " << s.error_message();
      ++checked;
    };
    {
      grpc::ClientContext ctx;
      Authorize(&ctx, token);
      v1::ListUnitsResponse r;
      expect(known, stub_->ListUnits(&ctx, v1::ListUnitsRequest(), &r), "ListUnits");
    }
    {
      grpc::ClientContext ctx;
      Authorize(&ctx, token);
      v1::GetUnitRequest q;
      q.set_code("bureau");
      v1::Unit r;
      expect(known, stub_->GetUnit(&ctx, q, &r), "GetUnit");
    }
    {
      grpc::ClientContext ctx;
      Authorize(&ctx, token);
      v1::ListPostsResponse r;
      expect(known, stub_->ListPosts(&ctx, v1::ListPostsRequest(), &r), "ListPosts");
    }
    {
      grpc::ClientContext ctx;
      Authorize(&ctx, token);
      v1::SearchPeopleRequest q;
      q.set_page_size(1);
      v1::SearchPeopleResponse r;
      expect(people, stub_->SearchPeople(&ctx, q, &r), "SearchPeople");
    }
    {
      grpc::ClientContext ctx;
      Authorize(&ctx, token);
      v1::GetPersonRequest q;
      q.set_badge_no("510701");
      v1::Person r;
      grpc::Status s = stub_->GetPerson(&ctx, q, &r);
      if (people && s.error_code() == grpc::StatusCode::NOT_FOUND) s = grpc::Status::OK;  // the badge may not exist
      expect(people, s, "GetPerson");
    }
    {
      const int64_t gen = Generation();
      grpc::ClientContext ctx;
      Authorize(&ctx, token);
      v1::ImportDirectoryRequest req;
      req.set_request_id(NewUuid());
      req.set_document("units: [\n");  // refused as a document when the role may import
      v1::ImportDirectoryResponse r;
      grpc::Status s = stub_->ImportDirectory(&ctx, req, &r);
      EXPECT_EQ(s.error_code(),
                role == "admin" ? grpc::StatusCode::INVALID_ARGUMENT : grpc::StatusCode::PERMISSION_DENIED)
          << s.error_message();
      EXPECT_EQ(Generation(), gen);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 6 * static_cast<int>(roles.size()));
}

TEST_F(DirectoryServiceTest, RequestIdIsEchoedAndGeneratedWhenAbsent) {
  grpc::ClientContext ctx;
  Authorize(&ctx, Token({"staff"}));
  ctx.AddMetadata("x-request-id", "req-123");
  ctx.AddMetadata("x-trace-id", "trace-abc");
  v1::ListPostsResponse resp;
  ASSERT_TRUE(stub_->ListPosts(&ctx, v1::ListPostsRequest(), &resp).ok());
  EXPECT_EQ(resp.posts_size(), 25);
  auto md = ctx.GetServerInitialMetadata();
  ASSERT_EQ(md.count("x-request-id"), 1u);
  EXPECT_EQ(std::string(md.find("x-request-id")->second.data(), md.find("x-request-id")->second.size()), "req-123");
  EXPECT_EQ(std::string(md.find("x-trace-id")->second.data(), md.find("x-trace-id")->second.size()), "trace-abc");
  grpc::ClientContext ctx2;
  Authorize(&ctx2, Token({"staff"}));
  ASSERT_TRUE(stub_->ListPosts(&ctx2, v1::ListPostsRequest(), &resp).ok());
  auto md2 = ctx2.GetServerInitialMetadata();
  ASSERT_EQ(md2.count("x-request-id"), 1u);
  EXPECT_TRUE(IsUuid(std::string(md2.find("x-request-id")->second.data(), md2.find("x-request-id")->second.size())));
}

TEST_F(DirectoryServiceTest, ClientHelperForwardsIdsAndTheEndUser) {
  std::ostringstream captured;
  log::Init("directory-test", "info", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured));
  RequestContext rc{"fwd-req-1", "fwd-trace-1", "/test/Caller", "alice"};
  {
    ScopedRequestContext scope(&rc);
    client::Config cc;
    grpc::ClientContext ctx;
    client::PrepareContext(&ctx, cc, Token({"service"}));  // a service calling for alice
    v1::ListPostsResponse resp;
    ASSERT_TRUE(stub_->ListPosts(&ctx, v1::ListPostsRequest(), &resp).ok());
    auto md = ctx.GetServerInitialMetadata();
    ASSERT_EQ(md.count("x-request-id"), 1u);
    EXPECT_EQ(std::string(md.find("x-request-id")->second.data(), md.find("x-request-id")->second.size()), "fwd-req-1");
    EXPECT_EQ(std::string(md.find("x-trace-id")->second.data(), md.find("x-trace-id")->second.size()), "fwd-trace-1");
  }
  // The access line names the end user and the service it came through.
  bool found = false;
  std::istringstream lines(captured.str());
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.value("msg", "") == "rpc" && j.value("request_id", "") == "fwd-req-1") {
      found = true;
      EXPECT_EQ(j.value("user", ""), "alice");
      EXPECT_EQ(j.value("via", ""), "directory-client-service");
      EXPECT_EQ(j.value("trace_id", ""), "fwd-trace-1");
    }
  }
  EXPECT_TRUE(found) << captured.str();
  // A caller without the service role cannot act for someone else.
  captured.str("");
  grpc::ClientContext ctx;
  Authorize(&ctx, Token({"staff"}));
  ctx.AddMetadata("x-sm-on-behalf-of", "mallory");
  ctx.AddMetadata("x-request-id", "fwd-req-2");
  v1::ListPostsResponse resp;
  ASSERT_TRUE(stub_->ListPosts(&ctx, v1::ListPostsRequest(), &resp).ok());
  EXPECT_NE(captured.str().find("\"user\":\"tester\""), std::string::npos) << captured.str();
  EXPECT_EQ(captured.str().find("mallory"), std::string::npos);
  log::Init("directory-test", "info");
}

TEST_F(DirectoryServiceTest, ReadsStillAnswerWhileRedisIsDown) {
  v1::Person p;
  PgRedis::Get().StopRedis();
  auto people = AllPeople();
  EXPECT_EQ(people.size(), 367u);
  ASSERT_TRUE(GetPerson(people[5].badge_no(), &p).ok());
  EXPECT_EQ(p.id(), people[5].id());
  grpc::ClientContext ctx;
  Authorize(&ctx, Token({"staff"}));
  v1::ListUnitsResponse units;
  EXPECT_TRUE(stub_->ListUnits(&ctx, v1::ListUnitsRequest(), &units).ok());
  EXPECT_EQ(units.units_size(), 44);
  EXPECT_FALSE(redis_->up());
  EXPECT_NE(metrics::Metrics::Global().Render().find("sm_redis_up 0"), std::string::npos);
  // Writes are unaffected.
  auto [s, resp] = Import(*demo_, NewUuid());
  EXPECT_TRUE(s.ok()) << s.error_message();
  PgRedis::Get().StartRedis();
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // past the reconnect interval
  ASSERT_TRUE(GetPerson(people[5].badge_no(), &p).ok());
  EXPECT_TRUE(redis_->up());
}

TEST_F(DirectoryServiceTest, FlushingRedisChangesNoAnswer) {
  auto before = AllPeople();
  v1::Person p1;
  ASSERT_TRUE(GetPerson(before[0].badge_no(), &p1).ok());
  ASSERT_TRUE(redis_->Command({"FLUSHALL"}).ok());
  v1::Person p2;
  ASSERT_TRUE(GetPerson(before[0].badge_no(), &p2).ok());
  EXPECT_EQ(p1.SerializeAsString(), p2.SerializeAsString());
  EXPECT_EQ(AllPeople().size(), before.size());
}

TEST_F(DirectoryServiceTest, AnswersAgainAfterPostgresRestartsWithoutServiceRestart) {
  PgRedis::Get().StopPostgres();
  {
    grpc::ClientContext ctx;
    Authorize(&ctx, Token({"staff"}));
    v1::SearchPeopleResponse resp;
    grpc::Status s = stub_->SearchPeople(&ctx, v1::SearchPeopleRequest(), &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  }
  PgRedis::Get().StartPostgres();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  grpc::Status s;
  int attempts = 0;
  do {
    grpc::ClientContext ctx;
    Authorize(&ctx, Token({"staff"}));
    v1::SearchPeopleResponse resp;
    s = stub_->SearchPeople(&ctx, v1::SearchPeopleRequest(), &resp);
    ++attempts;
    if (s.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_TRUE(s.ok()) << "after " << attempts << " attempts: " << s.error_message();
}

TEST_F(DirectoryServiceTest, OtherServicesReadViewsButCannotWrite) {
  pqxx::connection conn("host=127.0.0.1 port=" + std::to_string(PgRedis::Get().pg_port()) +
                        " dbname=supervision user=sm_clue");
  {
    pqxx::work tx(conn);
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM directory.v_people WHERE active")[0].as<int>(), 367);
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM directory.v_units")[0].as<int>(), 44);
  }
  {
    pqxx::work tx(conn);
    EXPECT_THROW(tx.exec("SELECT count(*) FROM directory.people"), pqxx::insufficient_privilege);
  }
  {
    pqxx::work tx(conn);
    EXPECT_THROW(tx.exec("UPDATE directory.v_people SET name = 'x'"), pqxx::insufficient_privilege);
  }
  {
    pqxx::work tx(conn);
    EXPECT_THROW(tx.exec("CREATE TABLE directory.evil (id int)"), pqxx::insufficient_privilege);
  }
}

// ---- leader duties (一案双查) ----------------------------------------------------------------

TEST_F(DirectoryServiceTest, PostsReturnTheirDuty) {
  auto get = [&](const std::string& code) {
    grpc::ClientContext ctx;
    Authorize(&ctx, Token({"staff"}));
    v1::GetPostRequest req;
    req.set_code(code);
    v1::Post post;
    grpc::Status s = stub_->GetPost(&ctx, req, &post);
    EXPECT_TRUE(s.ok()) << code << ": " << s.error_message();
    return post.duty();
  };
  EXPECT_EQ(get("branch-chief"), v1::LEADER_DUTY_PRINCIPAL);
  EXPECT_EQ(get("unit-commissar"), v1::LEADER_DUTY_SUPERVISING);
  EXPECT_EQ(get("case-officer"), v1::LEADER_DUTY_UNSPECIFIED);
  grpc::ClientContext ctx;
  Authorize(&ctx, Token({"staff"}));
  v1::ListPostsResponse list;
  ASSERT_TRUE(stub_->ListPosts(&ctx, v1::ListPostsRequest(), &list).ok());
  std::map<v1::LeaderDuty, int> by_duty;
  for (const auto& p : list.posts()) ++by_duty[p.duty()];
  EXPECT_EQ(by_duty[v1::LEADER_DUTY_PRINCIPAL], 6);
  EXPECT_EQ(by_duty[v1::LEADER_DUTY_SUPERVISING], 3);
}

// DirectoryReader::LeadersOf as another service runs it: as its own role (a member of
// sm_directory_reader), through the views.
class LeadersOfTest : public DirectoryServiceTest {
 protected:
  void SetUp() override {
    DirectoryServiceTest::SetUp();
    if (reader_pool_ == nullptr) reader_pool_ = new db::Pool(PgRedis::Get().Pool("sm_inspection", "inspection", 2));
    reader_ = std::make_unique<DirectoryReader>(reader_pool_);
  }
  static void TearDownTestSuite() {
    delete reader_pool_;
    reader_pool_ = nullptr;
    DirectoryServiceTest::TearDownTestSuite();
  }

  std::string PersonId(const std::string& badge) {
    v1::Person p;
    grpc::Status s = GetPerson(badge, &p);
    EXPECT_TRUE(s.ok()) << badge << ": " << s.error_message();
    return p.id();
  }
  // The leader's badge and the code of the unit it was found in, or "-" when absent.
  std::string Describe(const std::optional<ResponsibleLeader>& l) {
    if (!l) return "-";
    v1::Person p;
    grpc::ClientContext ctx;
    Authorize(&ctx, Token({"staff"}));
    v1::GetPersonRequest req;
    req.set_id(l->person_id);
    EXPECT_TRUE(stub_->GetPerson(&ctx, req, &p).ok());
    EXPECT_EQ(p.name(), l->name);
    EXPECT_EQ(p.post_id(), l->post_id);
    grpc::ClientContext uctx;
    Authorize(&uctx, Token({"staff"}));
    v1::GetUnitRequest ureq;
    ureq.set_id(l->unit_id);
    v1::Unit u;
    EXPECT_TRUE(stub_->GetUnit(&uctx, ureq, &u).ok());
    return p.badge_no() + "@" + u.code();
  }
  std::pair<std::string, std::string> Leaders(const std::string& unit_code) {
    auto l = reader_->LeadersOf(sm::testing::UnitId(unit_code));
    EXPECT_TRUE(l.ok()) << unit_code << ": " << l.status();
    if (!l.ok()) return {};
    return {Describe(l->principal), Describe(l->supervising)};
  }
  // Imports `doc` and waits (at most 3 s; the reader re-reads the generation every 250 ms)
  // until the reader's answer for `unit_code` is no longer `before`.
  std::pair<std::string, std::string> ImportAndWait(const std::string& doc, const std::string& unit_code,
                                                    const std::pair<std::string, std::string>& before) {
    auto [s, resp] = Import(doc, NewUuid());
    EXPECT_TRUE(s.ok()) << s.error_message();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    std::pair<std::string, std::string> now = Leaders(unit_code);
    while (now == before && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      now = Leaders(unit_code);
    }
    return now;
  }
  static std::string Replace(std::string doc, const std::string& from, const std::string& to) {
    size_t at = doc.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) doc.replace(at, from.size(), to);
    return doc;
  }
  static std::string WithoutPerson(const std::string& doc, const std::string& badge) {
    const size_t at = doc.find("  - badge: \"" + badge + "\"\n");
    EXPECT_NE(at, std::string::npos) << badge;
    if (at == std::string::npos) return doc;
    const size_t next = doc.find("  - badge:", at + 1);
    return doc.substr(0, at) + (next == std::string::npos ? "" : doc.substr(next));
  }

  static inline db::Pool* reader_pool_ = nullptr;
  std::unique_ptr<DirectoryReader> reader_;
};

TEST_F(LeadersOfTest, BothFromTheUnitItself) {
  using P = std::pair<std::string, std::string>;
  // 分局局长 and 政委 of the branch; a police division's 支队长 and 政委.
  EXPECT_EQ(Leaders("fucheng-branch"), P("512763@fucheng-branch", "511936@fucheng-branch"));
  EXPECT_EQ(Leaders("criminal-investigation-division"),
            P("510967@criminal-investigation-division", "516673@criminal-investigation-division"));
  // 所长 and 教导员 of a station.
  EXPECT_EQ(Leaders("fucheng-branch-chengjiao-station"),
            P("512671@fucheng-branch-chengjiao-station", "512144@fucheng-branch-chengjiao-station"));
  // In the caller's transaction (a write path holding a connection) the answer is the same.
  auto in_tx = db::WithTransaction(*reader_pool_, [&](db::Tx& tx) -> absl::Status {
    auto l = reader_->LeadersOf(sm::testing::UnitId("fucheng-branch"), &tx);
    if (!l.ok()) return l.status();
    EXPECT_EQ(l->principal.value_or(ResponsibleLeader{}).person_id, PersonId("512763"));
    EXPECT_EQ(l->supervising.value_or(ResponsibleLeader{}).person_id, PersonId("511936"));
    return absl::OkStatus();
  });
  EXPECT_TRUE(in_tx.ok()) << in_tx;
}

TEST_F(LeadersOfTest, EachFromTheNearestAncestorThatHasOne) {
  using P = std::pair<std::string, std::string>;
  // A station without an instructor: its 所长, and the branch's 政委.
  EXPECT_EQ(Leaders("fucheng-branch-gongqu-station"),
            P("510707@fucheng-branch-gongqu-station", "511936@fucheng-branch"));
  // A team: its 大队长, and the branch's 政委.
  EXPECT_EQ(Leaders("kexin-branch-criminal-team"), P("515641@kexin-branch-criminal-team", "516401@kexin-branch"));
  // Without its 所长, the station's leaders both come from the branch (the nearest unit
  // that has one: not the bureau above it, whose 局长 is also PRINCIPAL).
  const P before = Leaders("fucheng-branch-gongqu-station");
  EXPECT_EQ(ImportAndWait(WithoutPerson(*demo_, "510707"), "fucheng-branch-gongqu-station", before),
            P("512763@fucheng-branch", "511936@fucheng-branch"));
}

TEST_F(LeadersOfTest, MissingLeadersAreAbsentNotAnError) {
  using P = std::pair<std::string, std::string>;
  // The bureau's 政委 sits in the party committee, not above a division: a division without
  // a 政委 of its own has no supervising leader.
  EXPECT_EQ(Leaders("public-order-division"), P("519162@public-order-division", "-"));
  // The commission's root holds no post with a duty, and has no ancestor.
  EXPECT_EQ(Leaders("discipline-commission"), P("-", "-"));
  EXPECT_EQ(Leaders("bureau"), P("516091@bureau", "-"));
}

TEST_F(LeadersOfTest, UnknownUnitIsNotFound) {
  EXPECT_EQ(reader_->LeadersOf(NewUuid()).status().code(), absl::StatusCode::kNotFound);
  // And again (a miss is not kept as an answer).
  EXPECT_EQ(reader_->LeadersOf(NewUuid()).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(LeadersOfTest, AnInactivePersonIsSkipped) {
  using P = std::pair<std::string, std::string>;
  const P before = Leaders("fucheng-branch-chengjiao-station");
  ASSERT_EQ(before.second, "512144@fucheng-branch-chengjiao-station");
  // The instructor leaves the directory (deactivated): the branch's 政委 answers instead.
  EXPECT_EQ(ImportAndWait(WithoutPerson(*demo_, "512144"), "fucheng-branch-chengjiao-station", before),
            P("512671@fucheng-branch-chengjiao-station", "511936@fucheng-branch"));
  v1::Person gone;
  ASSERT_TRUE(GetPerson("512144", &gone).ok());
  EXPECT_FALSE(gone.active());
}

TEST_F(LeadersOfTest, AnImportChangingAPostShowsThroughAndTheLowestBadgeWins) {
  using P = std::pair<std::string, std::string>;
  const P before = Leaders("gaoxin-branch");  // kept in the reader's memory
  ASSERT_EQ(before, P("519658@gaoxin-branch", "510218@gaoxin-branch"));
  // 分局副局长 made PRINCIPAL too: two principals per branch, the lower badge is taken —
  // gaoxin's deputy (517516 < 519658), fucheng's chief (512763 < 515723).
  const std::string doc = Replace(*demo_, "name_en: \"Deputy branch bureau chief\"\n    powers: [CASE_HANDLING]\n",
                                  "name_en: \"Deputy branch bureau chief\"\n    powers: [CASE_HANDLING]\n"
                                  "    duty: PRINCIPAL\n");
  EXPECT_EQ(ImportAndWait(doc, "gaoxin-branch", before), P("517516@gaoxin-branch", "510218@gaoxin-branch"));
  EXPECT_EQ(Leaders("fucheng-branch"), P("512763@fucheng-branch", "511936@fucheng-branch"));
  // The duty taken off the branch 政委 post: no supervising leader up the tree (the bureau's
  // 政委 sits in the party committee, beside the branch, not above it).
  const P now = Leaders("gaoxin-branch");
  const std::string commissar =
      "name_en: \"Political commissar of a branch bureau or division\"\n    powers: [PERSONNEL]\n";
  EXPECT_EQ(ImportAndWait(Replace(doc, commissar + "    duty: SUPERVISING\n", commissar), "gaoxin-branch", now),
            P("517516@gaoxin-branch", "-"));
}

}  // namespace
}  // namespace sm::directory
