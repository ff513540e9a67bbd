#include "tools/smctl/output.h"

#include <algorithm>

namespace sm::smctl {
namespace {

bool Wide(uint32_t cp) {
  return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
         (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
         (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
         (cp >= 0x1F680 && cp <= 0x1F6FF) || (cp >= 0x1F900 && cp <= 0x1F9FF) ||
         (cp >= 0x20000 && cp <= 0x3FFFD);
}

}  // namespace

size_t DisplayWidth(std::string_view s) {
  size_t width = 0;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    uint32_t cp = c;
    size_t len = 1;
    if (c >= 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else if (c >= 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xC0) {
      len = 2;
      cp = c & 0x1F;
    }
    for (size_t k = 1; k < len && i + k < s.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    width += Wide(cp) ? 2 : 1;
    i += len;
  }
  return width;
}

void PrintTable(std::ostream& out, const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(header.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], DisplayWidth(row[i]));
    }
  };
  measure(header);
  for (const auto& r : rows) measure(r);
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - DisplayWidth(row[i]) + 2, ' ');
    }
    out << line << "\n";
  };
  print(header);
  std::vector<std::string> rule;
  for (size_t w : widths) rule.push_back(std::string(w, '-'));
  print(rule);
  for (const auto& r : rows) print(r);
}

void PrintTree(std::ostream& out, const std::vector<TreeLine>& lines) {
  // open[d] is true while the ancestor at depth d still has siblings to come.
  std::vector<bool> open;
  for (size_t i = 0; i < lines.size(); ++i) {
    const int d = lines[i].depth;
    bool last = true;
    for (size_t j = i + 1; j < lines.size(); ++j) {
      if (lines[j].depth < d) break;
      if (lines[j].depth == d) {
        last = false;
        break;
      }
    }
    open.resize(static_cast<size_t>(d) + 1);
    std::string prefix;
    for (int k = 1; k < d; ++k) prefix += open[static_cast<size_t>(k)] ? "│  " : "   ";
    if (d > 0) prefix += last ? "└─ " : "├─ ";
    open[static_cast<size_t>(d)] = !last;
    out << prefix << lines[i].text << "\n";
  }
}

}  // namespace sm::smctl
