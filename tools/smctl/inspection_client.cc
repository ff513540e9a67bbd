#include "tools/smctl/inspection_client.h"

#include <iostream>

#include "tools/smctl/audit_client.h"
#include "tools/smctl/audit_labels.h"
#include "tools/smctl/clue_labels.h"
#include "tools/smctl/inspection_labels.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
using Stub = v1::InspectionService::Stub;

int InspectionClient::FindInspection(const std::string& key, bool fetch, v1::Inspection* out) {
  v1::GetInspectionRequest get;
  if (IsUuid(key)) {
    get.set_inspection_id(key);
    return ReadById(&Stub::GetInspection, get, key, fetch, out);
  }
  v1::ListInspectionsRequest req;
  req.set_page_size(200);
  bool found = false;
  grpc::Status s =
      FindByNumber(&Stub::ListInspections, req, &v1::ListInspectionsResponse::inspections, Upper(key), out, &found);
  if (!s.ok()) return Fail(s);
  if (!found) return NotVisible("督察", "inspection", key);
  if (!fetch) return kExitOk;
  get.set_inspection_id(out->id());
  return ReadById(&Stub::GetInspection, get, out->id(), true, out);  // with its checklist
}

int InspectionClient::FindFinding(const std::string& key, bool fetch, v1::InspectionFinding* out) {
  if (IsUuid(key)) {
    v1::GetInspectionFindingRequest req;
    req.set_finding_id(key);
    return ReadById(&Stub::GetFinding, req, key, fetch, out);
  }
  const std::string number = Upper(key);
  v1::ListInspectionFindingsRequest req;
  req.set_page_size(200);
  bool found = false;
  if (const size_t dash = number.rfind('-'); dash != std::string::npos && dash > 0) {
    v1::ListInspectionsRequest list;
    list.set_page_size(200);
    v1::Inspection in;
    bool has_inspection = false;
    if (FindByNumber(&Stub::ListInspections, list, &v1::ListInspectionsResponse::inspections, number.substr(0, dash),
                     &in, &has_inspection)
            .ok() &&
        has_inspection) {
      req.set_inspection_id(in.id());
      grpc::Status s =
          FindByNumber(&Stub::ListFindings, req, &v1::ListInspectionFindingsResponse::findings, number, out, &found);
      if (!s.ok()) return Fail(s);
    }
  }
  if (!found) {  // seen without its inspection (a unit above the subject unit)
    req.clear_inspection_id();
    grpc::Status s =
        FindByNumber(&Stub::ListFindings, req, &v1::ListInspectionFindingsResponse::findings, number, out, &found);
    if (!s.ok()) return Fail(s);
  }
  if (!found) return NotVisible("督察问题", "finding", key);
  return kExitOk;
}

template <typename GetReq, typename ListReq, typename ListResp, typename Item>
int InspectionClient::FindByIdPrefix(const std::string& key_in, bool fetch, Rpc<GetReq, Item> get, GetReq get_req,
                                     Rpc<ListReq, ListResp> list,
                                     google::protobuf::RepeatedPtrField<Item>* (ListResp::*items)(), const char* zh,
                                     const char* en, Item* out) {
  const std::string key = Lower(key_in);
  if (IsUuid(key)) return ReadById(get, get_req, key, fetch, out);
  if (key.size() < 8) {
    return ctx.FailLocal(kExitUsage, std::string(zh) + "ID至少需要前 8 位：" + key_in,
                         std::string("give the ") + en + " id, or at least its first 8 characters: " + key_in);
  }
  ListReq req;
  req.set_page_size(200);
  int matches = 0;
  while (true) {
    ListResp page;
    if (grpc::Status s = Call(list, req, &page); !s.ok()) return Fail(s);
    for (auto& x : *(page.*items)()) {
      if (StartsWith(x.id(), key)) {
        *out = x;
        ++matches;
      }
    }
    if (page.next_page_token().empty()) break;
    req.set_page_token(page.next_page_token());
  }
  if (matches > 1) {
    return ctx.FailLocal(kExitUsage, "前缀 " + key_in + " 对应多条" + zh + "，请给出完整ID",
                         "prefix " + key_in + " matches several " + en + "s; give the whole id");
  }
  if (matches == 0) return NotVisible(zh, en, key_in);
  return kExitOk;
}

