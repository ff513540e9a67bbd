// Tests for common/auth.h: JWT verification (libjwt) with every way a token can be wrong,
// including algorithm confusion and `alg: none`, minting, and role checks. Time comes from
// a FakeClock; RSA and EC keys are generated at test time with OpenSSL's EVP interface.
#include "common/auth.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/clock.h"

namespace sm::auth {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

const TimePoint kT0 = FromUnixSeconds(1'700'000'000);
const std::string kSecret(kDevelopmentSecret);
const std::string kOtherSecret = "another-secret-of-at-least-32-bytes-length!";

// --- helpers ------------------------------------------------------------------------------

struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

struct KeyPair {
  std::string public_pem;   // -----BEGIN PUBLIC KEY-----
  std::string private_pem;  // -----BEGIN PRIVATE KEY----- (PKCS#8)
};

KeyPair PemPair(EVP_PKEY* key) {
  KeyPair out;
  std::unique_ptr<BIO, BioDeleter> pub(BIO_new(BIO_s_mem()));
  EXPECT_EQ(PEM_write_bio_PUBKEY(pub.get(), key), 1);
  out.public_pem = BioText(pub.get());
  std::unique_ptr<BIO, BioDeleter> priv(BIO_new(BIO_s_mem()));
  EXPECT_EQ(PEM_write_bio_PrivateKey(priv.get(), key, nullptr, nullptr, 0, nullptr, nullptr), 1);
  out.private_pem = BioText(priv.get());
  return out;
}

KeyPair NewRsaKey() {
  std::unique_ptr<EVP_PKEY, PkeyDeleter> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  EXPECT_NE(key, nullptr);
  return key ? PemPair(key.get()) : KeyPair{};
}

KeyPair NewEcKey() {
  std::unique_ptr<EVP_PKEY, PkeyDeleter> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  EXPECT_NE(key, nullptr);
  return key ? PemPair(key.get()) : KeyPair{};
}

std::string Base64Url(std::string_view in) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(n >> s) & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
  } else if (i + 2 == in.size()) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
  }
  return out;
}

// A token built by hand: base64url(header).base64url(payload).signature, where the
// signature is an HMAC with `md` over the first two parts, or empty when `secret` is empty.
std::string HandToken(const nlohmann::json& header, const nlohmann::json& payload, const std::string& secret,
                      const EVP_MD* md = EVP_sha256()) {
  std::string signing_input = Base64Url(header.dump()) + "." + Base64Url(payload.dump());
  std::string sig;
  if (!secret.empty()) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(md, secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac, &len);
    sig = Base64Url(std::string_view(reinterpret_cast<const char*>(mac), len));
  }
  return signing_input + "." + sig;
}

// The claims Mint would write for a valid token at kT0.
nlohmann::json ValidClaims() {
  const int64_t now = ToUnixSeconds(kT0);
  return {{"sub", "u-1"},
          {"unit", "unit-1"},
          {"roles", {"staff"}},
          {"clearance", 1},
          {"iss", "supervision-mesh"},
          {"aud", "supervision-mesh"},
          {"iat", now},
          {"nbf", now},
          {"exp", now + 3600}};
}

Principal Alice() {
  Principal p;
  p.user = "alice";
  p.unit = "0190f0e0-0000-7000-8000-000000000001";
  p.roles = {"staff", "discipline"};
  p.clearance = kClearanceConfidential;
  return p;
}

MintRequest Hs256Request(const Principal& p = Alice()) {
  MintRequest req;
  req.algorithm = "HS256";
  req.signing_key = kSecret;
  req.principal = p;
  req.ttl = std::chrono::hours(1);
  req.now = kT0;
  return req;
}

std::string MustMint(const MintRequest& req) {
  auto token = Mint(req);
  EXPECT_TRUE(token.ok()) << token.status();
  return token.ok() ? *token : "";
}

class AuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new KeyPair(NewRsaKey());
    other_rsa_ = new KeyPair(NewRsaKey());
    ec_ = new KeyPair(NewEcKey());
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete other_rsa_;
    delete ec_;
  }

  Verifier MakeVerifier(const std::string& alg, const std::string& key) {
    Config config;
    config.keys = {Key{.algorithm = alg, .material = key}};
    auto v = Verifier::Create(config, clock_);
    EXPECT_TRUE(v.ok()) << v.status();
    return *std::move(v);
  }
  Verifier Hs256() { return MakeVerifier("HS256", kSecret); }
  Verifier Rs256() { return MakeVerifier("RS256", rsa_->public_pem); }

  // Expects UNAUTHENTICATED whose message does not echo the token.
  void ExpectRejected(const Verifier& v, const std::string& token) {
    auto p = v.Verify("Bearer " + token);
    ASSERT_FALSE(p.ok()) << "accepted for user " << p->user;
    EXPECT_EQ(p.status().code(), absl::StatusCode::kUnauthenticated) << p.status();
    if (token.size() > 8) {
      EXPECT_THAT(std::string(p.status().message()), Not(HasSubstr(token)));
    }
  }

  FakeClock clock_{kT0};
  static KeyPair* rsa_;
  static KeyPair* other_rsa_;
  static KeyPair* ec_;
};
KeyPair* AuthTest::rsa_ = nullptr;
KeyPair* AuthTest::other_rsa_ = nullptr;
KeyPair* AuthTest::ec_ = nullptr;

// --- valid tokens -------------------------------------------------------------------------

TEST_F(AuthTest, ValidHs256TokenGivesThePrincipal) {
  Verifier v = Hs256();
  auto p = v.Verify("Bearer " + MustMint(Hs256Request()));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->user, "alice");
  EXPECT_EQ(p->unit, "0190f0e0-0000-7000-8000-000000000001");
  EXPECT_THAT(p->roles, ElementsAre("staff", "discipline"));
  EXPECT_EQ(p->clearance, kClearanceConfidential);
  EXPECT_TRUE(p->on_behalf_of.empty());
  EXPECT_EQ(p->EndUser(), "alice");
}

TEST_F(AuthTest, BearerSchemeIsCaseInsensitive) {
  Verifier v = Hs256();
  const std::string token = MustMint(Hs256Request());
  EXPECT_TRUE(v.Verify("bearer " + token).ok());
  EXPECT_TRUE(v.Verify("BEARER " + token).ok());
}

TEST_F(AuthTest, HandMadeTokenWithTheSameClaimsIsAccepted) {
  // Guards the helpers below: a correct hand-made token passes, so their rejections count.
  auto p = Hs256().Verify("Bearer " + HandToken({{"alg", "HS256"}, {"typ", "JWT"}}, ValidClaims(), kSecret));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->user, "u-1");
  EXPECT_THAT(p->roles, ElementsAre("staff"));
  EXPECT_EQ(p->clearance, kClearanceInternal);
}

TEST_F(AuthTest, MintWithoutNowUsesTheSystemClock) {
  MintRequest req = Hs256Request();
  req.now = TimePoint{};
  auto v = Verifier::Create(Config{.keys = {Key{.material = kSecret}}});
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->Verify("Bearer " + MustMint(req)).ok());
}

TEST_F(AuthTest, ClearanceIsClampedToTheKnownLevels) {
  Verifier v = Hs256();
  Principal p = Alice();
  p.clearance = 9;
  EXPECT_EQ(v.Verify("Bearer " + MustMint(Hs256Request(p)))->clearance, kClearanceSecret);
  p.clearance = -4;
  EXPECT_EQ(v.Verify("Bearer " + MustMint(Hs256Request(p)))->clearance, kClearanceNone);
}

TEST_F(AuthTest, NoRolesIsAnEmptyList) {
  Principal p = Alice();
  p.roles.clear();
  auto got = Hs256().Verify("Bearer " + MustMint(Hs256Request(p)));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->roles.empty());
}

// --- malformed authorization --------------------------------------------------------------

