#include "tools/smctl/audit_labels.h"

#include <map>
#include <utility>

#include "tools/smctl/clue_labels.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
namespace {

const Choices kKinds = {
    {v1::ENGAGEMENT_KIND_ECONOMIC_RESPONSIBILITY, "economic-responsibility", "经济责任（离任）审计",
     "economic responsibility (departure) audit"},
    {v1::ENGAGEMENT_KIND_PROPERTY_SPECIAL, "property", "执法活动财物管理专项审计",
     "special audit of law-enforcement property"},
    {v1::ENGAGEMENT_KIND_PROJECT_PAYMENT, "project-payment", "工程项目审计", "project payment audit"},
    {v1::ENGAGEMENT_KIND_IT_PROJECT, "it-project", "信息化项目三环节审计", "IT project audit (three stages)"},
    {v1::ENGAGEMENT_KIND_PRICE_CHECK, "price-check", "事前询价", "price check before purchase"},
};
const Choices kStates = {
    {v1::ENGAGEMENT_STATE_PLANNED, "planned", "计划", "planned"},
    {v1::ENGAGEMENT_STATE_FIELDWORK, "fieldwork", "现场审计", "fieldwork"},
    {v1::ENGAGEMENT_STATE_REPORTED, "reported", "已出具报告", "reported"},
    {v1::ENGAGEMENT_STATE_CLOSED, "closed", "已结项", "closed"},
};
const Choices kItStages = {
    {v1::IT_STAGE_BEFORE_PROCUREMENT, "before-procurement", "采购前", "before procurement"},
    {v1::IT_STAGE_BEFORE_CONTRACT, "before-contract", "合同签订前", "before contract"},
    {v1::IT_STAGE_FINAL_ACCOUNTS, "final-accounts", "竣工决算", "final accounts"},
};
const Choices kCategories = {
    {v1::FINDING_CATEGORY_FINANCIAL_DISCIPLINE, "financial-discipline", "违反财经纪律", "financial discipline"},
    {v1::FINDING_CATEGORY_PROPERTY_MANAGEMENT, "property-management", "涉案财物管理不规范", "case property management"},
    {v1::FINDING_CATEGORY_PROCUREMENT, "procurement", "政府采购不规范", "procurement"},
    {v1::FINDING_CATEGORY_CONSTRUCTION, "construction", "工程建设管理", "construction"},
    {v1::FINDING_CATEGORY_ASSET_MANAGEMENT, "asset-management", "国有资产管理", "state asset management"},
    {v1::FINDING_CATEGORY_INTERNAL_CONTROL, "internal-control", "内部控制缺陷", "internal control"},
    {v1::FINDING_CATEGORY_PRICE, "price", "询价/价格偏高", "price (inquiry, overpricing)"},
};
const Choices kRectStates = {
    {v1::RECTIFICATION_STATE_OPEN, "open", "整改中", "open"},
    {v1::RECTIFICATION_STATE_SUBMITTED, "submitted", "已提交待核验", "submitted"},
    {v1::RECTIFICATION_STATE_SIGNED_OFF, "signed-off", "已销号", "signed off"},
};

// The states an engagement can be moved to (not back to planned).
const Choices kAdvanceTo(kStates.begin() + 1, kStates.end());

}  // namespace

const Choices& EngagementKinds() { return kKinds; }
const Choices& EngagementStates() { return kStates; }
const Choices& EngagementAdvanceTo() { return kAdvanceTo; }
const Choices& ItStages() { return kItStages; }
const Choices& FindingCategories() { return kCategories; }
const Choices& RectificationStates() { return kRectStates; }

std::string ReferralLabel(Lang l, v1::ReferralState s) {
  switch (s) {
    case v1::REFERRAL_STATE_PENDING: return T(l, "待送达", "pending (in the outbox)");
    case v1::REFERRAL_STATE_DELIVERED: return T(l, "已送达（已形成线索）", "delivered (a clue exists)");
    case v1::REFERRAL_STATE_DEAD: return T(l, "移送失败", "failed for good");
    default: return T(l, "未移送", "not referred");
  }
}

std::string AuditEnumNameLabel(Lang l, const std::string& key) {
  if (v1::FindingCategory c; v1::FindingCategory_Parse(key, &c)) return Label(l, kCategories, c);
  if (v1::Severity s; v1::Severity_Parse(key, &s)) return Label(l, Severities(), s);
  if (v1::EngagementState s; v1::EngagementState_Parse(key, &s)) return Label(l, kStates, s);
  if (v1::EngagementKind k; v1::EngagementKind_Parse(key, &k)) return Label(l, kKinds, k);
  if (v1::RectificationState s; v1::RectificationState_Parse(key, &s)) return Label(l, kRectStates, s);
  if (v1::ReferralState s; v1::ReferralState_Parse(key, &s)) return ReferralLabel(l, s);
  if (v1::ItStage s; v1::ItStage_Parse(key, &s)) return Label(l, kItStages, s);
  return key;
}

// ---------------------------------------------------------------------------------------

std::string AuditEventLabel(Lang l, const std::string& type) {
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

}  // namespace sm::smctl
