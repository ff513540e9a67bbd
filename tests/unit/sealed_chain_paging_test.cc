// Encryption at rest (AES-256-GCM with key ids and rotation), the event hash chain, and
// keyset page tokens.
#include <gtest/gtest.h>

#include "common/hash_chain.h"
#include "common/paging.h"
#include "common/sealed.h"
#include "common/status.h"
#include "supervision/v1/directory.pb.h"

namespace sm {
namespace {

const std::string kKey1 = "k1:" + std::string(64, '1');
const std::string kKey2 = "k2:" + std::string(64, '2');

TEST(SealedTest, RoundTripBindsToAssociatedData) {
  auto ring = crypto::Keyring::Parse(kKey1, "k1");
  ASSERT_TRUE(ring.ok()) << ring.status();
  const std::string sealed = ring->Seal("举报人：张三 13900000000", "clue:1:reporter");
  EXPECT_EQ(sealed.rfind("k1:", 0), 0u);
  EXPECT_EQ(sealed.find("张三"), std::string::npos);
  EXPECT_EQ(*ring->Open(sealed, "clue:1:reporter"), "举报人：张三 13900000000");
  EXPECT_EQ(ring->Open(sealed, "clue:2:reporter").status().code(), absl::StatusCode::kDataLoss);
  // Two seals of the same text differ (random nonce).
  EXPECT_NE(ring->Seal("x", "a"), ring->Seal("x", "a"));
  EXPECT_EQ(*ring->Open(ring->Seal("", "a"), "a"), "");
}

TEST(SealedTest, TamperingIsDetected) {
  auto ring = crypto::Keyring::Parse(kKey1, "k1");
  std::string sealed = ring->Seal("secret", "ad");
  std::string flipped = sealed;
  const size_t mid = flipped.find(':') + 10;  // inside the nonce/ciphertext, away from padding
  flipped[mid] = flipped[mid] == 'A' ? 'B' : 'A';
  EXPECT_EQ(ring->Open(flipped, "ad").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ring->Open("k1:!!!", "ad").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ring->Open("nokeyid", "ad").status().code(), absl::StatusCode::kDataLoss);
}

TEST(SealedTest, RotationKeepsOldValuesReadable) {
  auto old_ring = crypto::Keyring::Parse(kKey1, "k1");
  const std::string old_value = old_ring->Seal("before rotation", "ad");
  auto new_ring = crypto::Keyring::Parse(kKey1 + "," + kKey2, "k2");
  ASSERT_TRUE(new_ring.ok());
  EXPECT_EQ(*new_ring->Open(old_value, "ad"), "before rotation");
  const std::string new_value = new_ring->Seal("after rotation", "ad");
  EXPECT_EQ(new_value.rfind("k2:", 0), 0u);
  // A process that has not yet got the new key says so rather than failing obscurely.
  EXPECT_EQ(old_ring->Open(new_value, "ad").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(SealedTest, BadKeyringsAreRefusedWithoutEchoingKeys) {
  EXPECT_FALSE(crypto::Keyring::Parse("k1:abcd", "k1").ok());
  EXPECT_FALSE(crypto::Keyring::Parse(kKey1 + ",k1:" + std::string(64, '3'), "k1").ok());
  EXPECT_FALSE(crypto::Keyring::Parse(kKey1, "k9").ok());
  auto bad = crypto::Keyring::Parse("k1:" + std::string(63, '1') + "z", "k1");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(std::string(bad.status().message()).find(std::string(40, '1')), std::string::npos);
}

std::vector<chain::Event> MakeChain(int n) {
  std::vector<chain::Event> events;
  std::string prev;
  for (int i = 1; i <= n; ++i) {
    chain::Event e;
    e.seq = i;
    e.aggregate_id = "c1";
    e.type = "t" + std::to_string(i);
    e.actor = "u";
    e.at_micros = 1000 * i;
    e.data = "{}";
    e.prev_hash = prev;
    e.hash = chain::Hash(prev, e);
    prev = e.hash;
    events.push_back(e);
  }
  return events;
}

TEST(HashChainTest, FindsTheFirstBrokenLink) {
  auto events = MakeChain(5);
  auto head = events.back().hash;
  EXPECT_TRUE(chain::Verify(events, 5, head).intact);
  auto edited = events;
  edited[2].data = "{\"x\":1}";
  EXPECT_EQ(chain::Verify(edited, 5, head).first_broken_seq, 3);
  auto deleted = events;
  deleted.erase(deleted.begin() + 1);
  EXPECT_EQ(chain::Verify(deleted, 5, head).first_broken_seq, 2);
  auto truncated = events;
  truncated.pop_back();
  EXPECT_EQ(chain::Verify(truncated, 5, head).first_broken_seq, 5);
  auto rehashed = events;  // an attacker who recomputes every hash still misses the head
  rehashed[4].data = "{\"x\":2}";
  rehashed[4].hash = chain::Hash(rehashed[4].prev_hash, rehashed[4]);
  EXPECT_EQ(chain::Verify(rehashed, 5, head).first_broken_seq, 5);
  // Field boundaries are unambiguous: moving text between fields changes the hash.
  chain::Event a = events[0], b = events[0];
  a.type = "ab";
  a.actor = "c";
  b.type = "a";
  b.actor = "bc";
  EXPECT_NE(chain::Hash("", a), chain::Hash("", b));
}

TEST(PagingTest, TokensAreBoundToTheirFilters) {
  supervision::v1::SearchPeopleRequest r1;
  r1.set_name("王");
  r1.set_page_size(10);
  supervision::v1::SearchPeopleRequest r2 = r1;
  r2.set_page_size(20);
  r2.set_page_token("anything");
  EXPECT_EQ(paging::FilterFingerprint(r1), paging::FilterFingerprint(r2));  // page fields ignored
  supervision::v1::SearchPeopleRequest r3 = r1;
  r3.set_name("李");
  EXPECT_NE(paging::FilterFingerprint(r1), paging::FilterFingerprint(r3));
  const std::string fp = paging::FilterFingerprint(r1);
  const std::string token = paging::Encode(nlohmann::json::array({"王五", "id-1"}), fp);
  auto back = paging::Decode(token, fp);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ((**back)[0], "王五");
  EXPECT_EQ(paging::Decode(token, paging::FilterFingerprint(r3)).status().code(), absl::StatusCode::kInvalidArgument);
  auto garbage = paging::Decode("!!", fp);
  EXPECT_EQ(FieldViolations(garbage.status())[0].field, "page_token");
  EXPECT_FALSE(paging::Decode("", fp)->has_value());
  EXPECT_EQ(*paging::PageSize(0, 50, 500), 50);
  EXPECT_EQ(*paging::PageSize(9999, 50, 500), 500);
  EXPECT_EQ(FieldViolations(paging::PageSize(-1, 50, 500).status())[0].field, "page_size");
}

}  // namespace
}  // namespace sm
