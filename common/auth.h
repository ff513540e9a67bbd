// Authentication and authorization shared by every service.
//
// Callers present a JWT bearer token in the `authorization` metadata. Claims: `sub` (user
// id), `unit` (unit id), `roles` (array of strings), `clearance` (0..3), plus `iss`, `aud`,
// `exp`, `iat` (required), `nbf`. Tokens are verified against a key set: each key is
// chosen by the token's `kid` and bound to what it may vouch for (people, or one service).
// Development mode adds the published development keys (DevelopmentKeys); nothing else does.
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
inline constexpr std::string_view kRoleChiefInspector = "chief_inspector";  // 督察长: approves measures
inline constexpr std::string_view kRoleStaff = "staff";                     // any unit member
inline constexpr std::string_view kRoleDashboard = "dashboard";             // aggregates only
inline constexpr std::string_view kRoleService = "service";                 // another service
inline constexpr std::string_view kRoleCustodian = "custodian";             // approves reporter reveals
inline constexpr std::string_view kRolePolitical = "political";             // 政治部: risk screening, talks

// Clearance levels (涉密等级) carried in the token.
inline constexpr int kClearanceNone = 0;
inline constexpr int kClearanceInternal = 1;
inline constexpr int kClearanceConfidential = 2;  // 秘密: may see reporter identity
inline constexpr int kClearanceSecret = 3;        // 机密

struct Principal {
  std::string user;  // `sub`
  std::string unit;  // unit id
  std::vector<std::string> roles;
  int clearance = kClearanceNone;
  // Set when a service calls on a user's behalf (x-sm-on-behalf-of, honoured only for the
  // `service` role): the end user, for the audit trail.
  std::string on_behalf_of;
  int64_t expires_at = 0;  // the token's `exp` (unix seconds): streams end then

  bool HasRole(std::string_view role) const;
  // The user the call is for: on_behalf_of when set, else user.
  const std::string& EndUser() const { return on_behalf_of.empty() ? user : on_behalf_of; }
};

// What a verification key may vouch for. A key is bound to one kind of token: the identity
// provider's key speaks for people (any roles but `service`); a service's own key speaks
// only for that one service's `service` token (sub = the service name, roles = [service],
// no unit, no clearance). So holding one service's key lets nobody mint a person's roles
// or another service's identity.
enum class Vouches { kPeople, kService };

struct Key {
  // Matched against the token header's `kid`. Empty for an RS256/ES256 key: derived from
  // the public key (KeyId). An HS256 key with an empty kid serves tokens that name none.
  std::string kid;
  std::string algorithm = "HS256";  // HS256 | RS256 | ES256
  std::string material;             // HS256: the secret (>= 32 bytes); else a PEM public key
  Vouches vouches = Vouches::kPeople;
  std::string service;  // with kService: the service's name; "*" = any (development key)
};

struct Config {
  std::vector<Key> keys;  // fixed keys (from the service config)
  // A key set file (YAML, see ParseKeySet), re-read when its content changes, checked at
  // most every `reload_interval`: keys are rotated by editing it, with no restart.
  std::string keys_file;
  std::chrono::milliseconds reload_interval{1000};
  std::string issuer = "supervision-mesh";
  std::string audience = "supervision-mesh";
  std::chrono::seconds leeway{30};
  std::chrono::seconds max_lifetime{24 * 3600};  // exp - iat, at most
};

// Parses a key set file:
//   keys:
//     - kid: idp-2026-11              # optional for RS256/ES256 (derived from the key)
//       algorithm: ES256
//       public_key_file: idp.pub.pem  # or public_key: PEM text; HS256: secret / secret_file
//       vouches_for: people           # or service:audit-service
// Relative file names are relative to `base_dir`. Errors: INVALID_ARGUMENT naming the entry
// and field.
absl::StatusOr<std::vector<Key>> ParseKeySet(const std::string& yaml, const std::string& base_dir);

// The key id of a PEM public or private key: "k-" + the first 16 hex characters of the
// SHA-256 of its SubjectPublicKeyInfo (DER). The same for a key pair's two halves, so a
// signer and a verifier agree on it without configuration. Errors: INVALID_ARGUMENT.
absl::StatusOr<std::string> KeyId(const std::string& pem);

class Verifier {
 public:
  // Errors: INVALID_ARGUMENT for an unknown algorithm, an unusable key, two keys with one
  // kid, no key at all, or an unreadable key set file (naming it).
  static absl::StatusOr<Verifier> Create(Config config, const Clock& clock = SystemClock::Default());

  // Verifies the value of the `authorization` metadata ("Bearer <jwt>"). Errors:
  // UNAUTHENTICATED for a missing, malformed, forged, expired or not-yet-valid token, one
  // whose lifetime is longer than allowed or whose iat is missing or in the future, one
  // signed by an unknown key or by a key that may not vouch for what it claims, or one for
  // another issuer or audience. The message never echoes the token.
  absl::StatusOr<Principal> Verify(std::string_view authorization) const;

  // The public key PEM of the ES256 key `kid` in the key set when it vouches for `service`
  // (or any service: the development key); nullopt otherwise. What verifies the service's
  // other signatures (chain checkpoints), across key rotations.
  std::optional<std::string> ServiceKey(const std::string& kid, const std::string& service) const;

  const Config& config() const { return config_; }

