#include "services/audit/access.h"

#include <algorithm>
#include <array>
#include <map>
#include <vector>

namespace sm::audit::access {
namespace {

constexpr Outcome A = Outcome::kAllow;
constexpr Outcome R = Outcome::kRedacted;
constexpr Outcome D = Outcome::kDenied;
constexpr Outcome H = Outcome::kNotFound;

// One role's cells of one RPC, by Relation: audit unit, audited, owner, referred to,
// parent, unrelated.
using Row = std::array<Outcome, 6>;

constexpr Row kEverywhere = {A, A, A, A, A, A};
// The audit unit's auditors do the audit work; other units' auditors see nothing.
constexpr Row kAuditWork = {A, H, H, H, H, H};
// Members of a unit read what concerns it: the audit unit its own work, the audited side
// its findings without the referral (so the subject is not tipped off), the discipline unit
// a finding was referred to that finding with the clue's outcome.
constexpr Row kMemberRead = {A, R, R, A, H, H};
// Seen (as by kMemberRead) but not theirs to do.
constexpr Row kSeenNotTheirs = {D, D, D, D, H, H};
// The audit unit's auditors see a rectification but the owner works on it.
constexpr Row kAuditorSeesOwnerStep = {D, H, H, H, H, H};
// The owner unit records progress and submits; everyone else who sees it may not.
constexpr Row kOwnerStep = {D, D, A, D, H, H};
// An audit unit opens engagements in its own name only (no item yet: never NOT_FOUND).
constexpr Row kOwnName = {A, D, D, D, D, D};
// Statistics (the "item" is the unit asked about): kAudited = the caller's own unit,
// kParent = a unit below it, kAuditUnit = a unit of the organisation the caller's unit
// belongs to (its parent's subtree: the audit office's jurisdiction).
constexpr Row kStatsOwnScope = {D, A, D, D, A, D};
constexpr Row kStatsJurisdiction = {A, A, D, D, A, D};

using Rules = std::map<std::string_view, Row>;  // by role; a role not named is denied

const std::map<Rpc, Rules>& Table() {
  static const auto* table = [] {
    const Rules audit_step = {
        {auth::kRoleAuditor, kAuditWork}, {auth::kRoleStaff, kSeenNotTheirs}, {auth::kRoleDiscipline, kSeenNotTheirs}};
    const Rules read = {{auth::kRoleAuditor, kAuditWork},
                        {auth::kRoleStaff, kMemberRead},
                        {auth::kRoleDiscipline, kMemberRead},
                        {auth::kRoleOversight, kEverywhere}};
    const Rules owner_step = {{auth::kRoleAuditor, kAuditorSeesOwnerStep},
                              {auth::kRoleStaff, kOwnerStep},
                              {auth::kRoleDiscipline, kSeenNotTheirs}};
    auto* t = new std::map<Rpc, Rules>{
        {Rpc::kCreateEngagement, {{auth::kRoleAuditor, kOwnName}}},
        {Rpc::kAdvanceEngagement, audit_step},
        {Rpc::kGetEngagement, read},
        {Rpc::kListEngagements, read},
        {Rpc::kAddFinding, audit_step},
        {Rpc::kGetFinding, read},
        {Rpc::kListFindings, read},
        {Rpc::kReferFinding, audit_step},
        {Rpc::kRetryReferral, audit_step},
        {Rpc::kAddRectification, audit_step},
        {Rpc::kRecordProgress, owner_step},
        {Rpc::kSubmitRectification, owner_step},
        {Rpc::kReviewRectification, audit_step},
        {Rpc::kReopenRectification, audit_step},
        {Rpc::kListRectifications, read},
        {Rpc::kGetRectification, read},
        {Rpc::kGetAuditStats,
         {{auth::kRoleDashboard, kStatsOwnScope},
          {auth::kRoleAuditor, kStatsJurisdiction},
          {auth::kRoleOversight, kEverywhere}}},
        {Rpc::kGetAuditHistory, read},
        {Rpc::kVerifyAuditChain,
         {{auth::kRoleAuditor, kAuditWork},
          {auth::kRoleStaff, kSeenNotTheirs},
          {auth::kRoleDiscipline, kSeenNotTheirs},
          {auth::kRoleOversight, kEverywhere}}},
        // Every chain at once: for those who may see all audit data (no item: never NOT_FOUND).
        {Rpc::kVerifyAllAuditChains, {{auth::kRoleOversight, kEverywhere}}},
        {Rpc::kExportAuditCheckpoints, {{auth::kRoleOversight, kEverywhere}}},
        {Rpc::kSubscribe, {{auth::kRoleService, kEverywhere}, {auth::kRoleOversight, kEverywhere}}},
    };
    return t;
  }();
  return *table;
}

// Reads that carry a finding's referral: below internal clearance they are redacted.
bool CarriesReferral(Rpc rpc) {
  return rpc == Rpc::kGetFinding || rpc == Rpc::kListFindings || rpc == Rpc::kGetAuditHistory;
}

}  // namespace

std::string_view RpcName(Rpc rpc) {
  switch (rpc) {
    case Rpc::kCreateEngagement: return "CreateEngagement";
    case Rpc::kAdvanceEngagement: return "AdvanceEngagement";
    case Rpc::kGetEngagement: return "GetEngagement";
    case Rpc::kListEngagements: return "ListEngagements";
    case Rpc::kAddFinding: return "AddFinding";
    case Rpc::kGetFinding: return "GetFinding";
    case Rpc::kListFindings: return "ListFindings";
    case Rpc::kReferFinding: return "ReferFinding";
    case Rpc::kRetryReferral: return "RetryReferral";
    case Rpc::kAddRectification: return "AddRectification";
    case Rpc::kRecordProgress: return "RecordProgress";
    case Rpc::kSubmitRectification: return "SubmitRectification";
    case Rpc::kReviewRectification: return "ReviewRectification";
    case Rpc::kReopenRectification: return "ReopenRectification";
    case Rpc::kListRectifications: return "ListRectifications";
    case Rpc::kGetRectification: return "GetRectification";
    case Rpc::kGetAuditStats: return "GetAuditStats";
    case Rpc::kGetAuditHistory: return "GetAuditHistory";
    case Rpc::kVerifyAuditChain: return "VerifyAuditChain";
    case Rpc::kVerifyAllAuditChains: return "VerifyAllAuditChains";
    case Rpc::kExportAuditCheckpoints: return "ExportAuditCheckpoints";
    case Rpc::kSubscribe: return "Subscribe";
  }
  return "?";
}

std::string_view RelationName(Relation r) {
  switch (r) {
    case Relation::kAuditUnit: return "audit_unit";
    case Relation::kAudited: return "audited";
    case Relation::kOwner: return "owner";
    case Relation::kReferredTo: return "referred_to";
    case Relation::kParent: return "parent";
    case Relation::kUnrelated: return "unrelated";
  }
  return "?";
}

std::string_view OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kNotFound: return "not_found";
    case Outcome::kDenied: return "denied";
    case Outcome::kRedacted: return "redacted";
    case Outcome::kAllow: return "allow";
  }
  return "?";
}

