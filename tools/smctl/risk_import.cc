// smctl risk campaign import CAMPAIGN FILE.csv: a screening ledger (排查台账), one
// RecordScreening a row with a request id derived from (campaign, badge), so importing the
// file again replays instead of recording twice (docs/smctl.md § Risk).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "tools/smctl/risk_client.h"
#include "tools/smctl/risk_commands.h"
#include "tools/smctl/risk_labels.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
using Stub = v1::RiskService::Stub;
namespace {

struct RowReport {
  int line = 0;
  std::string badge;
  enum Outcome { kImported, kReplayed, kFailed } outcome = kFailed;
  std::string column;  // of the error
  std::string error;
  std::string item_number;
  v1::ScreeningOutcome screening{};
};

// A bar redrawn in place on stderr when it is a terminal; nothing otherwise.
class Bar {
 public:
  explicit Bar(int total) : total_(total), tty_(isatty(STDERR_FILENO) == 1) {}
  void Update(int done) {
    if (!tty_ || total_ <= 0) return;
    constexpr int kWidth = 30;
    const int filled = done * kWidth / total_;
    std::cerr << "\r[" << std::string(static_cast<size_t>(filled), '#')
              << std::string(static_cast<size_t>(kWidth - filled), '-') << "] " << done << "/" << total_ << std::flush;
  }
  void Finish() {
    if (tty_ && total_ > 0) std::cerr << "\n";
  }

