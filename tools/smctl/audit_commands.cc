#include "tools/smctl/audit_commands.h"
#include "tools/smctl/chain_commands.h"
#include "tools/smctl/directory_lookup.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/crypto.h"
#include "common/status.h"
#include "common/uuid.h"
#include "supervision/v1/audit.grpc.pb.h"
#include "supervision/v1/directory.grpc.pb.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
namespace {

// ---------------------------------------------------------------------------------------
// Enum spellings and labels.

struct Choice {
  int value;
  const char* cli;  // command-line spelling
  const char* zh;
  const char* en;
};

const std::vector<Choice>& Table(AuditChoice kind) {
  static const std::vector<Choice> kKinds = {
      {v1::ENGAGEMENT_KIND_ECONOMIC_RESPONSIBILITY, "economic-responsibility", "经济责任（离任）审计",
       "economic responsibility (departure) audit"},
      {v1::ENGAGEMENT_KIND_PROPERTY_SPECIAL, "property", "执法活动财物管理专项审计",
       "special audit of law-enforcement property"},
      {v1::ENGAGEMENT_KIND_PROJECT_PAYMENT, "project-payment", "工程项目审计", "project payment audit"},
      {v1::ENGAGEMENT_KIND_IT_PROJECT, "it-project", "信息化项目三环节审计", "IT project audit (three stages)"},
      {v1::ENGAGEMENT_KIND_PRICE_CHECK, "price-check", "事前询价", "price check before purchase"},
  };
  static const std::vector<Choice> kStates = {
      {v1::ENGAGEMENT_STATE_PLANNED, "planned", "计划", "planned"},
      {v1::ENGAGEMENT_STATE_FIELDWORK, "fieldwork", "现场审计", "fieldwork"},
      {v1::ENGAGEMENT_STATE_REPORTED, "reported", "已出具报告", "reported"},
      {v1::ENGAGEMENT_STATE_CLOSED, "closed", "已结项", "closed"},
  };
  static const std::vector<Choice> kItStages = {
      {v1::IT_STAGE_BEFORE_PROCUREMENT, "before-procurement", "采购前", "before procurement"},
      {v1::IT_STAGE_BEFORE_CONTRACT, "before-contract", "合同签订前", "before contract"},
      {v1::IT_STAGE_FINAL_ACCOUNTS, "final-accounts", "竣工决算", "final accounts"},
  };
  static const std::vector<Choice> kCategories = {
      {v1::FINDING_CATEGORY_FINANCIAL_DISCIPLINE, "financial-discipline", "违反财经纪律", "financial discipline"},
      {v1::FINDING_CATEGORY_PROPERTY_MANAGEMENT, "property-management", "涉案财物管理不规范",
       "case property management"},
      {v1::FINDING_CATEGORY_PROCUREMENT, "procurement", "政府采购不规范", "procurement"},
      {v1::FINDING_CATEGORY_CONSTRUCTION, "construction", "工程建设管理", "construction"},
      {v1::FINDING_CATEGORY_ASSET_MANAGEMENT, "asset-management", "国有资产管理", "state asset management"},
      {v1::FINDING_CATEGORY_INTERNAL_CONTROL, "internal-control", "内部控制缺陷", "internal control"},
      {v1::FINDING_CATEGORY_PRICE, "price", "询价/价格偏高", "price (inquiry, overpricing)"},
  };
  static const std::vector<Choice> kSeverities = {
      {v1::SEVERITY_LOW, "low", "低", "low"},
      {v1::SEVERITY_MEDIUM, "medium", "中", "medium"},
      {v1::SEVERITY_HIGH, "high", "高", "high"},
      {v1::SEVERITY_CRITICAL, "critical", "严重", "critical"},
  };
  static const std::vector<Choice> kRectStates = {
      {v1::RECTIFICATION_STATE_OPEN, "open", "整改中", "open"},
      {v1::RECTIFICATION_STATE_SUBMITTED, "submitted", "已提交待核验", "submitted"},
      {v1::RECTIFICATION_STATE_SIGNED_OFF, "signed-off", "已销号", "signed off"},
  };
  switch (kind) {
    case AuditChoice::kKind: return kKinds;
    case AuditChoice::kAdvanceTo: return kStates;
    case AuditChoice::kItStage: return kItStages;
    case AuditChoice::kCategory: return kCategories;
    case AuditChoice::kSeverity: return kSeverities;
    case AuditChoice::kRectState: return kRectStates;
  }
  return kStates;
}

std::string Label(Lang l, AuditChoice kind, int value) {
  for (const auto& c : Table(kind)) {
    if (c.value == value) return T(l, c.zh, c.en);
  }
  return value == 0 ? "" : "?" + std::to_string(value);
}

bool Parse(AuditChoice kind, const std::string& cli, int* value) {
  for (const auto& c : Table(kind)) {
    if (cli == c.cli) {
      *value = c.value;
      return true;
    }
  }
  return false;
}

std::string ReferralLabel(Lang l, v1::ReferralState s) {
  switch (s) {
    case v1::REFERRAL_STATE_PENDING: return T(l, "待送达", "pending (in the outbox)");
    case v1::REFERRAL_STATE_DELIVERED: return T(l, "已送达（已形成线索）", "delivered (a clue exists)");
    case v1::REFERRAL_STATE_DEAD: return T(l, "移送失败", "failed for good");
    default: return T(l, "未移送", "not referred");
  }
}

std::string ClueStateLabel(Lang l, v1::ClueState s) {
  switch (s) {
    case v1::CLUE_STATE_REGISTERED: return T(l, "已登记", "registered");
    case v1::CLUE_STATE_OFFERED: return T(l, "移送待接收", "offered (awaiting acceptance)");
    case v1::CLUE_STATE_HELD: return T(l, "在办", "held");
    case v1::CLUE_STATE_IN_HANDLING: return T(l, "处置中", "in handling");
    case v1::CLUE_STATE_SHELVED: return T(l, "暂存待查", "shelved");
    case v1::CLUE_STATE_CASE_FILED: return T(l, "已立案", "case filed");
    case v1::CLUE_STATE_CONCLUDED: return T(l, "已办结", "concluded");
    case v1::CLUE_STATE_MERGED: return T(l, "已并案", "merged");
    default: return "";
  }
}

std::string MethodLabel(Lang l, v1::DispositionMethod m) {
  switch (m) {
    case v1::DISPOSITION_METHOD_TALK_OR_LETTER: return T(l, "谈话函询", "talk or inquiry letter");
    case v1::DISPOSITION_METHOD_VERIFICATION: return T(l, "初步核实", "preliminary verification");
    case v1::DISPOSITION_METHOD_SHELVE: return T(l, "暂存待查", "shelve pending leads");
    case v1::DISPOSITION_METHOD_CLOSE: return T(l, "予以了结", "close");
    default: return "";
  }
}

std::string FormLabel(Lang l, int form) {
  switch (form) {
    case 1: return T(l, "第一种形态", "form 1");
    case 2: return T(l, "第二种形态", "form 2");
    case 3: return T(l, "第三种形态", "form 3");
    case 4: return T(l, "第四种形态", "form 4");
    default: return "";
  }
}

// An enum value name (StatsCount keys, event data) in words; anything else unchanged.
std::string EnumNameLabel(Lang l, const std::string& key) {
  if (v1::FindingCategory c; v1::FindingCategory_Parse(key, &c)) return Label(l, AuditChoice::kCategory, c);
  if (v1::Severity s; v1::Severity_Parse(key, &s)) return Label(l, AuditChoice::kSeverity, s);
  if (v1::EngagementState s; v1::EngagementState_Parse(key, &s)) return Label(l, AuditChoice::kAdvanceTo, s);
  if (v1::EngagementKind k; v1::EngagementKind_Parse(key, &k)) return Label(l, AuditChoice::kKind, k);
  if (v1::RectificationState s; v1::RectificationState_Parse(key, &s)) return Label(l, AuditChoice::kRectState, s);
  if (v1::ReferralState s; v1::ReferralState_Parse(key, &s)) return ReferralLabel(l, s);
  if (v1::ItStage s; v1::ItStage_Parse(key, &s)) return Label(l, AuditChoice::kItStage, s);
  return key;
}

// ---------------------------------------------------------------------------------------
// Formatting.

// "2026-03-05 14:03[:07]" in Beijing time (UTC+8, no daylight saving); "" when unset.
std::string BeijingTime(const google::protobuf::Timestamp& t, bool seconds = false) {
  if (t.seconds() == 0 && t.nanos() == 0) return "";
  std::time_t s = static_cast<std::time_t>(t.seconds() + 8 * 3600);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, seconds ? "%Y-%m-%d %H:%M:%S" : "%Y-%m-%d %H:%M", &tm);
  return buf;
}

size_t Utf8Len(unsigned char c) { return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1; }

