#include "tools/smctl/output.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

namespace sm::smctl {
namespace {

bool Wide(uint32_t cp) {
  return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
         (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) || (cp >= 0x1F680 && cp <= 0x1F6FF) ||
         (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD);
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

std::string BeijingTime(const google::protobuf::Timestamp& t, bool seconds) {
  if (t.seconds() == 0 && t.nanos() == 0) return "";
  std::time_t s = static_cast<std::time_t>(t.seconds() + 8 * 3600);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, seconds ? "%Y-%m-%d %H:%M:%S" : "%Y-%m-%d %H:%M", &tm);
  return buf;
}

std::string Truncate(const std::string& in, size_t width) {
  std::string s;
  for (char c : in) s += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (DisplayWidth(s) <= width) return s;
  std::string out;
  size_t used = 0;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    std::string ch = s.substr(i, len);
    const size_t w = DisplayWidth(ch);
    if (used + w > width - 1) break;  // keep one column for the ellipsis
    out += ch;
    used += w;
    i += len;
  }
  return out + "…";
}

std::string Join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

std::string Percent(int64_t part, int64_t whole) {
  if (whole <= 0) return "—";
  const int64_t tenths = (part * 1000 + whole / 2) / whole;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + "%";
}

void PrintMoreResults(Lang l, const std::string& next_page_token) {
  if (next_page_token.empty()) return;
  std::cout << T(l, "还有更多结果：--page-token ", "more results: --page-token ") << next_page_token << "\n";
}

void PrintReplayed(Lang l, bool replayed) {
  if (!replayed) return;
  std::cout << T(l, "（此请求此前已执行，以上为首次结果）\n",
                 "(this request was done before; the first result is shown)\n");
}

void FieldTable::Print(std::ostream& out) const {
  PrintTable(out, {T(lang_, "字段", "field"), T(lang_, "值", "value")}, rows_);
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool EndsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

std::string Trim(std::string_view s) {
  static constexpr std::string_view kIdeographicSpace = "\xE3\x80\x80";
  while (true) {
    if (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
      s.remove_prefix(1);
    else if (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
      s.remove_suffix(1);
    else if (StartsWith(s, kIdeographicSpace))
      s.remove_prefix(kIdeographicSpace.size());
    else if (EndsWith(s, kIdeographicSpace))
      s.remove_suffix(kIdeographicSpace.size());
    else
      break;
  }
  return std::string(s);
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream buf;
  buf << in.rdbuf();
  *out = buf.str();
  return !in.bad();
}

}  // namespace sm::smctl