TEST_F(AuthTest, MissingOrMalformedAuthorizationIsUnauthenticated) {
  Verifier v = Hs256();
  const std::string token = MustMint(Hs256Request());
  for (const std::string& auth :
       {std::string(""), std::string("Bearer"), std::string("Bearer "), "Basic " + token, "Token " + token, token,
        "Bearer: " + token, std::string("Bearer garbage"), std::string("Bearer a.b.c"), std::string("Bearer ...."),
        "Bearer " + token + "x", "Bearer " + std::string(9000, 'a')}) {
    SCOPED_TRACE(auth.substr(0, 40));
    auto p = v.Verify(auth);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_THAT(std::string(p.status().message()), Not(HasSubstr(token)));
  }
}

// --- forged, stale and foreign tokens -----------------------------------------------------

TEST_F(AuthTest, WrongSignatureIsRejected) {
  MintRequest req = Hs256Request();
  req.signing_key = kOtherSecret;
  ExpectRejected(Hs256(), MustMint(req));
}

TEST_F(AuthTest, TamperedPayloadIsRejected) {
  const std::string token = MustMint(Hs256Request());
  size_t dot1 = token.find('.');
  size_t dot2 = token.find('.', dot1 + 1);
  nlohmann::json claims = ValidClaims();
  claims["sub"] = "mallory";
  claims["roles"] = {"admin"};
  std::string forged = token.substr(0, dot1 + 1) + Base64Url(claims.dump()) + token.substr(dot2);
  ExpectRejected(Hs256(), forged);
}

TEST_F(AuthTest, ExpiryIsCheckedWithLeeway) {
  Verifier v = Hs256();                                // leeway 30 s
  const std::string token = MustMint(Hs256Request());  // exp = kT0 + 1 h
  clock_.Set(kT0 + std::chrono::hours(1) + std::chrono::seconds(30));
  EXPECT_TRUE(v.Verify("Bearer " + token).ok()) << "inside the leeway";
  clock_.Set(kT0 + std::chrono::hours(1) + std::chrono::seconds(31));
  auto p = v.Verify("Bearer " + token);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("expired"));
}

TEST_F(AuthTest, ARememberedTokenStillExpiresAndOthersAreStillChecked) {
  Verifier v = Hs256();
  const std::string token = MustMint(Hs256Request());  // exp = kT0 + 1 h
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(v.Verify("Bearer " + token).ok());
  Verifier copy = v;  // copies share what was verified
  EXPECT_TRUE(copy.Verify("Bearer " + token).ok());
  clock_.Set(kT0 + std::chrono::hours(2));
  auto p = v.Verify("Bearer " + token);
  ASSERT_FALSE(p.ok()) << "a token verified before is still checked for expiry";
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("expired"));
  clock_.Set(kT0);
  // A token differing in one signature character is verified from scratch, and refused.
  std::string forged = token;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  ExpectRejected(v, forged);
  EXPECT_TRUE(v.Verify("Bearer " + token).ok());
  // Many different tokens: the memory is bounded, and every one still verifies.
  MintRequest req = Hs256Request();
  for (int i = 0; i < 5000; ++i) {
    req.principal.user = "user-" + std::to_string(i);
    auto got = v.Verify("Bearer " + MustMint(req));
    ASSERT_TRUE(got.ok()) << i;
    ASSERT_EQ(got->user, req.principal.user);
  }
  EXPECT_TRUE(v.Verify("Bearer " + token).ok());
}

TEST_F(AuthTest, NotYetValidIsRejected) {
  Verifier v = Hs256();
  nlohmann::json claims = ValidClaims();
  claims["nbf"] = ToUnixSeconds(kT0) + 600;  // ten minutes ahead of the verifier
  auto p = v.Verify("Bearer " + HandToken({{"alg", "HS256"}, {"typ", "JWT"}}, claims, kSecret));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("not yet valid"));

  MintRequest req = Hs256Request();
  req.now = kT0 + std::chrono::seconds(20);  // clock skew inside the leeway
  EXPECT_TRUE(v.Verify("Bearer " + MustMint(req)).ok());
}

TEST_F(AuthTest, WrongIssuerOrAudienceIsRejected) {
  MintRequest req = Hs256Request();
  req.issuer = "someone-else";
  ExpectRejected(Hs256(), MustMint(req));
  req = Hs256Request();
  req.audience = "another-system";
  ExpectRejected(Hs256(), MustMint(req));
}

