// Authentication and authorization shared by every service.
//
// Callers present a JWT bearer token in the `authorization` metadata. Claims: `sub` (user
// id), `unit` (unit id), `roles` (array of strings), `clearance` (0..3), plus `iss`, `aud`,
// `exp` (required), `nbf`, `iat`. Development signs with HS256 and a shared secret;
// production verifies RS256 or ES256 with a public key, chosen by config.
//
// libjwt 1.10 trusts the token's own `alg` and checks no times (TOOLCHAIN.md), so Verifier
// always passes a key, insists on the configured algorithm and checks exp/nbf/iss/aud
// itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <absl/status/statusor.h>

#include "common/clock.h"

namespace sm::auth {

// Role names. Policies live with each service; these are the shared vocabulary.
inline constexpr std::string_view kRoleAdmin = "admin";            // directory import, ops
inline constexpr std::string_view kRoleDiscipline = "discipline";  // discipline staff
inline constexpr std::string_view kRoleOversight = "oversight";    // sees across units
inline constexpr std::string_view kRoleAuditor = "auditor";
inline constexpr std::string_view kRoleInspector = "inspector";
inline constexpr std::string_view kRoleStaff = "staff";            // any unit member
inline constexpr std::string_view kRoleDashboard = "dashboard";    // aggregates only
inline constexpr std::string_view kRoleService = "service";        // another service
inline constexpr std::string_view kRoleCustodian = "custodian";    // approves reporter reveals

// Clearance levels (涉密等级) carried in the token.
inline constexpr int kClearanceNone = 0;
inline constexpr int kClearanceInternal = 1;
inline constexpr int kClearanceConfidential = 2;  // 秘密: may see reporter identity
inline constexpr int kClearanceSecret = 3;        // 机密

struct Principal {
  std::string user;               // `sub`
  std::string unit;               // unit id
  std::vector<std::string> roles;
  int clearance = kClearanceNone;
  // Set when a service calls on a user's behalf (x-sm-on-behalf-of, honoured only for the
  // `service` role): the end user, for the audit trail.
  std::string on_behalf_of;

  bool HasRole(std::string_view role) const;
  // The user the call is for: on_behalf_of when set, else user.
  const std::string& EndUser() const { return on_behalf_of.empty() ? user : on_behalf_of; }
};

struct Config {
  std::string algorithm = "HS256";  // HS256 | RS256 | ES256
  // HS256: the shared secret (at least 32 bytes). RS256/ES256: the public key, PEM.
  std::string verify_key;
  std::string issuer = "supervision-mesh";
  std::string audience = "supervision-mesh";
  std::chrono::seconds leeway{30};
};

class Verifier {
 public:
  // Errors: INVALID_ARGUMENT for an unknown algorithm or an unusable key.
  static absl::StatusOr<Verifier> Create(Config config, const Clock& clock = SystemClock::Default());

  // Verifies the value of the `authorization` metadata ("Bearer <jwt>"). Errors:
  // UNAUTHENTICATED for a missing, malformed, forged, expired or not-yet-valid token, or
  // one for another issuer or audience. The message never echoes the token.
  absl::StatusOr<Principal> Verify(std::string_view authorization) const;

  const Config& config() const { return config_; }

 private:
  // What a token's signature and claims vouch for; the times are checked at every use.
  struct Verified {
    Principal principal;
    int64_t exp = 0;
    std::optional<int64_t> nbf;
  };
  // Tokens whose signature and claims checked out, so that a caller's every call does not
  // pay for signature verification and JSON parsing again. Bounded; keyed by the whole token.
  struct Seen {
    std::mutex mu;
    std::unordered_map<std::string, std::shared_ptr<const Verified>> tokens;
  };
  static constexpr size_t kSeenLimit = 4096;

  Verifier(Config config, const Clock& clock)
      : config_(std::move(config)), clock_(&clock), seen_(std::make_shared<Seen>()) {}
  absl::StatusOr<std::shared_ptr<const Verified>> Decode(const std::string& token) const;

  Config config_;
  const Clock* clock_;
  std::shared_ptr<Seen> seen_;
};

struct MintRequest {
  std::string algorithm = "HS256";
  std::string signing_key;  // HS256 secret, or RS256/ES256 private key PEM
  std::string issuer = "supervision-mesh";
  std::string audience = "supervision-mesh";
  Principal principal;
  std::chrono::seconds ttl{8 * 3600};
  TimePoint now{};          // default: the system clock
};

// Signs a token for `req.principal`. Used by the development minter (smctl login --dev),
// services' own identities and tests. Errors: INVALID_ARGUMENT for a bad key/algorithm.
absl::StatusOr<std::string> Mint(const MintRequest& req);

// The development HS256 secret used by the local stack and tests. Development only: any
// real deployment sets auth.verify_key (config) to its own secret or public key.
inline constexpr std::string_view kDevelopmentSecret =
    "DEVELOPMENT-ONLY-supervision-mesh-hs256-secret-do-not-use-in-production";

// PERMISSION_DENIED unless `p` has one of `roles`; the message names the roles needed.
absl::Status RequireAnyRole(const Principal& p, std::initializer_list<std::string_view> roles);

}  // namespace sm::auth
