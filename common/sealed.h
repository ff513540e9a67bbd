// Encryption at rest for sensitive fields (reporter identity, clue details): AES-256-GCM
// through OpenSSL EVP. Each sealed value carries the id of the key that sealed it, so keys
// rotate without re-encrypting: new values use the current key, old ones still open with
// theirs. The associated data binds a value to its row and field, so a sealed value copied
// into another row or field does not open.
#pragma once

#include <map>
#include <string>

#include <absl/status/statusor.h>

namespace sm::crypto {

class Keyring {
 public:
  // Parses "id1:<64 hex chars>,id2:<64 hex>" (32-byte keys); `current` seals new values.
  // Errors: INVALID_ARGUMENT naming the bad entry (never echoing key material).
  static absl::StatusOr<Keyring> Parse(const std::string& spec, const std::string& current);

  // "<key id>:<base64(nonce | ciphertext | tag)>". Never fails for a valid keyring.
  std::string Seal(const std::string& plaintext, const std::string& associated_data) const;
  // Errors: DATA_LOSS when the value was tampered with, sealed for other associated data,
  // or is malformed; FAILED_PRECONDITION when its key id is unknown.
  absl::StatusOr<std::string> Open(const std::string& sealed, const std::string& associated_data) const;

  const std::string& current() const { return current_; }

 private:
  std::map<std::string, std::string> keys_;  // id -> 32 raw bytes
  std::string current_;
};

// A development keyring (one fixed, clearly marked key). Never for real data.
Keyring DevelopmentKeyring();

}  // namespace sm::crypto
