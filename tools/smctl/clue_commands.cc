#include "tools/smctl/clue_commands.h"
#include "tools/smctl/chain_commands.h"
#include "tools/smctl/directory_lookup.h"

#include <cctype>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/crypto.h"
#include "common/uuid.h"
#include "supervision/v1/clue.grpc.pb.h"
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

const std::vector<Choice>& Table(ClueChoice kind) {
  static const std::vector<Choice> kSources = {
      {v1::CLUE_SOURCE_PETITION, "petition", "信访举报", "petition"},
      {v1::CLUE_SOURCE_AUDIT, "audit", "审计发现", "audit finding"},
      {v1::CLUE_SOURCE_INSPECTION, "inspection", "督察发现", "inspection finding"},
      {v1::CLUE_SOURCE_CIRCUIT_INSPECTION, "circuit-inspection", "巡察移交", "circuit inspection"},
      {v1::CLUE_SOURCE_RISK_SCREENING, "risk-screening", "风险排查", "risk screening"},
      {v1::CLUE_SOURCE_CASE_HANDLING, "case-handling", "执纪审查中发现", "found in case handling"},
      {v1::CLUE_SOURCE_SUPERIOR, "superior", "上级交办", "assigned by a superior"},
  };
  static const std::vector<Choice> kChannels = {
      {v1::RECEIPT_CHANNEL_ONLINE, "online", "网络", "online"},
      {v1::RECEIPT_CHANNEL_PHONE, "phone", "电话", "phone"},
      {v1::RECEIPT_CHANNEL_LETTER, "letter", "来信", "letter"},
      {v1::RECEIPT_CHANNEL_IN_PERSON, "in-person", "来访", "in person"},
      {v1::RECEIPT_CHANNEL_SYSTEM, "system", "系统移送", "system referral"},
  };
  static const std::vector<Choice> kCategories = {
      {v1::CLUE_CATEGORY_POLITICAL, "political", "政治纪律", "political discipline"},
      {v1::CLUE_CATEGORY_ORGANIZATIONAL, "organizational", "组织纪律", "organisational discipline"},
      {v1::CLUE_CATEGORY_INTEGRITY, "integrity", "廉洁纪律", "integrity discipline"},
      {v1::CLUE_CATEGORY_MASS, "mass", "群众纪律", "mass discipline"},
      {v1::CLUE_CATEGORY_WORK, "work", "工作纪律", "work discipline"},
      {v1::CLUE_CATEGORY_LIFE, "life", "生活纪律", "life discipline"},
      {v1::CLUE_CATEGORY_BENDING_LAW, "bending-law", "徇私枉法", "bending the law"},
      {v1::CLUE_CATEGORY_BRIBERY, "bribery", "受贿", "bribery"},
      {v1::CLUE_CATEGORY_GANG_UMBRELLA, "gang-umbrella", "涉黑涉恶\"保护伞\"", "gang \"protective umbrella\""},
      {v1::CLUE_CATEGORY_OTHER_CRIME, "other-crime", "其他涉嫌犯罪", "other suspected crime"},
      {v1::CLUE_CATEGORY_GUNS, "guns", "涉枪", "guns"},
      {v1::CLUE_CATEGORY_VEHICLES, "vehicles", "涉车", "vehicles"},
      {v1::CLUE_CATEGORY_ALCOHOL, "alcohol", "涉酒", "alcohol"},
      {v1::CLUE_CATEGORY_GAMBLING, "gambling", "涉赌", "gambling"},
      {v1::CLUE_CATEGORY_DRUGS, "drugs", "涉毒", "drugs"},
  };
  static const std::vector<Choice> kSeverities = {
      {v1::SEVERITY_LOW, "low", "低", "low"},
      {v1::SEVERITY_MEDIUM, "medium", "中", "medium"},
      {v1::SEVERITY_HIGH, "high", "高", "high"},
      {v1::SEVERITY_CRITICAL, "critical", "严重", "critical"},
  };
  static const std::vector<Choice> kMethods = {
      {v1::DISPOSITION_METHOD_TALK_OR_LETTER, "talk", "谈话函询", "talk or inquiry letter"},
      {v1::DISPOSITION_METHOD_VERIFICATION, "verify", "初步核实", "preliminary verification"},
      {v1::DISPOSITION_METHOD_SHELVE, "shelve", "暂存待查", "shelve pending leads"},
      {v1::DISPOSITION_METHOD_CLOSE, "close", "予以了结", "close"},
  };
  static const std::vector<Choice> kStates = {
      {v1::CLUE_STATE_REGISTERED, "registered", "已登记", "registered"},
      {v1::CLUE_STATE_OFFERED, "offered", "移送待接收", "offered (awaiting acceptance)"},
      {v1::CLUE_STATE_HELD, "held", "在办", "held"},
      {v1::CLUE_STATE_IN_HANDLING, "in-handling", "处置中", "in handling"},
      {v1::CLUE_STATE_SHELVED, "shelved", "暂存待查", "shelved"},
      {v1::CLUE_STATE_CASE_FILED, "case-filed", "已立案", "case filed"},
      {v1::CLUE_STATE_CONCLUDED, "concluded", "已办结", "concluded"},
      {v1::CLUE_STATE_MERGED, "merged", "已并案", "merged"},
  };
  switch (kind) {
    case ClueChoice::kSource: return kSources;
    case ClueChoice::kChannel: return kChannels;
    case ClueChoice::kCategory: return kCategories;
    case ClueChoice::kSeverity: return kSeverities;
    case ClueChoice::kMethod: return kMethods;
    case ClueChoice::kState: return kStates;
  }
  return kStates;
}

std::string Label(Lang l, ClueChoice kind, int value) {
  for (const auto& c : Table(kind)) {
    if (c.value == value) return T(l, c.zh, c.en);
  }
  return value == 0 ? "" : "?" + std::to_string(value);
}

