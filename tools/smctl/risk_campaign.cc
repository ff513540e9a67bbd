// smctl risk campaign create, close, get, list, unscreened, screen: screening campaigns
// (排查活动) over units, their coverage, and one person screened (with RISK_FOUND the risk
// item registered in the same step). The ledger import is in risk_import.cc.
#include <iostream>

#include "tools/smctl/risk_client.h"
#include "tools/smctl/risk_commands.h"
#include "tools/smctl/risk_labels.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
using Stub = v1::RiskService::Stub;
namespace {

void PrintCampaign(RiskClient& c, const v1::ScreeningCampaign& cp) {
  const Lang l = c.lang();
  FieldTable t(l);
  t.Add("ID", "ID", cp.id());
  t.Add("名称", "name", cp.name());
  t.AddIf("主题", "theme", cp.theme());
  t.Add("期间", "period", BeijingTime(cp.starts_at()).substr(0, 10) + " ~ " + BeijingTime(cp.ends_at()).substr(0, 10));
  std::vector<std::string> scope;
  for (const auto& u : cp.scope_unit_ids()) scope.push_back(c.dir.UnitName(u));
  t.Add("范围", "scope", Join(scope, T(l, "、", ", ")));
  t.Add("组织单位", "organiser", c.dir.UnitName(cp.unit_id()));
  t.Add("状态", "state", Label(l, CampaignStates(), cp.state()));
  t.Add("排查进度", "coverage",
        std::to_string(cp.screened()) + "/" + std::to_string(cp.people()) + " (" + Percent(cp.screened(), cp.people()) +
            ")");
  t.Add("版本", "version", std::to_string(cp.version()));
  t.Print(std::cout);
  if (cp.progress_size() == 0) return;
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : cp.progress()) {
    rows.push_back({p.unit_name().empty() ? c.dir.UnitName(p.unit_id()) : p.unit_name(), std::to_string(p.people()),
                    std::to_string(p.screened()), std::to_string(p.risks_found()), Percent(p.screened(), p.people())});
  }
  std::cout << "\n";
  PrintTable(std::cout,
             {T(l, "单位", "unit"), T(l, "人数", "people"), T(l, "已排查", "screened"), T(l, "发现风险", "risks found"),
              T(l, "覆盖率", "coverage")},
             rows);
}

struct CreateArgs {
  std::string name, theme, from, to;
  std::vector<std::string> scope;
  std::string request_id;
};

int Create(RiskClient& c, const CreateArgs& a) {
  v1::CreateCampaignRequest req;
  for (const auto& u : a.scope) {
    std::string id;
    if (int rc = c.dir.UnitId(u, &id); rc != kExitOk) return rc;
    req.add_scope_unit_ids(id);
  }
  if (!ParseDay(a.from, false, req.mutable_starts_at()) || !ParseDay(a.to, true, req.mutable_ends_at())) {
    return c.ctx.FailLocal(kExitUsage, "日期应为 YYYY-MM-DD", "dates must be YYYY-MM-DD");
  }
  req.set_request_id(RequestIdOr(a.request_id));
  req.set_name(a.name);
  req.set_theme(a.theme);
  return c.Run(&Stub::CreateCampaign, req, [&](const v1::CampaignReply& r) {
    std::cout << T(c.lang(), "已启动排查活动：", "campaign created: ") << r.campaign().id() << "\n";
    PrintReplayed(c.lang(), r.mutation().replayed());
    PrintCampaign(c, r.campaign());
  });
}

struct CampaignArgs {
  std::string campaign;
  int64_t version = 0;
  std::string request_id;
};

int Close(RiskClient& c, const CampaignArgs& a) {
  v1::ScreeningCampaign cp;
  if (int rc = c.FindCampaign(a.campaign, a.version == 0, &cp); rc != kExitOk) return rc;
  v1::CloseCampaignRequest req;
  req.set_request_id(RequestIdOr(a.request_id));
  req.set_campaign_id(cp.id());
  req.set_expected_version(VersionOr(a.version, cp.version()));
  return c.Run(&Stub::CloseCampaign, req, [&](const v1::CampaignReply& r) {
    std::cout << T(c.lang(), "排查活动已结束：", "campaign closed: ") << r.campaign().name() << "\n";
    PrintReplayed(c.lang(), r.mutation().replayed());
  });
}

