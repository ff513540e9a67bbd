#include "tools/smctl/audit_ledger.h"

#include <algorithm>
#include <map>

#include "tools/smctl/audit_labels.h"
#include "tools/smctl/output.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
namespace {

// A header cell without a trailing parenthesised note ("金额（元）", "unit (code)"),
// white space and case.
std::string NormalizeHeader(const std::string& cell) {
  std::string s = Trim(cell);
  for (const auto& [open, close] : {std::pair<std::string_view, std::string_view>{"(", ")"}, {"（", "）"}}) {
    if (EndsWith(s, close)) {
      const size_t at = s.rfind(open);
      if (at != std::string::npos && at > 0) s = Trim(s.substr(0, at));
    }
  }
  s = Lower(s);
  for (char& c : s) {
    if (c == '_' || c == '-') c = ' ';
  }
  return s;
}

}  // namespace

bool ParseYuan(std::string_view text, int64_t* fen, std::string* why_zh, std::string* why_en) {
  const std::string original = Trim(text);
  std::string s = original;
  auto fail = [&](const std::string& zh, const std::string& en) {
    *why_zh = zh;
    *why_en = en;
    return false;
  };
  for (std::string_view currency : {"¥", "￥"}) {
    if (StartsWith(s, currency)) s = Trim(s.substr(currency.size()));
  }
  if (EndsWith(s, "元")) s = Trim(s.substr(0, s.size() - std::string_view("元").size()));
  if (!s.empty() && s[0] == '+') s = s.substr(1);
  if (s.empty()) return fail("金额为空", "the amount is empty");
  if (s[0] == '-') return fail("金额不能为负数：" + original, "an amount cannot be negative: " + original);
  const std::string bad_zh = "不是有效的金额（元，如 12345.67）：" + original;
  const std::string bad_en = "not an amount in yuan (such as 12345.67): " + original;
  std::string whole = s, frac;
  if (const size_t dot = s.find('.'); dot != std::string::npos) {
    whole = s.substr(0, dot);
    frac = s.substr(dot + 1);
    if (frac.empty() || frac.find_first_not_of("0123456789") != std::string::npos) return fail(bad_zh, bad_en);
    if (frac.size() > 2) {
      return fail("金额最多两位小数（精确到分）：" + original, "an amount has at most 2 decimals (fen): " + original);
    }
  }
  if (whole.find(',') != std::string::npos) {
    // Thousands separators, properly placed: 1,234,567
    std::string digits;
    size_t group = 0, groups = 0;
    for (size_t i = 0; i <= whole.size(); ++i) {
      if (i == whole.size() || whole[i] == ',') {
        if ((groups == 0 && (group < 1 || group > 3)) || (groups > 0 && group != 3)) return fail(bad_zh, bad_en);
        ++groups;
        group = 0;
      } else {
        digits += whole[i];
        ++group;
      }
    }
    whole = digits;
  }
  if (whole.empty() || whole.find_first_not_of("0123456789") != std::string::npos) return fail(bad_zh, bad_en);
  whole.erase(0, std::min(whole.find_first_not_of('0'), whole.size() - 1));
  if (whole.size() > 15) return fail("金额过大：" + original, "the amount is too large: " + original);
  while (frac.size() < 2) frac += '0';
  int64_t value = 0;
  for (char c : whole) value = value * 10 + (c - '0');
  value = value * 100 + (frac[0] - '0') * 10 + (frac[1] - '0');
  *fen = value;
  return true;
}

std::string FormatYuan(int64_t fen, bool grouped) {
  const bool negative = fen < 0;
  const uint64_t m = negative ? ~static_cast<uint64_t>(fen) + 1 : static_cast<uint64_t>(fen);
  std::string whole = std::to_string(m / 100);
  if (grouped) {
    for (int i = static_cast<int>(whole.size()) - 3; i > 0; i -= 3) whole.insert(static_cast<size_t>(i), ",");
  }
  const unsigned cents = static_cast<unsigned>(m % 100);
  return std::string(negative ? "-" : "") + whole + "." + static_cast<char>('0' + cents / 10) +
         static_cast<char>('0' + cents % 10);
}

