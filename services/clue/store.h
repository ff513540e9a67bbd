// Storage interface of clue-service; pg_store.h is its PostgreSQL implementation.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <absl/status/statusor.h>
#include <nlohmann/json.hpp>

#include "common/hash_chain.h"
#include "supervision/v1/clue.pb.h"

namespace sm::clue {

namespace v1 = ::supervision::v1;

// A clue as stored: the proto without details and reporter, plus their sealed forms.
struct StoredClue {
  v1::Clue clue;
  std::string details_sealed;   // "" when none
  std::string reporter_sealed;  // "" when none
  int chain_len = 0;
  std::string chain_head;
};

struct Actor {
  std::string user;
  std::string unit;
};

// What a step does to a clue: its full new value, the event that records it, and the units
// that join its chain of custody (and so may see it).
struct Change {
  StoredClue after;
  std::string event_type;
  nlohmann::json data = nlohmann::json::object();
  std::vector<std::string> custody_add;
};

// Renders the reply stored for idempotent replays (no sensitive content).
using Render = std::function<v1::ClueReply(const StoredClue&)>;

struct ListQuery {
  std::optional<std::string> visible_to_unit;  // nullopt: every clue (oversight)
  std::optional<std::string> holding_unit, origin_unit, state, category, subject_person, text;
  std::optional<int64_t> received_from_us, received_to_us;
  bool overdue_only = false;
  std::optional<std::pair<int64_t, std::string>> after;  // (received_at µs, id)
  int limit = 50;
};

struct UnitInfo {
  std::string id, name;
  bool active = false;
  std::vector<std::string> ancestors;  // root first
};
struct PersonInfo {
  std::string id, name, unit_id;
  bool active = false;
};

class Store {
 public:
  virtual ~Store() = default;

  // Inserts `clue` with its first event, idempotently on request_id and on
  // (source_system, source_ref): a repeat returns the first reply with replayed set.
  virtual absl::StatusOr<v1::ClueReply> Register(const StoredClue& clue, const Actor& actor,
                                                 const std::string& request_id, const std::string& fingerprint,
                                                 const nlohmann::json& event_data, const Render& render) = 0;

  // Locks the clue, checks expected_version (ABORTED on mismatch, NOT_FOUND when absent),
  // runs `apply`, and writes the change, its event and custody in one transaction.
  // Idempotent on request_id.
  virtual absl::StatusOr<v1::ClueReply> Mutate(const std::string& clue_id, int64_t expected_version,
                                               const Actor& actor, const std::string& request_id,
                                               const std::string& method, const std::string& fingerprint,
                                               const std::function<absl::StatusOr<Change>(const StoredClue&)>& apply,
                                               const Render& render) = 0;

  // Appends an event that changes nothing else (e.g. a reporter reveal); the version stays.
  virtual absl::Status AppendEvent(const std::string& clue_id, const Actor& actor, const std::string& type,
                                   const nlohmann::json& data) = 0;

  virtual absl::StatusOr<StoredClue> Get(const std::string& clue_id) = 0;
  virtual absl::StatusOr<bool> InCustody(const std::string& clue_id, const std::string& unit_id) = 0;
  virtual absl::StatusOr<std::vector<StoredClue>> List(const ListQuery& q) = 0;
  virtual absl::StatusOr<std::vector<chain::Event>> Events(const std::string& clue_id) = 0;

  // Directory reads (through the directory views). NOT_FOUND when absent.
  virtual absl::StatusOr<UnitInfo> Unit(const std::string& id) = 0;
  virtual absl::StatusOr<PersonInfo> Person(const std::string& id) = 0;
};

}  // namespace sm::clue