int Get(RiskClient& c, const CampaignArgs& a) {
  v1::ScreeningCampaign cp;
  if (int rc = c.FindCampaign(a.campaign, true, &cp); rc != kExitOk) return rc;
  return c.Show(cp, [&](const v1::ScreeningCampaign& cp) { PrintCampaign(c, cp); });
}

struct ListArgs {
  bool open_only = false;
  Paging paging;
};

int List(RiskClient& c, const ListArgs& a) {
  v1::ListCampaignsRequest req;
  req.set_open_only(a.open_only);
  return c.List(&Stub::ListCampaigns, req, a.paging, &v1::ListCampaignsResponse::mutable_campaigns,
                T(c.lang(), "没有排查活动\n", "no campaigns\n"), [&](const auto& cps) { PrintCampaigns(c, cps); });
}

struct UnscreenedArgs {
  std::string campaign, unit;
  Paging paging;
};

int Unscreened(RiskClient& c, const UnscreenedArgs& a) {
  v1::ScreeningCampaign cp;
  if (int rc = c.FindCampaign(a.campaign, false, &cp); rc != kExitOk) return rc;
  v1::ListUnscreenedRequest req;
  req.set_campaign_id(cp.id());
  std::string unit;
  if (int rc = c.dir.UnitIdIfGiven(a.unit, &unit); rc != kExitOk) return rc;
  req.set_unit_id(unit);
  req.set_page_size(a.paging.limit);
  req.set_page_token(a.paging.page_token);
  v1::ListUnscreenedResponse all;
  if (grpc::Status st =
          c.Gather(&Stub::ListUnscreened, req, a.paging.all_pages, &v1::ListUnscreenedResponse::mutable_people, &all);
      !st.ok()) {
    return c.Fail(st);
  }
  return c.Show(all, [&](const v1::ListUnscreenedResponse& r) {
    const Lang l = c.lang();
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : r.people()) rows.push_back({p.badge_no(), p.name(), p.unit_name()});
    if (rows.empty()) {
      std::cout << T(l, "范围内人员均已排查\n", "everyone in scope has been screened\n");
    } else {
      PrintTable(std::cout, {T(l, "警号", "badge"), T(l, "姓名", "name"), T(l, "单位", "unit")}, rows);
    }
    std::cout << T(l, "未排查合计：", "not screened in all: ") << r.total() << "\n";
    PrintMoreResults(l, r.next_page_token());
  });
}

struct ScreenArgs {
  std::string campaign, person;
  v1::ScreeningOutcome outcome{};
  std::string note;
  v1::RiskCategory category{};
  v1::RiskLevel level{};
  std::string description, leader;
  std::vector<std::string> mitigations;
  std::string request_id;
};

int Screen(RiskClient& c, const ScreenArgs& a) {
  v1::ScreeningCampaign cp;
  if (int rc = c.FindCampaign(a.campaign, false, &cp); rc != kExitOk) return rc;
  v1::RecordScreeningRequest req;
  std::string id;
  if (int rc = c.dir.PersonId(a.person, &id); rc != kExitOk) return rc;
  req.set_person_id(id);
  req.set_campaign_id(cp.id());
  req.set_outcome(a.outcome);
  req.set_note(a.note);
  if (a.outcome == v1::SCREENING_OUTCOME_RISK_FOUND) {
    v1::OpenRiskItemRequest* item = req.mutable_item();
    item->set_person_id(id);
    item->set_category(a.category);
    item->set_level(a.level);
    item->set_source(v1::RISK_SOURCE_SCREENING);
    item->set_source_ref(cp.id());
    item->set_description(a.description);
    if (int rc = c.dir.PersonIdIfGiven(a.leader, &id); rc != kExitOk) return rc;
    item->set_responsible_leader_id(id);
    for (const auto& m : a.mitigations) {
      std::string zh, en;
      if (!ParseMitigation(m, item->add_mitigations(), &zh, &en)) return c.ctx.FailLocal(kExitUsage, zh, en);
    }
  }
  req.set_request_id(a.request_id.empty() ? ScreeningRequestId(cp.id(), a.person) : a.request_id);
  return c.Run(&Stub::RecordScreening, req, [&](const v1::ScreeningReply& r) {
    const Lang l = c.lang();
    std::cout << T(l, "已记录排查：", "screened: ") << c.dir.PersonName(r.screening().person_id()) << "  "
              << Label(l, ScreeningOutcomes(), r.screening().outcome());
    if (!r.item().number().empty()) std::cout << T(l, "  风险隐患：", "  risk item: ") << r.item().number();
    std::cout << "\n";
    PrintReplayed(l, r.mutation().replayed());
  });
}

}  // namespace

