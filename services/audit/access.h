// Who may do what in audit-service: the one access table of docs/audit.md ("Access"), as
// pure code (no I/O). Every handler asks Decide and nothing else grants access. Deny by
// default: an RPC or a role that the table does not name is refused.
//
// A cell is (RPC, role, relation of the caller's unit to the item). The caller gets the
// best cell over their roles and their unit's relations to the item, then clearance: below
// kClearanceInternal an allowed read of a finding or its history is redacted.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <absl/status/statusor.h>

#include "common/auth.h"
#include "supervision/v1/audit.pb.h"

namespace sm::audit::access {

// One per AuditService method (the unit test checks this against the service descriptor).
enum class Rpc {
  kCreateEngagement,
  kAdvanceEngagement,
  kGetEngagement,
  kListEngagements,
  kAddFinding,
  kGetFinding,
  kListFindings,
  kReferFinding,
  kRetryReferral,
  kAddRectification,
  kRecordProgress,
  kSubmitRectification,
  kReviewRectification,
  kReopenRectification,
  kListRectifications,
  kGetRectification,
  kGetAuditStats,
  kGetAuditHistory,
  kVerifyAuditChain,
  kVerifyAllAuditChains,
  kExportAuditCheckpoints,
  kSubscribe,
};
inline constexpr Rpc kAllRpcs[] = {
    Rpc::kCreateEngagement,    Rpc::kAdvanceEngagement,    Rpc::kGetEngagement,
    Rpc::kListEngagements,     Rpc::kAddFinding,           Rpc::kGetFinding,
    Rpc::kListFindings,        Rpc::kReferFinding,         Rpc::kRetryReferral,
    Rpc::kAddRectification,    Rpc::kRecordProgress,       Rpc::kSubmitRectification,
    Rpc::kReviewRectification, Rpc::kReopenRectification,  Rpc::kListRectifications,
    Rpc::kGetRectification,    Rpc::kGetAuditStats,        Rpc::kGetAuditHistory,
    Rpc::kVerifyAuditChain,    Rpc::kVerifyAllAuditChains, Rpc::kExportAuditCheckpoints,
    Rpc::kSubscribe,
};
// The gRPC method name ("GetFinding").
std::string_view RpcName(Rpc rpc);

// The relation of the caller's unit to the item (engagement, finding, rectification; for
// GetAuditStats the unit whose figures are asked for, see docs/audit.md).
enum class Relation {
  kAuditUnit,   // conducts the engagement
  kAudited,     // the engagement's audited unit, the finding's responsible unit
  kOwner,       // owns the rectification (of a finding: owns one of its rectifications)
  kReferredTo,  // the discipline unit the finding was referred to
  kParent,      // an ancestor of the audited, responsible or owner unit
  kUnrelated,
};
inline constexpr Relation kAllRelations[] = {Relation::kAuditUnit,  Relation::kAudited, Relation::kOwner,
                                             Relation::kReferredTo, Relation::kParent,  Relation::kUnrelated};
std::string_view RelationName(Relation r);

// Every role of common/auth.h (the unit test checks that none is missing).
inline constexpr std::string_view kAllRoles[] = {
    auth::kRoleAdmin,     auth::kRoleDiscipline,     auth::kRoleOversight, auth::kRoleAuditor,
    auth::kRoleInspector, auth::kRoleChiefInspector, auth::kRoleStaff,     auth::kRoleDashboard,
    auth::kRoleService,   auth::kRoleCustodian,      auth::kRolePolitical,
};

// Worst to best; the caller gets the best over their cells.
enum class Outcome {
  kNotFound,  // the item does not exist for this caller: NOT_FOUND
  kDenied,    // the caller may see the item (or no item is involved) but not do this: PERMISSION_DENIED
  kRedacted,  // allowed, with the referral (clue id and number, clue state, disposition,
              // outcome, feedback, referred-to unit, errors) and referral events withheld
  kAllow,
};
std::string_view OutcomeName(Outcome o);

// A set of relations (the caller's unit can stand in several to one item).
class Relations {
 public:
  Relations() = default;
  Relations(std::initializer_list<Relation> rs) {
    for (Relation r : rs) Add(r);
  }
  void Add(Relation r) { bits_ |= Bit(r); }
  bool Has(Relation r) const { return (bits_ & Bit(r)) != 0; }
  // Empty means unrelated.
  bool empty() const { return bits_ == 0; }
  std::string ToString() const;

