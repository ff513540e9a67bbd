// Fault test (ARCHITECTURE.md § How messages move, § Testing faults on one machine): the
// whole local stack runs as processes (deploy/local/stack); a writer refers audit findings
// to the discipline group, a "discipline" client accepts, disposes and concludes some of
// the clues, and a killer SIGKILLs audit-service and clue-service at random moments and
// restarts them. Afterwards, with SQL as the superuser: exactly one clue per referral, no
// orphan clue, every finding linked to its clue, every outcome shown on its finding, no
// dead outbox command, the event cursor at the head, intact hash chains. In the same run an
// inspector refers inspection findings and inspection-service is killed too (the 50 kills
// are shared among the three services); the discipline group concludes some of those clues
// as well. Afterwards: one clue per inspection finding, each finding's referral DELIVERED
// with one "clue_linked" event, and 一案双查 exactly once: two accountability checks (each
// with one "accountability_opened" event) for every clue concluded in form 2 or above,
// whatever its source, and none for form 1. A second test
// stops Redis during a burst of referrals (a cache only: nothing is lost) and checks the
// statistics cache works again once Redis is back. A third kills risk-service 20 times while
// clues naming people are registered, then checks each registration became exactly one
// "clue_named" signal (and one score_changed event) per named person, and each stored score
// equals a recomputation from risk.signals with the stack's rule file.
//
// Knobs (environment): SM_CRASH_KILLS (default 50), SM_CRASH_SECONDS (time budget of the
// kill phase, default 360), SM_CRASH_MAX_REFERRALS (default 4000), SM_CRASH_CALL_BUDGET_MS
// (how long a call is retried during the kill phase before its outcome counts as unknown
// and is resolved at the end, default 15000), SM_CRASH_WATCHDOG_S
// (whole-binary watchdog: stops the stack and exits, default 870), SM_FAULT_KEEP_LOGS=1
// (copy the service logs to /tmp even when everything passes; on failure they always are).
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cstdarg>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/auth.h"
#include "common/uuid.h"
#include "supervision/v1/audit.grpc.pb.h"
#include "supervision/v1/clue.grpc.pb.h"
#include "supervision/v1/directory.grpc.pb.h"
#include "services/risk/scoring.h"
#include "supervision/v1/inspection.grpc.pb.h"
#include "supervision/v1/risk.pb.h"

#include "tests/support/local_stack.h"

namespace {

namespace v1 = supervision::v1;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------
// Small helpers: environment, shell, ports, processes, logging.

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  try {
    return std::stoi(v);
  } catch (...) {
    return fallback;
  }
}

double Seconds(SteadyClock::time_point since) {
  return std::chrono::duration<double>(SteadyClock::now() - since).count();
}

void Say(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void Say(const char* fmt, ...) {
  static std::mutex mu;
  std::lock_guard lock(mu);
  const std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%H:%M:%S", std::localtime(&now));
  std::printf("[fault %s] ", stamp);
  va_list ap;
  va_start(ap, fmt);
  std::vprintf(fmt, ap);
  va_end(ap);
  std::printf("\n");
  std::fflush(stdout);
}

using sm::testing::ReadTrimmed;
using sm::testing::Sh;
using Result = sm::testing::ShResult;

// Alive unless gone or a zombie (a killed service is reparented; nobody may reap it soon).
bool Alive(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return false;
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos || close_paren + 2 >= stat.size()) return false;
  const char state = stat[close_paren + 2];
  return state != 'Z' && state != 'X';
}

bool WaitGone(pid_t pid, std::chrono::milliseconds budget) {
  const auto until = SteadyClock::now() + budget;
  while (SteadyClock::now() < until) {
    if (!Alive(pid)) return true;
    std::this_thread::sleep_for(10ms);
  }
  return !Alive(pid);
}

std::string StatusText(const grpc::Status& s) {
  return std::to_string(static_cast<int>(s.error_code())) + " " + s.error_message();
}

bool Retryable(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNAVAILABLE || s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

// ---------------------------------------------------------------------------------------
// Calls with a deadline and a bearer token; retried through restarts with the same request.

template <typename Stub, typename Req, typename Resp>
using Method = grpc::Status (Stub::*)(grpc::ClientContext*, const Req&, Resp*);

template <typename Stub, typename Req, typename Resp>
grpc::Status Once(Stub* stub, Method<Stub, Req, Resp> fn, const std::string& token, const Req& req, Resp* resp,
                  std::chrono::milliseconds deadline = 5000ms) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + deadline);
  ctx.AddMetadata("authorization", "Bearer " + token);
  resp->Clear();
  return (stub->*fn)(&ctx, req, resp);
}

std::atomic<int64_t> g_retries{0};
// Answers replayed from the idempotency store: a retry whose first attempt had committed.
std::atomic<int64_t> g_replays{0};

template <typename Stub, typename Req, typename Resp>
grpc::Status Retry(Stub* stub, Method<Stub, Req, Resp> fn, const std::string& token, const Req& req, Resp* resp,
                   std::chrono::milliseconds budget, std::chrono::milliseconds deadline = 5000ms) {
  const auto until = SteadyClock::now() + budget;
  for (;;) {
    grpc::Status s = Once(stub, fn, token, req, resp, deadline);
    if (!Retryable(s) || SteadyClock::now() >= until) return s;
    ++g_retries;
    std::this_thread::sleep_for(100ms);
  }
}

// ---------------------------------------------------------------------------------------
// The stack, SQL as the superuser, tokens.

sm::testing::LocalStack* g_stack = nullptr;

pqxx::result Query(const std::string& sql) {
  pqxx::connection c(g_stack->Conn());
  pqxx::nontransaction tx(c);
  return tx.exec(sql);
}

int64_t Scalar(const std::string& sql) {
  pqxx::result r = Query(sql);
  if (r.empty() || r[0][0].is_null()) return 0;
  return r[0][0].as<int64_t>();
}

std::string Text(const std::string& sql) {
  pqxx::result r = Query(sql);
  if (r.empty() || r[0][0].is_null()) return "";
  return r[0][0].as<std::string>();
}

// The first rows of a result, for failure messages.
std::string Show(const pqxx::result& r, size_t max_rows = 15) {
  std::string out;
  for (pqxx::result::size_type i = 0; i < r.size() && static_cast<size_t>(i) < max_rows; ++i) {
    out += "\n  ";
    const pqxx::row row = r[i];
    for (pqxx::row::size_type j = 0; j < row.size(); ++j) {
      if (j) out += " | ";
      out += row[j].is_null() ? std::string("NULL") : row[j].as<std::string>();
    }
  }
  if (r.size() > max_rows) out += "\n  ... (" + std::to_string(r.size()) + " rows)";
  return out;
}

// Expects `sql` to find nothing; the failure names `what` and shows the first rows found.
void ExpectNoRows(const std::string& what, const std::string& sql) {
  pqxx::result r = Query(sql);
  EXPECT_TRUE(r.empty()) << what << ":" << Show(r);
}

std::string Token(const std::string& user, const std::string& unit, const std::string& role, int clearance = 1) {
  auto t = sm::auth::Mint(sm::auth::DevelopmentMint(
      sm::auth::Principal{.user = user, .unit = unit, .roles = {role}, .clearance = clearance}));
  return t.ok() ? *t : std::string();
}

std::shared_ptr<grpc::Channel> Channel(int port) {
  grpc::ChannelArguments args;
  // Reconnect promptly after a restart (gRPC's default backoff grows to two minutes).
  // (Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: that is gRPC's minimum connect timeout.)
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  return grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials(), args);
}

// ---------------------------------------------------------------------------------------
// Work items: a referral (AddFinding then ReferFinding) and a clue's handling (accept,
// dispose, conclude). Each keeps its requests so every retry repeats the same request_id.

enum class Outcome { kDone, kParked, kFailed };

template <typename AddRequest>
struct ReferralOf {
  AddRequest add;
  std::string refer_request_id = sm::NewUuid();
  std::optional<v1::ReferFindingRequest> refer;
  std::string finding_id;
  int stage = 0;  // 0: add, 1: refer, 2: done
  std::string error;
};
using Referral = ReferralOf<v1::AddFindingRequest>;                      // an audit finding's
using InspectionReferral = ReferralOf<v1::AddInspectionFindingRequest>;  // an inspection finding's

struct Handling {
  std::string clue_id, number, source;  // source: the clue's source_system
  int plan = 0;                         // steps to take: 1 accept; 3 accept, dispose, conclude
  int step = 0;                         // steps done
  int64_t version = 0;
  v1::SupervisionForm form = v1::SUPERVISION_FORM_UNSPECIFIED;
  std::array<std::string, 3> request_ids{sm::NewUuid(), sm::NewUuid(), sm::NewUuid()};
  v1::AcceptClueRequest accept;
  v1::DisposeClueRequest dispose;
  v1::ConcludeClueRequest conclude;
  bool built[3] = {false, false, false};
  std::string error;
};