void AddRiskCampaignCommands(CLI::App* risk, Commands& commands) {
  CLI::App* campaign = AddGroup(risk, "campaign", "排查活动 screening campaigns");
  {
    auto [cmd, a] = commands.Add(campaign, "create", "启动排查活动（政治部） create a campaign (political)", Create);
    cmd->add_option("--name", a->name, "名称 name")->required();
    cmd->add_option("--theme", a->theme, "主题 theme");
    cmd->add_option("--from", a->from, "开始日期 starts (YYYY-MM-DD)")->required();
    cmd->add_option("--to", a->to, "结束日期 ends (YYYY-MM-DD)")->required();
    cmd->add_option("--scope", a->scope, "范围单位（代码或ID，可用逗号分隔） scope units (codes or ids)")
        ->required()
        ->delimiter(',')
        ->allow_extra_args(false);
    AddRequestIdOption(cmd, &a->request_id);
  }
  {
    auto [cmd, a] = commands.Add(campaign, "close", "结束排查活动 close a campaign", Close);
    cmd->add_option("CAMPAIGN", a->campaign, "排查活动（ID、ID前缀或名称） campaign (id, id prefix or name)")
        ->required();
    AddVersionOption(cmd, &a->version);
    AddRequestIdOption(cmd, &a->request_id);
  }
  {
    auto [cmd, a] = commands.Add(campaign, "get", "查看排查活动及进度 show a campaign and its coverage", Get);
    cmd->add_option("CAMPAIGN", a->campaign, "排查活动（ID、ID前缀或名称） campaign (id, id prefix or name)")
        ->required();
  }
  {
    auto [cmd, a] = commands.Add(campaign, "list", "列出排查活动 list campaigns", List);
    cmd->add_flag("--open", a->open_only, "只列进行中的 open only");
    AddPagingOptions(cmd, &a->paging, 200);
  }
  {
    auto [cmd, a] = commands.Add(campaign, "unscreened", "尚未排查的人员 people not yet screened", Unscreened);
    cmd->add_option("CAMPAIGN", a->campaign, "排查活动 campaign")->required();
    cmd->add_option("--unit", a->unit, "单位（代码或ID） unit (code or id)");
    AddPagingOptions(cmd, &a->paging, 500);
  }
  {
    auto [cmd, a] = commands.Add(campaign, "screen", "记录一人的排查结果 record one person's screening", Screen);
    cmd->add_option("CAMPAIGN", a->campaign, "排查活动 campaign")->required();
    cmd->add_option("--person", a->person, "人员（警号或ID） person (badge or id)")->required();
    AddChoiceOption(cmd, "--outcome", &a->outcome, ScreeningOutcomes(), "排查结果 outcome")->required();
    cmd->add_option("--note", a->note, "备注 note");
    AddChoiceOption(cmd, "--category", &a->category, RiskCategories(), "风险类别（发现风险时） category (risk-found)");
    AddChoiceOption(cmd, "--level", &a->level, RiskLevels(), "风险等级（发现风险时） level (risk-found)");
    cmd->add_option("--description", a->description, "风险描述 description (risk-found)");
    cmd->add_option("--leader", a->leader, "责任领导（警号或ID，默认单位主要领导） responsible leader (badge or id)");
    cmd->add_option("--mitigation", a->mitigations,
                    "化解措施（可重复）：措施[@工作日数|@YYYY-MM-DD] measure[@working days|@date] (repeat)")
        ->allow_extra_args(false);
    AddRequestIdOption(cmd, &a->request_id);
  }
  AddRiskImportCommand(campaign, commands);
}

}  // namespace sm::smctl
