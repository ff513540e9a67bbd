#include "common/auth.h"

#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <memory>

#include <nlohmann/json.hpp>

namespace sm::auth {
namespace {

struct JwtDeleter {
  void operator()(jwt_t* j) const { jwt_free(j); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtDeleter>;

struct CharDeleter {
  void operator()(char* p) const { std::free(p); }
};

jwt_alg_t AlgFromName(const std::string& name) {
  if (name == "HS256") return JWT_ALG_HS256;
  if (name == "RS256") return JWT_ALG_RS256;
  if (name == "ES256") return JWT_ALG_ES256;
  return JWT_ALG_INVAL;
}

absl::Status Unauthenticated(const std::string& why) {
  return absl::UnauthenticatedError(why);
}

}  // namespace

bool Principal::HasRole(std::string_view role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

absl::StatusOr<Verifier> Verifier::Create(Config config, const Clock& clock) {
  jwt_alg_t alg = AlgFromName(config.algorithm);
  if (alg == JWT_ALG_INVAL) {
    return absl::InvalidArgumentError("auth.algorithm must be HS256, RS256 or ES256, not '" +
                                      config.algorithm + "'");
  }
  if (alg == JWT_ALG_HS256 && config.verify_key.size() < 32) {
    return absl::InvalidArgumentError("auth.verify_key: an HS256 secret needs at least 32 bytes");
  }
  if (alg != JWT_ALG_HS256) {
    // The key must parse, and be of the algorithm's type: an RSA key for RS256, a P-256 key
    // for ES256. A bad key fails start-up, not every request later.
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(config.verify_key.data(), static_cast<int>(config.verify_key.size())), &BIO_free);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr, &EVP_PKEY_free);
    if (!key) {
      return absl::InvalidArgumentError("auth.verify_key: " + config.algorithm + " needs a PEM public key");
    }
    const int type = EVP_PKEY_get_base_id(key.get());
    char group[64] = {0};
    size_t group_len = 0;
    const bool p256 = type == EVP_PKEY_EC &&
                      EVP_PKEY_get_group_name(key.get(), group, sizeof group, &group_len) == 1 &&
                      std::string(group) == "prime256v1";
    if ((alg == JWT_ALG_RS256 && type != EVP_PKEY_RSA) || (alg == JWT_ALG_ES256 && !p256)) {
      return absl::InvalidArgumentError("auth.verify_key: the key does not fit " + config.algorithm);
    }
  }
  return Verifier(std::move(config), clock);
}

absl::StatusOr<Principal> Verifier::Verify(std::string_view authorization) const {
  if (authorization.empty()) return Unauthenticated("missing bearer token");
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), authorization.begin(),
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
    return Unauthenticated("authorization must be 'Bearer <token>'");
  }
  std::string token(authorization.substr(kBearer.size()));
  if (token.size() > 8192) return Unauthenticated("token too large");
  std::shared_ptr<const Verified> v;
  {
    std::lock_guard lock(seen_->mu);
    if (auto it = seen_->tokens.find(token); it != seen_->tokens.end()) v = it->second;
  }
  if (!v) {
    auto decoded = Decode(token);
    if (!decoded.ok()) return decoded.status();
    v = *std::move(decoded);
    std::lock_guard lock(seen_->mu);
    if (seen_->tokens.size() >= kSeenLimit) seen_->tokens.clear();
    seen_->tokens.emplace(std::move(token), v);
  }
  const int64_t now = ToUnixSeconds(clock_->Now());
  const int64_t leeway = config_.leeway.count();
  if (now > v->exp + leeway) return Unauthenticated("token expired");
  if (v->nbf && *v->nbf > now + leeway) return Unauthenticated("token not yet valid");
  return v->principal;
}