int64_t TrailingNumber(const std::string& s) {
  size_t i = s.size();
  while (i > 0 && std::isdigit(static_cast<unsigned char>(s[i - 1]))) --i;
  return i == s.size() ? 0 : std::stoll(s.substr(i));
}

// Queries shared by the wait and the assertions.
const char* kNotConcludedOnFinding =
    "SELECT c.number, c.id::text, c.outcome_form, c.outcome_feedback, f.id::text, f.clue_state, f.outcome_form, "
    "f.outcome_feedback FROM clue.clues c LEFT JOIN audit.findings f ON f.id::text = c.source_ref "
    "WHERE c.source_system = 'audit' AND c.state = 'CLUE_STATE_CONCLUDED' AND (f.id IS NULL OR "
    "f.clue_state IS DISTINCT FROM 'CLUE_STATE_CONCLUDED' OR f.outcome_form IS DISTINCT FROM c.outcome_form OR "
    "f.outcome_feedback IS DISTINCT FROM c.outcome_feedback) ORDER BY c.number";
const char* kStateNotOnFinding =
    "SELECT c.number, c.state, f.id::text, f.clue_state, f.referral_state FROM clue.clues c "
    "JOIN audit.findings f ON f.id::text = c.source_ref WHERE c.source_system = 'audit' "
    "AND f.clue_state IS DISTINCT FROM c.state ORDER BY c.number";
const char* kHead = "SELECT xid::text || ':' || gseq::text FROM clue.clue_events ORDER BY xid DESC, gseq DESC LIMIT 1";
const char* kCursor = "SELECT cursor FROM audit.consumer_cursors WHERE name = 'clue-events'";
const char* kInspectionCursor = "SELECT cursor FROM inspection.consumer_cursors WHERE name = 'clue-events'";
// 一案双查, whatever the clue's source: concluded clues whose accountability checks are not
// two (form 2 and above) or none (form 1).
const char* kChecksAmiss =
    "SELECT c.number, c.source_system, c.outcome_form, (SELECT count(*) FROM inspection.accountability_checks k "
    "WHERE k.clue_id = c.id) AS checks FROM clue.clues c WHERE c.state = 'CLUE_STATE_CONCLUDED' AND "
    "(SELECT count(*) FROM inspection.accountability_checks k WHERE k.clue_id = c.id) <> "
    "CASE WHEN c.outcome_form >= 2 THEN 2 ELSE 0 END ORDER BY c.number";
// Inspection findings without exactly one clue, or not linked to it.
const char* kInspectionUnlinked =
    "SELECT f.id::text, f.clue_id::text, (SELECT string_agg(c.id::text, ',') FROM clue.clues c "
    "WHERE c.source_system = 'inspection' AND c.source_ref = f.id::text) FROM inspection.findings f "
    "WHERE f.clue_id IS NULL OR (SELECT count(*) FROM clue.clues c WHERE c.source_system = 'inspection' "
    "AND c.source_ref = f.id::text AND c.id = f.clue_id) <> 1 ORDER BY f.created_us";