int InspectionClient::FindMeasure(const std::string& key, bool fetch, v1::Measure* out) {
  v1::GetMeasureRequest get;
  get.set_measure_id(Lower(key));
  return FindByIdPrefix(key, fetch, &Stub::GetMeasure, get, &Stub::ListMeasures,
                        &v1::ListMeasuresResponse::mutable_measures, "督察措施", "measure", out);
}

int InspectionClient::FindRect(const std::string& key, bool fetch, v1::Rectification* out) {
  v1::GetRectificationRequest get;
  get.set_rectification_id(Lower(key));
  return FindByIdPrefix(key, fetch, &Stub::GetRectification, get, &Stub::ListRectifications,
                        &v1::ListRectificationsResponse::mutable_rectifications, "整改", "rectification", out);
}

int InspectionClient::FindCheck(const std::string& key, bool fetch, v1::AccountabilityCheck* out) {
  v1::GetAccountabilityCheckRequest get;
  get.set_check_id(Lower(key));
  return FindByIdPrefix(key, fetch, &Stub::GetAccountabilityCheck, get, &Stub::ListAccountabilityChecks,
                        &v1::ListAccountabilityChecksResponse::mutable_checks, "一案双查", "accountability check", out);
}

std::string InspectionClient::FindingNumber(const std::string& id) {
  if (id.empty()) return "";
  auto it = finding_numbers_.find(id);
  if (it != finding_numbers_.end()) return it->second;
  v1::GetInspectionFindingRequest req;
  req.set_finding_id(id);
  v1::InspectionFinding f;
  std::string number = Call(&Stub::GetFinding, req, &f).ok() ? f.number() : id;
  finding_numbers_[id] = number;
  return number;
}

void PrintInspectionDone(InspectionClient& c, const v1::InspectionReply& r, const char* zh, const char* en) {
  const Lang l = c.lang();
  const v1::Inspection& in = r.inspection();
  std::cout << T(l, zh, en) << T(l, "：", ": ") << in.number() << "  " << T(l, "状态：", "state: ")
            << Label(l, InspectionStates(), in.state()) << "  " << T(l, "检查项：", "checklist: ")
            << SummaryText(l, in.summary()) << "  " << T(l, "版本：", "version: ") << in.version() << "\n";
  PrintReplayed(l, r.mutation().replayed());
}

void PrintMeasureDone(InspectionClient& c, const v1::MeasureReply& r, const char* zh, const char* en) {
  const Lang l = c.lang();
  const v1::Measure& m = r.measure();
  std::cout << T(l, zh, en) << T(l, "：", ": ") << m.id() << "\n"
            << T(l, "措施：", "measure: ") << Label(l, MeasureKinds(), m.kind()) << "  " << T(l, "对象：", "officer: ")
            << c.dir.PersonName(m.person_id()) << "  " << T(l, "状态：", "state: ")
            << Label(l, MeasureStates(), m.state()) << "  " << T(l, "版本：", "version: ") << m.version() << "\n";
  if (m.has_ends_at()) {
    std::cout << T(l, "期限：", "period: ") << BeijingTime(m.starts_at()) << " ~ " << BeijingTime(m.ends_at()) << "\n";
  }
  if (!m.withheld().empty()) std::cout << T(l, "扣留物品：", "withheld items: ") << WithheldText(l, m) << "\n";
  PrintReplayed(l, r.mutation().replayed());
}

