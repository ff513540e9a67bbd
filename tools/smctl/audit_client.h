// What the audit commands share beyond command.h: finding engagements, findings and
// rectifications by id or number, and printing them.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "supervision/v1/audit.grpc.pb.h"
#include "tools/smctl/client.h"

namespace sm::smctl {

class AuditClient : public Client<::supervision::v1::AuditService> {
 public:
  using Client::Client;

  // The engagement numbered `number` (upper case) among those the caller sees (nullopt when none).
  grpc::Status SearchEngagement(const std::string& number, std::optional<::supervision::v1::Engagement>* out);
  // ENG (a UUID or a number such as SJ-2026-0001) to the engagement. With a UUID and !fetch
  // only the id is filled. Returns an exit code (a failure printed).
  int FindEngagement(const std::string& key, bool fetch, ::supervision::v1::Engagement* out);
  // FINDING (a UUID or a number such as SJ-2026-0001-02) to the finding. A number is looked
  // for among its engagement's findings first, then among all the caller sees.
  int FindFinding(const std::string& key, bool fetch, ::supervision::v1::Finding* out);
  // RECT (a UUID, or a unique prefix of at least 8 characters) to the rectification: a UUID
  // is read with GetRectification (with !fetch only the id is filled), a prefix looked for
  // among every page of those the caller sees.
  int FindRect(const std::string& key, bool fetch, ::supervision::v1::Rectification* out);
  // The finding's number (cached), or its id when it cannot be read.
  std::string FindingNumber(const std::string& id);

 private:
  std::map<std::string, std::string> finding_numbers_;
};

// "2022-01-01 ~ 2025-12-31", or "" when the engagement has no period.
std::string EngagementPeriod(const ::supervision::v1::Engagement& e);
// After a change: "<what was done>：number  状态：…  版本：…" (and the replay note).
void PrintEngagementDone(AuditClient& c, const ::supervision::v1::EngagementReply& r, const char* zh, const char* en);
void PrintRectDone(AuditClient& c, const ::supervision::v1::RectificationReply& r, const char* zh, const char* en);
// A finding's referral as one cell: the clue number once delivered, else its state.
std::string ReferralCell(Lang l, const ::supervision::v1::Referral& r);
void PrintFindings(AuditClient& c, const google::protobuf::RepeatedPtrField<::supervision::v1::Finding>& findings);
void PrintRects(AuditClient& c, const google::protobuf::RepeatedPtrField<::supervision::v1::Rectification>& rects);
// An event's data as "key: value" pairs, with units and people named and enums in words.
std::string EventData(AuditClient& c, const std::string& json, const ::supervision::v1::Finding& finding);

}  // namespace sm::smctl
