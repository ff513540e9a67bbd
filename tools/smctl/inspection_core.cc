// smctl inspection create, advance, mark, get, list: inspections (督察) run down a checklist
// per target unit; and `smctl inspection` itself, with its rectification commands.
#include <iostream>

#include "tools/smctl/inspection_client.h"
#include "tools/smctl/inspection_commands.h"
#include "tools/smctl/inspection_labels.h"
#include "tools/smctl/rectification_commands.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
using Stub = v1::InspectionService::Stub;
namespace {

struct CreateArgs {
  v1::InspectionKind kind{};
  std::string title;
  std::string inspection_unit;          // code or id: must be the caller's unit
  std::vector<std::string> targets;     // codes or ids
  std::vector<std::string> inspectors;  // badges or ids
  std::string from, to;                 // YYYY-MM-DD
  std::string template_code;
  int template_version = 0;  // 0: the latest
  std::string request_id;
};

int Create(InspectionClient& c, const CreateArgs& a) {
  v1::CreateInspectionRequest req;
  std::string id;
  if (int rc = c.dir.UnitId(a.inspection_unit, &id); rc != kExitOk) return rc;
  req.set_inspection_unit_id(id);
  for (const auto& t : a.targets) {
    if (int rc = c.dir.UnitId(t, &id); rc != kExitOk) return rc;
    req.add_target_unit_ids(id);
  }
  for (const auto& who : a.inspectors) {
    if (int rc = c.dir.PersonId(who, &id); rc != kExitOk) return rc;
    req.add_inspector_ids(id);
  }
  req.set_request_id(RequestIdOr(a.request_id));
  req.set_kind(a.kind);
  req.set_title(a.title);
  req.set_period_from(a.from);
  req.set_period_to(a.to);
  req.set_template_code(a.template_code);
  req.set_template_version(a.template_version);
  return c.Run(&Stub::CreateInspection, req, [&](const v1::InspectionReply& reply) {
    const Lang l = c.lang();
    const v1::Inspection& in = reply.inspection();
    std::cout << (reply.mutation().replayed() ? T(l, "此督察此前已立项：", "created earlier: ")
                                              : T(l, "已立项：", "inspection created: "))
              << in.number() << "\n";
    FieldTable t(l);
    AddInspectionFields(c, in, &t);
    t.Print(std::cout);
  });
}

struct AdvanceArgs {
  std::string inspection;
  v1::InspectionState to{};
  std::string report;
  std::string report_file;
  std::string request_id;
  int64_t version = 0;
};

int Advance(InspectionClient& c, const AdvanceArgs& a) {
  v1::AdvanceInspectionRequest req;
  std::string report = a.report;
  if (!a.report_file.empty() && !ReadFile(a.report_file, &report)) {
    return c.ctx.FailLocal(kExitInvalid, "无法读取文件 " + a.report_file, "cannot read file " + a.report_file);
  }
  v1::Inspection in;
  if (int rc = c.FindInspection(a.inspection, a.version <= 0, &in); rc != kExitOk) return rc;
  req.set_request_id(RequestIdOr(a.request_id));
  req.set_inspection_id(in.id());
  req.set_expected_version(VersionOr(a.version, in.version()));
  req.set_to(a.to);
  req.set_report(report);
  return c.Run(&Stub::AdvanceInspection, req,
               [&](const v1::InspectionReply& r) { PrintInspectionDone(c, r, "已推进", "advanced"); });
}

struct MarkArgs {
  std::string inspection;
  std::string item;
  std::string unit;
  v1::ItemMark mark{};
  std::string note;
  std::vector<std::string> evidence;
  std::string request_id;
};

int Mark(InspectionClient& c, const MarkArgs& a) {
  v1::MarkItemRequest req;
  std::string unit;
  if (int rc = c.dir.UnitId(a.unit, &unit); rc != kExitOk) return rc;
  v1::Inspection in;
  if (int rc = c.FindInspection(a.inspection, false, &in); rc != kExitOk) return rc;
  req.set_request_id(RequestIdOr(a.request_id));
  req.set_inspection_id(in.id());
  req.set_item_code(a.item);
  req.set_target_unit_id(unit);
  req.set_mark(a.mark);
  req.set_note(a.note);
  for (const auto& ref : a.evidence) req.add_evidence_refs(ref);
  return c.Run(&Stub::MarkItem, req, [&](const v1::InspectionReply& r) {
    const Lang l = c.lang();
    std::cout << a.item << " @ " << c.dir.UnitName(unit) << T(l, "：", ": ") << MarkLabel(l, a.mark) << "\n";
    PrintInspectionDone(c, r, "已标记", "marked");
  });
}

struct InspectionArgs {
  std::string inspection;  // UUID or number (DC-2026-0001)
};

int Get(InspectionClient& c, const InspectionArgs& a) {
  v1::Inspection in;
  if (int rc = c.FindInspection(a.inspection, true, &in); rc != kExitOk) return rc;
  return c.Show(in, [&](const v1::Inspection& in) {
    const Lang l = c.lang();
    FieldTable t(l);
    AddInspectionFields(c, in, &t);
    t.AddIf("督察报告", "report", Truncate(in.report(), 60));
    t.Add("立项时间", "created", BeijingTime(in.created_at()));
    t.Add("版本", "version", std::to_string(in.version()));
    t.Print(std::cout);
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : in.checklist()) {
      std::vector<std::string> findings;
      for (const auto& f : e.finding_ids()) findings.push_back(c.FindingNumber(f));
      rows.push_back({e.aspect_code(), e.item_code(), Truncate(e.item_text(), 30), c.dir.UnitName(e.target_unit_id()),
                      MarkLabel(l, e.mark()), Truncate(e.note(), 24), Join(findings, T(l, "、", ", "))});
    }
    std::cout << "\n";
    PrintTable(std::cout,
               {T(l, "方面", "aspect"), T(l, "检查项", "item"), T(l, "内容", "text"), T(l, "被督察单位", "unit"),
                T(l, "结果", "mark"), T(l, "工作记录", "note"), T(l, "问题", "findings")},
               rows);
  });
}

