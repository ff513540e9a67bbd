// audit-service's access table over every (RPC, role, relation) cell, against an explicit
// copy of the table in docs/audit.md. Count checks tie the walk to the service descriptor
// and to the roles of common/auth.h, so a new RPC or role cannot slip in untested.
#include "services/audit/access.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "supervision/v1/audit.pb.h"

namespace sm::audit::access {
namespace {

// The table as docs/audit.md writes it. Columns: audit unit, audited, owner, referred to,
// parent, unrelated. A = allowed, R = allowed with the referral withheld, D =
// PERMISSION_DENIED, N = NOT_FOUND. A role not named for an RPC is D everywhere.
using Expected = std::map<std::string, std::map<std::string, std::string>>;

Expected Table() {
  const std::map<std::string, std::string> read = {
      {"auditor", "AN NN NN"}, {"staff", "AR RA NN"}, {"discipline", "AR RA NN"}, {"oversight", "AA AA AA"}};
  const std::map<std::string, std::string> audit_step = {
      {"auditor", "AN NN NN"}, {"staff", "DD DD NN"}, {"discipline", "DD DD NN"}};
  const std::map<std::string, std::string> owner_step = {
      {"auditor", "DN NN NN"}, {"staff", "DD AD NN"}, {"discipline", "DD DD NN"}};
  return {
      {"CreateEngagement", {{"auditor", "AD DD DD"}}},
      {"AdvanceEngagement", audit_step},
      {"GetEngagement", read},
      {"ListEngagements", read},
      {"AddFinding", audit_step},
      {"GetFinding", read},
      {"ListFindings", read},
      {"ReferFinding", audit_step},
      {"RetryReferral", audit_step},
      {"AddRectification", audit_step},
      {"RecordProgress", owner_step},
      {"SubmitRectification", owner_step},
      {"ReviewRectification", audit_step},
      {"ReopenRectification", audit_step},
      {"ListRectifications", read},
      {"GetRectification", read},
      {"GetAuditStats", {{"dashboard", "DA DD AD"}, {"auditor", "AA DD AD"}, {"oversight", "AA AA AA"}}},
      {"GetAuditHistory", read},
      {"VerifyAuditChain",
       {{"auditor", "AN NN NN"}, {"staff", "DD DD NN"}, {"discipline", "DD DD NN"}, {"oversight", "AA AA AA"}}},
      {"VerifyAllAuditChains", {{"oversight", "AA AA AA"}}},
      {"ExportAuditCheckpoints", {{"oversight", "AA AA AA"}}},
      {"Subscribe", {{"service", "AA AA AA"}, {"oversight", "AA AA AA"}}},
  };
}

Outcome FromLetter(char c) {
  switch (c) {
    case 'A': return Outcome::kAllow;
    case 'R': return Outcome::kRedacted;
    case 'D': return Outcome::kDenied;
    default: return Outcome::kNotFound;
  }
}

std::string Letters(const std::string& spaced) {
  std::string out;
  for (char c : spaced) {
    if (c != ' ') out += c;
  }
  return out;
}

auth::Principal As(std::vector<std::string> roles, int clearance = auth::kClearanceInternal) {
  auth::Principal p;
  p.user = "u";
  p.unit = "unit";
  p.roles = std::move(roles);
  p.clearance = clearance;
  return p;
}

bool CarriesReferral(Rpc rpc) {
  return rpc == Rpc::kGetFinding || rpc == Rpc::kListFindings || rpc == Rpc::kGetAuditHistory;
}

TEST(AuditAccessTest, TheRpcsAreTheServiceMethods) {
  const auto* service = ::supervision::v1::GetFindingRequest::descriptor()->file()->FindServiceByName("AuditService");
  ASSERT_NE(service, nullptr);
  std::set<std::string> methods, rpcs;
  for (int i = 0; i < service->method_count(); ++i) methods.insert(service->method(i)->name());
  for (Rpc rpc : kAllRpcs) rpcs.insert(std::string(RpcName(rpc)));
  EXPECT_EQ(methods, rpcs);
  EXPECT_EQ(std::size(kAllRpcs), static_cast<size_t>(service->method_count()));
  std::set<std::string> documented;
  for (const auto& [name, rules] : Table()) documented.insert(name);
  EXPECT_EQ(documented, methods);
}

TEST(AuditAccessTest, TheRolesAreThoseOfAuth) {
  std::ifstream in(std::string(SM_SOURCE_DIR) + "/common/auth.h");
  std::stringstream text;
  text << in.rdbuf();
  const std::regex decl(R"re(inline constexpr std::string_view kRole\w+ = "(\w+)";)re");
  std::set<std::string> declared;
  const std::string s = text.str();
  for (std::sregex_iterator it(s.begin(), s.end(), decl), end; it != end; ++it) declared.insert((*it)[1]);
  std::set<std::string> listed;
  for (auto r : kAllRoles) listed.insert(std::string(r));
  EXPECT_EQ(declared.size(), 11u);
  EXPECT_EQ(listed, declared);
  EXPECT_EQ(std::size(kAllRoles), declared.size());
}

TEST(AuditAccessTest, EveryRpcRoleRelationCell) {
  const Expected table = Table();
  int cells = 0;
  for (Rpc rpc : kAllRpcs) {
    const auto rules = table.at(std::string(RpcName(rpc)));
    for (std::string_view role : kAllRoles) {
      auto it = rules.find(std::string(role));
      const std::string row = it == rules.end() ? "DDDDDD" : Letters(it->second);
      ASSERT_EQ(row.size(), std::size(kAllRelations)) << RpcName(rpc) << " " << role;
      for (Relation rel : kAllRelations) {
        const std::string where =
            std::string(RpcName(rpc)) + " / " + std::string(role) + " / " + std::string(RelationName(rel));
        const Outcome want = FromLetter(row[static_cast<size_t>(rel)]);
        EXPECT_EQ(OutcomeName(Cell(rpc, role, rel)), OutcomeName(want)) << where;
        // Through Decide, as one caller of that role: cleared callers get the cell ...
        EXPECT_EQ(OutcomeName(Decide(rpc, As({std::string(role)}), {rel})), OutcomeName(want)) << where;
        // ... uncleared ones see a finding's referral nowhere.
        const Outcome uncleared = want == Outcome::kAllow && CarriesReferral(rpc) ? Outcome::kRedacted : want;
        EXPECT_EQ(OutcomeName(Decide(rpc, As({std::string(role)}, auth::kClearanceNone), {rel})),
                  OutcomeName(uncleared))
            << where << " (clearance 0)";
        EXPECT_EQ(Callable(rpc, As({std::string(role)})), row != "DDDDDD") << where;
        ++cells;
      }
    }
  }
  EXPECT_EQ(cells, 22 * 11 * 6);
}

TEST(AuditAccessTest, ACallerGetsTheBestOfTheirRolesAndRelations) {
  // The audited unit's staff see the finding redacted; as the unit it was referred to too,
  // they see it whole.
  EXPECT_EQ(Decide(Rpc::kGetFinding, As({"staff"}), {Relation::kAudited}), Outcome::kRedacted);
  EXPECT_EQ(Decide(Rpc::kGetFinding, As({"staff"}), {Relation::kAudited, Relation::kReferredTo}), Outcome::kAllow);
  // An auditor of the audited unit who is also staff reads as staff.
  EXPECT_EQ(Decide(Rpc::kGetFinding, As({"auditor", "staff"}), {Relation::kAudited}), Outcome::kRedacted);
  // No relation is "unrelated".
  EXPECT_EQ(Decide(Rpc::kGetFinding, As({"staff"}), {}), Outcome::kNotFound);
  EXPECT_EQ(Decide(Rpc::kGetFinding, As({"oversight"}), {}), Outcome::kAllow);
  // A role granted nothing on the RPC does not turn NOT_FOUND into PERMISSION_DENIED (which
  // would tell the caller that the item exists).
  EXPECT_EQ(Decide(Rpc::kGetFinding, As({"staff", "dashboard"}), {Relation::kUnrelated}), Outcome::kNotFound);
  EXPECT_EQ(Decide(Rpc::kGetFinding, As({"dashboard"}), {Relation::kUnrelated}), Outcome::kDenied);
  EXPECT_FALSE(Callable(Rpc::kGetFinding, As({"dashboard"})));
  // No roles at all, or only unknown ones: nothing.
  EXPECT_EQ(Decide(Rpc::kGetFinding, As({}), {Relation::kAuditUnit}), Outcome::kDenied);
  EXPECT_EQ(Decide(Rpc::kGetFinding, As({"superuser"}), {Relation::kAuditUnit}), Outcome::kDenied);
  EXPECT_FALSE(Callable(Rpc::kSubscribe, As({"superuser", "admin"})));
}

TEST(AuditAccessTest, RedactionWithholdsTheWholeReferral) {
  ::supervision::v1::Finding f;
  f.set_id("f");
  f.set_title("t");
  auto* ref = f.mutable_referral();
  ref->set_state(::supervision::v1::REFERRAL_STATE_DELIVERED);
  ref->set_to_unit_id("g");
  ref->set_clue_id("c");
  ref->set_clue_number("XS-2026-0001");
  ref->set_clue_state(::supervision::v1::CLUE_STATE_CASE_FILED);
  ref->set_disposition(::supervision::v1::DISPOSITION_METHOD_VERIFICATION);
  ref->set_outcome_form(::supervision::v1::SUPERVISION_FORM_3);
  ref->set_outcome_feedback("立案审查");
  Redact(f);
  EXPECT_FALSE(f.has_referral());
  EXPECT_EQ(f.title(), "t");
  for (const char* t : {"referred", "referral_retried", "referral_dead", "referral_delivered", "clue_linked",
                        "clue_registered", "clue_disposed", "clue_concluded"}) {
    EXPECT_TRUE(IsReferralEvent(t)) << t;
  }
  for (const char* t : {"finding_added", "recurrence_flagged", "rectification_added", "rectification_submitted",
                        "engagement_created"}) {
    EXPECT_FALSE(IsReferralEvent(t)) << t;
  }
}

}  // namespace
}  // namespace sm::audit::access
