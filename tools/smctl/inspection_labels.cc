#include "tools/smctl/inspection_labels.h"

#include <map>
#include <utility>

#include "tools/smctl/audit_labels.h"
#include "tools/smctl/clue_labels.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
namespace {

const Choices kKinds = {
    {v1::INSPECTION_KIND_POLITICAL, "political", "政治督察", "political inspection"},
    {v1::INSPECTION_KIND_ON_SITE, "on-site", "现场督察", "on-site inspection"},
    {v1::INSPECTION_KIND_ONLINE, "online", "网上督察", "online inspection"},
    {v1::INSPECTION_KIND_FOLLOW_UP, "follow-up", "跟踪督察", "follow-up inspection"},
    {v1::INSPECTION_KIND_END_POINT, "end-point", "末端督察", "end-point inspection"},
    {v1::INSPECTION_KIND_SOFT, "soft", "柔性督察", "soft inspection"},
};
const Choices kStates = {
    {v1::INSPECTION_STATE_PLANNED, "planned", "计划", "planned"},
    {v1::INSPECTION_STATE_IN_PROGRESS, "in-progress", "督察中", "in progress"},
    {v1::INSPECTION_STATE_REPORTED, "reported", "已出具报告", "reported"},
    {v1::INSPECTION_STATE_CLOSED, "closed", "已结束", "closed"},
};
const Choices kAdvanceTo(kStates.begin() + 1, kStates.end());
const Choices kMarks = {
    {v1::ITEM_MARK_CONFORMING, "conforming", "符合", "conforming"},
    {v1::ITEM_MARK_NON_CONFORMING, "non-conforming", "不符合", "non-conforming"},
    {v1::ITEM_MARK_NOT_APPLICABLE, "not-applicable", "不适用", "not applicable"},
};
const Choices kCategories = {
    {v1::INSPECTION_FINDING_CATEGORY_POLITICAL, "political", "政治建设", "political building"},
    {v1::INSPECTION_FINDING_CATEGORY_DUTY, "duty", "履职尽责", "performance of duty"},
    {v1::INSPECTION_FINDING_CATEGORY_LAW_ENFORCEMENT, "law-enforcement", "执法规范", "law enforcement"},
    {v1::INSPECTION_FINDING_CATEGORY_DISCIPLINE, "discipline", "纪律作风", "discipline and conduct"},
    {v1::INSPECTION_FINDING_CATEGORY_DRESS_BEARING, "dress-bearing", "警容风纪", "dress and bearing"},
    {v1::INSPECTION_FINDING_CATEGORY_EQUIPMENT, "equipment", "警用装备管理", "police equipment"},
    {v1::INSPECTION_FINDING_CATEGORY_INTEGRITY, "integrity", "廉洁自律", "integrity"},
    {v1::INSPECTION_FINDING_CATEGORY_SERVICE, "service", "服务群众", "service to the public"},
};
const Choices kMeasureKinds = {
    {v1::MEASURE_KIND_CORRECTION, "correction", "当场纠正", "on-the-spot correction"},
    {v1::MEASURE_KIND_WITHHOLD, "withhold", "扣留", "withholding"},
    {v1::MEASURE_KIND_REMOVAL, "removal", "带离现场", "removal from the scene"},
    {v1::MEASURE_KIND_SUSPENSION, "suspension", "停止执行职务", "suspension from duty"},
    {v1::MEASURE_KIND_CONFINEMENT, "confinement", "禁闭", "confinement"},
};
const Choices kMeasureStates = {
    {v1::MEASURE_STATE_PENDING_APPROVAL, "pending-approval", "待督察长审批", "awaiting the chief inspector"},
    {v1::MEASURE_STATE_IN_FORCE, "in-force", "执行中", "in force"},
    {v1::MEASURE_STATE_ENDED, "ended", "已结束", "ended"},
    {v1::MEASURE_STATE_REFUSED, "refused", "未获批准", "refused"},
};
const Choices kWithheldKinds = {
    {v1::WITHHELD_KIND_WEAPON, "weapon", "武器", "weapon"},
    {v1::WITHHELD_KIND_EQUIPMENT, "equipment", "警械/警用装备", "police equipment"},
    {v1::WITHHELD_KIND_VEHICLE, "vehicle", "警用车辆", "police vehicle"},
    {v1::WITHHELD_KIND_INSIGNIA, "insignia", "警衔标志/警号", "insignia or badge"},
    {v1::WITHHELD_KIND_DOCUMENT, "document", "人民警察证", "police identity card"},
};
const Choices kDuties = {
    {v1::LEADER_DUTY_PRINCIPAL, "principal", "主体责任", "principal"},
    {v1::LEADER_DUTY_SUPERVISING, "supervising", "监督责任", "supervising"},
};
const Choices kOutcomes = {
    {v1::ACCOUNTABILITY_OUTCOME_NO_FAULT, "no-fault", "无责任", "no fault"},
    {v1::ACCOUNTABILITY_OUTCOME_TALK, "talk", "约谈", "talk"},
    {v1::ACCOUNTABILITY_OUTCOME_REFERRED, "referred", "移送纪检监察", "referred"},
};

}  // namespace