struct ListArgs {
  v1::InspectionKind kind{};
  v1::InspectionState state{};
  std::string target;
  Paging paging;
};

int List(InspectionClient& c, const ListArgs& a) {
  v1::ListInspectionsRequest req;
  std::string target;
  if (int rc = c.dir.UnitIdIfGiven(a.target, &target); rc != kExitOk) return rc;
  req.set_target_unit_id(target);
  req.set_kind(a.kind);
  req.set_state(a.state);
  return c.List(&Stub::ListInspections, req, a.paging, &v1::ListInspectionsResponse::mutable_inspections,
                T(c.lang(), "没有符合条件的督察\n", "no matching inspections\n"),
                [&](const auto& list) { PrintInspections(c, list); });
}

void AddCoreCommands(CLI::App* inspection, Commands& commands) {
  {
    auto [cmd, a] = commands.Add(inspection, "create", "督察立项 create an inspection", Create);
    AddChoiceOption(cmd, "--kind", &a->kind, InspectionKinds(), "督察类型 kind")->required();
    cmd->add_option("--title", a->title, "标题 title");
    cmd->add_option("--inspection-unit", a->inspection_unit,
                    "督察单位（代码或ID，须为本人单位） inspecting unit (code or id: your own)")
        ->required();
    cmd->add_option("--target", a->targets, "被督察单位（可重复，或逗号分隔） target unit (repeat)")
        ->required()
        ->delimiter(',')
        ->allow_extra_args(false);
    cmd->add_option("--inspector", a->inspectors, "督察人员警号（可重复，或逗号分隔） inspector's badge (repeat)")
        ->required()
        ->delimiter(',')
        ->allow_extra_args(false);
    cmd->add_option("--from", a->from, "督察期间起 period from (YYYY-MM-DD)")->required();
    cmd->add_option("--to", a->to, "督察期间止 period to (YYYY-MM-DD)")->required();
    cmd->add_option("--template", a->template_code, "检查模板代码 checklist template code")->required();
    cmd->add_option("--template-version", a->template_version,
                    "模板版本（默认最新） template version (default: latest)")
        ->check(CLI::PositiveNumber);
    AddRequestIdOption(cmd, &a->request_id);
  }
  {
    auto [cmd, a] = commands.Add(inspection, "advance", "推进督察状态 move an inspection to its next state", Advance);
    cmd->add_option("INSPECTION", a->inspection, "督察ID或编号 inspection id or number")->required();
    AddChoiceOption(cmd, "--to", &a->to, InspectionAdvanceTo(), "目标状态 next state")->required();
    auto* report = cmd->add_option("--report", a->report, "督察报告（出具报告时必填） report text (to report)");
    cmd->add_option("--report-file", a->report_file, "从文件读取督察报告 the report from a file")->excludes(report);
    AddRequestIdOption(cmd, &a->request_id);
    AddVersionOption(cmd, &a->version);
  }
  {
    auto [cmd, a] = commands.Add(inspection, "mark", "标记一个检查项 mark one checklist entry", Mark);
    cmd->add_option("INSPECTION", a->inspection, "督察ID或编号 inspection id or number")->required();
    cmd->add_option("--item", a->item, "检查项代码 item code")->required();
    cmd->add_option("--unit", a->unit, "被督察单位（代码或ID） target unit (code or id)")->required();
    AddChoiceOption(cmd, "--mark", &a->mark, ItemMarks(), "结果 mark")->required();
    cmd->add_option("--note", a->note, "工作记录（不符合时必填） working note (required when non-conforming)");
    cmd->add_option("--evidence", a->evidence, "证据索引（可重复） evidence reference (repeat)")
        ->allow_extra_args(false);
    AddRequestIdOption(cmd, &a->request_id);
  }
  {
    auto [cmd, a] = commands.Add(inspection, "get", "查看督察及其检查清单 an inspection and its checklist", Get);
    cmd->add_option("INSPECTION", a->inspection, "督察ID或编号 inspection id or number")->required();
  }
  {
    auto [cmd, a] = commands.Add(inspection, "list", "列出督察 list inspections", List);
    AddChoiceOption(cmd, "--kind", &a->kind, InspectionKinds(), "督察类型 kind");
    AddChoiceOption(cmd, "--state", &a->state, InspectionStates(), "状态 state");
    cmd->add_option("--target", a->target, "被督察单位（代码或ID） target unit (code or id)");
    AddPagingOptions(cmd, &a->paging, 200);
  }
}

}  // namespace

void AddInspectionCommands(CLI::App& app, Commands& commands) {
  CLI::App* inspection =
      AddGroup(&app, "inspection", "督察 inspections: templates, checklists, findings, measures, rectifications");
  AddCoreCommands(inspection, commands);
  AddInspectionRunCommand(inspection, commands);
  AddInspectionTemplateCommands(inspection, commands);
  AddInspectionFindingCommands(inspection, commands);
  AddInspectionMeasureCommands(inspection, commands);
  AddInspectionCheckCommands(inspection, commands);
  RectificationCommands<InspectionClient, v1::InspectionFinding>::Register(inspection, commands);
  AddInspectionReadCommands(inspection, commands);
}

}  // namespace sm::smctl