void AddInspectionFields(InspectionClient& c, const v1::Inspection& in, FieldTable* t) {
  const Lang l = c.lang();
  std::vector<std::string> targets, inspectors;
  for (const auto& u : in.target_unit_ids()) targets.push_back(c.dir.UnitName(u));
  for (const auto& p : in.inspector_ids()) inspectors.push_back(c.dir.PersonName(p));
  t->Add("编号", "number", in.number());
  t->Add("ID", "ID", in.id());
  t->Add("类型", "kind", Label(l, InspectionKinds(), in.kind()));
  t->AddIf("标题", "title", in.title());
  t->Add("督察单位", "inspecting unit", c.dir.UnitName(in.inspection_unit_id()));
  t->Add("被督察单位", "target units", Join(targets, T(l, "、", ", ")));
  t->Add("督察人员", "inspectors", Join(inspectors, T(l, "、", ", ")));
  t->Add("督察期间", "period", InspectionPeriod(in));
  t->Add("检查模板", "template", in.template_code() + " v" + std::to_string(in.template_version()));
  t->Add("状态", "state", Label(l, InspectionStates(), in.state()));
  t->Add("检查项", "checklist", SummaryText(l, in.summary()));
}

std::string InspectionPeriod(const v1::Inspection& in) {
  if (in.period_from().empty() && in.period_to().empty()) return "";
  return in.period_from() + " ~ " + in.period_to();
}

std::string SummaryText(Lang l, const v1::ChecklistSummary& s) {
  std::string text = std::to_string(s.marked()) + "/" + std::to_string(s.entries());
  if (s.non_conforming() > 0) {
    text += T(l, "（不符合 ", " (non-conforming ") + std::to_string(s.non_conforming());
    if (s.non_conforming_without_finding() > 0) {
      text += T(l, "，其中 ", ", ") + std::to_string(s.non_conforming_without_finding()) +
              T(l, " 项未登记问题", " without a finding");
    }
    text += T(l, "）", ")");
  }
  return text;
}

std::string WithheldText(Lang l, const v1::Measure& m) {
  if (m.withheld().empty()) return "";
  int returned = 0;
  for (const auto& w : m.withheld()) returned += w.returned();
  return std::to_string(returned) + "/" + std::to_string(m.withheld_size()) + T(l, " 已返还", " returned");
}

void PrintInspections(InspectionClient& c, const google::protobuf::RepeatedPtrField<v1::Inspection>& list) {
  const Lang l = c.lang();
  std::vector<std::vector<std::string>> rows;
  for (const auto& in : list) {
    std::vector<std::string> targets;
    for (const auto& t : in.target_unit_ids()) targets.push_back(c.dir.UnitName(t));
    rows.push_back({in.number(), Label(l, InspectionKinds(), in.kind()), Truncate(in.title(), 24),
                    Truncate(Join(targets, T(l, "、", ", ")), 30), InspectionPeriod(in),
                    Label(l, InspectionStates(), in.state()), SummaryText(l, in.summary())});
  }
  PrintTable(std::cout,
             {T(l, "编号", "number"), T(l, "类型", "kind"), T(l, "标题", "title"), T(l, "被督察单位", "target units"),
              T(l, "督察期间", "period"), T(l, "状态", "state"), T(l, "检查项", "checklist")},
             rows);
}

void PrintFindings(InspectionClient& c, const google::protobuf::RepeatedPtrField<v1::InspectionFinding>& findings) {
  const Lang l = c.lang();
  std::vector<std::vector<std::string>> rows;
  for (const auto& f : findings) {
    rows.push_back({f.number(), f.item_code(), Truncate(f.title(), 24),
                    Label(l, InspectionFindingCategories(), f.category()), Label(l, Severities(), f.severity()),
                    c.dir.UnitName(f.subject_unit_id()), ReferralCell(l, f.referral()),
                    std::to_string(f.rectifications_signed_off()) + "/" +
                        std::to_string(f.rectifications_signed_off() + f.rectifications_open())});
  }
  PrintTable(std::cout,
             {T(l, "编号", "number"), T(l, "检查项", "item"), T(l, "标题", "title"), T(l, "类别", "category"),
              T(l, "严重程度", "severity"), T(l, "被督察单位", "unit"), T(l, "移送", "referral"),
              T(l, "整改销号", "signed off")},
             rows);
}