bool Parse(ClueChoice kind, const std::string& cli, int* value) {
  for (const auto& c : Table(kind)) {
    if (cli == c.cli) {
      *value = c.value;
      return true;
    }
  }
  return false;
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

std::string RevealStateLabel(Lang l, int state) {
  switch (state) {
    case v1::REVEAL_STATE_PENDING: return T(l, "待审批", "pending");
    case v1::REVEAL_STATE_APPROVED: return T(l, "已批准", "approved");
    case v1::REVEAL_STATE_REFUSED: return T(l, "已拒绝", "refused");
    case v1::REVEAL_STATE_USED: return T(l, "已查看", "used");
    case v1::REVEAL_STATE_EXPIRED: return T(l, "已过期", "expired");
    default: return "";
  }
}

std::string StageLabel(Lang l, const std::string& stage) {
  if (stage == "accept") return T(l, "接收", "accept");
  if (stage == "dispose") return T(l, "处置", "dispose");
  if (stage == "handle") return T(l, "办理", "handle");
  if (stage == "conclude") return T(l, "办结", "conclude");
  return stage;
}

std::string EventLabel(Lang l, const std::string& type) {
  static const std::map<std::string, std::pair<const char*, const char*>> kEvents = {
      {"registered", {"登记", "registered"}},
      {"offered", {"移送", "transferred"}},
      {"accepted", {"接收", "accepted"}},
      {"returned", {"退回", "returned"}},
      {"handler_assigned", {"指定承办人", "handler assigned"}},
      {"disposed", {"处置", "disposed"}},
      {"case_filed", {"立案", "case filed"}},
      {"concluded", {"办结", "concluded"}},
      {"reporter_revealed", {"查看举报人", "reporter revealed"}},
      {"reveal_requested", {"申请查看举报人", "reporter reveal requested"}},
      {"reveal_approved", {"批准查看举报人", "reporter reveal approved"}},
      {"reveal_refused", {"拒绝查看举报人", "reporter reveal refused"}},
      {"deadline_extended", {"延长时限", "deadline extended"}},
      {"note", {"办理记录", "note"}},
      {"note_added", {"办理记录", "note"}},
      {"noted", {"办理记录", "note"}},
      {"merged", {"并案", "merged"}},
      {"merged_into", {"并入他案", "merged into another clue"}},
      {"clues_merged", {"并案", "merged"}},
      {"intervened", {"同步介入", "intervention"}},
      {"intervention_marked", {"同步介入", "intervention"}},
      {"escalated", {"督办", "escalated"}},
      {"overdue", {"逾期", "overdue"}},
  };
  auto it = kEvents.find(type);
  if (it == kEvents.end()) return type;
  return T(l, it->second.first, it->second.second);
}

// An enum value name such as "CLUE_STATE_HELD" or "SUPERVISION_FORM_2" (StatsCount keys,
// event data), or a subject kind, in words; anything else unchanged.
std::string EnumNameLabel(Lang l, const std::string& key) {
  if (v1::ClueState state; v1::ClueState_Parse(key, &state)) return Label(l, ClueChoice::kState, state);
  if (v1::ClueSource src; v1::ClueSource_Parse(key, &src)) return Label(l, ClueChoice::kSource, src);
  if (v1::ReceiptChannel ch; v1::ReceiptChannel_Parse(key, &ch)) return Label(l, ClueChoice::kChannel, ch);
  if (v1::ClueCategory cat; v1::ClueCategory_Parse(key, &cat)) return Label(l, ClueChoice::kCategory, cat);
  if (v1::DispositionMethod m; v1::DispositionMethod_Parse(key, &m)) return Label(l, ClueChoice::kMethod, m);
  if (v1::Severity s; v1::Severity_Parse(key, &s)) return Label(l, ClueChoice::kSeverity, s);
  if (v1::SupervisionForm f; v1::SupervisionForm_Parse(key, &f)) return FormLabel(l, f);
  if (v1::RevealState r; v1::RevealState_Parse(key, &r)) return RevealStateLabel(l, r);
  if (key == "leader") return T(l, "领导干部", "leaders");
  if (key == "non_leader") return T(l, "非领导干部", "non-leaders");
  if (key == "unit") return T(l, "单位", "units");
  return key;
}

// True for text spelled like a proto enum value name.
bool LooksLikeEnumName(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!(std::isupper(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_')) {
      return false;
    }
  }
  return true;
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

// At most `width` terminal columns of `s` on one line, with "…" when cut.
std::string Truncate(const std::string& in, size_t width) {
  std::string s;
  for (char c : in) s += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (DisplayWidth(s) <= width) return s;
  std::string out;
  size_t used = 0;
  for (size_t i = 0; i < s.size();) {
    size_t len = 1;
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0xF0) len = 4;
    else if (c >= 0xE0) len = 3;
    else if (c >= 0xC0) len = 2;
    std::string ch = s.substr(i, len);
    size_t w = DisplayWidth(ch);
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

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream buf;
  buf << in.rdbuf();
  *out = buf.str();
  return !in.bad();
}

std::string MediaType(const std::string& file) {
  std::string ext = std::filesystem::path(file).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::map<std::string, std::string> kTypes = {
      {".pdf", "application/pdf"},
      {".ofd", "application/ofd"},
      {".doc", "application/msword"},
      {".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
      {".xls", "application/vnd.ms-excel"},
      {".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
      {".ppt", "application/vnd.ms-powerpoint"},
      {".pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
      {".wps", "application/vnd.ms-works"},
      {".txt", "text/plain"},
      {".md", "text/markdown"},
      {".csv", "text/csv"},
      {".html", "text/html"},
      {".htm", "text/html"},
      {".json", "application/json"},
      {".xml", "application/xml"},
      {".yaml", "application/yaml"},
      {".yml", "application/yaml"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".png", "image/png"},
      {".gif", "image/gif"},
      {".bmp", "image/bmp"},
      {".tif", "image/tiff"},
      {".tiff", "image/tiff"},
      {".webp", "image/webp"},
      {".heic", "image/heic"},
      {".mp3", "audio/mpeg"},
      {".wav", "audio/wav"},
      {".amr", "audio/amr"},
      {".m4a", "audio/mp4"},
      {".mp4", "video/mp4"},
      {".mov", "video/quicktime"},
      {".avi", "video/x-msvideo"},
      {".zip", "application/zip"},
      {".rar", "application/vnd.rar"},
      {".7z", "application/x-7z-compressed"},
  };
  auto it = kTypes.find(ext);
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

int NeedToken(Context& ctx) {
  return ctx.FailLocal(kExitAuth, "未登录：请先运行 smctl login --dev，或用 --token / SMCTL_TOKEN 提供令牌。",
                       "not logged in: run smctl login --dev, or pass --token / SMCTL_TOKEN.");
}

// Errors from the clue service: as Context::Fail, but naming --clue-addr when it cannot be
// reached, and saying so plainly when the service does not have the method yet.
int FailClue(Context& ctx, const grpc::Status& s) {
  const std::string addr = ctx.options().clue_addr;
  const std::string msg = s.error_message();
  switch (s.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return ctx.FailLocal(kExitUnavailable, "线索服务不可用（" + addr + "）：" + msg + "。服务是否已启动？",
                           "clue service unavailable at " + addr + ": " + msg + ". Is it running?");
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return ctx.FailLocal(kExitUnavailable, "线索服务响应超时（" + addr + "）",
                           "the clue service did not answer in time (" + addr + ")");
    case grpc::StatusCode::UNIMPLEMENTED:
      return ctx.FailLocal(kExitError, "线索服务尚未实现此操作（" + addr + "）",
                           "the clue service at " + addr + " does not implement this operation yet");
    default:
      return ctx.Fail(s);
  }
}

class Session {
 public:
  explicit Session(Context& ctx) : ctx(ctx), dir(ctx), stub(v1::ClueService::NewStub(ctx.ClueChannel())) {}

  // Runs one unary call with a prepared context.
  template <typename Req, typename Resp>
  grpc::Status Call(grpc::Status (v1::ClueService::Stub::*rpc)(grpc::ClientContext*, const Req&, Resp*),
                    const Req& req, Resp* resp) {
    grpc::ClientContext cc;
    ctx.Prepare(&cc);
    return ((*stub).*rpc)(&cc, req, resp);
  }

  // CLUE (a UUID or a number such as XS-2026-000123) to the clue. With a UUID and
  // !fetch only the id is filled. A number is found by paging through ListClues.
  int Find(const std::string& key, bool fetch, v1::Clue* clue) {
    if (IsUuid(key)) {
      if (!fetch) {
        clue->set_id(key);
        return kExitOk;
      }
      v1::GetClueRequest req;
      req.set_clue_id(key);
      grpc::Status s = Call(&v1::ClueService::Stub::GetClue, req, clue);
      return s.ok() ? kExitOk : FailClue(ctx, s);
    }
    const std::string number = Upper(key);
    v1::ListCluesRequest req;
    req.set_page_size(500);
    while (true) {
      v1::ListCluesResponse resp;
      grpc::Status s = Call(&v1::ClueService::Stub::ListClues, req, &resp);
      if (!s.ok()) return FailClue(ctx, s);
      for (const auto& c : resp.clues()) {
        if (Upper(c.number()) != number) continue;
        if (!fetch) {
          *clue = c;
          return kExitOk;
        }
        return Find(c.id(), true, clue);  // details only come with GetClue
      }
      if (resp.next_page_token().empty()) break;
      req.set_page_token(resp.next_page_token());
    }
    return ctx.FailLocal(kExitNotFound, "未找到线索 " + key + "（或无权查看）",
                         "clue " + key + " not found (or not visible to you)");
  }

  // The clue's id and the version to expect: --version, else the version read now.
  int Target(const ClueStepArgs& a, std::string* id, int64_t* version) {
    v1::Clue c;
    int rc = Find(a.clue, a.version <= 0 && IsUuid(a.clue), &c);
    if (rc != kExitOk) return rc;
    *id = c.id();
    *version = a.version > 0 ? a.version : c.version();
    return kExitOk;
  }

  static std::string RequestId(const ClueStepArgs& a) { return a.request_id.empty() ? NewUuid() : a.request_id; }

  // Prints the outcome of a mutation.
  int Done(const grpc::Status& s, const v1::ClueReply& r, const char* zh, const char* en) {
    if (!s.ok()) return FailClue(ctx, s);
    if (ctx.json()) {
      ctx.PrintJson(r);
      return kExitOk;
    }
    const Lang l = ctx.lang();
    const v1::Clue& c = r.clue();
    std::cout << T(l, zh, en) << T(l, "：", ": ") << c.number() << "  " << T(l, "状态：", "state: ")
              << Label(l, ClueChoice::kState, c.state()) << "  " << T(l, "版本：", "version: ") << c.version();
    if (c.has_deadline_at()) {
      std::cout << "  " << T(l, "办理时限：", "deadline: ") << BeijingTime(c.deadline_at());
      if (!c.deadline_stage().empty()) std::cout << " (" << StageLabel(l, c.deadline_stage()) << ")";
    }
    std::cout << "\n";
    if (r.mutation().replayed()) {
      std::cout << T(l, "（此请求此前已执行，以上为首次结果）\n", "(this request was done before; the first result is shown)\n");
    }
    return kExitOk;
  }

  std::vector<std::string> ClueRow(const v1::Clue& c) {
    const Lang l = ctx.lang();
    return {c.number(),
            Label(l, ClueChoice::kState, c.state()),
            Truncate(c.summary(), 24),
            dir.UnitName(c.holding_unit_id()),
            BeijingTime(c.deadline_at()),
            c.overdue() ? T(l, "是", "yes") : ""};
  }

  void PrintClues(const google::protobuf::RepeatedPtrField<v1::Clue>& clues) {
    const Lang l = ctx.lang();
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : clues) rows.push_back(ClueRow(c));
    PrintTable(std::cout, {T(l, "编号", "number"), T(l, "状态", "state"), T(l, "摘要", "summary"),
                           T(l, "承办单位", "holding unit"), T(l, "时限", "deadline"), T(l, "逾期", "overdue")},
               rows);
  }

  Context& ctx;
  Directory dir;
  std::unique_ptr<v1::ClueService::Stub> stub;
};

// Event data as "key: value" pairs, with units and people named and enums in words.
std::string EventData(Session& s, const std::string& json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return json;
  const Lang l = s.ctx.lang();
  static const std::map<std::string, std::pair<const char*, const char*>> kKeys = {
      {"from_unit_id", {"从", "from"}},
      {"to_unit_id", {"至", "to"}},
      {"by_unit_id", {"退回单位", "by"}},
      {"origin_unit_id", {"来源单位", "origin"}},
      {"feedback_to_unit_id", {"反馈至", "feedback to"}},
      {"holding_unit_id", {"承办单位", "holding unit"}},
      {"escalated_to_unit_id", {"督办单位", "escalated to"}},
      {"unit_id", {"单位", "unit"}},
      {"handler_person_id", {"承办人", "handler"}},
      {"approved_by", {"批准人", "approved by"}},
      {"reason", {"理由", "reason"}},
      {"method", {"方式", "method"}},
      {"form", {"形态", "form"}},
      {"case_filed", {"立案", "case filed"}},
      {"source", {"来源", "source"}},
      {"channel", {"受理方式", "channel"}},
      {"anonymous", {"匿名", "anonymous"}},
      {"note", {"说明", "note"}},
      {"text", {"内容", "text"}},
      {"stage", {"阶段", "stage"}},
      {"from", {"原时限", "from"}},
      {"to", {"新时限", "to"}},
      {"working_days", {"延长工作日", "extra working days"}},
      {"extra_working_days", {"延长工作日", "extra working days"}},
      {"attachments", {"附件", "attachments"}},
      {"merged", {"并入线索", "merged in"}},
      {"primary_clue_id", {"并入主线索", "merged into"}},
      {"reveal_request_id", {"申请编号", "reveal request"}},
      {"requester", {"申请人", "requester"}},
      {"custodian", {"审批人", "custodian"}},
      {"approvals", {"已批准", "approvals"}},
      {"approvals_needed", {"需批准", "approvals needed"}},
      {"custodians", {"审批人总数", "custodians"}},
      {"state", {"状态", "state"}},
      {"expires_at", {"查看期限", "usable until"}},
  };
  auto ends_with = [](const std::string& k, std::string_view suffix) {
    return k.size() >= suffix.size() && k.compare(k.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  std::vector<std::string> parts;
  for (const auto& [key, value] : j.items()) {
    std::string text;
    if (value.is_string()) {
      const std::string v = value.get<std::string>();
      if (v.empty()) continue;
      if (ends_with(key, "unit_id") && IsUuid(v)) text = s.dir.UnitName(v);
      else if ((ends_with(key, "person_id") || key == "approved_by") && IsUuid(v)) text = s.dir.PersonName(v);
      else if (key == "stage") text = StageLabel(l, v);
      else if (LooksLikeEnumName(v)) text = EnumNameLabel(l, v);
      else text = v;
    } else if (key == "form" && value.is_number_integer()) {
      text = FormLabel(l, value.get<int>());
    } else if ((key == "from" || key == "to" || ends_with(key, "_at")) && value.is_number_integer() &&
               value.get<int64_t>() > 1000000000) {
      google::protobuf::Timestamp t;
      t.set_seconds(value.get<int64_t>());
      text = BeijingTime(t);
    } else if (value.is_boolean()) {
      text = value.get<bool>() ? T(l, "是", "yes") : T(l, "否", "no");
    } else if (value.is_array() && (key == "attachments" || key == "merged")) {
      // Attachments by name and short hash; merged clues by number.
      std::vector<std::string> items;
      for (const auto& item : value) {
        if (!item.is_object()) continue;
        if (key == "attachments") {
          std::string sha = item.value("sha256", "");
          items.push_back(item.value("name", "?") + (sha.empty() ? "" : " (sha256 " + sha.substr(0, 12) + "…)"));
        } else {
          items.push_back(item.value("number", item.value("clue_id", "?")));
        }
      }
      if (items.empty()) continue;
      text = Join(items, T(l, "、", ", "));
    } else if (value.is_object()) {
      std::vector<std::string> items;
      for (const auto& [k, v] : value.items()) items.push_back(k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
      text = Join(items, ", ");
    } else {
      text = value.dump();
    }
    auto it = kKeys.find(key);
    parts.push_back((it == kKeys.end() ? key : std::string(T(l, it->second.first, it->second.second))) +
                    T(l, "：", ": ") + text);
  }
  return Join(parts, T(l, "；", "; "));
}

}  // namespace

std::vector<std::string> ClueChoices(ClueChoice kind) {
  std::vector<std::string> out;
  for (const auto& c : Table(kind)) out.push_back(c.cli);
  return out;
}

// ---------------------------------------------------------------------------------------
// Mutations.

int ClueRegister(Context& ctx, const ClueRegisterArgs& a) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  const Lang l = ctx.lang();
  v1::RegisterClueRequest req;
  req.set_request_id(a.request_id.empty() ? NewUuid() : a.request_id);
  std::string id;
  if (int rc = s.dir.UnitId(a.unit, &id); rc != kExitOk) return rc;
  req.set_origin_unit_id(id);
  int v = 0;
  if (!Parse(ClueChoice::kSource, a.source, &v)) {
    return ctx.FailLocal(kExitUsage, "未知来源：" + a.source, "unknown source: " + a.source);
  }
  req.set_source(static_cast<v1::ClueSource>(v));
  if (!Parse(ClueChoice::kChannel, a.channel, &v)) {
    return ctx.FailLocal(kExitUsage, "未知受理方式：" + a.channel, "unknown channel: " + a.channel);
  }
  req.set_channel(static_cast<v1::ReceiptChannel>(v));
  for (const auto& p : a.subject_people) {
    if (int rc = s.dir.PersonId(p, &id); rc != kExitOk) return rc;
    req.add_subjects()->set_person_id(id);
  }
  for (const auto& u : a.subject_units) {
    if (int rc = s.dir.UnitId(u, &id); rc != kExitOk) return rc;
    req.add_subjects()->set_unit_id(id);
  }
  for (const auto& c : a.categories) {
    if (!Parse(ClueChoice::kCategory, c, &v)) {
      return ctx.FailLocal(kExitUsage, "未知线索类别：" + c, "unknown category: " + c);
    }
    req.add_categories(static_cast<v1::ClueCategory>(v));
  }
  req.set_summary(a.summary);
  if (!a.details_file.empty()) {
    std::string details;
    if (!ReadFile(a.details_file, &details)) {
      return ctx.FailLocal(kExitInvalid, "无法读取文件 " + a.details_file, "cannot read file " + a.details_file);
    }
    req.set_details(details);
  } else {
    req.set_details(a.details);
  }
  if (a.anonymous) {
    req.mutable_reporter()->set_anonymous(true);
  } else if (!a.reporter_name.empty() || !a.reporter_contact.empty()) {
    req.mutable_reporter()->set_name(a.reporter_name);
    req.mutable_reporter()->set_contact(a.reporter_contact);
  }
  if (!a.severity.empty()) {
    if (!Parse(ClueChoice::kSeverity, a.severity, &v)) {
      return ctx.FailLocal(kExitUsage, "未知严重程度：" + a.severity, "unknown severity: " + a.severity);
    }
    req.set_severity(static_cast<v1::Severity>(v));
  }
  req.set_source_system(a.source_system);
  req.set_source_ref(a.source_ref);
  v1::ClueReply reply;
  grpc::Status st = s.Call(&v1::ClueService::Stub::RegisterClue, req, &reply);
  if (!st.ok()) return FailClue(ctx, st);
  if (ctx.json()) {
    ctx.PrintJson(reply);
    return kExitOk;
  }
  const v1::Clue& c = reply.clue();
  std::cout << (reply.mutation().replayed() ? T(l, "此线索此前已登记：", "already registered earlier: ")
                                            : T(l, "已登记线索：", "clue registered: "))
            << c.number() << "\n";
  std::string deadline = BeijingTime(c.deadline_at());
  if (!deadline.empty() && !c.deadline_stage().empty()) deadline += " (" + StageLabel(l, c.deadline_stage()) + ")";
  PrintTable(std::cout, {T(l, "字段", "field"), T(l, "值", "value")},
             {{T(l, "编号", "number"), c.number()},
              {"ID", c.id()},
              {T(l, "状态", "state"), Label(l, ClueChoice::kState, c.state())},
              {T(l, "办理时限", "deadline"), deadline}});
  return kExitOk;
}

int ClueTransfer(Context& ctx, const ClueStepArgs& a) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::TransferClueRequest req;
  std::string id, to;
  int64_t version = 0;
  if (int rc = s.dir.UnitId(a.to, &to); rc != kExitOk) return rc;
  if (int rc = s.Target(a, &id, &version); rc != kExitOk) return rc;
  req.set_request_id(Session::RequestId(a));
  req.set_clue_id(id);
  req.set_expected_version(version);
  req.set_to_unit_id(to);
  req.set_reason(a.reason);
  v1::ClueReply reply;
  grpc::Status st = s.Call(&v1::ClueService::Stub::TransferClue, req, &reply);
  int rc = s.Done(st, reply, "已移送", "transferred");
  if (rc == kExitOk && !ctx.json()) {
    std::cout << T(ctx.lang(), "移送至：", "offered to: ") << s.dir.UnitName(reply.clue().offered_to_unit_id()) << "\n";
  }
  return rc;
}

int ClueAccept(Context& ctx, const ClueStepArgs& a) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::AcceptClueRequest req;
  std::string id;
  int64_t version = 0;
  if (int rc = s.Target(a, &id, &version); rc != kExitOk) return rc;
  req.set_request_id(Session::RequestId(a));
  req.set_clue_id(id);
  req.set_expected_version(version);
  v1::ClueReply reply;
  return s.Done(s.Call(&v1::ClueService::Stub::AcceptClue, req, &reply), reply, "已接收", "accepted");
}

int ClueReturn(Context& ctx, const ClueStepArgs& a) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::ReturnClueRequest req;
  std::string id;
  int64_t version = 0;
  if (int rc = s.Target(a, &id, &version); rc != kExitOk) return rc;
  req.set_request_id(Session::RequestId(a));
  req.set_clue_id(id);
  req.set_expected_version(version);
  req.set_reason(a.reason);
  v1::ClueReply reply;
  return s.Done(s.Call(&v1::ClueService::Stub::ReturnClue, req, &reply), reply, "已退回", "returned");
}

int ClueAssign(Context& ctx, const ClueStepArgs& a) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::AssignHandlerRequest req;
  std::string id, handler;
  int64_t version = 0;
  if (int rc = s.dir.PersonId(a.handler, &handler); rc != kExitOk) return rc;
  if (int rc = s.Target(a, &id, &version); rc != kExitOk) return rc;
  req.set_request_id(Session::RequestId(a));
  req.set_clue_id(id);
  req.set_expected_version(version);
  req.set_handler_person_id(handler);
  v1::ClueReply reply;
  return s.Done(s.Call(&v1::ClueService::Stub::AssignHandler, req, &reply), reply, "已指定承办人", "handler assigned");
}

int ClueDispose(Context& ctx, const ClueStepArgs& a) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  int method = 0;
  if (!Parse(ClueChoice::kMethod, a.method, &method)) {
    return ctx.FailLocal(kExitUsage, "未知处置方式：" + a.method, "unknown method: " + a.method);
  }
  v1::DisposeClueRequest req;
  std::string id;
  int64_t version = 0;
  if (int rc = s.Target(a, &id, &version); rc != kExitOk) return rc;
  req.set_request_id(Session::RequestId(a));
  req.set_clue_id(id);
  req.set_expected_version(version);
  req.set_method(static_cast<v1::DispositionMethod>(method));
  req.set_reason(a.reason);
  v1::ClueReply reply;
  return s.Done(s.Call(&v1::ClueService::Stub::DisposeClue, req, &reply), reply, "已处置", "disposed");
}

int ClueExtend(Context& ctx, const ClueStepArgs& a) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::ExtendDeadlineRequest req;
  std::string id;
  int64_t version = 0;
  if (int rc = s.Target(a, &id, &version); rc != kExitOk) return rc;
  req.set_request_id(Session::RequestId(a));
  req.set_clue_id(id);
  req.set_expected_version(version);
  req.set_extra_working_days(a.days);
  req.set_reason(a.reason);
  v1::ClueReply reply;
  return s.Done(s.Call(&v1::ClueService::Stub::ExtendDeadline, req, &reply), reply, "已延长时限", "deadline extended");
}

