// ES256 (ECDSA P-256 with SHA-256) signatures over arbitrary bytes, through OpenSSL's EVP
// interface: what a service signs its chain checkpoints with (common/chain_anchor.h), using
// the same private key as its `service` token (auth::ServiceIdentity).
#pragma once

#include <string>
#include <string_view>

#include <absl/status/statusor.h>

namespace sm::crypto {

// The DER-encoded ECDSA signature of `bytes` as lower-case hex. Errors: INVALID_ARGUMENT
// when `private_pem` is not a P-256 private key; INTERNAL when OpenSSL fails.
absl::StatusOr<std::string> SignEs256(const std::string& private_pem, std::string_view bytes);

// OK when `signature_hex` (as SignEs256 returns it) is a valid signature of `bytes` by the
// key whose public half is `public_pem` (a private key PEM is accepted too). Errors:
// INVALID_ARGUMENT for an unreadable key or signature; UNAUTHENTICATED when it does not verify.
absl::Status VerifyEs256(const std::string& public_pem, std::string_view bytes, std::string_view signature_hex);

// The PEM (SubjectPublicKeyInfo) public half of a private or public key PEM.
// INVALID_ARGUMENT when `pem` is not a key.
absl::StatusOr<std::string> PublicKeyPem(const std::string& pem);

}  // namespace sm::crypto