class ReferralCrash : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    started_ = SteadyClock::now();
    StartWatchdog();
    g_stack = new sm::testing::LocalStack("fault");
    sm::testing::LocalStack& st = *g_stack;
    Say("stack in %s (pg %d, redis %d, audit %d, clue %d)", st.dir().c_str(), st.pg_port(), st.redis_port(),
        st.grpc_port("audit"), st.grpc_port("clue"));
    const auto t0 = SteadyClock::now();
    Result r = st.Start();
    ASSERT_EQ(r.code, 0) << r.out;
    Say("stack started in %.1f s", Seconds(t0));

    audit_ = v1::AuditService::NewStub(Channel(st.grpc_port("audit"))).release();
    clue_ = v1::ClueService::NewStub(Channel(st.grpc_port("clue"))).release();
    directory_ = v1::DirectoryService::NewStub(Channel(st.grpc_port("directory"))).release();
    inspection_svc_ = v1::InspectionService::NewStub(Channel(st.grpc_port("inspection"))).release();

    // The demo directory, through the RPC, as an administrator.
    std::ifstream in(std::string(SM_SOURCE_DIR) + "/deploy/demo/directory.yaml");
    std::stringstream doc;
    doc << in.rdbuf();
    v1::ImportDirectoryRequest imp;
    imp.set_request_id(sm::NewUuid());
    imp.set_document(doc.str());
    v1::ImportDirectoryResponse imported;
    grpc::Status s = Retry(directory_, &v1::DirectoryService::Stub::ImportDirectory, Token("fault-admin", "", "admin"),
                           imp, &imported, 30s, 30000ms);
    ASSERT_TRUE(s.ok()) << StatusText(s);

    audit_office_ = new std::string(UnitId("audit-office"));
    discipline_group_ = new std::string(UnitId("discipline-group"));
    fucheng_ = new std::string(UnitId("fucheng-branch"));
    fucheng_leader_ =
        new std::string(Text("SELECT p.id::text FROM directory.v_people p JOIN directory.v_units u ON u.id = p.unit_id "
                             "WHERE u.code = 'fucheng-branch' AND p.leader ORDER BY p.badge_no LIMIT 1"));
    const std::string committee = UnitId("bureau-party-committee");
    ASSERT_FALSE(audit_office_->empty());
    ASSERT_FALSE(discipline_group_->empty());
    ASSERT_FALSE(fucheng_leader_->empty());
    auditor_token_ = new std::string(Token("fault-auditor", *audit_office_, "auditor"));
    discipline_token_ = new std::string(Token("fault-discipline", *discipline_group_, "discipline"));
    oversight_token_ = new std::string(Token("fault-oversight", committee, "oversight"));
    // A dashboard sees its own unit and the units below it: the bureau's sees the branches.
    dashboard_token_ = new std::string(Token("fault-dashboard", UnitId("bureau"), "dashboard"));

    v1::CreateEngagementRequest ce;
    ce.set_request_id(sm::NewUuid());
    ce.set_kind(v1::ENGAGEMENT_KIND_ECONOMIC_RESPONSIBILITY);
    ce.set_title("涪城分局原局长离任经济责任审计（故障测试）");
    ce.set_audit_unit_id(*audit_office_);
    ce.set_audited_unit_id(*fucheng_);
    ce.set_audited_person_id(*fucheng_leader_);
    ce.set_period_from("2023-01-01");
    ce.set_period_to("2025-12-31");
    v1::EngagementReply er;
    s = Retry(audit_, &v1::AuditService::Stub::CreateEngagement, *auditor_token_, ce, &er, 30s);
    ASSERT_TRUE(s.ok()) << StatusText(s);
    engagement_ = new std::string(er.engagement().id());
    Say("directory imported, engagement %s (%s)", engagement_->c_str(), er.engagement().number().c_str());
    StartInspection();
  }

  // An inspection of fucheng-branch by an inspector of the inspection corps (the token's
  // subject is the inspector's person id), in progress, with one item marked non-conforming
  // there: every inspection finding of the run is raised on it.
  static void StartInspection() {
    const std::string corps = UnitId("inspection-corps");
    const std::string inspector = Text(
        "SELECT p.id::text FROM directory.v_people p JOIN directory.v_units u ON u.id = p.unit_id "
        "WHERE u.code = 'inspection-corps' ORDER BY p.leader, p.badge_no LIMIT 1");
    ASSERT_FALSE(corps.empty());
    ASSERT_FALSE(inspector.empty());
    inspector_token_ = new std::string(Token(inspector, corps, "inspector"));
    v1::PublishTemplateRequest t;
    t.set_request_id(sm::NewUuid());
    t.set_code("fault-referral");
    t.set_name("故障测试督察清单");
    auto* aspect = t.add_aspects();
    aspect->set_code("A1");
    aspect->set_title("廉洁自律");
    auto* item = aspect->add_items();
    item->set_code(kInspectionItem);
    item->set_text("津补贴发放合规");
    v1::TemplateReply tr;
    auto call = [](auto fn, const auto& req, auto* resp) {
      return Retry(inspection_svc_, fn, *inspector_token_, req, resp, 30s);
    };
    grpc::Status s = call(&v1::InspectionService::Stub::PublishTemplate, t, &tr);
    ASSERT_TRUE(s.ok()) << StatusText(s);
    v1::CreateInspectionRequest c;
    c.set_request_id(sm::NewUuid());
    c.set_kind(v1::INSPECTION_KIND_POLITICAL);
    c.set_title("涪城分局政治督察（故障测试）");
    c.set_inspection_unit_id(corps);
    c.add_target_unit_ids(*fucheng_);
    c.set_period_from("2026-01-01");
    c.set_period_to("2026-03-31");
    c.add_inspector_ids(inspector);
    c.set_template_code(t.code());
    v1::InspectionReply ir;
    s = call(&v1::InspectionService::Stub::CreateInspection, c, &ir);
    ASSERT_TRUE(s.ok()) << StatusText(s);
    v1::AdvanceInspectionRequest a;
    a.set_request_id(sm::NewUuid());
    a.set_inspection_id(ir.inspection().id());
    a.set_expected_version(ir.inspection().version());
    a.set_to(v1::INSPECTION_STATE_IN_PROGRESS);
    s = call(&v1::InspectionService::Stub::AdvanceInspection, a, &ir);
    ASSERT_TRUE(s.ok()) << StatusText(s);
    v1::MarkItemRequest m;
    m.set_request_id(sm::NewUuid());
    m.set_inspection_id(ir.inspection().id());
    m.set_item_code(kInspectionItem);
    m.set_target_unit_id(*fucheng_);
    m.set_mark(v1::ITEM_MARK_NON_CONFORMING);
    m.set_note("督察组工作底稿：津补贴台账缺失");
    s = call(&v1::InspectionService::Stub::MarkItem, m, &ir);
    ASSERT_TRUE(s.ok()) << StatusText(s);
    inspection_ = new std::string(ir.inspection().id());
    Say("inspection %s (%s) in progress", inspection_->c_str(), ir.inspection().number().c_str());
  }

  static void TearDownTestSuite() {
    StopWatchdog();
    if (g_stack == nullptr) return;
    const bool failed = ::testing::UnitTest::GetInstance()->failed_test_count() > 0 ||
                        ::testing::UnitTest::GetInstance()->ad_hoc_test_result().Failed();
    SaveLogs(failed ? "a test failed" : (EnvInt("SM_FAULT_KEEP_LOGS", 0) ? "SM_FAULT_KEEP_LOGS" : ""));
    const auto t0 = SteadyClock::now();
    Result r = g_stack->Stop();
    Say("stack stopped in %.1f s%s%s", Seconds(t0), r.code == 0 ? "" : ": ", r.code == 0 ? "" : r.out.c_str());
    delete audit_;
    delete clue_;
    delete directory_;
    delete inspection_svc_;
    inspection_svc_ = nullptr;
    audit_ = nullptr;
    clue_ = nullptr;
    directory_ = nullptr;
    delete g_stack;
    g_stack = nullptr;
  }

  // Copies $SM_RUN_DIR/logs to a folder that outlives the stack (for the report).
  static void SaveLogs(const std::string& why) {
    if (why.empty() || g_stack == nullptr) return;
    const std::string to = "/tmp/sm-fault-logs-" + std::to_string(std::time(nullptr)) + "-" + std::to_string(getpid());
    std::error_code ec;
    std::filesystem::copy(g_stack->run_dir() + "/logs", to, std::filesystem::copy_options::recursive, ec);
    Say("logs kept in %s (%s)%s", to.c_str(), why.c_str(), ec ? (" copy error: " + ec.message()).c_str() : "");
  }

  // The whole binary is bounded: past SM_CRASH_WATCHDOG_S the stack is stopped and the
  // process exits, so a hang never leaves servers behind.
  static void StartWatchdog() {
    const int limit = EnvInt("SM_CRASH_WATCHDOG_S", 870);
    watchdog_stop_ = false;
    watchdog_ = new std::thread([limit] {
      std::unique_lock lock(watchdog_mu_);
      if (watchdog_cv_.wait_for(lock, std::chrono::seconds(limit), [] { return watchdog_stop_; })) return;
      Say("WATCHDOG: %d s passed; stopping the stack and exiting", limit);
      if (g_stack != nullptr) {
        SaveLogs("watchdog");
        Result r = g_stack->Run("stop");
        std::printf("%s\n", r.out.c_str());
      }
      std::fflush(stdout);
      _exit(3);
    });
  }
  static void StopWatchdog() {
    {
      std::lock_guard lock(watchdog_mu_);
      watchdog_stop_ = true;
    }
    watchdog_cv_.notify_all();
    if (watchdog_ != nullptr && watchdog_->joinable()) watchdog_->join();
    delete watchdog_;
    watchdog_ = nullptr;
  }

  static std::string UnitId(const std::string& code) {
    return Text("SELECT id::text FROM directory.v_units WHERE code = '" + code + "'");
  }

  // Makes sure a service runs (a previous test may have ended between kill and restart).
  static void EnsureUp(const std::string& name) {
    const pid_t pid = g_stack->Pid(name);
    if (pid > 0 && Alive(pid)) return;
    Result r = g_stack->Run("start-service " + name);
    ASSERT_EQ(r.code, 0) << r.out;
  }

  // ---- referrals ----

  static Referral NewReferral(int n) {
    Referral j;
    v1::AddFindingRequest& r = j.add;
    r.set_request_id(sm::NewUuid());
    r.set_engagement_id(*engagement_);
    r.set_title("超标准列支接待费用（" + std::to_string(n) + "）");
    r.set_description("2024年度接待费超出标准，部分无公函。故障测试 #" + std::to_string(n));
    r.set_category(v1::FINDING_CATEGORY_FINANCIAL_DISCIPLINE);
    r.set_amount_fen(100000 + n);
    r.set_severity(v1::SEVERITY_HIGH);
    r.set_responsible_unit_id(*fucheng_);
    r.set_responsible_person_id(*fucheng_leader_);
    r.add_evidence_refs("审计底稿 SJ-FAULT-" + std::to_string(n));
    return j;
  }

  static InspectionReferral NewInspectionReferral(int n) {
    InspectionReferral j;
    v1::AddInspectionFindingRequest& r = j.add;
    r.set_request_id(sm::NewUuid());
    r.set_inspection_id(*inspection_);
    r.set_item_code(kInspectionItem);
    r.set_subject_unit_id(*fucheng_);
    r.set_subject_person_id(*fucheng_leader_);
    r.set_title("违规发放津补贴（" + std::to_string(n) + "）");
    r.set_description("督察发现违规发放津补贴。故障测试 #" + std::to_string(n));
    r.set_category(v1::INSPECTION_FINDING_CATEGORY_INTEGRITY);
    r.set_severity(v1::SEVERITY_HIGH);
    r.add_evidence_refs("督察底稿 DC-FAULT-" + std::to_string(n));
    return j;
  }

  static Outcome Advance(Referral& j, std::chrono::milliseconds budget) {
    return AdvanceReferral(j, audit_, &v1::AuditService::Stub::AddFinding, &v1::AuditService::Stub::ReferFinding,
                           *auditor_token_, budget);
  }
  static Outcome Advance(InspectionReferral& j, std::chrono::milliseconds budget) {
    return AdvanceReferral(j, inspection_svc_, &v1::InspectionService::Stub::AddFinding,
                           &v1::InspectionService::Stub::ReferFinding, *inspector_token_, budget);
  }

  // AddFinding then ReferFinding to the discipline group, through audit- or inspection-service
  // (both answer with a finding that carries its referral).
  template <typename Stub, typename AddRequest, typename Reply>
  static Outcome AdvanceReferral(ReferralOf<AddRequest>& j, Stub* stub, Method<Stub, AddRequest, Reply> add,
                                 Method<Stub, v1::ReferFindingRequest, Reply> refer_fn, const std::string& token,
                                 std::chrono::milliseconds budget) {
    if (j.stage == 0) {
      Reply reply;
      grpc::Status s = Retry(stub, add, token, j.add, &reply, budget);
      if (!s.ok()) {
        if (Retryable(s)) return Outcome::kParked;
        j.error = "AddFinding " + j.add.request_id() + ": " + StatusText(s);
        return Outcome::kFailed;
      }
      if (reply.mutation().replayed()) ++g_replays;
      j.finding_id = reply.finding().id();
      v1::ReferFindingRequest refer;
      refer.set_request_id(j.refer_request_id);
      refer.set_finding_id(j.finding_id);
      refer.set_expected_version(reply.finding().version());
      refer.set_to_unit_id(*discipline_group_);
      refer.add_categories(v1::CLUE_CATEGORY_INTEGRITY);
      j.refer = refer;
      j.stage = 1;
    }
    if (j.stage == 1) {
      Reply reply;
      grpc::Status s = Retry(stub, refer_fn, token, *j.refer, &reply, budget);
      if (!s.ok()) {
        if (Retryable(s)) return Outcome::kParked;
        j.error = "ReferFinding " + j.refer->request_id() + " (finding " + j.finding_id + "): " + StatusText(s);
        return Outcome::kFailed;
      }
      if (reply.finding().referral().state() == v1::REFERRAL_STATE_UNSPECIFIED) {
        j.error = "ReferFinding " + j.refer->request_id() + " answered with an unreferred finding";
        return Outcome::kFailed;
      }
      if (reply.mutation().replayed()) ++g_replays;
      j.stage = 2;
    }
    return Outcome::kDone;
  }

  // ---- the discipline group's handling ----

  static Outcome Advance(Handling& h, std::chrono::milliseconds budget) {
    while (h.step < h.plan) {
      v1::ClueReply reply;
      grpc::Status s;
      std::string what;
      switch (h.step) {
        case 0:
          if (!h.built[0]) {
            h.accept.set_request_id(h.request_ids[0]);
            h.accept.set_clue_id(h.clue_id);
            h.accept.set_expected_version(h.version);
            h.built[0] = true;
          }
          what = "AcceptClue " + h.accept.request_id();
          s = Retry(clue_, &v1::ClueService::Stub::AcceptClue, *discipline_token_, h.accept, &reply, budget);
          break;
        case 1:
          if (!h.built[1]) {
            h.dispose.set_request_id(h.request_ids[1]);
            h.dispose.set_clue_id(h.clue_id);
            h.dispose.set_expected_version(h.version);
            h.dispose.set_method(v1::DISPOSITION_METHOD_VERIFICATION);
            h.built[1] = true;
          }
          what = "DisposeClue " + h.dispose.request_id();
          s = Retry(clue_, &v1::ClueService::Stub::DisposeClue, *discipline_token_, h.dispose, &reply, budget);
          break;
        default:
          if (!h.built[2]) {
            h.conclude.set_request_id(h.request_ids[2]);
            h.conclude.set_clue_id(h.clue_id);
            h.conclude.set_expected_version(h.version);
            h.conclude.set_form(h.form);
            h.conclude.set_feedback("fb-" + h.number);
            h.built[2] = true;
          }
          what = "ConcludeClue " + h.conclude.request_id();
          s = Retry(clue_, &v1::ClueService::Stub::ConcludeClue, *discipline_token_, h.conclude, &reply, budget);
          break;
      }
      if (!s.ok()) {
        if (Retryable(s)) return Outcome::kParked;
        h.error = what + " (clue " + h.number + "): " + StatusText(s);
        return Outcome::kFailed;
      }
      if (reply.mutation().replayed()) ++g_replays;
      h.version = reply.clue().version();
      ++h.step;
    }
    return Outcome::kDone;
  }

  // Pages through the clues offered to the discipline group. nullopt when the service
  // could not be reached within the budget.
  static std::optional<std::vector<v1::Clue>> Offered(std::chrono::milliseconds budget) {
    std::vector<v1::Clue> out;
    std::string token;
    for (int page = 0; page < 100; ++page) {
      v1::ListCluesRequest q;
      q.set_state(v1::CLUE_STATE_OFFERED);
      q.set_page_size(200);
      q.set_page_token(token);
      v1::ListCluesResponse resp;
      grpc::Status s = Retry(clue_, &v1::ClueService::Stub::ListClues, *discipline_token_, q, &resp, budget, 10000ms);
      if (!s.ok()) {
        if (!Retryable(s)) {
          std::lock_guard lock(mu_);
          errors_.push_back("ListClues: " + StatusText(s));
        }
        return std::nullopt;
      }
      for (const auto& c : resp.clues()) out.push_back(c);
      token = resp.next_page_token();
      if (token.empty()) break;
    }
    return out;
  }

  // One pass of the discipline group over its offers; returns how many it took up.
  static int DisciplineRound(std::chrono::milliseconds budget) {
    auto offered = Offered(budget);
    if (!offered) return 0;
    int taken = 0;
    for (const auto& c : *offered) {
      if (c.source_system() != "audit" && c.source_system() != "inspection") continue;
      {
        std::lock_guard lock(mu_);
        if (!seen_clues_.insert(c.id()).second) continue;
      }
      const int64_t n = TrailingNumber(c.number());
      Handling h;
      h.clue_id = c.id();
      h.number = c.number();
      h.source = c.source_system();
      h.version = c.version();
      switch (n % 4) {
        case 0: h.plan = 0; break;   // left on offer
        case 1: h.plan = 1; break;   // accepted only
        default: h.plan = 3; break;  // accepted, verified, concluded
      }
      h.form = n % 2 == 0 ? v1::SUPERVISION_FORM_1 : v1::SUPERVISION_FORM_2;
      if (h.plan == 0) continue;
      ++taken;
      Outcome o = Advance(h, budget);
      std::lock_guard lock(mu_);
      if (o == Outcome::kParked)
        parked_handlings_.push_back(h);
      else if (o == Outcome::kFailed)
        errors_.push_back(h.error);
      else
        handled_.push_back(h);
    }
    return taken;
  }

  // Waits (bounded) until `done` holds; returns the seconds it took, or -1.
  static double WaitUntil(const std::function<bool()>& done, std::chrono::seconds budget) {
    const auto t0 = SteadyClock::now();
    while (Seconds(t0) < static_cast<double>(budget.count())) {
      try {
        if (done()) return Seconds(t0);
      } catch (const std::exception& e) {
        Say("waiting: %s", e.what());
      }
      std::this_thread::sleep_for(500ms);
    }
    return -1;
  }

  // After quiescence: every inspection referral became one clue, DELIVERED and linked once;
  // the handled inspection clues are in the states the test put them in; 一案双查 exactly once
  // for every concluded clue (whatever its source); inspection's consumer at the head.
  static void CheckInspectionReferrals(const std::vector<std::string>& referred, int added,
                                       const std::string& cursor_before) {
    std::set<std::string> ours(referred.begin(), referred.end());
    EXPECT_EQ(ours.size(), referred.size()) << "an inspection referral answered twice with the same finding";
    EXPECT_EQ(Scalar("SELECT count(*) FROM inspection.findings WHERE inspection_id = '" + *inspection_ + "'"),
              static_cast<int64_t>(added))
        << "a repeated AddFinding request added a second inspection finding";
    ExpectNoRows("inspection findings without exactly one linked clue", kInspectionUnlinked);
    ExpectNoRows("clues without their inspection finding",
                 "SELECT c.number, c.source_ref FROM clue.clues c WHERE c.source_system = 'inspection' AND NOT "
                 "EXISTS (SELECT 1 FROM inspection.findings f WHERE f.id::text = c.source_ref) ORDER BY c.number");
    ExpectNoRows("inspection findings without exactly one clue_linked event",
                 "SELECT f.id::text, count(e.seq) FROM inspection.findings f LEFT JOIN inspection.inspection_events e "
                 "ON e.aggregate_id = f.id AND e.type = 'clue_linked' WHERE f.inspection_id = '" +
                     *inspection_ + "' GROUP BY f.id HAVING count(e.seq) <> 1");

    // The referral as the service shows it: DELIVERED, with the clue the SQL finds.
    std::map<std::string, std::string> clue_of;
    for (const auto& row : Query("SELECT source_ref, id::text FROM clue.clues WHERE source_system = 'inspection'"))
      clue_of.emplace(row[0].as<std::string>(), row[1].as<std::string>());
    std::set<std::string> listed;
    std::string token;
    for (int page = 0; page < 100; ++page) {
      v1::ListInspectionFindingsRequest q;
      q.set_inspection_id(*inspection_);
      q.set_page_size(200);
      q.set_page_token(token);
      v1::ListInspectionFindingsResponse resp;
      grpc::Status s =
          Retry(inspection_svc_, &v1::InspectionService::Stub::ListFindings, *inspector_token_, q, &resp, 30s, 10000ms);
      ASSERT_TRUE(s.ok()) << StatusText(s);
      for (const auto& f : resp.findings()) {
        listed.insert(f.id());
        EXPECT_EQ(f.referral().state(), v1::REFERRAL_STATE_DELIVERED)
            << f.number() << ": " << f.referral().last_error();
        EXPECT_EQ(f.referral().clue_id(), clue_of[f.id()]) << f.number();
      }
      token = resp.next_page_token();
      if (token.empty()) break;
    }
    EXPECT_EQ(listed, ours) << "the inspection's findings are not exactly the ones referred";

    // The handled inspection clues; 一案双查 for every concluded clue.
    std::map<std::string, std::pair<std::string, int>> state_of;  // clue id -> state, outcome form
    for (const auto& row : Query("SELECT id::text, state, coalesce(outcome_form, 0) FROM clue.clues "
                                 "WHERE source_system = 'inspection'"))
      state_of[row[0].as<std::string>()] = {row[1].as<std::string>(), row[2].as<int>()};
    int concluded[3] = {0, 0, 0};
    for (const auto& h : handled_) {
      if (h.source != "inspection") continue;
      const auto& [state, form] = state_of[h.clue_id];
      EXPECT_EQ(state, h.plan == 3 ? "CLUE_STATE_CONCLUDED" : "CLUE_STATE_HELD") << h.number;
      if (h.plan != 3) continue;
      EXPECT_EQ(form, static_cast<int>(h.form)) << h.number;
      ++concluded[h.form == v1::SUPERVISION_FORM_2 ? 2 : 1];
    }
    ExpectNoRows("concluded clues with other than two checks (form 2) or none (form 1)", kChecksAmiss);
    ExpectNoRows("checks without exactly one accountability_opened event",
                 "SELECT k.id::text, k.clue_id::text, count(e.seq) FROM inspection.accountability_checks k LEFT JOIN "
                 "inspection.inspection_events e ON e.aggregate_id = k.id AND e.type = 'accountability_opened' "
                 "GROUP BY k.id, k.clue_id HAVING count(e.seq) <> 1");
    EXPECT_GT(concluded[2], 0) << "no inspection clue concluded in form 2";
    EXPECT_GT(concluded[1], 0) << "no inspection clue concluded in form 1";
    ExpectNoRows("dead inspection outbox commands",
                 "SELECT id, dedupe_key, attempts, last_error FROM inspection.outbox WHERE state = 'dead'");
    const std::string cursor_after = Text(kInspectionCursor);
    EXPECT_NE(cursor_after, cursor_before);
    EXPECT_EQ(cursor_after, Text(kHead));
    Say("inspection: %zu findings referred, each one clue, linked once; clues concluded in form 2: %d, form 1: %d; "
        "checks %lld for %lld clues concluded in form 2+ (all sources)",
        referred.size(), concluded[2], concluded[1],
        static_cast<long long>(Scalar("SELECT count(*) FROM inspection.accountability_checks")),
        static_cast<long long>(
            Scalar("SELECT count(*) FROM clue.clues WHERE state = 'CLUE_STATE_CONCLUDED' AND outcome_form >= 2")));
  }

  static inline SteadyClock::time_point started_;
  static inline std::thread* watchdog_ = nullptr;
  static inline std::mutex watchdog_mu_;
  static inline std::condition_variable watchdog_cv_;
  static inline bool watchdog_stop_ = false;

  static inline v1::AuditService::Stub* audit_ = nullptr;
  static inline v1::ClueService::Stub* clue_ = nullptr;
  static inline v1::DirectoryService::Stub* directory_ = nullptr;
  static inline v1::InspectionService::Stub* inspection_svc_ = nullptr;
  static inline std::string *inspection_ = nullptr, *inspector_token_ = nullptr;
  static constexpr const char* kInspectionItem = "A1-1";  // marked non-conforming at fucheng-branch
  static inline std::string *audit_office_, *discipline_group_, *fucheng_, *fucheng_leader_, *engagement_;
  static inline std::string *auditor_token_, *discipline_token_, *oversight_token_, *dashboard_token_;

  static inline std::mutex mu_;
  static inline std::vector<std::string> errors_;  // unexpected (non-retryable) answers
  static inline std::set<std::string> seen_clues_;
  static inline std::vector<Handling> parked_handlings_, handled_;
};