std::string Relations::ToString() const {
  if (empty()) return std::string(RelationName(Relation::kUnrelated));
  std::string out;
  for (Relation r : kAllRelations) {
    if (Has(r)) out += (out.empty() ? "" : ",") + std::string(RelationName(r));
  }
  return out;
}

Outcome Cell(Rpc rpc, std::string_view role, Relation relation) {
  auto rules = Table().find(rpc);
  if (rules == Table().end()) return Outcome::kDenied;
  auto row = rules->second.find(role);
  if (row == rules->second.end()) return Outcome::kDenied;
  return row->second[static_cast<size_t>(relation)];
}

namespace {

// Whether the role is granted anything on the RPC.
bool RoleCallable(Rpc rpc, std::string_view role) {
  for (Relation r : kAllRelations) {
    if (Cell(rpc, role, r) != Outcome::kDenied) return true;
  }
  return false;
}

}  // namespace

Outcome Decide(Rpc rpc, const auth::Principal& p, const Relations& relations) {
  Outcome best = Outcome::kNotFound;
  bool any = false;
  for (const std::string& role : p.roles) {
    // A role granted nothing on this RPC has no say about the item: counting its blanket
    // refusal would tell a caller who also holds another role that the item exists.
    if (!RoleCallable(rpc, role)) continue;
    for (Relation r : kAllRelations) {
      const bool holds = relations.empty() ? r == Relation::kUnrelated : relations.Has(r);
      if (!holds) continue;
      const Outcome o = Cell(rpc, role, r);
      if (!any || o > best) best = o;
      any = true;
    }
  }
  // No role granted anything: refused without a word about the item.
  if (!any) return Outcome::kDenied;
  if (best == Outcome::kAllow && CarriesReferral(rpc) && p.clearance < auth::kClearanceInternal) {
    return Outcome::kRedacted;
  }
  return best;
}

bool Callable(Rpc rpc, const auth::Principal& p) {
  for (const std::string& role : p.roles) {
    if (RoleCallable(rpc, role)) return true;
  }
  return false;
}

