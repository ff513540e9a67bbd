#include "common/rectification_request.h"

#include "common/db/sql.h"
#include "common/status.h"
#include "common/validate.h"

namespace sm::rectification {
namespace {

using validate::Length;
using validate::StepFields;

// A step on an existing rectification: its common fields, then `text` (named `field`).
template <typename Request>
FieldErrors OnRectification(const Request& r, const char* field, const std::string& text, size_t max, bool required) {
  FieldErrors e = StepFields(r, "rectification_id", r.rectification_id());
  Length(e, field, text, max, required);
  return e;
}

}  // namespace

absl::Status Validate(const v1::AddRectificationRequest& r) {
  FieldErrors e = StepFields(r, "finding_id", r.finding_id());
  Length(e, "measure", r.measure(), 2000, true);
  validate::Uuid(e, "owner_unit_id", r.owner_unit_id(), false);
  if (r.working_days() < 0 || r.working_days() > 365) e.Add("working_days", "must be 1 to 365 (0: the default)");
  return e.ToStatus();
}

absl::Status Validate(const v1::RecordProgressRequest& r) {
  FieldErrors e = OnRectification(r, "note", r.note(), 4000, true);
  validate::DistinctTexts(e, "evidence_refs", r.evidence_refs(), 50, 200);
  return e.ToStatus();
}

absl::Status Validate(const v1::SubmitRectificationRequest& r) {
  return OnRectification(r, "summary", r.summary(), 4000, true).ToStatus();
}

absl::Status Validate(const v1::ReviewRectificationRequest& r) {
  return OnRectification(r, "reason", r.reason(), 2000, !r.approve()).ToStatus();
}

absl::Status Validate(const v1::ReopenRectificationRequest& r) {
  return OnRectification(r, "reason", r.reason(), 2000, true).ToStatus();
}

absl::Status Validate(const v1::GetRectificationRequest& r) {
  FieldErrors e;
  validate::Uuid(e, "rectification_id", r.rectification_id());
  return e.ToStatus();
}

Command CommandOf(const v1::RecordProgressRequest& r) {
  return {Action::kProgress, r.note(), {r.evidence_refs().begin(), r.evidence_refs().end()}, 0};
}
Command CommandOf(const v1::SubmitRectificationRequest& r) {
  return {Action::kSubmit, r.summary(), {}, r.expected_version()};
}
Command CommandOf(const v1::ReviewRectificationRequest& r) {
  return {r.approve() ? Action::kApprove : Action::kReject, r.reason(), {}, r.expected_version()};
}
Command CommandOf(const v1::ReopenRectificationRequest& r) {
  return {Action::kReopen, r.reason(), {}, r.expected_version()};
}

absl::StatusOr<ListPage> ReadList(const v1::ListRectificationsRequest& r) {
  FieldErrors e;
  validate::Uuid(e, "finding_id", r.finding_id(), false);
  validate::Uuid(e, "owner_unit_id", r.owner_unit_id(), false);
  if (!v1::RectificationState_IsValid(r.state())) e.Add("state", "unknown state");
  ListPage page;
  auto size = paging::PageSize(r.page_size(), kDefaultPageSize, kMaxPageSize);
  for (const auto& v : FieldViolations(size.status())) e.Add(v.field, v.description);
  if (size.ok()) page.size = *size;
  page.fingerprint = paging::FilterFingerprint(r);
  page.after = paging::DecodeTimeId(r.page_token(), page.fingerprint, e);
  SM_RETURN_IF_ERROR(e.ToStatus());
  return page;
}

std::string NextPageToken(const ListPage& page, const v1::Rectification& last) {
  return paging::EncodeTimeId({db::Micros(last.created_at()), last.id()}, page.fingerprint);
}

}  // namespace sm::rectification