TEST_F(ReferralCrash, EveryReferralBecomesOneClueThroughKillsAndRestarts) {
  ASSERT_NE(engagement_, nullptr) << "the stack did not start";
  const int kills_wanted = std::max(2, EnvInt("SM_CRASH_KILLS", 50));
  const std::vector<std::string> victims = {"audit", "clue", "inspection"};
  const int min_each = std::min(15, kills_wanted / 3);
  const int budget_s = EnvInt("SM_CRASH_SECONDS", 360);
  const int max_referrals = EnvInt("SM_CRASH_MAX_REFERRALS", 4000);
  // How long a call is retried during the kill phase before its outcome counts as unknown.
  const auto call_budget = std::chrono::milliseconds(EnvInt("SM_CRASH_CALL_BUDGET_MS", 15000));
  const std::string cursor_before = Text(kCursor);
  const std::string inspection_cursor_before = Text(kInspectionCursor);
  Say("kill phase: %d kills (at least %d of each service), at most %d s", kills_wanted, min_each, budget_s);

  std::atomic<bool> stop_writer{false}, stop_discipline{false};
  std::vector<Referral> parked_referrals;
  std::vector<InspectionReferral> parked_inspection_referrals;
  std::vector<std::string> referred, inspection_referred;  // finding ids whose ReferFinding was answered OK
  int added = 0, inspection_added = 0;

  // A writer: one referral after another, retrying each through restarts; paced, so that
  // the discipline group and the relays keep up within the run.
  auto write = [&](auto new_referral, auto& parked, std::vector<std::string>& done, int& count,
                   std::chrono::milliseconds pace) {
    for (int n = 1; n <= max_referrals && !stop_writer; ++n) {
      auto j = new_referral(n);
      Outcome o = Advance(j, call_budget);
      std::lock_guard lock(mu_);
      if (j.stage >= 1) ++count;
      if (o == Outcome::kDone)
        done.push_back(j.finding_id);
      else if (o == Outcome::kParked)
        parked.push_back(std::move(j));
      else
        errors_.push_back(j.error);
      std::this_thread::sleep_for(pace);
    }
  };
  std::thread writer([&] { write(NewReferral, parked_referrals, referred, added, 20ms); });
  std::thread inspection_writer(
      [&] { write(NewInspectionReferral, parked_inspection_referrals, inspection_referred, inspection_added, 40ms); });
  // The discipline group: takes up some of its offers now and then.
  std::thread discipline([&] {
    while (!stop_discipline) {
      DisciplineRound(call_budget);
      for (int i = 0; i < 6 && !stop_discipline; ++i) std::this_thread::sleep_for(50ms);
    }
  });

  // The killer.
  std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<int> delay_ms(100, 800);
  std::map<std::string, int> kills{{"audit", 0}, {"clue", 0}, {"inspection", 0}};
  std::vector<double> restart_s;
  std::vector<std::string> killer_errors;
  const auto phase_start = SteadyClock::now();
  int total = 0;
  while (total < kills_wanted && Seconds(phase_start) < budget_s) {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    const int left = kills_wanted - total;
    // At random, unless the kills left are just enough to give each service its minimum.
    int short_total = 0;
    std::string name = victims[rng() % victims.size()];
    for (const auto& v : victims) short_total += std::max(0, min_each - kills[v]);
    if (short_total >= left) {
      for (const auto& v : victims)
        if (min_each - kills[v] > min_each - kills[name]) name = v;
    }
    const pid_t pid = g_stack->Pid(name);
    if (pid <= 0 || !Alive(pid)) {
      killer_errors.push_back(name + "-service not running before kill " + std::to_string(total + 1));
      Result r = g_stack->Run("start-service " + name);
      if (r.code != 0) killer_errors.push_back(r.out);
      continue;
    }
    ::kill(pid, SIGKILL);
    if (!WaitGone(pid, 5000ms))
      killer_errors.push_back(name + "-service pid " + std::to_string(pid) + " survived SIGKILL");
    ++kills[name];
    ++total;
    const auto t0 = SteadyClock::now();
    Result r = g_stack->Run("start-service " + name);
    if (r.code != 0) {
      killer_errors.push_back("start-service " + name + " failed: " + r.out);
      r = g_stack->Run("start-service " + name);  // once more; the test fails anyway
    }
    restart_s.push_back(Seconds(t0));
    if (total % 10 == 0) {
      std::lock_guard lock(mu_);
      Say("kills %d (audit %d, clue %d, inspection %d) after %.0f s; referrals %zu + %zu, handled %zu, retries %lld",
          total, kills["audit"], kills["clue"], kills["inspection"], Seconds(phase_start), referred.size(),
          inspection_referred.size(), handled_.size(), static_cast<long long>(g_retries.load()));
    }
  }
  const double phase_s = Seconds(phase_start);
  double restart_sum = 0, restart_max = 0;
  for (double x : restart_s) {
    restart_sum += x;
    restart_max = std::max(restart_max, x);
  }
  Say("KILLS: %d (audit-service %d, clue-service %d, inspection-service %d) in %.1f s; restart %.2f s on average, "
      "%.2f s at most",
      total, kills["audit"], kills["clue"], kills["inspection"], phase_s,
      restart_s.empty() ? 0.0 : restart_sum / restart_s.size(), restart_max);

  stop_writer = true;
  writer.join();
  inspection_writer.join();
  // The last offers too, then the discipline group stops.
  stop_discipline = true;
  discipline.join();
  DisciplineRound(30000ms);

  // Work whose outcome was unknown is resolved by repeating the same request (bounded:
  // 120 s for all of it; each item gets what is left, at least a second).
  const size_t parked_r = parked_referrals.size() + parked_inspection_referrals.size();
  const size_t parked_h = parked_handlings_.size();
  const auto resolve_until = SteadyClock::now() + 120s;
  auto left = [&] {
    return std::max<std::chrono::milliseconds>(
        1000ms, std::chrono::duration_cast<std::chrono::milliseconds>(resolve_until - SteadyClock::now()));
  };
  auto resolve = [&](auto& parked, std::vector<std::string>& done, int& count) {
    for (auto& j : parked) {
      const bool was_added = j.stage >= 1;  // counted by the writer already
      Outcome o = Advance(j, left());
      if (!was_added && j.stage >= 1) ++count;
      if (o == Outcome::kDone)
        done.push_back(j.finding_id);
      else
        errors_.push_back(o == Outcome::kParked ? "unresolved: AddFinding " + j.add.request_id() : j.error);
    }
  };
  resolve(parked_referrals, referred, added);
  resolve(parked_inspection_referrals, inspection_referred, inspection_added);
  for (auto& h : parked_handlings_) {
    Outcome o = Advance(h, left());
    if (o == Outcome::kDone)
      handled_.push_back(h);
    else
      errors_.push_back(o == Outcome::kParked ? "unresolved: clue " + h.number : h.error);
  }
  Say("referrals %zu audit + %zu inspection (resolved at the end: %zu), clues taken up %zu (resolved at the end: %zu), "
      "retries %lld, "
      "replayed answers %lld",
      referred.size(), inspection_referred.size(), parked_r, handled_.size(), parked_h,
      static_cast<long long>(g_retries.load()), static_cast<long long>(g_replays.load()));

  EXPECT_EQ(total, kills_wanted) << "time budget ran out before all kills";
  for (const auto& v : victims) EXPECT_GE(kills[v], std::min(min_each, total / 3)) << v;
  EXPECT_TRUE(killer_errors.empty()) << ::testing::PrintToString(killer_errors);
  EXPECT_TRUE(errors_.empty()) << errors_.size() << " unexpected answers, e.g. "
                               << ::testing::PrintToString(std::vector<std::string>(
                                      errors_.begin(), errors_.begin() + std::min<size_t>(errors_.size(), 10)));
  ASSERT_GT(referred.size(), 50u) << "too few referrals to prove anything";
  ASSERT_GT(inspection_referred.size(), 20u) << "too few inspection referrals to prove anything";

  // Quiescence: nothing pending in the outbox, every clue's state shown on its finding,
  // every outcome arrived, the consumer at the head of clue-service's feed.
  const double quiet_s = WaitUntil(
      [] {
        return Scalar("SELECT count(*) FROM audit.outbox WHERE state = 'pending'") == 0 &&
               Scalar("SELECT count(*) FROM inspection.outbox WHERE state = 'pending'") == 0 &&
               Query(kNotConcludedOnFinding).empty() && Query(kStateNotOnFinding).empty() &&
               Text(kCursor) == Text(kHead) && Text(kInspectionCursor) == Text(kHead) &&
               Query(kInspectionUnlinked).empty() && Query(kChecksAmiss).empty();
      },
      120s);
  Say("quiescent after %.1f s", quiet_s);
  EXPECT_GE(quiet_s, 0) << "not quiescent within 120 s: pending outbox rows "
                        << Show(Query("SELECT id, dedupe_key, attempts, next_attempt_at, last_error FROM audit.outbox "
                                      "WHERE state = 'pending' ORDER BY id"))
                        << Show(Query("SELECT id, dedupe_key, attempts, next_attempt_at, last_error FROM "
                                      "inspection.outbox WHERE state = 'pending' ORDER BY id"))
                        << "\ncursor " << Text(kCursor) << ", inspection's " << Text(kInspectionCursor) << " head "
                        << Text(kHead);

  // Exactly one clue per referral.
  pqxx::result dup = Query(
      "SELECT source_ref, count(*) FROM clue.clues WHERE source_system = 'audit' "
      "GROUP BY source_ref HAVING count(*) > 1");
  EXPECT_TRUE(dup.empty()) << "findings with more than one clue:" << Show(dup);
  pqxx::result lost = Query(
      "SELECT f.id::text, f.number, f.referral_state, f.referral_error FROM audit.findings f "
      "WHERE f.referral_state <> 'REFERRAL_STATE_UNSPECIFIED' AND NOT EXISTS (SELECT 1 FROM clue.clues c "
      "WHERE c.source_system = 'audit' AND c.source_ref = f.id::text) ORDER BY f.number");
  EXPECT_TRUE(lost.empty()) << "referred findings without a clue:" << Show(lost);
  pqxx::result orphans = Query(
      "SELECT c.id::text, c.number, c.source_ref FROM clue.clues c WHERE c.source_system = 'audit' AND NOT EXISTS "
      "(SELECT 1 FROM audit.findings f WHERE f.id::text = c.source_ref) ORDER BY c.number");
  EXPECT_TRUE(orphans.empty()) << "clues without their finding:" << Show(orphans);
  pqxx::result unlinked = Query(
      "SELECT f.id::text, f.referral_state, f.clue_id::text, c.id::text, f.clue_number, c.number FROM audit.findings f "
      "JOIN clue.clues c ON c.source_system = 'audit' AND c.source_ref = f.id::text "
      "WHERE f.clue_id IS DISTINCT FROM c.id OR f.clue_number IS DISTINCT FROM c.number "
      "OR f.referral_state <> 'REFERRAL_STATE_DELIVERED' ORDER BY f.number");
  EXPECT_TRUE(unlinked.empty()) << "findings not linked to their clue:" << Show(unlinked);
  // The referred findings are exactly the ones this test referred, each added once.
  std::set<std::string> ours(referred.begin(), referred.end());
  EXPECT_EQ(ours.size(), referred.size()) << "a referral answered twice with the same finding";
  std::set<std::string> in_db;
  for (const auto& row : Query("SELECT id::text FROM audit.findings WHERE engagement_id = '" + *engagement_ +
                               "' AND referral_state <> 'REFERRAL_STATE_UNSPECIFIED'")) {
    in_db.insert(row[0].as<std::string>());
  }
  EXPECT_EQ(in_db, ours);
  EXPECT_EQ(Scalar("SELECT count(*) FROM audit.findings WHERE engagement_id = '" + *engagement_ + "'"),
            static_cast<int64_t>(added))
      << "a repeated AddFinding request added a second finding";

  // Every outcome reached its finding; the clues are in the states the test put them in.
  pqxx::result missing = Query(kNotConcludedOnFinding);
  EXPECT_TRUE(missing.empty()) << "concluded clues whose outcome is not on the finding:" << Show(missing);
  pqxx::result stale = Query(kStateNotOnFinding);
  EXPECT_TRUE(stale.empty()) << "findings showing another state than their clue:" << Show(stale);
  // One query for all of them (a query per clue takes long after a soak).
  std::map<std::string, pqxx::row> by_clue;
  pqxx::result rows = Query(
      "SELECT c.id::text, c.state, c.outcome_form, c.outcome_feedback, f.clue_state, "
      "f.outcome_form, f.outcome_feedback FROM clue.clues c JOIN audit.findings f "
      "ON f.id::text = c.source_ref WHERE c.source_system = 'audit'");
  for (const auto& row : rows) by_clue.emplace(row[0].as<std::string>(), row);
  auto str = [](const pqxx::field& f) { return f.is_null() ? std::string() : f.as<std::string>(); };
  auto num = [](const pqxx::field& f) { return f.is_null() ? 0 : f.as<int>(); };
  int concluded = 0;
  for (const auto& h : handled_) {
    if (h.source != "audit") continue;  // inspection's clues: CheckInspectionReferrals
    auto it = by_clue.find(h.clue_id);
    ASSERT_NE(it, by_clue.end()) << "clue " << h.number << " has no finding";
    const pqxx::row& r = it->second;
    const std::string want = h.plan == 3 ? "CLUE_STATE_CONCLUDED" : "CLUE_STATE_HELD";
    EXPECT_EQ(str(r[1]), want) << h.number;
    EXPECT_EQ(str(r[4]), want) << h.number << " (on the finding)";
    if (h.plan == 3) {
      ++concluded;
      EXPECT_EQ(num(r[2]), static_cast<int>(h.form)) << h.number;
      EXPECT_EQ(num(r[5]), static_cast<int>(h.form)) << h.number << " (on the finding)";
      EXPECT_EQ(str(r[3]), "fb-" + h.number) << h.number;
      EXPECT_EQ(str(r[6]), "fb-" + h.number) << h.number << " (on the finding)";
    }
  }
  const int inspection_handled = static_cast<int>(
      std::count_if(handled_.begin(), handled_.end(), [](const Handling& h) { return h.source != "audit"; }));
  Say("audit clues concluded %d, accepted only %zu, left on offer %lld", concluded,
      handled_.size() - inspection_handled - concluded,
      static_cast<long long>(Scalar("SELECT count(*) FROM clue.clues WHERE source_system = 'audit' "
                                    "AND state = 'CLUE_STATE_OFFERED'")));
  EXPECT_GT(concluded, 0);

  // No dead command, the consumer advanced to the head of the feed.
  pqxx::result dead = Query("SELECT id, dedupe_key, attempts, last_error FROM audit.outbox WHERE state = 'dead'");
  EXPECT_TRUE(dead.empty()) << "dead outbox commands:" << Show(dead);
  EXPECT_EQ(Scalar("SELECT count(*) FROM audit.findings WHERE referral_state = 'REFERRAL_STATE_DEAD'"), 0);
  const std::string cursor_after = Text(kCursor);
  EXPECT_FALSE(cursor_after.empty());
  EXPECT_NE(cursor_after, cursor_before);
  EXPECT_EQ(cursor_after, Text(kHead));
  CheckInspectionReferrals(inspection_referred, inspection_added, inspection_cursor_before);
  Say("outbox delivered %lld (attempts: max %lld, total %lld); consumer cursor %s -> %s",
      static_cast<long long>(Scalar("SELECT count(*) FROM audit.outbox WHERE state = 'delivered'")),
      static_cast<long long>(Scalar("SELECT max(attempts) FROM audit.outbox")),
      static_cast<long long>(Scalar("SELECT sum(attempts) FROM audit.outbox")), cursor_before.c_str(),
      cursor_after.c_str());

  // Hash chains, sampled: the clues with the longest histories first, then random ones.
  std::vector<std::string> clue_ids, finding_ids;
  for (const auto& row : Query("(SELECT id::text, source_ref FROM clue.clues WHERE source_system = 'audit' "
                               " AND state = 'CLUE_STATE_CONCLUDED' ORDER BY random() LIMIT 10) UNION ALL "
                               "(SELECT id::text, source_ref FROM clue.clues WHERE source_system = 'audit' "
                               " ORDER BY random() LIMIT 10)")) {
    clue_ids.push_back(row[0].as<std::string>());
    finding_ids.push_back(row[1].as<std::string>());
  }
  EXPECT_EQ(clue_ids.size(), 20u);
  for (size_t i = 0; i < clue_ids.size(); ++i) {
    v1::VerifyChainRequest q;
    q.set_clue_id(clue_ids[i]);
    v1::VerifyChainResponse r;
    grpc::Status s = Retry(clue_, &v1::ClueService::Stub::VerifyChain, *oversight_token_, q, &r, 30s);
    ASSERT_TRUE(s.ok()) << StatusText(s);
    EXPECT_TRUE(r.intact()) << "clue " << clue_ids[i] << ": " << r.problem() << " at " << r.first_broken_seq();
    EXPECT_GE(r.events(), 2);
    v1::VerifyAuditChainRequest a;
    a.set_aggregate_id(finding_ids[i]);
    v1::VerifyChainResponse ar;
    s = Retry(audit_, &v1::AuditService::Stub::VerifyAuditChain, *oversight_token_, a, &ar, 30s);
    ASSERT_TRUE(s.ok()) << StatusText(s);
    EXPECT_TRUE(ar.intact()) << "finding " << finding_ids[i] << ": " << ar.problem() << " at " << ar.first_broken_seq();
    EXPECT_GE(ar.events(), 3);  // added, referred, clue linked
  }
  Say("RESULT: %s", ::testing::Test::HasFailure() ? "FAILED" : "passed");
}