// At most `width` terminal columns of `s` on one line, with "…" when cut.
std::string Truncate(const std::string& in, size_t width) {
  std::string s;
  for (char c : in) s += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (DisplayWidth(s) <= width) return s;
  std::string out;
  size_t used = 0;
  for (size_t i = 0; i < s.size();) {
    const size_t len = Utf8Len(static_cast<unsigned char>(s[i]));
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

// Without ASCII white space and ideographic spaces (U+3000) at either end.
std::string Trim(std::string_view s) {
  static constexpr std::string_view kIdeographicSpace = "\xE3\x80\x80";
  while (true) {
    if (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    else if (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    else if (StartsWith(s, kIdeographicSpace)) s.remove_prefix(kIdeographicSpace.size());
    else if (EndsWith(s, kIdeographicSpace)) s.remove_suffix(kIdeographicSpace.size());
    else break;
  }
  return std::string(s);
}

std::string Percent(int64_t part, int64_t whole) {
  if (whole <= 0) return "—";
  const int64_t tenths = (part * 1000 + whole / 2) / whole;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + "%";
}

int NeedToken(Context& ctx) {
  return ctx.FailLocal(kExitAuth, "未登录：请先运行 smctl login --dev …，或用 --token / SMCTL_TOKEN 提供令牌。",
                       "not logged in: run smctl login --dev, or pass --token / SMCTL_TOKEN.");
}

// Errors from the audit service: as Context::Fail, but naming --audit-addr when it cannot be
// reached, and saying so plainly when the service does not have the method.
int FailAudit(Context& ctx, const grpc::Status& s) {
  const std::string addr = ctx.options().audit_addr;
  const std::string msg = s.error_message();
  switch (s.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return ctx.FailLocal(kExitUnavailable, "审计服务不可用（" + addr + "）：" + msg + "。服务是否已启动？",
                           "audit service unavailable at " + addr + ": " + msg + ". Is it running?");
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return ctx.FailLocal(kExitUnavailable, "审计服务响应超时（" + addr + "）",
                           "the audit service did not answer in time (" + addr + ")");
    case grpc::StatusCode::UNIMPLEMENTED:
      return ctx.FailLocal(kExitError, "审计服务尚未实现此操作（" + addr + "）",
                           "the audit service at " + addr + " does not implement this operation");
    default:
      return ctx.Fail(s);
  }
}

class Session {
 public:
  explicit Session(Context& ctx) : ctx(ctx), dir(ctx), stub(v1::AuditService::NewStub(ctx.AuditChannel())) {}

  template <typename Req, typename Resp>
  grpc::Status Call(grpc::Status (v1::AuditService::Stub::*rpc)(grpc::ClientContext*, const Req&, Resp*),
                    const Req& req, Resp* resp) {
    grpc::ClientContext cc;
    ctx.Prepare(&cc);
    return ((*stub).*rpc)(&cc, req, resp);
  }

  // The engagement numbered `number` among those the caller sees (nullopt when none).
  grpc::Status SearchEngagement(const std::string& number, std::optional<v1::Engagement>* out) {
    out->reset();
    v1::ListEngagementsRequest req;
    req.set_page_size(500);
    while (true) {
      v1::ListEngagementsResponse resp;
      grpc::Status s = Call(&v1::AuditService::Stub::ListEngagements, req, &resp);
      if (!s.ok()) return s;
      for (const auto& e : resp.engagements()) {
        if (Upper(e.number()) == number) {
          *out = e;
          return grpc::Status::OK;
        }
      }
      if (resp.next_page_token().empty()) return grpc::Status::OK;
      req.set_page_token(resp.next_page_token());
    }
  }

  // ENG (a UUID or a number such as SJ-2026-0001) to the engagement. With a UUID and !fetch
  // only the id is filled.
  int FindEngagement(const std::string& key, bool fetch, v1::Engagement* out) {
    if (IsUuid(key)) {
      if (!fetch) {
        out->set_id(key);
        return kExitOk;
      }
      v1::GetEngagementRequest req;
      req.set_engagement_id(key);
      grpc::Status s = Call(&v1::AuditService::Stub::GetEngagement, req, out);
      return s.ok() ? kExitOk : FailAudit(ctx, s);
    }
    std::optional<v1::Engagement> found;
    grpc::Status s = SearchEngagement(Upper(key), &found);
    if (!s.ok()) return FailAudit(ctx, s);
    if (!found) {
      return ctx.FailLocal(kExitNotFound, "未找到审计项目 " + key + "（或无权查看）",
                           "engagement " + key + " not found (or not visible to you)");
    }
    *out = *found;
    return kExitOk;
  }

  // FINDING (a UUID or a number such as SJ-2026-0001-02) to the finding. A number is looked
  // for among its engagement's findings first, then among all the caller sees.
  int FindFinding(const std::string& key, bool fetch, v1::Finding* out) {
    if (IsUuid(key)) {
      if (!fetch) {
        out->set_id(key);
        return kExitOk;
      }
      v1::GetFindingRequest req;
      req.set_finding_id(key);
      grpc::Status s = Call(&v1::AuditService::Stub::GetFinding, req, out);
      return s.ok() ? kExitOk : FailAudit(ctx, s);
    }
    const std::string number = Upper(key);
    v1::ListFindingsRequest req;
    req.set_page_size(500);
    bool found = false;
    if (const size_t dash = number.rfind('-'); dash != std::string::npos && dash > 0) {
      std::optional<v1::Engagement> en;
      if (SearchEngagement(number.substr(0, dash), &en).ok() && en) {
        req.set_engagement_id(en->id());
        grpc::Status s = ScanFindings(req, number, out, &found);
        if (!s.ok()) return FailAudit(ctx, s);
      }
    }
    if (!found) {
      req.clear_engagement_id();
      grpc::Status s = ScanFindings(req, number, out, &found);
      if (!s.ok()) return FailAudit(ctx, s);
    }
    if (!found) {
      return ctx.FailLocal(kExitNotFound, "未找到审计发现 " + key + "（或无权查看）",
                           "finding " + key + " not found (or not visible to you)");
    }
    return kExitOk;
  }

  // RECT (a UUID, or a unique prefix of at least 8 characters) to the rectification, found
  // among those the caller sees (the API has no GetRectification). With a UUID and !fetch
  // only the id is filled.
  int FindRect(const std::string& key_in, bool fetch, v1::Rectification* out) {
    const std::string key = Lower(key_in);
    if (IsUuid(key) && !fetch) {
      out->set_id(key);
      return kExitOk;
    }
    if (!IsUuid(key) && key.size() < 8) {
      return ctx.FailLocal(kExitUsage, "整改ID至少需要前 8 位：" + key_in,
                           "give the rectification id, or at least its first 8 characters: " + key_in);
    }
    v1::ListRectificationsRequest req;
    v1::ListRectificationsResponse resp;
    grpc::Status s = Call(&v1::AuditService::Stub::ListRectifications, req, &resp);
    if (!s.ok()) return FailAudit(ctx, s);
    int matches = 0;
    for (const auto& x : resp.rectifications()) {
      if (x.id() == key || (!IsUuid(key) && StartsWith(x.id(), key))) {
        *out = x;
        ++matches;
      }
    }
    if (matches > 1) {
      return ctx.FailLocal(kExitUsage, "前缀 " + key_in + " 对应多条整改，请给出完整ID",
                           "prefix " + key_in + " matches several rectifications; give the whole id");
    }
    if (matches == 0) {
      return ctx.FailLocal(kExitNotFound, "未找到整改 " + key_in + "（或无权查看）",
                           "rectification " + key_in + " not found (or not visible to you)");
    }
    return kExitOk;
  }

  // The finding's number (cached), or its id when it cannot be read.
  std::string FindingNumber(const std::string& id) {
    if (id.empty()) return "";
    auto it = finding_numbers_.find(id);
    if (it != finding_numbers_.end()) return it->second;
    v1::GetFindingRequest req;
    req.set_finding_id(id);
    v1::Finding f;
    std::string number = Call(&v1::AuditService::Stub::GetFinding, req, &f).ok() ? f.number() : id;
    finding_numbers_[id] = number;
    return number;
  }

  static std::string RequestId(const std::string& given) { return given.empty() ? NewUuid() : given; }

  Context& ctx;
  Directory dir;
  std::unique_ptr<v1::AuditService::Stub> stub;

 private:
  grpc::Status ScanFindings(v1::ListFindingsRequest req, const std::string& number, v1::Finding* out, bool* found) {
    while (true) {
      v1::ListFindingsResponse resp;
      grpc::Status s = Call(&v1::AuditService::Stub::ListFindings, req, &resp);
      if (!s.ok()) return s;
      for (const auto& f : resp.findings()) {
        if (Upper(f.number()) == number) {
          *out = f;
          *found = true;
          return grpc::Status::OK;
        }
      }
      if (resp.next_page_token().empty()) return grpc::Status::OK;
      req.set_page_token(resp.next_page_token());
    }
  }

  std::map<std::string, std::string> finding_numbers_;
};

const char* Replayed(Lang l) {
  return T(l, "（此请求此前已执行，以上为首次结果）\n", "(this request was done before; the first result is shown)\n");
}

std::string EngagementPeriod(const v1::Engagement& e) {
  if (e.period_from().empty() && e.period_to().empty()) return "";
  return e.period_from() + " ~ " + e.period_to();
}

int EngagementDone(Session& s, const grpc::Status& st, const v1::EngagementReply& r, const char* zh, const char* en) {
  if (!st.ok()) return FailAudit(s.ctx, st);
  if (s.ctx.json()) {
    s.ctx.PrintJson(r);
    return kExitOk;
  }
  const Lang l = s.ctx.lang();
  const v1::Engagement& e = r.engagement();
  std::cout << T(l, zh, en) << T(l, "：", ": ") << e.number() << "  " << T(l, "状态：", "state: ")
            << Label(l, AuditChoice::kAdvanceTo, e.state()) << "  " << T(l, "版本：", "version: ") << e.version()
            << "\n";
  if (r.mutation().replayed()) std::cout << Replayed(l);
  return kExitOk;
}

std::string ReferralCell(Lang l, const v1::Referral& r) {
  switch (r.state()) {
    case v1::REFERRAL_STATE_DELIVERED: return r.clue_number().empty() ? ReferralLabel(l, r.state()) : r.clue_number();
    case v1::REFERRAL_STATE_PENDING:
    case v1::REFERRAL_STATE_DEAD: return ReferralLabel(l, r.state());
    default: return "";
  }
}

void PrintFindings(Session& s, const google::protobuf::RepeatedPtrField<v1::Finding>& findings) {
  const Lang l = s.ctx.lang();
  std::vector<std::vector<std::string>> rows;
  for (const auto& f : findings) {
    rows.push_back({f.number(), Truncate(f.title(), 24), Label(l, AuditChoice::kCategory, f.category()),
                    FormatYuan(f.amount_fen()), Label(l, AuditChoice::kSeverity, f.severity()),
                    s.dir.UnitName(f.responsible_unit_id()), ReferralCell(l, f.referral()),
                    std::to_string(f.rectifications_signed_off()) + "/" +
                        std::to_string(f.rectifications_signed_off() + f.rectifications_open()),
                    f.recurring() ? T(l, "是", "yes") : ""});
  }
  PrintTable(std::cout,
             {T(l, "编号", "number"), T(l, "标题", "title"), T(l, "类别", "category"), T(l, "金额（元）", "amount (yuan)"),
              T(l, "严重程度", "severity"), T(l, "责任单位", "responsible unit"), T(l, "移送", "referral"),
              T(l, "整改销号", "signed off"), T(l, "屡查屡犯", "recurring")},
             rows);
}

void PrintRects(Session& s, const google::protobuf::RepeatedPtrField<v1::Rectification>& rects) {
  const Lang l = s.ctx.lang();
  std::vector<std::vector<std::string>> rows;
  for (const auto& x : rects) {
    std::string flags = Join({x.spot_check() ? T(l, "抽查复核", "spot check") : "",
                              x.reopened() > 0 ? T(l, "回头看×", "reopened ×") + std::to_string(x.reopened()) : ""},
                             T(l, "、", ", "));
    rows.push_back({x.id(), s.FindingNumber(x.finding_id()), Truncate(x.measure(), 24), s.dir.UnitName(x.owner_unit_id()),
                    Label(l, AuditChoice::kRectState, x.state()), BeijingTime(x.deadline_at()),
                    x.overdue() ? T(l, "是", "yes") : "", flags});
  }
  PrintTable(std::cout,
             {"ID", T(l, "问题编号", "finding"), T(l, "整改措施", "measure"), T(l, "责任单位", "owner unit"),
              T(l, "状态", "state"), T(l, "整改期限", "deadline"), T(l, "逾期", "overdue"), T(l, "备注", "notes")},
             rows);
}

int RectDone(Session& s, const grpc::Status& st, const v1::RectificationReply& r, const char* zh, const char* en) {
  if (!st.ok()) return FailAudit(s.ctx, st);
  if (s.ctx.json()) {
    s.ctx.PrintJson(r);
    return kExitOk;
  }
  const Lang l = s.ctx.lang();
  const v1::Rectification& x = r.rectification();
  std::cout << T(l, zh, en) << T(l, "：", ": ") << x.id() << "\n"
            << T(l, "状态：", "state: ") << Label(l, AuditChoice::kRectState, x.state()) << "  "
            << T(l, "整改期限：", "deadline: ") << BeijingTime(x.deadline_at()) << "  " << T(l, "版本：", "version: ")
            << x.version() << "\n";
  if (x.state() == v1::RECTIFICATION_STATE_SIGNED_OFF) {
    std::cout << T(l, "回头看截止：", "look-back until: ") << BeijingTime(x.lookback_until());
    if (x.spot_check()) std::cout << "  " << T(l, "（已抽中复核）", "(selected for a spot check)");
    std::cout << "\n";
  }
  if (r.mutation().replayed()) std::cout << Replayed(l);
  return kExitOk;
}

// Event data as "key: value" pairs, with units and people named and enums in words.
std::string EventData(Session& s, const std::string& json, const v1::Finding& finding) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return json;
  const Lang l = s.ctx.lang();
  static const std::map<std::string, std::pair<const char*, const char*>> kKeys = {
      {"to_unit_id", {"移送至", "to"}},
      {"owner_unit_id", {"责任单位", "owner unit"}},
      {"responsible_unit_id", {"责任单位", "responsible unit"}},
      {"audited_unit_id", {"被审计单位", "audited unit"}},
      {"engagement_id", {"审计项目", "engagement"}},
      {"rectification_id", {"整改", "rectification"}},
      {"clue_id", {"线索", "clue"}},
      {"category", {"类别", "category"}},
      {"amount_fen", {"金额（元）", "amount (yuan)"}},
      {"kind", {"类型", "kind"}},
      {"from", {"从", "from"}},
      {"to", {"至", "to"}},
      {"note", {"进展", "note"}},
      {"summary", {"说明", "summary"}},
      {"reason", {"理由", "reason"}},
      {"evidence_refs", {"证据", "evidence"}},
      {"spot_check", {"抽查复核", "spot check"}},
      {"deadline_us", {"整改期限", "deadline"}},
      {"recurs_finding_id", {"前次问题", "earlier finding"}},
      {"error", {"错误", "error"}},
  };
  std::vector<std::string> parts;
  for (const auto& [key, value] : j.items()) {
    if (key == "clue_seq") continue;
    std::string text;
    if (value.is_string()) {
      const std::string v = value.get<std::string>();
      if (v.empty()) continue;
      if (EndsWith(key, "unit_id") && IsUuid(v)) text = s.dir.UnitName(v);
      else if (EndsWith(key, "person_id") && IsUuid(v)) text = s.dir.PersonName(v);
      else if (key == "clue_id" && v == finding.referral().clue_id() && !finding.referral().clue_number().empty())
        text = finding.referral().clue_number();
      else if (key == "recurs_finding_id" && IsUuid(v)) text = s.FindingNumber(v);
      else if (key == "engagement_id" && v == finding.engagement_id()) continue;  // the finding's own
      else text = EnumNameLabel(l, v);
    } else if (key == "amount_fen" && value.is_number_integer()) {
      text = FormatYuan(value.get<int64_t>());
    } else if (key == "deadline_us" && value.is_number_integer()) {
      google::protobuf::Timestamp t;
      t.set_seconds(value.get<int64_t>() / 1000000);
      text = BeijingTime(t);
    } else if (value.is_boolean()) {
      text = value.get<bool>() ? T(l, "是", "yes") : T(l, "否", "no");
    } else if (value.is_array()) {
      std::vector<std::string> items;
      for (const auto& item : value) items.push_back(item.is_string() ? item.get<std::string>() : item.dump());
      if (items.empty()) continue;
      text = Join(items, T(l, "、", ", "));
    } else {
      text = value.dump();
    }
    auto it = kKeys.find(key);
    parts.push_back((it == kKeys.end() ? key : std::string(T(l, it->second.first, it->second.second))) +
                    T(l, "：", ": ") + text);
  }
  return Join(parts, T(l, "；", "; "));
}

std::string EventLabel(Lang l, const std::string& type) {
  static const std::map<std::string, std::pair<const char*, const char*>> kEvents = {
      {"engagement_created", {"立项", "engagement created"}},
      {"engagement_advanced", {"项目推进", "engagement advanced"}},
      {"finding_added", {"登记问题", "finding added"}},
      {"recurrence_flagged", {"屡查屡犯", "recurrence flagged"}},
      {"referred", {"移送", "referred"}},
      {"clue_linked", {"已形成线索", "clue linked"}},
      {"referral_delivered", {"移送已送达", "referral delivered"}},
      {"referral_dead", {"移送失败", "referral failed"}},
      {"referral_retried", {"重新移送", "referral retried"}},
      {"clue_registered", {"线索登记", "clue registered"}},
      {"clue_offered", {"线索移送", "clue offered"}},
      {"clue_accepted", {"线索接收", "clue accepted"}},
      {"clue_returned", {"线索退回", "clue returned"}},
      {"clue_disposed", {"线索处置", "clue disposed"}},
      {"clue_case_filed", {"线索立案", "clue: case filed"}},
      {"clue_concluded", {"线索办结", "clue concluded"}},
      {"clue_merged_into", {"线索并案", "clue merged"}},
      {"rectification_added", {"下达整改", "rectification set"}},
      {"rectification_progress", {"整改进展", "rectification progress"}},
      {"rectification_submitted", {"提交整改", "rectification submitted"}},
      {"rectification_signed_off", {"销号", "signed off"}},
      {"rectification_rejected", {"退回整改", "rectification rejected"}},
      {"rectification_reopened", {"回头看重新整改", "rectification reopened"}},
      {"rectification_escalated", {"逾期督办", "overdue, escalated"}},
  };
  auto it = kEvents.find(type);
  if (it == kEvents.end()) return type;
  return T(l, it->second.first, it->second.second);
}

// The clue category spelling of `smctl clue` ("bending-law") to the enum.
bool ParseClueCategory(const std::string& cli, v1::ClueCategory* out) {
  std::string name = "CLUE_CATEGORY_";
  for (char c : cli) name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return v1::ClueCategory_Parse(name, out) && *out != v1::CLUE_CATEGORY_UNSPECIFIED;
}

// ---------------------------------------------------------------------------------------
// The findings ledger (台账).

enum Column { kColTitle, kColDescription, kColCategory, kColAmount, kColSeverity, kColUnit, kColPerson, kColEvidence,
              kColumns };
constexpr const char* kColZh[kColumns] = {"标题", "描述", "类别", "金额", "严重程度", "责任单位", "责任人", "证据"};
constexpr const char* kColEn[kColumns] = {"title", "description", "category", "amount", "severity", "unit", "person",
                                          "evidence"};
constexpr bool kColRequired[kColumns] = {true, true, true, true, true, true, false, false};

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

std::optional<Column> HeaderColumn(const std::string& cell) {
  static const std::map<std::string, Column> kAliases = {
      {"标题", kColTitle}, {"问题标题", kColTitle}, {"问题", kColTitle}, {"title", kColTitle},
      {"描述", kColDescription}, {"问题描述", kColDescription}, {"情况描述", kColDescription},
      {"description", kColDescription}, {"details", kColDescription},
      {"类别", kColCategory}, {"问题类别", kColCategory}, {"问题类型", kColCategory}, {"category", kColCategory},
      {"金额", kColAmount}, {"涉及金额", kColAmount}, {"问题金额", kColAmount}, {"amount", kColAmount},
      {"amount yuan", kColAmount},
      {"严重程度", kColSeverity}, {"严重性", kColSeverity}, {"severity", kColSeverity},
      {"责任单位", kColUnit}, {"责任单位代码", kColUnit}, {"单位代码", kColUnit}, {"unit", kColUnit},
      {"unit code", kColUnit}, {"responsible unit", kColUnit},
      {"责任人", kColPerson}, {"责任人警号", kColPerson}, {"警号", kColPerson}, {"person", kColPerson},
      {"badge", kColPerson}, {"responsible person", kColPerson},
      {"证据", kColEvidence}, {"证据材料", kColEvidence}, {"证据索引", kColEvidence}, {"evidence", kColEvidence},
      {"evidence refs", kColEvidence},
  };
  auto it = kAliases.find(NormalizeHeader(cell));
  if (it == kAliases.end()) return std::nullopt;
  return it->second;
}

// A category in either language: the command-line spelling, the enum name, the Chinese
// label or a common short form.
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
  for (const auto& c : Table(AuditChoice::kCategory)) {
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
      {"low", v1::SEVERITY_LOW},           {"低", v1::SEVERITY_LOW},         {"轻微", v1::SEVERITY_LOW},
      {"medium", v1::SEVERITY_MEDIUM},     {"中", v1::SEVERITY_MEDIUM},      {"一般", v1::SEVERITY_MEDIUM},
      {"high", v1::SEVERITY_HIGH},         {"高", v1::SEVERITY_HIGH},        {"较重", v1::SEVERITY_HIGH},
      {"critical", v1::SEVERITY_CRITICAL}, {"严重", v1::SEVERITY_CRITICAL},  {"特别严重", v1::SEVERITY_CRITICAL},
  };
  auto it = kAliases.find(s);
  if (it == kAliases.end()) return false;
  *out = it->second;
  return true;
}

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

// The column a field of AddFindingRequest comes from.
std::string ColumnOfField(Lang l, const std::string& field) {
  static const std::map<std::string, Column> kFields = {
      {"title", kColTitle},           {"description", kColDescription},       {"category", kColCategory},
      {"amount_fen", kColAmount},     {"severity", kColSeverity},             {"responsible_unit_id", kColUnit},
      {"responsible_person_id", kColPerson}, {"evidence_refs", kColEvidence},
  };
  std::string base = field.substr(0, field.find('['));
  auto it = kFields.find(base);
  if (it == kFields.end()) return field;
  return std::string(T(l, kColZh[it->second], kColEn[it->second])) + " (" + field + ")";
}

// Shows how far an import has got: a bar redrawn in place when stderr is a terminal,
// otherwise a plain line every tenth of the way (at least every 10 rows) and at the end.
class Progress {
 public:
  Progress(Lang l, int total, bool dry_run)
      : total_(total), tty_(isatty(STDERR_FILENO) == 1), step_(std::max(10, (total + 9) / 10)),
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

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream buf;
  buf << in.rdbuf();
  *out = buf.str();
  return !in.bad();
}

bool Retryable(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNAVAILABLE || s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Pure helpers.

std::vector<std::string> AuditChoices(AuditChoice kind) {
  std::vector<std::string> out;
  for (const auto& c : Table(kind)) {
    if (kind == AuditChoice::kAdvanceTo && c.value == v1::ENGAGEMENT_STATE_PLANNED) continue;
    out.push_back(c.cli);
  }
  return out;
}

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
      return fail("金额最多两位小数（精确到分）：" + original,
                  "an amount has at most 2 decimals (fen): " + original);
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
    const bool empty = std::all_of(rec.fields.begin(), rec.fields.end(),
                                   [](const std::string& f) { return Trim(f).empty(); });
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

// ---------------------------------------------------------------------------------------
// Engagements.

int AuditEngagementCreate(Context& ctx, const EngagementCreateArgs& a) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::CreateEngagementRequest req;
  int v = 0;
  if (!Parse(AuditChoice::kKind, a.kind, &v)) {
    return ctx.FailLocal(kExitUsage, "未知审计类型：" + a.kind, "unknown engagement kind: " + a.kind);
  }
  req.set_kind(static_cast<v1::EngagementKind>(v));
  if (!a.it_stage.empty()) {
    if (!Parse(AuditChoice::kItStage, a.it_stage, &v)) {
      return ctx.FailLocal(kExitUsage, "未知信息化项目环节：" + a.it_stage, "unknown IT stage: " + a.it_stage);
    }
    req.set_it_stage(static_cast<v1::ItStage>(v));
  }
  std::string id;
  if (int rc = s.dir.UnitId(a.audit_unit, &id); rc != kExitOk) return rc;
  req.set_audit_unit_id(id);
  if (int rc = s.dir.UnitId(a.audited_unit, &id); rc != kExitOk) return rc;
  req.set_audited_unit_id(id);
  if (!a.audited_person.empty()) {
    if (int rc = s.dir.PersonId(a.audited_person, &id); rc != kExitOk) return rc;
    req.set_audited_person_id(id);
  }
  req.set_request_id(Session::RequestId(a.request_id));
  req.set_title(a.title);
  req.set_period_from(a.from);
  req.set_period_to(a.to);
  v1::EngagementReply reply;
  grpc::Status st = s.Call(&v1::AuditService::Stub::CreateEngagement, req, &reply);
  if (!st.ok()) return FailAudit(ctx, st);
  if (ctx.json()) {
    ctx.PrintJson(reply);
    return kExitOk;
  }
  const Lang l = ctx.lang();
  const v1::Engagement& e = reply.engagement();
  std::cout << (reply.mutation().replayed() ? T(l, "此审计项目此前已立项：", "created earlier: ")
                                            : T(l, "已立项：", "engagement created: "))
            << e.number() << "\n";
  PrintTable(std::cout, {T(l, "字段", "field"), T(l, "值", "value")},
             {{T(l, "编号", "number"), e.number()},
              {"ID", e.id()},
              {T(l, "类型", "kind"), Label(l, AuditChoice::kKind, e.kind())},
              {T(l, "被审计单位", "audited unit"), s.dir.UnitName(e.audited_unit_id())},
              {T(l, "状态", "state"), Label(l, AuditChoice::kAdvanceTo, e.state())}});
  return kExitOk;
}

int AuditEngagementAdvance(Context& ctx, const EngagementAdvanceArgs& a) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  int to = 0;
  if (!Parse(AuditChoice::kAdvanceTo, a.to, &to) || to == v1::ENGAGEMENT_STATE_PLANNED) {
    return ctx.FailLocal(kExitUsage, "未知状态：" + a.to, "unknown state: " + a.to);
  }
  v1::Engagement e;
  if (int rc = s.FindEngagement(a.engagement, a.version <= 0, &e); rc != kExitOk) return rc;
  v1::AdvanceEngagementRequest req;
  req.set_request_id(Session::RequestId(a.request_id));
  req.set_engagement_id(e.id());
  req.set_expected_version(a.version > 0 ? a.version : e.version());
  req.set_to(static_cast<v1::EngagementState>(to));
  v1::EngagementReply reply;
  return EngagementDone(s, s.Call(&v1::AuditService::Stub::AdvanceEngagement, req, &reply), reply, "已推进",
                        "advanced");
}

int AuditEngagementShow(Context& ctx, const std::string& key) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::Engagement e;
  if (int rc = s.FindEngagement(key, true, &e); rc != kExitOk) return rc;
  if (ctx.json()) {
    ctx.PrintJson(e);
    return kExitOk;
  }
  const Lang l = ctx.lang();
  std::vector<std::vector<std::string>> rows;
  auto row = [&](const char* zh, const char* en, std::string value, bool always = false) {
    if (always || !value.empty()) rows.push_back({T(l, zh, en), std::move(value)});
  };
  row("编号", "number", e.number(), true);
  row("ID", "ID", e.id(), true);
  row("类型", "kind", Label(l, AuditChoice::kKind, e.kind()), true);
  row("标题", "title", e.title(), true);
  row("审计单位", "audit unit", s.dir.UnitName(e.audit_unit_id()), true);
  row("被审计单位", "audited unit", s.dir.UnitName(e.audited_unit_id()), true);
  row("被审计人", "audited person", s.dir.PersonName(e.audited_person_id()));
  row("审计期间", "period", EngagementPeriod(e), true);
  row("信息化项目环节", "IT stage", Label(l, AuditChoice::kItStage, e.it_stage()));
  row("状态", "state", Label(l, AuditChoice::kAdvanceTo, e.state()), true);
  row("立项时间", "created", BeijingTime(e.created_at()), true);
  row("版本", "version", std::to_string(e.version()), true);
  PrintTable(std::cout, {T(l, "字段", "field"), T(l, "值", "value")}, rows);
  return kExitOk;
}

