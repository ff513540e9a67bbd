// Pure helpers of the audit commands: amounts in yuan to integer fen and back, RFC 4180 CSV
// records, the first line of a text that is not UTF-8, and the columns and cells of a
// findings ledger (审计问题台账) in Chinese or English.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "supervision/v1/audit.pb.h"
#include "tools/smctl/output.h"

namespace sm::smctl {

// Decimal yuan ("12345.67", "12,345.6", "¥100", "100元") to integer fen, exactly, without
// floating point. Negative amounts, more than two decimals, misplaced thousands separators,
// stray characters or more than 15 integer digits are refused: returns false and sets the
// reason (in Chinese and English).
bool ParseYuan(std::string_view text, int64_t* fen, std::string* why_zh, std::string* why_en);
// Integer fen as yuan with two decimals: 1234567 -> "12,345.67" (grouped) or "12345.67".
std::string FormatYuan(int64_t fen, bool grouped = true);

// One CSV record: its fields and the physical line it starts on (1-based).
struct CsvRecord {
  int line = 0;
  std::vector<std::string> fields;
};
// RFC 4180: comma-separated, fields optionally in double quotes, "" for a quote inside one,
// commas and line breaks (CRLF, LF or CR) inside quoted fields. Also tolerated: spaces around
// a quoted field, a quote inside an unquoted field (kept as it is). Blank lines are skipped.
// On an unterminated quote or text after a closing quote returns false with the line and reason.
bool ParseCsv(std::string_view text, std::vector<CsvRecord>* records, int* error_line, std::string* why_zh,
              std::string* why_en);
// The 1-based line of the first byte that is not valid UTF-8 (overlong forms, surrogates and
// code points past U+10FFFF are invalid), or 0 when all of `text` is valid.
int FirstInvalidUtf8Line(std::string_view text);

// ---- the columns of a findings ledger ----
enum Column {
  kColTitle,
  kColDescription,
  kColCategory,
  kColAmount,
  kColSeverity,
  kColUnit,
  kColPerson,
  kColEvidence,
  kColumns
};
inline constexpr const char* kColZh[kColumns] = {"标题",     "描述",     "类别",   "金额",
                                                 "严重程度", "责任单位", "责任人", "证据"};
inline constexpr const char* kColEn[kColumns] = {"title",    "description", "category", "amount",
                                                 "severity", "unit",        "person",   "evidence"};
inline constexpr bool kColRequired[kColumns] = {true, true, true, true, true, true, false, false};

// The column a header cell names ("金额（元）", "Unit (code)", "责任人警号", ...), if any.
std::optional<Column> HeaderColumn(const std::string& cell);
// A category cell in either language: the command-line spelling, the enum name, the Chinese
// label or a common short form (财经纪律, 询价, ...).
bool ParseCategoryCell(const std::string& cell, ::supervision::v1::FindingCategory* out);
// A severity cell: 低/中/高/严重, low/medium/high/critical, or the enum name.
bool ParseSeverityCell(const std::string& cell, ::supervision::v1::Severity* out);
// The column a field of AddFindingRequest comes from, as "标题 (title)"; else the field.
std::string ColumnOfField(Lang l, const std::string& field);

}  // namespace sm::smctl
