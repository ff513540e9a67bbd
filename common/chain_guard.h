// A service's tamper evidence wired to its own tables (docs/clue.md § Tamper evidence): its
// Anchor, the keys it signs and trusts checkpoints with, and how it reads an aggregate's
// evidence. clue-service and audit-service each hold one; the transactions, the key checks
// and the export of checkpoints as protos are written here once.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <absl/status/statusor.h>

#include "common/chain_anchor.h"
#include "common/clock.h"
#include "common/db/pool.h"
#include "common/event_log.h"
#include "supervision/v1/clue.pb.h"

namespace sm::chain {

class Guard {
 public:
  // One aggregate's evidence as stored now (its events, row head and state digest); nullopt
  // when its row is absent.
  using ReadOne = std::function<absl::StatusOr<std::optional<Evidence>>(db::Tx&, const std::string& id)>;
  // Every aggregate row's head and state digest by id, without events (`log` reads those).
  using ReadRows = std::function<std::map<std::string, Evidence>(db::Tx&)>;

  // `log` reads every event of the service's events table; `noun` names an aggregate in
  // NOT_FOUND messages ("clue"). `pool`, `clock` and `log` must outlive the guard.
  Guard(Anchor anchor, db::Pool* pool, const Clock& clock, const events::EventLog* log, std::string noun, ReadOne one,
        ReadRows rows);

  // Before serving; without keys checkpoints are neither taken nor trusted.
  void SetKeys(ServiceKeys keys) { keys_ = std::move(keys); }

  // One aggregate: its links, its row's head and state, its prefix against the latest
  // checkpoint. NOT_FOUND when it is absent and no checkpoint had it.
  absl::StatusOr<Check> Verify(const std::string& id) const;
  // Every aggregate and the latest checkpoint's signature, count and Merkle root, in one
  // snapshot (a commit in between is no tampering). Events whose aggregate row is gone are
  // checked against no head: they cannot match a record.
  absl::StatusOr<ServiceCheck> VerifyAll() const;
  // The same two inside the caller's transaction (tests run them on uncommitted tampering).
  absl::StatusOr<Check> VerifyIn(db::Tx& tx, const std::string& id) const;
  ServiceCheck VerifyAllIn(db::Tx& tx) const;

  // A signed checkpoint of every chain head unless another replica is taking one (nullopt).
  // FAILED_PRECONDITION without a signing key; DATA_LOSS as Anchor::Take.
  absl::StatusOr<std::optional<Checkpoint>> Take() const;
  // Checkpoints after `after_id`, oldest first, with their changed heads.
  absl::StatusOr<std::vector<Checkpoint>> List(int64_t after_id, int limit) const;

 private:
  Anchor anchor_;
  db::Pool* pool_;
  const Clock& clock_;
  const events::EventLog* log_;
  std::string noun_;
  ReadOne one_;
  ReadRows rows_;
  ServiceKeys keys_;
};

// Fills a VerifyChainResponse (every service's one-aggregate answer) from `c`.
template <typename Resp>
void FillCheck(const Check& c, Resp* resp) {
  resp->set_intact(c.intact);
  resp->set_events(c.events);
  resp->set_first_broken_seq(c.first_broken_seq);
  resp->set_problem(c.problem);
}

// Logs a whole-service check that found something broken, as "<what> broken".
void LogBroken(const ServiceCheck& c, std::string_view what);

// Fills either service's whole-service answer from `c` (clue's VerifyAllChainsResponse and
// audit's VerifyAllAuditChainsResponse differ only in the names of the count and of a broken
// chain's id: `set_count(resp, n)`, `set_id(broken, id)`), and logs a broken result with
// `what` ("clue event chains").
template <typename Resp, typename SetCount, typename SetId>
void FillServiceCheck(const ServiceCheck& c, Resp* resp, SetCount set_count, SetId set_id, std::string_view what) {
  resp->set_intact(c.intact);
  set_count(resp, c.aggregates);
  resp->set_checkpoint_id(c.checkpoint ? c.checkpoint->id : 0);
  resp->set_checkpoint_problem(c.checkpoint_problem);
  for (const auto& b : c.broken) {
    auto* out = resp->add_broken();
    set_id(out, b.aggregate_id);
    out->set_first_broken_seq(b.check.first_broken_seq);
    out->set_problem(b.check.problem);
  }
  if (!c.intact) LogBroken(c, what);
}

// Logs what a checkpoint worker's Take gave: an error, the checkpoint, or nothing (another
// replica was taking one).
void LogCheckpoint(const absl::StatusOr<std::optional<Checkpoint>>& taken);

// The ExportCheckpoints call of either service, after its access check: reads through `list`
// (a store's Checkpoints); INVALID_ARGUMENT for a negative after_id or a limit outside
// 0..500 (0 means 100).
using ListCheckpoints = std::function<absl::StatusOr<std::vector<Checkpoint>>(int64_t after_id, int limit)>;
absl::Status ExportCheckpoints(const ListCheckpoints& list, const ::supervision::v1::ExportCheckpointsRequest& req,
                               ::supervision::v1::ExportCheckpointsResponse* resp);

}  // namespace sm::chain
