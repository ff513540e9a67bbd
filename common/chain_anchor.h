// Signed checkpoints of every hash chain of a service (ARCHITECTURE.md § Security: tamper
// evidence survives a database administrator). A checkpoint records, for all aggregates,
// their count and the Merkle root of the sorted (aggregate id, chain_len, chain_head), signed
// ES256 with the service's own key, with the heads that changed since the previous one.
// Checkpoints live in `<service>_anchor`, a schema owned by a role the service does not log
// in as (deploy/local/bootstrap.sql): the service may INSERT and SELECT there, and triggers
// refuse UPDATE, DELETE and TRUNCATE of them to everyone and heads added to a checkpoint of
// another transaction. An administrator who can rewrite the service's tables can
// therefore rewrite no checkpointed chain unnoticed; what was written after the latest
// checkpoint is covered by the links and the state digests alone. Checkpoints are exported
// off-site (List), so that even the anchor schema's owner cannot rewrite history unseen.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <absl/status/statusor.h>

#include "common/auth.h"
#include "common/db/pool.h"
#include "common/hash_chain.h"

namespace sm::chain {

struct Head {
  std::string aggregate_id;  // lower-case UUID text
  int64_t len = 0;
  std::string head;
};

// Merkle root (SHA-256 hex) over `heads` sorted by aggregate id: leaves H("leaf", id, len,
// head), nodes H("node", left, right), an odd node carried up; the empty set has a root too.
std::string MerkleRoot(std::vector<Head> heads);
// The same root computed as the heads arrive (already sorted by aggregate id) in O(log n)
// memory, as Anchor::Take does over any number of aggregates.
std::string StreamedMerkleRoot(const std::vector<Head>& sorted_heads);

struct Checkpoint {
  int64_t id = 0;  // 1, 2, 3 ...
  std::string service;
  int64_t taken_at_micros = 0;
  int64_t aggregates = 0;
  std::string merkle_root;
  std::string kid;          // the signing key's id (auth::KeyId)
  std::string signature;    // ES256 (hex DER) over SignedBytes
  std::vector<Head> heads;  // List only: the heads that changed since the previous checkpoint
};

// The bytes a checkpoint's signature covers (all its fields but kid, signature and heads).
std::string SignedBytes(const Checkpoint& c);

struct Signed {
  std::string kid;
  std::string signature;
};
using Signer = std::function<absl::StatusOr<Signed>(const std::string& bytes)>;
// The public key PEM that verifies signatures of `kid`; nullopt when unknown.
using PublicKeys = std::function<std::optional<std::string>(const std::string& kid)>;

// How a service signs and checks its checkpoints: with its own identity key, trusting the
// key in force or one the key set (`verifier`, may be null) names for `service` (checkpoints
// signed before a rotation). `identity` is kept alive by the functions.
struct ServiceKeys {
  Signer sign;      // null: this replica takes no checkpoints
  PublicKeys keys;  // verifies checkpoint signatures
};
ServiceKeys KeysOf(std::shared_ptr<auth::ServiceIdentity> identity, const auth::Verifier* verifier,
                   std::string service);

// OK when `c` is signed by a key `keys` knows. UNAUTHENTICATED otherwise (naming why).
absl::Status VerifySignature(const Checkpoint& c, const PublicKeys& keys);

// One aggregate's tamper evidence as read from the service's tables.
struct Evidence {
  std::vector<Event> events;
  int64_t head_len = 0;
  std::string head_hash;
  std::optional<std::string> state_digest;  // digest of the row as it is now
};

// The whole service against its latest checkpoint.
struct ServiceCheck {
  bool intact = true;
  int64_t aggregates = 0;                // verified (now present or in the checkpoint)
  std::optional<Checkpoint> checkpoint;  // the latest, if any
  std::string checkpoint_problem;        // signature, count or root not as signed; "" when fine
  struct Broken {
    std::string aggregate_id;
    Check check;  // first_broken_seq 0 when the aggregate is gone
  };
  std::vector<Broken> broken;  // by aggregate id
};

class Anchor {
 public:
  // `service` is signed into each checkpoint ("clue-service"); `anchor_schema` holds
  // chain_checkpoints and chain_checkpoint_heads; the other names are as the service's
  // search_path sees its tables.
  Anchor(std::string service, std::string anchor_schema, std::string aggregate_table, std::string events_table,
         std::string id_column);

  // Takes a checkpoint of every aggregate now, unless another replica is taking one (then
  // nullopt). Refuses (DATA_LOSS, nothing written) to build on a latest checkpoint whose
  // signature does not verify, or when an aggregate of it is gone, shorter, or no longer
  // passes through its checkpointed head: signing that would launder the tampering. Reads
  // the aggregates page by page in bounded memory; the checkpoint returned carries no heads
  // (List gives them).
  absl::StatusOr<std::optional<Checkpoint>> Take(db::Pool& pool, const Signer& sign, const PublicKeys& keys,
                                                 int64_t now_micros) const;

  // The latest checkpoint (without heads), if any.
  std::optional<Checkpoint> Latest(db::Tx& tx) const;
  // `aggregate_id`'s (len, head) as of checkpoint `checkpoint_id`; nullopt when not in it.
  std::optional<Expected::Anchor> HeadAt(db::Tx& tx, int64_t checkpoint_id, const std::string& aggregate_id) const;
  // Every aggregate's head as of checkpoint `checkpoint_id`.
  std::vector<Head> HeadsAt(db::Tx& tx, int64_t checkpoint_id) const;
  // Checkpoints after `after_id`, oldest first, at most `limit`, each with its heads.
  std::vector<Checkpoint> List(db::Tx& tx, int64_t after_id, int limit) const;

  // One aggregate against the latest checkpoint: its links, row head and state, and, when
  // the checkpoint verifies, its checkpointed prefix. A checkpoint whose signature fails is
  // itself a broken result (first_broken_seq 0). `evidence` nullopt: the aggregate is gone
  // (NOT_FOUND unless the checkpoint had it: then a broken result).
  absl::StatusOr<Check> VerifyOne(db::Tx& tx, const PublicKeys& keys, const std::string& aggregate_id,
                                  const std::optional<Evidence>& evidence) const;
  // Every aggregate (`all`: the evidence of each one present now) against the latest
  // checkpoint, whose signature, count and Merkle root are recomputed from its heads.
  ServiceCheck VerifyAll(db::Tx& tx, const PublicKeys& keys, const std::map<std::string, Evidence>& all) const;

 private:
  std::string service_, checkpoints_, heads_, aggregates_, events_, id_;
};

}  // namespace sm::chain
