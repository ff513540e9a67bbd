#include "tools/smctl/risk_client.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>

#include "common/crypto.h"
#include "common/workdays.h"
#include "tools/smctl/audit_ledger.h"
#include "tools/smctl/risk_labels.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
using Stub = v1::RiskService::Stub;

namespace {

constexpr size_t kMinPrefix = 8;

// The one item of `list` whose id starts with `key` (kExitOk), else a failure printed.
template <typename Item>
int UniquePrefix(RiskClient& c, const std::vector<Item>& matches, const char* zh, const char* en,
                 const std::string& key, Item* out) {
  if (matches.empty()) return c.NotVisible(zh, en, key);
  if (matches.size() > 1) {
    return c.ctx.FailLocal(kExitUsage, std::string(zh) + " " + key + " 不唯一，请给出更长的ID",
                           std::string(en) + " " + key + " is ambiguous; give more of the id");
  }
  *out = matches.front();
  return kExitOk;
}

}  // namespace

int RiskClient::FindItem(const std::string& key, bool fetch, v1::RiskItem* out) {
  if (IsUuid(key)) {
    v1::GetRiskItemRequest req;
    req.set_item_id(key);
    if (!fetch) {
      out->set_id(key);
      return kExitOk;
    }
    grpc::Status st = Call(&Stub::GetRiskItem, req, out);
    return st.ok() ? kExitOk : Fail(st);
  }
  v1::ListRiskItemsRequest req;
  req.set_page_size(200);
  std::vector<v1::RiskItem> matches;
  grpc::Status st =
      EachListed(&Stub::ListRiskItems, req, &v1::ListRiskItemsResponse::items, [&](const v1::RiskItem& item) {
        if (Upper(item.number()) == Upper(key)) {
          matches = {item};
          return true;
        }
        if (key.size() >= kMinPrefix && StartsWith(item.id(), Lower(key))) {
          matches.push_back(item);
        }
        return false;
      });
  if (!st.ok()) return Fail(st);
  return UniquePrefix(*this, matches, "风险隐患", "risk item", key, out);
}

int RiskClient::FindCampaign(const std::string& key, bool fetch, v1::ScreeningCampaign* out) {
  if (IsUuid(key)) {
    if (!fetch) {
      out->set_id(key);
      return kExitOk;
    }
    v1::GetCampaignRequest req;
    req.set_campaign_id(key);
    grpc::Status st = Call(&Stub::GetCampaign, req, out);
    return st.ok() ? kExitOk : Fail(st);
  }
  v1::ListCampaignsRequest req;
  req.set_page_size(200);
  std::vector<v1::ScreeningCampaign> by_name, by_prefix;
  grpc::Status st = EachListed(&Stub::ListCampaigns, req, &v1::ListCampaignsResponse::campaigns,
                               [&](const v1::ScreeningCampaign& cp) {
                                 if (cp.name() == key) by_name.push_back(cp);
                                 if (key.size() >= kMinPrefix && StartsWith(cp.id(), Lower(key))) {
                                   by_prefix.push_back(cp);
                                 }
                                 return false;
                               });
  if (!st.ok()) return Fail(st);
  int rc = UniquePrefix(*this, by_name.empty() ? by_prefix : by_name, "排查活动", "campaign", key, out);
  if (rc != kExitOk || !fetch) return rc;
  v1::GetCampaignRequest get;
  get.set_campaign_id(out->id());
  st = Call(&Stub::GetCampaign, get, out);
  return st.ok() ? kExitOk : Fail(st);
}

int RiskClient::FindTalk(const std::string& key, bool fetch, v1::TalkRecord* out) {
  if (IsUuid(key)) {
    v1::GetTalkRequest req;
    req.set_talk_id(key);
    if (!fetch) {
      out->set_id(key);
      return kExitOk;
    }
    grpc::Status st = Call(&Stub::GetTalk, req, out);
    return st.ok() ? kExitOk : Fail(st);
  }
  if (key.size() < kMinPrefix) return NotVisible("谈话", "talk", key);
  v1::ListTalksRequest req;
  req.set_page_size(200);
  std::vector<v1::TalkRecord> matches;
  grpc::Status st = EachListed(&Stub::ListTalks, req, &v1::ListTalksResponse::talks, [&](const v1::TalkRecord& t) {
    if (StartsWith(t.id(), Lower(key))) matches.push_back(t);
    return false;
  });
  if (!st.ok()) return Fail(st);
  return UniquePrefix(*this, matches, "谈话", "talk", key, out);
}