int AuditEngagementList(Context& ctx, const EngagementListArgs& a) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::ListEngagementsRequest req;
  if (!a.audited_unit.empty()) {
    std::string id;
    if (int rc = s.dir.UnitId(a.audited_unit, &id); rc != kExitOk) return rc;
    req.set_audited_unit_id(id);
  }
  if (!a.kind.empty()) {
    int v = 0;
    if (!Parse(AuditChoice::kKind, a.kind, &v)) {
      return ctx.FailLocal(kExitUsage, "未知审计类型：" + a.kind, "unknown engagement kind: " + a.kind);
    }
    req.set_kind(static_cast<v1::EngagementKind>(v));
  }
  req.set_page_size(a.limit);
  req.set_page_token(a.page_token);
  v1::ListEngagementsResponse all;
  while (true) {
    v1::ListEngagementsResponse resp;
    grpc::Status st = s.Call(&v1::AuditService::Stub::ListEngagements, req, &resp);
    if (!st.ok()) return FailAudit(ctx, st);
    for (auto& e : *resp.mutable_engagements()) *all.add_engagements() = std::move(e);
    all.set_next_page_token(resp.next_page_token());
    if (!a.all_pages || resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  if (ctx.json()) {
    ctx.PrintJson(all);
    return kExitOk;
  }
  const Lang l = ctx.lang();
  if (all.engagements().empty()) {
    std::cout << T(l, "没有符合条件的审计项目\n", "no matching engagements\n");
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : all.engagements()) {
    rows.push_back({e.number(), Label(l, AuditChoice::kKind, e.kind()), Truncate(e.title(), 28),
                    s.dir.UnitName(e.audited_unit_id()), EngagementPeriod(e),
                    Label(l, AuditChoice::kAdvanceTo, e.state())});
  }
  PrintTable(std::cout, {T(l, "编号", "number"), T(l, "类型", "kind"), T(l, "标题", "title"),
                         T(l, "被审计单位", "audited unit"), T(l, "审计期间", "period"), T(l, "状态", "state")},
             rows);
  if (!all.next_page_token().empty()) {
    std::cout << T(l, "还有更多结果：--page-token ", "more results: --page-token ") << all.next_page_token() << "\n";
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------------------
// Findings.

int AuditFindingAdd(Context& ctx, const FindingAddArgs& a) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  const Lang l = ctx.lang();
  int v = 0;
  if (!Parse(AuditChoice::kCategory, a.category, &v)) {
    return ctx.FailLocal(kExitUsage, "未知问题类别：" + a.category, "unknown category: " + a.category);
  }
  v1::AddFindingRequest req;
  req.set_category(static_cast<v1::FindingCategory>(v));
  if (!Parse(AuditChoice::kSeverity, a.severity, &v)) {
    return ctx.FailLocal(kExitUsage, "未知严重程度：" + a.severity, "unknown severity: " + a.severity);
  }
  req.set_severity(static_cast<v1::Severity>(v));
  int64_t fen = 0;
  std::string why_zh, why_en;
  if (!ParseYuan(a.amount, &fen, &why_zh, &why_en)) {
    return ctx.FailLocal(kExitUsage, "--amount：" + why_zh, "--amount: " + why_en);
  }
  req.set_amount_fen(fen);
  Session s(ctx);
  v1::Engagement e;
  if (int rc = s.FindEngagement(a.engagement, false, &e); rc != kExitOk) return rc;
  std::string id;
  if (int rc = s.dir.UnitId(a.unit, &id); rc != kExitOk) return rc;
  req.set_responsible_unit_id(id);
  if (!a.person.empty()) {
    if (int rc = s.dir.PersonId(a.person, &id); rc != kExitOk) return rc;
    req.set_responsible_person_id(id);
  }
  req.set_request_id(Session::RequestId(a.request_id));
  req.set_engagement_id(e.id());
  req.set_title(a.title);
  req.set_description(a.description);
  for (const auto& ref : a.evidence) req.add_evidence_refs(ref);
  v1::FindingReply reply;
  grpc::Status st = s.Call(&v1::AuditService::Stub::AddFinding, req, &reply);
  if (!st.ok()) return FailAudit(ctx, st);
  if (ctx.json()) {
    ctx.PrintJson(reply);
    return kExitOk;
  }
  const v1::Finding& f = reply.finding();
  std::cout << (reply.mutation().replayed() ? T(l, "此问题此前已登记：", "added earlier: ")
                                            : T(l, "已登记问题：", "finding added: "))
            << f.number() << "\n";
  std::vector<std::vector<std::string>> rows = {
      {T(l, "编号", "number"), f.number()},
      {"ID", f.id()},
      {T(l, "类别", "category"), Label(l, AuditChoice::kCategory, f.category())},
      {T(l, "涉及金额（元）", "amount (yuan)"), FormatYuan(f.amount_fen())},
      {T(l, "责任单位", "responsible unit"), s.dir.UnitName(f.responsible_unit_id())}};
  if (f.recurring()) {
    rows.push_back({T(l, "屡查屡犯", "recurring"),
                    std::string(T(l, "是（同类问题：", "yes (like ")) + s.FindingNumber(f.recurs_finding_id()) + T(l, "）", ")")});
  }
  PrintTable(std::cout, {T(l, "字段", "field"), T(l, "值", "value")}, rows);
  return kExitOk;
}

int AuditFindingShow(Context& ctx, const std::string& key) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::Finding f;
  if (int rc = s.FindFinding(key, true, &f); rc != kExitOk) return rc;
  if (ctx.json()) {
    ctx.PrintJson(f);
    return kExitOk;
  }
  const Lang l = ctx.lang();
  std::vector<std::vector<std::string>> rows;
  auto row = [&](const char* zh, const char* en, std::string value, bool always = false) {
    if (always || !value.empty()) rows.push_back({T(l, zh, en), std::move(value)});
  };
  const std::string none = "—";
  auto or_none = [&](std::string v) { return v.empty() ? none : v; };
  // The engagement's number is the finding's without its last part (SJ-2026-0001-03).
  const std::string engagement = f.number().substr(0, f.number().rfind('-'));
  row("编号", "number", f.number(), true);
  row("ID", "ID", f.id(), true);
  row("审计项目", "engagement", engagement, true);
  row("标题", "title", f.title(), true);
  row("描述", "description", f.description(), true);
  row("类别", "category", Label(l, AuditChoice::kCategory, f.category()), true);
  row("涉及金额（元）", "amount (yuan)", FormatYuan(f.amount_fen()), true);
  row("严重程度", "severity", Label(l, AuditChoice::kSeverity, f.severity()), true);
  row("责任单位", "responsible unit", s.dir.UnitName(f.responsible_unit_id()), true);
  row("责任人", "responsible person", s.dir.PersonName(f.responsible_person_id()));
  row("证据", "evidence",
      Join(std::vector<std::string>(f.evidence_refs().begin(), f.evidence_refs().end()), T(l, "、", ", ")));
  if (f.recurring()) {
    row("屡查屡犯", "recurring",
        std::string(T(l, "是（同类问题：", "yes (like ")) + s.FindingNumber(f.recurs_finding_id()) + T(l, "）", ")"));
  }
  const v1::Referral& r = f.referral();
  row("移送状态", "referral", ReferralLabel(l, r.state()), true);
  if (r.state() != v1::REFERRAL_STATE_UNSPECIFIED) {
    row("移送至", "referred to", s.dir.UnitName(r.to_unit_id()), true);
    row("线索编号", "clue number", or_none(r.clue_number()), true);
    row("线索状态", "clue state", or_none(ClueStateLabel(l, r.clue_state())), true);
    row("处置方式", "disposition", or_none(MethodLabel(l, r.disposition())), true);
    row("结论形态", "outcome form", or_none(FormLabel(l, r.outcome_form())), true);
    row("反馈", "feedback", or_none(r.outcome_feedback()), true);
    row("移送错误", "referral error", r.last_error());
  }
  row("整改", "rectifications",
      std::to_string(f.rectifications_open() + f.rectifications_signed_off()) + T(l, " 项，已销号 ", ", signed off ") +
          std::to_string(f.rectifications_signed_off()),
      true);
  row("登记时间", "added", BeijingTime(f.created_at()), true);
  row("版本", "version", std::to_string(f.version()), true);
  PrintTable(std::cout, {T(l, "字段", "field"), T(l, "值", "value")}, rows);
  return kExitOk;
}

int AuditFindingList(Context& ctx, const FindingListArgs& a) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::ListFindingsRequest req;
  if (!a.engagement.empty()) {
    v1::Engagement e;
    if (int rc = s.FindEngagement(a.engagement, false, &e); rc != kExitOk) return rc;
    req.set_engagement_id(e.id());
  }
  if (!a.unit.empty()) {
    std::string id;
    if (int rc = s.dir.UnitId(a.unit, &id); rc != kExitOk) return rc;
    req.set_responsible_unit_id(id);
  }
  if (!a.category.empty()) {
    int v = 0;
    if (!Parse(AuditChoice::kCategory, a.category, &v)) {
      return ctx.FailLocal(kExitUsage, "未知问题类别：" + a.category, "unknown category: " + a.category);
    }
    req.set_category(static_cast<v1::FindingCategory>(v));
  }
  req.set_referred_only(a.referred);
  req.set_page_size(a.limit);
  req.set_page_token(a.page_token);
  v1::ListFindingsResponse all;
  while (true) {
    v1::ListFindingsResponse resp;
    grpc::Status st = s.Call(&v1::AuditService::Stub::ListFindings, req, &resp);
    if (!st.ok()) return FailAudit(ctx, st);
    for (auto& f : *resp.mutable_findings()) *all.add_findings() = std::move(f);
    all.set_next_page_token(resp.next_page_token());
    if (!a.all_pages || resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  if (ctx.json()) {
    ctx.PrintJson(all);
    return kExitOk;
  }
  const Lang l = ctx.lang();
  if (all.findings().empty()) {
    std::cout << T(l, "没有符合条件的审计发现\n", "no matching findings\n");
    return kExitOk;
  }
  PrintFindings(s, all.findings());
  if (!all.next_page_token().empty()) {
    std::cout << T(l, "还有更多结果：--page-token ", "more results: --page-token ") << all.next_page_token() << "\n";
  }
  return kExitOk;
}

int AuditFindingRetryReferral(Context& ctx, const FindingRetryArgs& a) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::Finding f;
  if (int rc = s.FindFinding(a.finding, a.version <= 0, &f); rc != kExitOk) return rc;
  v1::RetryReferralRequest req;
  req.set_request_id(Session::RequestId(a.request_id));
  req.set_finding_id(f.id());
  req.set_expected_version(a.version > 0 ? a.version : f.version());
  req.set_reason(a.reason);
  v1::FindingReply reply;
  grpc::Status st = s.Call(&v1::AuditService::Stub::RetryReferral, req, &reply);
  if (!st.ok()) return FailAudit(ctx, st);
  if (ctx.json()) {
    ctx.PrintJson(reply);
    return kExitOk;
  }
  const Lang l = ctx.lang();
  const v1::Finding& r = reply.finding();
  std::cout << T(l, "已重新移送：", "referral sent again: ") << r.number() << "  " << T(l, "移送状态：", "referral: ")
            << ReferralLabel(l, r.referral().state()) << "  " << T(l, "版本：", "version: ") << r.version() << "\n";
  if (reply.mutation().replayed()) std::cout << Replayed(l);
  return kExitOk;
}

int AuditFindingRefer(Context& ctx, const FindingReferArgs& a) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  v1::ReferFindingRequest req;
  for (const auto& c : a.categories) {
    v1::ClueCategory cat = v1::CLUE_CATEGORY_UNSPECIFIED;
    if (!ParseClueCategory(c, &cat)) {
      return ctx.FailLocal(kExitUsage, "未知线索类别：" + c, "unknown clue category: " + c);
    }
    req.add_categories(cat);
  }
  Session s(ctx);
  std::string to;
  if (int rc = s.dir.UnitId(a.to, &to); rc != kExitOk) return rc;
  v1::Finding f;
  if (int rc = s.FindFinding(a.finding, a.version <= 0, &f); rc != kExitOk) return rc;
  req.set_request_id(Session::RequestId(a.request_id));
  req.set_finding_id(f.id());
  req.set_expected_version(a.version > 0 ? a.version : f.version());
  req.set_to_unit_id(to);
  req.set_summary(a.summary);
  v1::FindingReply reply;
  grpc::Status st = s.Call(&v1::AuditService::Stub::ReferFinding, req, &reply);
  if (!st.ok()) return FailAudit(ctx, st);
  if (ctx.json()) {
    ctx.PrintJson(reply);
    return kExitOk;
  }
  const Lang l = ctx.lang();
  const v1::Finding& r = reply.finding();
  std::cout << T(l, "已移送：", "referred: ") << r.number() << "  " << T(l, "移送至：", "to: ")
            << s.dir.UnitName(r.referral().to_unit_id()) << "  " << T(l, "移送状态：", "referral: ")
            << ReferralLabel(l, r.referral().state()) << "  " << T(l, "版本：", "version: ") << r.version() << "\n";
  if (r.referral().state() == v1::REFERRAL_STATE_PENDING) {
    std::cout << T(l, "审计服务将把它登记为线索并送达；稍后用 smctl audit finding show ",
                   "the audit service registers it as a clue and delivers it; see the clue number later with "
                   "smctl audit finding show ")
              << r.number() << T(l, " 查看线索编号。\n", "\n");
  }
  if (reply.mutation().replayed()) std::cout << Replayed(l);
  return kExitOk;
}

