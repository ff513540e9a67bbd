// smctl output: Chinese by default (English with --lang en), tables that line up with
// double-width CJK characters, trees, and JSON for scripts.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

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

}  // namespace sm::smctl
