// What the risk commands share beyond command.h: finding risk items (by id or number),
// campaigns and talks (by id, unique id prefix or, for a campaign, its name), posts by code;
// printing them; and the pure parts the unit tests reach: dates, mitigations as the command
// line spells them, the screening ledger (CSV) and the request id of one of its rows.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/timestamp.pb.h>

#include "supervision/v1/risk.grpc.pb.h"
#include "tools/smctl/client.h"

namespace sm::smctl {

class RiskClient : public Client<::supervision::v1::RiskService> {
 public:
  using Client::Client;

  // ITEM: a UUID or a number such as FX-2026-000012 (looked for among the items the caller
  // sees). With a UUID and !fetch only the id is filled. Returns an exit code (a failure printed).
  int FindItem(const std::string& key, bool fetch, ::supervision::v1::RiskItem* out);
  // CAMPAIGN: a UUID, a unique id prefix (8+ characters) or the campaign's exact name.
  int FindCampaign(const std::string& key, bool fetch, ::supervision::v1::ScreeningCampaign* out);
  // TALK: a UUID or a unique id prefix (8+ characters).
  int FindTalk(const std::string& key, bool fetch, ::supervision::v1::TalkRecord* out);
  // POST: a post code ("branch-chief") or id, through the directory.
  int PostId(const std::string& key, std::string* id);

  // A user id as a person's name when it is a directory id.
  std::string UserName(const std::string& user) { return IsUuid(user) ? dir.PersonName(user) : user; }
};

// ---- pure helpers ----

// "YYYY-MM-DD" (a China Standard Time date) to the instant it starts, or with `end_of_day`
// to its last second. False for anything else.
bool ParseDay(const std::string& s, bool end_of_day, google::protobuf::Timestamp* out);
// A mitigation as the command line gives it: "MEASURE", "MEASURE@N" (due in N working days)
// or "MEASURE@YYYY-MM-DD". False (with the reason) for an empty measure or a bad deadline.
bool ParseMitigation(const std::string& text, ::supervision::v1::MitigationInput* out, std::string* why_zh,
                     std::string* why_en);

// The request id of a ledger row: the same campaign and badge always give the same id, so a
// second import of the file (or of a file that overlaps it) replays instead of recording twice.
std::string ScreeningRequestId(const std::string& campaign_id, const std::string& badge);

// One row of a screening ledger (排查台账):
//   badge,outcome,category,level,description,leader_badge,measure,deadline_days
struct LedgerRow {
  int line = 0;
  std::string badge;
  ::supervision::v1::ScreeningOutcome outcome{};
  ::supervision::v1::RiskCategory category{};
  ::supervision::v1::RiskLevel level{};
  std::string description;
  std::string leader_badge;
  std::string measure;
  int deadline_days = 0;  // working days; 0: none given
};
struct LedgerProblem {
  int line = 0;        // 1: the header
  std::string column;  // "" : the whole row / file
  std::string zh, en;
  std::string badge;  // the row's, when it has one
};
struct ScreeningLedger {
  std::vector<LedgerRow> rows;          // the good rows, in file order
  std::vector<LedgerProblem> problems;  // every problem, in file order
  int data_rows = 0;                    // rows after the header
};
// Reads a ledger: a UTF-8 CSV (BOM tolerated) with the header above (columns in any order,
// case-insensitive). Outcome CLEAR or RISK_FOUND (also clear / risk-found / 未发现风险 / 发现风险);
// category and level (spellings, enum names or Chinese labels) and description required with
// RISK_FOUND and not allowed with CLEAR; deadline_days a whole number 1..365, only with a
// measure; a badge given twice is a problem of the second row. A row with a problem is not in `rows`.
ScreeningLedger ParseScreeningLedger(std::string_view text);

// A talk's summary as shown: the summary, or "（摘要不可见）" when withheld, or "" when none.
std::string TalkSummaryText(Lang l, const ::supervision::v1::TalkRecord& t);
// A personnel-file part: "可用（3 条）" / "缺失：audit-service（UNAVAILABLE）".
std::string FilePartText(Lang l, const ::supervision::v1::FilePart& p);
// A mitigation as one line: "1. 测量 截止 2026-03-05（5 个工作日） 已完成 2026-03-02：note".
std::string MitigationText(Lang l, const ::supervision::v1::Mitigation& m);
// A score as "62.5 / 60（超过阈值）".
std::string ScoreText(Lang l, const ::supervision::v1::PersonScore& s);
// A number of points: "12.5".
std::string Points(double v);

// ---- printing ----
void AddItemFields(RiskClient& c, const ::supervision::v1::RiskItem& item, FieldTable* t);
void PrintItemDone(RiskClient& c, const ::supervision::v1::RiskItemReply& r, const char* zh, const char* en);
void PrintItems(RiskClient& c, const google::protobuf::RepeatedPtrField<::supervision::v1::RiskItem>& items);
void PrintTalks(RiskClient& c, const google::protobuf::RepeatedPtrField<::supervision::v1::TalkRecord>& talks,
                bool summaries, bool ids = true);
void PrintPoints(RiskClient& c, const google::protobuf::RepeatedPtrField<::supervision::v1::RiskPoint>& points);
void PrintCampaigns(RiskClient& c,
                    const google::protobuf::RepeatedPtrField<::supervision::v1::ScreeningCampaign>& campaigns);
// A score's explanation: the terms, then each signal (its ref shown as its number in `numbers`
// when there, else whole).
void PrintScoreExplanation(RiskClient& c, const ::supervision::v1::PersonScore& s,
                           const std::map<std::string, std::string>& numbers = {});

}  // namespace sm::smctl