int RiskClient::PostId(const std::string& key, std::string* id) {
  if (IsUuid(key)) {
    *id = key;
    return kExitOk;
  }
  auto stub = v1::DirectoryService::NewStub(ctx.Channel());
  v1::GetPostRequest req;
  req.set_code(key);
  v1::Post post;
  grpc::ClientContext cc;
  ctx.Prepare(&cc);
  grpc::Status st = stub->GetPost(&cc, req, &post);
  if (st.error_code() == grpc::StatusCode::NOT_FOUND) {
    return ctx.FailLocal(kExitNotFound, "未找到岗位 " + key, "post " + key + " not found");
  }
  if (!st.ok()) return ::sm::smctl::Fail(ctx, kDirectoryService, st);
  *id = post.id();
  return kExitOk;
}

// ---- pure helpers ----

bool ParseDay(const std::string& s, bool end_of_day, google::protobuf::Timestamp* out) {
  auto d = workdays::ParseDate(Trim(s));
  if (!d.ok()) return false;
  int64_t seconds = workdays::DaysFromCivil(*d) * 86400 - 8 * 3600;
  if (end_of_day) seconds += 86399;
  out->set_seconds(seconds);
  out->set_nanos(0);
  return true;
}

bool ParseMitigation(const std::string& text, v1::MitigationInput* out, std::string* why_zh, std::string* why_en) {
  std::string measure = text, due;
  if (size_t at = text.rfind('@'); at != std::string::npos) {
    measure = text.substr(0, at);
    due = Trim(text.substr(at + 1));
  }
  measure = Trim(measure);
  if (measure.empty()) {
    *why_zh = "化解措施不能为空";
    *why_en = "the measure is empty";
    return false;
  }
  out->set_measure(measure);
  if (due.empty()) {
    if (text.find('@') == std::string::npos) return true;
    *why_zh = "“@”后缺少期限";
    *why_en = "no deadline after \"@\"";
    return false;
  }
  if (due.find_first_not_of("0123456789") == std::string::npos) {
    int days = due.size() > 3 ? 0 : std::stoi(due);
    if (days < 1 || days > 365) {
      *why_zh = "工作日数须在 1–365 之间：" + due;
      *why_en = "working days must be 1-365: " + due;
      return false;
    }
    out->set_working_days(days);
    return true;
  }
  if (!ParseDay(due, true, out->mutable_deadline())) {
    *why_zh = "期限应为工作日数或 YYYY-MM-DD：" + due;
    *why_en = "the deadline must be working days or YYYY-MM-DD: " + due;
    return false;
  }
  return true;
}

std::string ScreeningRequestId(const std::string& campaign_id, const std::string& badge) {
  return "screening-" + crypto::Sha256Hex(campaign_id + "\n" + Trim(badge));
}

namespace {

enum LedgerCol { kBadge, kOutcome, kCategory, kLevel, kDescription, kLeader, kMeasure, kDays, kLedgerCols };
constexpr const char* kLedgerNames[kLedgerCols] = {"badge",       "outcome",      "category", "level",
                                                   "description", "leader_badge", "measure",  "deadline_days"};

template <typename E>
bool ChoiceCell(const Choices& choices, const std::string& cell, bool (*parse)(const std::string&, E*),
                const char* prefix, E* out) {
  const std::string v = Trim(cell);
  if (int x = ChoiceValue(choices, Lower(v)); x != 0) {
    *out = static_cast<E>(x);
    return true;
  }
  E e{};
  if (parse(Upper(v), &e) && e != E{}) {
    *out = e;
    return true;
  }
  if (parse(std::string(prefix) + Upper(v), &e) && e != E{}) {
    *out = e;
    return true;
  }
  for (const auto& c : choices) {
    if (v == c.zh || Lower(v) == Lower(c.en)) {
      *out = static_cast<E>(c.value);
      return true;
    }
  }
  return false;
}

}  // namespace