int AuditFindingHistory(Context& ctx, const std::string& key) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::Finding f;
  if (int rc = s.FindFinding(key, true, &f); rc != kExitOk) return rc;
  v1::GetAuditHistoryRequest req;
  req.set_aggregate_id(f.id());
  v1::GetAuditHistoryResponse resp;
  grpc::Status st = AllHistoryPages(req, &resp, [&](const v1::GetAuditHistoryRequest& r, v1::GetAuditHistoryResponse* page) {
    return s.Call(&v1::AuditService::Stub::GetAuditHistory, r, page);
  });
  if (!st.ok()) return FailAudit(ctx, st);
  if (ctx.json()) {
    ctx.PrintJson(resp);
    return kExitOk;
  }
  const Lang l = ctx.lang();
  std::vector<std::vector<std::string>> rows;
  for (const auto& ev : resp.events()) {
    std::string actor = IsUuid(ev.actor()) ? s.dir.PersonName(ev.actor()) : ev.actor();
    if (actor == "system:clue-events") actor = T(l, "系统（线索事件）", "system (clue events)");
    else if (actor == "system:outbox-relay") actor = T(l, "系统（移送）", "system (referral relay)");
    else if (actor == "system:overdue-scanner") actor = T(l, "系统（逾期督办）", "system (overdue scan)");
    if (!ev.actor_unit_id().empty()) actor += " (" + s.dir.UnitName(ev.actor_unit_id()) + ")";
    rows.push_back({std::to_string(ev.seq()), BeijingTime(ev.at(), true), EventLabel(l, ev.type()), actor,
                    EventData(s, ev.data_json(), f)});
  }
  PrintTable(std::cout, {T(l, "序号", "seq"), T(l, "时间（北京时间）", "time (Beijing)"), T(l, "事件", "event"),
                         T(l, "操作人", "actor"), T(l, "内容", "data")},
             rows);
  return kExitOk;
}