const Choices& InspectionKinds() { return kKinds; }
const Choices& InspectionStates() { return kStates; }
const Choices& InspectionAdvanceTo() { return kAdvanceTo; }
const Choices& ItemMarks() { return kMarks; }
const Choices& InspectionFindingCategories() { return kCategories; }
const Choices& MeasureKinds() { return kMeasureKinds; }
const Choices& MeasureStates() { return kMeasureStates; }
const Choices& WithheldKinds() { return kWithheldKinds; }
const Choices& LeaderDuties() { return kDuties; }
const Choices& AccountabilityOutcomes() { return kOutcomes; }

std::string MarkLabel(Lang l, v1::ItemMark m) {
  return m == v1::ITEM_MARK_UNSPECIFIED ? T(l, "未标记", "unmarked") : Label(l, kMarks, m);
}

std::string InspectionEnumNameLabel(Lang l, const std::string& key) {
  if (v1::InspectionKind k; v1::InspectionKind_Parse(key, &k)) return Label(l, kKinds, k);
  if (v1::InspectionState s; v1::InspectionState_Parse(key, &s)) return Label(l, kStates, s);
  if (v1::ItemMark m; v1::ItemMark_Parse(key, &m)) return MarkLabel(l, m);
  if (v1::InspectionFindingCategory c; v1::InspectionFindingCategory_Parse(key, &c)) return Label(l, kCategories, c);
  if (v1::MeasureKind k; v1::MeasureKind_Parse(key, &k)) return Label(l, kMeasureKinds, k);
  if (v1::MeasureState s; v1::MeasureState_Parse(key, &s)) return Label(l, kMeasureStates, s);
  if (v1::WithheldKind k; v1::WithheldKind_Parse(key, &k)) return Label(l, kWithheldKinds, k);
  if (v1::Severity s; v1::Severity_Parse(key, &s)) return Label(l, Severities(), s);
  if (v1::LeaderDuty d; v1::LeaderDuty_Parse(key, &d)) return Label(l, kDuties, d);
  if (v1::AccountabilityOutcome o; v1::AccountabilityOutcome_Parse(key, &o)) return Label(l, kOutcomes, o);
  return AuditEnumNameLabel(l, key);  // rectification states and referral states
}

std::string InspectionEventLabel(Lang l, const std::string& type) {
  static const std::map<std::string, std::pair<const char*, const char*>> kEvents = {
      {"template_published", {"发布检查模板", "template published"}},
      {"inspection_created", {"督察立项", "inspection created"}},
      {"inspection_advanced", {"督察推进", "inspection advanced"}},
      {"item_marked", {"检查项标记", "item marked"}},
      {"finding_added", {"登记问题", "finding added"}},
      {"measure_imposed", {"采取督察措施", "measure imposed"}},
      {"measure_approved", {"督察长批准", "measure approved"}},
      {"measure_refused", {"督察长不批准", "measure refused"}},
      {"measure_lifted", {"解除措施", "measure lifted"}},
      {"withheld_returned", {"返还扣留物品", "withheld items returned"}},
      {"accountability_opened", {"启动一案双查", "accountability check opened"}},
      {"accountability_assigned", {"指定承办人", "accountability check assigned"}},
      {"accountability_concluded", {"一案双查办结", "accountability check concluded"}},
  };
  auto it = kEvents.find(type);
  if (it != kEvents.end()) return T(l, it->second.first, it->second.second);
  return AuditEventLabel(l, type);  // the shared rectification events
}

}  // namespace sm::smctl
