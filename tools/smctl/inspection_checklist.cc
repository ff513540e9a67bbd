#include "tools/smctl/inspection_checklist.h"

#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "common/crypto.h"
#include "common/validate.h"
#include "tools/smctl/audit_ledger.h"
#include "tools/smctl/choices.h"
#include "tools/smctl/inspection_labels.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
namespace {

// What the service takes (services/inspection CheckTemplate).
constexpr size_t kMaxLength[kTplColumns] = {32, 200, 32, 1000};
constexpr int kMaxAspects = 50;
constexpr int kMaxItemsPerAspect = 200;

std::optional<TemplateColumn> HeaderOf(const std::string& cell) {
  std::string s = Lower(Trim(cell));
  for (char& c : s) {
    if (c == ' ' || c == '-') c = '_';
  }
  static const std::map<std::string, TemplateColumn> kNames = {
      {"aspect_code", kTplAspectCode}, {"方面代码", kTplAspectCode}, {"aspect_title", kTplAspectTitle},
      {"方面名称", kTplAspectTitle},   {"item_code", kTplItemCode},  {"事项代码", kTplItemCode},
      {"item_text", kTplItemText},     {"事项内容", kTplItemText},
  };
  auto it = kNames.find(s);
  if (it == kNames.end()) return std::nullopt;
  return it->second;
}

}  // namespace