bool ParseCsv(std::string_view t, std::vector<CsvRecord>* records, int* error_line, std::string* why_zh,
              std::string* why_en) {
  records->clear();
  const size_t n = t.size();
  size_t i = 0;
  int line = 1;
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  auto end_of_field = [&](size_t k) { return k >= n || t[k] == ',' || t[k] == '\n' || t[k] == '\r'; };
  while (i < n) {
    CsvRecord rec;
    rec.line = line;
    while (true) {
      std::string field;
      size_t j = i;
      while (j < n && blank(t[j])) ++j;
      if (j < n && t[j] == '"') {
        const int opened = line;
        bool closed = false;
        for (i = j + 1; i < n;) {
          const char c = t[i];
          if (c == '"') {
            if (i + 1 < n && t[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            closed = true;
            break;
          }
          if (c == '\r' || c == '\n') {
            field += '\n';  // CRLF, LF or CR inside a field: one line break
            i += (c == '\r' && i + 1 < n && t[i + 1] == '\n') ? 2 : 1;
            ++line;
            continue;
          }
          field += c;
          ++i;
        }
        if (!closed) {
          *error_line = opened;
          *why_zh = "第 " + std::to_string(opened) + " 行开始的引号没有闭合（字段中的引号应写成两个 \"\"）";
          *why_en = "the quote opened on line " + std::to_string(opened) +
                    " is never closed (a quote inside a field is written as \"\")";
          return false;
        }
        while (i < n && blank(t[i])) ++i;
        if (!end_of_field(i)) {
          *error_line = line;
          *why_zh = "第 " + std::to_string(line) + " 行：引号闭合后还有其他字符（字段中的引号应写成两个 \"\"）";
          *why_en = "line " + std::to_string(line) +
                    ": text after a closing quote (a quote inside a field is written as \"\")";
          return false;
        }
      } else {
        while (!end_of_field(i)) field += t[i++];
      }
      rec.fields.push_back(std::move(field));
      if (i < n && t[i] == ',') {
        ++i;
        continue;
      }
      if (i < n) {  // a line break ends the record
        i += (t[i] == '\r' && i + 1 < n && t[i + 1] == '\n') ? 2 : 1;
        ++line;
      }
      break;
    }
    const bool empty =
        std::all_of(rec.fields.begin(), rec.fields.end(), [](const std::string& f) { return Trim(f).empty(); });
    if (!empty) records->push_back(std::move(rec));
  }
  return true;
}

int FirstInvalidUtf8Line(std::string_view s) {
  int line = 1;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\n') ++line;
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0, min = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2, cp = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3, cp = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4, cp = c & 0x07, min = 0x10000;
    } else {
      return line;
    }
    if (i + len > s.size()) return line;
    for (size_t k = 1; k < len; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return line;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return line;
    i += len;
  }
  return 0;
}

std::optional<Column> HeaderColumn(const std::string& cell) {
  static const std::map<std::string, Column> kAliases = {
      {"标题", kColTitle},
      {"问题标题", kColTitle},
      {"问题", kColTitle},
      {"title", kColTitle},
      {"描述", kColDescription},
      {"问题描述", kColDescription},
      {"情况描述", kColDescription},
      {"description", kColDescription},
      {"details", kColDescription},
      {"类别", kColCategory},
      {"问题类别", kColCategory},
      {"问题类型", kColCategory},
      {"category", kColCategory},
      {"金额", kColAmount},
      {"涉及金额", kColAmount},
      {"问题金额", kColAmount},
      {"amount", kColAmount},
      {"amount yuan", kColAmount},
      {"严重程度", kColSeverity},
      {"严重性", kColSeverity},
      {"severity", kColSeverity},
      {"责任单位", kColUnit},
      {"责任单位代码", kColUnit},
      {"单位代码", kColUnit},
      {"unit", kColUnit},
      {"unit code", kColUnit},
      {"responsible unit", kColUnit},
      {"责任人", kColPerson},
      {"责任人警号", kColPerson},
      {"警号", kColPerson},
      {"person", kColPerson},
      {"badge", kColPerson},
      {"responsible person", kColPerson},
      {"证据", kColEvidence},
      {"证据材料", kColEvidence},
      {"证据索引", kColEvidence},
      {"evidence", kColEvidence},
      {"evidence refs", kColEvidence},
  };
  auto it = kAliases.find(NormalizeHeader(cell));
  if (it == kAliases.end()) return std::nullopt;
  return it->second;
}

bool ParseCategoryCell(const std::string& cell, v1::FindingCategory* out) {
  std::string s = Lower(Trim(cell));
  for (char& c : s) {
    if (c == '_' || c == ' ') c = '-';
  }
  if (StartsWith(s, "finding-category-")) s = s.substr(17);
  static const std::map<std::string, v1::FindingCategory> kAliases = {
      {"财经纪律", v1::FINDING_CATEGORY_FINANCIAL_DISCIPLINE},
      {"涉案财物管理", v1::FINDING_CATEGORY_PROPERTY_MANAGEMENT},
      {"涉案财物", v1::FINDING_CATEGORY_PROPERTY_MANAGEMENT},
      {"政府采购", v1::FINDING_CATEGORY_PROCUREMENT},
      {"采购", v1::FINDING_CATEGORY_PROCUREMENT},
      {"工程建设", v1::FINDING_CATEGORY_CONSTRUCTION},
      {"资产管理", v1::FINDING_CATEGORY_ASSET_MANAGEMENT},
      {"内部控制", v1::FINDING_CATEGORY_INTERNAL_CONTROL},
      {"内控", v1::FINDING_CATEGORY_INTERNAL_CONTROL},
      {"询价", v1::FINDING_CATEGORY_PRICE},
      {"价格偏高", v1::FINDING_CATEGORY_PRICE},
      {"价格", v1::FINDING_CATEGORY_PRICE},
  };
  for (const auto& c : FindingCategories()) {
    if (s == c.cli || s == c.zh) {
      *out = static_cast<v1::FindingCategory>(c.value);
      return true;
    }
  }
  auto it = kAliases.find(s);
  if (it == kAliases.end()) return false;
  *out = it->second;
  return true;
}

bool ParseSeverityCell(const std::string& cell, v1::Severity* out) {
  std::string s = Lower(Trim(cell));
  if (StartsWith(s, "severity_")) s = s.substr(9);
  static const std::map<std::string, v1::Severity> kAliases = {
      {"low", v1::SEVERITY_LOW},           {"低", v1::SEVERITY_LOW},        {"轻微", v1::SEVERITY_LOW},
      {"medium", v1::SEVERITY_MEDIUM},     {"中", v1::SEVERITY_MEDIUM},     {"一般", v1::SEVERITY_MEDIUM},
      {"high", v1::SEVERITY_HIGH},         {"高", v1::SEVERITY_HIGH},       {"较重", v1::SEVERITY_HIGH},
      {"critical", v1::SEVERITY_CRITICAL}, {"严重", v1::SEVERITY_CRITICAL}, {"特别严重", v1::SEVERITY_CRITICAL},
  };
  auto it = kAliases.find(s);
  if (it == kAliases.end()) return false;
  *out = it->second;
  return true;
}

std::string ColumnOfField(Lang l, const std::string& field) {
  static const std::map<std::string, Column> kFields = {
      {"title", kColTitle},
      {"description", kColDescription},
      {"category", kColCategory},
      {"amount_fen", kColAmount},
      {"severity", kColSeverity},
      {"responsible_unit_id", kColUnit},
      {"responsible_person_id", kColPerson},
      {"evidence_refs", kColEvidence},
  };
  std::string base = field.substr(0, field.find('['));
  auto it = kFields.find(base);
  if (it == kFields.end()) return field;
  return std::string(T(l, kColZh[it->second], kColEn[it->second])) + " (" + field + ")";
}

}  // namespace sm::smctl
