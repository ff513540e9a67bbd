#include "common/sealed.h"

#include <absl/strings/ascii.h>
#include <absl/strings/escaping.h>
#include <openssl/evp.h>

#include <memory>

#include "common/crypto.h"

namespace sm::crypto {
namespace {

constexpr size_t kKeyBytes = 32;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

const unsigned char* U(const std::string& s) { return reinterpret_cast<const unsigned char*>(s.data()); }

}  // namespace

absl::StatusOr<Keyring> Keyring::Parse(const std::string& spec, const std::string& current) {
  Keyring k;
  size_t start = 0;
  int index = 0;
  while (start <= spec.size()) {
    size_t end = spec.find(',', start);
    if (end == std::string::npos) end = spec.size();
    std::string entry = spec.substr(start, end - start);
    const std::string where = "keys entry " + std::to_string(index);
    size_t colon = entry.find(':');
    if (colon == std::string::npos || colon == 0) return absl::InvalidArgumentError(where + ": want id:hexkey");
    std::string id = entry.substr(0, colon);
    std::string hex = entry.substr(colon + 1);
    std::string raw = absl::HexStringToBytes(hex);
    if (hex.size() != kKeyBytes * 2 || ToHex(raw) != absl::AsciiStrToLower(hex)) {
      return absl::InvalidArgumentError(where + " (" + id + "): key must be 64 hex characters");
    }
    if (!k.keys_.emplace(id, raw).second) return absl::InvalidArgumentError(where + ": key id " + id + " repeats");
    start = end + 1;
    ++index;
  }
  if (!k.keys_.count(current))
    return absl::InvalidArgumentError("current key id '" + current + "' is not among the keys");
  k.current_ = current;
  return k;
}

std::string Keyring::Seal(const std::string& plaintext, const std::string& aad) const {
  const std::string& key = keys_.at(current_);
  std::string nonce = RandomBytes(kNonceBytes);
  std::string out(plaintext.size() + kTagBytes, '\0');
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0, total = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, U(key), U(nonce)) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, U(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), o, &len, U(plaintext), static_cast<int>(plaintext.size())) != 1) {
    std::abort();
  }
  total = len;
  if (EVP_EncryptFinal_ex(ctx.get(), o + total, &len) != 1) std::abort();
  total += len;
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, o + total) != 1) std::abort();
  out.resize(static_cast<size_t>(total) + kTagBytes);
  return current_ + ":" + absl::Base64Escape(nonce + out);
}

absl::StatusOr<std::string> Keyring::Open(const std::string& sealed, const std::string& aad) const {
  size_t colon = sealed.find(':');
  if (colon == std::string::npos) return absl::DataLossError("sealed value is malformed");
  auto key = keys_.find(sealed.substr(0, colon));
  if (key == keys_.end()) return absl::FailedPreconditionError("sealed with unknown key id " + sealed.substr(0, colon));
  std::string raw;
  if (!absl::Base64Unescape(sealed.substr(colon + 1), &raw) || raw.size() < kNonceBytes + kTagBytes) {
    return absl::DataLossError("sealed value is malformed");
  }
  const std::string nonce = raw.substr(0, kNonceBytes);
  const std::string body = raw.substr(kNonceBytes, raw.size() - kNonceBytes - kTagBytes);
  std::string tag = raw.substr(raw.size() - kTagBytes);
  std::string out(body.size() + 1, '\0');
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, U(key->second), U(nonce)) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, U(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), o, &len, U(body), static_cast<int>(body.size())) != 1) {
    return absl::DataLossError("sealed value cannot be opened");
  }
  int total = len;
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), o + total, &len) != 1) {
    return absl::DataLossError("sealed value failed authentication (tampered, or sealed for another record)");
  }
  total += len;
  out.resize(static_cast<size_t>(total));
  return out;
}

Keyring DevelopmentKeyring() {
  // DEVELOPMENT ONLY: a fixed, published key. Deployments set clue.keys to their own.
  return *Keyring::Parse("dev1:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "dev1");
}

}  // namespace sm::crypto