// risk-service SIGKILLed and restarted 20 times while clues naming people are registered
// (about 40 a second, one in four naming two people). Once its clue-events cursor is at the
// head of clue's feed: every person named by a "registered" clue event has exactly one
// signal "clue:<clue>:<seq>:<person>" (nothing missed, nothing extra) and exactly one
// score_changed event for it, and every stored score — its `signals` count and its value —
// equals a recomputation from the person's rows in risk.signals. Bounded: 30 s of kills,
// 30 s of catching up.
TEST_F(ReferralCrash, RiskCountsEveryClueOnceThroughKills) {
  ASSERT_NE(engagement_, nullptr) << "the stack did not start";
  EnsureUp("clue");
  EnsureUp("risk");
  const int kills_wanted = 20;
  const std::string people_sql =
      "SELECT p.id::text FROM directory.v_people p JOIN directory.v_units u ON u.id = p.unit_id "
      "WHERE u.code = 'fucheng-branch' ORDER BY p.badge_no LIMIT 6";
  std::vector<std::string> people;
  for (const auto& row : Query(people_sql)) people.push_back(row[0].as<std::string>());
  ASSERT_GE(people.size(), 2u);

  std::atomic<bool> stop{false};
  std::atomic<int> registered{0};
  std::vector<std::string> failures;
  std::thread writer([&] {
    for (int n = 0; !stop; ++n) {
      v1::RegisterClueRequest req;
      req.set_request_id(sm::NewUuid());
      req.set_origin_unit_id(*discipline_group_);
      req.set_source(v1::CLUE_SOURCE_PETITION);
      req.set_channel(v1::RECEIPT_CHANNEL_LETTER);
      req.add_subjects()->set_person_id(people[n % people.size()]);
      if (n % 4 == 0) req.add_subjects()->set_person_id(people[(n + 1) % people.size()]);
      req.add_categories(v1::CLUE_CATEGORY_INTEGRITY);
      req.set_summary("反映民警工作日午间饮酒（风险评分故障测试 " + std::to_string(n) + "）");
      req.set_severity(v1::SEVERITY_MEDIUM);
      v1::ClueReply reply;
      grpc::Status s = Retry(clue_, &v1::ClueService::Stub::RegisterClue, *discipline_token_, req, &reply, 15000ms);
      if (s.ok()) {
        ++registered;
      } else {
        std::lock_guard lock(mu_);
        failures.push_back(StatusText(s));
      }
      std::this_thread::sleep_for(25ms);
    }
  });

  std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<int> delay_ms(100, 500);
  std::vector<std::string> killer_errors;
  const auto phase_start = SteadyClock::now();
  int kills = 0;
  while (kills < kills_wanted && Seconds(phase_start) < 30) {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    const pid_t pid = g_stack->Pid("risk");
    if (pid <= 0 || !Alive(pid)) {
      killer_errors.push_back("risk-service not running before kill " + std::to_string(kills + 1));
      if (Result r = g_stack->Run("start-service risk"); r.code != 0) killer_errors.push_back(r.out);
      continue;
    }
    ::kill(pid, SIGKILL);
    if (!WaitGone(pid, 5000ms))
      killer_errors.push_back("risk-service pid " + std::to_string(pid) + " survived SIGKILL");
    ++kills;
    if (Result r = g_stack->Run("start-service risk"); r.code != 0) {
      killer_errors.push_back("start-service risk failed: " + r.out);
      g_stack->Run("start-service risk");  // once more; the test fails anyway
    }
  }
  stop = true;
  writer.join();
  Say("risk kills: %d in %.1f s; %d clues registered naming %zu people", kills, Seconds(phase_start), registered.load(),
      people.size());
  EXPECT_EQ(kills, kills_wanted) << "the kill phase ran out of time";
  EXPECT_TRUE(killer_errors.empty()) << killer_errors.front();
  EXPECT_TRUE(failures.empty()) << failures.size() << " registrations failed, first: " << failures.front();
  EXPECT_GT(registered.load(), 0);

  // Caught up: risk's cursor on clue's feed at its head.
  const char* kRiskCursor = "SELECT cursor FROM risk.consumer_cursors WHERE name = 'clue-events'";
  const double caught_up = WaitUntil([&] { return Text(kRiskCursor) == Text(kHead); }, 30s);
  ASSERT_GE(caught_up, 0) << "risk's clue-events cursor " << Text(kRiskCursor) << " never reached the head "
                          << Text(kHead);
  Say("risk caught up with clue's feed %.1f s after the kills", caught_up);

  // Every person named by a "registered" clue event: one signal under the event's key, one
  // score_changed event for it on the person; no clue_named signal without its event.
  const std::string named =
      "SELECT 'clue:' || e.clue_id || ':' || e.seq || ':' || (s->>'person_id') AS key, e.clue_id::text AS clue, "
      "s->>'person_id' AS person FROM clue.clue_events e, "
      "jsonb_array_elements(e.data::jsonb -> 'subjects') s WHERE e.type = 'registered' "
      "AND coalesce(s->>'person_id', '') <> ''";
  ASSERT_GT(Scalar("SELECT count(*) FROM (" + named + ") n WHERE n.person = '" + people[0] + "'"), 0)
      << "no registered event names " << people[0] << " (has the event's JSON changed?)";
  ExpectNoRows("registered events not at seq 1",
               "SELECT clue_id::text, seq FROM clue.clue_events WHERE type = 'registered' AND seq <> 1");
  ExpectNoRows("people named by a registered clue without their signal",
               "SELECT n.key FROM (" + named +
                   ") n LEFT JOIN risk.signals g ON g.key = n.key WHERE g.key IS NULL "
                   "OR g.kind <> 'clue_named' OR g.person_id::text <> n.person OR g.ref <> n.clue");
  ExpectNoRows("clue_named signals no registered clue event explains",
               "SELECT g.key FROM risk.signals g WHERE g.kind = 'clue_named' AND g.key NOT IN (SELECT key FROM (" +
                   named + ") n)");
  ExpectNoRows("people named by a registered clue without exactly one score_changed event",
               "SELECT n.key, count(r.person) FROM (" + named +
                   ") n LEFT JOIN (SELECT aggregate_id::text AS person, data::jsonb ->> 'ref' AS ref FROM "
                   "risk.risk_events WHERE type = 'score_changed' AND data::jsonb ->> 'kind' = 'clue_named') r "
                   "ON r.person = n.person AND r.ref = n.clue GROUP BY n.key HAVING count(r.person) <> 1");

  // Every stored score against a recomputation from its signals, at the score's as_of, with
  // the rule file the stack gives risk-service.
  const char* rules_env = std::getenv("SM_RISK_RULES");
  auto rules = sm::risk::LoadRules(rules_env != nullptr && *rules_env != '\0'
                                       ? std::string(rules_env)
                                       : std::string(SM_SOURCE_DIR) + "/deploy/local/risk-rules.yaml");
  ASSERT_TRUE(rules.ok()) << rules.status();
  std::map<std::string, std::vector<sm::risk::Signal>> signals;
  for (const auto& r : Query("SELECT person_id::text, kind, grade, source, ref, at_us FROM risk.signals")) {
    signals[r[0].as<std::string>()].push_back(sm::risk::Signal{r[1].as<std::string>(), r[2].as<std::string>(),
                                                               r[3].as<std::string>(), r[4].as<std::string>(),
                                                               r[5].as<int64_t>()});
  }
  int scores = 0, amiss = 0;
  for (const auto& r : Query("SELECT id::text, body, score FROM risk.person_scores")) {
    const std::string person = r[0].as<std::string>();
    v1::PersonScore doc;
    ASSERT_TRUE(doc.ParseFromString(pqxx::binarystring(r[1]).str())) << "score of " << person << " unreadable";
    ++scores;
    const auto& mine = signals[person];
    const int64_t as_of_us = doc.as_of().seconds() * 1000000 + doc.as_of().nanos() / 1000;
    const double recomputed = sm::risk::ScoreOf(*rules, mine, as_of_us);
    const bool ok = doc.signals() == static_cast<int64_t>(mine.size()) && std::abs(doc.score() - recomputed) < 1e-6 &&
                    std::abs(r[2].as<double>() - doc.score()) < 1e-9;
    if (!ok && ++amiss <= 10) {
      ADD_FAILURE() << "score of " << person << ": stored " << doc.score() << " (column " << r[2].as<double>()
                    << ") over " << doc.signals() << " signals; recomputed " << recomputed << " over " << mine.size();
    }
  }
  for (const auto& person : people) EXPECT_TRUE(signals.count(person)) << person << " has no signal";
  EXPECT_EQ(amiss, 0) << amiss << " of " << scores << " scores differ from their recomputation";
  Say("risk: %d scores over %zu people with signals checked against a recomputation", scores, signals.size());
}