 private:
  // What a token's signature and claims vouch for; the times are checked at every use.
  struct Verified {
    Principal principal;
    int64_t exp = 0;
    std::optional<int64_t> nbf;
  };
  struct KeySet {
    std::unordered_map<std::string, Key> by_kid;
  };
  // Shared state (the Verifier is copied by value): the keys in force and the tokens seen.
  struct State {
    std::mutex mu;
    std::shared_ptr<const KeySet> keys;
    std::string file_text;  // the key set file's content as last read
    TimePoint next_reload{};
    // Tokens whose signature and claims checked out, so that a caller's every call does not
    // pay for signature verification and JSON parsing again. Bounded; keyed by the whole
    // token; emptied when the keys change.
    std::unordered_map<std::string, std::shared_ptr<const Verified>> seen;
  };
  static constexpr size_t kSeenLimit = 4096;

  Verifier(Config config, const Clock& clock)
      : config_(std::move(config)), clock_(&clock), state_(std::make_shared<State>()) {}
  // Builds the key set from config_.keys and, when given, `file_text`.
  absl::StatusOr<std::shared_ptr<const KeySet>> BuildKeys(const std::string& file_text) const;
  // Re-reads the key set file when due; keeps the old keys (and logs) when it is unusable.
  void MaybeReload() const;
  absl::StatusOr<std::shared_ptr<const Verified>> Decode(const std::string& token, const KeySet& keys) const;

  Config config_;
  const Clock* clock_;
  std::shared_ptr<State> state_;
};

struct MintRequest {
  std::string algorithm = "HS256";
  std::string signing_key;  // HS256 secret, or RS256/ES256 private key PEM
  std::string kid;          // header kid; empty: derived from an RS256/ES256 key, none for HS256
  std::string issuer = "supervision-mesh";
  std::string audience = "supervision-mesh";
  Principal principal;
  std::chrono::seconds ttl{8 * 3600};
  TimePoint now{};  // default: the system clock
};

// Signs a token for `req.principal`. Used by the development minter (smctl login --dev),
// services' own identities and tests. Errors: INVALID_ARGUMENT for a bad key/algorithm.
absl::StatusOr<std::string> Mint(const MintRequest& req);

// A service's own identity towards the services it calls: its `service` token (sub = the
// service name), signed ES256 with its own private key. The key file is re-read when it
// changes (checked at most every `reload_interval`), so the key is rotated by replacing the
// file: the next token carries the new key's kid, with no restart.
class ServiceIdentity {
 public:
  struct Options {
    std::string name;      // "audit-service"
    std::string key_file;  // PEM private key (P-256); empty: key_pem
    std::string key_pem;
    std::chrono::seconds ttl{600};
    std::chrono::milliseconds reload_interval{1000};
    std::string issuer = "supervision-mesh";
    std::string audience = "supervision-mesh";
  };
  // Errors: INVALID_ARGUMENT when the key cannot be read or is not a P-256 private key.
  static absl::StatusOr<std::shared_ptr<ServiceIdentity>> Create(Options options,
                                                                 const Clock& clock = SystemClock::Default());
  // A valid token: the one in hand until half its lifetime has passed or the key changed.
  // Never fails once created (a key file that turns unreadable keeps the old key; logged).
  std::string Token();
  std::string kid();
  // ES256 signature (hex, common/signature.h) of `bytes` with the key in force, and that
  // key's kid. Errors: INTERNAL when OpenSSL fails.
  struct Signature {
    std::string kid;
    std::string signature;
  };
  absl::StatusOr<Signature> Sign(std::string_view bytes);
  // The public half (PEM) of the key in force: what verifies this service's signatures.
  std::string public_pem();

 private:
  ServiceIdentity(Options options, const Clock& clock) : options_(std::move(options)), clock_(&clock) {}
  absl::Status Load(const std::string& pem);
  Options options_;
  const Clock* clock_;
  std::mutex mu_;
  std::string pem_;
  std::string kid_;
  std::string token_;
  TimePoint renew_at_{};
  TimePoint next_reload_{};
};

// The development keys: people's tokens signed HS256 with kDevelopmentSecret (no kid), and
// any service's token signed ES256 with kDevelopmentServiceKey. Only a service in
// `mode: development` (loopback only) accepts them.
std::vector<Key> DevelopmentKeys();

// The development HS256 secret used by the local stack and tests. Development only.
inline constexpr std::string_view kDevelopmentSecret =
    "DEVELOPMENT-ONLY-supervision-mesh-hs256-secret-do-not-use-in-production";

// The development P-256 private key every service signs its `service` token with in
// development mode. Published here, so it proves nothing: development only.
inline constexpr std::string_view kDevelopmentServiceKey =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgQgD+7LGYFMrYZAUI\n"
    "T9Z7FVqI4f9e9osLzse06FXrYG2hRANCAARtqeAFiSVoVmtxkuKOEnk6+f7mF2Ws\n"
    "eoPi0AaLObU+V6BbbElg5wiLCK1U6iqRij4dw7uMGKJ/0ZwBjZsjliHR\n"
    "-----END PRIVATE KEY-----\n";

// A MintRequest for `p` with the development keys: the service key when `p` is a service
// (roles = [service]), the development secret otherwise. Development and tests only.
MintRequest DevelopmentMint(const Principal& p, std::chrono::seconds ttl = std::chrono::hours(8));

// PERMISSION_DENIED unless `p` has one of `roles`; the message names the roles needed.
absl::Status RequireAnyRole(const Principal& p, std::initializer_list<std::string_view> roles);
// PERMISSION_DENIED "<method> is for oversight only" unless `p` has the oversight role.
absl::Status RequireOversight(const Principal& p, std::string_view method);

}  // namespace sm::auth
