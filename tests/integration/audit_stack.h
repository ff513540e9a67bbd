// audit-service with clue-service, both in process against the throwaway PostgreSQL and
// Redis of tests/support/pg_redis.h, with the referral relay and the clue event consumer
// running: the fixture shared by the audit integration tests (AuditStack), and the SQL and
// token helpers they use.
#pragma once

#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <sstream>

#include "common/auth.h"
#include "common/consumer.h"
#include "common/db/migrate.h"
#include "common/outbox.h"
#include "common/sealed.h"
#include "common/status.h"
#include "common/uuid.h"
#include "common/workdays.h"
#include "services/audit/pg_store.h"
#include "services/audit/referrals.h"
#include "services/audit/service.h"
#include "services/clue/pg_store.h"
#include "services/clue/service.h"
#include "services/directory/pg_store.h"
#include "tests/integration/callers.h"
#include "tests/integration/clue_stack.h"
#include "tests/integration/demo_directory.h"
#include "tests/support/pg_redis.h"

const std::vector<sm::db::Migration>& directory_lib_migrations();
const std::vector<sm::db::Migration>& clue_lib_migrations();
const std::vector<sm::db::Migration>& audit_lib_migrations();

namespace sm::audit::stack {

using ::sm::testing::PgRedis;

using ::sm::testing::Conn;
using ::sm::testing::Count;
using ::sm::testing::PersonIn;
using ::sm::testing::Sql;
using ::sm::testing::UnitId;

struct Who {
  std::string unit;
  std::vector<std::string> roles;
  int clearance = 1;
};
inline std::string Token(const Who& w) {
  auth::Principal p;
  p.user = "user-" + (w.roles.empty() ? std::string("none") : w.roles[0]);
  p.unit = w.unit;
  p.roles = w.roles;
  p.clearance = w.clearance;
  if (p.HasRole(auth::kRoleService)) p = auth::Principal{.user = "audit-service", .roles = w.roles};
  return *auth::Mint(auth::DevelopmentMint(p));
}

using ::sm::testing::Start;

class AuditStack : public ::sm::testing::ClueStack {
 protected:
  static void SetUpTestSuite() {
    UpClueStack(6);
    if (HasFatalFailure()) return;
    PgRedis& env = PgRedis::Get();
    audit_pool_ = new db::Pool(env.Pool("sm_audit", "audit", 6));
    ASSERT_TRUE(db::ApplyMigrations(*audit_pool_, "audit", audit_lib_migrations()).ok());
    store_ = new PgStore(audit_pool_, *clock_, [] { return NewUuid(); });
    service_ = new AuditServiceImpl(store_, verifier_, calendar_, Policy{30, 50, 90}, *clock_, redis_, nullptr);
    server::Config sc;
    server_ = std::move(*server::Server::Start(sc, {clue_service_, service_})).release();
    channel_ = new std::shared_ptr<grpc::Channel>(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
    auto token = [] { return Token(Who{"", {"service"}}); };
    // As main wires them (services/audit/referrals.h); the relay is driven by the tests.
    referrals_ = new Referrals(store_, env.Pool("sm_audit", "audit"), audit_pool_, *channel_, token);
    relay_ = &referrals_->relay();
    consumer_ = &referrals_->consumer();
    consumer_->Start();
  }
  static void TearDownTestSuite() {
    delete referrals_;
    server_->Shutdown(std::chrono::milliseconds(100));
    delete server_;
    delete service_;
    delete store_;
    delete audit_pool_;
    delete channel_;
    DownClueStack();
  }
  void SetUp() override {
    stub_ = v1::AuditService::NewStub(*channel_);
    clue_ = v1::ClueService::NewStub(*channel_);
    clock_->Set(Start());
  }

  template <typename StubT, typename Req, typename Resp, typename Fn>
  grpc::Status Call(StubT* stub, const Who& w, Fn fn, const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + Token(w));
    return (stub->*fn)(&ctx, req, resp);
  }

  // `unit` (a discipline unit) accepts the clue offered to it at `version`, verifies it and
  // concludes it in form 2 with `feedback`; true when every step was accepted.
  bool AcceptDisposeConclude(const Who& unit, const std::string& clue_id, int64_t version,
                             const std::string& feedback) {
    auto clue_stub = v1::ClueService::NewStub(*channel_);
    v1::ClueReply r;
    v1::AcceptClueRequest a;
    a.set_request_id(NewUuid());
    a.set_clue_id(clue_id);
    a.set_expected_version(version);
    if (!Call(clue_stub.get(), unit, &v1::ClueService::Stub::AcceptClue, a, &r).ok()) return false;
    v1::DisposeClueRequest d;
    d.set_request_id(NewUuid());
    d.set_clue_id(clue_id);
    d.set_expected_version(r.clue().version());
    d.set_method(v1::DISPOSITION_METHOD_VERIFICATION);
    if (!Call(clue_stub.get(), unit, &v1::ClueService::Stub::DisposeClue, d, &r).ok()) return false;
    v1::ConcludeClueRequest k;
    k.set_request_id(NewUuid());
    k.set_clue_id(clue_id);
    k.set_expected_version(r.clue().version());
    k.set_form(v1::SUPERVISION_FORM_2);
    k.set_feedback(feedback);
    return Call(clue_stub.get(), unit, &v1::ClueService::Stub::ConcludeClue, k, &r).ok();
  }

  const Who auditor{UnitId("audit-office"), {"auditor"}};

  static inline db::Pool* audit_pool_;
  static inline PgStore* store_;
  static inline AuditServiceImpl* service_;
  static inline server::Server* server_;
  static inline std::shared_ptr<grpc::Channel>* channel_;
  static inline Referrals* referrals_;
  static inline outbox::Relay* relay_;
  static inline consumer::Consumer<v1::ClueEvent>* consumer_;
  std::unique_ptr<v1::AuditService::Stub> stub_;
  std::unique_ptr<v1::ClueService::Stub> clue_;
};

}  // namespace sm::audit::stack