absl::StatusOr<std::shared_ptr<const Verifier::Verified>> Verifier::Decode(const std::string& token) const {
  jwt_t* raw = nullptr;
  const auto* key = reinterpret_cast<const unsigned char*>(config_.verify_key.data());
  if (jwt_decode(&raw, token.c_str(), key, static_cast<int>(config_.verify_key.size())) != 0 ||
      raw == nullptr) {
    return Unauthenticated("invalid token");
  }
  JwtPtr jwt(raw);
  // libjwt verifies with whatever algorithm the token names: insist on ours.
  if (jwt_get_alg(jwt.get()) != AlgFromName(config_.algorithm)) {
    return Unauthenticated("invalid token");
  }
  auto v = std::make_shared<Verified>();
  errno = 0;
  long exp = jwt_get_grant_int(jwt.get(), "exp");
  if (errno == ENOENT || exp <= 0) return Unauthenticated("token has no expiry");
  v->exp = exp;
  errno = 0;
  long nbf = jwt_get_grant_int(jwt.get(), "nbf");
  if (errno != ENOENT) v->nbf = nbf;
  const char* iss = jwt_get_grant(jwt.get(), "iss");
  if (iss == nullptr || config_.issuer != iss) return Unauthenticated("token from another issuer");
  const char* aud = jwt_get_grant(jwt.get(), "aud");
  if (aud == nullptr || config_.audience != aud) return Unauthenticated("token for another audience");
  Principal& p = v->principal;
  const char* sub = jwt_get_grant(jwt.get(), "sub");
  if (sub == nullptr || *sub == '\0') return Unauthenticated("token has no subject");
  p.user = sub;
  if (const char* unit = jwt_get_grant(jwt.get(), "unit")) p.unit = unit;
  errno = 0;
  long clearance = jwt_get_grant_int(jwt.get(), "clearance");
  if (errno != ENOENT) p.clearance = static_cast<int>(std::clamp<long>(clearance, 0, kClearanceSecret));
  std::unique_ptr<char, CharDeleter> roles_json(jwt_get_grants_json(jwt.get(), "roles"));
  if (roles_json) {
    auto roles = nlohmann::json::parse(roles_json.get(), nullptr, false);
    if (!roles.is_array()) return Unauthenticated("token roles must be an array");
    for (const auto& r : roles) {
      if (!r.is_string()) return Unauthenticated("token roles must be strings");
      p.roles.push_back(r.get<std::string>());
    }
  }
  return std::shared_ptr<const Verified>(std::move(v));
}

absl::StatusOr<std::string> Mint(const MintRequest& req) {
  jwt_alg_t alg = AlgFromName(req.algorithm);
  if (alg == JWT_ALG_INVAL) return absl::InvalidArgumentError("unknown algorithm " + req.algorithm);
  if (req.signing_key.empty()) return absl::InvalidArgumentError("signing key is empty");
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) return absl::InternalError("jwt_new failed");
  JwtPtr jwt(raw);
  const int64_t now = ToUnixSeconds(req.now == TimePoint{} ? std::chrono::system_clock::now() : req.now);
  nlohmann::json claims = {
      {"sub", req.principal.user}, {"unit", req.principal.unit},
      {"roles", req.principal.roles}, {"clearance", req.principal.clearance},
      {"iss", req.issuer}, {"aud", req.audience},
      {"iat", now}, {"nbf", now}, {"exp", now + req.ttl.count()}};
  if (jwt_add_grants_json(jwt.get(), claims.dump().c_str()) != 0) {
    return absl::InvalidArgumentError("cannot encode claims");
  }
  if (jwt_set_alg(jwt.get(), alg, reinterpret_cast<const unsigned char*>(req.signing_key.data()),
                  static_cast<int>(req.signing_key.size())) != 0) {
    return absl::InvalidArgumentError("unusable signing key for " + req.algorithm);
  }
  std::unique_ptr<char, CharDeleter> out(jwt_encode_str(jwt.get()));
  if (!out) return absl::InvalidArgumentError("cannot sign token with the given key");
  return std::string(out.get());
}

absl::Status RequireAnyRole(const Principal& p, std::initializer_list<std::string_view> roles) {
  for (auto r : roles) {
    if (p.HasRole(r)) return absl::OkStatus();
  }
  std::string need;
  for (auto r : roles) need += (need.empty() ? "" : " or ") + std::string(r);
  return absl::PermissionDeniedError("requires role " + need);
}

}  // namespace sm::auth
