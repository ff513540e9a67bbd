// smctl inspection finding add, get, list, refer, retry-referral: the problems an inspection
// raises (督察问题), each on a checklist entry marked non-conforming, and their referral to a
// discipline unit as clues (referral_commands.h).
#include <iostream>

#include "tools/smctl/audit_labels.h"
#include "tools/smctl/clue_labels.h"
#include "tools/smctl/inspection_client.h"
#include "tools/smctl/inspection_commands.h"
#include "tools/smctl/inspection_labels.h"
#include "tools/smctl/referral_commands.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
using Stub = v1::InspectionService::Stub;
namespace {

// The rows a new finding and `finding get` share: number, id, item, title, category,
// severity, unit, officer.
void AddFindingFields(InspectionClient& c, const v1::InspectionFinding& f, FieldTable* t) {
  const Lang l = c.lang();
  t->Add("编号", "number", f.number());
  t->Add("ID", "ID", f.id());
  t->Add("检查项", "item", f.item_code());
  t->Add("标题", "title", f.title());
  t->Add("类别", "category", Label(l, InspectionFindingCategories(), f.category()));
  t->Add("严重程度", "severity", Label(l, Severities(), f.severity()));
  t->Add("被督察单位", "unit", c.dir.UnitName(f.subject_unit_id()));
  t->AddIf("涉及人员", "officer", c.dir.PersonName(f.subject_person_id()));
}

struct AddArgs {
  std::string inspection;
  std::string item;
  std::string unit;    // the target unit it is about: code or id
  std::string person;  // badge or id
  std::string title;
  std::string description;
  v1::InspectionFindingCategory category{};
  v1::Severity severity{};
  std::vector<std::string> evidence;
  std::string request_id;
};

int Add(InspectionClient& c, const AddArgs& a) {
  v1::AddInspectionFindingRequest req;
  std::string id;
  if (int rc = c.dir.UnitId(a.unit, &id); rc != kExitOk) return rc;
  req.set_subject_unit_id(id);
  if (int rc = c.dir.PersonIdIfGiven(a.person, &id); rc != kExitOk) return rc;
  req.set_subject_person_id(id);
  v1::Inspection in;
  if (int rc = c.FindInspection(a.inspection, false, &in); rc != kExitOk) return rc;
  req.set_request_id(RequestIdOr(a.request_id));
  req.set_inspection_id(in.id());
  req.set_item_code(a.item);
  req.set_title(a.title);
  req.set_description(a.description);
  req.set_category(a.category);
  req.set_severity(a.severity);
  for (const auto& ref : a.evidence) req.add_evidence_refs(ref);
  return c.Run(&Stub::AddFinding, req, [&](const v1::InspectionFindingReply& reply) {
    const Lang l = c.lang();
    const v1::InspectionFinding& f = reply.finding();
    std::cout << (reply.mutation().replayed() ? T(l, "此问题此前已登记：", "added earlier: ")
                                              : T(l, "已登记问题：", "finding added: "))
              << f.number() << "\n";
    FieldTable t(l);
    AddFindingFields(c, f, &t);
    t.Print(std::cout);
  });
}

struct FindingArgs {
  std::string finding;  // UUID or number (DC-2026-0001-01)
};

int Get(InspectionClient& c, const FindingArgs& a) {
  v1::InspectionFinding f;
  if (int rc = c.FindFinding(a.finding, true, &f); rc != kExitOk) return rc;
  return c.Show(f, [&](const v1::InspectionFinding& f) {
    const Lang l = c.lang();
    FieldTable t(l);
    AddFindingFields(c, f, &t);
    t.AddIf("描述", "description", f.description());
    t.AddIf("证据", "evidence",
            Join(std::vector<std::string>(f.evidence_refs().begin(), f.evidence_refs().end()), T(l, "、", ", ")));
    const v1::Referral& r = f.referral();
    if (r.state() != v1::REFERRAL_STATE_UNSPECIFIED) {
      t.Add("移送状态", "referral", ReferralLabel(l, r.state()));
      t.Add("移送至", "referred to", c.dir.UnitName(r.to_unit_id()));
      t.AddIf("线索编号", "clue number", r.clue_number());
      t.AddIf("线索状态", "clue state", Label(l, ClueStates(), r.clue_state()));
      t.AddIf("处置方式", "disposition", Label(l, DispositionMethods(), r.disposition()));
      t.AddIf("结论形态", "outcome form", FormLabel(l, r.outcome_form()));
      t.AddIf("反馈", "feedback", r.outcome_feedback());
    }
    t.Add("整改", "rectifications",
          std::to_string(f.rectifications_open() + f.rectifications_signed_off()) +
              T(l, " 项，已销号 ", ", signed off ") + std::to_string(f.rectifications_signed_off()));
    t.Add("登记时间", "added", BeijingTime(f.created_at()));
    t.Add("版本", "version", std::to_string(f.version()));
    t.Print(std::cout);
  });
}

struct ListArgs {
  std::string inspection;
  std::string unit;
  std::string person;  // officer the finding names: badge or id
  v1::InspectionFindingCategory category{};
  Paging paging;
};

int List(InspectionClient& c, const ListArgs& a) {
  v1::ListInspectionFindingsRequest req;
  if (!a.inspection.empty()) {
    v1::Inspection in;
    if (int rc = c.FindInspection(a.inspection, false, &in); rc != kExitOk) return rc;
    req.set_inspection_id(in.id());
  }
  std::string unit;
  if (int rc = c.dir.UnitIdIfGiven(a.unit, &unit); rc != kExitOk) return rc;
  req.set_subject_unit_id(unit);
  std::string person;
  if (int rc = c.dir.PersonIdIfGiven(a.person, &person); rc != kExitOk) return rc;
  req.set_subject_person_id(person);
  req.set_category(a.category);
  return c.List(&Stub::ListFindings, req, a.paging, &v1::ListInspectionFindingsResponse::mutable_findings,
                T(c.lang(), "没有符合条件的督察问题\n", "no matching findings\n"),
                [&](const auto& findings) { PrintFindings(c, findings); });
}

struct InspectionReferral : ReferralOf<InspectionClient, v1::InspectionFinding, v1::InspectionFindingReply> {
  static constexpr const char* kServiceZh = "督察服务";
  static constexpr const char* kServiceEn = "the inspection service";
  static constexpr const char* kShowCommand = "smctl inspection finding get";
};

}  // namespace

