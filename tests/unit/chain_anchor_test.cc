// Pure parts of tamper evidence: chain version 2 (state digests), verification against a
// checkpoint, the Merkle root of chain heads, and ES256 signatures of checkpoints.
#include <gtest/gtest.h>

#include <cstdio>

#include "common/auth.h"
#include "common/chain_anchor.h"
#include "common/hash_chain.h"
#include "common/signature.h"

namespace sm::chain {
namespace {

// `n` events; from `v2_from` on chain version 2, each committing to state "s<seq>".
std::vector<Event> MakeChain(int n, int v2_from = 1) {
  std::vector<Event> events;
  std::string prev;
  for (int i = 1; i <= n; ++i) {
    Event e;
    e.seq = i;
    e.aggregate_id = "c1";
    e.type = "t" + std::to_string(i);
    e.actor = "u";
    e.at_micros = 1000 * i;
    e.data = "{}";
    if (i >= v2_from) {
      e.chain_version = 2;
      e.state_digest = "s" + std::to_string(i);
    }
    e.prev_hash = prev;
    e.hash = Hash(prev, e);
    prev = e.hash;
    events.push_back(e);
  }
  return events;
}

Expected Of(const std::vector<Event>& ev) {
  return Expected{
      .head_len = static_cast<int64_t>(ev.size()), .head_hash = ev.back().hash, .state_digest = ev.back().state_digest};
}

TEST(ChainVersionTest, OldEventsVerifyTheOldWayAndNewOnesCoverTheState) {
  auto mixed = MakeChain(6, 4);  // 1..3 version 1, 4..6 version 2
  EXPECT_TRUE(Verify(mixed, Of(mixed)).intact);
  auto v1_only = MakeChain(3, 100);
  Expected x = Of(v1_only);
  x.state_digest = "anything";  // a version-1 head commits to no state: nothing to compare
  EXPECT_TRUE(Verify(v1_only, x).intact);
  // The digest is inside the hash: changing it breaks the event.
  auto edited = mixed;
  edited[4].state_digest = "other";
  EXPECT_EQ(Verify(edited, Of(mixed)).first_broken_seq, 5);
  // Same bytes under the other version hash differently.
  Event e = mixed[4];
  e.chain_version = 1;
  EXPECT_NE(Hash(e.prev_hash, e), mixed[4].hash);
}

TEST(ChainVersionTest, RowNotInTheCommittedStateIsReportedAtTheLastEvent) {
  auto ev = MakeChain(4);
  Expected x = Of(ev);
  x.state_digest = "edited row";
  Check c = Verify(ev, x);
  EXPECT_FALSE(c.intact);
  EXPECT_EQ(c.first_broken_seq, 4);
}

TEST(ChainVersionTest, VersionMayNotGoBackOrBeUnknown) {
  auto ev = MakeChain(4, 2);
  ev[2].chain_version = 1;  // a downgraded event, rehashed the old way
  ev[2].hash = Hash(ev[2].prev_hash, ev[2]);
  ev[3].prev_hash = ev[2].hash;
  ev[3].hash = Hash(ev[3].prev_hash, ev[3]);
  EXPECT_EQ(Verify(ev, Of(ev)).first_broken_seq, 3);
  auto unknown = MakeChain(2);
  unknown[1].chain_version = 3;
  EXPECT_EQ(Verify(unknown, Of(unknown)).first_broken_seq, 2);
}

TEST(ChainAnchorTest, TheCheckpointCatchesTruncationAndRehashing) {
  auto ev = MakeChain(6);
  Expected x = Of(ev);
  x.anchor = Expected::Anchor{7, 4, ev[3].hash};
  EXPECT_TRUE(Verify(ev, x).intact);  // grown past the checkpoint: fine
  // Truncated to 2 with the row rewritten to match: the checkpoint had 4.
  std::vector<Event> cut(ev.begin(), ev.begin() + 2);
  Expected xc = Of(cut);
  xc.anchor = x.anchor;
  EXPECT_EQ(Verify(cut, xc).first_broken_seq, 3);
  // Event 2 rewritten and every hash recomputed: links and row agree, the checkpoint does not.
  auto re = ev;
  re[1].data = "{\"x\":1}";
  for (size_t i = 1; i < re.size(); ++i) {
    re[i].prev_hash = re[i - 1].hash;
    re[i].hash = Hash(re[i].prev_hash, re[i]);
  }
  Expected xr = Of(re);
  xr.anchor = x.anchor;
  Check c = Verify(re, xr);
  EXPECT_FALSE(c.intact);
  EXPECT_EQ(c.first_broken_seq, 4);
  EXPECT_TRUE(Verify(re, Of(re)).intact);  // which is why the checkpoint is needed
}

// The streamed root (Anchor::Take, bounded memory) is the level-by-level root for every
// count of leaves, odd and even, perfect and not.
TEST(MerkleRootTest, TheStreamedRootIsTheSameForEveryCount) {
  std::vector<Head> heads;
  for (int n = 0; n <= 130; ++n) {
    char id[16];
    std::snprintf(id, sizeof id, "id-%05d", n);
    if (n > 0) heads.push_back(Head{id, n, "head-" + std::to_string(n)});
    EXPECT_EQ(StreamedMerkleRoot(heads), MerkleRoot(heads)) << n << " leaves";
  }
}

TEST(MerkleRootTest, DependsOnEveryHeadButNotOnOrder) {
  std::vector<Head> heads = {{"a", 1, "h1"}, {"b", 2, "h2"}, {"c", 3, "h3"}};
  const std::string root = MerkleRoot(heads);
  EXPECT_EQ(root, MerkleRoot({heads[2], heads[0], heads[1]}));
  for (size_t i = 0; i < heads.size(); ++i) {
    auto changed = heads;
    changed[i].len += 1;
    EXPECT_NE(MerkleRoot(changed), root) << i;
    changed = heads;
    changed[i].head += "x";
    EXPECT_NE(MerkleRoot(changed), root) << i;
    changed = heads;
    changed.erase(changed.begin() + static_cast<long>(i));
    EXPECT_NE(MerkleRoot(changed), root) << i;
  }
  EXPECT_NE(MerkleRoot({}), MerkleRoot({heads[0]}));
}

TEST(CheckpointSignatureTest, SignedWithTheServiceKeyAndNothingElse) {
  const std::string pem(auth::kDevelopmentServiceKey);
  auto public_pem = crypto::PublicKeyPem(pem);
  ASSERT_TRUE(public_pem.ok());
  EXPECT_EQ(public_pem->find("PRIVATE"), std::string::npos);
  Checkpoint c{.id = 3, .service = "clue-service", .taken_at_micros = 42, .aggregates = 2, .merkle_root = "r"};
  auto sig = crypto::SignEs256(pem, SignedBytes(c));
  ASSERT_TRUE(sig.ok());
  c.kid = *auth::KeyId(pem);
  c.signature = *sig;
  PublicKeys keys = [&](const std::string& kid) -> std::optional<std::string> {
    if (kid != c.kid) return std::nullopt;
    return *public_pem;
  };
  EXPECT_TRUE(VerifySignature(c, keys).ok());
  for (auto edit : std::vector<std::function<void(Checkpoint&)>>{
           [](Checkpoint& x) { x.id++; }, [](Checkpoint& x) { x.aggregates--; },
           [](Checkpoint& x) { x.merkle_root = "s"; }, [](Checkpoint& x) { x.taken_at_micros++; },
           [](Checkpoint& x) { x.service = "audit-service"; }, [](Checkpoint& x) { x.signature[10] ^= 1; },
           [](Checkpoint& x) { x.kid = "k-other"; }}) {
    Checkpoint forged = c;
    edit(forged);
    EXPECT_EQ(VerifySignature(forged, keys).code(), absl::StatusCode::kUnauthenticated);
  }
  // Another P-256 key's signature does not verify under the service's key.
  const std::string other =
      "-----BEGIN PRIVATE KEY-----\n"
      "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgXGfZebJARR7mIMme\n"
      "hGj59Antl66sNqKZjJYyiqcVXd2hRANCAASXrguerwdJK7MXPQIGalTvZty/bNpa\n"
      "Ye0naWNXe8yEekQhrDmw6OrkuBFCxlzSAt89CWW1AcUF5mH2W5ECt/4C\n"
      "-----END PRIVATE KEY-----\n";
  auto foreign = crypto::SignEs256(other, SignedBytes(c));
  ASSERT_TRUE(foreign.ok()) << foreign.status();
  EXPECT_EQ(crypto::VerifyEs256(*public_pem, SignedBytes(c), *foreign).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(crypto::SignEs256(*public_pem, "x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(crypto::VerifyEs256(*public_pem, "x", "zz").code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sm::chain
