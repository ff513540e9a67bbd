#include "common/chain_anchor.h"

#include <algorithm>
#include <unordered_map>

#include "common/crypto.h"
#include "common/db/sql.h"
#include "common/signature.h"

namespace sm::chain {
namespace {

using db::Str;

constexpr char kCheckpointColumns[] =
    "id, service, (extract(epoch FROM taken_at) * 1000000)::bigint, aggregates, merkle_root, kid, signature";

Checkpoint CheckpointFrom(const pqxx::row& r) {
  Checkpoint c;
  c.id = r[0].as<int64_t>();
  c.service = Str(r[1]);
  c.taken_at_micros = r[2].as<int64_t>();
  c.aggregates = r[3].as<int64_t>();
  c.merkle_root = Str(r[4]);
  c.kid = Str(r[5]);
  c.signature = Str(r[6]);
  return c;
}

std::string Leaf(const Head& h) {
  return crypto::Sha256Hex("leaf\n" + h.aggregate_id + "\n" + std::to_string(h.len) + "\n" + h.head);
}

}  // namespace

std::string MerkleRoot(std::vector<Head> heads) {
  if (heads.empty()) return crypto::Sha256Hex("empty");
  std::sort(heads.begin(), heads.end(), [](const Head& a, const Head& b) { return a.aggregate_id < b.aggregate_id; });
  std::vector<std::string> level;
  level.reserve(heads.size());
  for (const Head& h : heads) level.push_back(Leaf(h));
  while (level.size() > 1) {
    std::vector<std::string> up;
    up.reserve(level.size() / 2 + 1);
    for (size_t i = 0; i + 1 < level.size(); i += 2)
      up.push_back(crypto::Sha256Hex("node\n" + level[i] + "\n" + level[i + 1]));
    if (level.size() % 2 == 1) up.push_back(level.back());
    level = std::move(up);
  }
  return level[0];
}

std::string SignedBytes(const Checkpoint& c) {
  return "sm-checkpoint-v1\n" + c.service + "\n" + std::to_string(c.id) + "\n" + std::to_string(c.taken_at_micros) +
         "\n" + std::to_string(c.aggregates) + "\n" + c.merkle_root;
}

absl::Status VerifySignature(const Checkpoint& c, const PublicKeys& keys) {
  std::optional<std::string> pem = keys ? keys(c.kid) : std::nullopt;
  if (!pem)
    return absl::UnauthenticatedError("checkpoint " + std::to_string(c.id) + " is signed by unknown key '" + c.kid +
                                      "'");
  absl::Status s = crypto::VerifyEs256(*pem, SignedBytes(c), c.signature);
  if (!s.ok())
    return absl::UnauthenticatedError("checkpoint " + std::to_string(c.id) + ": " + std::string(s.message()));
  return absl::OkStatus();
}

ServiceKeys KeysOf(std::shared_ptr<auth::ServiceIdentity> identity, const auth::Verifier* verifier,
                   std::string service) {
  return {
      .sign = [identity](const std::string& bytes) -> absl::StatusOr<Signed> {
        auto s = identity->Sign(bytes);
        if (!s.ok()) return s.status();
        return Signed{s->kid, s->signature};
      },
      .keys = [identity, verifier, service = std::move(service)](const std::string& kid) -> std::optional<std::string> {
        if (kid == identity->kid()) return identity->public_pem();
        return verifier != nullptr ? verifier->ServiceKey(kid, service) : std::nullopt;
      }};
}

Anchor::Anchor(std::string service, std::string anchor_schema, std::string aggregate_table, std::string events_table,
               std::string id_column)
    : service_(std::move(service)),
      checkpoints_(anchor_schema + ".chain_checkpoints"),
      heads_(anchor_schema + ".chain_checkpoint_heads"),
      aggregates_(std::move(aggregate_table)),
      events_(std::move(events_table)),
      id_(std::move(id_column)) {}

std::optional<Checkpoint> Anchor::Latest(db::Tx& tx) const {
  pqxx::result r =
      tx.exec(std::string("SELECT ") + kCheckpointColumns + " FROM " + checkpoints_ + " ORDER BY id DESC LIMIT 1");
  if (r.empty()) return std::nullopt;
  return CheckpointFrom(r[0]);
}

std::optional<Expected::Anchor> Anchor::HeadAt(db::Tx& tx, int64_t checkpoint_id,
                                               const std::string& aggregate_id) const {
  pqxx::result r = tx.exec_params("SELECT chain_len, chain_head FROM " + heads_ +
                                      " WHERE aggregate_id = $1::uuid AND checkpoint_id <= $2"
                                      " ORDER BY checkpoint_id DESC LIMIT 1",
                                  aggregate_id, checkpoint_id);
  if (r.empty()) return std::nullopt;
  return Expected::Anchor{checkpoint_id, r[0][0].as<int64_t>(), Str(r[0][1])};
}

std::vector<Head> Anchor::HeadsAt(db::Tx& tx, int64_t checkpoint_id) const {
  std::vector<Head> out;
  for (const auto& r :
       tx.exec_params("SELECT DISTINCT ON (aggregate_id) aggregate_id::text, chain_len, chain_head FROM " + heads_ +
                          " WHERE checkpoint_id <= $1 ORDER BY aggregate_id, checkpoint_id DESC",
                      checkpoint_id)) {
    out.push_back(Head{Str(r[0]), r[1].as<int64_t>(), Str(r[2])});
  }
  return out;
}

std::vector<Checkpoint> Anchor::List(db::Tx& tx, int64_t after_id, int limit) const {
  std::vector<Checkpoint> out;
  for (const auto& r : tx.exec_params(std::string("SELECT ") + kCheckpointColumns + " FROM " + checkpoints_ +
                                          " WHERE id > $1 ORDER BY id LIMIT $2",
                                      after_id, limit)) {
    out.push_back(CheckpointFrom(r));
  }
  if (out.empty()) return out;
  std::unordered_map<int64_t, Checkpoint*> by_id;
  for (auto& c : out) by_id[c.id] = &c;
  for (const auto& r : tx.exec_params("SELECT checkpoint_id, aggregate_id::text, chain_len, chain_head FROM " + heads_ +
                                          " WHERE checkpoint_id BETWEEN $1 AND $2 ORDER BY checkpoint_id, aggregate_id",
                                      out.front().id, out.back().id)) {
    by_id.at(r[0].as<int64_t>())->heads.push_back(Head{Str(r[1]), r[2].as<int64_t>(), Str(r[3])});
  }
  return out;
}

namespace {

// The Merkle root of leaves arriving in order, in O(log n) memory: a stack of perfect
// subtrees (level, hash), combined as equal levels meet; at the end folded right to left.
// The same root as MerkleRoot's level-by-level pairing, where an odd node at the end of a
// level is promoted unchanged (tested against it in chain_anchor_test).
class MerkleFold {
 public:
  void Add(std::string leaf) {
    Node cur{0, std::move(leaf)};
    while (!stack_.empty() && stack_.back().level == cur.level) {
      cur = Node{cur.level + 1, Combine(stack_.back().hash, cur.hash)};
      stack_.pop_back();
    }
    stack_.push_back(std::move(cur));
  }
  std::string Root() const {
    if (stack_.empty()) return crypto::Sha256Hex("empty");
    std::string acc = stack_.back().hash;
    for (size_t i = stack_.size() - 1; i-- > 0;) acc = Combine(stack_[i].hash, acc);
    return acc;
  }

