// Pure rules of the directory (no I/O): parsing and validating a directory document, and
// planning an import as the difference between what is stored and what the document says.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <absl/status/statusor.h>

#include "supervision/v1/directory.pb.h"

namespace sm::directory {

namespace v1 = ::supervision::v1;

// Limits, in Unicode code points for text.
inline constexpr size_t kMaxDocumentBytes = 16 * 1024 * 1024;
inline constexpr size_t kMaxItems = 200000;
inline constexpr size_t kMaxCode = 64;
inline constexpr size_t kMaxName = 64;
inline constexpr size_t kMaxNameEn = 128;
inline constexpr size_t kMaxBadge = 32;
inline constexpr size_t kMaxGrade = 32;

struct UnitSpec {
  std::string code, name, name_en, parent;  // parent: a code, "" for a root
  v1::UnitKind kind = v1::UNIT_KIND_UNSPECIFIED;
  int sort_order = 0;
};
struct PostSpec {
  std::string code, name, name_en;
  std::vector<v1::Power> powers;  // sorted, unique
  int sort_order = 0;
  v1::LeaderDuty duty = v1::LEADER_DUTY_UNSPECIFIED;  // UNSPECIFIED: none
};
struct PersonSpec {
  std::string badge, name, unit, post, grade;  // unit/post: codes; post "" for none
  bool leader = false;
  v1::PersonCategory category = v1::PERSON_CATEGORY_UNSPECIFIED;
};
struct Document {
  std::vector<UnitSpec> units;
  std::vector<PostSpec> posts;
  std::vector<PersonSpec> people;
};

// Parses YAML or JSON text into a Document and checks every rule: required fields, sizes,
// valid UTF-8, known kinds/powers/duties/categories, unique codes and badges, references that
// resolve within the document, and a unit tree without cycles. Errors: INVALID_ARGUMENT
// with one field violation per problem, named like "people[12].badge" (first 100 kept).
absl::StatusOr<Document> ParseDocument(std::string_view text);

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates).
bool IsValidUtf8(std::string_view s);
// Number of code points in well-formed UTF-8 `s`.
size_t CodePoints(std::string_view s);

// What is stored now (ids and current values).
struct StoredUnit {
  std::string id, code, name, name_en, parent_id, kind;
  int sort_order = 0;
  bool active = true;
};
struct StoredPost {
  std::string id, code, name, name_en;
  std::vector<std::string> powers;
  int sort_order = 0;
  bool active = true;
  std::string duty;  // document name (PRINCIPAL, SUPERVISING), "" for none
};
struct StoredPerson {
  std::string id, badge, name, unit_id, post_id, grade, category;
  bool leader = false;
  bool active = true;
};
struct Snapshot {
  std::vector<StoredUnit> units;
  std::vector<StoredPost> posts;
  std::vector<StoredPerson> people;
};

// Rows to write: the full new value of every created or changed row, and what changed.
struct Plan {
  std::vector<StoredUnit> unit_writes;  // inserts and updates (full rows, active = true)
  std::vector<StoredPost> post_writes;
  std::vector<StoredPerson> person_writes;
  std::vector<std::string> unit_deactivations;  // ids
  std::vector<std::string> post_deactivations;
  std::vector<std::string> person_deactivations;
  std::vector<std::string> new_ids;  // ids among the writes that are inserts
  v1::ImportCounts units, posts, people;
  std::vector<v1::ImportChange> changes;
  bool changed() const;
};

// Plans the import of `doc` over `current`; `new_id` makes ids for new rows.
Plan PlanImport(const Snapshot& current, const Document& doc, const std::function<std::string()>& new_id);

// Document names of enum values ("BRANCH_BUREAU") and back.
std::string UnitKindName(v1::UnitKind k);
std::string PowerName(v1::Power p);
std::string CategoryName(v1::PersonCategory c);
std::string DutyName(v1::LeaderDuty d);  // "" for UNSPECIFIED (no duty)
v1::UnitKind UnitKindFromName(std::string_view s);
v1::Power PowerFromName(std::string_view s);
v1::PersonCategory CategoryFromName(std::string_view s);
v1::LeaderDuty DutyFromName(std::string_view s);

}  // namespace sm::directory