int ClueConclude(Context& ctx, const ClueStepArgs& a) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::ConcludeClueRequest req;
  std::string id;
  int64_t version = 0;
  if (int rc = s.Target(a, &id, &version); rc != kExitOk) return rc;
  req.set_request_id(Session::RequestId(a));
  req.set_clue_id(id);
  req.set_expected_version(version);
  req.set_form(static_cast<v1::SupervisionForm>(a.form));
  req.set_case_filed(a.case_filed);
  for (const auto& x : a.sanctions) req.add_sanctions(x);
  req.set_feedback(a.feedback);
  v1::ClueReply reply;
  grpc::Status st = s.Call(&v1::ClueService::Stub::ConcludeClue, req, &reply);
  return s.Done(st, reply, reply.clue().state() == v1::CLUE_STATE_CASE_FILED ? "已立案" : "已办结",
                reply.clue().state() == v1::CLUE_STATE_CASE_FILED ? "case filed" : "concluded");
}

int ClueMerge(Context& ctx, const ClueStepArgs& a) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::MergeCluesRequest req;
  std::string id;
  int64_t version = 0;
  if (int rc = s.Target(a, &id, &version); rc != kExitOk) return rc;
  for (const auto& other : a.merge_with) {
    v1::Clue c;
    if (int rc = s.Find(other, false, &c); rc != kExitOk) return rc;
    req.add_merged_clue_ids(c.id());
  }
  req.set_request_id(Session::RequestId(a));
  req.set_primary_clue_id(id);
  req.set_expected_version(version);
  req.set_reason(a.reason);
  v1::ClueReply reply;
  return s.Done(s.Call(&v1::ClueService::Stub::MergeClues, req, &reply), reply, "已并案", "merged");
}

