// clue-service through its generated stub against a real PostgreSQL (with the demo
// directory imported): lifecycle, two-way transfer, races, idempotency, access, bad
// input, tamper evidence and confidentiality.
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>
#include <spdlog/sinks/ostream_sink.h>

#include <grpcpp/generic/generic_stub.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "common/auth.h"
#include "common/db/migrate.h"
#include "common/db/sql.h"
#include "common/log.h"
#include "common/pg_listen.h"
#include "common/metrics.h"
#include "common/redis.h"
#include "common/sealed.h"
#include "common/signature.h"
#include "common/status.h"
#include "common/uuid.h"
#include "common/workdays.h"
#include "services/clue/pg_store.h"
#include "services/clue/service.h"
#include "services/directory/pg_store.h"
#include "tests/integration/demo_directory.h"
#include "tests/support/pg_redis.h"

const std::vector<sm::db::Migration>& directory_lib_migrations();
const std::vector<sm::db::Migration>& clue_lib_migrations();

namespace sm::clue {
namespace {

using ::sm::testing::PgRedis;

// Friday 2025-01-24 10:00 Beijing time: the Spring Festival holiday follows.
TimePoint Start() {
  return FromUnixSeconds(workdays::DaysFromCivil(*workdays::ParseDate("2025-01-24")) * 86400 + 2 * 3600);
}

class ClueServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    PgRedis& env = PgRedis::Get();
    env.ResetSchemas();
    dir_pool_ = new db::Pool(env.Pool("sm_directory", "directory", 2));
    ::sm::testing::SeedDemoDirectory(*dir_pool_);

    pool_ = new db::Pool(env.Pool("sm_clue", "clue", 8));
    ASSERT_TRUE(db::ApplyMigrations(*pool_, "clue", clue_lib_migrations()).ok());
    clock_ = new FakeClock(Start());
    auth::Config ac;
    ac.keys = auth::DevelopmentKeys();
    verifier_ = new auth::Verifier(*auth::Verifier::Create(ac));
    keys_ = new crypto::Keyring(crypto::DevelopmentKeyring());
    calendar_ = new workdays::Calendar(*workdays::Calendar::LoadDir(std::string(SM_SOURCE_DIR) + "/deploy/calendar"));
    store_ = new PgStore(pool_, *clock_);
    store_->SetChainKeys(chain::KeysOf(
        *auth::ServiceIdentity::Create({.name = "clue-service", .key_pem = std::string(auth::kDevelopmentServiceKey)}),
        nullptr, "clue-service"));
    redis_ = new redis::Client(env.Redis());
    listener_ = new db::Listener(env.Pool("sm_clue", "clue"), "clue_events");
    listener_->Start();
    service_ = new ClueServiceImpl(store_, verifier_, keys_, calendar_, Limits{}, *clock_, redis_, listener_);
    scanner_ = new OverdueScanner(store_, *clock_);
    server::Config sc;
    server_ = std::move(*server::Server::Start(sc, {service_})).release();
    channel_ = new std::shared_ptr<grpc::Channel>(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
  }
  static void TearDownTestSuite() {
    server_->Shutdown(std::chrono::milliseconds(100));
    delete server_;
    delete scanner_;
    delete service_;
    listener_->Stop();
    delete listener_;
    delete redis_;
    delete store_;
    delete calendar_;
    delete keys_;
    delete verifier_;
    delete clock_;
    delete pool_;
    delete dir_pool_;
    delete channel_;
  }
  void SetUp() override {
    stub_ = v1::ClueService::NewStub(*channel_);
    clock_->Set(Start());
  }

  static std::string UnitId(const std::string& code) { return ::sm::testing::UnitId(code); }
  static std::string PersonIn(const std::string& code, bool leader = false) {
    return ::sm::testing::PersonIn(code, leader);
  }
  static std::string Conn() { return ::sm::testing::Conn(); }
  static int64_t Count(const std::string& sql) { return ::sm::testing::Count(sql); }
  static void Sql(const std::string& sql) { ::sm::testing::Sql(sql); }

  struct Who {
    std::string unit;
    std::vector<std::string> roles = {"discipline"};
    int clearance = 1;
    std::string user = "u";
  };
  static std::string Token(const Who& w) {
    auth::Principal p{.user = w.user, .unit = w.unit, .roles = w.roles, .clearance = w.clearance};
    // A service's token names the service and nothing else (its key vouches for no more).
    if (p.HasRole(auth::kRoleService)) {
      p = auth::Principal{.user = w.user == "u" ? "audit-service" : w.user, .roles = w.roles};
    }
    return *auth::Mint(auth::DevelopmentMint(p));
  }
  template <typename Req, typename Resp, typename Fn>
  grpc::Status Call(const Who& w, Fn fn, const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + Token(w));
    return (stub_.get()->*fn)(&ctx, req, resp);
  }

  v1::RegisterClueRequest Petition(const std::string& origin_code) {
    v1::RegisterClueRequest r;
    r.set_request_id(NewUuid());
    r.set_origin_unit_id(UnitId(origin_code));
    r.set_source(v1::CLUE_SOURCE_PETITION);
    r.set_channel(v1::RECEIPT_CHANNEL_LETTER);
    r.add_subjects()->set_person_id(PersonIn("fucheng-branch-chengjiao-station"));
    r.add_categories(v1::CLUE_CATEGORY_WORK);
    r.add_categories(v1::CLUE_CATEGORY_ALCOHOL);
    r.set_summary("反映城郊派出所民警工作日午间饮酒");
    r.set_details("举报信称：某日中午在辖区饭店饮酒后返岗。");
    r.mutable_reporter()->set_name("李某");
    r.mutable_reporter()->set_contact("139-0000-0000");
    r.set_severity(v1::SEVERITY_MEDIUM);
    return r;
  }

  // How many batches of `batch` (common/coalesce.h) ran so far, and the items they held.
  static std::pair<double, double> BatchStats(const std::string& batch) {
    const std::string text = metrics::Metrics::Global().Render();
    auto value = [&](const std::string& name) {
      const std::string key = name + "{batch=\"" + batch + "\"} ";
      size_t at = text.find(key);
      return at == std::string::npos ? 0.0 : std::stod(text.substr(at + key.size()));
    };
    return {value("sm_batch_size_count"), value("sm_batch_size_sum")};
  }

  v1::Clue Register(const Who& w, const v1::RegisterClueRequest& r) {
    v1::ClueReply reply;
    grpc::Status s = Call(w, &v1::ClueService::Stub::RegisterClue, r, &reply);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return reply.clue();
  }

  static inline db::Pool* dir_pool_;
  static inline db::Pool* pool_;
  static inline FakeClock* clock_;
  static inline auth::Verifier* verifier_;
  static inline crypto::Keyring* keys_;
  static inline workdays::Calendar* calendar_;
  static inline PgStore* store_;
  static inline ClueServiceImpl* service_;
  static inline redis::Client* redis_;
  static inline db::Listener* listener_;
  static inline OverdueScanner* scanner_;
  static inline server::Server* server_;
  static inline std::shared_ptr<grpc::Channel>* channel_;
  std::unique_ptr<v1::ClueService::Stub> stub_;
};

std::vector<std::string> Fields(const grpc::Status& s) {
  std::vector<std::string> out;
  for (const auto& v : FieldViolations(FromGrpcStatus(s))) out.push_back(v.field);
  return out;
}