TEST_F(ReferralCrash, ReferralsGoThroughWhileRedisIsDownAndTheCacheReturns) {
  ASSERT_NE(engagement_, nullptr) << "the stack did not start";
  EnsureUp("audit");
  EnsureUp("clue");
  const std::string redis_dir = g_stack->run_dir() + "/redis";
  const std::string redis_port = ReadTrimmed(redis_dir + "/port");
  const pid_t redis_pid = static_cast<pid_t>(std::atoi(ReadTrimmed(redis_dir + "/redis.pid").c_str()));
  ASSERT_GT(redis_pid, 0);
  ASSERT_TRUE(Alive(redis_pid));

  v1::GetAuditStatsRequest sq;
  sq.set_unit_id(*fucheng_);
  v1::AuditStats stats;
  ASSERT_TRUE(Retry(audit_, &v1::AuditService::Stub::GetAuditStats, *dashboard_token_, sq, &stats, 30s).ok());

  ::kill(redis_pid, SIGKILL);
  ASSERT_TRUE(WaitGone(redis_pid, 5000ms));
  Say("redis killed (pid %d); a burst of referrals", static_cast<int>(redis_pid));
  const auto t0 = SteadyClock::now();
  std::vector<std::string> findings;
  for (int n = 1; n <= 40; ++n) {
    Referral j = NewReferral(100000 + n);
    Outcome o = Advance(j, 30000ms);
    ASSERT_EQ(o, Outcome::kDone) << j.error << " (stage " << j.stage << ")";
    findings.push_back(j.finding_id);
  }
  // Statistics still answer, from PostgreSQL.
  grpc::Status s = Once(audit_, &v1::AuditService::Stub::GetAuditStats, *dashboard_token_, sq, &stats);
  ASSERT_TRUE(s.ok()) << StatusText(s);
  EXPECT_FALSE(stats.from_cache());
  std::string in_list;
  for (const auto& id : findings) in_list += std::string(in_list.empty() ? "" : ",") + "'" + id + "'";
  const std::string each_has_clue =
      "SELECT count(*) FROM audit.findings f WHERE f.id IN (" + in_list +
      ") AND f.referral_state = "
      "'REFERRAL_STATE_DELIVERED' AND f.clue_state = 'CLUE_STATE_OFFERED' AND (SELECT count(*) FROM clue.clues c "
      "WHERE c.source_system = 'audit' AND c.source_ref = f.id::text AND c.id = f.clue_id) = 1";
  const double took = WaitUntil([&] { return Scalar(each_has_clue) == static_cast<int64_t>(findings.size()); }, 60s);
  EXPECT_GE(took, 0) << Scalar(each_has_clue) << " of " << findings.size() << " referrals have their clue:"
                     << Show(Query("SELECT f.id::text, f.referral_state, f.clue_id::text, f.clue_state FROM "
                                   "audit.findings f WHERE f.id IN (" +
                                   in_list + ")"));
  EXPECT_EQ(Scalar("SELECT count(*) FROM clue.clues WHERE source_system = 'audit' AND source_ref IN (" + in_list + ")"),
            static_cast<int64_t>(findings.size()));
  Say("without redis: %zu referrals, each with its clue, %.1f s after the burst began", findings.size(), Seconds(t0));

  // Redis again, as the stack starts it.
  Result r = Sh("redis-server --port " + redis_port + " --bind 127.0.0.1 --dir " + redis_dir +
                " --save '' --appendonly no --daemonize yes --pidfile " + redis_dir + "/redis.pid --logfile " +
                g_stack->run_dir() + "/logs/redis.log");
  ASSERT_EQ(r.code, 0) << r.out;
  ASSERT_GE(
      WaitUntil(
          [&] { return Sh("redis-cli -h 127.0.0.1 -p " + redis_port + " ping").out.find("PONG") != std::string::npos; },
          20s),
      0);
  // The services retry Redis once a second: the first pair of calls after that fills the
  // cache and then reads it.
  std::this_thread::sleep_for(1500ms);
  int pairs = 0;
  bool cached = false;
  while (!cached && pairs < 10) {
    ++pairs;
    v1::AuditStats first, second;
    s = Once(audit_, &v1::AuditService::Stub::GetAuditStats, *dashboard_token_, sq, &first);
    ASSERT_TRUE(s.ok()) << StatusText(s);
    s = Once(audit_, &v1::AuditService::Stub::GetAuditStats, *dashboard_token_, sq, &second);
    ASSERT_TRUE(s.ok()) << StatusText(s);
    cached = second.from_cache();
    if (cached) {
      EXPECT_EQ(second.findings(), first.findings());
    } else {
      std::this_thread::sleep_for(1000ms);
    }
  }
  EXPECT_TRUE(cached) << "statistics never came from the cache after Redis returned";
  EXPECT_EQ(pairs, 1) << "the cache took " << pairs << " pairs of calls to work again";
  Say("redis back: statistics from the cache after %d pair(s) of calls", pairs);
}

}  // namespace