ScreeningLedger ParseScreeningLedger(std::string_view input) {
  ScreeningLedger out;
  std::string text(input);
  if (StartsWith(text, "\xEF\xBB\xBF")) text.erase(0, 3);
  auto problem = [&](int line, const std::string& column, std::string zh, std::string en) {
    out.problems.push_back({line, column, std::move(zh), std::move(en)});
  };
  if (int line = FirstInvalidUtf8Line(text); line > 0) {
    problem(line, "", "不是有效的 UTF-8 文本（请另存为“CSV UTF-8”）", "not valid UTF-8 (save as \"CSV UTF-8\")");
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
    problem(1, "", "文件为空", "the file is empty");
    return out;
  }
  int col[kLedgerCols];
  std::fill(std::begin(col), std::end(col), -1);
  const CsvRecord& header = records.front();
  for (size_t i = 0; i < header.fields.size(); ++i) {
    const std::string name = Lower(Trim(header.fields[i]));
    bool known = false;
    for (int k = 0; k < kLedgerCols; ++k) {
      if (name != kLedgerNames[k]) continue;
      known = true;
      if (col[k] >= 0) problem(header.line, name, "列重复", "column given twice");
      col[k] = static_cast<int>(i);
    }
    if (!known && !name.empty()) problem(header.line, name, "未知的列", "unknown column");
  }
  for (int k : {kBadge, kOutcome}) {
    if (col[k] < 0) problem(header.line, kLedgerNames[k], "缺少此列", "column missing");
  }
  if (!out.problems.empty()) return out;

  std::map<std::string, int> badges;  // badge -> first line
  for (size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& rec = records[r];
    ++out.data_rows;
    auto cell = [&](int k) {
      return col[k] >= 0 && col[k] < static_cast<int>(rec.fields.size()) ? Trim(rec.fields[col[k]]) : std::string();
    };
    const size_t before = out.problems.size();
    auto bad = [&](int k, std::string zh, std::string en) {
      problem(rec.line, kLedgerNames[k], std::move(zh), std::move(en));
    };
    LedgerRow row;
    row.line = rec.line;
    row.badge = cell(kBadge);
    if (row.badge.empty()) {
      bad(kBadge, "警号不能为空", "badge is required");
    } else if (auto [it, fresh] = badges.emplace(row.badge, rec.line); !fresh) {
      bad(kBadge, "与第 " + std::to_string(it->second) + " 行警号重复",
          "same badge as line " + std::to_string(it->second));
    }
    const std::string outcome = cell(kOutcome);
    if (outcome.empty()) {
      bad(kOutcome, "排查结果不能为空（CLEAR 或 RISK_FOUND）", "outcome is required (CLEAR or RISK_FOUND)");
    } else if (!ChoiceCell<v1::ScreeningOutcome>(ScreeningOutcomes(), outcome, &v1::ScreeningOutcome_Parse,
                                                 "SCREENING_OUTCOME_", &row.outcome)) {
      bad(kOutcome, "排查结果应为 CLEAR 或 RISK_FOUND：" + outcome, "outcome must be CLEAR or RISK_FOUND: " + outcome);
    }
    row.description = cell(kDescription);
    row.leader_badge = cell(kLeader);
    row.measure = cell(kMeasure);
    const std::string category = cell(kCategory), level = cell(kLevel), days = cell(kDays);
    if (row.outcome == v1::SCREENING_OUTCOME_RISK_FOUND) {
      if (category.empty()) {
        bad(kCategory, "发现风险时须填写风险类别", "category is required with RISK_FOUND");
      } else if (!ChoiceCell<v1::RiskCategory>(RiskCategories(), category, &v1::RiskCategory_Parse, "RISK_CATEGORY_",
                                               &row.category)) {
        bad(kCategory, "未知的风险类别：" + category, "unknown category: " + category);
      }
      if (level.empty()) {
        bad(kLevel, "发现风险时须填写风险等级", "level is required with RISK_FOUND");
      } else if (!ChoiceCell<v1::RiskLevel>(RiskLevels(), level, &v1::RiskLevel_Parse, "RISK_LEVEL_", &row.level)) {
        bad(kLevel, "风险等级应为 低/中/高（low/medium/high）：" + level,
            "level must be low, medium or high: " + level);
      }
      if (row.description.empty())
        bad(kDescription, "发现风险时须填写风险描述", "description is required with RISK_FOUND");
      if (!days.empty()) {
        if (days.find_first_not_of("0123456789") != std::string::npos || days.size() > 3 || std::stoi(days) < 1 ||
            std::stoi(days) > 365) {
          bad(kDays, "期限（工作日）应为 1–365 的整数：" + days, "deadline_days must be a whole number 1-365: " + days);
        } else if (row.measure.empty()) {
          bad(kDays, "填写期限时须同时填写化解措施", "deadline_days needs a measure");
        } else {
          row.deadline_days = std::stoi(days);
        }
      }
    } else if (row.outcome == v1::SCREENING_OUTCOME_CLEAR) {
      for (int k : {kCategory, kLevel, kDescription, kLeader, kMeasure, kDays}) {
        if (!cell(k).empty()) bad(k, "未发现风险（CLEAR）的行不应填写此列", "must be empty with CLEAR");
      }
    }
    for (size_t i = before; i < out.problems.size(); ++i) out.problems[i].badge = row.badge;
    if (out.problems.size() == before) out.rows.push_back(std::move(row));
  }
  if (out.data_rows == 0) problem(header.line, "", "台账没有数据行", "the ledger has no rows");
  return out;
}