absl::StatusOr<Outcome> Check(Rpc rpc, const auth::Principal& p, const Relations& relations, std::string_view what) {
  const Outcome o = Decide(rpc, p, relations);
  if (o == Outcome::kAllow || o == Outcome::kRedacted) return o;
  if (o == Outcome::kNotFound) return absl::NotFoundError(std::string(what) + " not found");
  return absl::PermissionDeniedError("not permitted to " + std::string(RpcName(rpc)) + " this " + std::string(what));
}

bool ParentMatters(Rpc rpc, const auth::Principal& p) {
  for (const std::string& role : p.roles) {
    // As in Decide: a role granted nothing on the RPC has no say.
    if (RoleCallable(rpc, role) && Cell(rpc, role, Relation::kParent) != Outcome::kNotFound) return true;
  }
  return false;
}

bool Above(const std::string& unit, const std::string& of, const Ancestry& ancestry) {
  if (unit.empty() || of.empty()) return false;
  auto it = ancestry.find(of);
  if (it == ancestry.end()) return false;
  return std::find(it->second.begin(), it->second.end(), unit) != it->second.end();
}

namespace v1 = ::supervision::v1;

Relations ToEngagement(const std::string& unit, const v1::Engagement& e, const Ancestry& ancestry) {
  Relations r;
  if (unit.empty()) return r;
  if (unit == e.audit_unit_id()) r.Add(Relation::kAuditUnit);
  if (unit == e.audited_unit_id()) r.Add(Relation::kAudited);
  if (Above(unit, e.audited_unit_id(), ancestry)) r.Add(Relation::kParent);
  return r;
}

namespace {

// The relations a finding gives its unit (a rectification's as well as the finding's own).
void FindingRelations(Relations& r, const std::string& unit, const v1::Finding& f, const v1::Engagement& e) {
  if (unit == e.audit_unit_id()) r.Add(Relation::kAuditUnit);
  if (unit == f.responsible_unit_id()) r.Add(Relation::kAudited);
  if (f.referral().state() != v1::REFERRAL_STATE_UNSPECIFIED && unit == f.referral().to_unit_id()) {
    r.Add(Relation::kReferredTo);
  }
}

}  // namespace

Relations ToFinding(const std::string& unit, const v1::Finding& f, const v1::Engagement& e, bool owns_rectification,
                    const Ancestry& ancestry) {
  Relations r;
  if (unit.empty()) return r;
  FindingRelations(r, unit, f, e);
  if (owns_rectification) r.Add(Relation::kOwner);
  if (Above(unit, f.responsible_unit_id(), ancestry)) r.Add(Relation::kParent);
  return r;
}

Relations ToRectification(const std::string& unit, const v1::Rectification& x, const v1::Finding& f,
                          const v1::Engagement& e, const Ancestry& ancestry) {
  Relations r;
  if (unit.empty()) return r;
  FindingRelations(r, unit, f, e);
  if (unit == x.owner_unit_id()) r.Add(Relation::kOwner);
  if (Above(unit, x.owner_unit_id(), ancestry) || Above(unit, f.responsible_unit_id(), ancestry)) {
    r.Add(Relation::kParent);
  }
  return r;
}

std::optional<std::string> NarrowTo(Rpc rpc, const auth::Principal& p) {
  if (Decide(rpc, p, {Relation::kUnrelated}) == Outcome::kAllow) return std::nullopt;
  return p.unit;
}

std::string StatsScope(const auth::Principal& p, const std::string& asked, const std::string& organisation) {
  if (!asked.empty()) return asked;
  const bool jurisdiction =
      !organisation.empty() && Decide(Rpc::kGetAuditStats, p, {Relation::kAuditUnit}) == Outcome::kAllow;
  return jurisdiction ? organisation : p.unit;
}

Relations ToStatsScope(const auth::Principal& p, const std::string& scope, const std::string& organisation,
                       const Ancestry& ancestry) {
  Relations r;
  if (p.unit.empty() || scope.empty()) return r;
  if (scope == p.unit) r.Add(Relation::kAudited);
  if (Above(p.unit, scope, ancestry)) r.Add(Relation::kParent);
  if (!organisation.empty() && (scope == organisation || Above(organisation, scope, ancestry))) {
    r.Add(Relation::kAuditUnit);
  }
  return r;
}

void Redact(::supervision::v1::Finding& f) { f.clear_referral(); }

bool IsReferralEvent(std::string_view type) { return type.rfind("referr", 0) == 0 || type.rfind("clue_", 0) == 0; }

}  // namespace sm::audit::access
