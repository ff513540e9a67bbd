// What other services read of the directory (directory-service owns it): a unit with its
// ancestors, a person, the leaders answering for a unit, through the read-only views granted
// to sm_directory_reader. Look-ups are kept in memory per directory generation
// (directory.v_generation, re-read at most every 250 ms): a copy is used while the generation
// has not moved, so an import shows within that time, and a write path pays no directory
// round trip per call.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <absl/status/statusor.h>

#include "common/db/pool.h"
#include "common/refreshed.h"

namespace sm {

struct UnitInfo {
  std::string id, name, kind;
  bool active = false;
  std::vector<std::string> ancestors;  // root first
};

struct PersonInfo {
  std::string id, name, unit_id;
  bool active = false;
  bool leader = false;
};

// A leader answering for a unit in accountability checks (一案双查): an active person whose
// (active) post carries the duty.
struct ResponsibleLeader {
  std::string person_id, name, post_id;
  std::string unit_id;  // where the leader was found: the unit asked about or an ancestor
};

// The leaders of a unit, each taken from the unit itself or else from its nearest ancestor
// that has one; absent when no unit up to the root has one.
struct ResponsibleLeaders {
  std::optional<ResponsibleLeader> principal;    // 主体责任 (post duty PRINCIPAL)
  std::optional<ResponsibleLeader> supervising;  // 监督责任 (post duty SUPERVISING)
};

class DirectoryReader {
 public:
  explicit DirectoryReader(db::Pool* pool) : pool_(pool) {}

  // NOT_FOUND when there is no such unit / person (inactive ones are returned, marked).
  // `tx`: the caller's open transaction, used for what is not kept in memory (a write path
  // holding a pooled connection must not wait for a second one: with every connection so
  // held, that wait only ends at the pool's acquire timeout). Null: a transaction of its own.
  absl::StatusOr<UnitInfo> Unit(const std::string& id, db::Tx* tx = nullptr);
  absl::StatusOr<PersonInfo> Person(const std::string& id, db::Tx* tx = nullptr);
  // The principal and supervising leaders of unit `unit_id` (inactive units are walked up
  // their stored parents like active ones). When one unit has several people holding posts
  // of a duty, the one with the lowest badge number (bytewise) is taken. NOT_FOUND when
  // there is no such unit; a missing leader is absent, not an error.
  absl::StatusOr<ResponsibleLeaders> LeadersOf(const std::string& unit_id, db::Tx* tx = nullptr);

 private:
  struct Copy {
    static constexpr size_t kLimit = 20000;  // per map; beyond it, start afresh
    std::mutex mu;
    int64_t generation = -1;
    std::unordered_map<std::string, UnitInfo> units;
    std::unordered_map<std::string, PersonInfo> people;
    std::unordered_map<std::string, ResponsibleLeaders> leaders;  // by unit id
    template <typename T>
    std::optional<T> Find(const std::unordered_map<std::string, T>& map, int64_t generation, const std::string& id);
    template <typename T>
    void Keep(std::unordered_map<std::string, T>& map, int64_t loaded_generation, const T& value,
              const std::string& id);
  };
  absl::StatusOr<int64_t> Generation(db::Tx* tx);
  // The copy of `id` kept in `map` while the generation has not moved; else what `load` reads
  // into its second argument (in `tx` when given), returning the generation it read, kept
  // under that generation. Errors: those of Generation's read are skipped (the value is read
  // afresh), those of `load` are returned and nothing is kept.
  template <typename T>
  absl::StatusOr<T> Look(std::unordered_map<std::string, T>& map, const std::string& id, db::Tx* tx,
                         const std::function<absl::StatusOr<int64_t>(db::Tx&, T&)>& load);

  db::Pool* pool_;
  Refreshed<int64_t> generation_{std::chrono::milliseconds(250)};
  Copy copy_;
};

// A directory look-up as a fact: nullopt when the directory has no such record; any other
// failure stays an error (and refuses the step that needed it).
template <typename T>
absl::StatusOr<std::optional<T>> Known(absl::StatusOr<T> found) {
  if (absl::IsNotFound(found.status())) return std::optional<T>();
  if (!found.ok()) return found.status();
  return std::optional<T>(*std::move(found));
}

}  // namespace sm
