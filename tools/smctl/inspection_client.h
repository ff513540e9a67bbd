// What the inspection commands share beyond command.h: finding inspections, findings,
// measures and rectifications by id, number or id prefix, and printing them.
#pragma once

#include <map>
#include <string>

#include "common/uuid.h"
#include "supervision/v1/inspection.grpc.pb.h"
#include "tools/smctl/client.h"

namespace sm::smctl {

class InspectionClient : public Client<::supervision::v1::InspectionService> {
 public:
  using Client::Client;

  // INSPECTION (a UUID or a number such as DC-2026-0001) to the inspection. With a UUID and
  // !fetch only the id is filled; a number is found by paging through ListInspections, which
  // carries no checklist: `fetch` then reads it whole. Returns an exit code (a failure printed).
  int FindInspection(const std::string& key, bool fetch, ::supervision::v1::Inspection* out);
  // FINDING (a UUID or a number such as DC-2026-0001-03): a number is looked for among its
  // inspection's findings.
  int FindFinding(const std::string& key, bool fetch, ::supervision::v1::InspectionFinding* out);
  // MEASURE and RECT: a UUID, or a unique prefix of one (at least 8 characters), found among
  // those the caller sees (measures have no numbers).
  int FindMeasure(const std::string& key, bool fetch, ::supervision::v1::Measure* out);
  int FindRect(const std::string& key, bool fetch, ::supervision::v1::Rectification* out);
  // CHECK (一案双查): a UUID or a unique id prefix, as MEASURE.
  int FindCheck(const std::string& key, bool fetch, ::supervision::v1::AccountabilityCheck* out);

  // The finding's number (cached), or its id when it cannot be read.
  std::string FindingNumber(const std::string& id);
  // A user id as a person's name when it is a directory id.
  std::string UserName(const std::string& user) { return IsUuid(user) ? dir.PersonName(user) : user; }

 private:
  // Looks up `key` (a UUID or a prefix) by `get` or among every page of `list`.
  template <typename GetReq, typename ListReq, typename ListResp, typename Item>
  int FindByIdPrefix(const std::string& key, bool fetch, Rpc<GetReq, Item> get, GetReq get_req,
                     Rpc<ListReq, ListResp> list, google::protobuf::RepeatedPtrField<Item>* (ListResp::*items)(),
                     const char* zh, const char* en, Item* out);

  std::map<std::string, std::string> finding_numbers_;
};

// After a change: "<what was done>：number  状态：…  版本：…" (and the replay note).
void PrintInspectionDone(InspectionClient& c, const ::supervision::v1::InspectionReply& r, const char* zh,
                         const char* en);
void PrintMeasureDone(InspectionClient& c, const ::supervision::v1::MeasureReply& r, const char* zh, const char* en);

// The rows of an inspection's field table that create, get and show share: number, id,
// kind, title, units, inspectors, period, template, state and checklist summary.
void AddInspectionFields(InspectionClient& c, const ::supervision::v1::Inspection& in, FieldTable* t);
// "2026-03-01 ~ 2026-03-31", or "" when the inspection has no period.
std::string InspectionPeriod(const ::supervision::v1::Inspection& in);
// "12/20（不符合 2，其中 1 项未登记问题）": marked of entries and what is still owed.
std::string SummaryText(Lang l, const ::supervision::v1::ChecklistSummary& s);
// "1/2 已返还" of a measure's withheld items; "" when it has none.
std::string WithheldText(Lang l, const ::supervision::v1::Measure& m);

// An accountability check's leader: the name, or "（无在任领导）" when no active leader holds the duty.
std::string CheckLeaderText(Lang l, const ::supervision::v1::AccountabilityCheck& k);
// An accountability check's outcome: "办理中" (open; "办理中（逾期）" when overdue), or the outcome,
// with the clue number when the leader was referred.
std::string CheckOutcomeText(Lang l, const ::supervision::v1::AccountabilityCheck& k);
// A referred finding's line in `show`: "DC-2026-0001-01 → <unit>  线索：XS-…  状态：…  结论形态：…",
// with the referral's state (and error) instead while there is no clue yet.
std::string ReferredClueLine(Lang l, const std::string& finding_number, const std::string& to_unit,
                             const ::supervision::v1::Referral& r);
// One row a check: id, clue, duty, leader, owner (person, else unit), deadline, outcome.
void PrintChecks(InspectionClient& c,
                 const google::protobuf::RepeatedPtrField<::supervision::v1::AccountabilityCheck>& checks);

void PrintInspections(InspectionClient& c, const google::protobuf::RepeatedPtrField<::supervision::v1::Inspection>& in);
void PrintFindings(InspectionClient& c,
                   const google::protobuf::RepeatedPtrField<::supervision::v1::InspectionFinding>& findings);
void PrintMeasures(InspectionClient& c, const google::protobuf::RepeatedPtrField<::supervision::v1::Measure>& measures);

}  // namespace sm::smctl