TEST_F(ClueServiceTest, FullLifecycleWithTwoWayTransferAndFeedback) {
  const Who group{UnitId("discipline-group")};
  const Who commission{UnitId("discipline-commission")};
  auto petition = Petition("discipline-group");
  petition.add_subjects()->set_unit_id(UnitId("fucheng-branch-chengjiao-station"));
  v1::Clue c = Register(group, petition);
  EXPECT_EQ(c.state(), v1::CLUE_STATE_REGISTERED);
  EXPECT_EQ(c.number().rfind("XS-2025-", 0), 0u) << c.number();
  EXPECT_TRUE(c.details().empty());
  EXPECT_TRUE(c.details_withheld());
  EXPECT_TRUE(c.reporter_on_file());
  EXPECT_FALSE(c.has_reporter());
  // Dispose within 5 working days from Friday 2025-01-24: 01-26 (make-up Sunday), 01-27,
  // then the Spring Festival, then 02-05, 02-06, 02-07.
  EXPECT_EQ(c.deadline_stage(), "dispose");
  EXPECT_EQ(c.deadline_at().seconds(), ToUnixSeconds(workdays::EndOfDay(*workdays::ParseDate("2025-02-07"))));

  v1::TransferClueRequest t;
  t.set_request_id(NewUuid());
  t.set_clue_id(c.id());
  t.set_expected_version(c.version());
  t.set_to_unit_id(commission.unit);
  t.set_reason("涉嫌违纪，移送纪委监委");
  v1::ClueReply r;
  ASSERT_TRUE(Call(group, &v1::ClueService::Stub::TransferClue, t, &r).ok());
  EXPECT_EQ(r.clue().state(), v1::CLUE_STATE_OFFERED);
  EXPECT_EQ(r.clue().offered_to_unit_id(), commission.unit);
  EXPECT_EQ(r.clue().deadline_stage(), "accept");

  v1::AcceptClueRequest a;
  a.set_request_id(NewUuid());
  a.set_clue_id(c.id());
  a.set_expected_version(r.clue().version());
  // The sender cannot accept its own offer.
  EXPECT_EQ(Call(group, &v1::ClueService::Stub::AcceptClue, a, &r).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Call(commission, &v1::ClueService::Stub::AcceptClue, a, &r).ok());
  EXPECT_EQ(r.clue().state(), v1::CLUE_STATE_HELD);
  EXPECT_EQ(r.clue().holding_unit_id(), commission.unit);

  v1::DisposeClueRequest d;
  d.set_request_id(NewUuid());
  d.set_clue_id(c.id());
  d.set_expected_version(r.clue().version());
  d.set_method(v1::DISPOSITION_METHOD_VERIFICATION);
  // Once accepted, the sender no longer holds it.
  EXPECT_EQ(Call(group, &v1::ClueService::Stub::DisposeClue, d, &r).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Call(commission, &v1::ClueService::Stub::DisposeClue, d, &r).ok());
  EXPECT_EQ(r.clue().state(), v1::CLUE_STATE_IN_HANDLING);
  EXPECT_EQ(r.clue().deadline_stage(), "handle");

  v1::ConcludeClueRequest k;
  k.set_request_id(NewUuid());
  k.set_clue_id(c.id());
  k.set_expected_version(r.clue().version());
  k.set_form(v1::SUPERVISION_FORM_2);
  k.add_sanctions("党内警告");
  k.set_feedback("经初核属实，给予党内警告处分。");
  ASSERT_TRUE(Call(commission, &v1::ClueService::Stub::ConcludeClue, k, &r).ok());
  EXPECT_EQ(r.clue().state(), v1::CLUE_STATE_CONCLUDED);

  // The feedback reaches the unit that sent the clue.
  v1::Clue seen;
  v1::GetClueRequest g;
  g.set_clue_id(c.id());
  ASSERT_TRUE(Call(group, &v1::ClueService::Stub::GetClue, g, &seen).ok());
  EXPECT_EQ(seen.outcome().form(), v1::SUPERVISION_FORM_2);
  EXPECT_EQ(seen.outcome().feedback(), "经初核属实，给予党内警告处分。");
  EXPECT_TRUE(seen.details().empty());  // details stay with the holder

  // The sender keeps what it sent and the outcome, not where the case went or how it ran.
  EXPECT_TRUE(seen.holding_unit_id().empty());
  EXPECT_FALSE(seen.has_disposition());
  EXPECT_EQ(seen.summary(), c.summary());
  v1::GetClueHistoryRequest h;
  h.set_clue_id(c.id());
  v1::GetClueHistoryResponse hist;
  EXPECT_EQ(Call(group, &v1::ClueService::Stub::GetClueHistory, h, &hist).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Call(commission, &v1::ClueService::Stub::GetClueHistory, h, &hist).ok());
  std::vector<std::string> types;
  for (const auto& e : hist.events()) types.push_back(e.type());
  EXPECT_EQ(types, (std::vector<std::string>{"registered", "offered", "accepted", "disposed", "concluded"}));
  // The registered and concluded events name the subjects by id only (risk-service scores
  // people from the feed), never by name.
  ASSERT_EQ(c.subjects_size(), 2);
  for (int i : {0, 4}) {
    const std::string& data = hist.events(i).data_json();
    EXPECT_NE(data.find(c.subjects(0).person_id()), std::string::npos) << data;
    EXPECT_NE(data.find(c.subjects(1).unit_id()), std::string::npos) << data;
    for (const auto& subject : c.subjects()) {
      ASSERT_FALSE(subject.display_name().empty());
      EXPECT_EQ(data.find(subject.display_name()), std::string::npos) << data;
    }
  }

  // And the other direction: the commission sends a gang-case lead back to the police.
  auto lead = Petition("discipline-commission");
  lead.set_source(v1::CLUE_SOURCE_CASE_HANDLING);
  lead.clear_categories();
  lead.add_categories(v1::CLUE_CATEGORY_GANG_UMBRELLA);
  lead.set_summary("涉黑案件线索：反映某派出所民警充当保护伞");
  v1::Clue back = Register(commission, lead);
  const Who police{UnitId("fucheng-branch-discipline-committee")};
  t.set_request_id(NewUuid());
  t.set_clue_id(back.id());
  t.set_expected_version(back.version());
  t.set_to_unit_id(police.unit);
  ASSERT_TRUE(Call(commission, &v1::ClueService::Stub::TransferClue, t, &r).ok());
  v1::ReturnClueRequest ret;
  ret.set_request_id(NewUuid());
  ret.set_clue_id(back.id());
  ret.set_expected_version(r.clue().version());
  ret.set_reason("");
  grpc::Status s = Call(police, &v1::ClueService::Stub::ReturnClue, ret, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(s), std::vector<std::string>{"reason"});
  ret.set_reason("不属于本单位管辖");
  ASSERT_TRUE(Call(police, &v1::ClueService::Stub::ReturnClue, ret, &r).ok());
  EXPECT_EQ(r.clue().state(), v1::CLUE_STATE_HELD);
  EXPECT_EQ(r.clue().holding_unit_id(), commission.unit);
  // The police unit that returned the offer sent nothing and is owed nothing: the clue is
  // gone for it (custody is a record of who held it, not a licence to read it forever).
  g.set_clue_id(back.id());
  EXPECT_EQ(Call(police, &v1::ClueService::Stub::GetClue, g, &seen).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ClueServiceTest, AcceptAndReturnRaceExactlyOneWins) {
  const Who group{UnitId("discipline-group")};
  const Who commission{UnitId("discipline-commission")};
  for (int round = 0; round < 5; ++round) {
    v1::Clue c = Register(group, Petition("discipline-group"));
    v1::TransferClueRequest t;
    t.set_request_id(NewUuid());
    t.set_clue_id(c.id());
    t.set_expected_version(c.version());
    t.set_to_unit_id(commission.unit);
    v1::ClueReply r;
    ASSERT_TRUE(Call(group, &v1::ClueService::Stub::TransferClue, t, &r).ok());
    std::atomic<bool> go{false};
    grpc::Status accepted, returned;
    std::thread t1([&] {
      auto stub = v1::ClueService::NewStub(*channel_);
      v1::AcceptClueRequest a;
      a.set_request_id(NewUuid());
      a.set_clue_id(c.id());
      a.set_expected_version(r.clue().version());
      while (!go) std::this_thread::yield();
      grpc::ClientContext ctx;
      ctx.AddMetadata("authorization", "Bearer " + Token(commission));
      v1::ClueReply out;
      accepted = stub->AcceptClue(&ctx, a, &out);
    });
    std::thread t2([&] {
      auto stub = v1::ClueService::NewStub(*channel_);
      v1::ReturnClueRequest b;
      b.set_request_id(NewUuid());
      b.set_clue_id(c.id());
      b.set_expected_version(r.clue().version());
      b.set_reason("退回");
      while (!go) std::this_thread::yield();
      grpc::ClientContext ctx;
      ctx.AddMetadata("authorization", "Bearer " + Token(commission));
      v1::ClueReply out;
      returned = stub->ReturnClue(&ctx, b, &out);
    });
    go = true;
    t1.join();
    t2.join();
    EXPECT_NE(accepted.ok(), returned.ok()) << accepted.error_message() << " / " << returned.error_message();
    const grpc::Status& loser = accepted.ok() ? returned : accepted;
    // A lost accept after a return: the clue went back, so the commission no longer has it
    // at all (NOT_FOUND) unless it read it before the return committed (ABORTED).
    if (accepted.ok()) {
      EXPECT_EQ(loser.error_code(), grpc::StatusCode::ABORTED) << loser.error_message();
    } else {
      EXPECT_TRUE(loser.error_code() == grpc::StatusCode::ABORTED || loser.error_code() == grpc::StatusCode::NOT_FOUND)
          << loser.error_message();
    }
    EXPECT_EQ(Count("SELECT count(*) FROM clue.clue_events WHERE clue_id = '" + c.id() + "'"), 3);
  }
}

TEST_F(ClueServiceTest, RepeatedRequestsAndReferralsGiveOneClue) {
  const Who group{UnitId("discipline-group")};
  auto req = Petition("discipline-group");
  v1::Clue first = Register(group, req);
  v1::ClueReply again;
  ASSERT_TRUE(Call(group, &v1::ClueService::Stub::RegisterClue, req, &again).ok());
  EXPECT_EQ(again.clue().id(), first.id());
  EXPECT_TRUE(again.mutation().replayed());
  req.set_summary("changed");
  grpc::Status s = Call(group, &v1::ClueService::Stub::RegisterClue, req, &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(s), std::vector<std::string>{"request_id"});

  // Referrals: a repeat with the same (source_system, source_ref) returns the same clue.
  const Who audit_service{UnitId("audit-office"), {"service"}};
  auto referral = Petition("audit-office");
  referral.set_source(v1::CLUE_SOURCE_AUDIT);
  referral.set_channel(v1::RECEIPT_CHANNEL_SYSTEM);
  referral.set_source_system("audit");
  referral.set_source_ref("finding-" + NewUuid());
  const int64_t before = Count("SELECT count(*) FROM clue.clues");
  std::vector<std::thread> threads;
  std::vector<std::string> ids(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto stub = v1::ClueService::NewStub(*channel_);
      auto r = referral;
      r.set_request_id(NewUuid());
      grpc::ClientContext ctx;
      ctx.AddMetadata("authorization", "Bearer " + Token(audit_service));
      v1::ClueReply out;
      grpc::Status st = stub->RegisterClue(&ctx, r, &out);
      EXPECT_TRUE(st.ok()) << st.error_message();
      ids[i] = out.clue().id();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(Count("SELECT count(*) FROM clue.clues"), before + 1);
  for (const auto& id : ids) EXPECT_EQ(id, ids[0]);
}

// Fields that name another system's records are the referring service's own: a person
// can neither set them (to hijack or suppress a referral) nor learn through them whether a
// referral exists; a service refers under its own source system only.
TEST_F(ClueServiceTest, ReferralFieldsBelongToTheReferringServiceAlone) {
  const Who group{UnitId("discipline-group")};
  const Who audit_service{UnitId("audit-office"), {"service"}};
  auto referral = Petition("audit-office");
  referral.set_source(v1::CLUE_SOURCE_AUDIT);
  referral.set_channel(v1::RECEIPT_CHANNEL_SYSTEM);
  referral.set_source_system("audit");
  referral.set_source_ref("finding-" + NewUuid());
  const v1::Clue real = Register(audit_service, referral);
  ASSERT_FALSE(real.id().empty());
  const int64_t before = Count("SELECT count(*) FROM clue.clues");

  // A person naming the existing referral, and one naming an unknown one, get the same
  // refusal: nothing tells them which exists.
  std::string messages[2];
  for (int i = 0; i < 2; ++i) {
    auto person = Petition("discipline-group");
    person.set_source_system("audit");
    person.set_source_ref(i == 0 ? referral.source_ref() : "finding-" + NewUuid());
    v1::ClueReply out;
    grpc::Status s = Call(group, &v1::ClueService::Stub::RegisterClue, person, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
    EXPECT_FALSE(out.has_clue()) << "the existing clue must not be returned";
    messages[i] = s.error_message();
  }
  EXPECT_EQ(messages[0], messages[1]);
  // Another service (here: one calling itself inspection-service) cannot use audit's source.
  auto inspection = referral;
  inspection.set_request_id(NewUuid());
  Who other_service = audit_service;
  other_service.user = "inspection-service";
  v1::ClueReply out;
  grpc::Status s = Call(other_service, &v1::ClueService::Stub::RegisterClue, inspection, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(s.error_message().find("'inspection'"), std::string::npos) << s.error_message();
  EXPECT_FALSE(out.has_clue());
  EXPECT_EQ(Count("SELECT count(*) FROM clue.clues"), before) << "nothing written by a refused call";
  // The owner still gets its clue back on a repeat.
  auto repeat = referral;
  repeat.set_request_id(NewUuid());
  EXPECT_EQ(Register(audit_service, repeat).id(), real.id());
}

// Idempotency keys are scoped to the caller: the same request id from two callers is two
// requests, neither a replay of the other nor refused as a reuse.
TEST_F(ClueServiceTest, RequestIdsAreScopedToTheCaller) {
  const Who a{UnitId("discipline-group"), {"discipline"}, 1, "officer-a"};
  const Who b{UnitId("discipline-group"), {"discipline"}, 1, "officer-b"};
  auto req = Petition("discipline-group");
  const v1::Clue first = Register(a, req);
  EXPECT_EQ(Register(a, req).id(), first.id()) << "the same caller's repeat is a replay";
  const v1::Clue second = Register(b, req);
  EXPECT_NE(second.id(), first.id()) << "another caller's identical request is its own";
  req.set_summary("另一件事");
  const v1::Clue third = Register(b, Petition("discipline-group"));  // fresh id, sanity
  EXPECT_NE(third.id(), second.id());
  v1::ClueReply out;
  grpc::Status reuse = Call(a, &v1::ClueService::Stub::RegisterClue, req, &out);
  EXPECT_EQ(reuse.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "a's own key with other content";
  Who c = b;
  c.user = "officer-c";
  EXPECT_TRUE(Call(c, &v1::ClueService::Stub::RegisterClue, req, &out).ok()) << "c is not blocked by a's key";
}

// Registrations arriving together are written in shared transactions (group commit): each
// one is still whole (row, subjects, custody, chained events, idempotency record), numbered
// uniquely and written once; a repeat or a clashing referral in the same burst gives the
// first clue; a reused request id with other content is refused without harming the rest.
TEST_F(ClueServiceTest, ConcurrentRegistrationsShareTransactionsAndEachIsWholeAndOnce) {
  // A unit no other test lists, so that the burst does not crowd their pages.
  const Who group{UnitId("kexin-branch-discipline-committee")};
  const Who audit_service{UnitId("audit-office"), {"service"}};
  const auto [batches_before, items_before] = BatchStats("clue_register");
  const int64_t clues_before = Count("SELECT count(*) FROM clue.clues");
  constexpr int kThreads = 24, kEach = 6;
  const std::string shared_ref = "finding-" + NewUuid();
  auto repeated = Petition("kexin-branch-discipline-committee");  // sent by two threads at once
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::string> referral_ids(kThreads), repeat_ids(kThreads);
  std::atomic<int> refused{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto stub = v1::ClueService::NewStub(*channel_);
      auto call = [&](const Who& w, const v1::RegisterClueRequest& r, v1::ClueReply* out) {
        grpc::ClientContext ctx;
        ctx.AddMetadata("authorization", "Bearer " + Token(w));
        return stub->RegisterClue(&ctx, r, out);
      };
      for (int i = 0; i < kEach; ++i) {
        v1::ClueReply out;
        auto r = Petition("kexin-branch-discipline-committee");
        r.set_summary("并发登记 " + std::to_string(t) + "-" + std::to_string(i));
        grpc::Status st = call(group, r, &out);
        if (st.ok())
          ids[t].push_back(out.clue().id());
        else
          ++failed;
      }
      v1::ClueReply out;
      auto referral = Petition("audit-office");
      referral.set_source(v1::CLUE_SOURCE_AUDIT);
      referral.set_channel(v1::RECEIPT_CHANNEL_SYSTEM);
      referral.set_source_system("audit");
      referral.set_source_ref(shared_ref);
      if (call(audit_service, referral, &out).ok())
        referral_ids[t] = out.clue().id();
      else
        ++failed;
      if (t < 3) {
        auto r = repeated;
        if (t == 2) r.set_summary("同一请求号，不同内容");
        grpc::Status st = call(group, r, &out);
        if (st.ok())
          repeat_ids[t] = out.clue().id();
        else if (st.error_code() == grpc::StatusCode::INVALID_ARGUMENT)
          ++refused;
        else
          ++failed;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  // The request id sent three times: whichever content came first was written, the same
  // content again answers with that clue, other content is refused.
  std::set<std::string> written_repeat(repeat_ids.begin(), repeat_ids.begin() + 3);
  written_repeat.erase("");
  EXPECT_EQ(written_repeat.size(), 1u);
  EXPECT_EQ(refused.load(), repeat_ids[2].empty() ? 1 : 2);
  std::set<std::string> distinct;
  for (const auto& per : ids) distinct.insert(per.begin(), per.end());
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kThreads * kEach));
  for (const auto& id : referral_ids) EXPECT_EQ(id, referral_ids[0]) << "one clue per referral";
  EXPECT_EQ(Count("SELECT count(*) FROM clue.clues"), clues_before + kThreads * kEach + 2);
  // Whole: every new clue has its number, subject, custody, one chained event and its
  // idempotency record; numbers are unique.
  const std::string fresh = "SELECT id FROM clue.clues WHERE summary LIKE '并发登记 %'";
  EXPECT_EQ(Count("SELECT count(DISTINCT number) FROM clue.clues WHERE id IN (" + fresh + ")"), kThreads * kEach);
  EXPECT_EQ(Count("SELECT count(*) FROM clue.clue_subjects WHERE clue_id IN (" + fresh + ")"), kThreads * kEach);
  EXPECT_EQ(Count("SELECT count(*) FROM clue.clue_custody WHERE clue_id IN (" + fresh + ")"), kThreads * kEach);
  EXPECT_EQ(Count("SELECT count(*) FROM clue.clues c WHERE c.id IN (" + fresh +
                  ") AND c.chain_len = 1 AND "
                  "c.chain_head = (SELECT hash FROM clue.clue_events e WHERE e.clue_id = c.id AND e.seq = 1)"),
            kThreads * kEach);
  for (size_t i = 0; i < 5; ++i) {
    v1::VerifyChainRequest vr;
    vr.set_clue_id(ids[i][0]);
    v1::VerifyChainResponse vo;
    ASSERT_TRUE(Call(group, &v1::ClueService::Stub::VerifyChain, vr, &vo).ok());
    EXPECT_TRUE(vo.intact()) << ids[i][0];
  }
  const auto [batches_after, items_after] = BatchStats("clue_register");
  const double batches = batches_after - batches_before, items = items_after - items_before;
  EXPECT_GE(items, kThreads * (kEach + 1));
  EXPECT_LT(batches, items) << "concurrent registrations shared transactions";
}

// Steps on many clues at once share transactions (common/coalesce.h); each is still decided
// on its own: a refused step, a step on an absent clue and a repeated request id inside the
// burst get what they would alone, and nothing of theirs is written.
TEST_F(ClueServiceTest, ConcurrentStepsShareTransactionsAndEachIsDecidedOnItsOwn) {
  const Who group{UnitId("kexin-branch-discipline-committee")};
  const Who commission{UnitId("discipline-commission")};
  constexpr int kThreads = 24;
  std::vector<v1::Clue> clues;
  for (int t = 0; t < kThreads; ++t) {
    auto r = Petition("kexin-branch-discipline-committee");
    r.set_summary("并发步骤 " + std::to_string(t));
    clues.push_back(Register(group, r));
  }
  const auto [batches_before, items_before] = BatchStats("clue_step");
  std::atomic<int> failed{0}, refused{0}, not_found{0}, replayed{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto stub = v1::ClueService::NewStub(*channel_);
      auto call = [&](const Who& w, auto fn, const auto& req, v1::ClueReply* out) {
        grpc::ClientContext ctx;
        ctx.AddMetadata("authorization", "Bearer " + Token(w));
        return (stub.get()->*fn)(&ctx, req, out);
      };
      const v1::Clue& c = clues[t];
      while (!go) std::this_thread::yield();
      v1::ClueReply r;
      v1::TransferClueRequest tr;
      tr.set_request_id(NewUuid());
      tr.set_clue_id(c.id());
      tr.set_expected_version(c.version());
      tr.set_to_unit_id(commission.unit);
      if (!call(group, &v1::ClueService::Stub::TransferClue, tr, &r).ok()) ++failed;
      const int64_t offered = r.clue().version();
      if (t % 4 == 1) {
        // The same request again: the first reply, marked replayed.
        v1::ClueReply again;
        grpc::Status st = call(group, &v1::ClueService::Stub::TransferClue, tr, &again);
        if (st.ok() && again.mutation().replayed() && again.clue().version() == offered)
          ++replayed;
        else
          ++failed;
      } else if (t % 4 == 2) {
        // Concluding a clue on offer is refused; nothing is written.
        v1::ConcludeClueRequest k;
        k.set_request_id(NewUuid());
        k.set_clue_id(c.id());
        k.set_expected_version(offered);
        k.set_form(v1::SUPERVISION_FORM_1);
        k.set_feedback("越级办结");
        grpc::Status st = call(group, &v1::ClueService::Stub::ConcludeClue, k, &r);
        if (st.error_code() == grpc::StatusCode::FAILED_PRECONDITION)
          ++refused;
        else
          ++failed;
      } else if (t % 4 == 3) {
        v1::AcceptClueRequest absent;
        absent.set_request_id(NewUuid());
        absent.set_clue_id(NewUuid());
        absent.set_expected_version(2);
        if (call(commission, &v1::ClueService::Stub::AcceptClue, absent, &r).error_code() ==
            grpc::StatusCode::NOT_FOUND)
          ++not_found;
        else
          ++failed;
      }
      v1::AcceptClueRequest a;
      a.set_request_id(NewUuid());
      a.set_clue_id(c.id());
      a.set_expected_version(offered);
      if (!call(commission, &v1::ClueService::Stub::AcceptClue, a, &r).ok()) ++failed;
      v1::DisposeClueRequest d;
      d.set_request_id(NewUuid());
      d.set_clue_id(c.id());
      d.set_expected_version(r.clue().version());
      d.set_method(v1::DISPOSITION_METHOD_TALK_OR_LETTER);
      if (!call(commission, &v1::ClueService::Stub::DisposeClue, d, &r).ok()) ++failed;
      v1::ConcludeClueRequest k;
      k.set_request_id(NewUuid());
      k.set_clue_id(c.id());
      k.set_expected_version(r.clue().version());
      k.set_form(v1::SUPERVISION_FORM_1);
      k.set_feedback("谈话提醒，已办结。");
      if (!call(commission, &v1::ClueService::Stub::ConcludeClue, k, &r).ok() ||
          r.clue().state() != v1::CLUE_STATE_CONCLUDED)
        ++failed;
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(replayed.load(), kThreads / 4);
  EXPECT_EQ(refused.load(), kThreads / 4);
  EXPECT_EQ(not_found.load(), kThreads / 4);
  // Whole and once: every clue has exactly its five events (registered, offered, accepted,
  // disposed, concluded), its row at version 5 and concluded, and an intact chain.
  const std::string fresh = "SELECT id FROM clue.clues WHERE summary LIKE '并发步骤 %'";
  EXPECT_EQ(Count("SELECT count(*) FROM clue.clue_events WHERE clue_id IN (" + fresh + ")"), kThreads * 5);
  EXPECT_EQ(Count("SELECT count(*) FROM clue.clue_events WHERE type = 'concluded' AND clue_id IN (" + fresh + ")"),
            kThreads);
  EXPECT_EQ(Count("SELECT count(*) FROM clue.clues WHERE state = 'CLUE_STATE_CONCLUDED' AND version = 5 AND id IN (" +
                  fresh + ")"),
            kThreads);
  for (const v1::Clue& c : clues) {
    v1::VerifyChainRequest vr;
    vr.set_clue_id(c.id());
    v1::VerifyChainResponse vo;
    ASSERT_TRUE(Call(commission, &v1::ClueService::Stub::VerifyChain, vr, &vo).ok());
    EXPECT_TRUE(vo.intact()) << c.id();
  }
  const auto [batches_after, items_after] = BatchStats("clue_step");
  const double batches = batches_after - batches_before, items = items_after - items_before;
  EXPECT_GE(items, kThreads * 4);
  EXPECT_LT(batches, items) << "concurrent steps shared transactions";
}

// Directory look-ups are kept per directory generation: a change that moves the
// generation (what every import does) reaches registration within a moment.
TEST_F(ClueServiceTest, DirectoryChangesReachRegistrationOnceTheGenerationMoves) {
  const Who station{UnitId("gaoxin-branch")};
  auto req = Petition("gaoxin-branch");
  Register(station, req);  // the unit is now looked up and kept
  auto attempt = [&] {
    auto r = Petition("gaoxin-branch");
    v1::ClueReply out;
    return Call(station, &v1::ClueService::Stub::RegisterClue, r, &out);
  };
  auto wait_for = [&](grpc::StatusCode want) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    grpc::Status st;
    while ((st = attempt()).error_code() != want && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return st;
  };
  Sql("UPDATE directory.units SET active = false WHERE code = 'gaoxin-branch'; "
      "UPDATE directory.meta SET generation = generation + 1");
  grpc::Status st = wait_for(grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(st), std::vector<std::string>{"origin_unit_id"});
  Sql("UPDATE directory.units SET active = true WHERE code = 'gaoxin-branch'; "
      "UPDATE directory.meta SET generation = generation + 1");
  EXPECT_TRUE(wait_for(grpc::StatusCode::OK).ok());
}

// The access table of docs/clue.md § Access, cell by cell through the real service: each
// read RPC for each standing of the caller's unit (holder, offeree, supervisor, sender,
// past offeree, parent of the holder, unrelated, oversight), each role, at clearance 0 and 1.
TEST_F(ClueServiceTest, AccessTableCellByCell) {
  const std::string a = UnitId("kexin-branch-discipline-committee");    // registered it: sender
  const std::string b = UnitId("fucheng-branch-discipline-committee");  // holds it
  const std::string c_unit = UnitId("discipline-commission");           // offered it now
  const std::string d = UnitId("discipline-group");                     // escalated to: supervisor
  const std::string e = UnitId("organ-discipline-committee");           // offered once, returned
  const std::string parent = UnitId("fucheng-branch");                  // above the holder
  const std::string unrelated = UnitId("gaoxin-branch");
  v1::Clue clue = Register(Who{a}, Petition("kexin-branch-discipline-committee"));
  v1::ClueReply r;
  v1::TransferClueRequest t;
  t.set_request_id(NewUuid());
  t.set_clue_id(clue.id());
  t.set_expected_version(clue.version());
  t.set_to_unit_id(b);
  ASSERT_TRUE(Call(Who{a}, &v1::ClueService::Stub::TransferClue, t, &r).ok());
  v1::AcceptClueRequest acc;
  acc.set_request_id(NewUuid());
  acc.set_clue_id(clue.id());
  acc.set_expected_version(r.clue().version());
  ASSERT_TRUE(Call(Who{b}, &v1::ClueService::Stub::AcceptClue, acc, &r).ok());
  t.set_request_id(NewUuid());
  t.set_expected_version(r.clue().version());
  t.set_to_unit_id(c_unit);
  t.set_reason("移送纪委：涉嫌违纪");
  ASSERT_TRUE(Call(Who{b}, &v1::ClueService::Stub::TransferClue, t, &r).ok());
  Sql("INSERT INTO clue.clue_custody (clue_id, unit_id, standing) VALUES ('" + clue.id() + "', '" + d +
      "', 'supervisor'), ('" + clue.id() + "', '" + e + "', 'offered')");

  enum Expect { kFull, kRecord, kSender, kDenied, kHidden };
  struct Cell {
    std::string label, unit;
    std::vector<std::string> roles;
    Expect get, history, verify;
  };
  const std::vector<std::string> disc = {"discipline"};
  const std::vector<Cell> cells = {
      {"holder", b, disc, kFull, kFull, kFull},
      {"offeree", c_unit, disc, kFull, kFull, kDenied},
      {"supervisor", d, disc, kRecord, kFull, kFull},
      {"sender", a, disc, kSender, kDenied, kDenied},
      {"past offeree", e, disc, kHidden, kHidden, kHidden},
      {"parent of holder", parent, disc, kHidden, kHidden, kHidden},
      {"unrelated", unrelated, disc, kHidden, kHidden, kHidden},
      {"oversight", UnitId("bureau-party-committee"), {"oversight"}, kFull, kFull, kFull},
      {"holder, dashboard role", b, {"dashboard"}, kDenied, kDenied, kDenied},
      {"holder, staff role", b, {"staff"}, kDenied, kDenied, kDenied},
      {"holder, auditor role", b, {"auditor"}, kDenied, kDenied, kDenied},
      {"holder, service role", b, {"service"}, kDenied, kDenied, kDenied},
      {"holder, custodian role", b, {"custodian"}, kDenied, kDenied, kDenied},
      {"holder, no role", b, {}, kDenied, kDenied, kDenied},
  };
  auto code_of = [](Expect x) {
    return x == kDenied   ? grpc::StatusCode::PERMISSION_DENIED
           : x == kHidden ? grpc::StatusCode::NOT_FOUND
                          : grpc::StatusCode::OK;
  };
  int checked = 0;
  for (const Cell& cell : cells) {
    for (int clearance : {0, 1}) {
      SCOPED_TRACE(cell.label + " at clearance " + std::to_string(clearance));
      Who w{cell.unit, cell.roles, clearance, "cell-user"};
      if (std::find(cell.roles.begin(), cell.roles.end(), "service") != cell.roles.end()) w.user = "audit-service";
      v1::GetClueRequest g;
      g.set_clue_id(clue.id());
      v1::Clue got;
      grpc::Status gs = Call(w, &v1::ClueService::Stub::GetClue, g, &got);
      EXPECT_EQ(gs.error_code(), code_of(cell.get)) << gs.error_message();
      if (gs.ok()) {
        EXPECT_EQ(got.summary(), clue.summary());
        EXPECT_EQ(got.outcome().feedback(), "");
        const bool details = !got.details().empty();
        EXPECT_EQ(details, cell.get == kFull && clearance >= 1) << "sealed details";
        EXPECT_TRUE(got.details_withheld() || details);
        EXPECT_EQ(got.holding_unit_id().empty(), cell.get == kSender) << "where the case went";
        EXPECT_EQ(got.reporter_on_file(), cell.get == kFull) << "whether a reporter is on file";
        if (cell.get == kSender) {
          EXPECT_TRUE(got.offered_to_unit_id().empty());
        }
      }
      v1::GetClueHistoryRequest h;
      h.set_clue_id(clue.id());
      v1::GetClueHistoryResponse hist;
      grpc::Status hs = Call(w, &v1::ClueService::Stub::GetClueHistory, h, &hist);
      EXPECT_EQ(hs.error_code(), code_of(cell.history)) << hs.error_message();
      if (hs.ok()) {
        ASSERT_EQ(hist.events_size(), 4);  // registered, offered, accepted, offered
        const std::string data = hist.events(3).data_json();
        EXPECT_EQ(data.find("移送纪委") != std::string::npos, clearance >= 1) << "reasons need clearance: " << data;
        EXPECT_NE(data.find(c_unit), std::string::npos) << "structure stays: " << data;
      }
      v1::VerifyChainRequest v;
      v.set_clue_id(clue.id());
      v1::VerifyChainResponse vr;
      grpc::Status vs = Call(w, &v1::ClueService::Stub::VerifyChain, v, &vr);
      EXPECT_EQ(vs.error_code(), code_of(cell.verify)) << vs.error_message();
      if (vs.ok()) {
        EXPECT_TRUE(vr.intact());
      }
      // Lists show exactly the clues a unit may see, with the same view.
      if (!cell.roles.empty() && (cell.roles[0] == "discipline" || cell.roles[0] == "oversight")) {
        v1::ListCluesRequest l;
        l.set_page_size(500);
        l.set_origin_unit_id(a);
        v1::ListCluesResponse lr;
        grpc::Status ls = Call(w, &v1::ClueService::Stub::ListClues, l, &lr);
        ASSERT_TRUE(ls.ok()) << ls.error_message();
        const v1::Clue* listed = nullptr;
        for (const auto& x : lr.clues()) {
          if (x.id() == clue.id()) listed = &x;
        }
        EXPECT_EQ(listed != nullptr, cell.get != kHidden);
        if (listed != nullptr) {
          EXPECT_EQ(listed->holding_unit_id().empty(), cell.get == kSender);
        }
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 2 * static_cast<int>(cells.size()));

  // Acting: only the holder transfers, only the offeree accepts; the rest are refused
  // (NOT_FOUND where the clue does not exist for them).
  struct Act {
    std::string label, unit;
    grpc::StatusCode transfer, accept;
  };
  for (const Act& act :
       std::vector<Act>{{"offeree", c_unit, grpc::StatusCode::PERMISSION_DENIED, grpc::StatusCode::OK},
                        {"supervisor", d, grpc::StatusCode::PERMISSION_DENIED, grpc::StatusCode::PERMISSION_DENIED},
                        {"sender", a, grpc::StatusCode::PERMISSION_DENIED, grpc::StatusCode::PERMISSION_DENIED},
                        {"past offeree", e, grpc::StatusCode::NOT_FOUND, grpc::StatusCode::NOT_FOUND},
                        {"unrelated", unrelated, grpc::StatusCode::NOT_FOUND, grpc::StatusCode::NOT_FOUND}}) {
    SCOPED_TRACE(act.label);
    v1::GetClueRequest g;
    g.set_clue_id(clue.id());
    v1::Clue now;
    ASSERT_TRUE(Call(Who{b}, &v1::ClueService::Stub::GetClue, g, &now).ok());
    v1::TransferClueRequest tt;
    tt.set_request_id(NewUuid());
    tt.set_clue_id(clue.id());
    tt.set_expected_version(now.version());
    tt.set_to_unit_id(unrelated);
    EXPECT_EQ(Call(Who{act.unit}, &v1::ClueService::Stub::TransferClue, tt, &r).error_code(),
              act.transfer == grpc::StatusCode::OK ? grpc::StatusCode::OK : act.transfer);
    if (act.accept != grpc::StatusCode::OK) {
      v1::AcceptClueRequest aa;
      aa.set_request_id(NewUuid());
      aa.set_clue_id(clue.id());
      aa.set_expected_version(now.version());
      EXPECT_EQ(Call(Who{act.unit}, &v1::ClueService::Stub::AcceptClue, aa, &r).error_code(), act.accept);
    }
  }
  // Nothing above changed the clue.
  EXPECT_EQ(Count("SELECT count(*) FROM clue.clue_events WHERE clue_id = '" + clue.id() + "'"), 4);
}

// AssignHandler refuses a caller who is not the holder before it says anything about the
// handler (whether a person is a subject of the clue is the holder's to know); an extension
// is approved by a leader of the holding unit or above it, never below.
TEST_F(ClueServiceTest, AssignHandlerAndExtensionAskWhoFirst) {
  const Who group{UnitId("discipline-group")};
  v1::Clue c = Register(group, Petition("discipline-group"));
  v1::AssignHandlerRequest a;
  a.set_request_id(NewUuid());
  a.set_clue_id(c.id());
  a.set_expected_version(c.version());
  a.set_handler_person_id(c.subjects(0).person_id());  // the subject: recusal for the holder
  v1::ClueReply r;
  grpc::Status holder = Call(group, &v1::ClueService::Stub::AssignHandler, a, &r);
  EXPECT_EQ(holder.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(holder.error_message().find("recusal"), std::string::npos);
  for (const Who& w : {Who{UnitId("gaoxin-branch")}, Who{group.unit, {"dashboard"}}, Who{group.unit, {"staff"}}}) {
    grpc::Status s = Call(w, &v1::ClueService::Stub::AssignHandler, a, &r);
    EXPECT_TRUE(s.error_code() == grpc::StatusCode::PERMISSION_DENIED || s.error_code() == grpc::StatusCode::NOT_FOUND)
        << s.error_message();
    EXPECT_EQ(s.error_message().find("recusal"), std::string::npos) << s.error_message();
  }
}

// Every input is bounded before it is used: timestamps range-checked before conversion
// (huge seconds used to overflow), repeated fields capped and free of repeats; each refusal
// names the field and writes nothing.
TEST_F(ClueServiceTest, InputsAreBoundedBeforeUse) {
  const Who group{UnitId("discipline-group")};
  const int64_t clues_before = Count("SELECT count(*) FROM clue.clues");
  struct Bad {
    std::string label, field;
    std::function<void(v1::RegisterClueRequest&)> spoil;
  };
  const std::vector<Bad> bad = {
      {"huge seconds", "received_at", [](auto& r) { r.mutable_received_at()->set_seconds(INT64_MAX / 2); }},
      {"negative seconds", "received_at", [](auto& r) { r.mutable_received_at()->set_seconds(-62135596801); }},
      {"bad nanos", "received_at", [](auto& r) { r.mutable_received_at()->set_nanos(-1); }},
      {"repeated subject", "subjects[1]", [](auto& r) { *r.add_subjects() = r.subjects(0); }},
      {"repeated category", "categories[2]", [](auto& r) { r.add_categories(r.categories(0)); }},
  };
  for (const auto& b : bad) {
    SCOPED_TRACE(b.label);
    auto req = Petition("discipline-group");
    b.spoil(req);
    v1::ClueReply out;
    grpc::Status s = Call(group, &v1::ClueService::Stub::RegisterClue, req, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
    EXPECT_EQ(Fields(s), std::vector<std::string>{b.field});
  }
  EXPECT_EQ(Count("SELECT count(*) FROM clue.clues"), clues_before);
  // A list filter with an absurd time is named, not overflowed.
  v1::ListCluesRequest l;
  l.mutable_received_from()->set_seconds(INT64_MIN / 2);
  v1::ListCluesResponse lr;
  grpc::Status ls = Call(group, &v1::ClueService::Stub::ListClues, l, &lr);
  EXPECT_EQ(ls.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(ls), std::vector<std::string>{"received_from"});
  // Conclusion sanctions: capped and without repeats.
  v1::Clue c = Register(group, Petition("discipline-group"));
  v1::ConcludeClueRequest k;
  k.set_request_id(NewUuid());
  k.set_clue_id(c.id());
  k.set_expected_version(c.version());
  k.set_form(v1::SUPERVISION_FORM_1);
  k.set_feedback("批评教育");
  k.add_sanctions("诫勉谈话");
  k.add_sanctions("诫勉谈话");
  v1::ClueReply r;
  grpc::Status ks = Call(group, &v1::ClueService::Stub::ConcludeClue, k, &r);
  EXPECT_EQ(ks.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(ks), std::vector<std::string>{"sanctions[1]"});
  // History is paged: a page at a time, the token carrying on where the last one ended.
  v1::TransferClueRequest t;
  t.set_request_id(NewUuid());
  t.set_clue_id(c.id());
  t.set_expected_version(c.version());
  t.set_to_unit_id(UnitId("discipline-commission"));
  ASSERT_TRUE(Call(group, &v1::ClueService::Stub::TransferClue, t, &r).ok());
  v1::GetClueHistoryRequest h;
  h.set_clue_id(c.id());
  h.set_page_size(1);
  v1::GetClueHistoryResponse first, second;
  ASSERT_TRUE(Call(group, &v1::ClueService::Stub::GetClueHistory, h, &first).ok());
  ASSERT_EQ(first.events_size(), 1);
  EXPECT_EQ(first.next_page_token().empty(), false);
  h.set_page_token(first.next_page_token());
  h.set_page_size(1000);
  ASSERT_TRUE(Call(group, &v1::ClueService::Stub::GetClueHistory, h, &second).ok());
  EXPECT_TRUE(second.next_page_token().empty());
  for (const auto& e : second.events()) EXPECT_GT(e.seq(), first.events(0).seq());
  EXPECT_EQ(second.events_size(), 1);
  h.set_page_size(-1);
  EXPECT_EQ(Call(group, &v1::ClueService::Stub::GetClueHistory, h, &second).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // A token is bound to its clue: another clue's history refuses it, as it does garbage.
  h.set_page_size(10);
  h.set_clue_id(Register(group, Petition("discipline-group")).id());
  for (const std::string& token : {first.next_page_token(), std::string("garbage")}) {
    h.set_page_token(token);
    grpc::Status hs = Call(group, &v1::ClueService::Stub::GetClueHistory, h, &second);
    EXPECT_EQ(hs.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(Fields(hs), std::vector<std::string>{"page_token"});
  }
}

TEST_F(ClueServiceTest, AccessIsDeniedByDefault) {
  const Who group{UnitId("discipline-group")};
  v1::Clue c = Register(group, Petition("discipline-group"));
  v1::GetClueRequest g;
  g.set_clue_id(c.id());
  v1::Clue out;
  // Another unit does not see it at all.
  EXPECT_EQ(Call(Who{UnitId("gaoxin-branch")}, &v1::ClueService::Stub::GetClue, g, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // Dashboards see statistics only.
  EXPECT_EQ(Call(Who{UnitId("discipline-group"), {"dashboard"}}, &v1::ClueService::Stub::GetClue, g, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // No token at all.
  {
    grpc::ClientContext ctx;
    EXPECT_EQ(stub_->GetClue(&ctx, g, &out).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  // Oversight sees every clue, with details given clearance.
  ASSERT_TRUE(
      Call(Who{UnitId("bureau-party-committee"), {"oversight"}}, &v1::ClueService::Stub::GetClue, g, &out).ok());
  EXPECT_FALSE(out.details().empty());
  // The holder with internal clearance reads details; without clearance they are withheld.
  ASSERT_TRUE(Call(group, &v1::ClueService::Stub::GetClue, g, &out).ok());
  EXPECT_EQ(out.details(), "举报信称：某日中午在辖区饭店饮酒后返岗。");
  ASSERT_TRUE(Call(Who{group.unit, {"discipline"}, 0}, &v1::ClueService::Stub::GetClue, g, &out).ok());
  EXPECT_TRUE(out.details().empty());
  EXPECT_TRUE(out.details_withheld());
  // Lists show only what the caller's unit may see.
  v1::ListCluesRequest l;
  v1::ListCluesResponse lr;
  ASSERT_TRUE(Call(Who{UnitId("gaoxin-branch")}, &v1::ClueService::Stub::ListClues, l, &lr).ok());
  for (const auto& x : lr.clues()) EXPECT_NE(x.id(), c.id());
  ASSERT_TRUE(Call(group, &v1::ClueService::Stub::ListClues, l, &lr).ok());
  bool found = false;
  for (const auto& x : lr.clues()) found = found || x.id() == c.id();
  EXPECT_TRUE(found);
  // A unit cannot register in another unit's name.
  auto other = Petition("gaoxin-branch");
  v1::ClueReply reply;
  EXPECT_EQ(Call(group, &v1::ClueService::Stub::RegisterClue, other, &reply).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// ---------------------------------------------------------------------------------------
// The two-person rule for the reporter (N = 2 of M = 3, 60-minute window: the defaults).

class RevealTest : public ClueServiceTest {
 protected:
  // A custodian (the bureau's party committee appoints them) by name.
  static Who Custodian(const std::string& unit, const std::string& name, int clearance = 2) {
    return Who{unit, {"custodian"}, clearance, name};
  }
  void SetUp() override {
    ClueServiceTest::SetUp();
    group_ = Who{UnitId("discipline-group")};
    requester_ = Who{group_.unit, {"discipline"}, 2, "requester-" + NewRandomUuid()};
    const std::string committee = UnitId("bureau-party-committee");
    for (int i = 0; i < 3; ++i) custodians_.push_back(Custodian(committee, "custodian-" + NewRandomUuid()));
  }

  // Registers a petition whose reporter is named `name`.
  v1::Clue Petitioned(const std::string& name) {
    auto req = Petition("discipline-group");
    req.mutable_reporter()->set_name(name);
    req.mutable_reporter()->set_contact("contact of " + name);
    return Register(group_, req);
  }
  grpc::Status Ask(const Who& w, const std::string& clue_id, v1::RevealRequestReply* out,
                   const std::string& reason = "核实举报内容需联系举报人", const std::string& request_id = NewUuid()) {
    v1::RequestRevealRequest r;
    r.set_request_id(request_id);
    r.set_clue_id(clue_id);
    r.set_reason(reason);
    return Call(w, &v1::ClueService::Stub::RequestReveal, r, out);
  }
  // The id of a new pending request by requester_ on `clue_id`.
  std::string Asked(const std::string& clue_id) {
    v1::RevealRequestReply r;
    grpc::Status s = Ask(requester_, clue_id, &r);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return r.request().id();
  }
  grpc::Status Decide(const Who& w, const std::string& id, v1::RevealVerdict verdict, v1::RevealRequestReply* out,
                      const std::string& reason = "", const std::string& request_id = NewUuid()) {
    v1::DecideRevealRequest d;
    d.set_request_id(request_id);
    d.set_reveal_request_id(id);
    d.set_verdict(verdict);
    d.set_reason(reason);
    return Call(w, &v1::ClueService::Stub::DecideReveal, d, out);
  }
  grpc::Status Approve(const Who& w, const std::string& id, v1::RevealRequestReply* out = nullptr) {
    v1::RevealRequestReply ignored;
    return Decide(w, id, v1::REVEAL_VERDICT_APPROVE, out ? out : &ignored);
  }
  grpc::Status Reveal(const Who& w, const std::string& id, v1::RevealReporterResponse* out,
                      const std::string& request_id = NewUuid()) {
    v1::RevealReporterRequest r;
    r.set_request_id(request_id);
    r.set_reveal_request_id(id);
    return Call(w, &v1::ClueService::Stub::RevealReporter, r, out);
  }
  v1::GetClueHistoryResponse History(const std::string& clue_id) {
    v1::GetClueHistoryRequest h;
    h.set_clue_id(clue_id);
    v1::GetClueHistoryResponse out;
    EXPECT_TRUE(Call(group_, &v1::ClueService::Stub::GetClueHistory, h, &out).ok());
    return out;
  }
  std::vector<std::string> EventTypes(const std::string& clue_id) {
    std::vector<std::string> out;
    const v1::GetClueHistoryResponse hist = History(clue_id);
    for (const auto& e : hist.events()) out.push_back(e.type());
    return out;
  }

  Who group_, requester_;
  std::vector<Who> custodians_;
};

TEST_F(RevealTest, TwoOfThreeCustodiansApproveThenTheRequesterSeesTheReporterOnce) {
  std::ostringstream captured;
  log::Init("clue-test", "debug", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured));
  const std::string name = "REPORTER-" + NewRandomUuid();
  const v1::Clue c = Petitioned(name);

  v1::RevealRequestReply asked;
  grpc::Status s = Ask(requester_, c.id(), &asked, "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(s), std::vector<std::string>{"reason"});
  const std::string key = NewUuid();
  ASSERT_TRUE(Ask(requester_, c.id(), &asked, "核实举报内容需联系举报人", key).ok());
  const v1::RevealRequest& r = asked.request();
  EXPECT_EQ(r.state(), v1::REVEAL_STATE_PENDING);
  EXPECT_EQ(r.approvals_needed(), 2);
  EXPECT_EQ(r.requester(), requester_.user);
  EXPECT_EQ(r.clue_number(), c.number());
  // The same request again is the same request.
  v1::RevealRequestReply again;
  ASSERT_TRUE(Ask(requester_, c.id(), &again, "核实举报内容需联系举报人", key).ok());
  EXPECT_TRUE(again.mutation().replayed());
  EXPECT_EQ(again.request().id(), r.id());
  EXPECT_EQ(Count("SELECT count(*) FROM clue.reveal_requests WHERE clue_id = '" + c.id() + "'"), 1);

  v1::RevealReporterResponse shown;
  v1::RevealRequestReply d;
  ASSERT_TRUE(Approve(custodians_[0], r.id(), &d).ok());
  EXPECT_EQ(d.request().state(), v1::REVEAL_STATE_PENDING);
  EXPECT_EQ(d.request().approvals(), 1);
  // One approval is not enough.
  s = Reveal(requester_, r.id(), &shown);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("PENDING"), std::string::npos) << s.error_message();
  EXPECT_FALSE(shown.has_reporter());

  clock_->Advance(std::chrono::minutes(5));
  ASSERT_TRUE(Approve(custodians_[1], r.id(), &d).ok());
  EXPECT_EQ(d.request().state(), v1::REVEAL_STATE_APPROVED);
  EXPECT_EQ(d.request().approvals(), 2);
  EXPECT_EQ(d.request().decisions_size(), 2);
  EXPECT_EQ(d.request().expires_at().seconds(), ToUnixSeconds(clock_->Now() + std::chrono::minutes(60)));
  // The third custodian is too late: the request is decided.
  s = Approve(custodians_[2], r.id());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("APPROVED"), std::string::npos) << s.error_message();

  // Nobody but the requester uses the approval: not a colleague, not a custodian.
  const Who colleague{group_.unit, {"discipline"}, 3, "colleague"};
  EXPECT_EQ(Reveal(colleague, r.id(), &shown).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Reveal(Who{custodians_[0].unit, {"discipline", "custodian"}, 3, custodians_[0].user}, r.id(), &shown)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_FALSE(shown.has_reporter());

  const std::string reveal_key = NewUuid();
  ASSERT_TRUE(Reveal(requester_, r.id(), &shown, reveal_key).ok());
  EXPECT_EQ(shown.reporter().name(), name);
  EXPECT_EQ(shown.reporter().contact(), "contact of " + name);
  EXPECT_EQ(shown.request().state(), v1::REVEAL_STATE_USED);
  EXPECT_FALSE(shown.mutation().replayed());
  // A lost reply may be asked for again with the same key (not a second reveal) ...
  v1::RevealReporterResponse repeated;
  ASSERT_TRUE(Reveal(requester_, r.id(), &repeated, reveal_key).ok());
  EXPECT_TRUE(repeated.mutation().replayed());
  EXPECT_EQ(repeated.reporter().name(), name);
  // ... but only by the requester ...
  EXPECT_EQ(Reveal(colleague, r.id(), &repeated, reveal_key).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // ... and a new reveal on a used request is refused, naming its state.
  s = Reveal(requester_, r.id(), &repeated);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("USED"), std::string::npos) << s.error_message();

  // Every step is in the clue's chain, which still verifies.
  EXPECT_EQ(EventTypes(c.id()), (std::vector<std::string>{"registered", "reveal_requested", "reveal_approved",
                                                          "reveal_approved", "reporter_revealed"}));
  const auto hist = History(c.id());
  EXPECT_EQ(hist.events(4).actor(), requester_.user);
  EXPECT_EQ(hist.events(2).actor(), custodians_[0].user);
  EXPECT_NE(hist.events(1).data_json().find(r.id()), std::string::npos);
  EXPECT_NE(hist.events(1).data_json().find("核实举报内容需联系举报人"), std::string::npos);
  v1::VerifyChainRequest v;
  v.set_clue_id(c.id());
  v1::VerifyChainResponse vr;
  ASSERT_TRUE(Call(group_, &v1::ClueService::Stub::VerifyChain, v, &vr).ok());
  EXPECT_TRUE(vr.intact());
  EXPECT_EQ(vr.events(), 5);

  // The name is in no event, request, decision, stored reply or log line.
  for (const auto& e : hist.events()) EXPECT_EQ(e.data_json().find(name), std::string::npos) << e.type();
  EXPECT_EQ(Count("SELECT count(*) FROM clue.clue_events WHERE data LIKE '%REPORTER-%'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM clue.reveal_requests r WHERE r::text LIKE '%REPORTER-%'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM clue.reveal_decisions d WHERE d::text LIKE '%REPORTER-%'"), 0);
  EXPECT_EQ(
      Count("SELECT count(*) FROM clue.idempotency WHERE position('REPORTER-' in encode(response, 'escape')) > 0"), 0);
  EXPECT_EQ(captured.str().find(name), std::string::npos);
  EXPECT_NE(captured.str().find("reporter revealed"), std::string::npos);  // the log did capture the reveal
  log::Init("clue-test", "info");
}

TEST_F(RevealTest, OnlyClearedStaffOfTheHoldingUnitMayAskAndOnlyForANamedReporter) {
  const v1::Clue c = Petitioned("王某");
  v1::RevealRequestReply out;
  EXPECT_EQ(Ask(Who{group_.unit, {"discipline"}, 1, "uncleared"}, c.id(), &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Ask(Who{UnitId("gaoxin-branch"), {"discipline"}, 3, "outsider"}, c.id(), &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // Oversight sees the clue but does not hold it.
  EXPECT_EQ(
      Ask(Who{UnitId("bureau-party-committee"), {"discipline", "oversight"}, 3, "overseer"}, c.id(), &out).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Ask(custodians_[0], c.id(), &out).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  auto anonymous = Petition("discipline-group");
  anonymous.mutable_reporter()->Clear();
  anonymous.mutable_reporter()->set_anonymous(true);
  const v1::Clue a = Register(group_, anonymous);
  grpc::Status s = Ask(requester_, a.id(), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("no named reporter"), std::string::npos) << s.error_message();
  s = Ask(requester_, "not-a-uuid", &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(s), std::vector<std::string>{"clue_id"});
  EXPECT_EQ(Count("SELECT count(*) FROM clue.reveal_requests WHERE clue_id IN ('" + c.id() + "', '" + a.id() + "')"),
            0);
  EXPECT_EQ(EventTypes(c.id()), std::vector<std::string>{"registered"});
}

TEST_F(RevealTest, OnlyClearedCustodiansDecideNeverTheRequesterAndEachOnce) {
  const v1::Clue c = Petitioned("赵某");
  // A requester who is also a custodian still cannot approve their own request.
  const Who dual{group_.unit, {"discipline", "custodian"}, 3, "dual-" + NewRandomUuid()};
  v1::RevealRequestReply asked;
  ASSERT_TRUE(Ask(dual, c.id(), &asked).ok());
  const std::string id = asked.request().id();
  grpc::Status s = Approve(dual, id);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(s.error_message().find("requester"), std::string::npos) << s.error_message();
  // A custodian with clearance 1; cleared people without the custodian role.
  EXPECT_EQ(Approve(Custodian(custodians_[0].unit, "low-clearance", 1), id).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Approve(Who{custodians_[0].unit, {"oversight", "discipline"}, 3, "not-custodian"}, id).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Approve(Who{group_.unit, {"discipline"}, 3, "holder-staff"}, id).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Bad input names the field.
  v1::RevealRequestReply d;
  s = Decide(custodians_[0], id, v1::REVEAL_VERDICT_UNSPECIFIED, &d);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(s), std::vector<std::string>{"verdict"});
  s = Decide(custodians_[0], id, v1::REVEAL_VERDICT_REFUSE, &d);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(s), std::vector<std::string>{"reason"});
  s = Decide(custodians_[0], NewUuid(), v1::REVEAL_VERDICT_APPROVE, &d);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);

  // One custodian approves; the same request again is a replay, another one is refused.
  const std::string key = NewUuid();
  ASSERT_TRUE(Decide(custodians_[0], id, v1::REVEAL_VERDICT_APPROVE, &d, "", key).ok());
  ASSERT_TRUE(Decide(custodians_[0], id, v1::REVEAL_VERDICT_APPROVE, &d, "", key).ok());
  EXPECT_TRUE(d.mutation().replayed());
  EXPECT_EQ(d.request().approvals(), 1);
  s = Approve(custodians_[0], id);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("already decided"), std::string::npos) << s.error_message();
  EXPECT_EQ(Count("SELECT count(*) FROM clue.reveal_decisions WHERE reveal_request_id = '" + id + "'"), 1);

  // One refusal ends it, whatever approvals are in.
  ASSERT_TRUE(Decide(custodians_[1], id, v1::REVEAL_VERDICT_REFUSE, &d, "理由不充分").ok());
  EXPECT_EQ(d.request().state(), v1::REVEAL_STATE_REFUSED);
  s = Approve(custodians_[2], id);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("REFUSED"), std::string::npos) << s.error_message();
  v1::RevealReporterResponse shown;
  s = Reveal(dual, id, &shown);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("REFUSED"), std::string::npos) << s.error_message();
  EXPECT_FALSE(shown.has_reporter());
  EXPECT_EQ(EventTypes(c.id()),
            (std::vector<std::string>{"registered", "reveal_requested", "reveal_approved", "reveal_refused"}));
  const auto hist = History(c.id());
  EXPECT_NE(hist.events(3).data_json().find("理由不充分"), std::string::npos);
  EXPECT_EQ(hist.events(3).actor(), custodians_[1].user);
}

TEST_F(RevealTest, AnApprovalIsUsableOnlyWithinItsWindow) {
  const v1::Clue c = Petitioned("钱某");
  // Used just inside the window: fine; the same reveal repeated after it: refused.
  const std::string in_time = Asked(c.id());
  ASSERT_TRUE(Approve(custodians_[0], in_time).ok());
  ASSERT_TRUE(Approve(custodians_[1], in_time).ok());
  clock_->Advance(std::chrono::minutes(59));
  v1::RevealReporterResponse shown;
  const std::string key = NewUuid();
  ASSERT_TRUE(Reveal(requester_, in_time, &shown, key).ok());
  EXPECT_EQ(shown.reporter().name(), "钱某");
  clock_->Advance(std::chrono::minutes(2));
  grpc::Status s = Reveal(requester_, in_time, &shown, key);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  // Not used within 60 minutes: expired.
  const std::string late = Asked(c.id());
  ASSERT_TRUE(Approve(custodians_[0], late).ok());
  ASSERT_TRUE(Approve(custodians_[2], late).ok());
  clock_->Advance(std::chrono::minutes(60));
  v1::RevealReporterResponse none;
  s = Reveal(requester_, late, &none);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("EXPIRED"), std::string::npos) << s.error_message();
  EXPECT_FALSE(none.has_reporter());
  v1::GetRevealRequestRequest g;
  g.set_reveal_request_id(late);
  v1::RevealRequest got;
  ASSERT_TRUE(Call(requester_, &v1::ClueService::Stub::GetRevealRequest, g, &got).ok());
  EXPECT_EQ(got.state(), v1::REVEAL_STATE_EXPIRED);
  EXPECT_EQ(
      Count("SELECT count(*) FROM clue.clue_events WHERE clue_id = '" + c.id() + "' AND type = 'reporter_revealed'"),
      1);
}

TEST_F(RevealTest, ConcurrentDecisionsNeitherLoseNorDoubleCountAVote) {
  const v1::Clue c = Petitioned("孙某");
  for (int round = 0; round < 5; ++round) {
    // All three custodians at once: two approvals approve it, the third finds it decided.
    const std::string id = Asked(c.id());
    std::vector<grpc::StatusCode> codes(3);
    std::vector<std::thread> threads;
    for (int i = 0; i < 3; ++i) {
      threads.emplace_back([&, i] {
        auto stub = v1::ClueService::NewStub(*channel_);
        v1::DecideRevealRequest d;
        d.set_request_id(NewUuid());
        d.set_reveal_request_id(id);
        d.set_verdict(v1::REVEAL_VERDICT_APPROVE);
        grpc::ClientContext ctx;
        ctx.AddMetadata("authorization", "Bearer " + Token(custodians_[i]));
        v1::RevealRequestReply r;
        codes[i] = stub->DecideReveal(&ctx, d, &r).error_code();
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(std::count(codes.begin(), codes.end(), grpc::StatusCode::OK), 2) << "round " << round;
    EXPECT_EQ(std::count(codes.begin(), codes.end(), grpc::StatusCode::FAILED_PRECONDITION), 1) << "round " << round;
    EXPECT_EQ(Count("SELECT count(*) FROM clue.reveal_decisions WHERE reveal_request_id = '" + id + "'"), 2);
    EXPECT_EQ(
        Count("SELECT count(*) FROM clue.reveal_requests WHERE id = '" + id + "' AND state = 'REVEAL_STATE_APPROVED'"),
        1);
    // One custodian twice at once, with two keys: one vote.
    const std::string twice = Asked(c.id());
    threads.clear();
    for (int i = 0; i < 2; ++i) {
      threads.emplace_back([&, i] {
        auto stub = v1::ClueService::NewStub(*channel_);
        v1::DecideRevealRequest d;
        d.set_request_id(NewUuid());
        d.set_reveal_request_id(twice);
        d.set_verdict(v1::REVEAL_VERDICT_APPROVE);
        grpc::ClientContext ctx;
        ctx.AddMetadata("authorization", "Bearer " + Token(custodians_[0]));
        v1::RevealRequestReply r;
        codes[i] = stub->DecideReveal(&ctx, d, &r).error_code();
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(std::count(codes.begin(), codes.begin() + 2, grpc::StatusCode::OK), 1) << "round " << round;
    EXPECT_EQ(Count("SELECT count(*) FROM clue.reveal_decisions WHERE reveal_request_id = '" + twice + "'"), 1);
  }
  v1::VerifyChainRequest v;
  v.set_clue_id(c.id());
  v1::VerifyChainResponse vr;
  ASSERT_TRUE(Call(group_, &v1::ClueService::Stub::VerifyChain, v, &vr).ok());
  EXPECT_TRUE(vr.intact());
  EXPECT_EQ(vr.events(), 1 + 5 * (1 + 2 + 1 + 1));
}

TEST_F(RevealTest, CustodiansListWhatTheyMayDecideAndRequestersTheirOwn) {
  const v1::Clue c = Petitioned("周某");
  const std::string first = Asked(c.id());
  clock_->Advance(std::chrono::seconds(1));
  const std::string second = Asked(c.id());
  auto list = [&](const Who& w, bool mine, int page_size = 0, const std::string& token = "") {
    v1::ListRevealRequestsRequest l;
    l.set_mine(mine);
    l.set_clue_id(c.id());
    l.set_page_size(page_size);
    l.set_page_token(token);
    v1::ListRevealRequestsResponse out;
    grpc::Status s = Call(w, &v1::ClueService::Stub::ListRevealRequests, l, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> ids;
    for (const auto& r : out.requests()) ids.push_back(r.id());
    return std::make_pair(ids, out.next_page_token());
  };
  EXPECT_EQ(list(custodians_[0], false).first, (std::vector<std::string>{second, first}));
  ASSERT_TRUE(Approve(custodians_[0], first).ok());
  // Decided by them: gone from their queue, still in the others'.
  EXPECT_EQ(list(custodians_[0], false).first, std::vector<std::string>{second});
  EXPECT_EQ(list(custodians_[1], false).first, (std::vector<std::string>{second, first}));
  // The requester's own, in pages of one.
  auto page1 = list(requester_, true, 1);
  ASSERT_EQ(page1.first, std::vector<std::string>{second});
  ASSERT_FALSE(page1.second.empty());
  auto page2 = list(requester_, true, 1, page1.second);
  EXPECT_EQ(page2.first, std::vector<std::string>{first});
  EXPECT_TRUE(page2.second.empty()) << "two requests fill two pages";
  // Nobody else sees them; non-custodians have no queue.
  v1::ListRevealRequestsRequest l;
  v1::ListRevealRequestsResponse out;
  EXPECT_EQ(Call(requester_, &v1::ClueService::Stub::ListRevealRequests, l, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Call(Custodian(custodians_[0].unit, "uncleared", 1), &v1::ClueService::Stub::ListRevealRequests, l, &out)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::GetRevealRequestRequest g;
  g.set_reveal_request_id(first);
  v1::RevealRequest got;
  EXPECT_EQ(Call(Who{group_.unit, {"discipline"}, 3, "colleague"}, &v1::ClueService::Stub::GetRevealRequest, g, &got)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(Call(custodians_[2], &v1::ClueService::Stub::GetRevealRequest, g, &got).ok());
  EXPECT_EQ(got.approvals(), 1);
  ASSERT_EQ(got.decisions_size(), 1);
  EXPECT_EQ(got.decisions(0).custodian(), custodians_[0].user);
}

TEST_F(ClueServiceTest, BadInputsNameTheFieldAndWriteNothing) {
  const Who group{UnitId("discipline-group")};
  struct Case {
    const char* field;
    std::function<void(v1::RegisterClueRequest&)> spoil;
  };
  const std::vector<Case> cases = {
      {"request_id", [](auto& r) { r.clear_request_id(); }},
      {"origin_unit_id", [](auto& r) { r.set_origin_unit_id("nope"); }},
      {"source", [](auto& r) { r.set_source(v1::CLUE_SOURCE_UNSPECIFIED); }},
      {"channel", [](auto& r) { r.set_channel(v1::RECEIPT_CHANNEL_UNSPECIFIED); }},
      {"subjects", [](auto& r) { r.clear_subjects(); }},
      {"subjects[0].person_id", [](auto& r) { r.mutable_subjects(0)->set_person_id(NewUuid()); }},
      {"categories", [](auto& r) { r.clear_categories(); }},
      {"categories[1]", [](auto& r) { r.set_categories(1, v1::CLUE_CATEGORY_WORK); }},
      {"summary", [](auto& r) { r.clear_summary(); }},
      {"summary", [](auto& r) { r.set_summary(std::string(501, 'x')); }},
      {"reporter.name", [](auto& r) { r.mutable_reporter()->clear_name(); }},
      {"reporter", [](auto& r) { r.mutable_reporter()->set_anonymous(true); }},
      {"source_ref", [](auto& r) { r.set_source_system("audit"); }},
      {"received_at", [](auto& r) { r.mutable_received_at()->set_seconds(ToUnixSeconds(Start()) + 86400); }},
  };
  const int64_t before = Count("SELECT count(*) FROM clue.clues");
  const int64_t keys_before = Count("SELECT count(*) FROM clue.idempotency");
  const int64_t events_before = Count("SELECT count(*) FROM clue.clue_events");
  for (const auto& c : cases) {
    auto req = Petition("discipline-group");
    c.spoil(req);
    v1::ClueReply reply;
    grpc::Status s = Call(group, &v1::ClueService::Stub::RegisterClue, req, &reply);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.field << ": " << s.error_message();
    auto fields = Fields(s);
    EXPECT_NE(std::find(fields.begin(), fields.end(), c.field), fields.end())
        << c.field << " got " << (fields.empty() ? s.error_message() : fields[0]);
  }
  EXPECT_EQ(Count("SELECT count(*) FROM clue.clues"), before);
  EXPECT_EQ(Count("SELECT count(*) FROM clue.idempotency"), keys_before);
  EXPECT_EQ(Count("SELECT count(*) FROM clue.clue_events"), events_before);
}

TEST_F(ClueServiceTest, IllegalStepsNameTheStateAndStaleVersionsAbort) {
  const Who group{UnitId("discipline-group")};
  v1::Clue c = Register(group, Petition("discipline-group"));
  v1::AcceptClueRequest a;
  a.set_request_id(NewUuid());
  a.set_clue_id(c.id());
  a.set_expected_version(c.version());
  v1::ClueReply r;
  // Accepting is the offeree's: the holder is refused as the wrong party, not told the state.
  grpc::Status s = Call(group, &v1::ClueService::Stub::AcceptClue, a, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(s.error_message().find("REGISTERED"), std::string::npos) << s.error_message();
  v1::ConcludeClueRequest k;
  k.set_request_id(NewUuid());
  k.set_clue_id(c.id());
  k.set_expected_version(c.version());
  k.set_form(v1::SUPERVISION_FORM_1);
  k.set_feedback("x");
  s = Call(group, &v1::ClueService::Stub::ConcludeClue, k, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  v1::DisposeClueRequest d;
  d.set_request_id(NewUuid());
  d.set_clue_id(c.id());
  d.set_expected_version(c.version() + 7);
  d.set_method(v1::DISPOSITION_METHOD_TALK_OR_LETTER);
  s = Call(group, &v1::ClueService::Stub::DisposeClue, d, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ABORTED);
  // Shelving pauses the clock; the clue can be taken up again later.
  d.set_expected_version(c.version());
  d.set_method(v1::DISPOSITION_METHOD_SHELVE);
  d.set_reason("线索不具体，暂存待查");
  ASSERT_TRUE(Call(group, &v1::ClueService::Stub::DisposeClue, d, &r).ok());
  EXPECT_EQ(r.clue().state(), v1::CLUE_STATE_SHELVED);
  EXPECT_FALSE(r.clue().has_deadline_at());
  d.set_request_id(NewUuid());
  d.set_expected_version(r.clue().version());
  d.set_method(v1::DISPOSITION_METHOD_TALK_OR_LETTER);
  ASSERT_TRUE(Call(group, &v1::ClueService::Stub::DisposeClue, d, &r).ok());
  EXPECT_EQ(r.clue().state(), v1::CLUE_STATE_IN_HANDLING);
}

TEST_F(ClueServiceTest, RecusalBlocksSubjectsAndTheirChainOfCommand) {
  const Who station{UnitId("fucheng-branch-discipline-committee")};
  auto req = Petition("fucheng-branch-discipline-committee");
  const std::string subject = PersonIn("fucheng-branch-chengjiao-station");
  v1::Clue c = Register(station, req);
  v1::AssignHandlerRequest a;
  a.set_request_id(NewUuid());
  a.set_clue_id(c.id());
  a.set_expected_version(c.version());
  a.set_handler_person_id(subject);
  v1::ClueReply r;
  grpc::Status s = Call(station, &v1::ClueService::Stub::AssignHandler, a, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("recusal"), std::string::npos);
  // The branch chief's unit sits above the subject's station.
  a.set_handler_person_id(PersonIn("fucheng-branch", true));
  s = Call(station, &v1::ClueService::Stub::AssignHandler, a, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  // Someone of the holding unit may handle it.
  a.set_handler_person_id(PersonIn("fucheng-branch-discipline-committee"));
  ASSERT_TRUE(Call(station, &v1::ClueService::Stub::AssignHandler, a, &r).ok());
  EXPECT_EQ(r.clue().handler_person_id(), a.handler_person_id());
}

TEST_F(ClueServiceTest, TamperingIsDetectedAtTheExactEvent) {
  const Who group{UnitId("discipline-group")};
  const Who commission{UnitId("discipline-commission")};
  auto make = [&] {
    v1::Clue c = Register(group, Petition("discipline-group"));
    v1::TransferClueRequest t;
    t.set_request_id(NewUuid());
    t.set_clue_id(c.id());
    t.set_expected_version(c.version());
    t.set_to_unit_id(commission.unit);
    v1::ClueReply r;
    EXPECT_TRUE(Call(group, &v1::ClueService::Stub::TransferClue, t, &r).ok());
    v1::AcceptClueRequest a;
    a.set_request_id(NewUuid());
    a.set_clue_id(c.id());
    a.set_expected_version(r.clue().version());
    EXPECT_TRUE(Call(commission, &v1::ClueService::Stub::AcceptClue, a, &r).ok());
    return c.id();  // three events
  };
  auto verify = [&](const std::string& id) {
    v1::VerifyChainRequest v;
    v.set_clue_id(id);
    v1::VerifyChainResponse out;
    EXPECT_TRUE(
        Call(Who{UnitId("bureau-party-committee"), {"oversight"}}, &v1::ClueService::Stub::VerifyChain, v, &out).ok());
    return out;
  };
  const std::string intact = make();
  EXPECT_TRUE(verify(intact).intact());
  EXPECT_EQ(verify(intact).events(), 3);

  const std::string edited = make();
  Sql("UPDATE clue.clue_events SET data = replace(data, 'OFFERED', 'x') || ' ' WHERE clue_id = '" + edited +
      "' AND seq = 2");
  auto v = verify(edited);
  EXPECT_FALSE(v.intact());
  EXPECT_EQ(v.first_broken_seq(), 2);

  const std::string actor_changed = make();
  Sql("UPDATE clue.clue_events SET actor = 'someone-else' WHERE clue_id = '" + actor_changed + "' AND seq = 1");
  EXPECT_EQ(verify(actor_changed).first_broken_seq(), 1);

  const std::string deleted = make();
  Sql("DELETE FROM clue.clue_events WHERE clue_id = '" + deleted + "' AND seq = 2");
  v = verify(deleted);
  EXPECT_FALSE(v.intact());
  EXPECT_EQ(v.first_broken_seq(), 2);

  const std::string truncated = make();
  Sql("DELETE FROM clue.clue_events WHERE clue_id = '" + truncated + "' AND seq = 3");
  v = verify(truncated);
  EXPECT_FALSE(v.intact());
  EXPECT_EQ(v.first_broken_seq(), 3);

  // The row alone edited back to an earlier holder: not the state event 3 committed to.
  const std::string row_edited = make();
  Sql("UPDATE clue.clues SET holding_unit_id = origin_unit_id WHERE id = '" + row_edited + "'");
  v = verify(row_edited);
  EXPECT_FALSE(v.intact());
  EXPECT_EQ(v.first_broken_seq(), 3);
  EXPECT_NE(v.problem().find("state"), std::string::npos) << v.problem();
}

// The whole-service check and the checkpoint export: oversight only; a deleted clue and an
// edited one are found against the signed checkpoint, which verifies with the service's key.
TEST_F(ClueServiceTest, CheckpointsAreSignedExportedAndCatchDeletedClues) {
  const Who group{UnitId("discipline-group")};
  const Who oversight{UnitId("bureau-party-committee"), {"oversight"}};
  const v1::Clue kept = Register(group, Petition("discipline-group"));
  const v1::Clue removed = Register(group, Petition("discipline-group"));
  auto cp = store_->TakeCheckpoint();
  ASSERT_TRUE(cp.ok()) << cp.status();
  ASSERT_TRUE(cp->has_value());

  v1::VerifyAllChainsResponse all;
  EXPECT_EQ(Call(group, &v1::ClueService::Stub::VerifyAllChains, v1::VerifyAllChainsRequest(), &all).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Call(oversight, &v1::ClueService::Stub::VerifyAllChains, v1::VerifyAllChainsRequest(), &all).ok());
  EXPECT_EQ(all.checkpoint_id(), (*cp)->id);
  EXPECT_TRUE(all.checkpoint_problem().empty()) << all.checkpoint_problem();
  auto broken = [](const v1::VerifyAllChainsResponse& r, const std::string& id) -> const v1::BrokenChain* {
    for (const auto& b : r.broken()) {
      if (b.clue_id() == id) return &b;
    }
    return nullptr;
  };
  EXPECT_EQ(broken(all, kept.id()), nullptr);
  EXPECT_EQ(broken(all, removed.id()), nullptr);

  v1::ExportCheckpointsRequest ex;
  v1::ExportCheckpointsResponse exported;
  EXPECT_EQ(Call(group, &v1::ClueService::Stub::ExportCheckpoints, ex, &exported).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ex.set_limit(501);
  EXPECT_EQ(Call(oversight, &v1::ClueService::Stub::ExportCheckpoints, ex, &exported).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  ex.set_limit(0);
  ex.set_after_id((*cp)->id - 1);
  ASSERT_TRUE(Call(oversight, &v1::ClueService::Stub::ExportCheckpoints, ex, &exported).ok());
  ASSERT_EQ(exported.checkpoints_size(), 1);
  const v1::ChainCheckpoint& e = exported.checkpoints(0);
  bool has_kept = false;
  for (const auto& h : e.heads()) has_kept |= h.aggregate_id() == kept.id() && h.chain_len() == 1;
  EXPECT_TRUE(has_kept);
  // Whoever keeps the export checks it with the service's public key alone.
  chain::Checkpoint back{.id = e.id(),
                         .service = e.service(),
                         .taken_at_micros = db::Micros(e.taken_at()),
                         .aggregates = e.aggregates(),
                         .merkle_root = e.merkle_root(),
                         .kid = e.kid(),
                         .signature = e.signature()};
  const std::string public_pem = *crypto::PublicKeyPem(std::string(auth::kDevelopmentServiceKey));
  EXPECT_TRUE(crypto::VerifyEs256(public_pem, chain::SignedBytes(back), e.signature()).ok());
  back.aggregates += 1;
  EXPECT_FALSE(crypto::VerifyEs256(public_pem, chain::SignedBytes(back), e.signature()).ok());

  // A database administrator deletes one clue entirely and edits another's row.
  for (const char* table : {"clue_events", "clue_subjects", "clue_custody"}) {
    Sql(std::string("DELETE FROM clue.") + table + " WHERE clue_id = '" + removed.id() + "'");
  }
  Sql("DELETE FROM clue.clues WHERE id = '" + removed.id() + "'");
  Sql("UPDATE clue.clues SET state = 'CLUE_STATE_CONCLUDED' WHERE id = '" + kept.id() + "'");
  ASSERT_TRUE(Call(oversight, &v1::ClueService::Stub::VerifyAllChains, v1::VerifyAllChainsRequest(), &all).ok());
  EXPECT_FALSE(all.intact());
  const v1::BrokenChain* gone = broken(all, removed.id());
  ASSERT_NE(gone, nullptr);
  EXPECT_EQ(gone->first_broken_seq(), 0);
  EXPECT_NE(gone->problem().find("gone"), std::string::npos) << gone->problem();
  const v1::BrokenChain* edited = broken(all, kept.id());
  ASSERT_NE(edited, nullptr);
  EXPECT_EQ(edited->first_broken_seq(), 1);
  // And no new checkpoint launders it.
  EXPECT_EQ(store_->TakeCheckpoint().status().code(), absl::StatusCode::kDataLoss);
  // The next tests start from a database whose chains extend the checkpoint again.
  Sql("UPDATE clue.clues SET state = 'CLUE_STATE_REGISTERED' WHERE id = '" + kept.id() + "'");
}

TEST_F(ClueServiceTest, SensitiveCanaryNeverReachesTheDatabaseInClearOrTheLogs) {
  std::ostringstream captured;
  log::Init("clue-test", "debug", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured));
  const Who group{UnitId("discipline-group")};
  const std::string canary = "CANARY-" + NewRandomUuid();
  auto req = Petition("discipline-group");
  req.set_details("details " + canary);
  req.mutable_reporter()->set_name("reporter " + canary);
  req.mutable_reporter()->set_id_number(canary.substr(0, 20));
  v1::Clue c = Register(group, req);
  // A failing call with the canary in a field must not echo it either.
  auto bad = req;
  bad.set_request_id(NewUuid());
  bad.set_origin_unit_id("not-a-uuid " + canary);
  v1::ClueReply reply;
  grpc::Status s = Call(group, &v1::ClueService::Stub::RegisterClue, bad, &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().find(canary), std::string::npos);
  v1::GetClueRequest g;
  g.set_clue_id(c.id());
  v1::Clue out;
  ASSERT_TRUE(Call(group, &v1::ClueService::Stub::GetClue, g, &out).ok());
  EXPECT_NE(out.details().find(canary), std::string::npos);  // the holder can read it
  EXPECT_EQ(
      Count("SELECT count(*) FROM clue.clues WHERE details_sealed LIKE '%CANARY%' OR reporter_sealed LIKE '%CANARY%'"
            " OR summary LIKE '%CANARY%'"),
      0);
  EXPECT_EQ(Count("SELECT count(*) FROM clue.clue_events WHERE data LIKE '%CANARY%'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM clue.idempotency WHERE position('CANARY' in encode(response, 'escape')) > 0"),
            0);
  EXPECT_EQ(captured.str().find(canary), std::string::npos);
  EXPECT_NE(captured.str().find("RegisterClue"), std::string::npos);  // the log did capture the calls
  // Nor does it reach Redis (which holds statistics and directory lookups only).
  v1::ClueStats stats;
  ASSERT_TRUE(
      Call(Who{group.unit, {"dashboard"}}, &v1::ClueService::Stub::GetClueStats, v1::GetClueStatsRequest(), &stats)
          .ok());
  auto keys = redis_->Command({"KEYS", "*"});
  ASSERT_TRUE(keys.ok());
  ASSERT_GT((*keys)->elements, 0u);
  for (size_t i = 0; i < (*keys)->elements; ++i) {
    const std::string key((*keys)->element[i]->str, (*keys)->element[i]->len);
    EXPECT_EQ(key.find(canary), std::string::npos);
    auto value = redis_->Command({"DUMP", key});
    ASSERT_TRUE(value.ok());
    if ((*value)->type == REDIS_REPLY_STRING) {
      EXPECT_EQ(std::string((*value)->str, (*value)->len).find(canary), std::string::npos) << key;
    }
  }
  // A sealed value moved to another clue does not open there.
  auto other = Register(group, Petition("discipline-group"));
  Sql("UPDATE clue.clues SET details_sealed = (SELECT details_sealed FROM clue.clues WHERE id = '" + c.id() +
      "') WHERE id = '" + other.id() + "'");
  g.set_clue_id(other.id());
  EXPECT_EQ(Call(group, &v1::ClueService::Stub::GetClue, g, &out).error_code(), grpc::StatusCode::DATA_LOSS);
  log::Init("clue-test", "info");
}

TEST_F(ClueServiceTest, ListFiltersAndPagesWithChineseTextSearch) {
  const Who group{UnitId("discipline-group")};
  for (int i = 0; i < 7; ++i) {
    clock_->Advance(std::chrono::minutes(1));
    auto req = Petition("discipline-group");
    req.set_summary("分页测试线索第" + std::to_string(i) + "条：反映赌博问题");
    req.clear_categories();
    req.add_categories(v1::CLUE_CATEGORY_GAMBLING);
    Register(group, req);
  }
  v1::ListCluesRequest l;
  l.set_text("分页测试");
  l.set_page_size(3);
  std::vector<std::string> seen;
  for (int page = 0; page < 5; ++page) {
    v1::ListCluesResponse resp;
    ASSERT_TRUE(Call(group, &v1::ClueService::Stub::ListClues, l, &resp).ok());
    for (const auto& c : resp.clues()) seen.push_back(c.summary());
    if (resp.next_page_token().empty()) break;
    l.set_page_token(resp.next_page_token());
  }
  ASSERT_EQ(seen.size(), 7u);
  EXPECT_NE(seen[0].find("第6条"), std::string::npos);  // newest first
  l.set_category(v1::CLUE_CATEGORY_POLITICAL);          // a token is bound to its filters
  v1::ListCluesResponse resp;
  grpc::Status s = Call(group, &v1::ClueService::Stub::ListClues, l, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(s), std::vector<std::string>{"page_token"});
}

TEST_F(ClueServiceTest, LeaderOfTheHoldingUnitExtendsTheDeadline) {
  const std::string group_unit = UnitId("discipline-group");
  const Who group{group_unit};
  v1::Clue c = Register(group, Petition("discipline-group"));
  v1::ExtendDeadlineRequest x;
  x.set_request_id(NewUuid());
  x.set_clue_id(c.id());
  x.set_expected_version(c.version());
  x.set_extra_working_days(5);
  x.set_reason("需调取银行流水");
  v1::ClueReply r;
  // A non-leader (or a token whose subject is not a person) cannot approve.
  EXPECT_EQ(Call(group, &v1::ClueService::Stub::ExtendDeadline, x, &r).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  Who leader{group_unit, {"discipline"}, 1, PersonIn("discipline-group", true)};
  ASSERT_TRUE(Call(leader, &v1::ClueService::Stub::ExtendDeadline, x, &r).ok());
  // 2025-02-07 + 5 working days (02-08 is a make-up Saturday) = 2025-02-13.
  EXPECT_EQ(r.clue().deadline_at().seconds(), ToUnixSeconds(workdays::EndOfDay(*workdays::ParseDate("2025-02-13"))));
  v1::GetClueHistoryRequest h;
  h.set_clue_id(c.id());
  v1::GetClueHistoryResponse hist;
  ASSERT_TRUE(Call(group, &v1::ClueService::Stub::GetClueHistory, h, &hist).ok());
  EXPECT_EQ(hist.events(1).type(), "deadline_extended");
  EXPECT_NE(hist.events(1).data_json().find(leader.user), std::string::npos);
  x.set_extra_working_days(0);
  x.set_request_id(NewUuid());
  grpc::Status s = Call(leader, &v1::ClueService::Stub::ExtendDeadline, x, &r);
  EXPECT_EQ(Fields(s), std::vector<std::string>{"extra_working_days"});
}

TEST_F(ClueServiceTest, OverdueCluesAreEscalatedOnceToTheSupervisingUnit) {
  const Who group{UnitId("discipline-group")};
  v1::Clue c = Register(group, Petition("discipline-group"));
  EXPECT_EQ(*scanner_->ScanOnce(), 0);  // nothing due yet
  clock_->Advance(std::chrono::hours(24 * 40));
  auto marked = scanner_->ScanOnce();
  ASSERT_TRUE(marked.ok());
  EXPECT_GE(*marked, 1);
  EXPECT_EQ(*scanner_->ScanOnce(), 0);  // escalated once, not every scan
  v1::GetClueRequest g;
  g.set_clue_id(c.id());
  v1::Clue seen;
  // The unit above the discipline group (the commission) now sees the overdue clue.
  const Who commission{UnitId("discipline-commission")};
  ASSERT_TRUE(Call(commission, &v1::ClueService::Stub::GetClue, g, &seen).ok());
  EXPECT_TRUE(seen.overdue());
  v1::GetClueHistoryRequest h;
  h.set_clue_id(c.id());
  v1::GetClueHistoryResponse hist;
  ASSERT_TRUE(Call(group, &v1::ClueService::Stub::GetClueHistory, h, &hist).ok());
  EXPECT_EQ(hist.events(hist.events_size() - 1).type(), "escalated");
  EXPECT_NE(hist.events(hist.events_size() - 1).data_json().find(commission.unit), std::string::npos);
  v1::ListCluesRequest l;
  l.set_overdue_only(true);
  v1::ListCluesResponse lr;
  ASSERT_TRUE(Call(commission, &v1::ClueService::Stub::ListClues, l, &lr).ok());
  bool found = false;
  for (const auto& x : lr.clues()) found = found || x.id() == c.id();
  EXPECT_TRUE(found);
}

TEST_F(ClueServiceTest, DuplicatesAreFoundAndMergedKeepingTheirOrigin) {
  const Who group{UnitId("discipline-group")};
  auto req = Petition("discipline-group");
  const std::string person = PersonIn("fucheng-branch-public-order-team");
  req.mutable_subjects(0)->set_person_id(person);
  v1::Clue a = Register(group, req);
  req.set_request_id(NewUuid());
  req.set_channel(v1::RECEIPT_CHANNEL_PHONE);
  v1::Clue b = Register(group, req);
  v1::ListDuplicatesRequest d;
  d.set_clue_id(a.id());
  v1::ListCluesResponse dups;
  ASSERT_TRUE(Call(group, &v1::ClueService::Stub::ListDuplicates, d, &dups).ok());
  ASSERT_EQ(dups.clues_size(), 1);
  EXPECT_EQ(dups.clues(0).id(), b.id());
  v1::MergeCluesRequest m;
  m.set_request_id(NewUuid());
  m.set_primary_clue_id(a.id());
  m.set_expected_version(a.version());
  m.add_merged_clue_ids(b.id());
  m.set_reason("同一被反映人同一事项");
  v1::ClueReply r;
  ASSERT_TRUE(Call(group, &v1::ClueService::Stub::MergeClues, m, &r).ok());
  v1::GetClueRequest g;
  g.set_clue_id(b.id());
  v1::Clue merged;
  ASSERT_TRUE(Call(group, &v1::ClueService::Stub::GetClue, g, &merged).ok());
  EXPECT_EQ(merged.state(), v1::CLUE_STATE_MERGED);
  EXPECT_EQ(merged.merged_into_id(), a.id());
  v1::GetClueHistoryRequest h;
  h.set_clue_id(a.id());
  v1::GetClueHistoryResponse hist;
  ASSERT_TRUE(Call(group, &v1::ClueService::Stub::GetClueHistory, h, &hist).ok());
  EXPECT_EQ(hist.events(hist.events_size() - 1).type(), "merged");
  EXPECT_NE(hist.events(hist.events_size() - 1).data_json().find(b.number()), std::string::npos);
  ASSERT_TRUE(Call(group, &v1::ClueService::Stub::ListDuplicates, d, &dups).ok());
  EXPECT_EQ(dups.clues_size(), 0);  // merged clues are no longer candidates
  // Merging again is refused, naming the state.
  m.set_request_id(NewUuid());
  m.set_expected_version(r.clue().version());
  grpc::Status s = Call(group, &v1::ClueService::Stub::MergeClues, m, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("MERGED"), std::string::npos);
}

TEST_F(ClueServiceTest, CommissionInterventionInStep) {
  const Who police{UnitId("fucheng-branch-discipline-committee")};
  v1::Clue c = Register(police, Petition("fucheng-branch-discipline-committee"));
  v1::MarkInterventionRequest m;
  m.set_request_id(NewUuid());
  m.set_clue_id(c.id());
  m.set_expected_version(c.version());
  m.set_note("市纪委监委同步介入");
  v1::ClueReply r;
  EXPECT_EQ(
      Call(Who{UnitId("gaoxin-branch"), {"discipline", "oversight"}}, &v1::ClueService::Stub::MarkIntervention, m, &r)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  const Who commission{UnitId("discipline-commission"), {"discipline", "oversight"}};
  ASSERT_TRUE(Call(commission, &v1::ClueService::Stub::MarkIntervention, m, &r).ok());
  EXPECT_TRUE(r.clue().intervened());
  m.set_request_id(NewUuid());
  m.set_expected_version(r.clue().version());
  EXPECT_EQ(Call(commission, &v1::ClueService::Stub::MarkIntervention, m, &r).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  // From now on the commission sees the clue even without the oversight role.
  v1::GetClueRequest g;
  g.set_clue_id(c.id());
  v1::Clue seen;
  EXPECT_TRUE(Call(Who{commission.unit}, &v1::ClueService::Stub::GetClue, g, &seen).ok());
}

TEST_F(ClueServiceTest, NotesCarryAttachmentMetadata) {
  const Who group{UnitId("discipline-group")};
  v1::Clue c = Register(group, Petition("discipline-group"));
  v1::AddNoteRequest n;
  n.set_request_id(NewUuid());
  n.set_clue_id(c.id());
  n.set_text("约谈当事人，制作谈话笔录。");
  auto* a = n.add_attachments();
  a->set_name("谈话笔录.pdf");
  a->set_sha256(std::string(64, 'a'));
  a->set_size_bytes(12345);
  a->set_media_type("application/pdf");
  v1::ClueReply r;
  ASSERT_TRUE(Call(group, &v1::ClueService::Stub::AddNote, n, &r).ok());
  n.set_request_id(NewUuid());
  n.mutable_attachments(0)->set_sha256("xyz");
  grpc::Status s = Call(group, &v1::ClueService::Stub::AddNote, n, &r);
  EXPECT_EQ(Fields(s), std::vector<std::string>{"attachments[0].sha256"});
  EXPECT_EQ(Call(Who{UnitId("gaoxin-branch")}, &v1::ClueService::Stub::AddNote, n, &r).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);  // validation first
  n.mutable_attachments(0)->set_sha256(std::string(64, 'b'));
  n.set_request_id(NewUuid());
  EXPECT_EQ(Call(Who{UnitId("gaoxin-branch")}, &v1::ClueService::Stub::AddNote, n, &r).error_code(),
            grpc::StatusCode::NOT_FOUND);  // another unit does not see the clue
}

TEST_F(ClueServiceTest, StatsAreCachedInvalidatedByChangesAndSurviveAFlush) {
  const Who dashboard{UnitId("bureau-party-committee"), {"dashboard"}};
  const Who group{UnitId("discipline-group")};
  Register(group, Petition("discipline-group"));
  v1::GetClueStatsRequest q;
  v1::ClueStats first, second, third, flushed;
  ASSERT_TRUE(Call(dashboard, &v1::ClueService::Stub::GetClueStats, q, &first).ok());
  ASSERT_TRUE(Call(dashboard, &v1::ClueService::Stub::GetClueStats, q, &second).ok());
  EXPECT_TRUE(second.from_cache());
  EXPECT_EQ(second.total(), first.total());
  EXPECT_GT(first.total(), 0);
  int64_t by_state = 0;
  for (const auto& s : first.by_state()) by_state += s.count();
  EXPECT_EQ(by_state, first.total());
  Register(group, Petition("discipline-group"));
  ASSERT_TRUE(Call(dashboard, &v1::ClueService::Stub::GetClueStats, q, &third).ok());
  EXPECT_FALSE(third.from_cache());
  EXPECT_EQ(third.total(), first.total() + 1);
  ASSERT_TRUE(redis_->Command({"FLUSHALL"}).ok());
  ASSERT_TRUE(Call(dashboard, &v1::ClueService::Stub::GetClueStats, q, &flushed).ok());
  EXPECT_EQ(flushed.total(), third.total());
  EXPECT_EQ(flushed.overdue(), third.overdue());
  // The dashboard role sees nothing but statistics; a unit sees only its own figures.
  v1::ListCluesResponse lr;
  EXPECT_EQ(Call(dashboard, &v1::ClueService::Stub::ListClues, v1::ListCluesRequest(), &lr).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::GetClueStatsRequest other;
  other.set_unit_id(UnitId("gaoxin-branch"));
  EXPECT_EQ(Call(group, &v1::ClueService::Stub::GetClueStats, other, &flushed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// A statistics answer held in memory is served while PostgreSQL is down, at once: the call
// runs on one of gRPC's callback threads, which must never wait on the database for a hit.
TEST_F(ClueServiceTest, CachedStatsAnswerAtOnceWhilePostgresIsDown) {
  const Who dashboard{UnitId("bureau-party-committee"), {"dashboard"}};
  v1::GetClueStatsRequest q;
  v1::ClueStats before, during;
  ASSERT_TRUE(Call(dashboard, &v1::ClueService::Stub::GetClueStats, q, &before).ok());
  PgRedis::Get().StopPostgres();
  // Longer than the version's refresh interval: the background refresh has failed since.
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  const auto t0 = std::chrono::steady_clock::now();
  grpc::Status st = Call(dashboard, &v1::ClueService::Stub::GetClueStats, q, &during);
  const auto took = std::chrono::steady_clock::now() - t0;
  PgRedis::Get().StartPostgres();
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_TRUE(during.from_cache());
  EXPECT_EQ(during.total(), before.total());
  EXPECT_LT(took, std::chrono::milliseconds(500));
  // Back to normal: a registration and fresh figures once the pool has reconnected.
  const Who group{UnitId("discipline-group")};
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  v1::ClueReply reply;
  grpc::Status reg;
  auto req = Petition("discipline-group");
  while (!(reg = Call(group, &v1::ClueService::Stub::RegisterClue, req, &reply)).ok() &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(reg.ok()) << reg.error_message();
  v1::ClueStats after;
  ASSERT_TRUE(Call(dashboard, &v1::ClueService::Stub::GetClueStats, q, &after).ok());
  EXPECT_EQ(after.total(), before.total() + 1);
}

TEST_F(ClueServiceTest, SubscriberSeesEveryEventExactlyOnceWhileWritersRace) {
  const Who group{UnitId("discipline-group")};
  const Who commission{UnitId("discipline-commission")};
  const Who reader{UnitId("bureau-party-committee"), {"oversight"}};
  // Start from "now": everything already in the log is skipped by reading it first.
  std::string cursor;
  {
    pqxx::connection conn(Conn());
    pqxx::work tx(conn);
    auto r = tx.exec1("SELECT coalesce(max(xid::text::bigint), 0), coalesce(max(gseq), 0) FROM clue.clue_events");
    cursor = r[0].as<std::string>() + ":" + r[1].as<std::string>();
  }
  std::mutex mu;
  std::vector<std::pair<std::string, int64_t>> received;
  grpc::ClientContext sub_ctx;
  sub_ctx.AddMetadata("authorization", "Bearer " + Token(reader));
  v1::SubscribeRequest sreq;
  sreq.set_after_cursor(cursor);
  auto sub_stub = v1::ClueService::NewStub(*channel_);
  auto stream = sub_stub->Subscribe(&sub_ctx, sreq);
  std::thread consumer([&] {
    v1::ClueEvent ev;
    while (stream->Read(&ev)) {
      std::lock_guard lock(mu);
      received.emplace_back(ev.clue_id(), ev.seq());
    }
  });
  // A slow writer takes its place in the log early and commits last: the pitfall.
  const v1::Clue victim = Register(group, Petition("discipline-group"));
  pqxx::connection slow_conn(Conn());
  pqxx::work slow(slow_conn);
  slow.exec(
      "INSERT INTO clue.clue_events (clue_id, seq, type, actor, actor_unit_id, at, data, prev_hash, hash) "
      "VALUES ('" +
      victim.id() + "', 1000, 'slow_writer', 'test', '', now(), '{}', '', '')");
  std::vector<std::thread> writers;
  for (int w = 0; w < 6; ++w) {
    writers.emplace_back([&] {
      auto stub = v1::ClueService::NewStub(*channel_);
      for (int i = 0; i < 8; ++i) {
        auto req = Petition("discipline-group");
        grpc::ClientContext ctx;
        ctx.AddMetadata("authorization", "Bearer " + Token(group));
        v1::ClueReply r;
        ASSERT_TRUE(stub->RegisterClue(&ctx, req, &r).ok());
        v1::TransferClueRequest t;
        t.set_request_id(NewUuid());
        t.set_clue_id(r.clue().id());
        t.set_expected_version(r.clue().version());
        t.set_to_unit_id(commission.unit);
        grpc::ClientContext ctx2;
        ctx2.AddMetadata("authorization", "Bearer " + Token(group));
        ASSERT_TRUE(stub->TransferClue(&ctx2, t, &r).ok());
      }
    });
  }
  for (auto& t : writers) t.join();
  slow.commit();
  const int64_t expected = Count("SELECT count(*) FROM clue.clue_events WHERE (xid::text::bigint, gseq) > (" +
                                 cursor.substr(0, cursor.find(':')) + ", " + cursor.substr(cursor.find(':') + 1) + ")");
  EXPECT_GE(expected, 6 * 8 * 2 + 2);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock(mu);
      if (static_cast<int64_t>(received.size()) >= expected) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // anything extra would show now
  sub_ctx.TryCancel();
  consumer.join();
  std::set<std::pair<std::string, int64_t>> unique(received.begin(), received.end());
  EXPECT_EQ(unique.size(), received.size()) << "an event was delivered twice";
  EXPECT_EQ(static_cast<int64_t>(received.size()), expected);
  EXPECT_TRUE(unique.count({victim.id(), 1000})) << "the slow writer's event was skipped";
  // Without the oversight or service role there is no feed.
  grpc::ClientContext denied_ctx;
  denied_ctx.AddMetadata("authorization", "Bearer " + Token(group));
  auto denied = sub_stub->Subscribe(&denied_ctx, sreq);
  v1::ClueEvent ev;
  EXPECT_FALSE(denied->Read(&ev));
  EXPECT_EQ(denied->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

// Oversight callers with their own subjects, each opening a stream from `cursor`.
struct OpenStream {
  std::unique_ptr<grpc::ClientContext> ctx = std::make_unique<grpc::ClientContext>();
  std::unique_ptr<grpc::ClientReader<v1::ClueEvent>> reader;
};

TEST_F(ClueServiceTest, StreamEndsUnauthenticatedWhenItsTokenExpires) {
  const Who reader{UnitId("bureau-party-committee"), {"oversight"}, 1, "expiring-reader"};
  Register(Who{UnitId("discipline-group")}, Petition("discipline-group"));  // something to stream
  // Streams of earlier tests end on the server a moment after their clients let go.
  for (const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
       service_->feed_hub().counts().open > 0 && std::chrono::steady_clock::now() < until;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(service_->feed_hub().counts().open, 0);
  auto stub = v1::ClueService::NewStub(*channel_);
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + Token(reader));  // valid for 8 hours
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  v1::SubscribeRequest req;
  auto stream = stub->Subscribe(&ctx, req);
  std::atomic<int> read{0};
  std::thread consumer([&] {
    v1::ClueEvent ev;
    while (stream->Read(&ev)) ++read;
  });
  // A failed assertion below must not leave the reader running (std::terminate).
  struct JoinOnExit {
    grpc::ClientContext& ctx;
    std::thread& thread;
    ~JoinOnExit() {
      if (thread.joinable()) {
        ctx.TryCancel();
        thread.join();
      }
    }
  } join_on_exit{ctx, consumer};
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (read.load() == 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GT(read.load(), 0) << "the stream serves events while the token is valid";
  ASSERT_EQ(service_->feed_hub().counts().open, 1);
  // The service's clock passes the token's expiry (tokens carry real time).
  clock_->Set(std::chrono::system_clock::now() + std::chrono::hours(9));
  consumer.join();
  grpc::Status st = stream->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED) << st.error_message();
  EXPECT_EQ(st.error_message(), "token expired");
  EXPECT_EQ(service_->feed_hub().counts().open, 0) << "its slot is free";
}

TEST_F(ClueServiceTest, StreamsPerCallerAreCappedAndASlotFreesWhenOneEnds) {
  const Who caller{UnitId("bureau-party-committee"), {"service"}, 1, "greedy-service"};
  const Who other{UnitId("bureau-party-committee"), {"service"}, 1, "other-service"};
  auto stub = v1::ClueService::NewStub(*channel_);
  auto open = [&](const Who& w) {
    OpenStream s;
    s.ctx->AddMetadata("authorization", "Bearer " + Token(w));
    s.ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::SubscribeRequest req;
    req.set_after_cursor("999999999:0");  // past the end: nothing to send, the stream just waits
    s.reader = stub->Subscribe(s.ctx.get(), req);
    return s;
  };
  auto open_count_reaches = [&](int n) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (service_->feed_hub().counts().open != n && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return service_->feed_hub().counts().open == n;
  };
  std::vector<OpenStream> mine;
  for (int i = 0; i < 4; ++i) mine.push_back(open(caller));  // the default limit
  ASSERT_TRUE(open_count_reaches(4));
  OpenStream refused = open(caller);
  v1::ClueEvent ev;
  EXPECT_FALSE(refused.reader->Read(&ev));
  grpc::Status st = refused.reader->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(st.error_message().find("grpc.max_streams_per_caller"), std::string::npos) << st.error_message();
  // Another caller is not affected.
  OpenStream theirs = open(other);
  ASSERT_TRUE(open_count_reaches(5));
  // One of the caller's streams goes away: its slot is free again.
  mine[0].ctx->TryCancel();
  EXPECT_EQ(mine[0].reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(open_count_reaches(4));
  OpenStream again = open(caller);
  ASSERT_TRUE(open_count_reaches(5)) << "the caller may open a stream again";
  for (OpenStream* s : {&mine[1], &mine[2], &mine[3], &theirs, &again}) {
    s->ctx->TryCancel();
    s->reader->Finish();
  }
  EXPECT_TRUE(open_count_reaches(0));
}

// Twenty subscribers and six writers at once: every subscriber gets every event once and in
// the same order, a slow older transaction's event included, and once they have caught up
// none of them reads PostgreSQL itself — the service's one feed reader does.
TEST_F(ClueServiceTest, TwentySubscribersShareOneFeedReaderAndEachGetsEveryEventOnceInOrder) {
  const Who group{UnitId("discipline-group")};
  const Who commission{UnitId("discipline-commission")};
  std::string cursor;
  {
    pqxx::connection conn(Conn());
    pqxx::work tx(conn);
    auto r = tx.exec1("SELECT coalesce(max(xid::text::bigint), 0), coalesce(max(gseq), 0) FROM clue.clue_events");
    cursor = r[0].as<std::string>() + ":" + r[1].as<std::string>();
  }
  constexpr int kSubscribers = 20;
  auto stub = v1::ClueService::NewStub(*channel_);
  std::vector<OpenStream> streams(kSubscribers);
  std::vector<std::vector<std::string>> received(kSubscribers);  // "clue_id/seq" in arrival order
  std::vector<std::mutex> mu(kSubscribers);
  std::vector<std::thread> consumers;
  for (int i = 0; i < kSubscribers; ++i) {
    const Who reader{UnitId("bureau-party-committee"), {"oversight"}, 1, "reader-" + std::to_string(i)};
    streams[i].ctx->AddMetadata("authorization", "Bearer " + Token(reader));
    v1::SubscribeRequest req;
    req.set_after_cursor(cursor);
    streams[i].reader = stub->Subscribe(streams[i].ctx.get(), req);
    consumers.emplace_back([&, i] {
      v1::ClueEvent ev;
      while (streams[i].reader->Read(&ev)) {
        std::lock_guard lock(mu[i]);
        received[i].push_back(ev.clue_id() + "/" + std::to_string(ev.seq()));
      }
    });
  }
  const auto joined = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (service_->feed_hub().counts().live < kSubscribers && std::chrono::steady_clock::now() < joined) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(service_->feed_hub().counts().live, kSubscribers);
  const events::FeedHub::Counts before = service_->feed_hub().counts();

  const v1::Clue victim = Register(group, Petition("discipline-group"));
  pqxx::connection slow_conn(Conn());
  pqxx::work slow(slow_conn);
  slow.exec(
      "INSERT INTO clue.clue_events (clue_id, seq, type, actor, actor_unit_id, at, data, prev_hash, hash) "
      "VALUES ('" +
      victim.id() + "', 1000, 'slow_writer', 'test', '', now(), '{}', '', '')");
  std::vector<std::thread> writers;
  for (int w = 0; w < 6; ++w) {
    writers.emplace_back([&] {
      auto wstub = v1::ClueService::NewStub(*channel_);
      for (int i = 0; i < 5; ++i) {
        grpc::ClientContext ctx;
        ctx.AddMetadata("authorization", "Bearer " + Token(group));
        v1::ClueReply r;
        ASSERT_TRUE(wstub->RegisterClue(&ctx, Petition("discipline-group"), &r).ok());
        v1::TransferClueRequest t;
        t.set_request_id(NewUuid());
        t.set_clue_id(r.clue().id());
        t.set_expected_version(r.clue().version());
        t.set_to_unit_id(commission.unit);
        grpc::ClientContext ctx2;
        ctx2.AddMetadata("authorization", "Bearer " + Token(group));
        ASSERT_TRUE(wstub->TransferClue(&ctx2, t, &r).ok());
      }
    });
  }
  for (auto& t : writers) t.join();
  slow.commit();
  std::vector<std::string> expected;
  {
    pqxx::connection conn(Conn());
    pqxx::work tx(conn);
    for (const auto& r :
         tx.exec("SELECT clue_id::text || '/' || seq FROM clue.clue_events WHERE (xid::text::bigint, gseq) > (" +
                 cursor.substr(0, cursor.find(':')) + ", " + cursor.substr(cursor.find(':') + 1) +
                 ") ORDER BY xid, gseq")) {
      expected.push_back(r[0].as<std::string>());
    }
  }
  EXPECT_GE(expected.size(), 6u * 5 * 2 + 2);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (int i = 0; i < kSubscribers; ++i) {
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard lock(mu[i]);
        if (received[i].size() >= expected.size()) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // anything extra would show now
  const events::FeedHub::Counts after = service_->feed_hub().counts();
  for (int i = 0; i < kSubscribers; ++i) streams[i].ctx->TryCancel();
  for (auto& t : consumers) t.join();
  for (int i = 0; i < kSubscribers; ++i) {
    streams[i].reader->Finish();
    EXPECT_EQ(received[i], expected) << "subscriber " << i;
  }
  EXPECT_NE(std::find(expected.begin(), expected.end(), victim.id() + "/1000"), expected.end());
  EXPECT_EQ(after.page_reads, before.page_reads) << "a caught-up subscriber polled PostgreSQL itself";
  EXPECT_EQ(after.fell_behind, before.fell_behind);
  EXPECT_GT(after.hub_reads, before.hub_reads);
  // The same reads show on /metrics.
  const std::string text = metrics::Metrics::Global().Render();
  EXPECT_NE(text.find("sm_feed_reads_total{feed=\"clue\",reader=\"hub\"}"), std::string::npos);
}

TEST_F(ClueServiceTest, StatsRangesWithinOneDayShareOneCacheEntryAndAreChecked) {
  const Who dashboard{UnitId("bureau-party-committee"), {"dashboard"}};
  const Who group{UnitId("discipline-group")};
  // Registered at the service's clock: 2025-01-24 02:00 UTC.
  Register(group, Petition("discipline-group"));
  const int64_t day = ToUnixSeconds(Start()) / 86400 * 86400;
  auto ask = [&](int64_t from, int64_t to, v1::ClueStats* out) {
    v1::GetClueStatsRequest q;
    q.mutable_received_from()->set_seconds(from);
    q.mutable_received_to()->set_seconds(to);
    return Call(dashboard, &v1::ClueService::Stub::GetClueStats, q, out);
  };
  v1::ClueStats a, b, c;
  // Both after the registration, within its day: the whole day is counted, so it is in.
  ASSERT_TRUE(ask(day + 3 * 3600, day + 4 * 3600, &a).ok());
  ASSERT_TRUE(ask(day + 5 * 3600, day + 23 * 3600, &b).ok());
  EXPECT_TRUE(b.from_cache()) << "a range differing within the day is the same entry";
  EXPECT_EQ(b.total(), a.total());
  EXPECT_GE(a.total(), 1);
  ASSERT_TRUE(ask(day + 86400 + 60, day + 86400 + 120, &c).ok());
  EXPECT_FALSE(c.from_cache()) << "the next day is another entry";
  EXPECT_EQ(c.total(), 0);
  // Checked at the edge, naming the field.
  v1::ClueStats bad;
  grpc::Status st = ask(day + 86400, day, &bad);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(st), std::vector<std::string>{"received_to"});
  st = ask(day, int64_t{300} * 365 * 86400, &bad);
  EXPECT_EQ(Fields(st), std::vector<std::string>{"received_to"});
  st = ask(-86400, day, &bad);
  EXPECT_EQ(Fields(st), std::vector<std::string>{"received_from"});
  st = ask(0, day, &bad);
  EXPECT_EQ(Fields(st), std::vector<std::string>{"received_to"}) << "longer than the longest range";
}

// One unary call of `method` with the bytes `request` through the generic stub; the reply's
// bytes are appended to `reply`. `token` empty: no authorization metadata.
grpc::Status RawCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                     const std::string& request, const std::string& token, std::chrono::milliseconds deadline,
                     std::string* reply) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + deadline);
  if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
  grpc::Slice bytes{request};
  grpc::ByteBuffer req(&bytes, 1), resp;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, method, grpc::StubOptions(), &req, &resp, [&](grpc::Status s) { done.set_value(std::move(s)); });
  grpc::Status st = done.get_future().get();
  std::vector<grpc::Slice> slices;
  if (st.ok() && resp.Dump(&slices).ok()) {
    for (const auto& s : slices) reply->append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return st;
}

// grpc.health.v1.Health/Check (no generated health client here): an empty request asks
// about the whole server.
grpc::Status HealthCheck(const std::shared_ptr<grpc::Channel>& channel, std::chrono::milliseconds deadline,
                         std::string* reply) {
  return RawCall(channel, "/grpc.health.v1.Health/Check", "", "", deadline, reply);
}

// GetClueStats is served raw (the reply is the cached bytes): the request is still
// authenticated before it is parsed, bytes that are no request are refused, and a hit sends
// a well-formed ClueStats that says it came from the cache.
TEST_F(ClueServiceTest, RawStatsAuthenticateParseAndAnswerWellFormedBytes) {
  const Who dashboard{UnitId("bureau-party-committee"), {"dashboard"}};
  const std::string method = "/supervision.v1.ClueService/GetClueStats";
  v1::GetClueStatsRequest q;
  q.set_unit_id(UnitId("fucheng-branch"));
  std::string reply;
  EXPECT_EQ(RawCall(*channel_, method, q.SerializeAsString(), "", std::chrono::seconds(5), &reply).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(RawCall(*channel_, method, "\xff\xff\xff", Token(dashboard), std::chrono::seconds(5), &reply).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  for (int i = 0; i < 2; ++i) {  // the second call at least is a hit
    reply.clear();
    ASSERT_TRUE(
        RawCall(*channel_, method, q.SerializeAsString(), Token(dashboard), std::chrono::seconds(5), &reply).ok());
    v1::ClueStats stats;
    ASSERT_TRUE(stats.ParseFromString(reply));
    if (i == 1) {
      EXPECT_TRUE(stats.from_cache());
    }
    EXPECT_TRUE(stats.has_computed_at());
  }
}

// PostgreSQL's processes (the postmaster, named in its pid file, and its children).
std::vector<int> PostgresPids() {
  std::ifstream pidfile(PgRedis::Get().dir() + "/pg/postmaster.pid");
  int postmaster = 0;
  pidfile >> postmaster;
  std::vector<int> pids;
  if (postmaster <= 0) return pids;
  pids.push_back(postmaster);
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    std::getline(stat, line);
    const size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state;
    int ppid = 0;
    rest >> state >> ppid;
    if (ppid == postmaster) pids.push_back(std::stoi(name));
  }
  return pids;
}

// Statistics misses while PostgreSQL hangs (SIGSTOP: connections open, nothing answers)
// wait on the statistics workers, not on gRPC's callback threads: grpc.health still
// answers, and misses beyond the workers' queue are refused at once instead of piling up.
TEST_F(ClueServiceTest, StatsMissesDuringAPostgresHangLeaveHealthAnswering) {
  const Who dashboard{UnitId("bureau-party-committee"), {"dashboard"}};
  v1::ClueStats warm;
  ASSERT_TRUE(Call(dashboard, &v1::ClueService::Stub::GetClueStats, v1::GetClueStatsRequest(), &warm).ok());
  const std::vector<int> pids = PostgresPids();
  ASSERT_GE(pids.size(), 2u);
  struct Resume {
    const std::vector<int>& pids;
    ~Resume() {
      for (int pid : pids) kill(pid, SIGCONT);
    }
  } resume{pids};
  for (int pid : pids) ASSERT_EQ(kill(pid, SIGSTOP), 0);

  constexpr int kMisses = 24;  // more than the workers (2) and their queue (16) hold
  const int64_t day = ToUnixSeconds(Start()) / 86400 * 86400;
  std::vector<std::future<grpc::Status>> calls;
  for (int i = 0; i < kMisses; ++i) {
    calls.push_back(std::async(std::launch::async, [&, i] {
      v1::GetClueStatsRequest q;  // a range of its own: a miss
      q.mutable_received_from()->set_seconds(day - (i + 1) * 86400);
      grpc::ClientContext ctx;
      ctx.AddMetadata("authorization", "Bearer " + Token(dashboard));
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
      v1::ClueStats out;
      return stub_->GetClueStats(&ctx, q, &out);
    }));
  }
  // The refused ones come back while PostgreSQL is still stopped.
  int refused = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  std::vector<bool> done(kMisses, false);
  while (refused < kMisses - 18 && std::chrono::steady_clock::now() < until) {
    for (int i = 0; i < kMisses; ++i) {
      if (!done[i] && calls[i].wait_for(std::chrono::milliseconds(1)) == std::future_status::ready) {
        done[i] = true;
        grpc::Status st = calls[i].get();
        EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE) << st.error_message();
        ++refused;
      }
    }
  }
  EXPECT_GE(refused, kMisses - 18);
  std::string reply;
  grpc::Status health = HealthCheck(*channel_, std::chrono::seconds(5), &reply);
  EXPECT_TRUE(health.ok()) << health.error_message();
  EXPECT_EQ(reply, std::string("\x08\x01", 2)) << "SERVING";
  for (int pid : pids) kill(pid, SIGCONT);
  // Once PostgreSQL runs again the waiting misses are answered. (A worker may not yet have
  // taken its first task when the queue filled, so up to two more may have been refused.)
  int answered = 0;
  for (int i = 0; i < kMisses; ++i) {
    if (done[i]) continue;
    grpc::Status st = calls[i].get();
    if (st.error_code() == grpc::StatusCode::UNAVAILABLE) {
      ++refused;
    } else {
      EXPECT_TRUE(st.ok()) << i << ": " << st.error_message();
      ++answered;
    }
  }
  EXPECT_LE(refused, kMisses - 16);
  EXPECT_EQ(answered + refused, kMisses);
}

}  // namespace
}  // namespace sm::clue
