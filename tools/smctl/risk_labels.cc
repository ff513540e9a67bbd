#include "tools/smctl/risk_labels.h"

#include <map>
#include <utility>

#include "supervision/v1/directory.pb.h"
#include "tools/smctl/audit_labels.h"
#include "tools/smctl/clue_labels.h"
#include "tools/smctl/inspection_labels.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
namespace {

using Words = std::map<std::string, std::pair<const char*, const char*>>;

std::string Lookup(Lang l, const Words& words, const std::string& key) {
  auto it = words.find(key);
  return it == words.end() ? key : T(l, it->second.first, it->second.second);
}

const Choices kLevels = {
    {v1::RISK_LEVEL_LOW, "low", "低", "low"},
    {v1::RISK_LEVEL_MEDIUM, "medium", "中", "medium"},
    {v1::RISK_LEVEL_HIGH, "high", "高", "high"},
};
const Choices kCategories = {
    {v1::RISK_CATEGORY_IDEOLOGY, "ideology", "思想动态", "ideology"},
    {v1::RISK_CATEGORY_FINANCES, "finances", "经济状况", "finances"},
    {v1::RISK_CATEGORY_SOCIAL_TIES, "social-ties", "社会交往", "social ties"},
    {v1::RISK_CATEGORY_FAMILY, "family", "家庭情况", "family"},
    {v1::RISK_CATEGORY_DRINKING, "drinking", "饮酒", "drinking"},
    {v1::RISK_CATEGORY_GAMBLING, "gambling", "赌博", "gambling"},
    {v1::RISK_CATEGORY_ONLINE_CONDUCT, "online-conduct", "网络言行", "online conduct"},
    {v1::RISK_CATEGORY_WORK_CONDUCT, "work-conduct", "履职用权", "conduct in office"},
    {v1::RISK_CATEGORY_HEALTH, "health", "身心健康", "health"},
    {v1::RISK_CATEGORY_OTHER, "other", "其他", "other"},
};
const Choices kSources = {
    {v1::RISK_SOURCE_SCREENING, "screening", "排查", "screening"},
    {v1::RISK_SOURCE_TALK, "talk", "谈话", "talk"},
    {v1::RISK_SOURCE_PETITION, "petition", "信访", "petition"},
    {v1::RISK_SOURCE_AUDIT, "audit", "审计", "audit"},
    {v1::RISK_SOURCE_INSPECTION, "inspection", "督察", "inspection"},
    {v1::RISK_SOURCE_CLUE, "clue", "问题线索", "clue"},
    {v1::RISK_SOURCE_SCORE, "score", "风险评分预警", "score alert"},
};
const Choices kSourcesOpen(kSources.begin(), kSources.end() - 1);
const Choices kItemStates = {
    {v1::RISK_ITEM_STATE_IDENTIFIED, "identified", "已识别", "identified"},
    {v1::RISK_ITEM_STATE_MITIGATING, "mitigating", "化解中", "mitigating"},
    {v1::RISK_ITEM_STATE_RESOLVED, "resolved", "已化解", "resolved"},
};
const Choices kTalkKinds = {
    {v1::TALK_KIND_HEART_TO_HEART, "heart-to-heart", "谈心谈话", "heart-to-heart talk"},
    {v1::TALK_KIND_INTEGRITY, "integrity", "廉政谈话", "integrity talk"},
    {v1::TALK_KIND_REMINDER, "reminder", "提醒谈话", "reminder talk"},
    {v1::TALK_KIND_ADMONISHMENT, "admonishment", "诫勉谈话", "admonishment"},
};
const Choices kCampaignStates = {
    {v1::CAMPAIGN_STATE_OPEN, "open", "进行中", "open"},
    {v1::CAMPAIGN_STATE_CLOSED, "closed", "已结束", "closed"},
};
const Choices kOutcomes = {
    {v1::SCREENING_OUTCOME_CLEAR, "clear", "未发现风险", "clear"},
    {v1::SCREENING_OUTCOME_RISK_FOUND, "risk-found", "发现风险", "risk found"},
};
const Choices kPowers = {
    {v1::POWER_CASE_HANDLING, "case-handling", "办案权", "case handling"},
    {v1::POWER_FINANCE, "finance", "财务权", "finance"},
    {v1::POWER_PERSONNEL, "personnel", "人事权", "personnel"},
    {v1::POWER_PROCUREMENT, "procurement", "采购", "procurement"},
    {v1::POWER_PROPERTY_CUSTODY, "property-custody", "涉案财物保管", "custody of case property"},
};

}  // namespace

const Choices& RiskLevels() { return kLevels; }
const Choices& RiskCategories() { return kCategories; }
const Choices& RiskSources() { return kSources; }
const Choices& RiskSourcesOpen() { return kSourcesOpen; }
const Choices& RiskItemStates() { return kItemStates; }
const Choices& TalkKinds() { return kTalkKinds; }
const Choices& CampaignStates() { return kCampaignStates; }
const Choices& ScreeningOutcomes() { return kOutcomes; }
const Choices& Powers() { return kPowers; }

std::string FileSourceLabel(Lang l, const std::string& source) {
  static const Words kWords = {
      {"risk", {"风险排查", "risk"}},         {"clue", {"问题线索", "clue"}},           {"audit", {"审计", "audit"}},
      {"inspection", {"督察", "inspection"}}, {"directory", {"人员目录", "directory"}},
  };
  return Lookup(l, kWords, source);
}