int ClueNote(Context& ctx, const ClueStepArgs& a) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::AddNoteRequest req;
  for (const auto& file : a.attachments) {
    std::string content;
    if (!ReadFile(file, &content)) {
      return ctx.FailLocal(kExitInvalid, "无法读取附件 " + file, "cannot read attachment " + file);
    }
    auto* att = req.add_attachments();
    att->set_name(std::filesystem::path(file).filename().string());
    att->set_sha256(crypto::Sha256Hex(content));
    att->set_size_bytes(static_cast<int64_t>(content.size()));
    att->set_media_type(MediaType(file));
  }
  v1::Clue c;
  if (int rc = s.Find(a.clue, false, &c); rc != kExitOk) return rc;
  req.set_request_id(Session::RequestId(a));
  req.set_clue_id(c.id());
  req.set_text(a.text);
  v1::ClueReply reply;
  return s.Done(s.Call(&v1::ClueService::Stub::AddNote, req, &reply), reply, "已添加办理记录", "note added");
}

int ClueIntervene(Context& ctx, const ClueStepArgs& a) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::MarkInterventionRequest req;
  std::string id;
  int64_t version = 0;
  if (int rc = s.Target(a, &id, &version); rc != kExitOk) return rc;
  req.set_request_id(Session::RequestId(a));
  req.set_clue_id(id);
  req.set_expected_version(version);
  req.set_note(a.note);
  v1::ClueReply reply;
  return s.Done(s.Call(&v1::ClueService::Stub::MarkIntervention, req, &reply), reply, "已标记同步介入",
                "intervention recorded");
}

