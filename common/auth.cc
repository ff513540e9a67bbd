#include "common/auth.h"

#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <memory>

#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <yaml-cpp/yaml.h>

#include "common/config.h"
#include "common/crypto.h"
#include "common/signature.h"
#include "common/log.h"
#include "common/status.h"

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

absl::Status Unauthenticated(const std::string& why) { return absl::UnauthenticatedError(why); }

}  // namespace

bool Principal::HasRole(std::string_view role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

PkeyPtr ReadPem(const std::string& pem, bool private_key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (!bio) return nullptr;
  return PkeyPtr(private_key ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                             : PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
}

bool IsP256(EVP_PKEY* key) {
  char group[64] = {0};
  size_t group_len = 0;
  return EVP_PKEY_get_base_id(key) == EVP_PKEY_EC &&
         EVP_PKEY_get_group_name(key, group, sizeof group, &group_len) == 1 && std::string(group) == "prime256v1";
}

// Decodes base64url without padding; nullopt for any character outside the alphabet.
std::optional<std::string> Base64UrlDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : in) {
    int v;
    if (ch >= 'A' && ch <= 'Z')
      v = ch - 'A';
    else if (ch >= 'a' && ch <= 'z')
      v = ch - 'a' + 26;
    else if (ch >= '0' && ch <= '9')
      v = ch - '0' + 52;
    else if (ch == '-')
      v = 62;
    else if (ch == '_')
      v = 63;
    else
      return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (bits >= 6) return std::nullopt;  // a lone trailing character cannot be whole bytes
  return out;
}

// Checks one key and fills in a derived kid. `where` names it in messages.
absl::Status CheckKey(Key& k, const std::string& where) {
  const jwt_alg_t alg = AlgFromName(k.algorithm);
  if (alg == JWT_ALG_INVAL) {
    return absl::InvalidArgumentError(where + ".algorithm must be HS256, RS256 or ES256, not '" + k.algorithm + "'");
  }
  if (k.vouches == Vouches::kService && k.service.empty()) {
    return absl::InvalidArgumentError(where + ": a service key names its service");
  }
  if (alg == JWT_ALG_HS256) {
    if (k.material.size() < 32) return absl::InvalidArgumentError(where + ": an HS256 secret needs at least 32 bytes");
    return absl::OkStatus();
  }
  // The key must parse, and be of the algorithm's type: an RSA key for RS256, a P-256 key
  // for ES256. A bad key fails start-up (or a reload), not every request later.
  PkeyPtr key = ReadPem(k.material, false);
  if (!key) return absl::InvalidArgumentError(where + ": " + k.algorithm + " needs a PEM public key");
  const int type = EVP_PKEY_get_base_id(key.get());
  if ((alg == JWT_ALG_RS256 && type != EVP_PKEY_RSA) || (alg == JWT_ALG_ES256 && !IsP256(key.get()))) {
    return absl::InvalidArgumentError(where + ": the key does not fit " + k.algorithm);
  }
  if (k.kid.empty()) {
    auto kid = KeyId(k.material);
    if (!kid.ok()) return kid.status();
    k.kid = *kid;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> KeyId(const std::string& pem) {
  PkeyPtr key = ReadPem(pem, pem.find("PRIVATE KEY") != std::string::npos);
  if (!key) return absl::InvalidArgumentError("not a PEM key");
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key.get(), &der);
  if (len <= 0) return absl::InvalidArgumentError("cannot encode the public key");
  std::string bytes(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return "k-" + crypto::Sha256Hex(bytes).substr(0, 16);
}

absl::StatusOr<std::vector<Key>> ParseKeySet(const std::string& yaml, const std::string& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(std::string("key set: ") + e.what());
  }
  if (!root.IsMap() || !root["keys"] || !root["keys"].IsSequence()) {
    return absl::InvalidArgumentError("key set: needs a list 'keys'");
  }
  auto file = [&](const std::string& name) {
    return !name.empty() && name[0] != '/' && !base_dir.empty() ? base_dir + "/" + name : name;
  };
  std::vector<Key> keys;
  int i = 0;
  for (const auto& n : root["keys"]) {
    const std::string where = "keys[" + std::to_string(i++) + "]";
    if (!n.IsMap()) return absl::InvalidArgumentError(where + ": must be a map");
    auto get = [&](const char* field) { return n[field] && n[field].IsScalar() ? n[field].as<std::string>() : ""; };
    for (const auto& kv : n) {
      static const std::set<std::string> kKnown = {"kid",    "algorithm",   "public_key", "public_key_file",
                                                   "secret", "secret_file", "vouches_for"};
      if (!kKnown.count(kv.first.as<std::string>())) {
        return absl::InvalidArgumentError(where + "." + kv.first.as<std::string>() + ": unknown field");
      }
    }
    Key k;
    k.kid = get("kid");
    k.algorithm = get("algorithm");
    if (k.algorithm.empty()) return absl::InvalidArgumentError(where + ".algorithm: is required");
    const bool hs = k.algorithm == "HS256";
    const std::string inline_field = hs ? "secret" : "public_key";
    const std::string file_field = inline_field + "_file";
    k.material = get(inline_field.c_str());
    if (!get(file_field.c_str()).empty()) {
      auto text = config::ReadFileText(file(get(file_field.c_str())));
      if (!text)
        return absl::InvalidArgumentError(where + "." + file_field + ": cannot read '" + file(get(file_field.c_str())) +
                                          "'");
      k.material = *text;
    }
    if (k.material.empty()) return absl::InvalidArgumentError(where + ": give " + inline_field + " or " + file_field);
    const std::string vouches = get("vouches_for");
    if (vouches == "people") {
      k.vouches = Vouches::kPeople;
    } else if (vouches.rfind("service:", 0) == 0 && vouches.size() > 8) {
      k.vouches = Vouches::kService;
      k.service = vouches.substr(8);
    } else {
      return absl::InvalidArgumentError(where + ".vouches_for: must be 'people' or 'service:<name>'");
    }
    SM_RETURN_IF_ERROR(CheckKey(k, where));
    keys.push_back(std::move(k));
  }
  return keys;
}

std::vector<Key> DevelopmentKeys() {
  Key people{.kid = "",
             .algorithm = "HS256",
             .material = std::string(kDevelopmentSecret),
             .vouches = Vouches::kPeople,
             .service = ""};
  Key services{.kid = "", .algorithm = "ES256", .material = "", .vouches = Vouches::kService, .service = "*"};
  PkeyPtr key = ReadPem(std::string(kDevelopmentServiceKey), true);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (key && bio && PEM_write_bio_PUBKEY(bio.get(), key.get()) == 1) {
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    services.material.assign(data, static_cast<size_t>(len));
  }
  services.kid = KeyId(services.material).value_or("");
  return {people, services};
}

absl::StatusOr<Verifier> Verifier::Create(Config config, const Clock& clock) {
  for (size_t i = 0; i < config.keys.size(); ++i) {
    SM_RETURN_IF_ERROR(CheckKey(config.keys[i], "auth.keys[" + std::to_string(i) + "]"));
  }
  Verifier v(std::move(config), clock);
  std::string text;
  if (!v.config_.keys_file.empty()) {
    auto read = config::ReadFileText(v.config_.keys_file);
    if (!read) return absl::InvalidArgumentError("auth.keys_file: cannot read '" + v.config_.keys_file + "'");
    text = *read;
  }
  auto keys = v.BuildKeys(text);
  if (!keys.ok()) return keys.status();
  v.state_->keys = *keys;
  v.state_->file_text = text;
  v.state_->next_reload = clock.Now() + v.config_.reload_interval;
  return v;
}

absl::StatusOr<std::shared_ptr<const Verifier::KeySet>> Verifier::BuildKeys(const std::string& file_text) const {
  auto set = std::make_shared<KeySet>();
  std::vector<Key> all = config_.keys;
  if (!config_.keys_file.empty()) {
    const auto slash = config_.keys_file.rfind('/');
    auto from_file = ParseKeySet(file_text, slash == std::string::npos ? "" : config_.keys_file.substr(0, slash));
    if (!from_file.ok()) {
      return absl::InvalidArgumentError("auth.keys_file '" + config_.keys_file +
                                        "': " + std::string(from_file.status().message()));
    }
    all.insert(all.end(), from_file->begin(), from_file->end());
  }
  if (all.empty())
    return absl::InvalidArgumentError("auth: no verification key (set auth.keys_file or auth.verify_key)");
  for (auto& k : all) {
    const std::string kid = k.kid;
    if (!set->by_kid.emplace(kid, std::move(k)).second) {
      return absl::InvalidArgumentError("auth: two keys with kid '" + kid + "'");
    }
  }
  return std::shared_ptr<const KeySet>(std::move(set));
}

void Verifier::MaybeReload() const {
  if (config_.keys_file.empty()) return;
  const TimePoint now = clock_->Now();
  {
    std::lock_guard lock(state_->mu);
    if (now < state_->next_reload) return;
    state_->next_reload = now + config_.reload_interval;
  }
  auto text = config::ReadFileText(config_.keys_file);
  if (!text) {
    log::Warn("key set file unreadable; keeping the keys in force", {{"file", config_.keys_file}});
    return;
  }
  {
    std::lock_guard lock(state_->mu);
    if (*text == state_->file_text) return;
  }
  auto keys = BuildKeys(*text);
  if (!keys.ok()) {
    log::Warn("key set file unusable; keeping the keys in force",
              {{"file", config_.keys_file}, {"error", std::string(keys.status().message())}});
    return;
  }
  std::lock_guard lock(state_->mu);
  state_->keys = *keys;
  state_->file_text = *text;
  state_->seen.clear();  // a token whose key was withdrawn must not stay accepted
  log::Info("key set reloaded", {{"file", config_.keys_file}, {"keys", (*keys)->by_kid.size()}});
}

std::optional<std::string> Verifier::ServiceKey(const std::string& kid, const std::string& service) const {
  MaybeReload();
  std::shared_ptr<const KeySet> keys;
  {
    std::lock_guard lock(state_->mu);
    keys = state_->keys;
  }
  if (!keys) return std::nullopt;
  auto it = keys->by_kid.find(kid);
  if (it == keys->by_kid.end()) return std::nullopt;
  const Key& k = it->second;
  if (k.algorithm != "ES256" || k.vouches != Vouches::kService || (k.service != service && k.service != "*")) {
    return std::nullopt;
  }
  return k.material;
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
  MaybeReload();
  std::shared_ptr<const Verified> v;
  std::shared_ptr<const KeySet> keys;
  {
    std::lock_guard lock(state_->mu);
    if (auto it = state_->seen.find(token); it != state_->seen.end()) v = it->second;
    keys = state_->keys;
  }
  if (!v) {
    auto decoded = Decode(token, *keys);
    if (!decoded.ok()) return decoded.status();
    v = *std::move(decoded);
    std::lock_guard lock(state_->mu);
    if (state_->keys == keys) {  // not if the keys changed meanwhile
      if (state_->seen.size() >= kSeenLimit) state_->seen.clear();
      state_->seen.emplace(std::move(token), v);
    }
  }
  const int64_t now = ToUnixSeconds(clock_->Now());
  const int64_t leeway = config_.leeway.count();
  if (now > v->exp + leeway) return Unauthenticated("token expired");
  if (v->nbf && *v->nbf > now + leeway) return Unauthenticated("token not yet valid");
  return v->principal;
}

absl::StatusOr<std::shared_ptr<const Verifier::Verified>> Verifier::Decode(const std::string& token,
                                                                           const KeySet& keys) const {
  // The header picks the key; libjwt would otherwise trust the token's own alg.
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string::npos || token.find('.', dot2 + 1) != std::string::npos) {
    return Unauthenticated("invalid token");
  }
  auto header_text = Base64UrlDecode(std::string_view(token).substr(0, dot1));
  if (!header_text) return Unauthenticated("invalid token");
  auto header = nlohmann::json::parse(*header_text, nullptr, false);
  if (!header.is_object() || !header.contains("alg") || !header["alg"].is_string()) {
    return Unauthenticated("invalid token");
  }
  std::string kid;
  if (header.contains("kid")) {
    if (!header["kid"].is_string()) return Unauthenticated("invalid token");
    kid = header["kid"].get<std::string>();
  }
  auto found = keys.by_kid.find(kid);
  if (found == keys.by_kid.end()) return Unauthenticated("token signed by an unknown key");
  const Key& key = found->second;
  if (header["alg"].get<std::string>() != key.algorithm) return Unauthenticated("invalid token");
  if (key.algorithm == "HS256") {
    // libjwt compares HMACs with strcmp; check in constant time first, so it only ever
    // sees tokens whose signature is right.
    auto sig = Base64UrlDecode(std::string_view(token).substr(dot2 + 1));
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (!sig ||
        HMAC(EVP_sha256(), key.material.data(), static_cast<int>(key.material.size()),
             reinterpret_cast<const unsigned char*>(token.data()), dot2, mac, &mac_len) == nullptr ||
        sig->size() != mac_len || CRYPTO_memcmp(sig->data(), mac, mac_len) != 0) {
      return Unauthenticated("invalid token");
    }
  }
  jwt_t* raw = nullptr;
  const auto* material = reinterpret_cast<const unsigned char*>(key.material.data());
  if (jwt_decode(&raw, token.c_str(), material, static_cast<int>(key.material.size())) != 0 || raw == nullptr) {
    return Unauthenticated("invalid token");
  }
  JwtPtr jwt(raw);
  if (jwt_get_alg(jwt.get()) != AlgFromName(key.algorithm)) return Unauthenticated("invalid token");
  auto v = std::make_shared<Verified>();
  errno = 0;
  long exp = jwt_get_grant_int(jwt.get(), "exp");
  if (errno == ENOENT || exp <= 0) return Unauthenticated("token has no expiry");
  v->exp = exp;
  errno = 0;
  long iat = jwt_get_grant_int(jwt.get(), "iat");
  if (errno == ENOENT || iat <= 0) return Unauthenticated("token has no issue time");
  const int64_t now = ToUnixSeconds(clock_->Now());
  if (iat > now + config_.leeway.count()) return Unauthenticated("token issued in the future");
  if (exp - iat > config_.max_lifetime.count()) return Unauthenticated("token lifetime longer than allowed");
  errno = 0;
  long nbf = jwt_get_grant_int(jwt.get(), "nbf");
  if (errno != ENOENT) v->nbf = nbf;
  const char* iss = jwt_get_grant(jwt.get(), "iss");
  if (iss == nullptr || config_.issuer != iss) return Unauthenticated("token from another issuer");
  const char* aud = jwt_get_grant(jwt.get(), "aud");
  if (aud == nullptr || config_.audience != aud) return Unauthenticated("token for another audience");
  Principal& p = v->principal;
  p.expires_at = exp;
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
  // What the key may vouch for.
  if (key.vouches == Vouches::kPeople) {
    if (p.HasRole(kRoleService)) return Unauthenticated("this key does not vouch for services");
  } else {
    const bool only_service = p.roles.size() == 1 && p.roles[0] == kRoleService;
    if (!only_service || !p.unit.empty() || p.clearance != kClearanceNone ||
        (key.service != "*" && key.service != p.user)) {
      return Unauthenticated("this key vouches only for the service token of " + key.service);
    }
  }
  return std::shared_ptr<const Verified>(std::move(v));
}

absl::StatusOr<std::string> Mint(const MintRequest& req) {
  jwt_alg_t alg = AlgFromName(req.algorithm);
  if (alg == JWT_ALG_INVAL) return absl::InvalidArgumentError("unknown algorithm " + req.algorithm);
  if (req.signing_key.empty()) return absl::InvalidArgumentError("signing key is empty");
  std::string kid = req.kid;
  if (kid.empty() && alg != JWT_ALG_HS256) {
    auto derived = KeyId(req.signing_key);
    if (!derived.ok()) return absl::InvalidArgumentError("unusable signing key for " + req.algorithm);
    kid = *derived;
  }
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) return absl::InternalError("jwt_new failed");
  JwtPtr jwt(raw);
  const int64_t now = ToUnixSeconds(req.now == TimePoint{} ? std::chrono::system_clock::now() : req.now);
  nlohmann::json claims = {{"sub", req.principal.user},
                           {"unit", req.principal.unit},
                           {"roles", req.principal.roles},
                           {"clearance", req.principal.clearance},
                           {"iss", req.issuer},
                           {"aud", req.audience},
                           {"iat", now},
                           {"nbf", now},
                           {"exp", now + req.ttl.count()}};
  if (jwt_add_grants_json(jwt.get(), claims.dump().c_str()) != 0) {
    return absl::InvalidArgumentError("cannot encode claims");
  }
  if (!kid.empty() && jwt_add_header(jwt.get(), "kid", kid.c_str()) != 0) {
    return absl::InvalidArgumentError("cannot encode kid");
  }
  if (jwt_set_alg(jwt.get(), alg, reinterpret_cast<const unsigned char*>(req.signing_key.data()),
                  static_cast<int>(req.signing_key.size())) != 0) {
    return absl::InvalidArgumentError("unusable signing key for " + req.algorithm);
  }
  std::unique_ptr<char, CharDeleter> out(jwt_encode_str(jwt.get()));
  if (!out) return absl::InvalidArgumentError("cannot sign token with the given key");
  return std::string(out.get());
}

