// smctl inspection measure impose, approve, refuse, lift, return, get, list: the measures of
// the 《公安机关督察条例》: correction, withholding and removal on the spot; suspension from
// duty (10-60 days) and confinement (1-7 days) once the chief inspector (督察长) approves.
#include <iostream>

#include "tools/smctl/inspection_checklist.h"
#include "tools/smctl/inspection_client.h"
#include "tools/smctl/inspection_commands.h"
#include "tools/smctl/inspection_labels.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
using Stub = v1::InspectionService::Stub;
namespace {

struct ImposeArgs {
  std::string inspection;
  std::string finding;
  v1::MeasureKind kind{};
  std::string person;  // badge or id
  std::string basis;
  std::string reason;
  int days = 0;
  std::vector<std::string> withheld;  // KIND:DESCRIPTION
  std::string request_id;
};

int Impose(InspectionClient& c, const ImposeArgs& a) {
  v1::ImposeMeasureRequest req;
  for (const auto& spec : a.withheld) {
    std::string why_zh, why_en;
    if (!ParseWithheld(spec, req.add_withheld(), &why_zh, &why_en)) {
      return c.ctx.FailLocal(kExitUsage, "--withheld：" + why_zh, "--withheld: " + why_en);
    }
  }
  std::string person;
  if (int rc = c.dir.PersonId(a.person, &person); rc != kExitOk) return rc;
  v1::Inspection in;
  if (int rc = c.FindInspection(a.inspection, false, &in); rc != kExitOk) return rc;
  if (!a.finding.empty()) {
    v1::InspectionFinding f;
    if (int rc = c.FindFinding(a.finding, false, &f); rc != kExitOk) return rc;
    req.set_finding_id(f.id());
  }
  req.set_request_id(RequestIdOr(a.request_id));
  req.set_inspection_id(in.id());
  req.set_kind(a.kind);
  req.set_person_id(person);
  req.set_basis(a.basis);
  req.set_reason(a.reason);
  req.set_days(a.days);
  return c.Run(&Stub::ImposeMeasure, req, [&](const v1::MeasureReply& r) {
    PrintMeasureDone(c, r, "已采取措施", "measure taken");
    if (r.measure().state() == v1::MEASURE_STATE_PENDING_APPROVAL) {
      std::cout << T(c.lang(), "须经督察长批准：smctl inspection measure approve ",
                     "the chief inspector approves it: smctl inspection measure approve ")
                << r.measure().id() << "\n";
    }
  });
}

// Arguments of the commands on one measure; each reads what it needs.
struct StepArgs {
  std::string measure;  // UUID, or a unique prefix of one (8+ characters)
  std::string reason;
  std::vector<int> items;  // 1-based, as `measure get` numbers them
  bool all_items = false;
  std::string to;  // badge or id
  std::string request_id;
  int64_t version = 0;
};

// The measure, the request id and the version to expect.
template <typename Req>
int Prepare(InspectionClient& c, const StepArgs& a, v1::Measure* m, Req* req) {
  if (int rc = c.FindMeasure(a.measure, a.version <= 0 || a.all_items, m); rc != kExitOk) return rc;
  req->set_request_id(RequestIdOr(a.request_id));
  req->set_measure_id(m->id());
  req->set_expected_version(VersionOr(a.version, m->version()));
  return kExitOk;
}

int Decide(InspectionClient& c, const StepArgs& a, bool approve) {
  v1::ApproveMeasureRequest req;
  v1::Measure m;
  if (int rc = Prepare(c, a, &m, &req); rc != kExitOk) return rc;
  req.set_approve(approve);
  req.set_reason(a.reason);
  return c.Run(&Stub::ApproveMeasure, req, [&](const v1::MeasureReply& r) {
    PrintMeasureDone(c, r, approve ? "已批准" : "不予批准", approve ? "approved" : "refused");
  });
}
int Approve(InspectionClient& c, const StepArgs& a) { return Decide(c, a, true); }
int Refuse(InspectionClient& c, const StepArgs& a) { return Decide(c, a, false); }

int Lift(InspectionClient& c, const StepArgs& a) {
  v1::LiftMeasureRequest req;
  v1::Measure m;
  if (int rc = Prepare(c, a, &m, &req); rc != kExitOk) return rc;
  req.set_reason(a.reason);
  return c.Run(&Stub::LiftMeasure, req, [&](const v1::MeasureReply& r) { PrintMeasureDone(c, r, "已解除", "lifted"); });
}

int Return(InspectionClient& c, const StepArgs& a) {
  if (a.items.empty() == !a.all_items) {
    return c.ctx.FailLocal(kExitUsage, "请给出 --item N（可重复）或 --all-items 之一",
                           "give --item N (repeat) or --all-items");
  }
  v1::ReturnWithheldRequest req;
  std::string to;
  if (int rc = c.dir.PersonId(a.to, &to); rc != kExitOk) return rc;
  v1::Measure m;
  if (int rc = Prepare(c, a, &m, &req); rc != kExitOk) return rc;
  req.set_returned_to(to);
  for (int i : a.items) req.add_items(i - 1);
  for (int i = 0; a.all_items && i < m.withheld_size(); ++i) {
    if (!m.withheld(i).returned()) req.add_items(i);
  }
  return c.Run(&Stub::ReturnWithheld, req,
               [&](const v1::MeasureReply& r) { PrintMeasureDone(c, r, "已返还扣留物品", "withheld items returned"); });
}

int Get(InspectionClient& c, const StepArgs& a) {
  v1::Measure m;
  if (int rc = c.FindMeasure(a.measure, true, &m); rc != kExitOk) return rc;
  return c.Show(m, [&](const v1::Measure& m) {
    const Lang l = c.lang();
    FieldTable t(l);
    t.Add("ID", "ID", m.id());
    t.Add("措施", "measure", Label(l, MeasureKinds(), m.kind()));
    t.Add("对象", "officer", c.dir.PersonName(m.person_id()));
    t.Add("所在单位", "unit", c.dir.UnitName(m.unit_id()));
    t.AddIf("问题", "finding", c.FindingNumber(m.finding_id()));
    t.Add("决定人", "ordered by", c.UserName(m.ordered_by()));
    t.AddIf("批准人（督察长）", "approved by (chief inspector)", c.UserName(m.approved_by()));
    t.Add("依据", "basis", m.basis());
    t.Add("事由", "reason", m.reason());
    if (m.days() > 0) t.Add("天数", "days", std::to_string(m.days()));
    t.AddIf("开始", "starts", BeijingTime(m.starts_at()));
    t.AddIf("期满", "ends", BeijingTime(m.ends_at()));
    t.AddIf("结束", "ended", BeijingTime(m.ended_at()));
    t.AddIf("结束原因", "end reason", m.end_reason());
    t.Add("状态", "state", Label(l, MeasureStates(), m.state()));
    if (m.overdue()) t.Add("逾期", "overdue", YesNo(l, true));
    t.Add("版本", "version", std::to_string(m.version()));
    t.Print(std::cout);
    if (m.withheld().empty()) return;
    std::vector<std::vector<std::string>> rows;
    for (int i = 0; i < m.withheld_size(); ++i) {
      const v1::WithheldItem& w = m.withheld(i);
      rows.push_back({std::to_string(i + 1), Label(l, WithheldKinds(), w.kind()), w.description(),
                      w.returned() ? BeijingTime(w.returned_at()) : T(l, "未返还", "not returned"),
                      c.dir.PersonName(w.returned_to())});
    }
    std::cout << "\n";
    PrintTable(
        std::cout,
        {"#", T(l, "种类", "kind"), T(l, "物品", "item"), T(l, "返还时间", "returned"), T(l, "返还给", "returned to")},
        rows);
  });
}

struct ListArgs {
  std::string inspection;
  std::string person;
  std::string unit;
  v1::MeasureState state{};
  bool overdue = false;
  Paging paging;
};

int List(InspectionClient& c, const ListArgs& a) {
  v1::ListMeasuresRequest req;
  std::string id;
  if (int rc = c.dir.PersonIdIfGiven(a.person, &id); rc != kExitOk) return rc;
  req.set_person_id(id);
  if (int rc = c.dir.UnitIdIfGiven(a.unit, &id); rc != kExitOk) return rc;
  req.set_unit_id(id);
  if (!a.inspection.empty()) {
    v1::Inspection in;
    if (int rc = c.FindInspection(a.inspection, false, &in); rc != kExitOk) return rc;
    req.set_inspection_id(in.id());
  }
  req.set_state(a.state);
  req.set_overdue_only(a.overdue);
  return c.List(&Stub::ListMeasures, req, a.paging, &v1::ListMeasuresResponse::mutable_measures,
                T(c.lang(), "没有符合条件的督察措施\n", "no matching measures\n"),
                [&](const auto& measures) { PrintMeasures(c, measures); });
}

}  // namespace