std::string TalkSummaryText(Lang l, const v1::TalkRecord& t) {
  if (!t.summary().empty()) return t.summary();
  return t.summary_withheld() ? T(l, "（摘要不可见）", "(summary not visible)") : "";
}

std::string FilePartText(Lang l, const v1::FilePart& p) {
  if (!p.available()) {
    // The status code, when the error comes as "unavailable: <details>".
    std::string why = p.error().substr(0, p.error().find(':'));
    if (why.find_first_not_of("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != std::string::npos) {
      why = p.error();
    } else {
      why = Upper(why);
      std::replace(why.begin(), why.end(), ' ', '_');
    }
    return std::string(T(l, "缺失：", "missing: ")) + SourceService(p.source()) + T(l, "（", " (") +
           (why.empty() ? "?" : why) + T(l, "）", ")");
  }
  std::string s = std::string(T(l, "可用（", "available (")) + std::to_string(p.entries()) + T(l, " 条", " entries");
  if (p.truncated()) s += T(l, "，仅显示部分", ", truncated");
  return s + T(l, "）", ")");
}

std::string MitigationText(Lang l, const v1::Mitigation& m) {
  std::string s = std::to_string(m.index()) + ". " + m.measure();
  if (m.has_deadline()) {
    s += std::string(T(l, "  截止 ", "  due ")) + BeijingTime(m.deadline()).substr(0, 10);
    if (m.working_days() > 0) {
      s += std::string(T(l, "（", " (")) + std::to_string(m.working_days()) + T(l, " 个工作日）", " working days)");
    }
  }
  if (m.done()) {
    s += std::string(T(l, "  已完成 ", "  done ")) + BeijingTime(m.done_at()).substr(0, 10);
    if (!m.note().empty()) s += std::string(T(l, "：", ": ")) + m.note();
  } else {
    s += T(l, "  未完成", "  open");
    if (m.overdue()) s += T(l, "（逾期）", " (overdue)");
    if (m.escalated()) s += T(l, "（已督办）", " (escalated)");
  }
  return s;
}

std::string Points(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", std::round(v * 10) / 10);
  return buf;
}

std::string ScoreText(Lang l, const v1::PersonScore& s) {
  std::string out = Points(s.score()) + " / " + Points(s.threshold());
  if (s.score() >= s.threshold() && s.threshold() > 0) out += T(l, "（达到预警阈值）", " (at or above the threshold)");
  return out;
}

// ---- printing ----

void AddItemFields(RiskClient& c, const v1::RiskItem& item, FieldTable* t) {
  const Lang l = c.lang();
  t->Add("编号", "number", item.number());
  t->Add("ID", "ID", item.id());
  t->AddIf("人员", "person", c.dir.PersonName(item.person_id()));
  t->Add("单位", "unit", c.dir.UnitName(item.unit_id()));
  t->Add("类别", "category", Label(l, RiskCategories(), item.category()));
  t->Add("等级", "level", Label(l, RiskLevels(), item.level()));
  t->Add("来源", "source", Label(l, RiskSources(), item.source()));
  t->AddIf("来源编号", "source ref", item.source_ref());
  t->AddIf("描述", "description", item.description());
  t->AddIf("责任领导", "responsible leader", c.dir.PersonName(item.responsible_leader_id()));
  std::string state = Label(l, RiskItemStates(), item.state());
  if (item.overdue()) state += T(l, "（有措施逾期）", " (a measure overdue)");
  t->Add("状态", "state", state);
  for (const auto& m : item.mitigations()) t->Add("化解措施", "mitigation", MitigationText(l, m));
  t->AddIf("督办单位", "escalated to", c.dir.UnitName(item.escalated_to_unit_id()));
  t->AddIf("化解情况", "resolution", item.resolution());
  if (item.source() == v1::RISK_SOURCE_SCORE) t->Add("触发评分", "score", Points(item.score()));
  t->Add("登记时间", "opened", BeijingTime(item.created_at()));
  t->Add("版本", "version", std::to_string(item.version()));
}

void PrintItemDone(RiskClient& c, const v1::RiskItemReply& r, const char* zh, const char* en) {
  const Lang l = c.lang();
  std::cout << T(l, zh, en) << T(l, "：", ": ") << r.item().number() << T(l, "  状态：", "  state: ")
            << Label(l, RiskItemStates(), r.item().state()) << T(l, "  版本：", "  version: ") << r.item().version()
            << "\n";
  PrintReplayed(l, r.mutation().replayed());
}

void PrintItems(RiskClient& c, const google::protobuf::RepeatedPtrField<v1::RiskItem>& items) {
  const Lang l = c.lang();
  std::vector<std::vector<std::string>> rows;
  for (const auto& i : items) {
    int done = 0;
    for (const auto& m : i.mitigations()) done += m.done();
    std::string state = Label(l, RiskItemStates(), i.state());
    if (i.overdue()) state += T(l, "（逾期）", " (overdue)");
    rows.push_back({i.number(), i.person_id().empty() ? "" : c.dir.PersonName(i.person_id()),
                    c.dir.UnitName(i.unit_id()), Label(l, RiskCategories(), i.category()),
                    Label(l, RiskLevels(), i.level()), Label(l, RiskSources(), i.source()),
                    Truncate(i.description(), 28), std::to_string(done) + "/" + std::to_string(i.mitigations_size()),
                    state});
  }
  PrintTable(std::cout,
             {T(l, "编号", "number"), T(l, "人员", "person"), T(l, "单位", "unit"), T(l, "类别", "category"),
              T(l, "等级", "level"), T(l, "来源", "source"), T(l, "描述", "description"),
              T(l, "措施完成", "measures done"), T(l, "状态", "state")},
             rows);
}

void PrintTalks(RiskClient& c, const google::protobuf::RepeatedPtrField<v1::TalkRecord>& talks, bool summaries,
                bool ids) {
  const Lang l = c.lang();
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : talks) {
    std::string kind = Label(l, TalkKinds(), t.kind());
    if (t.disciplinary()) kind += T(l, "（纪律处分性质）", " (disciplinary)");
    std::vector<std::string> row = {BeijingTime(t.held_at()).substr(0, 10), kind, c.dir.PersonName(t.person_id()),
                                    c.UserName(t.talker_person_id())};
    if (summaries) row.push_back(Truncate(TalkSummaryText(l, t), 40));
    if (ids) row.push_back(t.id());
    rows.push_back(std::move(row));
  }
  std::vector<std::string> header = {T(l, "日期", "date"), T(l, "谈话类型", "kind"), T(l, "谈话对象", "with"),
                                     T(l, "谈话人", "talker")};
  if (summaries) header.push_back(T(l, "摘要", "summary"));
  if (ids) header.push_back("ID");
  PrintTable(std::cout, header, rows);
}