// ---------------------------------------------------------------------------------------
// Revealing the reporter: request, custodians' decisions, the one reveal.

namespace {

std::string RevealRequestId(const ClueRevealArgs& a) { return a.request_id.empty() ? NewUuid() : a.request_id; }

std::string UserName(Session& s, const std::string& user) { return IsUuid(user) ? s.dir.PersonName(user) : user; }

void PrintRevealRequest(Session& s, const v1::RevealRequest& r) {
  const Lang l = s.ctx.lang();
  std::vector<std::string> decisions;
  for (const auto& d : r.decisions()) {
    std::string text = UserName(s, d.custodian()) + " " +
                       (d.verdict() == v1::REVEAL_VERDICT_APPROVE ? T(l, "批准", "approved") : T(l, "拒绝", "refused"));
    if (!d.reason().empty()) text += T(l, "（", " (") + d.reason() + T(l, "）", ")");
    text += " " + BeijingTime(d.decided_at());
    decisions.push_back(text);
  }
  std::vector<std::vector<std::string>> rows = {
      {T(l, "申请编号", "request id"), r.id()},
      {T(l, "线索", "clue"), r.clue_number() + " (" + r.clue_id() + ")"},
      {T(l, "状态", "state"), RevealStateLabel(l, r.state())},
      {T(l, "申请人", "requester"),
       UserName(s, r.requester()) + (r.requester_unit_id().empty() ? "" : " (" + s.dir.UnitName(r.requester_unit_id()) + ")")},
      {T(l, "理由", "reason"), r.reason()},
      {T(l, "批准数", "approvals"), std::to_string(r.approvals()) + "/" + std::to_string(r.approvals_needed())},
      {T(l, "审批记录", "decisions"), Join(decisions, T(l, "；", "; "))},
      {T(l, "申请时间", "requested"), BeijingTime(r.requested_at())},
  };
  if (r.has_expires_at()) rows.push_back({T(l, "查看期限", "usable until"), BeijingTime(r.expires_at(), true)});
  if (r.has_used_at()) rows.push_back({T(l, "查看时间", "used"), BeijingTime(r.used_at(), true)});
  PrintTable(std::cout, {T(l, "字段", "field"), T(l, "值", "value")}, rows);
}

int RevealDone(Session& s, const grpc::Status& st, const v1::RevealRequestReply& reply, const char* zh,
               const char* en) {
  if (!st.ok()) return FailClue(s.ctx, st);
  if (s.ctx.json()) {
    s.ctx.PrintJson(reply);
    return kExitOk;
  }
  const Lang l = s.ctx.lang();
  std::cout << T(l, zh, en) << T(l, "：", ": ") << reply.request().id() << "  " << T(l, "状态：", "state: ")
            << RevealStateLabel(l, reply.request().state()) << "\n";
  if (reply.mutation().replayed()) {
    std::cout << T(l, "（此请求此前已执行，以上为首次结果）\n", "(this request was done before; the first result is shown)\n");
  }
  PrintRevealRequest(s, reply.request());
  return kExitOk;
}

int RevealDecide(Context& ctx, const ClueRevealArgs& a, bool approve) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::DecideRevealRequest req;
  req.set_request_id(RevealRequestId(a));
  req.set_reveal_request_id(a.target);
  req.set_verdict(approve ? v1::REVEAL_VERDICT_APPROVE : v1::REVEAL_VERDICT_REFUSE);
  req.set_reason(a.reason);
  v1::RevealRequestReply reply;
  grpc::Status st = s.Call(&v1::ClueService::Stub::DecideReveal, req, &reply);
  return approve ? RevealDone(s, st, reply, "已批准", "approved") : RevealDone(s, st, reply, "已拒绝", "refused");
}

}  // namespace

