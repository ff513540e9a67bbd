// The requests of rectification (整改 → 销号) as a service's handlers read them, no I/O: the
// field checks of the five steps and of Get and List (every bad field named, as
// google.rpc.BadRequest), what each step asks of the rules (rectification.h's Command),
// and the page a List asks for. Shared by every service that serves
// rectification.proto's messages (audit-service, inspection-service): a handler validates
// with these, authorizes by its own access table, and hands the request to its store.
#pragma once

#include <optional>
#include <string>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include "common/paging.h"
#include "common/rectification.h"
#include "supervision/v1/rectification.pb.h"

namespace sm::rectification {

// Field checks. OK, or INVALID_ARGUMENT naming every bad field:
//   all steps: request_id (required, at most 128 characters); the item's id (finding_id for
//     AddRectification, rectification_id for the others: a UUID); expected_version (positive)
//     where the request has one;
//   AddRectification: measure (required, at most 2000 characters), owner_unit_id (a UUID
//     when given), working_days (0 to 365; 0: the policy's);
//   RecordProgress: note (required, at most 4000), evidence_refs (at most 50, each 1 to 200
//     characters, no repeats);
//   SubmitRectification: summary (required, at most 4000);
//   ReviewRectification: reason (at most 2000; required to reject);
//   ReopenRectification: reason (required, at most 2000);
//   GetRectification: rectification_id (a UUID).
absl::Status Validate(const v1::AddRectificationRequest& r);
absl::Status Validate(const v1::RecordProgressRequest& r);
absl::Status Validate(const v1::SubmitRectificationRequest& r);
absl::Status Validate(const v1::ReviewRectificationRequest& r);
absl::Status Validate(const v1::ReopenRectificationRequest& r);
absl::Status Validate(const v1::GetRectificationRequest& r);

// What a step on an existing rectification asks of the rules (rectification::Decide): the
// action, its text, evidence (progress) and expected version (0 for progress, which takes
// none). The rectification is the request's rectification_id.
Command CommandOf(const v1::RecordProgressRequest& r);
Command CommandOf(const v1::SubmitRectificationRequest& r);
Command CommandOf(const v1::ReviewRectificationRequest& r);
Command CommandOf(const v1::ReopenRectificationRequest& r);

// The page a ListRectifications asks for: at most `size` rows (page_size: 0 gives
// kDefaultPageSize, more than kMaxPageSize gives kMaxPageSize) after `after` (the last row
// of the page before, in the store's order: created_at, then id; nullopt: the first page).
inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 500;
struct ListPage {
  int size = kDefaultPageSize;
  std::optional<paging::TimeId> after;
  std::string fingerprint;  // of the request's filters: a token is only good for the same ones
};
// The page, or INVALID_ARGUMENT naming every bad field: finding_id and owner_unit_id (UUIDs
// when given), state (a known one), page_size (not negative), page_token (one of ours,
// issued for the same filters).
absl::StatusOr<ListPage> ReadList(const v1::ListRectificationsRequest& r);
// The next_page_token of a page whose last row is `last`.
std::string NextPageToken(const ListPage& page, const v1::Rectification& last);

}  // namespace sm::rectification