void PrintPoints(RiskClient& c, const google::protobuf::RepeatedPtrField<v1::RiskPoint>& points) {
  const Lang l = c.lang();
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : points) {
    rows.push_back({p.id(), p.post_name().empty() ? p.post_id() : p.post_name(), Label(l, Powers(), p.power()),
                    Label(l, RiskLevels(), p.level()), Truncate(p.description(), 30),
                    std::to_string(p.control_measures_size()), c.dir.PersonName(p.accountable_person_id()),
                    YesNo(l, p.active())});
  }
  PrintTable(std::cout,
             {"ID", T(l, "岗位", "post"), T(l, "权力", "power"), T(l, "等级", "level"), T(l, "风险描述", "description"),
              T(l, "防控措施", "controls"), T(l, "防控责任人", "accountable"), T(l, "有效", "active")},
             rows);
}

void PrintCampaigns(RiskClient& c, const google::protobuf::RepeatedPtrField<v1::ScreeningCampaign>& campaigns) {
  const Lang l = c.lang();
  std::vector<std::vector<std::string>> rows;
  for (const auto& cp : campaigns) {
    std::vector<std::string> scope;
    for (const auto& u : cp.scope_unit_ids()) scope.push_back(c.dir.UnitName(u));
    rows.push_back({cp.id(), cp.name(), Join(scope, T(l, "、", ", ")),
                    BeijingTime(cp.starts_at()).substr(0, 10) + " ~ " + BeijingTime(cp.ends_at()).substr(0, 10),
                    std::to_string(cp.screened()) + "/" + std::to_string(cp.people()) + " (" +
                        Percent(cp.screened(), cp.people()) + ")",
                    Label(l, CampaignStates(), cp.state())});
  }
  PrintTable(std::cout,
             {"ID", T(l, "名称", "name"), T(l, "范围", "scope"), T(l, "期间", "period"), T(l, "已排查", "screened"),
              T(l, "状态", "state")},
             rows);
}

