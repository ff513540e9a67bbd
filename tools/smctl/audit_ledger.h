// Pure helpers of the audit commands (table-tested): amounts in yuan to integer fen and back,
// RFC 4180 CSV records, and the first line of a text that is not UTF-8.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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

}  // namespace sm::smctl