TemplateCsv ReadTemplateCsv(std::string_view text) {
  TemplateCsv out;
  auto problem = [&](int line, std::string column, std::string zh, std::string en) {
    out.problems.push_back({line, std::move(column), std::move(zh), std::move(en)});
  };
  if (StartsWith(text, "\xEF\xBB\xBF")) text.remove_prefix(3);
  if (StartsWith(text, "\xFF\xFE") || StartsWith(text, "\xFE\xFF")) {
    problem(1, "", "文件是 UTF-16 编码；请另存为“CSV UTF-8（逗号分隔）”",
            "the file is UTF-16; save it as \"CSV UTF-8 (comma delimited)\"");
    return out;
  }
  if (int line = FirstInvalidUtf8Line(text); line > 0) {
    problem(line, "", "不是有效的 UTF-8 文本（可能是 GBK/GB18030 编码；可用 iconv -f GB18030 -t UTF-8 转换）",
            "not valid UTF-8 (GBK/GB18030? convert it with iconv -f GB18030 -t UTF-8)");
    return out;
  }
  std::vector<CsvRecord> records;
  int bad_line = 0;
  std::string why_zh, why_en;
  if (!ParseCsv(text, &records, &bad_line, &why_zh, &why_en)) {
    problem(bad_line, "", why_zh, why_en);
    return out;
  }
  if (records.empty()) {
    problem(1, "", "空文件：需要标题行 aspect_code,aspect_title,item_code,item_text 和数据行",
            "empty file: a header row aspect_code,aspect_title,item_code,item_text and data rows are needed");
    return out;
  }

  // The header: which field holds which column.
  const CsvRecord& header = records[0];
  int where[kTplColumns] = {-1, -1, -1, -1};
  for (size_t c = 0; c < header.fields.size(); ++c) {
    const std::string cell = Trim(header.fields[c]);
    auto col = HeaderOf(cell);
    if (!col) {
      problem(header.line, cell, "未知的列“" + cell + "”", "unknown column \"" + cell + "\"");
    } else if (where[*col] >= 0) {
      problem(header.line, kTplColumnNames[*col], "列重复", "the column appears twice");
    } else {
      where[*col] = static_cast<int>(c);
    }
  }
  for (int c = 0; c < kTplColumns; ++c) {
    if (where[c] < 0) problem(header.line, kTplColumnNames[c], "标题行缺少此列", "the header lacks this column");
  }
  if (!out.problems.empty()) return out;

  struct Seen {
    int line;
    std::string title;  // aspects only
    size_t index;       // aspects only: into out.aspects
  };
  std::map<std::string, Seen> aspects, items;
  for (size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& rec = records[r];
    std::string cell[kTplColumns];
    bool any = false;
    for (int c = 0; c < kTplColumns; ++c) {
      const auto at = static_cast<size_t>(where[c]);
      cell[c] = at < rec.fields.size() ? Trim(rec.fields[at]) : "";
      any = any || !cell[c].empty();
    }
    for (size_t c = header.fields.size(); c < rec.fields.size(); ++c) any = any || !Trim(rec.fields[c]).empty();
    if (!any) continue;  // a row of empty cells
    ++out.rows;
    const size_t before = out.problems.size();
    for (size_t c = header.fields.size(); c < rec.fields.size(); ++c) {
      if (!Trim(rec.fields[c]).empty()) {
        problem(rec.line, "", "比标题行多出的列：" + Trim(rec.fields[c]),
                "more fields than the header has: " + Trim(rec.fields[c]));
        break;
      }
    }
    for (int c = 0; c < kTplColumns; ++c) {
      if (cell[c].empty()) {
        problem(rec.line, kTplColumnNames[c], "缺少内容（必填）", "missing value (required)");
      } else if (validate::CodePoints(cell[c]) > kMaxLength[c]) {
        problem(rec.line, kTplColumnNames[c], "超过 " + std::to_string(kMaxLength[c]) + " 个字符",
                "longer than " + std::to_string(kMaxLength[c]) + " characters");
      }
    }
    const std::string& aspect_code = cell[kTplAspectCode];
    const std::string& item_code = cell[kTplItemCode];
    if (!item_code.empty()) {
      auto [it, fresh] = items.emplace(item_code, Seen{rec.line, "", 0});
      if (!fresh) {
        problem(rec.line, "item_code", "事项代码 " + item_code + " 与第 " + std::to_string(it->second.line) + " 行重复",
                "duplicate item code " + item_code + " (first on line " + std::to_string(it->second.line) + ")");
      }
    }
    Seen* aspect = nullptr;
    if (!aspect_code.empty()) {
      auto it = aspects.find(aspect_code);
      if (it == aspects.end()) {
        it = aspects.emplace(aspect_code, Seen{rec.line, cell[kTplAspectTitle], out.aspects.size()}).first;
        v1::TemplateAspect& a = out.aspects.emplace_back();
        a.set_code(aspect_code);
        a.set_title(cell[kTplAspectTitle]);
        if (static_cast<int>(out.aspects.size()) == kMaxAspects + 1) {
          problem(rec.line, "aspect_code", "方面超过 " + std::to_string(kMaxAspects) + " 个",
                  "more than " + std::to_string(kMaxAspects) + " aspects");
        }
      } else if (!cell[kTplAspectTitle].empty() && !it->second.title.empty() &&
                 cell[kTplAspectTitle] != it->second.title) {
        problem(rec.line, "aspect_title",
                "方面 " + aspect_code + " 的名称与第 " + std::to_string(it->second.line) + " 行的“" + it->second.title +
                    "”不同",
                "aspect " + aspect_code + " has another title on line " + std::to_string(it->second.line) + " (\"" +
                    it->second.title + "\")");
      }
      aspect = &it->second;
    }
    if (aspect != nullptr && out.problems.size() == before) {
      v1::TemplateAspect& a = out.aspects[aspect->index];
      v1::TemplateItem* item = a.add_items();
      item->set_code(item_code);
      item->set_text(cell[kTplItemText]);
      ++out.items;
      if (a.items_size() == kMaxItemsPerAspect + 1) {
        problem(rec.line, "item_code",
                "方面 " + aspect_code + " 的事项超过 " + std::to_string(kMaxItemsPerAspect) + " 条",
                "aspect " + aspect_code + " has more than " + std::to_string(kMaxItemsPerAspect) + " items");
      }
    }
  }
  if (out.rows == 0 && out.problems.empty()) {
    problem(header.line, "", "没有数据行", "no data rows");
  }
  return out;
}

std::string TemplateRequestId(const v1::PublishTemplateRequest& req) {
  nlohmann::json aspects = nlohmann::json::array();
  for (const auto& a : req.aspects()) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& i : a.items()) items.push_back({i.code(), i.text()});
    aspects.push_back({a.code(), a.title(), std::move(items)});
  }
  const nlohmann::json content = {req.code(), req.name(), std::move(aspects)};
  return "template-" + crypto::Sha256Hex(content.dump());
}

