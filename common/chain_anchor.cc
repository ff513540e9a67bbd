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
    for (size_t i = 0; i + 1 < level.size(); i += 2) up.push_back(crypto::Sha256Hex("node\n" + level[i] + "\n" + level[i + 1]));
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
  if (!pem) return absl::UnauthenticatedError("checkpoint " + std::to_string(c.id) + " is signed by unknown key '" + c.kid + "'");
  absl::Status s = crypto::VerifyEs256(*pem, SignedBytes(c), c.signature);
  if (!s.ok()) return absl::UnauthenticatedError("checkpoint " + std::to_string(c.id) + ": " + std::string(s.message()));
  return absl::OkStatus();
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
  pqxx::result r = tx.exec(std::string("SELECT ") + kCheckpointColumns + " FROM " + checkpoints_ +
                           " ORDER BY id DESC LIMIT 1");
  if (r.empty()) return std::nullopt;
  return CheckpointFrom(r[0]);
}

std::optional<Expected::Anchor> Anchor::HeadAt(db::Tx& tx, int64_t checkpoint_id, const std::string& aggregate_id) const {
  pqxx::result r = tx.exec_params("SELECT chain_len, chain_head FROM " + heads_ +
                                      " WHERE aggregate_id = $1::uuid AND checkpoint_id <= $2"
                                      " ORDER BY checkpoint_id DESC LIMIT 1",
                                  aggregate_id, checkpoint_id);
  if (r.empty()) return std::nullopt;
  return Expected::Anchor{checkpoint_id, r[0][0].as<int64_t>(), Str(r[0][1])};
}

