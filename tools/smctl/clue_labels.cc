#include "tools/smctl/clue_labels.h"

#include <cctype>
#include <map>
#include <utility>

#include "supervision/v1/clue.pb.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
namespace {

const Choices kSources = {
    {v1::CLUE_SOURCE_PETITION, "petition", "信访举报", "petition"},
    {v1::CLUE_SOURCE_AUDIT, "audit", "审计发现", "audit finding"},
    {v1::CLUE_SOURCE_INSPECTION, "inspection", "督察发现", "inspection finding"},
    {v1::CLUE_SOURCE_CIRCUIT_INSPECTION, "circuit-inspection", "巡察移交", "circuit inspection"},
    {v1::CLUE_SOURCE_RISK_SCREENING, "risk-screening", "风险排查", "risk screening"},
    {v1::CLUE_SOURCE_CASE_HANDLING, "case-handling", "执纪审查中发现", "found in case handling"},
    {v1::CLUE_SOURCE_SUPERIOR, "superior", "上级交办", "assigned by a superior"},
};
const Choices kChannels = {
    {v1::RECEIPT_CHANNEL_ONLINE, "online", "网络", "online"},
    {v1::RECEIPT_CHANNEL_PHONE, "phone", "电话", "phone"},
    {v1::RECEIPT_CHANNEL_LETTER, "letter", "来信", "letter"},
    {v1::RECEIPT_CHANNEL_IN_PERSON, "in-person", "来访", "in person"},
    {v1::RECEIPT_CHANNEL_SYSTEM, "system", "系统移送", "system referral"},
};
const Choices kCategories = {
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
const Choices kSeverities = {
    {v1::SEVERITY_LOW, "low", "低", "low"},
    {v1::SEVERITY_MEDIUM, "medium", "中", "medium"},
    {v1::SEVERITY_HIGH, "high", "高", "high"},
    {v1::SEVERITY_CRITICAL, "critical", "严重", "critical"},
};
const Choices kMethods = {
    {v1::DISPOSITION_METHOD_TALK_OR_LETTER, "talk", "谈话函询", "talk or inquiry letter"},
    {v1::DISPOSITION_METHOD_VERIFICATION, "verify", "初步核实", "preliminary verification"},
    {v1::DISPOSITION_METHOD_SHELVE, "shelve", "暂存待查", "shelve pending leads"},
    {v1::DISPOSITION_METHOD_CLOSE, "close", "予以了结", "close"},
};
const Choices kStates = {
    {v1::CLUE_STATE_REGISTERED, "registered", "已登记", "registered"},
    {v1::CLUE_STATE_OFFERED, "offered", "移送待接收", "offered (awaiting acceptance)"},
    {v1::CLUE_STATE_HELD, "held", "在办", "held"},
    {v1::CLUE_STATE_IN_HANDLING, "in-handling", "处置中", "in handling"},
    {v1::CLUE_STATE_SHELVED, "shelved", "暂存待查", "shelved"},
    {v1::CLUE_STATE_CASE_FILED, "case-filed", "已立案", "case filed"},
    {v1::CLUE_STATE_CONCLUDED, "concluded", "已办结", "concluded"},
    {v1::CLUE_STATE_MERGED, "merged", "已并案", "merged"},
};

}  // namespace

const Choices& ClueSources() { return kSources; }
const Choices& ClueChannels() { return kChannels; }
const Choices& ClueCategories() { return kCategories; }
const Choices& Severities() { return kSeverities; }
const Choices& DispositionMethods() { return kMethods; }
const Choices& ClueStates() { return kStates; }

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

std::string ClueEventLabel(Lang l, const std::string& type) {
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
std::string ClueEnumNameLabel(Lang l, const std::string& key) {
  if (v1::ClueState state; v1::ClueState_Parse(key, &state)) return Label(l, kStates, state);
  if (v1::ClueSource src; v1::ClueSource_Parse(key, &src)) return Label(l, kSources, src);
  if (v1::ReceiptChannel ch; v1::ReceiptChannel_Parse(key, &ch)) return Label(l, kChannels, ch);
  if (v1::ClueCategory cat; v1::ClueCategory_Parse(key, &cat)) return Label(l, kCategories, cat);
  if (v1::DispositionMethod m; v1::DispositionMethod_Parse(key, &m)) return Label(l, kMethods, m);
  if (v1::Severity s; v1::Severity_Parse(key, &s)) return Label(l, kSeverities, s);
  if (v1::SupervisionForm f; v1::SupervisionForm_Parse(key, &f)) return FormLabel(l, f);
  if (v1::RevealState r; v1::RevealState_Parse(key, &r)) return RevealStateLabel(l, r);
  if (key == "leader") return T(l, "领导干部", "leaders");
  if (key == "non_leader") return T(l, "非领导干部", "non-leaders");
  if (key == "unit") return T(l, "单位", "units");
  return key;
}

bool LooksLikeEnumName(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!(std::isupper(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_')) {
      return false;
    }
  }
  return true;
}

}  // namespace sm::smctl