void PrintMeasures(InspectionClient& c, const google::protobuf::RepeatedPtrField<v1::Measure>& measures) {
  const Lang l = c.lang();
  std::vector<std::vector<std::string>> rows;
  for (const auto& m : measures) {
    rows.push_back({m.id(), Label(l, MeasureKinds(), m.kind()), c.dir.PersonName(m.person_id()),
                    c.dir.UnitName(m.unit_id()), Label(l, MeasureStates(), m.state()),
                    m.days() > 0 ? std::to_string(m.days()) : "", BeijingTime(m.ends_at()),
                    m.overdue() ? T(l, "是", "yes") : "", WithheldText(l, m)});
  }
  PrintTable(std::cout,
             {"ID", T(l, "措施", "measure"), T(l, "对象", "officer"), T(l, "所在单位", "unit"), T(l, "状态", "state"),
              T(l, "天数", "days"), T(l, "期满", "ends"), T(l, "逾期", "overdue"), T(l, "扣留物品", "withheld")},
             rows);
}

std::string CheckLeaderText(Lang l, const v1::AccountabilityCheck& k) {
  if (!k.leader_name().empty()) return k.leader_name();
  return T(l, "（无在任领导）", "(no leader holds the duty)");
}

std::string CheckOutcomeText(Lang l, const v1::AccountabilityCheck& k) {
  if (k.outcome() == v1::ACCOUNTABILITY_OUTCOME_UNSPECIFIED) {
    return k.overdue() ? T(l, "办理中（逾期）", "open (overdue)") : T(l, "办理中", "open");
  }
  std::string text = Label(l, AccountabilityOutcomes(), k.outcome());
  if (k.outcome() == v1::ACCOUNTABILITY_OUTCOME_REFERRED) {
    const std::string clue = ReferralCell(l, k.referral());
    if (!clue.empty()) text += T(l, "（", " (") + clue + T(l, "）", ")");
  }
  return text;
}

std::string ReferredClueLine(Lang l, const std::string& finding_number, const std::string& to_unit,
                             const v1::Referral& r) {
  std::string line = finding_number + " → " + to_unit;
  if (r.clue_number().empty()) {
    line += std::string("  ") + T(l, "移送状态：", "referral: ") + ReferralLabel(l, r.state());
    if (!r.last_error().empty()) line += T(l, "（", " (") + r.last_error() + T(l, "）", ")");
    return line;
  }
  line += std::string("  ") + T(l, "线索：", "clue: ") + r.clue_number();
  if (r.clue_state() != v1::CLUE_STATE_UNSPECIFIED) {
    line += std::string("  ") + T(l, "状态：", "state: ") + Label(l, ClueStates(), r.clue_state());
  }
  if (r.outcome_form() > 0)
    line += std::string("  ") + T(l, "结论形态：", "outcome: ") + FormLabel(l, r.outcome_form());
  return line;
}

void PrintChecks(InspectionClient& c, const google::protobuf::RepeatedPtrField<v1::AccountabilityCheck>& checks) {
  const Lang l = c.lang();
  std::vector<std::vector<std::string>> rows;
  for (const auto& k : checks) {
    rows.push_back(
        {k.id(), k.clue_number(), Label(l, LeaderDuties(), k.duty()), CheckLeaderText(l, k),
         k.owner_person_id().empty() ? c.dir.UnitName(k.owner_unit_id()) : c.dir.PersonName(k.owner_person_id()),
         BeijingTime(k.deadline_at()), CheckOutcomeText(l, k)});
  }
  PrintTable(std::cout,
             {"ID", T(l, "线索", "clue"), T(l, "责任", "duty"), T(l, "领导", "leader"), T(l, "承办", "owner"),
              T(l, "期限", "deadline"), T(l, "结论", "outcome")},
             rows);
}

}  // namespace sm::smctl