std::vector<Head> Anchor::HeadsAt(db::Tx& tx, int64_t checkpoint_id) const {
  std::vector<Head> out;
  for (const auto& r : tx.exec_params("SELECT DISTINCT ON (aggregate_id) aggregate_id::text, chain_len, chain_head FROM " +
                                          heads_ + " WHERE checkpoint_id <= $1 ORDER BY aggregate_id, checkpoint_id DESC",
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

absl::StatusOr<std::optional<Checkpoint>> Anchor::Take(db::Pool& pool, const Signer& sign, const PublicKeys& keys,
                                                       int64_t now_micros) const {
  std::optional<Checkpoint> out;
  absl::Status s = db::WithTransaction(pool, [&](db::Tx& tx) -> absl::Status {
    out.reset();
    if (!tx.exec_params1("SELECT pg_try_advisory_xact_lock(hashtext($1))", service_ + ":chain-checkpoint")[0].as<bool>()) {
      return absl::OkStatus();
    }
    std::map<std::string, Head> full;
    Checkpoint c;
    c.service = service_;
    c.id = 1;
    if (auto latest = Latest(tx)) {
      absl::Status trusted = VerifySignature(*latest, keys);
      if (!trusted.ok()) return absl::DataLossError("latest " + std::string(trusted.message()));
      for (Head& h : HeadsAt(tx, latest->id)) full.emplace(h.aggregate_id, std::move(h));
      c.id = latest->id + 1;
    }
    std::vector<Head> changed;
    std::vector<std::string> check_ids, check_seqs;
    for (const auto& r : tx.exec("SELECT id::text, chain_len, chain_head FROM " + aggregates_)) {
      Head h{Str(r[0]), r[1].as<int64_t>(), Str(r[2])};
      auto it = full.find(h.aggregate_id);
      if (it != full.end()) {
        if (h.len < it->second.len) {
          return absl::DataLossError(h.aggregate_id + " has " + std::to_string(h.len) + " events; checkpoint " +
                                     std::to_string(c.id - 1) + " had " + std::to_string(it->second.len));
        }
        if (h.len == it->second.len && h.head == it->second.head) continue;
        if (it->second.len > 0) {
          check_ids.push_back(h.aggregate_id);
          check_seqs.push_back(std::to_string(it->second.len));
        }
      }
      changed.push_back(h);
    }
    // Every checkpointed aggregate still exists...
    if (!full.empty()) {
      std::vector<std::string> ids;
      for (const auto& [id, h] : full) ids.push_back(id);
      pqxx::result missing = tx.exec_params("SELECT p.id::text FROM unnest($1::uuid[]) AS p(id) WHERE NOT EXISTS "
                                            "(SELECT 1 FROM " + aggregates_ + " a WHERE a.id = p.id) LIMIT 1",
                                            db::TextArrayLiteral(ids));
      if (!missing.empty()) {
        return absl::DataLossError(Str(missing[0][0]) + " was in checkpoint " + std::to_string(c.id - 1) + " and is gone");
      }
    }
    // ...and a grown chain still passes through its checkpointed head.
    if (!check_ids.empty()) {
      pqxx::result heads = tx.exec_params(
          "SELECT p.id::text, e.hash FROM unnest($1::uuid[], $2::integer[]) AS p(id, seq) LEFT JOIN " + events_ +
              " e ON e." + id_ + " = p.id AND e.seq = p.seq",
          db::TextArrayLiteral(check_ids), db::TextArrayLiteral(check_seqs));
      for (const auto& r : heads) {
        const Head& was = full.at(Str(r[0]));
        if (Str(r[1]) != was.head) {
          return absl::DataLossError(was.aggregate_id + " no longer passes through its checkpointed event " +
                                     std::to_string(was.len));
        }
      }
    }
    for (const Head& h : changed) full[h.aggregate_id] = h;
    std::vector<Head> all;
    all.reserve(full.size());
    for (const auto& [id, h] : full) all.push_back(h);
    c.aggregates = static_cast<int64_t>(all.size());
    c.merkle_root = MerkleRoot(std::move(all));
    c.taken_at_micros = now_micros;
    auto signature = sign(SignedBytes(c));
    if (!signature.ok()) return signature.status();
    c.kid = signature->kid;
    c.signature = signature->signature;
    tx.exec_params0("INSERT INTO " + checkpoints_ +
                        " (id, service, taken_at, aggregates, merkle_root, kid, signature) VALUES ($1, $2, "
                        "'epoch'::timestamptz + $3::bigint * interval '1 microsecond', $4, $5, $6, $7)",
                    c.id, c.service, c.taken_at_micros, c.aggregates, c.merkle_root, c.kid, c.signature);
    if (!changed.empty()) {
      std::vector<std::string> ids, lens, hashes;
      for (const Head& h : changed) {
        ids.push_back(h.aggregate_id);
        lens.push_back(std::to_string(h.len));
        hashes.push_back(h.head);
      }
      tx.exec_params0("INSERT INTO " + heads_ + " (checkpoint_id, aggregate_id, chain_len, chain_head) "
                      "SELECT $1, unnest($2::uuid[]), unnest($3::integer[]), unnest($4::text[])",
                      c.id, db::TextArrayLiteral(ids), db::TextArrayLiteral(lens), db::TextArrayLiteral(hashes));
    }
    c.heads = std::move(changed);
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
      c = Verify(ev->events, Expected{.head_len = ev->head_len,
                                      .head_hash = ev->head_hash,
                                      .state_digest = ev->state_digest,
                                      .anchor = a == anchored.end() ? std::nullopt
                                                                    : std::optional<Expected::Anchor>(a->second)});
    }
    if (!c.intact) out.broken.push_back({id, std::move(c)});
  };
  for (const auto& [id, ev] : all) check(id, &ev);
  for (const auto& [id, a] : anchored) {
    if (all.find(id) == all.end()) check(id, nullptr);
  }
  std::sort(out.broken.begin(), out.broken.end(),
            [](const ServiceCheck::Broken& a, const ServiceCheck::Broken& b) { return a.aggregate_id < b.aggregate_id; });
  out.intact = out.checkpoint_problem.empty() && out.broken.empty();
  return out;
}

}  // namespace sm::chain