void PrintScoreExplanation(RiskClient& c, const v1::PersonScore& s, const std::map<std::string, std::string>& numbers) {
  const Lang l = c.lang();
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : s.terms()) {
    rows.push_back({SignalKindLabel(l, t.kind()), std::to_string(t.signals()), Points(t.raw()),
                    t.cap() > 0 ? Points(t.cap()) : T(l, "无", "none"), Points(t.value())});
  }
  if (!rows.empty()) {
    PrintTable(std::cout,
               {T(l, "规则", "rule"), T(l, "信号数", "signals"), T(l, "原始分", "raw"), T(l, "上限", "cap"),
                T(l, "计分", "value")},
               rows);
  }
  rows.clear();
  for (const auto& sig : s.explained()) {
    rows.push_back({SignalKindLabel(l, sig.kind()), SignalGradeLabel(l, sig.grade()), FileSourceLabel(l, sig.source()),
                    numbers.count(sig.ref()) ? numbers.at(sig.ref()) : sig.ref(), BeijingTime(sig.at()).substr(0, 10),
                    Points(sig.weight()), Points(sig.value()), BeijingTime(sig.halves_at()).substr(0, 10),
                    BeijingTime(sig.fades_at()).substr(0, 10)});
  }
  if (!rows.empty()) {
    std::cout << "\n";
    PrintTable(std::cout,
               {T(l, "信号", "signal"), T(l, "等级", "grade"), T(l, "来源", "source"), T(l, "关联", "ref"),
                T(l, "日期", "date"), T(l, "权重", "weight"), T(l, "当前值", "value now"), T(l, "减半于", "halves at"),
                T(l, "消退于", "fades at")},
               rows);
  }
  if (s.explained_omitted() > 0) {
    std::cout << T(l, "另有 ", "and ") << s.explained_omitted()
              << T(l, " 条较早的信号已计入上表各规则，未逐条列出",
                   " older signals, counted in the rules above, not listed")
              << "\n";
  }
}

}  // namespace sm::smctl
