// smctl audit import-findings: findings from a CSV ledger (审计问题台账), row by row, each row
// one AddFinding with a request id derived from its content (docs/smctl.md § Importing a
// findings ledger).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/crypto.h"
#include "common/status.h"
#include "tools/smctl/audit_client.h"
#include "tools/smctl/audit_commands.h"
#include "tools/smctl/audit_labels.h"
#include "tools/smctl/audit_ledger.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
using Stub = v1::AuditService::Stub;
namespace {

struct RowError {
  std::string field;  // column label (or the API's field name when it maps to no column)
  std::string message;
};

struct RowResult {
  enum Outcome { kImported, kReplayed, kSameAs, kFailed, kChecked };
  int line = 0;
  Outcome outcome = kFailed;
  std::vector<RowError> errors;
  v1::Finding finding;  // as stored (kImported, kReplayed)
  v1::AddFindingRequest request;
  int same_as_line = 0;  // kSameAs: the earlier identical row
};

// Shows how far an import has got: a bar redrawn in place when stderr is a terminal,
// otherwise a plain line every tenth of the way (at least every 10 rows) and at the end.
class Progress {
 public:
  Progress(Lang l, int total, bool dry_run)
      : total_(total),
        tty_(isatty(STDERR_FILENO) == 1),
        step_(std::max(10, (total + 9) / 10)),
        label_(dry_run ? T(l, "检查", "checked") : T(l, "导入进度", "progress")) {}
  void Update(int done) {
    if (total_ <= 0) return;
    if (tty_) {
      constexpr int kWidth = 30;
      const int filled = static_cast<int>(static_cast<int64_t>(done) * kWidth / total_);
      std::cerr << "\r[" << std::string(static_cast<size_t>(filled), '#')
                << std::string(static_cast<size_t>(kWidth - filled), '-') << "] " << done << "/" << total_
                << std::flush;
      drawn_ = true;
    } else if (done == total_ || done % step_ == 0) {
      std::cerr << label_ << " " << done << "/" << total_ << "\n";
    }
  }
  void Finish() {
    if (tty_ && drawn_) std::cerr << "\n";
    drawn_ = false;
  }