TEST_F(AuthTest, TokenWithoutExpiryIsRejected) {
  nlohmann::json claims = ValidClaims();
  claims.erase("exp");
  ExpectRejected(Hs256(), HandToken({{"alg", "HS256"}, {"typ", "JWT"}}, claims, kSecret));
  claims["exp"] = "never";
  ExpectRejected(Hs256(), HandToken({{"alg", "HS256"}, {"typ", "JWT"}}, claims, kSecret));
  claims["exp"] = 0;
  ExpectRejected(Hs256(), HandToken({{"alg", "HS256"}, {"typ", "JWT"}}, claims, kSecret));
}

TEST_F(AuthTest, MissingClaimsAreRejected) {
  for (const char* claim : {"sub", "iss", "aud"}) {
    SCOPED_TRACE(claim);
    nlohmann::json claims = ValidClaims();
    claims.erase(claim);
    ExpectRejected(Hs256(), HandToken({{"alg", "HS256"}, {"typ", "JWT"}}, claims, kSecret));
  }
}

TEST_F(AuthTest, RolesMustBeAnArrayOfStrings) {
  nlohmann::json claims = ValidClaims();
  claims["roles"] = "admin";
  ExpectRejected(Hs256(), HandToken({{"alg", "HS256"}, {"typ", "JWT"}}, claims, kSecret));
  claims["roles"] = {"staff", 7};
  ExpectRejected(Hs256(), HandToken({{"alg", "HS256"}, {"typ", "JWT"}}, claims, kSecret));
}

TEST_F(AuthTest, AnotherHmacAlgorithmIsRejected) {
  // Correctly signed with the right secret, but HS512 is not the configured algorithm.
  ExpectRejected(Hs256(), HandToken({{"alg", "HS512"}, {"typ", "JWT"}}, ValidClaims(), kSecret, EVP_sha512()));
}

// --- algorithm confusion ------------------------------------------------------------------

TEST_F(AuthTest, Rs256TokenSignedWithThePrivateKeyIsAccepted) {
  MintRequest req = Hs256Request();
  req.algorithm = "RS256";
  req.signing_key = rsa_->private_pem;
  auto p = Rs256().Verify("Bearer " + MustMint(req));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->user, "alice");
  EXPECT_THAT(p->roles, ElementsAre("staff", "discipline"));
}

TEST_F(AuthTest, Rs256TokenFromAnotherKeyIsRejected) {
  MintRequest req = Hs256Request();
  req.algorithm = "RS256";
  req.signing_key = other_rsa_->private_pem;
  ExpectRejected(Rs256(), MustMint(req));
}

TEST_F(AuthTest, Hs256TokenKeyedWithThePublicKeyIsRejectedByAnRs256Verifier) {
  // The classic confusion: libjwt would verify this HMAC with the PEM text as the secret.
  MintRequest req = Hs256Request();
  req.algorithm = "HS256";
  req.signing_key = rsa_->public_pem;
  const std::string token = MustMint(req);
  ExpectRejected(Rs256(), token);

  // Same with a token made by hand, in case Mint ever refuses such a key.
  ExpectRejected(Rs256(), HandToken({{"alg", "HS256"}, {"typ", "JWT"}}, ValidClaims(), rsa_->public_pem));
}

TEST_F(AuthTest, AlgNoneIsRejected) {
  const std::string token = HandToken({{"alg", "none"}, {"typ", "JWT"}}, ValidClaims(), "");
  ASSERT_EQ(token.back(), '.');
  ExpectRejected(Hs256(), token);
  ExpectRejected(Rs256(), token);
  ExpectRejected(Hs256(), HandToken({{"alg", "None"}, {"typ", "JWT"}}, ValidClaims(), ""));
  ExpectRejected(Hs256(), token.substr(0, token.size() - 1));  // no trailing dot either
}

TEST_F(AuthTest, Es256RoundTrip) {
  MintRequest req = Hs256Request();
  req.algorithm = "ES256";
  req.signing_key = ec_->private_pem;
  Verifier v = MakeVerifier("ES256", ec_->public_pem);
  auto p = v.Verify("Bearer " + MustMint(req));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->user, "alice");
  // An RS256-signed token does not pass an ES256 verifier.
  req.algorithm = "RS256";
  req.signing_key = rsa_->private_pem;
  ExpectRejected(v, MustMint(req));
}

