// smctl risk item open, mitigate, complete, resolve, get, list: risk items about a person or
// a unit (队伍风险隐患) with their responsible leader and mitigation measures (化解措施).
#include <iostream>

#include "tools/smctl/risk_client.h"
#include "tools/smctl/risk_commands.h"
#include "tools/smctl/risk_labels.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
using Stub = v1::RiskService::Stub;
namespace {

struct OpenArgs {
  std::string person, unit;
  v1::RiskCategory category{};
  v1::RiskLevel level{};
  v1::RiskSource source = v1::RISK_SOURCE_SCREENING;
  std::string source_ref, description, leader;
  std::vector<std::string> mitigations;
  std::string request_id;
};

int Open(RiskClient& c, const OpenArgs& a) {
  v1::OpenRiskItemRequest req;
  std::string id;
  if (int rc = c.dir.PersonIdIfGiven(a.person, &id); rc != kExitOk) return rc;
  req.set_person_id(id);
  if (int rc = c.dir.UnitIdIfGiven(a.unit, &id); rc != kExitOk) return rc;
  req.set_unit_id(id);
  if (int rc = c.dir.PersonIdIfGiven(a.leader, &id); rc != kExitOk) return rc;
  req.set_responsible_leader_id(id);
  for (const auto& m : a.mitigations) {
    std::string zh, en;
    if (!ParseMitigation(m, req.add_mitigations(), &zh, &en)) return c.ctx.FailLocal(kExitUsage, zh, en);
  }
  req.set_request_id(RequestIdOr(a.request_id));
  req.set_category(a.category);
  req.set_level(a.level);
  req.set_source(a.source);
  req.set_source_ref(a.source_ref);
  req.set_description(a.description);
  return c.Run(&Stub::OpenRiskItem, req, [&](const v1::RiskItemReply& r) {
    const Lang l = c.lang();
    std::cout << T(l, "已登记风险隐患：", "risk item opened: ") << r.item().number() << "\n";
    PrintReplayed(l, r.mutation().replayed());
    FieldTable t(l);
    AddItemFields(c, r.item(), &t);
    t.Print(std::cout);
  });
}

struct MitigateArgs {
  std::string item, mitigation;
  int64_t version = 0;
  std::string request_id;
};

int Mitigate(RiskClient& c, const MitigateArgs& a) {
  v1::RiskItem item;
  if (int rc = c.FindItem(a.item, a.version == 0, &item); rc != kExitOk) return rc;
  v1::AddMitigationRequest req;
  std::string zh, en;
  if (!ParseMitigation(a.mitigation, req.mutable_mitigation(), &zh, &en)) return c.ctx.FailLocal(kExitUsage, zh, en);
  req.set_request_id(RequestIdOr(a.request_id));
  req.set_item_id(item.id());
  req.set_expected_version(VersionOr(a.version, item.version()));
  return c.Run(&Stub::AddMitigation, req,
               [&](const v1::RiskItemReply& r) { PrintItemDone(c, r, "已增加化解措施", "mitigation added"); });
}

struct CompleteArgs {
  std::string item;
  int index = 0;
  std::string note;
  int64_t version = 0;
  std::string request_id;
};

int Complete(RiskClient& c, const CompleteArgs& a) {
  v1::RiskItem item;
  if (int rc = c.FindItem(a.item, a.version == 0, &item); rc != kExitOk) return rc;
  v1::CompleteMitigationRequest req;
  req.set_request_id(RequestIdOr(a.request_id));
  req.set_item_id(item.id());
  req.set_expected_version(VersionOr(a.version, item.version()));
  req.set_index(a.index);
  req.set_note(a.note);
  return c.Run(&Stub::CompleteMitigation, req,
               [&](const v1::RiskItemReply& r) { PrintItemDone(c, r, "化解措施已完成", "mitigation done"); });
}

struct ResolveArgs {
  std::string item, resolution;
  int64_t version = 0;
  std::string request_id;
};

int Resolve(RiskClient& c, const ResolveArgs& a) {
  v1::RiskItem item;
  if (int rc = c.FindItem(a.item, a.version == 0, &item); rc != kExitOk) return rc;
  v1::ResolveRiskItemRequest req;
  req.set_request_id(RequestIdOr(a.request_id));
  req.set_item_id(item.id());
  req.set_expected_version(VersionOr(a.version, item.version()));
  req.set_resolution(a.resolution);
  return c.Run(&Stub::ResolveRiskItem, req,
               [&](const v1::RiskItemReply& r) { PrintItemDone(c, r, "风险隐患已化解", "risk item resolved"); });
}

struct ItemArgs {
  std::string item;
};

int Get(RiskClient& c, const ItemArgs& a) {
  v1::RiskItem item;
  if (int rc = c.FindItem(a.item, true, &item); rc != kExitOk) return rc;
  return c.Show(item, [&](const v1::RiskItem& i) {
    FieldTable t(c.lang());
    AddItemFields(c, i, &t);
    t.Print(std::cout);
  });
}

struct ListArgs {
  std::string person, unit, campaign;
  v1::RiskItemState state{};
  v1::RiskLevel level{};
  v1::RiskCategory category{};
  v1::RiskSource source{};
  bool overdue = false;
  Paging paging;
};

int List(RiskClient& c, const ListArgs& a) {
  v1::ListRiskItemsRequest req;
  std::string id;
  if (int rc = c.dir.PersonIdIfGiven(a.person, &id); rc != kExitOk) return rc;
  req.set_person_id(id);
  if (int rc = c.dir.UnitIdIfGiven(a.unit, &id); rc != kExitOk) return rc;
  req.set_unit_id(id);
  if (!a.campaign.empty()) {
    v1::ScreeningCampaign cp;
    if (int rc = c.FindCampaign(a.campaign, false, &cp); rc != kExitOk) return rc;
    req.set_campaign_id(cp.id());
  }
  req.set_state(a.state);
  req.set_level(a.level);
  req.set_category(a.category);
  req.set_source(a.source);
  req.set_overdue_only(a.overdue);
  return c.List(&Stub::ListRiskItems, req, a.paging, &v1::ListRiskItemsResponse::mutable_items,
                T(c.lang(), "没有符合条件的风险隐患\n", "no matching risk items\n"),
                [&](const auto& items) { PrintItems(c, items); });
}

}  // namespace

