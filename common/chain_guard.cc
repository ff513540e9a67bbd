#include "common/chain_guard.h"

#include "common/db/sql.h"
#include "common/log.h"
#include "common/status.h"

namespace sm::chain {

Guard::Guard(Anchor anchor, db::Pool* pool, const Clock& clock, const events::EventLog* log, std::string noun,
             ReadOne one, ReadRows rows)
    : anchor_(std::move(anchor)),
      pool_(pool),
      clock_(clock),
      log_(log),
      noun_(std::move(noun)),
      one_(std::move(one)),
      rows_(std::move(rows)) {}

absl::StatusOr<Check> Guard::VerifyIn(db::Tx& tx, const std::string& id) const {
  SM_ASSIGN_OR_RETURN(std::optional<Evidence> evidence, one_(tx, id));
  auto c = anchor_.VerifyOne(tx, keys_.keys, id, evidence);
  if (absl::IsNotFound(c.status())) return absl::NotFoundError(noun_ + " not found");
  return c;
}

ServiceCheck Guard::VerifyAllIn(db::Tx& tx) const {
  std::map<std::string, Evidence> all = rows_(tx);
  for (auto& [id, events] : log_->ReadAll(tx)) {
    auto it = all.find(id);
    if (it != all.end()) {
      it->second.events = std::move(events);
    } else {
      all.emplace(id, Evidence{std::move(events), 0, "", std::nullopt});
    }
  }
  return anchor_.VerifyAll(tx, keys_.keys, all);
}

absl::StatusOr<Check> Guard::Verify(const std::string& id) const {
  absl::StatusOr<Check> out = absl::InternalError("not verified");
  absl::Status s = db::WithTransaction(
      *pool_,
      [&](db::Tx& tx) -> absl::Status {
        out = VerifyIn(tx, id);
        return out.status();
      },
      // One snapshot for the row, its events and the checkpoint: under READ COMMITTED each
      // statement sees what committed before it, and a step committed between the reads
      // looked exactly like tampering ("more events than the record says").
      db::TxOptions{.serializable = true, .read_only = true});
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<ServiceCheck> Guard::VerifyAll() const {
  ServiceCheck out;
  absl::Status s = db::WithTransaction(
      *pool_,
      [&](db::Tx& tx) -> absl::Status {
        out = VerifyAllIn(tx);
        return absl::OkStatus();
      },
      db::TxOptions{.serializable = true, .read_only = true});
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::optional<Checkpoint>> Guard::Take() const {
  if (!keys_.sign) return absl::FailedPreconditionError("no signing key: checkpoints are not taken");
  return anchor_.Take(*pool_, keys_.sign, keys_.keys, ToUnixMicros(clock_.Now()));
}

absl::StatusOr<std::vector<Checkpoint>> Guard::List(int64_t after_id, int limit) const {
  std::vector<Checkpoint> out;
  absl::Status s = db::WithTransaction(
      *pool_,
      [&](db::Tx& tx) -> absl::Status {
        out = anchor_.List(tx, after_id, limit);
        return absl::OkStatus();
      },
      db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return out;
}

void LogBroken(const ServiceCheck& c, std::string_view what) {
  log::Error(std::string(what) + " broken",
             {{"broken", static_cast<int64_t>(c.broken.size())}, {"checkpoint_problem", c.checkpoint_problem}});
}

void LogCheckpoint(const absl::StatusOr<std::optional<Checkpoint>>& taken) {
  if (!taken.ok()) {
    log::Error("chain checkpoint not taken", {{"error", std::string(taken.status().message())}});
  } else if (taken->has_value()) {
    log::Info("chain checkpoint taken", {{"id", (*taken)->id}, {"aggregates", (*taken)->aggregates}});
  }
}

absl::Status ExportCheckpoints(const ListCheckpoints& list, const ::supervision::v1::ExportCheckpointsRequest& req,
                               ::supervision::v1::ExportCheckpointsResponse* resp) {
  if (req.after_id() < 0) return InvalidField("after_id", "must not be negative");
  if (req.limit() < 0 || req.limit() > 500) return InvalidField("limit", "must be 0 to 500");
  SM_ASSIGN_OR_RETURN(auto checkpoints, list(req.after_id(), req.limit() == 0 ? 100 : req.limit()));
  for (const auto& c : checkpoints) {
    auto* out = resp->add_checkpoints();
    out->set_id(c.id);
    out->set_service(c.service);
    db::SetMicros(out->mutable_taken_at(), c.taken_at_micros);
    out->set_aggregates(c.aggregates);
    out->set_merkle_root(c.merkle_root);
    out->set_kid(c.kid);
    out->set_signature(c.signature);
    for (const auto& h : c.heads) {
      auto* head = out->add_heads();
      head->set_aggregate_id(h.aggregate_id);
      head->set_chain_len(h.len);
      head->set_chain_head(h.head);
    }
  }
  return absl::OkStatus();
}

}  // namespace sm::chain