 private:
  int total_;
  bool tty_;
  int step_;
  std::string label_;
  bool drawn_ = false;
};

bool Retryable(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNAVAILABLE || s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

struct ImportArgs {
  std::string file;
  std::string engagement;
  bool dry_run = false;
};

// Exit 6 when any row failed (the good rows are imported all the same), 0 otherwise.
// ---------------------------------------------------------------------------------------
// Import of a findings ledger.

int ImportFindings(Context& ctx, const ImportArgs& a) {
  const Lang l = ctx.lang();
  std::string text;
  if (!ReadFile(a.file, &text)) {
    return ctx.FailLocal(kExitInvalid, "无法读取文件 " + a.file, "cannot read file " + a.file);
  }
  if (StartsWith(text, "\xEF\xBB\xBF")) text.erase(0, 3);
  if (StartsWith(text, "\xFF\xFE") || StartsWith(text, "\xFE\xFF")) {
    return ctx.FailLocal(kExitInvalid, a.file + " 是 UTF-16 编码；请另存为“CSV UTF-8（逗号分隔）”后再导入",
                         a.file + " is UTF-16; save it as \"CSV UTF-8 (comma delimited)\" and import that");
  }
  if (int line = FirstInvalidUtf8Line(text); line > 0) {
    return ctx.FailLocal(
        kExitInvalid,
        a.file + " 第 " + std::to_string(line) +
            " 行不是有效的 UTF-8 文本（文件可能是 GBK/GB18030 编码）。请另存为“CSV UTF-8（逗号分隔）”，或用 "
            "iconv -f GB18030 -t UTF-8 转换后再导入；未导入任何数据。",
        a.file + " line " + std::to_string(line) +
            " is not valid UTF-8 (the file may be GBK/GB18030-encoded). Save it as \"CSV UTF-8\" or convert it with "
            "iconv -f GB18030 -t UTF-8 first; nothing was imported.");
  }
  std::vector<CsvRecord> records;
  int bad_line = 0;
  std::string why_zh, why_en;
  if (!ParseCsv(text, &records, &bad_line, &why_zh, &why_en)) {
    return ctx.FailLocal(kExitInvalid, a.file + "：" + why_zh + "；未导入任何数据。",
                         a.file + ": " + why_en + "; nothing was imported.");
  }
  if (records.empty()) {
    return ctx.FailLocal(kExitInvalid, a.file + " 是空文件（需要标题行和数据行）",
                         a.file + " is empty (a header row and data rows are needed)");
  }

  // The header: which column holds what.
  std::vector<std::optional<Column>> columns;
  std::vector<int> where(kColumns, -1);
  std::vector<std::string> ignored;
  for (size_t c = 0; c < records[0].fields.size(); ++c) {
    const std::string& cell = records[0].fields[c];
    auto col = HeaderColumn(cell);
    if (col && where[*col] >= 0) {
      return ctx.FailLocal(
          kExitInvalid, a.file + " 第 " + std::to_string(records[0].line) + " 行：列“" + Trim(cell) + "”重复",
          a.file + " line " + std::to_string(records[0].line) + ": column \"" + Trim(cell) + "\" appears twice");
    }
    if (col)
      where[*col] = static_cast<int>(c);
    else if (!Trim(cell).empty())
      ignored.push_back(Trim(cell));
    columns.push_back(col);
  }
  std::vector<std::string> missing;
  for (int c = 0; c < kColumns; ++c) {
    if (kColRequired[c] && where[c] < 0) missing.push_back(std::string(kColZh[c]) + "/" + kColEn[c]);
  }
  if (!missing.empty()) {
    return ctx.FailLocal(
        kExitInvalid,
        a.file + " 第 " + std::to_string(records[0].line) + " 行（标题行）缺少列：" + Join(missing, "、") +
            "。标题行应为：标题,描述,类别,金额,严重程度,责任单位[,责任人][,证据]",
        a.file + " line " + std::to_string(records[0].line) + " (the header) lacks columns: " + Join(missing, ", ") +
            ". Expected: title,description,category,amount,severity,unit[,person][,evidence]");
  }
  if (!ignored.empty()) {
    std::cerr << "smctl: " << T(l, "忽略无法识别的列：", "ignoring unrecognised columns: ")
              << Join(ignored, T(l, "、", ", ")) << "\n";
  }

  if (ctx.Token().empty()) return NeedToken(ctx, kAuditService);
  AuditClient s(ctx);
  v1::Engagement en;
  if (int rc = s.FindEngagement(a.engagement, true, &en); rc != kExitOk) return rc;
  if (en.state() == v1::ENGAGEMENT_STATE_CLOSED) {
    return ctx.FailLocal(kExitConflict, "审计项目 " + en.number() + " 已结项，不能再登记问题",
                         "engagement " + en.number() + " is closed: no more findings");
  }

  const int total = static_cast<int>(records.size()) - 1;
  if (!ctx.json()) {
    std::cout << T(l, "审计项目：", "engagement: ") << en.number() << "  " << en.title() << "\n"
              << T(l, "文件：", "file: ") << a.file << T(l, "（数据 ", " (") << total << T(l, " 行）", " rows)")
              << (a.dry_run ? T(l, "  试运行，不写入", "  dry run: nothing is written") : "") << "\n";
  }
  std::vector<RowResult> results;
  std::map<std::string, int> seen;  // request id -> line of the first such row
  Progress progress(l, total, a.dry_run);
  int fatal = kExitOk;
  for (size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& rec = records[r];
    RowResult row;
    row.line = rec.line;
    auto cell = [&](Column c) -> std::string {
      const int at = where[c];
      return at >= 0 && static_cast<size_t>(at) < rec.fields.size() ? Trim(rec.fields[static_cast<size_t>(at)]) : "";
    };
    auto error = [&](Column c, const std::string& zh, const std::string& en_msg) {
      row.errors.push_back({T(l, kColZh[c], kColEn[c]), l == Lang::kZh ? zh : en_msg});
    };
    for (size_t c = columns.size(); c < rec.fields.size(); ++c) {
      if (!Trim(rec.fields[c]).empty()) {
        row.errors.push_back(
            {T(l, "列数", "columns"), l == Lang::kZh ? "比标题行多出的列：" + Trim(rec.fields[c])
                                                     : "more fields than the header has: " + Trim(rec.fields[c])});
        break;
      }
    }
    v1::AddFindingRequest& req = row.request;
    req.set_engagement_id(en.id());
    for (Column c : {kColTitle, kColDescription, kColCategory, kColAmount, kColSeverity, kColUnit}) {
      if (cell(c).empty()) error(c, "必填，不能为空", "is required");
    }
    req.set_title(cell(kColTitle));
    req.set_description(cell(kColDescription));
    if (const std::string v = cell(kColCategory); !v.empty()) {
      v1::FindingCategory cat = v1::FINDING_CATEGORY_UNSPECIFIED;
      if (ParseCategoryCell(v, &cat)) {
        req.set_category(cat);
      } else {
        error(kColCategory,
              "未知类别“" + v +
                  "”（可用：违反财经纪律、涉案财物管理不规范、政府采购不规范、工程建设管理、国有资产管理、内部控制缺陷"
                  "、询价/价格偏高）",
              "unknown category \"" + v + "\" (one of: " + Join(Spellings(FindingCategories()), ", ") + ")");
      }
    }
    if (const std::string v = cell(kColAmount); !v.empty()) {
      int64_t fen = 0;
      if (ParseYuan(v, &fen, &why_zh, &why_en))
        req.set_amount_fen(fen);
      else
        error(kColAmount, why_zh, why_en);
    }
    if (const std::string v = cell(kColSeverity); !v.empty()) {
      v1::Severity sev = v1::SEVERITY_UNSPECIFIED;
      if (ParseSeverityCell(v, &sev))
        req.set_severity(sev);
      else
        error(kColSeverity, "未知严重程度“" + v + "”（可用：低、中、高、严重）",
              "unknown severity \"" + v + "\" (low, medium, high, critical)");
    }
    if (const std::string v = cell(kColUnit); !v.empty()) {
      std::string id;
      grpc::Status st = s.dir.LookupUnit(v, &id);
      if (st.ok())
        req.set_responsible_unit_id(id);
      else if (st.error_code() == grpc::StatusCode::NOT_FOUND)
        error(kColUnit, "未找到单位代码“" + v + "”", "no unit with code \"" + v + "\"");
      else if (st.error_code() == grpc::StatusCode::INVALID_ARGUMENT)
        error(kColUnit, st.error_message(), st.error_message());
      else {
        progress.Finish();
        fatal = Fail(ctx, kDirectoryService, st);
        break;
      }
    }
    if (const std::string v = cell(kColPerson); !v.empty()) {
      std::string id;
      grpc::Status st = s.dir.LookupPerson(v, &id);
      if (st.ok())
        req.set_responsible_person_id(id);
      else if (st.error_code() == grpc::StatusCode::NOT_FOUND)
        error(kColPerson, "未找到警号“" + v + "”", "no person with badge number \"" + v + "\"");
      else if (st.error_code() == grpc::StatusCode::INVALID_ARGUMENT)
        error(kColPerson, st.error_message(), st.error_message());
      else {
        progress.Finish();
        fatal = Fail(ctx, kDirectoryService, st);
        break;
      }
    }
    if (const std::string v = cell(kColEvidence); !v.empty()) {
      std::string refs = v;
      for (size_t at; (at = refs.find("；")) != std::string::npos;)
        refs.replace(at, std::string_view("；").size(), ";");
      std::stringstream parts(refs);
      for (std::string part; std::getline(parts, part, ';');) {
        if (!Trim(part).empty()) req.add_evidence_refs(Trim(part));
      }
    }
    if (row.errors.empty()) {
      // The same row (in content) for the same engagement is the same request: importing the
      // file again, or a file that overlaps it, adds nothing twice.
      nlohmann::json content = {en.id(),
                                req.title(),
                                req.description(),
                                v1::FindingCategory_Name(req.category()),
                                req.amount_fen(),
                                v1::Severity_Name(req.severity()),
                                req.responsible_unit_id(),
                                req.responsible_person_id(),
                                std::vector<std::string>(req.evidence_refs().begin(), req.evidence_refs().end())};
      req.set_request_id("ledger-" + crypto::Sha256Hex(content.dump()));
      if (auto it = seen.find(req.request_id()); it != seen.end()) {
        row.outcome = RowResult::kSameAs;
        row.same_as_line = it->second;
      } else {
        seen[req.request_id()] = row.line;
        if (a.dry_run) {
          row.outcome = RowResult::kChecked;
        } else {
          v1::FindingReply reply;
          grpc::Status st;
          for (int attempt = 0;; ++attempt) {
            st = s.Call(&Stub::AddFinding, req, &reply);
            if (st.ok() || !Retryable(st) || attempt == 2) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(500 << attempt));  // safe: same request id
          }
          if (st.ok()) {
            row.outcome = reply.mutation().replayed() ? RowResult::kReplayed : RowResult::kImported;
            row.finding = reply.finding();
          } else if (st.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
            for (const auto& fv : FieldViolations(FromGrpcStatus(st))) {
              row.errors.push_back({ColumnOfField(l, fv.field), fv.description});
            }
            if (row.errors.empty()) row.errors.push_back({"", st.error_message()});
          } else if (st.error_code() == grpc::StatusCode::ABORTED ||
                     st.error_code() == grpc::StatusCode::ALREADY_EXISTS) {
            row.errors.push_back({"", st.error_message()});
          } else {
            // Affects every row (login, permission, the engagement, the service): stop here.
            progress.Finish();
            fatal = s.Fail(st);
            break;
          }
        }
      }
    }
    if (!row.errors.empty()) row.outcome = RowResult::kFailed;
    results.push_back(std::move(row));
    progress.Update(static_cast<int>(r));
  }
  progress.Finish();

  int imported = 0, replayed = 0, same = 0, failed = 0, checked = 0;
  for (const auto& r : results) {
    imported += r.outcome == RowResult::kImported;
    replayed += r.outcome == RowResult::kReplayed;
    same += r.outcome == RowResult::kSameAs;
    failed += r.outcome == RowResult::kFailed;
    checked += r.outcome == RowResult::kChecked;
  }
  const int not_tried = total - static_cast<int>(results.size());

  if (ctx.json()) {
    nlohmann::json out = {{"engagement_id", en.id()},   {"engagement_number", en.number()},
                          {"dry_run", a.dry_run},       {"rows", total},
                          {"imported", imported},       {"already_imported", replayed},
                          {"duplicates_in_file", same}, {"failed", failed},
                          {"not_tried", not_tried}};
    if (a.dry_run) out["valid"] = checked;
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& r : results) {
      static const char* kOutcome[] = {"imported", "already_imported", "duplicate_in_file", "failed", "valid"};
      nlohmann::json j = {{"line", r.line}, {"outcome", kOutcome[r.outcome]}};
      if (!r.finding.id().empty()) {
        j["finding_id"] = r.finding.id();
        j["number"] = r.finding.number();
      }
      if (r.outcome != RowResult::kFailed) j["amount_fen"] = r.request.amount_fen();
      if (r.same_as_line > 0) j["same_as_line"] = r.same_as_line;
      if (!r.errors.empty()) {
        j["errors"] = nlohmann::json::array();
        for (const auto& e : r.errors) j["errors"].push_back({{"field", e.field}, {"description", e.message}});
      }
      rows.push_back(std::move(j));
    }
    out["results"] = std::move(rows);
    std::cout << out.dump(2) << "\n";
  } else {
    std::vector<std::vector<std::string>> ok_rows;
    for (const auto& r : results) {
      if (r.outcome == RowResult::kFailed) continue;
      std::string state;
      switch (r.outcome) {
        case RowResult::kImported: state = T(l, "已导入", "imported"); break;
        case RowResult::kReplayed: state = T(l, "此前已导入", "imported before"); break;
        case RowResult::kSameAs:
          state = std::string(T(l, "与第 ", "same as line ")) + std::to_string(r.same_as_line) +
                  T(l, " 行相同，跳过", ", skipped");
          break;
        case RowResult::kChecked: state = T(l, "可导入", "valid"); break;
        default: break;
      }
      ok_rows.push_back({std::to_string(r.line), r.finding.number(), Truncate(r.request.title(), 24),
                         Label(l, FindingCategories(), r.request.category()), FormatYuan(r.request.amount_fen()),
                         s.dir.UnitName(r.request.responsible_unit_id()), state});
    }
    if (!ok_rows.empty()) {
      std::cout << "\n";
      PrintTable(std::cout,
                 {T(l, "行号", "line"), T(l, "编号", "number"), T(l, "标题", "title"), T(l, "类别", "category"),
                  T(l, "金额（元）", "amount (yuan)"), T(l, "责任单位", "responsible unit"), T(l, "结果", "result")},
                 ok_rows);
    }
    if (failed > 0) {
      std::cout << "\n"
                << T(l, "未导入的行（请修改后重新导入，已导入的行不会重复）：\n",
                     "rows not imported (fix them and import again; rows already imported are not repeated):\n");
      for (const auto& r : results) {
        if (r.outcome != RowResult::kFailed) continue;
        for (const auto& e : r.errors) {
          std::cout << "  " << T(l, "第 ", "line ") << r.line << T(l, " 行  ", "  ") << e.field
                    << (e.field.empty() ? "" : T(l, "：", ": ")) << e.message << "\n";
        }
      }
    }
    std::cout << "\n";
    if (a.dry_run) {
      std::cout << T(l, "试运行（未写入）：可导入 ", "dry run (nothing written): valid ") << checked
                << T(l, " 条，有误 ", ", failed ") << failed << T(l, " 条", "");
    } else {
      std::cout << T(l, "导入 ", "imported ") << imported << T(l, " 条，失败 ", ", failed ") << failed
                << T(l, " 条", "");
      if (replayed > 0) {
        std::cout << T(l, "（另有 ", " (and ") << replayed
                  << T(l, " 条此前已导入，未重复登记）", " imported before, not added again)");
      }
    }
    if (same > 0) std::cout << T(l, "；文件内重复 ", "; duplicates in the file: ") << same << T(l, " 条", "");
    if (not_tried > 0)
      std::cout << T(l, "；因错误中止，未处理 ", "; stopped early, not tried: ") << not_tried << T(l, " 条", "");
    std::cout << "\n";
  }
  if (fatal != kExitOk) return fatal;
  return failed > 0 ? kExitInvalid : kExitOk;
}

}  // namespace

void AddAuditImportCommand(CLI::App* audit, Commands& commands) {
  auto [cmd, a] = commands.Add(audit, "import-findings", "从 CSV 台账导入审计发现 import findings from a CSV ledger",
                               ImportFindings);
  cmd->add_option("FILE", a->file, "CSV 文件（UTF-8） CSV file (UTF-8)")->required();
  cmd->add_option("--engagement", a->engagement, "审计项目（ID或编号） engagement (id or number)")->required();
  cmd->add_flag("--dry-run", a->dry_run, "只检查，不写入 check only, write nothing");
}

}  // namespace sm::smctl