void AddRiskItemCommands(CLI::App* risk, Commands& commands) {
  CLI::App* item = AddGroup(risk, "item", "队伍风险隐患 risk items");
  const char* kItem = "风险隐患（ID或编号 FX-…） risk item (id or number)";
  {
    auto [cmd, a] = commands.Add(item, "open", "登记风险隐患（政治部） open a risk item (political)", Open);
    auto* person = cmd->add_option("--person", a->person, "人员（警号或ID） person (badge or id)");
    cmd->add_option("--unit", a->unit, "或单位（代码或ID） or unit (code or id)")->excludes(person);
    AddChoiceOption(cmd, "--category", &a->category, RiskCategories(), "风险类别 category")->required();
    AddChoiceOption(cmd, "--level", &a->level, RiskLevels(), "风险等级 level")->required();
    AddChoiceOption(cmd, "--source", &a->source, RiskSourcesOpen(), "来源 source (default screening)");
    cmd->add_option("--source-ref", a->source_ref, "来源编号 the clue / finding / talk it came from");
    cmd->add_option("--description", a->description, "风险描述 description")->required();
    cmd->add_option("--leader", a->leader, "责任领导（警号或ID，默认单位主要领导） responsible leader (badge or id)");
    cmd->add_option("--mitigation", a->mitigations,
                    "化解措施（可重复）：措施[@工作日数|@YYYY-MM-DD] measure[@working days|@date] (repeat)")
        ->allow_extra_args(false);
    AddRequestIdOption(cmd, &a->request_id);
  }
  {
    auto [cmd, a] = commands.Add(item, "mitigate", "增加化解措施 add a mitigation", Mitigate);
    cmd->add_option("ITEM", a->item, kItem)->required();
    cmd->add_option("--measure", a->mitigation, "措施[@工作日数|@YYYY-MM-DD] measure[@working days|@date]")->required();
    AddVersionOption(cmd, &a->version);
    AddRequestIdOption(cmd, &a->request_id);
  }
  {
    auto [cmd, a] = commands.Add(item, "complete", "化解措施完成 mark a mitigation done", Complete);
    cmd->add_option("ITEM", a->item, kItem)->required();
    cmd->add_option("--index", a->index, "措施序号 the mitigation's number (1, 2, ...)")
        ->required()
        ->check(CLI::PositiveNumber);
    cmd->add_option("--note", a->note, "完成情况 note");
    AddVersionOption(cmd, &a->version);
    AddRequestIdOption(cmd, &a->request_id);
  }
  {
    auto [cmd, a] = commands.Add(item, "resolve", "风险隐患已化解 resolve a risk item", Resolve);
    cmd->add_option("ITEM", a->item, kItem)->required();
    cmd->add_option("--resolution", a->resolution, "化解情况 resolution")->required();
    AddVersionOption(cmd, &a->version);
    AddRequestIdOption(cmd, &a->request_id);
  }
  {
    auto [cmd, a] = commands.Add(item, "get", "查看风险隐患 show a risk item", Get);
    cmd->add_option("ITEM", a->item, kItem)->required();
  }
  {
    auto [cmd, a] = commands.Add(item, "list", "列出风险隐患 list risk items", List);
    cmd->add_option("--person", a->person, "人员（警号或ID） person (badge or id)");
    cmd->add_option("--unit", a->unit, "单位及下级（代码或ID） unit and below (code or id)");
    cmd->add_option("--campaign", a->campaign, "排查活动 campaign");
    AddChoiceOption(cmd, "--state", &a->state, RiskItemStates(), "状态 state");
    AddChoiceOption(cmd, "--level", &a->level, RiskLevels(), "等级 level");
    AddChoiceOption(cmd, "--category", &a->category, RiskCategories(), "类别 category");
    AddChoiceOption(cmd, "--source", &a->source, RiskSources(), "来源 source");
    cmd->add_flag("--overdue", a->overdue, "只列有逾期措施的 overdue only");
    AddPagingOptions(cmd, &a->paging, 200);
  }
}

}  // namespace sm::smctl