 private:
  int total_;
  bool tty_;
};

// The ledger column of a RecordScreeningRequest field the service names.
std::string ColumnOf(const std::string& field) {
  if (field == "person_id") return "badge";
  if (field == "outcome") return "outcome";
  if (EndsWith(field, "category")) return "category";
  if (EndsWith(field, "level")) return "level";
  if (EndsWith(field, "description")) return "description";
  if (EndsWith(field, "responsible_leader_id")) return "leader_badge";
  if (field.find("mitigations") != std::string::npos) {
    return field.find("working_days") != std::string::npos || field.find("deadline") != std::string::npos
               ? "deadline_days"
               : "measure";
  }
  return field;
}

bool Retryable(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNAVAILABLE || s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

struct ImportArgs {
  std::string campaign;
  std::string file;
};

int Import(RiskClient& c, const ImportArgs& a) {
  const Lang l = c.lang();
  std::string text;
  if (!ReadFile(a.file, &text)) {
    return c.ctx.FailLocal(kExitInvalid, "无法读取文件 " + a.file, "cannot read file " + a.file);
  }
  const ScreeningLedger ledger = ParseScreeningLedger(text);
  // A problem of the file as a whole (encoding, CSV syntax, header): nothing is imported.
  for (const auto& p : ledger.problems) {
    if (p.line == 1 || p.column.empty()) {
      std::string where =
          a.file +
          (p.line > 0 ? " " + std::string(T(l, "第 ", "line ")) + std::to_string(p.line) + T(l, " 行", "") : "");
      if (!p.column.empty()) where += " " + p.column;
      return c.ctx.FailLocal(kExitInvalid, where + "：" + p.zh + "；未导入任何数据。",
                             where + ": " + p.en + "; nothing was imported.");
    }
  }
  v1::ScreeningCampaign cp;
  if (int rc = c.FindCampaign(a.campaign, false, &cp); rc != kExitOk) return rc;

  std::vector<RowReport> reports;
  for (const auto& p : ledger.problems) {
    RowReport r;
    r.line = p.line;
    r.badge = p.badge;
    r.column = p.column;
    r.error = T(l, p.zh.c_str(), p.en.c_str());
    reports.push_back(std::move(r));
  }
  Bar bar(static_cast<int>(ledger.rows.size()));
  int fatal = kExitOk, done = 0;
  for (const LedgerRow& row : ledger.rows) {
    RowReport r;
    r.line = row.line;
    r.badge = row.badge;
    r.screening = row.outcome;
    auto fail = [&](const std::string& column, const std::string& error) {
      r.column = column;
      r.error = error;
    };
    v1::RecordScreeningRequest req;
    std::string person, leader;
    grpc::Status st = c.dir.LookupPerson(row.badge, &person);
    if (st.error_code() == grpc::StatusCode::NOT_FOUND) {
      fail("badge", std::string(T(l, "未找到警号 ", "no person with badge ")) + row.badge);
    } else if (!st.ok()) {
      fatal = Fail(c.ctx, kDirectoryService, st);
      break;
    }
    if (r.error.empty() && !row.leader_badge.empty()) {
      st = c.dir.LookupPerson(row.leader_badge, &leader);
      if (st.error_code() == grpc::StatusCode::NOT_FOUND) {
        fail("leader_badge", std::string(T(l, "未找到警号 ", "no person with badge ")) + row.leader_badge);
      } else if (!st.ok()) {
        fatal = Fail(c.ctx, kDirectoryService, st);
        break;
      }
    }
    if (r.error.empty()) {
      req.set_request_id(ScreeningRequestId(cp.id(), row.badge));
      req.set_campaign_id(cp.id());
      req.set_person_id(person);
      req.set_outcome(row.outcome);
      if (row.outcome == v1::SCREENING_OUTCOME_RISK_FOUND) {
        v1::OpenRiskItemRequest* item = req.mutable_item();
        item->set_person_id(person);
        item->set_category(row.category);
        item->set_level(row.level);
        item->set_source(v1::RISK_SOURCE_SCREENING);
        item->set_source_ref(cp.id());
        item->set_description(row.description);
        item->set_responsible_leader_id(leader);
        if (!row.measure.empty()) {
          v1::MitigationInput* m = item->add_mitigations();
          m->set_measure(row.measure);
          m->set_working_days(row.deadline_days);
        }
      }
      v1::ScreeningReply reply;
      for (int attempt = 0;; ++attempt) {
        st = c.Call(&Stub::RecordScreening, req, &reply);
        if (st.ok() || !Retryable(st) || attempt == 2) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(500 << attempt));  // safe: same request id
      }
      if (st.ok()) {
        r.outcome = reply.mutation().replayed() ? RowReport::kReplayed : RowReport::kImported;
        r.item_number = reply.item().number();
      } else if (st.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
        auto violations = FieldViolations(FromGrpcStatus(st));
        if (violations.empty()) fail("", st.error_message());
        for (const auto& v : violations) {
          if (v.field == "request_id") {
            // The request id is the row's (campaign, badge): the person was imported into the
            // campaign before with other content.
            fail("badge", T(l, "此人此前已导入本活动，但内容不同（排查结果不能通过重新导入更改）",
                            "imported into this campaign before with other content (re-importing cannot change a "
                            "screening)"));
          } else {
            fail(ColumnOf(v.field), v.description);
          }
          break;  // the first; the service lists them in field order
        }
      } else if (st.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
                 st.error_code() == grpc::StatusCode::ABORTED || st.error_code() == grpc::StatusCode::ALREADY_EXISTS ||
                 st.error_code() == grpc::StatusCode::NOT_FOUND) {
        fail("", st.error_message());
      } else {
        // Affects every row (login, permission, the service): stop here.
        bar.Finish();
        fatal = c.Fail(st);
        break;
      }
    }
    reports.push_back(std::move(r));
    bar.Update(++done);
  }
  if (fatal == kExitOk) bar.Finish();
  std::sort(reports.begin(), reports.end(), [](const RowReport& x, const RowReport& y) { return x.line < y.line; });

  int imported = 0, replayed = 0, failed = 0;
  for (const auto& r : reports) {
    imported += r.outcome == RowReport::kImported;
    replayed += r.outcome == RowReport::kReplayed;
    failed += r.outcome == RowReport::kFailed;
  }
  const int not_tried = ledger.data_rows - static_cast<int>(reports.size());
  if (c.ctx.json()) {
    nlohmann::json out = {{"campaign_id", cp.id()}, {"rows", ledger.data_rows}, {"imported", imported},
                          {"replayed", replayed},   {"failed", failed},         {"not_tried", not_tried}};
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& r : reports) {
      static const char* kOutcome[] = {"imported", "replayed", "failed"};
      nlohmann::json j = {{"line", r.line}, {"badge", r.badge}, {"outcome", kOutcome[r.outcome]}};
      if (!r.item_number.empty()) j["risk_item"] = r.item_number;
      if (r.outcome == RowReport::kFailed) j["error"] = {{"field", r.column}, {"description", r.error}};
      rows.push_back(std::move(j));
    }
    out["results"] = std::move(rows);
    std::cout << out.dump(2) << "\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& r : reports) {
      std::string result;
      switch (r.outcome) {
        case RowReport::kImported: result = T(l, "已导入", "imported"); break;
        case RowReport::kReplayed: result = T(l, "已导入（重放）", "imported (replayed)"); break;
        case RowReport::kFailed:
          result =
              std::string(T(l, "失败：", "failed: ")) + (r.column.empty() ? "" : r.column + T(l, "：", ": ")) + r.error;
          break;
      }
      rows.push_back({std::to_string(r.line), r.badge,
                      r.outcome == RowReport::kFailed ? "" : Label(l, ScreeningOutcomes(), r.screening), r.item_number,
                      result});
    }
    PrintTable(std::cout,
               {T(l, "行号", "line"), T(l, "警号", "badge"), T(l, "排查结果", "outcome"), T(l, "风险隐患", "risk item"),
                T(l, "结果", "result")},
               rows);
    std::cout << "\n"
              << T(l, "导入 ", "imported ") << imported << T(l, " 条，重放 ", ", replayed ") << replayed
              << T(l, " 条，失败 ", ", failed ") << failed << T(l, " 条", "");
    if (not_tried > 0) std::cout << T(l, "；因错误中止，未处理 ", "; stopped early, not tried: ") << not_tried;
    std::cout << "\n";
  }
  if (fatal != kExitOk) return fatal;
  return failed > 0 ? kExitInvalid : kExitOk;
}

}  // namespace

void AddRiskImportCommand(CLI::App* campaign, Commands& commands) {
  auto [cmd, a] =
      commands.Add(campaign, "import", "从 CSV 排查台账导入排查结果 import a screening ledger (CSV)", Import);
  cmd->add_option("CAMPAIGN", a->campaign, "排查活动（ID、ID前缀或名称） campaign (id, id prefix or name)")->required();
  cmd->add_option("FILE", a->file,
                  "CSV（UTF-8）：badge,outcome,category,level,description,leader_badge,measure,deadline_days")
      ->required();
}

}  // namespace sm::smctl