std::vector<AspectConformity> ConformityByAspect(const v1::Inspection& in, const std::string& unit) {
  std::vector<AspectConformity> out;
  std::map<std::string, size_t> at;
  for (const auto& e : in.checklist()) {
    if (!unit.empty() && e.target_unit_id() != unit) continue;
    auto [it, fresh] = at.emplace(e.aspect_code(), out.size());
    if (fresh) out.push_back({e.aspect_code(), e.aspect_title()});
    AspectConformity& a = out[it->second];
    ++a.entries;
    switch (e.mark()) {
      case v1::ITEM_MARK_CONFORMING: ++a.conforming; break;
      case v1::ITEM_MARK_NON_CONFORMING:
        ++a.non_conforming;
        if (e.finding_ids().empty()) ++a.without_finding;
        break;
      case v1::ITEM_MARK_NOT_APPLICABLE: ++a.not_applicable; break;
      default: ++a.unmarked;
    }
  }
  return out;
}

std::string ConformityRate(int64_t conforming, int64_t non_conforming) {
  return Percent(conforming, conforming + non_conforming);
}

Answer ParseAnswer(std::string_view line) {
  static const std::map<std::string, Answer> kAnswers = {
      {"c", Answer::kConforming},
      {"conforming", Answer::kConforming},
      {"符合", Answer::kConforming},
      {"n", Answer::kNonConforming},
      {"non-conforming", Answer::kNonConforming},
      {"不符合", Answer::kNonConforming},
      {"a", Answer::kNotApplicable},
      {"not-applicable", Answer::kNotApplicable},
      {"不适用", Answer::kNotApplicable},
      {"s", Answer::kSkip},
      {"skip", Answer::kSkip},
      {"跳过", Answer::kSkip},
      {"q", Answer::kQuit},
      {"quit", Answer::kQuit},
      {"退出", Answer::kQuit},
  };
  auto it = kAnswers.find(Lower(Trim(line)));
  return it == kAnswers.end() ? Answer::kUnknown : it->second;
}

v1::ItemMark MarkOf(Answer a) {
  switch (a) {
    case Answer::kConforming: return v1::ITEM_MARK_CONFORMING;
    case Answer::kNonConforming: return v1::ITEM_MARK_NON_CONFORMING;
    case Answer::kNotApplicable: return v1::ITEM_MARK_NOT_APPLICABLE;
    default: return v1::ITEM_MARK_UNSPECIFIED;
  }
}

std::vector<int> EntriesToWalk(const v1::Inspection& in, const std::string& unit, bool all) {
  std::vector<int> out;
  for (int i = 0; i < in.checklist_size(); ++i) {
    const auto& e = in.checklist(i);
    if (e.target_unit_id() == unit && (all || e.mark() == v1::ITEM_MARK_UNSPECIFIED)) out.push_back(i);
  }
  return out;
}

bool ParseWithheld(std::string_view spec, v1::WithheldItem* out, std::string* why_zh, std::string* why_en) {
  const std::string s = Trim(spec);
  size_t colon = s.find(':');
  size_t width = 1;
  if (const size_t wide = s.find("："); wide != std::string::npos && (colon == std::string::npos || wide < colon)) {
    colon = wide;
    width = std::string_view("：").size();
  }
  const std::string spellings = Join(Spellings(WithheldKinds()), ", ");
  if (colon == std::string::npos) {
    *why_zh = "应为 种类:描述（如 vehicle:川B·1234警），种类为 " + spellings + "：" + s;
    *why_en = "expected KIND:DESCRIPTION (such as vehicle:川B·1234警), KIND one of " + spellings + ": " + s;
    return false;
  }
  const std::string kind = Lower(Trim(s.substr(0, colon)));
  const std::string description = Trim(s.substr(colon + width));
  int value = ChoiceValue(WithheldKinds(), kind);
  for (const auto& c : WithheldKinds()) {
    if (value == 0 && kind == c.zh) value = c.value;
  }
  if (value == 0) {
    *why_zh = "未知的扣留物品种类“" + kind + "”（可用：" + spellings + "）";
    *why_en = "unknown kind of withheld item \"" + kind + "\" (one of " + spellings + ")";
    return false;
  }
  if (description.empty()) {
    *why_zh = "缺少物品描述：" + s;
    *why_en = "the description is missing: " + s;
    return false;
  }
  out->set_kind(static_cast<v1::WithheldKind>(value));
  out->set_description(description);
  return true;
}

}  // namespace sm::smctl