int AuditFindingVerify(Context& ctx, const std::string& key) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::Finding f;
  if (int rc = s.FindFinding(key, false, &f); rc != kExitOk) return rc;
  v1::VerifyAuditChainRequest req;
  req.set_aggregate_id(f.id());
  v1::VerifyChainResponse resp;
  grpc::Status st = s.Call(&v1::AuditService::Stub::VerifyAuditChain, req, &resp);
  if (!st.ok()) return FailAudit(ctx, st);
  if (ctx.json()) {
    ctx.PrintJson(resp);
    return resp.intact() ? kExitOk : kExitError;
  }
  const Lang l = ctx.lang();
  if (resp.intact()) {
    std::cout << T(l, "完整", "intact") << T(l, "（共 ", " (") << resp.events() << T(l, " 个事件）", " events)") << "\n";
    return kExitOk;
  }
  std::cout << T(l, "已损坏：第 ", "broken at event ") << resp.first_broken_seq() << T(l, " 号事件：", ": ")
            << resp.problem() << T(l, "（共 ", " (") << resp.events() << T(l, " 个事件）", " events)") << "\n";
  return kExitError;
}

int AuditVerifyAll(Context& ctx) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::VerifyAllAuditChainsResponse resp;
  grpc::Status st = s.Call(&v1::AuditService::Stub::VerifyAllAuditChains, v1::VerifyAllChainsRequest(), &resp);
  if (!st.ok()) return FailAudit(ctx, st);
  ChainReport r{resp.intact(), resp.aggregates(), resp.checkpoint_id(), resp.checkpoint_problem(), {}};
  for (const auto& b : resp.broken()) r.broken.push_back({b.aggregate_id(), b.first_broken_seq(), b.problem()});
  return PrintChainReport(ctx, resp, r, "个审计项目和问题", "engagements and findings");
}