// --- Verifier::Create and Mint errors -----------------------------------------------------

absl::Status CreateWith(Key k) { return Verifier::Create(Config{.keys = {std::move(k)}}).status(); }

TEST_F(AuthTest, CreateRejectsShortSecretsAndUnknownAlgorithms) {
  EXPECT_EQ(CreateWith(Key{.material = std::string(31, 'k')}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(CreateWith(Key{.material = std::string(32, 'k')}).ok());
  EXPECT_EQ(CreateWith(Key{.material = ""}).code(), absl::StatusCode::kInvalidArgument);
  auto none = Verifier::Create(Config{});
  ASSERT_FALSE(none.ok()) << "no key at all";
  EXPECT_THAT(std::string(none.status().message()), HasSubstr("no verification key"));

  for (const char* alg : {"none", "HS512", "hs256", "RS512", "PS256", ""}) {
    SCOPED_TRACE(alg);
    absl::Status s = CreateWith(Key{.algorithm = alg, .material = kSecret});
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(s.message()), HasSubstr("algorithm"));
  }
}

TEST_F(AuthTest, CreateRejectsAPublicKeyAlgorithmWithoutAPublicKey) {
  // A shared secret where a PEM public key belongs; the private key by mistake.
  EXPECT_EQ(CreateWith(Key{.algorithm = "RS256", .material = kSecret}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateWith(Key{.algorithm = "RS256", .material = rsa_->private_pem}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(AuthTest, CreateRejectsAnUnusablePublicKey) {
  // Regression (fixed): a corrupt key (or an EC key configured for RS256) must fail start-up
  // with INVALID_ARGUMENT, not every request later with UNAUTHENTICATED.
  EXPECT_EQ(
      CreateWith(Key{.algorithm = "RS256", .material = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"})
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateWith(Key{.algorithm = "RS256", .material = ec_->public_pem}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(AuthTest, CreateRejectsTwoKeysWithOneKidAndAServiceKeyWithoutService) {
  auto v = Verifier::Create(
      Config{.keys = {Key{.kid = "a", .material = kSecret}, Key{.kid = "a", .material = kOtherSecret}}});
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(std::string(v.status().message()), HasSubstr("two keys with kid 'a'"));
  EXPECT_EQ(CreateWith(Key{.algorithm = "ES256", .material = ec_->public_pem, .vouches = Vouches::kService}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(AuthTest, MintErrors) {
  MintRequest req = Hs256Request();
  req.algorithm = "HS512";
  EXPECT_EQ(Mint(req).status().code(), absl::StatusCode::kInvalidArgument);
  req = Hs256Request();
  req.signing_key = "";
  EXPECT_EQ(Mint(req).status().code(), absl::StatusCode::kInvalidArgument);
  req = Hs256Request();
  req.algorithm = "RS256";
  req.signing_key = "not a pem key";
  EXPECT_EQ(Mint(req).status().code(), absl::StatusCode::kInvalidArgument);
}

// --- key sets: kid, bindings, rotation ---------------------------------------------------

class KeySetTest : public AuthTest {
 protected:
  // A people key (ES256, the identity provider) and audit-service's own key (ES256).
  void SetUp() override {
    idp_ = NewEcKey();
    audit_ = NewEcKey();
    clue_ = NewEcKey();
  }
  Verifier Make() {
    auto v = Verifier::Create(
        Config{.keys = {Key{.algorithm = "ES256", .material = idp_.public_pem, .vouches = Vouches::kPeople},
                        Key{.algorithm = "ES256",
                            .material = audit_.public_pem,
                            .vouches = Vouches::kService,
                            .service = "audit-service"}}},
        clock_);
    EXPECT_TRUE(v.ok()) << v.status();
    return *std::move(v);
  }
  static MintRequest Signed(const KeyPair& key, Principal p) {
    MintRequest req;
    req.algorithm = "ES256";
    req.signing_key = key.private_pem;
    req.principal = std::move(p);
    req.ttl = std::chrono::minutes(10);
    req.now = kT0;
    return req;
  }
  static Principal Service(const std::string& name) { return Principal{.user = name, .roles = {"service"}}; }
  KeyPair idp_, audit_, clue_;
};

TEST_F(KeySetTest, EachKeyIsChosenByKid) {
  Verifier v = Make();
  auto person = v.Verify("Bearer " + MustMint(Signed(idp_, Alice())));
  ASSERT_TRUE(person.ok()) << person.status();
  EXPECT_EQ(person->user, "alice");
  auto service = v.Verify("Bearer " + MustMint(Signed(audit_, Service("audit-service"))));
  ASSERT_TRUE(service.ok()) << service.status();
  EXPECT_EQ(service->user, "audit-service");
  // A key the set does not hold, and a kid naming a held key over another key's signature.
  auto unknown = v.Verify("Bearer " + MustMint(Signed(clue_, Service("clue-service"))));
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(std::string(unknown.status().message()), HasSubstr("unknown key"));
  MintRequest lying = Signed(clue_, Alice());
  lying.kid = *KeyId(idp_.public_pem);
  ExpectRejected(v, MustMint(lying));
  // The kid is the same whichever half of the pair it is computed from.
  EXPECT_EQ(*KeyId(idp_.public_pem), *KeyId(idp_.private_pem));
  EXPECT_NE(*KeyId(idp_.public_pem), *KeyId(audit_.public_pem));
}

TEST_F(KeySetTest, AServiceKeyVouchesOnlyForItsOwnServiceToken) {
  Verifier v = Make();
  // Today's hole: whoever holds a service's key mints an oversight token with clearance 3.
  Principal oversight{.user = "audit-service", .unit = "", .roles = {"oversight"}, .clearance = kClearanceSecret};
  ExpectRejected(v, MustMint(Signed(audit_, oversight)));
  Principal both = Service("audit-service");
  both.roles.push_back("oversight");
  ExpectRejected(v, MustMint(Signed(audit_, both)));
  Principal cleared = Service("audit-service");
  cleared.clearance = kClearanceConfidential;
  ExpectRejected(v, MustMint(Signed(audit_, cleared)));
  Principal in_unit = Service("audit-service");
  in_unit.unit = "0190f0e0-0000-7000-8000-000000000001";
  ExpectRejected(v, MustMint(Signed(audit_, in_unit)));
  // Nor another service's identity.
  auto other = v.Verify("Bearer " + MustMint(Signed(audit_, Service("clue-service"))));
  ASSERT_FALSE(other.ok());
  EXPECT_THAT(std::string(other.status().message()), HasSubstr("only for the service token of audit-service"));
}

TEST_F(KeySetTest, ThePeopleKeyCannotVouchForAService) {
  Verifier v = Make();
  ExpectRejected(v, MustMint(Signed(idp_, Service("audit-service"))));
  Principal p = Alice();
  p.roles.push_back("service");
  ExpectRejected(v, MustMint(Signed(idp_, p)));
}

TEST_F(KeySetTest, DevelopmentKeysServePeopleAndAnyServiceButNotAPersonAsService) {
  auto v = Verifier::Create(Config{.keys = DevelopmentKeys()}, clock_);
  ASSERT_TRUE(v.ok()) << v.status();
  MintRequest person = DevelopmentMint(Alice(), std::chrono::hours(1));
  person.now = kT0;
  EXPECT_TRUE(v->Verify("Bearer " + MustMint(person)).ok());
  MintRequest service = DevelopmentMint(Service("inspection-service"), std::chrono::hours(1));
  service.now = kT0;
  EXPECT_EQ(service.algorithm, "ES256");
  auto got = v->Verify("Bearer " + MustMint(service));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->user, "inspection-service");
  // The development secret does not make a service, nor the service key a person.
  MintRequest fake = person;
  fake.principal = Service("audit-service");
  ExpectRejected(*v, MustMint(fake));
  MintRequest staff = service;
  staff.principal = Alice();
  ExpectRejected(*v, MustMint(staff));
}

TEST_F(AuthTest, IssueTimeAndLifetimeAreChecked) {
  nlohmann::json claims = ValidClaims();
  claims.erase("iat");
  ExpectRejected(Hs256(), HandToken({{"alg", "HS256"}, {"typ", "JWT"}}, claims, kSecret));
  claims = ValidClaims();
  claims["iat"] = ToUnixSeconds(kT0) + 3600;  // issued an hour from now
  ExpectRejected(Hs256(), HandToken({{"alg", "HS256"}, {"typ", "JWT"}}, claims, kSecret));
  MintRequest req = Hs256Request();
  req.ttl = std::chrono::hours(25);  // longer than the 24 h allowed
  auto p = Hs256().Verify("Bearer " + MustMint(req));
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("lifetime"));
  req.ttl = std::chrono::hours(24);
  EXPECT_TRUE(Hs256().Verify("Bearer " + MustMint(req)).ok());
}

TEST_F(AuthTest, TheExpiryTravelsWithThePrincipal) {
  auto p = Hs256().Verify("Bearer " + MustMint(Hs256Request()));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->expires_at, ToUnixSeconds(kT0) + 3600);
}

// A temporary folder, removed at the end.
struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/sm-auth-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  void Write(const std::string& name, const std::string& text) const { std::ofstream(path + "/" + name) << text; }
  std::string path;
};

TEST(KeySetFile, ParsesEntriesAndNamesEveryMistake) {
  TempDir dir;
  const KeyPair ec = NewEcKey();
  dir.Write("idp.pub.pem", ec.public_pem);
  auto keys = ParseKeySet(
      "keys:\n"
      "  - algorithm: ES256\n    public_key_file: idp.pub.pem\n    vouches_for: people\n"
      "  - kid: legacy\n    algorithm: HS256\n    secret: " +
          std::string(kSecret) + "\n    vouches_for: service:audit-service\n",
      dir.path);
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].kid, *KeyId(ec.public_pem));
  EXPECT_EQ((*keys)[0].vouches, Vouches::kPeople);
  EXPECT_EQ((*keys)[1].kid, "legacy");
  EXPECT_EQ((*keys)[1].vouches, Vouches::kService);
  EXPECT_EQ((*keys)[1].service, "audit-service");

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "needs a list 'keys'"},
      {"keys: 3\n", "needs a list 'keys'"},
      {"keys:\n  - algorithm: ES256\n    public_key_file: nope.pem\n    vouches_for: people\n",
       "keys[0].public_key_file"},
      {"keys:\n  - algorithm: ES256\n    public_key_file: idp.pub.pem\n    vouches_for: everyone\n",
       "keys[0].vouches_for"},
      {"keys:\n  - algorithm: ES256\n    public_key_file: idp.pub.pem\n    vouches_for: \"service:\"\n",
       "keys[0].vouches_for"},
      {"keys:\n  - algorithm: ES256\n    vouches_for: people\n", "keys[0]: give public_key"},
      {"keys:\n  - public_key_file: idp.pub.pem\n    vouches_for: people\n", "keys[0].algorithm"},
      {"keys:\n  - algorithm: ES256\n    public_key_file: idp.pub.pem\n    vouches_for: people\n    colour: red\n",
       "keys[0].colour: unknown field"},
      {"keys:\n  - algorithm: RS256\n    public_key_file: idp.pub.pem\n    vouches_for: people\n",
       "does not fit RS256"},
      {"keys: [\n", "key set"},
  };
  for (const auto& [yaml, want] : bad) {
    SCOPED_TRACE(yaml);
    auto got = ParseKeySet(yaml, dir.path);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(got.status().message()), HasSubstr(want));
  }
}

// Keys are rotated by editing the key set file and the signer's key file: the verifier and
// the calling service pick the change up without a restart.
TEST(KeySetFile, RotationWithoutARestart) {
  TempDir dir;
  FakeClock clock(kT0);
  const KeyPair old_key = NewEcKey(), new_key = NewEcKey();
  auto set = [&](std::initializer_list<const KeyPair*> keys) {
    std::string yaml = "keys:\n";
    for (const KeyPair* k : keys) {
      nlohmann::json pem = k->public_pem;  // a JSON string is a valid YAML scalar
      yaml += "  - algorithm: ES256\n    public_key: " + pem.dump() + "\n    vouches_for: service:audit-service\n";
    }
    dir.Write("keys.yaml", yaml);
  };
  set({&old_key});
  dir.Write("audit.key.pem", old_key.private_pem);
  auto verifier = Verifier::Create(Config{.keys_file = dir.path + "/keys.yaml"}, clock);
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  auto identity = ServiceIdentity::Create(
      ServiceIdentity::Options{.name = "audit-service", .key_file = dir.path + "/audit.key.pem"}, clock);
  ASSERT_TRUE(identity.ok()) << identity.status();
  const std::string old_token = (*identity)->Token();
  EXPECT_EQ((*identity)->kid(), *KeyId(old_key.public_pem));
  auto p = verifier->Verify("Bearer " + old_token);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->user, "audit-service");
  EXPECT_EQ((*identity)->Token(), old_token) << "a token is reused until half its lifetime";

  // 1. The new public key joins the set; 2. the service's key file is replaced.
  set({&old_key, &new_key});
  dir.Write("audit.key.pem", new_key.private_pem);
  clock.Advance(std::chrono::seconds(2));
  const std::string new_token = (*identity)->Token();
  EXPECT_NE(new_token, old_token);
  EXPECT_EQ((*identity)->kid(), *KeyId(new_key.public_pem));
  EXPECT_TRUE(verifier->Verify("Bearer " + new_token).ok());
  EXPECT_TRUE(verifier->Verify("Bearer " + old_token).ok()) << "both keys are good during the overlap";

  // 3. The old key is withdrawn: its tokens stop working (even one verified before).
  set({&new_key});
  clock.Advance(std::chrono::seconds(2));
  auto withdrawn = verifier->Verify("Bearer " + old_token);
  ASSERT_FALSE(withdrawn.ok());
  EXPECT_THAT(std::string(withdrawn.status().message()), HasSubstr("unknown key"));
  EXPECT_TRUE(verifier->Verify("Bearer " + new_token).ok());

  // A broken key set file keeps the keys in force rather than locking everyone out.
  dir.Write("keys.yaml", "keys: [\n");
  clock.Advance(std::chrono::seconds(2));
  EXPECT_TRUE(verifier->Verify("Bearer " + new_token).ok());
  // So does a broken service key file.
  dir.Write("audit.key.pem", "garbage");
  clock.Advance(std::chrono::minutes(6));
  EXPECT_TRUE(verifier->Verify("Bearer " + (*identity)->Token()).ok());
}

TEST(ServiceIdentity, RefusesAKeyThatIsNotP256) {
  EXPECT_EQ(ServiceIdentity::Create({.name = "audit-service", .key_pem = NewRsaKey().private_pem}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ServiceIdentity::Create({.name = "audit-service", .key_pem = NewEcKey().public_pem}).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto missing = ServiceIdentity::Create({.name = "audit-service", .key_file = "/nonexistent/key.pem"});
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("identity.key_file"));
}

// --- roles --------------------------------------------------------------------------------

TEST(Roles, HasRoleAndEndUser) {
  Principal p = Alice();
  EXPECT_TRUE(p.HasRole(kRoleStaff));
  EXPECT_TRUE(p.HasRole("discipline"));
  EXPECT_FALSE(p.HasRole(kRoleAdmin));
  EXPECT_FALSE(p.HasRole("Staff"));
  p.on_behalf_of = "bob";
  EXPECT_EQ(p.EndUser(), "bob");
}

TEST(Roles, RequireAnyRole) {
  Principal p = Alice();
  EXPECT_TRUE(RequireAnyRole(p, {kRoleAdmin, kRoleDiscipline}).ok());
  EXPECT_TRUE(RequireAnyRole(p, {kRoleStaff}).ok());
  absl::Status s = RequireAnyRole(p, {kRoleAdmin, kRoleAuditor});
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(s.message()), HasSubstr("admin"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("auditor"));
  EXPECT_EQ(RequireAnyRole(Principal{}, {kRoleStaff}).code(), absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace sm::auth