 private:
  static uint32_t Bit(Relation r) { return 1u << static_cast<int>(r); }
  uint32_t bits_ = 0;
};

// The table's cell. A role or RPC the table does not name: kDenied.
Outcome Cell(Rpc rpc, std::string_view role, Relation relation);

// What the caller gets: the best Cell over their roles and relations (no relation: kUnrelated),
// then clearance (below internal, kAllow on GetFinding, ListFindings and GetAuditHistory
// becomes kRedacted).
Outcome Decide(Rpc rpc, const auth::Principal& p, const Relations& relations);

// Whether any cell of the caller's roles allows something on `rpc`: when not, the call is
// refused with PERMISSION_DENIED before any item is looked up (that answer reveals nothing).
bool Callable(Rpc rpc, const auth::Principal& p);

// The caller's outcome as a Status: kAllow or kRedacted; NOT_FOUND ("<what> not found") or
// PERMISSION_DENIED ("not permitted to <Rpc> this <what>") otherwise. The handler logs
// refusals (service.cc), without content.
absl::StatusOr<Outcome> Check(Rpc rpc, const auth::Principal& p, const Relations& relations, std::string_view what);

// Whether the relation kParent can change the caller's outcome on `rpc` (some role of
// theirs granted something on it has a cell for it other than kNotFound): when not, where units sit need not be read.
bool ParentMatters(Rpc rpc, const auth::Principal& p);

// Where units sit: unit id -> its ancestors, root first, for the units an item names. A
// unit absent from it is unknown to the directory (it has no ancestors).
using Ancestry = std::map<std::string, std::vector<std::string>>;
// Whether `unit` is an ancestor of `of` (false when either is empty or unknown).
bool Above(const std::string& unit, const std::string& of, const Ancestry& ancestry);

// How the caller's unit stands to an engagement, a finding (of engagement `e`;
// `owns_rectification`: the unit owns one of its rectifications) and a rectification (of
// finding `f` of engagement `e`). Parent relations come from `ancestry`, which must hold
// the audited, responsible and owner units concerned. An empty unit stands in none.
Relations ToEngagement(const std::string& unit, const ::supervision::v1::Engagement& e, const Ancestry& ancestry);
Relations ToFinding(const std::string& unit, const ::supervision::v1::Finding& f,
                    const ::supervision::v1::Engagement& e, bool owns_rectification, const Ancestry& ancestry);
Relations ToRectification(const std::string& unit, const ::supervision::v1::Rectification& x,
                          const ::supervision::v1::Finding& f, const ::supervision::v1::Engagement& e,
                          const Ancestry& ancestry);

// The unit a list narrows to (the store's `visible_to`): the caller's, unless they may see
// every item (an unrelated one), then none.
std::optional<std::string> NarrowTo(Rpc rpc, const auth::Principal& p);

// GetAuditStats, for a caller who may not see every unit: the unit whose figures they ask
// for, `asked`, or by default the widest scope their roles give: `organisation` (the one
// their unit belongs to, "" unknown: the audit office's jurisdiction) when granted, else
// their own unit. ToStatsScope: how the caller stands to that unit (kAudited: their own;
// kParent: one below it; kAuditUnit: one of their organisation), `ancestry` holding it.
std::string StatsScope(const auth::Principal& p, const std::string& asked, const std::string& organisation);
Relations ToStatsScope(const auth::Principal& p, const std::string& scope, const std::string& organisation,
                       const Ancestry& ancestry);

// What kRedacted withholds: the finding's whole referral (whether and where it was
// referred, the clue's id, number and state, disposition, outcome form and feedback).
void Redact(::supervision::v1::Finding& f);
// Whether a finding's history event belongs to its referral (withheld by kRedacted):
// referred, referral_retried, referral_dead and the clue_* events.
bool IsReferralEvent(std::string_view type);

}  // namespace sm::audit::access
