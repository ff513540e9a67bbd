// Hashing helpers over OpenSSL's EVP interface.
#pragma once

#include <string>
#include <string_view>

namespace sm::crypto {

// SHA-256 of `data` as 64 lower-case hex characters.
std::string Sha256Hex(std::string_view data);

// Lower-case hex of arbitrary bytes.
std::string ToHex(std::string_view bytes);

// `n` cryptographically random bytes. Aborts if the system RNG fails (nothing sane to do).
std::string RandomBytes(size_t n);

}  // namespace sm::crypto