int AuditCheckpointsExport(Context& ctx, int64_t after_id) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  return ExportCheckpointLines(
      after_id,
      [&](const auto& req, auto* resp) { return s.Call(&v1::AuditService::Stub::ExportAuditCheckpoints, req, resp); },
      [&](const grpc::Status& st) { return FailAudit(ctx, st); });
}

// ---------------------------------------------------------------------------------------
// Rectifications.

int AuditRectAdd(Context& ctx, const RectAddArgs& a) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::AddRectificationRequest req;
  if (!a.owner.empty()) {
    std::string id;
    if (int rc = s.dir.UnitId(a.owner, &id); rc != kExitOk) return rc;
    req.set_owner_unit_id(id);
  }
  v1::Finding f;
  if (int rc = s.FindFinding(a.finding, false, &f); rc != kExitOk) return rc;
  req.set_request_id(Session::RequestId(a.request_id));
  req.set_finding_id(f.id());
  req.set_measure(a.measure);
  req.set_working_days(a.days);
  v1::RectificationReply reply;
  grpc::Status st = s.Call(&v1::AuditService::Stub::AddRectification, req, &reply);
  int rc = RectDone(s, st, reply, "已下达整改", "rectification set");
  if (rc == kExitOk && !ctx.json()) {
    std::cout << T(ctx.lang(), "责任单位：", "owner unit: ") << s.dir.UnitName(reply.rectification().owner_unit_id())
              << "\n";
  }
  return rc;
}