 private:
  struct Node {
    int level;
    std::string hash;
  };
  static std::string Combine(const std::string& left, const std::string& right) {
    return crypto::Sha256Hex("node\n" + left + "\n" + right);
  }
  std::vector<Node> stack_;
};

constexpr int kTakeBatch = 5000;

}  // namespace

std::string StreamedMerkleRoot(const std::vector<Head>& sorted_heads) {
  MerkleFold fold;
  for (const Head& h : sorted_heads) fold.Add(Leaf(h));
  return fold.Root();
}

absl::StatusOr<std::optional<Checkpoint>> Anchor::Take(db::Pool& pool, const Signer& sign, const PublicKeys& keys,
                                                       int64_t now_micros) const {
  std::optional<Checkpoint> out;
  absl::Status s = db::WithTransaction(pool, [&](db::Tx& tx) -> absl::Status {
    out.reset();
    if (!tx.exec_params1("SELECT pg_try_advisory_xact_lock(hashtext($1))", service_ + ":chain-checkpoint")[0]
             .as<bool>()) {
      return absl::OkStatus();
    }
    Checkpoint c;
    c.service = service_;
    c.id = 1;
    int64_t latest_id = 0;
    if (auto latest = Latest(tx)) {
      absl::Status trusted = VerifySignature(*latest, keys);
      if (!trusted.ok()) return absl::DataLossError("latest " + std::string(trusted.message()));
      latest_id = latest->id;
      c.id = latest->id + 1;
      // Every checkpointed aggregate still exists.
      pqxx::result missing =
          tx.exec_params("SELECT h.aggregate_id::text FROM (SELECT DISTINCT aggregate_id FROM " + heads_ +
                             " WHERE checkpoint_id <= $1) h WHERE NOT EXISTS (SELECT 1 FROM " + aggregates_ +
                             " a WHERE a.id = h.aggregate_id) LIMIT 1",
                         latest_id);
      if (!missing.empty()) {
        return absl::DataLossError(Str(missing[0][0]) + " was in checkpoint " + std::to_string(latest_id) +
                                   " and is gone");
      }
    }
    // The aggregates in id order, page by page, each with its head at the latest checkpoint
    // and the hash of its event at that length: memory stays bounded whatever their number.
    // The changed heads wait in a temporary table until the checkpoint row exists.
    tx.exec(
        "CREATE TEMP TABLE checkpoint_changed (aggregate_id uuid, chain_len integer, chain_head text) "
        "ON COMMIT DROP");
    const std::string page_sql =
        "SELECT a.id::text, a.chain_len, a.chain_head, p.chain_len, p.chain_head, e.hash FROM " + aggregates_ +
        " a LEFT JOIN LATERAL (SELECT h.chain_len, h.chain_head FROM " + heads_ +
        " h WHERE h.aggregate_id = a.id AND h.checkpoint_id <= $2 ORDER BY h.checkpoint_id DESC LIMIT 1) p ON true"
        " LEFT JOIN " +
        events_ + " e ON e." + id_ +
        " = a.id AND e.seq = p.chain_len"
        " WHERE ($1::uuid IS NULL OR a.id > $1::uuid) ORDER BY a.id LIMIT " +
        std::to_string(kTakeBatch);
    MerkleFold fold;
    std::optional<std::string> after;
    while (true) {
      pqxx::result page = tx.exec_params(page_sql, after, latest_id);
      std::vector<std::string> ids, lens, hashes;
      for (const auto& r : page) {
        Head h{Str(r[0]), r[1].as<int64_t>(), Str(r[2])};
        if (!r[3].is_null()) {
          const int64_t was_len = r[3].as<int64_t>();
          const std::string was_head = Str(r[4]);
          if (h.len < was_len) {
            return absl::DataLossError(h.aggregate_id + " has " + std::to_string(h.len) + " events; checkpoint " +
                                       std::to_string(latest_id) + " had " + std::to_string(was_len));
          }
          const bool same = h.len == was_len && h.head == was_head;
          // A grown chain still passes through its checkpointed head.
          if (!same && was_len > 0 && (r[5].is_null() || Str(r[5]) != was_head)) {
            return absl::DataLossError(h.aggregate_id + " no longer passes through its checkpointed event " +
                                       std::to_string(was_len));
          }
          if (!same) {
            ids.push_back(h.aggregate_id);
            lens.push_back(std::to_string(h.len));
            hashes.push_back(h.head);
          }
        } else {
          ids.push_back(h.aggregate_id);
          lens.push_back(std::to_string(h.len));
          hashes.push_back(h.head);
        }
        fold.Add(Leaf(h));
        ++c.aggregates;
        after = h.aggregate_id;
      }
      if (!ids.empty()) {
        tx.exec_params0(
            "INSERT INTO pg_temp.checkpoint_changed SELECT unnest($1::uuid[]), unnest($2::integer[]), "
            "unnest($3::text[])",
            db::TextArrayLiteral(ids), db::TextArrayLiteral(lens), db::TextArrayLiteral(hashes));
      }
      if (static_cast<int>(page.size()) < kTakeBatch) break;
    }
    c.merkle_root = fold.Root();
    c.taken_at_micros = now_micros;
    auto signature = sign(SignedBytes(c));
    if (!signature.ok()) return signature.status();
    c.kid = signature->kid;
    c.signature = signature->signature;
    tx.exec_params0("INSERT INTO " + checkpoints_ +
                        " (id, service, taken_at, aggregates, merkle_root, kid, signature) VALUES ($1, $2, "
                        "'epoch'::timestamptz + $3::bigint * interval '1 microsecond', $4, $5, $6, $7)",
                    c.id, c.service, c.taken_at_micros, c.aggregates, c.merkle_root, c.kid, c.signature);
    tx.exec_params0("INSERT INTO " + heads_ +
                        " (checkpoint_id, aggregate_id, chain_len, chain_head) "
                        "SELECT $1, aggregate_id, chain_len, chain_head FROM pg_temp.checkpoint_changed",
                    c.id);
    out = std::move(c);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<Check> Anchor::VerifyOne(db::Tx& tx, const PublicKeys& keys, const std::string& aggregate_id,
                                        const std::optional<Evidence>& evidence) const {
  std::optional<Expected::Anchor> anchor;
  if (auto latest = Latest(tx)) {
    absl::Status signed_ok = VerifySignature(*latest, keys);
    if (!signed_ok.ok()) {
      Check c;
      c.intact = false;
      c.events = evidence ? static_cast<int64_t>(evidence->events.size()) : 0;
      c.problem = "latest checkpoint not trusted: " + std::string(signed_ok.message());
      return c;
    }
    anchor = HeadAt(tx, latest->id, aggregate_id);
  }
  if (!evidence) {
    if (!anchor) return absl::NotFoundError("not found");
    Check c;
    c.intact = false;
    c.problem = "gone, though checkpoint " + std::to_string(anchor->checkpoint_id) + " had it with " +
                std::to_string(anchor->len) + " events";
    return c;
  }
  return Verify(evidence->events, Expected{.head_len = evidence->head_len,
                                           .head_hash = evidence->head_hash,
                                           .state_digest = evidence->state_digest,
                                           .anchor = anchor});
}

ServiceCheck Anchor::VerifyAll(db::Tx& tx, const PublicKeys& keys, const std::map<std::string, Evidence>& all) const {
  ServiceCheck out;
  out.checkpoint = Latest(tx);
  std::map<std::string, Expected::Anchor> anchored;
  if (out.checkpoint) {
    const Checkpoint& cp = *out.checkpoint;
    std::vector<Head> heads = HeadsAt(tx, cp.id);
    absl::Status signed_ok = VerifySignature(cp, keys);
    if (!signed_ok.ok()) {
      out.checkpoint_problem = std::string(signed_ok.message());
    } else if (static_cast<int64_t>(heads.size()) != cp.aggregates) {
      out.checkpoint_problem = "checkpoint " + std::to_string(cp.id) + " signed " + std::to_string(cp.aggregates) +
                               " aggregates; its heads name " + std::to_string(heads.size());
    } else if (MerkleRoot(heads) != cp.merkle_root) {
      out.checkpoint_problem = "checkpoint " + std::to_string(cp.id) + ": its heads do not make the signed Merkle root";
    }
    // Heads are compared only when the checkpoint holds: an untrusted one anchors nothing.
    if (out.checkpoint_problem.empty()) {
      for (Head& h : heads) anchored.emplace(h.aggregate_id, Expected::Anchor{cp.id, h.len, std::move(h.head)});
    }
  }
  auto check = [&](const std::string& id, const Evidence* ev) {
    ++out.aggregates;
    auto a = anchored.find(id);
    Check c;
    if (ev == nullptr) {
      c.intact = false;
      c.problem = "gone, though checkpoint " + std::to_string(a->second.checkpoint_id) + " had it with " +
                  std::to_string(a->second.len) + " events";
    } else {
      c = Verify(ev->events,
                 Expected{.head_len = ev->head_len,
                          .head_hash = ev->head_hash,
                          .state_digest = ev->state_digest,
                          .anchor = a == anchored.end() ? std::nullopt : std::optional<Expected::Anchor>(a->second)});
    }
    if (!c.intact) out.broken.push_back({id, std::move(c)});
  };
  for (const auto& [id, ev] : all) check(id, &ev);
  for (const auto& [id, a] : anchored) {
    if (all.find(id) == all.end()) check(id, nullptr);
  }
  std::sort(out.broken.begin(), out.broken.end(), [](const ServiceCheck::Broken& a, const ServiceCheck::Broken& b) {
    return a.aggregate_id < b.aggregate_id;
  });
  out.intact = out.checkpoint_problem.empty() && out.broken.empty();
  return out;
}

}  // namespace sm::chain