std::string SourceService(const std::string& source) {
  if (source.empty() || source.find("-service") != std::string::npos) return source;
  return source + "-service";
}

std::string FileKindLabel(Lang l, const std::string& kind) {
  static const Words kWords = {
      {"risk_item", {"风险隐患", "risk item"}},
      {"talk", {"谈话", "talk"}},
      {"clue", {"问题线索", "clue"}},
      {"audit_finding", {"审计发现", "audit finding"}},
      {"inspection_finding", {"督察问题", "inspection finding"}},
      {"measure", {"督察措施", "inspection measure"}},
      {"accountability_check", {"一案双查", "accountability check"}},
  };
  return Lookup(l, kWords, kind);
}

std::string SignalKindLabel(Lang l, const std::string& kind) {
  static const Words kWords = {
      {"clue_named", {"被反映问题线索", "named in a clue"}},
      {"clue_concluded", {"线索办结（四种形态）", "clue concluded"}},
      {"audit_finding", {"审计发现", "audit finding"}},
      {"inspection_finding", {"督察问题", "inspection finding"}},
      {"inspection_measure", {"督察措施", "inspection measure"}},
      {"accountability_check", {"一案双查", "accountability check"}},
      {"risk_item", {"风险隐患", "risk item"}},
      {"admonishment", {"诫勉谈话", "admonishment"}},
  };
  return Lookup(l, kWords, kind);
}

std::string SignalGradeLabel(Lang l, const std::string& grade) {
  if (grade.empty()) return "";
  static const Words kForms = {
      {"form_1", {"第一种形态", "form 1"}},
      {"form_2", {"第二种形态", "form 2"}},
      {"form_3", {"第三种形态", "form 3"}},
      {"form_4", {"第四种形态", "form 4"}},
  };
  if (kForms.count(grade)) return Lookup(l, kForms, grade);
  // Severities, measure kinds, leader duties and risk levels, by their short enum names.
  for (const char* prefix : {"SEVERITY_", "MEASURE_KIND_", "LEADER_DUTY_", "RISK_LEVEL_"}) {
    const std::string full = prefix + grade;
    const std::string label = RiskEnumNameLabel(l, full);
    if (label != full) return label;
  }
  return grade;
}

std::string RiskEnumNameLabel(Lang l, const std::string& key) {
  if (v1::RiskLevel x; v1::RiskLevel_Parse(key, &x)) return Label(l, kLevels, x);
  if (v1::RiskCategory x; v1::RiskCategory_Parse(key, &x)) return Label(l, kCategories, x);
  if (v1::RiskSource x; v1::RiskSource_Parse(key, &x)) return Label(l, kSources, x);
  if (v1::RiskItemState x; v1::RiskItemState_Parse(key, &x)) return Label(l, kItemStates, x);
  if (v1::TalkKind x; v1::TalkKind_Parse(key, &x)) return Label(l, kTalkKinds, x);
  if (v1::CampaignState x; v1::CampaignState_Parse(key, &x)) return Label(l, kCampaignStates, x);
  if (v1::ScreeningOutcome x; v1::ScreeningOutcome_Parse(key, &x)) return Label(l, kOutcomes, x);
  if (v1::Power x; v1::Power_Parse(key, &x)) return Label(l, kPowers, x);
  if (v1::ClueState x; v1::ClueState_Parse(key, &x)) return Label(l, ClueStates(), x);
  return InspectionEnumNameLabel(l, key);  // inspection, audit and shared enums
}

std::string FileStateLabel(Lang l, const std::string& state) {
  if (state.empty()) return "";
  if (std::string label = RiskEnumNameLabel(l, state); label != state) return label;
  for (const char* prefix :
       {"RISK_ITEM_STATE_", "TALK_KIND_", "CLUE_STATE_", "FINDING_STATE_", "RECTIFICATION_STATE_", "INSPECTION_STATE_",
        "MEASURE_STATE_", "ACCOUNTABILITY_OUTCOME_", "REFERRAL_STATE_", "ENGAGEMENT_STATE_", "SEVERITY_"}) {
    const std::string full = prefix + state;
    if (std::string label = RiskEnumNameLabel(l, full); label != full) return label;
  }
  return state;
}

std::string RiskEventLabel(Lang l, const std::string& type) {
  static const Words kEvents = {
      {"risk_point_put", {"设定廉政风险点", "risk point put"}},
      {"campaign_created", {"启动排查活动", "campaign created"}},
      {"campaign_closed", {"结束排查活动", "campaign closed"}},
      {"person_screened", {"完成人员排查", "person screened"}},
      {"risk_item_opened", {"登记风险隐患", "risk item opened"}},
      {"mitigation_added", {"增加化解措施", "mitigation added"}},
      {"mitigation_completed", {"化解措施完成", "mitigation completed"}},
      {"mitigation_escalated", {"化解措施逾期督办", "mitigation escalated"}},
      {"risk_item_resolved", {"风险隐患已化解", "risk item resolved"}},
      {"talk_recorded", {"登记谈话", "talk recorded"}},
      {"score_changed", {"风险评分变化", "score changed"}},
  };
  return Lookup(l, kEvents, type);
}

}  // namespace sm::smctl
