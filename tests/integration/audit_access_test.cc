// audit-service's access table walked through the real service: clue-service and
// audit-service in process against a throwaway PostgreSQL and Redis, one engagement, a
// finding referred to the discipline group whose clue is concluded, and a rectification
// owned by another unit. For every RPC, role and relation of the caller's unit to that
// item, the call is made with such a token and its answer checked against the table
// (services/audit/access.h, docs/audit.md): allowed, PERMISSION_DENIED or NOT_FOUND. Then
// what the audited unit sees of a referred finding, and the scope of statistics.
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>
#include <spdlog/sinks/ostream_sink.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/auth.h"
#include "services/audit/access.h"
#include "common/consumer.h"
#include "common/log.h"
#include "common/db/migrate.h"
#include "common/outbox.h"
#include "common/sealed.h"
#include "common/status.h"
#include "common/uuid.h"
#include "common/workdays.h"
#include "services/audit/pg_store.h"
#include "services/audit/service.h"
#include "services/clue/pg_store.h"
#include "services/clue/service.h"
#include "services/directory/pg_store.h"
#include "tests/integration/audit_stack.h"
#include "tests/support/pg_redis.h"

const std::vector<sm::db::Migration>& directory_lib_migrations();
const std::vector<sm::db::Migration>& clue_lib_migrations();
const std::vector<sm::db::Migration>& audit_lib_migrations();

namespace sm::audit {
namespace {

using ::sm::testing::PgRedis;

using namespace ::sm::audit::stack;  // NOLINT: the shared fixture and its helpers

class AuditAccessTest : public AuditStack {
 protected:
  // The prepared items, made once for the suite: an engagement at the Fucheng branch, a
  // finding there referred to the discipline group whose clue is concluded, and a
  // rectification of it owned by the traffic police division.
  struct World {
    v1::Engagement engagement;
    v1::Finding finding;
    v1::Rectification rect;
    // A unit in each relation to the finding (and to the rectification).
    std::map<access::Relation, std::string> unit;
  };