void AddInspectionMeasureCommands(CLI::App* inspection, Commands& commands) {
  CLI::App* measure = AddGroup(inspection, "measure", "督察措施 measures of the inspection regulations");
  {
    auto [cmd, a] = commands.Add(measure, "impose", "采取督察措施 take a measure", Impose);
    cmd->add_option("--inspection", a->inspection, "督察ID或编号 inspection id or number")->required();
    cmd->add_option("--finding", a->finding, "相关问题（ID或编号） the finding it answers (id or number)");
    AddChoiceOption(cmd, "--kind", &a->kind, MeasureKinds(), "措施种类 kind")->required();
    cmd->add_option("--person", a->person, "对象（警号或ID） officer (badge or id)")->required();
    cmd->add_option("--basis", a->basis, "法律依据（必填） legal basis (required)");
    cmd->add_option("--reason", a->reason, "事由（必填） reason (required)");
    cmd->add_option("--days", a->days, "天数：停止执行职务 10-60，禁闭 1-7 days (suspension 10-60, confinement 1-7)");
    cmd->add_option("--withheld", a->withheld,
                    "扣留物品 种类:描述（可重复），如 vehicle:川B·1234警 withheld item KIND:DESCRIPTION (repeat)")
        ->allow_extra_args(false);
    AddRequestIdOption(cmd, &a->request_id);
  }
  // A command on MEASURE; `changes` adds --request-id and --version.
  auto on_measure = [&](const char* name, const char* help, bool changes,
                        int (*fn)(InspectionClient&, const StepArgs&)) {
    auto added = commands.Add(measure, name, help, fn);
    added.cmd
        ->add_option("MEASURE", added.args->measure, "措施ID（或至少前 8 位） measure id (or its first 8+ characters)")
        ->required();
    if (changes) {
      AddRequestIdOption(added.cmd, &added.args->request_id);
      AddVersionOption(added.cmd, &added.args->version);
    }
    return added;
  };
  {
    auto [cmd, a] = on_measure("approve", "督察长批准 the chief inspector approves", true, Approve);
    cmd->add_option("--reason", a->reason, "意见 note");
  }
  {
    auto [cmd, a] = on_measure("refuse", "督察长不予批准 the chief inspector refuses", true, Refuse);
    cmd->add_option("--reason", a->reason, "理由（必填） reason (required)");
  }
  {
    auto [cmd, a] = on_measure("lift", "解除措施 lift a measure", true, Lift);
    cmd->add_option("--reason", a->reason, "理由（必填） reason (required)");
  }
  {
    auto [cmd, a] = on_measure("return", "返还扣留物品 return withheld items", true, Return);
    cmd->add_option("--item", a->items, "物品序号（见 measure get，可重复） item number (repeat)")
        ->check(CLI::PositiveNumber)
        ->allow_extra_args(false);
    cmd->add_flag("--all-items", a->all_items, "返还全部未返还物品 every item not yet returned");
    cmd->add_option("--to", a->to, "返还给（警号或ID） returned to (badge or id)")->required();
  }
  on_measure("get", "查看督察措施 show a measure", false, Get);
  {
    auto [cmd, a] = commands.Add(measure, "list", "列出督察措施 list measures", List);
    cmd->add_option("--inspection", a->inspection, "督察ID或编号 inspection id or number");
    cmd->add_option("--person", a->person, "对象（警号或ID） officer (badge or id)");
    cmd->add_option("--unit", a->unit, "对象所在单位（代码或ID） officer's unit (code or id)");
    AddChoiceOption(cmd, "--state", &a->state, MeasureStates(), "状态 state");
    cmd->add_flag("--overdue", a->overdue, "只看逾期未解除的 overdue only");
    AddPagingOptions(cmd, &a->paging, 200);
  }
}

}  // namespace sm::smctl