int ClueRevealRequest(Context& ctx, const ClueRevealArgs& a) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::Clue c;
  if (int rc = s.Find(a.target, false, &c); rc != kExitOk) return rc;
  v1::RequestRevealRequest req;
  req.set_request_id(RevealRequestId(a));
  req.set_clue_id(c.id());
  req.set_reason(a.reason);
  v1::RevealRequestReply reply;
  grpc::Status st = s.Call(&v1::ClueService::Stub::RequestReveal, req, &reply);
  int rc = RevealDone(s, st, reply, "已申请查看举报人，待审批", "reveal requested, awaiting custodians");
  if (rc == kExitOk && !ctx.json()) {
    std::cout << T(ctx.lang(), "批准后请运行：smctl clue reveal ", "once approved, run: smctl clue reveal ")
              << reply.request().id() << "\n";
  }
  return rc;
}

int ClueRevealApprove(Context& ctx, const ClueRevealArgs& a) { return RevealDecide(ctx, a, true); }

int ClueRevealRefuse(Context& ctx, const ClueRevealArgs& a) { return RevealDecide(ctx, a, false); }

int ClueReveal(Context& ctx, const ClueRevealArgs& a) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::RevealReporterRequest req;
  req.set_request_id(RevealRequestId(a));
  req.set_reveal_request_id(a.target);
  v1::RevealReporterResponse r;
  grpc::Status st = s.Call(&v1::ClueService::Stub::RevealReporter, req, &r);
  if (!st.ok()) return FailClue(ctx, st);
  if (ctx.json()) {
    ctx.PrintJson(r);
    return kExitOk;
  }
  const Lang l = ctx.lang();
  std::cout << T(l, "举报人信息（本次查看已记入线索历史，不可再次查看）\n",
                 "reporter (this look is recorded in the clue's history and cannot be repeated)\n");
  PrintTable(std::cout, {T(l, "字段", "field"), T(l, "值", "value")},
             {{T(l, "线索", "clue"), r.request().clue_number()},
              {T(l, "匿名", "anonymous"), r.reporter().anonymous() ? T(l, "是", "yes") : T(l, "否", "no")},
              {T(l, "姓名", "name"), r.reporter().name()},
              {T(l, "联系方式", "contact"), r.reporter().contact()},
              {T(l, "身份证号", "id number"), r.reporter().id_number()}});
  return kExitOk;
}

int ClueRevealShow(Context& ctx, const ClueRevealArgs& a) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::GetRevealRequestRequest req;
  req.set_reveal_request_id(a.target);
  v1::RevealRequest r;
  grpc::Status st = s.Call(&v1::ClueService::Stub::GetRevealRequest, req, &r);
  if (!st.ok()) return FailClue(ctx, st);
  if (ctx.json()) {
    ctx.PrintJson(r);
    return kExitOk;
  }
  PrintRevealRequest(s, r);
  return kExitOk;
}