void AddInspectionFindingCommands(CLI::App* inspection, Commands& commands) {
  CLI::App* finding = AddGroup(inspection, "finding", "督察问题 findings");
  {
    auto [cmd, a] = commands.Add(finding, "add", "登记问题（检查项须已标记不符合） add a finding", Add);
    cmd->add_option("--inspection", a->inspection, "督察ID或编号 inspection id or number")->required();
    cmd->add_option("--item", a->item, "检查项代码 checklist item code")->required();
    cmd->add_option("--unit", a->unit, "被督察单位（代码或ID） target unit (code or id)")->required();
    cmd->add_option("--person", a->person, "涉及人员（警号或ID） officer (badge or id)");
    cmd->add_option("--title", a->title, "问题标题 title");
    cmd->add_option("--description", a->description, "问题描述 description");
    AddChoiceOption(cmd, "--category", &a->category, InspectionFindingCategories(), "问题类别 category")->required();
    AddChoiceOption(cmd, "--severity", &a->severity, Severities(), "严重程度 severity")->required();
    cmd->add_option("--evidence", a->evidence, "证据索引（可重复） evidence reference (repeat)")
        ->allow_extra_args(false);
    AddRequestIdOption(cmd, &a->request_id);
  }
  {
    auto [cmd, a] = commands.Add(finding, "get", "查看问题 show a finding", Get);
    cmd->add_option("FINDING", a->finding, "问题ID或编号 finding id or number (DC-2026-0001-01)")->required();
  }
  {
    auto [cmd, a] = commands.Add(finding, "list", "列出问题 list findings", List);
    cmd->add_option("--inspection", a->inspection, "督察ID或编号 inspection id or number");
    cmd->add_option("--unit", a->unit, "被督察单位（代码或ID） target unit (code or id)");
    cmd->add_option("--person", a->person, "涉及人员（警号或ID） officer (badge or id)");
    AddChoiceOption(cmd, "--category", &a->category, InspectionFindingCategories(), "问题类别 category");
    AddPagingOptions(cmd, &a->paging, 200);
  }
  AddReferralCommands<InspectionReferral>(finding, commands);
}

}  // namespace sm::smctl