  World& Prepare() {
    if (world_ != nullptr) return *world_;
    auto* w = new World;
    v1::CreateEngagementRequest c;
    c.set_request_id(NewUuid());
    c.set_kind(v1::ENGAGEMENT_KIND_PROPERTY_SPECIAL);
    c.set_title("涪城分局执法活动财物管理专项审计");
    c.set_audit_unit_id(auditor.unit);
    c.set_audited_unit_id(UnitId("fucheng-branch"));
    c.set_period_from("2025-01-01");
    c.set_period_to("2025-12-31");
    v1::EngagementReply er;
    EXPECT_TRUE(Call(stub_.get(), auditor, &v1::AuditService::Stub::CreateEngagement, c, &er).ok());
    w->engagement = er.engagement();
    v1::AddFindingRequest a = FindingRequest(w->engagement.id());
    v1::FindingReply fr;
    EXPECT_TRUE(Call(stub_.get(), auditor, &v1::AuditService::Stub::AddFinding, a, &fr).ok());
    const std::string fid = fr.finding().id();
    v1::ReferFindingRequest r;
    r.set_request_id(NewUuid());
    r.set_finding_id(fid);
    r.set_expected_version(fr.finding().version());
    r.set_to_unit_id(UnitId("discipline-group"));
    r.add_categories(v1::CLUE_CATEGORY_INTEGRITY);
    EXPECT_TRUE(Call(stub_.get(), auditor, &v1::AuditService::Stub::ReferFinding, r, &fr).ok());
    EXPECT_TRUE(relay_->RunOnce().ok());
    v1::Finding f = Get(fid, auditor);
    // The discipline group takes the clue and concludes it; the outcome comes back.
    const Who group{UnitId("discipline-group"), {"discipline"}};
    v1::AcceptClueRequest ac;
    ac.set_request_id(NewUuid());
    ac.set_clue_id(f.referral().clue_id());
    ac.set_expected_version(1);
    for (int i = 0; i < 50; ++i) {
      v1::GetClueRequest g;
      g.set_clue_id(f.referral().clue_id());
      v1::Clue clue;
      if (Call(clue_.get(), group, &v1::ClueService::Stub::GetClue, g, &clue).ok()) {
        ac.set_expected_version(clue.version());
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(AcceptDisposeConclude(group, ac.clue_id(), ac.expected_version(), "经核实，责令退赔并给予诫勉处理。"));
    for (int i = 0; i < 200 && f.referral().outcome_feedback().empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
      f = Get(fid, auditor);
    }
    EXPECT_EQ(f.referral().outcome_form(), v1::SUPERVISION_FORM_2);
    v1::AddRectificationRequest x;
    x.set_request_id(NewUuid());
    x.set_finding_id(fid);
    x.set_measure("规范公务用车使用登记");
    x.set_owner_unit_id(UnitId("traffic-police-division"));
    v1::RectificationReply xr;
    EXPECT_TRUE(Call(stub_.get(), auditor, &v1::AuditService::Stub::AddRectification, x, &xr).ok());
    w->rect = xr.rectification();
    w->finding = Get(fid, auditor);
    w->unit = {{access::Relation::kAuditUnit, auditor.unit},
               {access::Relation::kAudited, UnitId("fucheng-branch")},
               {access::Relation::kOwner, UnitId("traffic-police-division")},
               {access::Relation::kReferredTo, UnitId("discipline-group")},
               {access::Relation::kParent, UnitId("bureau")},
               {access::Relation::kUnrelated, UnitId("gaoxin-branch")}};
    world_ = w;
    return *w;
  }

  v1::AddFindingRequest FindingRequest(const std::string& engagement_id) {
    v1::AddFindingRequest a;
    a.set_request_id(NewUuid());
    a.set_engagement_id(engagement_id);
    a.set_title("罚没款未及时上缴");
    a.set_description("2025年度 3 笔罚没款滞留超过 30 日。");
    a.set_category(v1::FINDING_CATEGORY_PROPERTY_MANAGEMENT);
    a.set_amount_fen(4500000);
    a.set_severity(v1::SEVERITY_HIGH);
    a.set_responsible_unit_id(UnitId("fucheng-branch"));
    return a;
  }
  v1::Finding Get(const std::string& id, const Who& w) {
    v1::GetFindingRequest r;
    r.set_finding_id(id);
    v1::Finding f;
    grpc::Status s = Call(stub_.get(), w, &v1::AuditService::Stub::GetFinding, r, &f);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return f;
  }

  static inline World* world_ = nullptr;
};

using access::Outcome;
using access::Relation;
using access::Rpc;

// What a call came to: its status and, for a list, whether the prepared item was listed.
struct Answer {
  grpc::Status status;
  bool listed = false;
};

// The item an RPC's cell is about, which decides the relation of each test unit to it.
enum class Item { kEngagement, kFinding, kRectification, kOwnName, kNone };

struct Probe {
  Rpc rpc;
  Item item;
  bool list = false;
  std::function<Answer(const Who&)> call;
};

TEST_F(AuditAccessTest, EveryRpcRoleAndRelationThroughTheService) {
  World& w = Prepare();
  const v1::Engagement& e = w.engagement;
  const v1::Finding& f = w.finding;
  const v1::Rectification& x = w.rect;
  auto* s = stub_.get();
  using S = v1::AuditService::Stub;
  const std::vector<Probe> probes = {
      {Rpc::kCreateEngagement, Item::kOwnName, false,
       [&](const Who& who) {
         v1::CreateEngagementRequest r;
         r.set_request_id(NewUuid());
         r.set_kind(v1::ENGAGEMENT_KIND_PRICE_CHECK);
         r.set_title("事前询价");
         r.set_audit_unit_id(auditor.unit);
         r.set_audited_unit_id(UnitId("gaoxin-branch"));
         r.set_period_from("2026-01-01");
         r.set_period_to("2026-01-31");
         v1::EngagementReply out;
         return Answer{Call(s, who, &S::CreateEngagement, r, &out)};
       }},
      {Rpc::kAdvanceEngagement, Item::kEngagement, false,
       [&](const Who& who) {
         v1::AdvanceEngagementRequest r;
         r.set_request_id(NewUuid());
         r.set_engagement_id(e.id());
         r.set_expected_version(999);  // allowed callers stop at the version check
         r.set_to(v1::ENGAGEMENT_STATE_FIELDWORK);
         v1::EngagementReply out;
         return Answer{Call(s, who, &S::AdvanceEngagement, r, &out)};
       }},
      {Rpc::kGetEngagement, Item::kEngagement, false,
       [&](const Who& who) {
         v1::GetEngagementRequest r;
         r.set_engagement_id(e.id());
         v1::Engagement out;
         return Answer{Call(s, who, &S::GetEngagement, r, &out)};
       }},
      {Rpc::kListEngagements, Item::kEngagement, true,
       [&](const Who& who) {
         v1::ListEngagementsRequest r;
         r.set_audited_unit_id(e.audited_unit_id());
         r.set_page_size(500);
         v1::ListEngagementsResponse out;
         Answer a{Call(s, who, &S::ListEngagements, r, &out)};
         for (const auto& it : out.engagements()) a.listed = a.listed || it.id() == e.id();
         return a;
       }},
      {Rpc::kAddFinding, Item::kEngagement, false,
       [&](const Who& who) {
         v1::FindingReply out;
         return Answer{Call(s, who, &S::AddFinding, FindingRequest(e.id()), &out)};
       }},
      {Rpc::kGetFinding, Item::kFinding, false,
       [&](const Who& who) {
         v1::GetFindingRequest r;
         r.set_finding_id(f.id());
         v1::Finding out;
         return Answer{Call(s, who, &S::GetFinding, r, &out)};
       }},
      {Rpc::kListFindings, Item::kFinding, true,
       [&](const Who& who) {
         v1::ListFindingsRequest r;
         r.set_engagement_id(e.id());
         r.set_page_size(500);
         v1::ListFindingsResponse out;
         Answer a{Call(s, who, &S::ListFindings, r, &out)};
         for (const auto& it : out.findings()) a.listed = a.listed || it.id() == f.id();
         return a;
       }},
      {Rpc::kReferFinding, Item::kFinding, false,
       [&](const Who& who) {
         v1::ReferFindingRequest r;
         r.set_request_id(NewUuid());
         r.set_finding_id(f.id());
         r.set_expected_version(999);
         r.set_to_unit_id(UnitId("discipline-group"));
         v1::FindingReply out;
         return Answer{Call(s, who, &S::ReferFinding, r, &out)};
       }},
      {Rpc::kRetryReferral, Item::kFinding, false,
       [&](const Who& who) {
         v1::RetryReferralRequest r;
         r.set_request_id(NewUuid());
         r.set_finding_id(f.id());
         r.set_expected_version(999);
         r.set_reason("重新移送");
         v1::FindingReply out;
         return Answer{Call(s, who, &S::RetryReferral, r, &out)};
       }},
      {Rpc::kAddRectification, Item::kFinding, false,
       [&](const Who& who) {
         v1::AddRectificationRequest r;
         r.set_request_id(NewUuid());
         r.set_finding_id(f.id());
         r.set_measure("建立罚没款日清月结制度");
         v1::RectificationReply out;
         return Answer{Call(s, who, &S::AddRectification, r, &out)};
       }},
      {Rpc::kRecordProgress, Item::kRectification, false,
       [&](const Who& who) {
         v1::RecordProgressRequest r;
         r.set_request_id(NewUuid());
         r.set_rectification_id(x.id());
         r.set_note("已补登记 3 辆车");
         v1::RectificationReply out;
         return Answer{Call(s, who, &S::RecordProgress, r, &out)};
       }},
      {Rpc::kSubmitRectification, Item::kRectification, false,
       [&](const Who& who) {
         v1::SubmitRectificationRequest r;
         r.set_request_id(NewUuid());
         r.set_rectification_id(x.id());
         r.set_expected_version(999);
         r.set_summary("整改完成");
         v1::RectificationReply out;
         return Answer{Call(s, who, &S::SubmitRectification, r, &out)};
       }},
      {Rpc::kReviewRectification, Item::kRectification, false,
       [&](const Who& who) {
         v1::ReviewRectificationRequest r;
         r.set_request_id(NewUuid());
         r.set_rectification_id(x.id());
         r.set_expected_version(999);
         r.set_approve(true);
         v1::RectificationReply out;
         return Answer{Call(s, who, &S::ReviewRectification, r, &out)};
       }},
      {Rpc::kReopenRectification, Item::kRectification, false,
       [&](const Who& who) {
         v1::ReopenRectificationRequest r;
         r.set_request_id(NewUuid());
         r.set_rectification_id(x.id());
         r.set_expected_version(999);
         r.set_reason("回头看");
         v1::RectificationReply out;
         return Answer{Call(s, who, &S::ReopenRectification, r, &out)};
       }},
      {Rpc::kListRectifications, Item::kRectification, true,
       [&](const Who& who) {
         v1::ListRectificationsRequest r;
         r.set_finding_id(f.id());
         v1::ListRectificationsResponse out;
         Answer a{Call(s, who, &S::ListRectifications, r, &out)};
         for (const auto& it : out.rectifications()) a.listed = a.listed || it.id() == x.id();
         return a;
       }},
      {Rpc::kGetRectification, Item::kRectification, false,
       [&](const Who& who) {
         v1::GetRectificationRequest r;
         r.set_rectification_id(x.id());
         v1::Rectification out;
         return Answer{Call(s, who, &S::GetRectification, r, &out)};
       }},
      {Rpc::kGetAuditHistory, Item::kFinding, false,
       [&](const Who& who) {
         v1::GetAuditHistoryRequest r;
         r.set_aggregate_id(f.id());
         v1::GetAuditHistoryResponse out;
         return Answer{Call(s, who, &S::GetAuditHistory, r, &out)};
       }},
      {Rpc::kGetAuditHistory, Item::kEngagement, false,
       [&](const Who& who) {
         v1::GetAuditHistoryRequest r;
         r.set_aggregate_id(e.id());
         v1::GetAuditHistoryResponse out;
         return Answer{Call(s, who, &S::GetAuditHistory, r, &out)};
       }},
      {Rpc::kVerifyAuditChain, Item::kFinding, false,
       [&](const Who& who) {
         v1::VerifyAuditChainRequest r;
         r.set_aggregate_id(f.id());
         v1::VerifyChainResponse out;
         return Answer{Call(s, who, &S::VerifyAuditChain, r, &out)};
       }},
      {Rpc::kVerifyAuditChain, Item::kEngagement, false,
       [&](const Who& who) {
         v1::VerifyAuditChainRequest r;
         r.set_aggregate_id(e.id());
         v1::VerifyChainResponse out;
         return Answer{Call(s, who, &S::VerifyAuditChain, r, &out)};
       }},
      {Rpc::kVerifyAllAuditChains, Item::kNone, false,
       [&](const Who& who) {
         v1::VerifyAllAuditChainsResponse out;
         return Answer{Call(s, who, &S::VerifyAllAuditChains, v1::VerifyAllChainsRequest(), &out)};
       }},
      {Rpc::kExportAuditCheckpoints, Item::kNone, false,
       [&](const Who& who) {
         v1::ExportCheckpointsResponse out;
         return Answer{Call(s, who, &S::ExportAuditCheckpoints, v1::ExportCheckpointsRequest(), &out)};
       }},
      {Rpc::kSubscribe, Item::kNone, false,
       [&](const Who& who) {
         grpc::ClientContext ctx;
         ctx.AddMetadata("authorization", "Bearer " + Token(who));
         ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(150));
         v1::SubscribeRequest r;
         auto reader = s->Subscribe(&ctx, r);
         v1::AuditEvent ev;
         while (reader->Read(&ev)) {
         }
         return Answer{reader->Finish()};
       }},
  };
  // The relation the service should find between a test unit (named by its relation to the
  // finding) and the probe's item.
  auto relation_to = [&](Item item, Relation to_finding) {
    switch (item) {
      case Item::kFinding:
      case Item::kRectification: return to_finding;
      case Item::kEngagement:
        return to_finding == Relation::kOwner || to_finding == Relation::kReferredTo ? Relation::kUnrelated
                                                                                     : to_finding;
      case Item::kOwnName: return to_finding == Relation::kAuditUnit ? Relation::kAuditUnit : Relation::kUnrelated;
      case Item::kNone: return Relation::kUnrelated;
    }
    return Relation::kUnrelated;
  };
  std::set<Rpc> walked;
  int cells = 0;
  for (const Probe& probe : probes) {
    walked.insert(probe.rpc);
    for (std::string_view role_name : access::kAllRoles) {
      const std::string role(role_name);
      bool callable = false;
      for (Relation r : access::kAllRelations)
        callable = callable || access::Cell(probe.rpc, role, r) != Outcome::kDenied;
      for (Relation rel : access::kAllRelations) {
        // A feed has no item: one unit is enough.
        if (probe.item == Item::kNone && rel != Relation::kUnrelated) continue;
        const Who who{w.unit.at(rel), {role}};
        // A service token names no unit: it stands in no relation.
        const Relation held = role == "service" ? Relation::kUnrelated : relation_to(probe.item, rel);
        const Outcome want = access::Cell(probe.rpc, role, held);
        const Answer got = probe.call(who);
        const grpc::StatusCode code = got.status.error_code();
        const std::string where = std::string(access::RpcName(probe.rpc)) + " / " + role + " / unit " +
                                  std::string(access::RelationName(rel)) +
                                  " (to the item: " + std::string(access::RelationName(held)) + "), want " +
                                  std::string(access::OutcomeName(want)) + ", got " + std::to_string(code) + " " +
                                  got.status.error_message();
        ++cells;
        if (probe.list) {
          if (!callable) {
            EXPECT_EQ(code, grpc::StatusCode::PERMISSION_DENIED) << where;
          } else {
            EXPECT_EQ(code, grpc::StatusCode::OK) << where;
            EXPECT_EQ(got.listed, want == Outcome::kAllow || want == Outcome::kRedacted) << where;
          }
        } else if (want == Outcome::kDenied) {
          EXPECT_EQ(code, grpc::StatusCode::PERMISSION_DENIED) << where;
        } else if (want == Outcome::kNotFound) {
          EXPECT_EQ(code, grpc::StatusCode::NOT_FOUND) << where;
        } else if (probe.rpc == Rpc::kSubscribe) {
          // An open feed runs until the deadline.
          EXPECT_TRUE(code == grpc::StatusCode::OK || code == grpc::StatusCode::DEADLINE_EXCEEDED) << where;
        } else {
          // Allowed: done, or stopped by the deliberately wrong expected version.
          EXPECT_TRUE(code == grpc::StatusCode::OK || code == grpc::StatusCode::ABORTED) << where;
        }
      }
    }
  }
  // Every RPC but statistics (walked by scope below) is walked here.
  EXPECT_EQ(walked.size() + 1, std::size(access::kAllRpcs));
  EXPECT_FALSE(walked.count(Rpc::kGetAuditStats));
  // The three without an item (the feed, verifying every chain, exporting checkpoints): one unit.
  EXPECT_EQ(cells, (static_cast<int>(probes.size()) - 3) * static_cast<int>(std::size(access::kAllRoles)) * 6 +
                       3 * static_cast<int>(std::size(access::kAllRoles)));
  // Nothing allowed went further than the version check: the items are as prepared.
  EXPECT_EQ(Get(f.id(), auditor).referral().clue_id(), f.referral().clue_id());
  v1::GetEngagementRequest ge;
  ge.set_engagement_id(e.id());
  v1::Engagement now;
  ASSERT_TRUE(Call(s, auditor, &S::GetEngagement, ge, &now).ok());
  EXPECT_EQ(now.state(), v1::ENGAGEMENT_STATE_PLANNED);
}

// The audited unit sees its finding but not what the discipline unit did with it: no clue
// id or number, clue state, disposition, outcome or feedback, in the finding, the list or
// the history. The discipline unit it was referred to sees all of it; so does the audit
// unit, given clearance.
TEST_F(AuditAccessTest, TheAuditedUnitIsNotToldWhatBecameOfTheReferral) {
  World& w = Prepare();
  const Who audited{w.unit.at(Relation::kAudited), {"staff"}};
  const Who owner{w.unit.at(Relation::kOwner), {"staff"}};
  const Who group{w.unit.at(Relation::kReferredTo), {"discipline"}};
  auto withheld = [](const v1::Finding& f, const std::string& who) {
    EXPECT_FALSE(f.has_referral()) << who << ": " << f.referral().ShortDebugString();
    EXPECT_TRUE(f.referral().clue_id().empty()) << who;
    EXPECT_TRUE(f.referral().clue_number().empty()) << who;
    EXPECT_EQ(f.referral().clue_state(), v1::CLUE_STATE_UNSPECIFIED) << who;
    EXPECT_EQ(f.referral().disposition(), v1::DISPOSITION_METHOD_UNSPECIFIED) << who;
    EXPECT_EQ(f.referral().outcome_form(), v1::SUPERVISION_FORM_UNSPECIFIED) << who;
    EXPECT_TRUE(f.referral().outcome_feedback().empty()) << who;
  };
  auto whole = [](const v1::Finding& f, const std::string& who) {
    EXPECT_FALSE(f.referral().clue_id().empty()) << who;
    EXPECT_EQ(f.referral().clue_number().rfind("XS-", 0), 0u) << who;
    EXPECT_EQ(f.referral().clue_state(), v1::CLUE_STATE_CONCLUDED) << who;
    EXPECT_EQ(f.referral().disposition(), v1::DISPOSITION_METHOD_VERIFICATION) << who;
    EXPECT_EQ(f.referral().outcome_form(), v1::SUPERVISION_FORM_2) << who;
    EXPECT_EQ(f.referral().outcome_feedback(), "经核实，责令退赔并给予诫勉处理。") << who;
  };
  const v1::Finding seen = Get(w.finding.id(), audited);
  EXPECT_EQ(seen.title(), w.finding.title());
  EXPECT_EQ(seen.amount_fen(), w.finding.amount_fen());
  withheld(seen, "audited");
  withheld(Get(w.finding.id(), owner), "owner");
  withheld(Get(w.finding.id(), Who{auditor.unit, {"auditor"}, auth::kClearanceNone}), "uncleared auditor");
  whole(Get(w.finding.id(), group), "referred-to");
  whole(Get(w.finding.id(), auditor), "audit unit");
  whole(Get(w.finding.id(), Who{UnitId("bureau-party-committee"), {"oversight"}}), "oversight");

  // Lists: the same view; "referred only" does not give the referral away.
  auto list = [&](const Who& who, bool referred_only) {
    v1::ListFindingsRequest r;
    r.set_engagement_id(w.engagement.id());
    r.set_referred_only(referred_only);
    r.set_page_size(500);
    v1::ListFindingsResponse out;
    EXPECT_TRUE(Call(stub_.get(), who, &v1::AuditService::Stub::ListFindings, r, &out).ok());
    std::optional<v1::Finding> hit;
    for (const auto& it : out.findings()) {
      if (it.id() == w.finding.id()) hit = it;
    }
    return hit;
  };
  auto listed = list(audited, false);
  ASSERT_TRUE(listed.has_value());
  withheld(*listed, "audited, listed");
  EXPECT_FALSE(list(audited, true).has_value());
  auto group_listed = list(group, true);
  ASSERT_TRUE(group_listed.has_value());
  whole(*group_listed, "referred-to, listed");

  // History: the referral's events are not in the audited unit's.
  auto history = [&](const Who& who) {
    v1::GetAuditHistoryRequest r;
    r.set_aggregate_id(w.finding.id());
    v1::GetAuditHistoryResponse out;
    EXPECT_TRUE(Call(stub_.get(), who, &v1::AuditService::Stub::GetAuditHistory, r, &out).ok());
    std::vector<std::string> types;
    for (const auto& ev : out.events()) types.push_back(ev.type());
    return types;
  };
  const auto mine = history(audited);
  const auto theirs = history(group);
  ASSERT_FALSE(mine.empty());
  for (const auto& t : mine) EXPECT_FALSE(access::IsReferralEvent(t)) << t;
  int referral_events = 0;
  for (const auto& t : theirs) referral_events += access::IsReferralEvent(t) ? 1 : 0;
  EXPECT_GE(referral_events, 4);  // referred, linked, accepted, disposed, concluded
  EXPECT_EQ(mine.size() + referral_events, theirs.size());
}

// Every refusal is logged with the method, the user and the reason, and nothing of the item.
TEST_F(AuditAccessTest, EveryRefusalIsLoggedWithoutContent) {
  World& w = Prepare();
  std::ostringstream captured;
  log::Init("audit-test", "info", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured));
  v1::GetFindingRequest g;
  g.set_finding_id(w.finding.id());
  v1::Finding out;
  const Who stranger{w.unit.at(Relation::kUnrelated), {"staff"}};
  const Who dashboard{w.unit.at(Relation::kAudited), {"dashboard"}};
  const Who audited{w.unit.at(Relation::kAudited), {"staff"}};
  EXPECT_EQ(Call(stub_.get(), stranger, &v1::AuditService::Stub::GetFinding, g, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Call(stub_.get(), dashboard, &v1::AuditService::Stub::GetFinding, g, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::ReviewRectificationRequest rv;
  rv.set_request_id(NewUuid());
  rv.set_rectification_id(w.rect.id());
  rv.set_expected_version(w.rect.version());
  rv.set_approve(true);
  v1::RectificationReply rr;
  EXPECT_EQ(Call(stub_.get(), audited, &v1::AuditService::Stub::ReviewRectification, rv, &rr).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  log::Init("audit-test", "info");
  std::vector<nlohmann::json> denials;
  std::istringstream lines(captured.str());
  for (std::string line; std::getline(lines, line);) {
    for (const std::string& secret : {w.finding.id(), w.rect.id(), w.finding.title(), w.finding.number(),
                                      w.finding.referral().clue_id(), w.engagement.id()}) {
      EXPECT_EQ(line.find(secret), std::string::npos) << secret << " in " << line;
    }
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.value("msg", "") == "access denied") denials.push_back(j);
  }
  ASSERT_EQ(denials.size(), 3u) << captured.str();
  const std::vector<std::pair<std::string, std::string>> want = {
      {"GetFinding", "user-staff"}, {"GetFinding", "user-dashboard"}, {"ReviewRectification", "user-staff"}};
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(denials[i].value("method", ""), want[i].first);
    EXPECT_EQ(denials[i].value("user", ""), want[i].second);
    EXPECT_FALSE(denials[i].value("reason", "").empty());
    for (const auto& [key, value] : denials[i].items()) {
      EXPECT_TRUE(key == "ts" || key == "level" || key == "service" || key == "request_id" || key == "trace_id" ||
                  key == "msg" || key == "method" || key == "user" || key == "reason")
          << key;
    }
  }
}

// Statistics are scoped: a dashboard to its own unit and the units below it, an auditor to
// the organisation its audit office belongs to, oversight to everything; other roles none.
TEST_F(AuditAccessTest, StatisticsAreScopedToTheCallersUnit) {
  Prepare();
  auto stats = [&](const Who& who, const std::string& unit, v1::AuditStats* out) {
    v1::GetAuditStatsRequest r;
    if (!unit.empty()) r.set_unit_id(UnitId(unit));
    return Call(stub_.get(), who, &v1::AuditService::Stub::GetAuditStats, r, out).error_code();
  };
  const Who oversight{UnitId("bureau-party-committee"), {"oversight"}};
  v1::AuditStats all, bureau, fucheng, got;
  ASSERT_EQ(stats(oversight, "", &all), grpc::StatusCode::OK);
  ASSERT_EQ(stats(oversight, "bureau", &bureau), grpc::StatusCode::OK);
  ASSERT_EQ(stats(oversight, "fucheng-branch", &fucheng), grpc::StatusCode::OK);
  EXPECT_GE(fucheng.findings(), 1);
  EXPECT_EQ(stats(oversight, "gaoxin-branch", &got), grpc::StatusCode::OK);

  // A dashboard: its own unit by default, units below it, nothing beside or above it.
  const Who branch_dashboard{UnitId("fucheng-branch"), {"dashboard"}};
  ASSERT_EQ(stats(branch_dashboard, "", &got), grpc::StatusCode::OK);
  EXPECT_EQ(got.findings(), fucheng.findings());
  EXPECT_EQ(got.amount_fen(), fucheng.amount_fen());
  EXPECT_EQ(stats(branch_dashboard, "fucheng-branch", &got), grpc::StatusCode::OK);
  EXPECT_EQ(stats(branch_dashboard, "fucheng-branch-chengjiao-station", &got), grpc::StatusCode::OK);
  EXPECT_EQ(stats(branch_dashboard, "gaoxin-branch", &got), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(stats(branch_dashboard, "bureau", &got), grpc::StatusCode::PERMISSION_DENIED);
  const Who bureau_dashboard{UnitId("bureau"), {"dashboard"}};
  ASSERT_EQ(stats(bureau_dashboard, "", &got), grpc::StatusCode::OK);
  EXPECT_EQ(got.findings(), bureau.findings());
  EXPECT_EQ(stats(bureau_dashboard, "gaoxin-branch", &got), grpc::StatusCode::OK);
  EXPECT_EQ(stats(bureau_dashboard, "discipline-group", &got), grpc::StatusCode::PERMISSION_DENIED);
  const Who committee_dashboard{UnitId("bureau-party-committee"), {"dashboard"}};
  EXPECT_EQ(stats(committee_dashboard, "fucheng-branch", &got), grpc::StatusCode::PERMISSION_DENIED);

  // The audit office: the bureau it belongs to (by default), not the discipline commission.
  ASSERT_EQ(stats(auditor, "", &got), grpc::StatusCode::OK);
  EXPECT_EQ(got.findings(), bureau.findings());
  EXPECT_EQ(got.amount_fen(), bureau.amount_fen());
  EXPECT_EQ(stats(auditor, "fucheng-branch", &got), grpc::StatusCode::OK);
  EXPECT_EQ(got.findings(), fucheng.findings());
  EXPECT_EQ(stats(auditor, "discipline-group", &got), grpc::StatusCode::PERMISSION_DENIED);
  const Who branch_auditor{UnitId("fucheng-branch-inspection-team"), {"auditor"}};
  EXPECT_EQ(stats(branch_auditor, "fucheng-branch-chengjiao-station", &got), grpc::StatusCode::OK);
  EXPECT_EQ(stats(branch_auditor, "gaoxin-branch", &got), grpc::StatusCode::PERMISSION_DENIED);

  // No other role sees figures, whatever the unit.
  for (const char* role : {"admin", "discipline", "inspector", "staff", "service", "custodian"}) {
    EXPECT_EQ(stats(Who{UnitId("fucheng-branch"), {role}}, "fucheng-branch", &got), grpc::StatusCode::PERMISSION_DENIED)
        << role;
  }
  // A malformed unit is still named as such.
  v1::GetAuditStatsRequest bad;
  bad.set_unit_id("x");
  EXPECT_EQ(Call(stub_.get(), branch_dashboard, &v1::AuditService::Stub::GetAuditStats, bad, &got).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace sm::audit