absl::StatusOr<std::shared_ptr<ServiceIdentity>> ServiceIdentity::Create(Options options, const Clock& clock) {
  if (options.name.empty()) return absl::InvalidArgumentError("identity: the service name is empty");
  auto id = std::shared_ptr<ServiceIdentity>(new ServiceIdentity(std::move(options), clock));
  std::string pem = id->options_.key_pem;
  if (!id->options_.key_file.empty()) {
    auto text = config::ReadFileText(id->options_.key_file);
    if (!text) return absl::InvalidArgumentError("identity.key_file: cannot read '" + id->options_.key_file + "'");
    pem = *text;
  }
  SM_RETURN_IF_ERROR(id->Load(pem));
  id->next_reload_ = clock.Now() + id->options_.reload_interval;
  return id;
}

absl::Status ServiceIdentity::Load(const std::string& pem) {
  PkeyPtr key = ReadPem(pem, true);
  if (!key || !IsP256(key.get())) {
    return absl::InvalidArgumentError("identity.key_file: needs a P-256 (ES256) private key in PEM");
  }
  auto kid = KeyId(pem);
  if (!kid.ok()) return kid.status();
  pem_ = pem;
  kid_ = *kid;
  token_.clear();  // the next Token() signs with this key
  return absl::OkStatus();
}

