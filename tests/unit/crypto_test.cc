// Tests for common/crypto.h: SHA-256 against published vectors, hex encoding, random bytes.
#include "common/crypto.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

namespace sm::crypto {
namespace {

TEST(Crypto, Sha256KnownVectors) {
  // FIPS 180-2 examples.
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Crypto, Sha256IsBinarySafe) {
  const std::string with_nul("a\0b", 3);
  EXPECT_NE(Sha256Hex(with_nul), Sha256Hex("a"));
  EXPECT_EQ(Sha256Hex(with_nul).size(), 64u);
}

TEST(Crypto, ToHex) {
  EXPECT_EQ(ToHex(""), "");
  EXPECT_EQ(ToHex("abc"), "616263");
  EXPECT_EQ(ToHex(std::string("\x00\x01\x7f\x80\xfe\xff", 6)), "00017f80feff");
}

TEST(Crypto, RandomBytes) {
  EXPECT_EQ(RandomBytes(0).size(), 0u);
  EXPECT_EQ(RandomBytes(1).size(), 1u);
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string b = RandomBytes(32);
    ASSERT_EQ(b.size(), 32u);
    seen.insert(b);
  }
  EXPECT_EQ(seen.size(), 100u);
}

}  // namespace
}  // namespace sm::crypto
