// Tamper evidence against a database administrator, for any service whose chains a
// chain::Guard verifies (docs/clue.md and docs/audit.md § Tamper evidence): random tamper
// operations applied as the superuser, each in a transaction that is checked and rolled back,
// and the checks that the `<svc>_anchor` checkpoint tables are append-only and that a forged
// checkpoint or a tampered chain is never trusted. The service's test seeds its chains and
// says what its tables are; the operations and their expected reports are written here once.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/chain_guard.h"

namespace sm::testing::tamper {

// A service's chains as an administrator sees them.
struct Target {
  std::string schema;         // the service's schema ("clue")
  std::string service_role;   // the role it logs in as ("sm_clue")
  std::string anchor_schema;  // "clue_anchor"
  std::string service;        // signed into its checkpoints ("clue-service")
  std::string events_table;   // "clue_events"
  std::string id_column;      // the events' aggregate column ("clue_id")
  // The table holding `id`'s row with its chain_len and chain_head ("clues").
  std::function<std::string(const std::string& id)> table_of;
  // Edits of `id`'s row, each a SET list that changes a stored value ("title = title || 'x'").
  std::function<std::vector<std::string>(const std::string& id)> row_edits;
  // Statements ($1 = id) editing rows that belong to the aggregate and are in its state
  // digest (clue subjects, a finding's rectifications); run alone, or with a row edit.
  std::vector<std::string> child_edits;
  // The statements ($1 = id) deleting the aggregate whole; empty when something else
  // references it (it is then not chosen for deletion).
  std::function<std::vector<std::string>(const std::string& id)> delete_whole;
  const chain::Guard* guard = nullptr;
};

// Connection strings as the superuser and as the service role, search_path the schema.
std::string SuperuserConn(const Target& t);
std::string ServiceConn(const Target& t);

// Every aggregate's chain length as of checkpoint `checkpoint_id`.
std::map<std::string, int64_t> CheckpointedLengths(const Target& t, int64_t checkpoint_id);

// Applies `operations` random tamper operations (seeded) to the aggregates `ids`, whose
// lengths at the latest checkpoint are `checkpointed` (every id must be in it), each in its
// own superuser transaction: edited, deleted, truncated, rehashed, forged and spliced events,
// edited rows, edited child rows (alone too), whole aggregates deleted. Each must be reported by
// Guard::VerifyIn at its event (docs/clue.md's table), and every so often, and for each
// deletion, by Guard::VerifyAllIn as the only broken chain. Fails the test (gtest) at the
// first miss; prints the time taken and the count of each kind.
void ExpectEveryOperationDetected(const Target& t, const std::vector<std::string>& ids,
                                  const std::map<std::string, int64_t>& checkpointed, int operations, uint64_t seed);

// After checkpoint `checkpoint_id` was taken: it is the latest the service lists, signed in
// the service's name, and the anchor tables refuse UPDATE, DELETE and
// TRUNCATE to the service role (no privilege) and the superuser (the triggers), heads added
// to that checkpoint, and the service role may not drop, alter or take over the anchor.
void ExpectAnchorAppendOnly(const Target& t, int64_t checkpoint_id);

// `id` is intact under checkpoint `cp`: a checkpoint the service role inserts (it cannot
// sign) makes VerifyIn and VerifyAllIn report it untrusted. Then, committed as the superuser,
// `id`'s event 2 deleted and its head moved back: no checkpoint is taken over it (DATA_LOSS)
// and Verify reports event 2. Leaves the tampering in place: the caller resets the schemas.
void ExpectForgedCheckpointDistrustedAndTamperingNotCheckpointed(const Target& t, const std::string& id,
                                                                 const chain::Checkpoint& cp);

}  // namespace sm::testing::tamper