std::string ServiceIdentity::kid() {
  std::lock_guard lock(mu_);
  return kid_;
}

absl::StatusOr<ServiceIdentity::Signature> ServiceIdentity::Sign(std::string_view bytes) {
  std::string pem, kid;
  {
    std::lock_guard lock(mu_);
    pem = pem_;
    kid = kid_;
  }
  auto sig = crypto::SignEs256(pem, bytes);
  if (!sig.ok()) return sig.status();
  return Signature{std::move(kid), *std::move(sig)};
}

std::string ServiceIdentity::public_pem() {
  std::string pem;
  {
    std::lock_guard lock(mu_);
    pem = pem_;
  }
  return crypto::PublicKeyPem(pem).value_or("");
}

std::string ServiceIdentity::Token() {
  std::lock_guard lock(mu_);
  const TimePoint now = clock_->Now();
  if (!options_.key_file.empty() && now >= next_reload_) {
    next_reload_ = now + options_.reload_interval;
    auto text = config::ReadFileText(options_.key_file);
    if (text && *text != pem_) {
      absl::Status loaded = Load(*text);
      if (loaded.ok()) {
        log::Info("service key reloaded", {{"identity", options_.name}, {"kid", kid_}});
      } else {
        log::Warn("service key file unusable; keeping the key in force",
                  {{"file", options_.key_file}, {"error", std::string(loaded.message())}});
      }
    }
  }
  if (token_.empty() || now >= renew_at_) {
    MintRequest m;
    m.algorithm = "ES256";
    m.signing_key = pem_;
    m.kid = kid_;
    m.issuer = options_.issuer;
    m.audience = options_.audience;
    m.principal.user = options_.name;
    m.principal.roles = {std::string(kRoleService)};
    m.ttl = options_.ttl;
    m.now = now;
    auto t = Mint(m);
    if (!t.ok()) {
      log::Error("cannot sign the service token", {{"identity", options_.name}});
      return token_;
    }
    token_ = *t;
    renew_at_ = now + options_.ttl / 2;
  }
  return token_;
}

MintRequest DevelopmentMint(const Principal& p, std::chrono::seconds ttl) {
  MintRequest m;
  m.principal = p;
  m.ttl = ttl;
  if (p.HasRole(kRoleService)) {
    m.algorithm = "ES256";
    m.signing_key = std::string(kDevelopmentServiceKey);
  } else {
    m.algorithm = "HS256";
    m.signing_key = std::string(kDevelopmentSecret);
  }
  return m;
}

absl::Status RequireAnyRole(const Principal& p, std::initializer_list<std::string_view> roles) {
  for (auto r : roles) {
    if (p.HasRole(r)) return absl::OkStatus();
  }
  std::string need;
  for (auto r : roles) need += (need.empty() ? "" : " or ") + std::string(r);
  return absl::PermissionDeniedError("requires role " + need);
}

absl::Status RequireOversight(const Principal& p, std::string_view method) {
  if (p.HasRole(kRoleOversight)) return absl::OkStatus();
  return absl::PermissionDeniedError(std::string(method) + " is for oversight only");
}

}  // namespace sm::auth