int AuditRectProgress(Context& ctx, const RectStepArgs& a) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::Rectification x;
  if (int rc = s.FindRect(a.rect, false, &x); rc != kExitOk) return rc;
  v1::RecordProgressRequest req;
  req.set_request_id(Session::RequestId(a.request_id));
  req.set_rectification_id(x.id());
  req.set_note(a.note);
  for (const auto& ref : a.evidence) req.add_evidence_refs(ref);
  v1::RectificationReply reply;
  return RectDone(s, s.Call(&v1::AuditService::Stub::RecordProgress, req, &reply), reply, "已记录整改进展",
                  "progress recorded");
}

int AuditRectSubmit(Context& ctx, const RectStepArgs& a) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::Rectification x;
  if (int rc = s.FindRect(a.rect, a.version <= 0, &x); rc != kExitOk) return rc;
  v1::SubmitRectificationRequest req;
  req.set_request_id(Session::RequestId(a.request_id));
  req.set_rectification_id(x.id());
  req.set_expected_version(a.version > 0 ? a.version : x.version());
  req.set_summary(a.summary);
  v1::RectificationReply reply;
  return RectDone(s, s.Call(&v1::AuditService::Stub::SubmitRectification, req, &reply), reply, "已提交整改",
                  "submitted");
}

int AuditRectReview(Context& ctx, const RectStepArgs& a) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  if (a.approve == a.reject) {
    return ctx.FailLocal(kExitUsage, "请给出 --approve（销号）或 --reject --reason …（退回）之一",
                         "give one of --approve (sign off) or --reject --reason ... (send back)");
  }
  Session s(ctx);
  v1::Rectification x;
  if (int rc = s.FindRect(a.rect, a.version <= 0, &x); rc != kExitOk) return rc;
  v1::ReviewRectificationRequest req;
  req.set_request_id(Session::RequestId(a.request_id));
  req.set_rectification_id(x.id());
  req.set_expected_version(a.version > 0 ? a.version : x.version());
  req.set_approve(a.approve);
  req.set_reason(a.reason);
  v1::RectificationReply reply;
  return RectDone(s, s.Call(&v1::AuditService::Stub::ReviewRectification, req, &reply), reply,
                  a.approve ? "已销号" : "已退回整改", a.approve ? "signed off" : "sent back");
}

int AuditRectReopen(Context& ctx, const RectStepArgs& a) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::Rectification x;
  if (int rc = s.FindRect(a.rect, a.version <= 0, &x); rc != kExitOk) return rc;
  v1::ReopenRectificationRequest req;
  req.set_request_id(Session::RequestId(a.request_id));
  req.set_rectification_id(x.id());
  req.set_expected_version(a.version > 0 ? a.version : x.version());
  req.set_reason(a.reason);
  v1::RectificationReply reply;
  return RectDone(s, s.Call(&v1::AuditService::Stub::ReopenRectification, req, &reply), reply,
                  "已重新打开（回头看）", "reopened (look-back)");
}

int AuditRectList(Context& ctx, const RectListArgs& a) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::ListRectificationsRequest req;
  if (!a.state.empty()) {
    int v = 0;
    if (!Parse(AuditChoice::kRectState, a.state, &v)) {
      return ctx.FailLocal(kExitUsage, "未知整改状态：" + a.state, "unknown state: " + a.state);
    }
    req.set_state(static_cast<v1::RectificationState>(v));
  }
  if (!a.owner.empty()) {
    std::string id;
    if (int rc = s.dir.UnitId(a.owner, &id); rc != kExitOk) return rc;
    req.set_owner_unit_id(id);
  }
  if (!a.finding.empty()) {
    v1::Finding f;
    if (int rc = s.FindFinding(a.finding, false, &f); rc != kExitOk) return rc;
    req.set_finding_id(f.id());
  }
  req.set_overdue_only(a.overdue);
  v1::ListRectificationsResponse resp;
  grpc::Status st = s.Call(&v1::AuditService::Stub::ListRectifications, req, &resp);
  if (!st.ok()) return FailAudit(ctx, st);
  if (ctx.json()) {
    ctx.PrintJson(resp);
    return kExitOk;
  }
  if (resp.rectifications().empty()) {
    std::cout << T(ctx.lang(), "没有符合条件的整改\n", "no matching rectifications\n");
    return kExitOk;
  }
  PrintRects(s, resp.rectifications());
  return kExitOk;
}

// ---------------------------------------------------------------------------------------
// Statistics.