int ClueReveals(Context& ctx, const ClueRevealArgs& a) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::ListRevealRequestsRequest req;
  req.set_mine(a.mine);
  if (!a.clue.empty()) {
    v1::Clue c;
    if (int rc = s.Find(a.clue, false, &c); rc != kExitOk) return rc;
    req.set_clue_id(c.id());
  }
  req.set_page_size(a.limit);
  req.set_page_token(a.page_token);
  v1::ListRevealRequestsResponse all;
  while (true) {
    v1::ListRevealRequestsResponse resp;
    grpc::Status st = s.Call(&v1::ClueService::Stub::ListRevealRequests, req, &resp);
    if (!st.ok()) return FailClue(ctx, st);
    for (auto& r : *resp.mutable_requests()) *all.add_requests() = std::move(r);
    all.set_next_page_token(resp.next_page_token());
    if (!a.all_pages || resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  if (ctx.json()) {
    ctx.PrintJson(all);
    return kExitOk;
  }
  const Lang l = ctx.lang();
  if (all.requests().empty()) {
    std::cout << (a.mine ? T(l, "没有查看举报人的申请\n", "no reveal requests\n")
                         : T(l, "没有待您审批的申请\n", "no requests awaiting your decision\n"));
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : all.requests()) {
    rows.push_back({r.id(), r.clue_number(), RevealStateLabel(l, r.state()), UserName(s, r.requester()),
                    std::to_string(r.approvals()) + "/" + std::to_string(r.approvals_needed()),
                    Truncate(r.reason(), 24), BeijingTime(r.requested_at()), BeijingTime(r.expires_at())});
  }
  PrintTable(std::cout, {T(l, "申请编号", "request id"), T(l, "线索", "clue"), T(l, "状态", "state"),
                         T(l, "申请人", "requester"), T(l, "批准数", "approvals"), T(l, "理由", "reason"),
                         T(l, "申请时间", "requested"), T(l, "查看期限", "usable until")},
             rows);
  if (!all.next_page_token().empty()) {
    std::cout << T(l, "还有更多结果：--page-token ", "more results: --page-token ") << all.next_page_token() << "\n";
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------------------
// Reading.

int ClueShow(Context& ctx, const std::string& key) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::Clue c;
  if (int rc = s.Find(key, true, &c); rc != kExitOk) return rc;
  if (ctx.json()) {
    ctx.PrintJson(c);
    return kExitOk;
  }
  const Lang l = ctx.lang();
  const char* yes = T(l, "是", "yes");
  const char* no = T(l, "否", "no");
  std::vector<std::string> subjects, categories;
  for (const auto& subj : c.subjects()) {
    std::string name = subj.display_name();
    if (subj.subject_case() == v1::ClueSubject::kUnitId) {
      if (name.empty()) name = s.dir.UnitName(subj.unit_id());
      name += T(l, "（单位）", " (unit)");
    } else if (name.empty()) {
      name = s.dir.PersonName(subj.person_id());
    }
    subjects.push_back(name);
  }
  for (int cat : c.categories()) categories.push_back(Label(l, ClueChoice::kCategory, cat));
  std::string deadline = BeijingTime(c.deadline_at());
  if (!deadline.empty() && !c.deadline_stage().empty()) deadline += " (" + StageLabel(l, c.deadline_stage()) + ")";
  std::string details = c.details();
  if (c.details_withheld()) details = T(l, "（有详情，无权查看）", "(withheld: not for this caller)");
  std::string source = Label(l, ClueChoice::kSource, c.source());
  if (!c.source_system().empty()) source += " (" + c.source_system() + ": " + c.source_ref() + ")";

  // Always shown; the optional rows below only when they have a value.
  std::vector<std::vector<std::string>> rows;
  auto row = [&](const char* zh, const char* en, std::string value, bool always = false) {
    if (always || !value.empty()) rows.push_back({T(l, zh, en), std::move(value)});
  };
  const bool has_outcome = c.outcome().form() != v1::SUPERVISION_FORM_UNSPECIFIED || !c.outcome().feedback().empty();
  row("编号", "number", c.number(), true);
  row("ID", "ID", c.id(), true);
  row("状态", "state", Label(l, ClueChoice::kState, c.state()), true);
  row("来源", "source", source, true);
  row("受理方式", "channel", Label(l, ClueChoice::kChannel, c.channel()), true);
  row("线索类别", "categories", Join(categories, T(l, "、", ", ")), true);
  row("被反映人", "subjects", Join(subjects, T(l, "、", ", ")), true);
  row("摘要", "summary", c.summary(), true);
  row("详情", "details", details);
  row("严重程度", "severity", Label(l, ClueChoice::kSeverity, c.severity()));
  row("举报人", "reporter",
      c.reporter_on_file() ? T(l, "署名（已加密存档）", "named (on file, encrypted)") : T(l, "匿名或无", "anonymous or none"),
      true);
  row("来源单位", "origin unit", s.dir.UnitName(c.origin_unit_id()), true);
  row("承办单位", "holding unit", s.dir.UnitName(c.holding_unit_id()), true);
  row("移送至", "offered to", s.dir.UnitName(c.offered_to_unit_id()));
  row("承办人", "handler", s.dir.PersonName(c.handler_person_id()));
  row("收到时间", "received", BeijingTime(c.received_at()), true);
  row("登记时间", "registered", BeijingTime(c.registered_at()));
  row("处置方式", "disposition", Label(l, ClueChoice::kMethod, c.disposition().method()));
  row("处置理由", "disposition reason", c.disposition().reason());
  row("处置时间", "disposed", BeijingTime(c.disposition().decided_at()));
  row("办理时限", "deadline", deadline.empty() ? T(l, "无（不计时）", "none (clock stopped)") : deadline, true);
  row("是否逾期", "overdue", c.overdue() ? yes : no, true);
  row("结论形态", "form", FormLabel(l, c.outcome().form()));
  if (has_outcome) row("是否立案", "case filed", c.outcome().case_filed() ? yes : no);
  row("处分", "sanctions",
      Join(std::vector<std::string>(c.outcome().sanctions().begin(), c.outcome().sanctions().end()),
           T(l, "、", ", ")));
  row("反馈", "feedback", c.outcome().feedback());
  row("办结时间", "concluded", BeijingTime(c.outcome().concluded_at()));
  row("同步介入", "intervened", c.intervened() ? yes : "");
  if (!c.merged_into_id().empty()) {
    v1::GetClueRequest req;
    req.set_clue_id(c.merged_into_id());
    v1::Clue primary;
    const bool named = s.Call(&v1::ClueService::Stub::GetClue, req, &primary).ok();
    row("并入", "merged into", named ? primary.number() + " (" + c.merged_into_id() + ")" : c.merged_into_id());
  }
  row("版本", "version", std::to_string(c.version()), true);
  PrintTable(std::cout, {T(l, "字段", "field"), T(l, "值", "value")}, rows);
  return kExitOk;
}

int ClueList(Context& ctx, const ClueListArgs& a) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::ListCluesRequest req;
  std::string id;
  if (!a.holding.empty()) {
    if (int rc = s.dir.UnitId(a.holding, &id); rc != kExitOk) return rc;
    req.set_holding_unit_id(id);
  }
  if (!a.origin.empty()) {
    if (int rc = s.dir.UnitId(a.origin, &id); rc != kExitOk) return rc;
    req.set_origin_unit_id(id);
  }
  if (!a.subject.empty()) {
    if (int rc = s.dir.PersonId(a.subject, &id); rc != kExitOk) return rc;
    req.set_subject_person_id(id);
  }
  int v = 0;
  if (!a.state.empty()) {
    if (!Parse(ClueChoice::kState, a.state, &v)) {
      return ctx.FailLocal(kExitUsage, "未知状态：" + a.state, "unknown state: " + a.state);
    }
    req.set_state(static_cast<v1::ClueState>(v));
  }
  if (!a.category.empty()) {
    if (!Parse(ClueChoice::kCategory, a.category, &v)) {
      return ctx.FailLocal(kExitUsage, "未知线索类别：" + a.category, "unknown category: " + a.category);
    }
    req.set_category(static_cast<v1::ClueCategory>(v));
  }
  req.set_overdue_only(a.overdue);
  req.set_text(a.text);
  req.set_page_size(a.limit);
  req.set_page_token(a.page_token);
  v1::ListCluesResponse all;
  while (true) {
    v1::ListCluesResponse resp;
    grpc::Status st = s.Call(&v1::ClueService::Stub::ListClues, req, &resp);
    if (!st.ok()) return FailClue(ctx, st);
    for (auto& c : *resp.mutable_clues()) *all.add_clues() = std::move(c);
    all.set_next_page_token(resp.next_page_token());
    if (!a.all_pages || resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  if (ctx.json()) {
    ctx.PrintJson(all);
    return kExitOk;
  }
  if (all.clues().empty()) {
    std::cout << T(ctx.lang(), "没有符合条件的线索\n", "no matching clues\n");
    return kExitOk;
  }
  s.PrintClues(all.clues());
  if (!all.next_page_token().empty()) {
    std::cout << T(ctx.lang(), "还有更多结果：--page-token ", "more results: --page-token ") << all.next_page_token()
              << "\n";
  }
  return kExitOk;
}

int ClueHistory(Context& ctx, const std::string& key) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::Clue c;
  if (int rc = s.Find(key, false, &c); rc != kExitOk) return rc;
  v1::GetClueHistoryRequest req;
  req.set_clue_id(c.id());
  v1::GetClueHistoryResponse resp;
  grpc::Status st = AllHistoryPages(req, &resp, [&](const v1::GetClueHistoryRequest& r, v1::GetClueHistoryResponse* page) {
    return s.Call(&v1::ClueService::Stub::GetClueHistory, r, page);
  });
  if (!st.ok()) return FailClue(ctx, st);
  if (ctx.json()) {
    ctx.PrintJson(resp);
    return kExitOk;
  }
  const Lang l = ctx.lang();
  std::vector<std::vector<std::string>> rows;
  for (const auto& ev : resp.events()) {
    std::string actor = IsUuid(ev.actor()) ? s.dir.PersonName(ev.actor()) : ev.actor();
    if (!ev.actor_unit_id().empty()) actor += " (" + s.dir.UnitName(ev.actor_unit_id()) + ")";
    rows.push_back({std::to_string(ev.seq()), BeijingTime(ev.at(), true), EventLabel(l, ev.type()), actor,
                    EventData(s, ev.data_json())});
  }
  PrintTable(std::cout, {T(l, "序号", "seq"), T(l, "时间（北京时间）", "time (Beijing)"), T(l, "事件", "event"),
                         T(l, "操作人", "actor"), T(l, "内容", "data")},
             rows);
  return kExitOk;
}

int ClueVerify(Context& ctx, const std::string& key) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::Clue c;
  if (int rc = s.Find(key, false, &c); rc != kExitOk) return rc;
  v1::VerifyChainRequest req;
  req.set_clue_id(c.id());
  v1::VerifyChainResponse resp;
  grpc::Status st = s.Call(&v1::ClueService::Stub::VerifyChain, req, &resp);
  if (!st.ok()) return FailClue(ctx, st);
  if (ctx.json()) {
    ctx.PrintJson(resp);
    return resp.intact() ? kExitOk : kExitError;
  }
  const Lang l = ctx.lang();
  if (resp.intact()) {
    std::cout << T(l, "完整", "intact") << T(l, "（共 ", " (") << resp.events() << T(l, " 个事件）", " events)")
              << "\n";
    return kExitOk;
  }
  std::cout << T(l, "已损坏：第 ", "broken at event ") << resp.first_broken_seq() << T(l, " 号事件：", ": ")
            << resp.problem() << T(l, "（共 ", " (") << resp.events() << T(l, " 个事件）", " events)") << "\n";
  return kExitError;
}

int ClueVerifyAll(Context& ctx) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::VerifyAllChainsResponse resp;
  grpc::Status st = s.Call(&v1::ClueService::Stub::VerifyAllChains, v1::VerifyAllChainsRequest(), &resp);
  if (!st.ok()) return FailClue(ctx, st);
  ChainReport r{resp.intact(), resp.clues(), resp.checkpoint_id(), resp.checkpoint_problem(), {}};
  for (const auto& b : resp.broken()) r.broken.push_back({b.clue_id(), b.first_broken_seq(), b.problem()});
  return PrintChainReport(ctx, resp, r, "条线索", "clues");
}

