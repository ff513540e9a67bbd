// smctl output: Chinese by default (English with --lang en), tables that line up with
// double-width CJK characters, trees, and JSON for scripts.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/timestamp.pb.h>

namespace sm::smctl {

enum class Lang { kZh, kEn };

// A message in the chosen language: T(lang, "中文", "English").
inline const char* T(Lang lang, const char* zh, const char* en) { return lang == Lang::kZh ? zh : en; }

// Terminal columns `s` (UTF-8) occupies: 2 for East Asian wide characters, else 1.
size_t DisplayWidth(std::string_view s);

// Prints rows under a header, columns padded to their widest cell.
void PrintTable(std::ostream& out, const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows);

// One line of a tree: the text and its depth (0 = root), in pre-order.
struct TreeLine {
  std::string text;
  int depth;
};
// Prints `lines` with ├─ └─ │ connectors.
void PrintTree(std::ostream& out, const std::vector<TreeLine>& lines);

// "2026-03-05 14:03[:07]" in Beijing time (UTC+8, no daylight saving); "" when unset.
std::string BeijingTime(const google::protobuf::Timestamp& t, bool seconds = false);

// At most `width` terminal columns of `s` on one line, with "…" when cut.
std::string Truncate(const std::string& s, size_t width);

// The non-empty `parts` joined by `sep`.
std::string Join(const std::vector<std::string>& parts, const std::string& sep);

// `part` of `whole` as "12.5%" (one decimal, rounded); "—" when `whole` is 0.
std::string Percent(int64_t part, int64_t whole);

// "是"/"yes" or "否"/"no".
inline const char* YesNo(Lang l, bool b) { return b ? T(l, "是", "yes") : T(l, "否", "no"); }

// After a list: how to get the next page, when there is one.
void PrintMoreResults(Lang l, const std::string& next_page_token);
// After a change: the note that the service replayed an earlier answer, when it did.
void PrintReplayed(Lang l, bool replayed);

// The rows of a "field / value" table (the show commands).
class FieldTable {
 public:
  explicit FieldTable(Lang l) : lang_(l) {}
  // A row, even when `value` is empty.
  void Add(const char* zh, const char* en, std::string value) { rows_.push_back({T(lang_, zh, en), std::move(value)}); }
  // A row only when `value` is not empty.
  void AddIf(const char* zh, const char* en, std::string value) {
    if (!value.empty()) Add(zh, en, std::move(value));
  }
  void Print(std::ostream& out) const;

 private:
  Lang lang_;
  std::vector<std::vector<std::string>> rows_;
};

// Text helpers for command-line input.
std::string Upper(std::string s);
std::string Lower(std::string s);
bool StartsWith(std::string_view s, std::string_view prefix);
bool EndsWith(std::string_view s, std::string_view suffix);
// Without ASCII white space and ideographic spaces (U+3000) at either end.
std::string Trim(std::string_view s);
// The whole file; false when it cannot be read.
bool ReadFile(const std::string& path, std::string* out);

}  // namespace sm::smctl