int AuditStats(Context& ctx, const std::string& unit) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::GetAuditStatsRequest req;
  if (!unit.empty()) {
    std::string id;
    if (int rc = s.dir.UnitId(unit, &id); rc != kExitOk) return rc;
    req.set_unit_id(id);
  }
  v1::AuditStats st;
  grpc::Status status = s.Call(&v1::AuditService::Stub::GetAuditStats, req, &st);
  if (!status.ok()) return FailAudit(ctx, status);
  if (ctx.json()) {
    ctx.PrintJson(st);
    return kExitOk;
  }
  const Lang l = ctx.lang();
  if (!unit.empty()) std::cout << T(l, "范围：", "scope: ") << s.dir.UnitName(req.unit_id()) << T(l, "及下级单位\n", " and below\n");
  PrintTable(std::cout, {T(l, "指标", "measure"), T(l, "数值", "value")},
             {{T(l, "审计发现", "findings"), std::to_string(st.findings())},
              {T(l, "涉及金额（元）", "amount (yuan)"), FormatYuan(st.amount_fen())},
              {T(l, "已移送纪检", "referred"), std::to_string(st.referred())},
              {T(l, "屡查屡犯", "recurring"), std::to_string(st.recurring())},
              {T(l, "整改事项", "rectifications"), std::to_string(st.rectifications())},
              {T(l, "已销号", "signed off"), std::to_string(st.signed_off())},
              {T(l, "逾期", "overdue"), std::to_string(st.overdue())},
              {T(l, "整改率", "rectification rate"), Percent(st.signed_off(), st.rectifications())}});
  if (st.from_cache()) std::cout << T(l, "（统计结果来自缓存）\n", "(from the statistics cache)\n");
  auto section = [&](const char* zh, const char* en, const google::protobuf::RepeatedPtrField<v1::StatsCount>& counts,
                     bool units) {
    if (counts.empty()) return;
    // Categories and severities in the API's order (the service sorts by name); units as sent.
    std::vector<const v1::StatsCount*> sorted;
    for (const auto& c : counts) sorted.push_back(&c);
    auto rank = [](const std::string& key) {
      if (v1::FindingCategory c; v1::FindingCategory_Parse(key, &c)) return static_cast<int>(c);
      if (v1::Severity sev; v1::Severity_Parse(key, &sev)) return static_cast<int>(sev);
      return 0;
    };
    if (!units) {
      std::stable_sort(sorted.begin(), sorted.end(),
                       [&](const v1::StatsCount* x, const v1::StatsCount* y) { return rank(x->key()) < rank(y->key()); });
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto* c : sorted) {
      rows.push_back({units && IsUuid(c->key()) ? s.dir.UnitName(c->key()) : EnumNameLabel(l, c->key()),
                      std::to_string(c->count())});
    }
    std::cout << "\n";
    PrintTable(std::cout, {T(l, zh, en), T(l, "数量", "count")}, rows);
  };
  section("问题类别", "category", st.by_category(), false);
  section("严重程度", "severity", st.by_severity(), false);
  section("责任单位（问题数）", "responsible unit (findings)", st.by_unit(), true);
  section("责任单位（已销号整改）", "owner unit (signed off)", st.signed_off_by_unit(), true);
  return kExitOk;
}

// ---------------------------------------------------------------------------------------
// Import of a findings ledger.

int AuditImportFindings(Context& ctx, const ImportFindingsArgs& a) {
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
      return ctx.FailLocal(kExitInvalid, a.file + " 第 " + std::to_string(records[0].line) + " 行：列“" + Trim(cell) + "”重复",
                           a.file + " line " + std::to_string(records[0].line) + ": column \"" + Trim(cell) +
                               "\" appears twice");
    }
    if (col) where[*col] = static_cast<int>(c);
    else if (!Trim(cell).empty()) ignored.push_back(Trim(cell));
    columns.push_back(col);
  }
  std::vector<std::string> missing;
  for (int c = 0; c < kColumns; ++c) {
    if (kColRequired[c] && where[c] < 0) missing.push_back(std::string(kColZh[c]) + "/" + kColEn[c]);
  }
  if (!missing.empty()) {
    return ctx.FailLocal(kExitInvalid,
                         a.file + " 第 " + std::to_string(records[0].line) + " 行（标题行）缺少列：" + Join(missing, "、") +
                             "。标题行应为：标题,描述,类别,金额,严重程度,责任单位[,责任人][,证据]",
                         a.file + " line " + std::to_string(records[0].line) + " (the header) lacks columns: " +
                             Join(missing, ", ") +
                             ". Expected: title,description,category,amount,severity,unit[,person][,evidence]");
  }
  if (!ignored.empty()) {
    std::cerr << "smctl: " << T(l, "忽略无法识别的列：", "ignoring unrecognised columns: ")
              << Join(ignored, T(l, "、", ", ")) << "\n";
  }

  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
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
        row.errors.push_back({T(l, "列数", "columns"),
                              l == Lang::kZh ? "比标题行多出的列：" + Trim(rec.fields[c])
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
        error(kColCategory, "未知类别“" + v + "”（可用：违反财经纪律、涉案财物管理不规范、政府采购不规范、工程建设管理、国有资产管理、内部控制缺陷、询价/价格偏高）",
              "unknown category \"" + v + "\" (one of: " + Join(AuditChoices(AuditChoice::kCategory), ", ") + ")");
      }
    }
    if (const std::string v = cell(kColAmount); !v.empty()) {
      int64_t fen = 0;
      if (ParseYuan(v, &fen, &why_zh, &why_en)) req.set_amount_fen(fen);
      else error(kColAmount, why_zh, why_en);
    }
    if (const std::string v = cell(kColSeverity); !v.empty()) {
      v1::Severity sev = v1::SEVERITY_UNSPECIFIED;
      if (ParseSeverityCell(v, &sev)) req.set_severity(sev);
      else error(kColSeverity, "未知严重程度“" + v + "”（可用：低、中、高、严重）",
                 "unknown severity \"" + v + "\" (low, medium, high, critical)");
    }
    if (const std::string v = cell(kColUnit); !v.empty()) {
      std::string id;
      grpc::Status st = s.dir.LookupUnit(v, &id);
      if (st.ok()) req.set_responsible_unit_id(id);
      else if (st.error_code() == grpc::StatusCode::NOT_FOUND) error(kColUnit, "未找到单位代码“" + v + "”", "no unit with code \"" + v + "\"");
      else if (st.error_code() == grpc::StatusCode::INVALID_ARGUMENT) error(kColUnit, st.error_message(), st.error_message());
      else {
        progress.Finish();
        fatal = ctx.Fail(st);
        break;
      }
    }
    if (const std::string v = cell(kColPerson); !v.empty()) {
      std::string id;
      grpc::Status st = s.dir.LookupPerson(v, &id);
      if (st.ok()) req.set_responsible_person_id(id);
      else if (st.error_code() == grpc::StatusCode::NOT_FOUND) error(kColPerson, "未找到警号“" + v + "”", "no person with badge number \"" + v + "\"");
      else if (st.error_code() == grpc::StatusCode::INVALID_ARGUMENT) error(kColPerson, st.error_message(), st.error_message());
      else {
        progress.Finish();
        fatal = ctx.Fail(st);
        break;
      }
    }
    if (const std::string v = cell(kColEvidence); !v.empty()) {
      std::string refs = v;
      for (size_t at; (at = refs.find("；")) != std::string::npos;) refs.replace(at, std::string_view("；").size(), ";");
      std::stringstream parts(refs);
      for (std::string part; std::getline(parts, part, ';');) {
        if (!Trim(part).empty()) req.add_evidence_refs(Trim(part));
      }
    }
    if (row.errors.empty()) {
      // The same row (in content) for the same engagement is the same request: importing the
      // file again, or a file that overlaps it, adds nothing twice.
      nlohmann::json content = {en.id(), req.title(), req.description(), v1::FindingCategory_Name(req.category()),
                                req.amount_fen(), v1::Severity_Name(req.severity()), req.responsible_unit_id(),
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
            st = s.Call(&v1::AuditService::Stub::AddFinding, req, &reply);
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
            fatal = FailAudit(ctx, st);
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
    nlohmann::json out = {{"engagement_id", en.id()}, {"engagement_number", en.number()}, {"dry_run", a.dry_run},
                          {"rows", total}, {"imported", imported}, {"already_imported", replayed},
                          {"duplicates_in_file", same}, {"failed", failed}, {"not_tried", not_tried}};
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
          state = std::string(T(l, "与第 ", "same as line ")) + std::to_string(r.same_as_line) + T(l, " 行相同，跳过", ", skipped");
          break;
        case RowResult::kChecked: state = T(l, "可导入", "valid"); break;
        default: break;
      }
      ok_rows.push_back({std::to_string(r.line), r.finding.number(), Truncate(r.request.title(), 24),
                         Label(l, AuditChoice::kCategory, r.request.category()), FormatYuan(r.request.amount_fen()),
                         s.dir.UnitName(r.request.responsible_unit_id()), state});
    }
    if (!ok_rows.empty()) {
      std::cout << "\n";
      PrintTable(std::cout, {T(l, "行号", "line"), T(l, "编号", "number"), T(l, "标题", "title"), T(l, "类别", "category"),
                             T(l, "金额（元）", "amount (yuan)"), T(l, "责任单位", "responsible unit"), T(l, "结果", "result")},
                 ok_rows);
    }
    if (failed > 0) {
      std::cout << "\n" << T(l, "未导入的行（请修改后重新导入，已导入的行不会重复）：\n",
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
      std::cout << T(l, "导入 ", "imported ") << imported << T(l, " 条，失败 ", ", failed ") << failed << T(l, " 条", "");
      if (replayed > 0) {
        std::cout << T(l, "（另有 ", " (and ") << replayed
                  << T(l, " 条此前已导入，未重复登记）", " imported before, not added again)");
      }
    }
    if (same > 0) std::cout << T(l, "；文件内重复 ", "; duplicates in the file: ") << same << T(l, " 条", "");
    if (not_tried > 0) std::cout << T(l, "；因错误中止，未处理 ", "; stopped early, not tried: ") << not_tried << T(l, " 条", "");
    std::cout << "\n";
  }
  if (fatal != kExitOk) return fatal;
  return failed > 0 ? kExitInvalid : kExitOk;
}

}  // namespace sm::smctl