int ClueCheckpointsExport(Context& ctx, int64_t after_id) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  return ExportCheckpointLines(
      after_id, [&](const auto& req, auto* resp) { return s.Call(&v1::ClueService::Stub::ExportCheckpoints, req, resp); },
      [&](const grpc::Status& st) { return FailClue(ctx, st); });
}

int ClueStats(Context& ctx, const std::string& unit) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::GetClueStatsRequest req;
  if (!unit.empty()) {
    std::string id;
    if (int rc = s.dir.UnitId(unit, &id); rc != kExitOk) return rc;
    req.set_unit_id(id);
  }
  v1::ClueStats stats;
  grpc::Status st = s.Call(&v1::ClueService::Stub::GetClueStats, req, &stats);
  if (!st.ok()) return FailClue(ctx, st);
  if (ctx.json()) {
    ctx.PrintJson(stats);
    return kExitOk;
  }
  const Lang l = ctx.lang();
  std::cout << T(l, "线索总数：", "total: ") << stats.total() << "  " << T(l, "逾期：", "overdue: ")
            << stats.overdue();
  if (stats.has_computed_at()) {
    std::cout << "  " << T(l, "统计时间：", "computed at: ") << BeijingTime(stats.computed_at(), true);
  }
  std::cout << "\n";
  auto section = [&](const char* zh, const char* en, const google::protobuf::RepeatedPtrField<v1::StatsCount>& counts,
                     bool units, bool forms) {
    if (counts.empty()) return;
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : counts) {
      std::string key = EnumNameLabel(l, c.key());
      if (units && IsUuid(c.key())) key = s.dir.UnitName(c.key());
      if (forms && c.key().size() == 1 && c.key()[0] >= '1' && c.key()[0] <= '4') key = FormLabel(l, c.key()[0] - '0');
      rows.push_back({key, std::to_string(c.count())});
    }
    std::cout << "\n";
    PrintTable(std::cout, {T(l, zh, en), T(l, "数量", "count")}, rows);
  };
  section("状态", "state", stats.by_state(), false, false);
  section("处置方式", "disposition method", stats.by_method(), false, false);
  section("四种形态", "form", stats.by_form(), false, true);
  section("线索类别", "category", stats.by_category(), false, false);
  section("来源", "source", stats.by_source(), false, false);
  section("被反映人类别", "subject kind", stats.by_subject_kind(), false, false);
  section("承办单位", "holding unit", stats.by_holding_unit(), true, false);
  return kExitOk;
}

int ClueDuplicates(Context& ctx, const std::string& key) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  Session s(ctx);
  v1::Clue c;
  if (int rc = s.Find(key, false, &c); rc != kExitOk) return rc;
  v1::ListDuplicatesRequest req;
  req.set_clue_id(c.id());
  v1::ListCluesResponse resp;
  grpc::Status st = s.Call(&v1::ClueService::Stub::ListDuplicates, req, &resp);
  if (!st.ok()) return FailClue(ctx, st);
  if (ctx.json()) {
    ctx.PrintJson(resp);
    return kExitOk;
  }
  if (resp.clues().empty()) {
    std::cout << T(ctx.lang(), "没有可并案的线索\n", "no merge candidates\n");
    return kExitOk;
  }
  s.PrintClues(resp.clues());
  return kExitOk;
}

}  // namespace sm::smctl
