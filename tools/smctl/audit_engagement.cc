// smctl audit engagement create, advance, show, list: audit engagements (审计项目).
#include <iostream>

#include "tools/smctl/audit_client.h"
#include "tools/smctl/audit_commands.h"
#include "tools/smctl/audit_labels.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
using Stub = v1::AuditService::Stub;
namespace {

struct CreateArgs {
  v1::EngagementKind kind{};
  std::string title;
  std::string audit_unit;      // code or id: must be the caller's unit
  std::string audited_unit;    // code or id
  std::string audited_person;  // badge or id
  std::string from;            // YYYY-MM-DD
  std::string to;
  v1::ItStage it_stage{};
  std::string request_id;
};

int Create(AuditClient& c, const CreateArgs& a) {
  v1::CreateEngagementRequest req;
  req.set_kind(a.kind);
  req.set_it_stage(a.it_stage);
  std::string id;
  if (int rc = c.dir.UnitId(a.audit_unit, &id); rc != kExitOk) return rc;
  req.set_audit_unit_id(id);
  if (int rc = c.dir.UnitId(a.audited_unit, &id); rc != kExitOk) return rc;
  req.set_audited_unit_id(id);
  if (int rc = c.dir.PersonIdIfGiven(a.audited_person, &id); rc != kExitOk) return rc;
  req.set_audited_person_id(id);
  req.set_request_id(RequestIdOr(a.request_id));
  req.set_title(a.title);
  req.set_period_from(a.from);
  req.set_period_to(a.to);
  return c.Run(&Stub::CreateEngagement, req, [&](const v1::EngagementReply& reply) {
    const Lang l = c.lang();
    const v1::Engagement& e = reply.engagement();
    std::cout << (reply.mutation().replayed() ? T(l, "此审计项目此前已立项：", "created earlier: ")
                                              : T(l, "已立项：", "engagement created: "))
              << e.number() << "\n";
    FieldTable t(l);
    t.Add("编号", "number", e.number());
    t.Add("ID", "ID", e.id());
    t.Add("类型", "kind", Label(l, EngagementKinds(), e.kind()));
    t.Add("被审计单位", "audited unit", c.dir.UnitName(e.audited_unit_id()));
    t.Add("状态", "state", Label(l, EngagementStates(), e.state()));
    t.Print(std::cout);
  });
}

struct AdvanceArgs {
  std::string engagement;  // UUID or number (SJ-2026-0001)
  v1::EngagementState to{};
  std::string request_id;
  int64_t version = 0;  // 0 = read it first
};

int Advance(AuditClient& c, const AdvanceArgs& a) {
  v1::Engagement e;
  if (int rc = c.FindEngagement(a.engagement, a.version <= 0, &e); rc != kExitOk) return rc;
  v1::AdvanceEngagementRequest req;
  req.set_request_id(RequestIdOr(a.request_id));
  req.set_engagement_id(e.id());
  req.set_expected_version(VersionOr(a.version, e.version()));
  req.set_to(a.to);
  return c.Run(&Stub::AdvanceEngagement, req,
               [&](const v1::EngagementReply& r) { PrintEngagementDone(c, r, "已推进", "advanced"); });
}

struct EngagementArgs {
  std::string engagement;  // UUID or number
};

int Show(AuditClient& c, const EngagementArgs& a) {
  v1::Engagement e;
  if (int rc = c.FindEngagement(a.engagement, true, &e); rc != kExitOk) return rc;
  return c.Show(e, [&](const v1::Engagement& e) {
    const Lang l = c.lang();
    FieldTable t(l);
    t.Add("编号", "number", e.number());
    t.Add("ID", "ID", e.id());
    t.Add("类型", "kind", Label(l, EngagementKinds(), e.kind()));
    t.Add("标题", "title", e.title());
    t.Add("审计单位", "audit unit", c.dir.UnitName(e.audit_unit_id()));
    t.Add("被审计单位", "audited unit", c.dir.UnitName(e.audited_unit_id()));
    t.AddIf("被审计人", "audited person", c.dir.PersonName(e.audited_person_id()));
    t.Add("审计期间", "period", EngagementPeriod(e));
    t.AddIf("信息化项目环节", "IT stage", Label(l, ItStages(), e.it_stage()));
    t.Add("状态", "state", Label(l, EngagementStates(), e.state()));
    t.Add("立项时间", "created", BeijingTime(e.created_at()));
    t.Add("版本", "version", std::to_string(e.version()));
    t.Print(std::cout);
  });
}

struct ListArgs {
  std::string audited_unit;
  v1::EngagementKind kind{};
  Paging paging;
};

int List(AuditClient& c, const ListArgs& a) {
  v1::ListEngagementsRequest req;
  std::string audited;
  if (int rc = c.dir.UnitIdIfGiven(a.audited_unit, &audited); rc != kExitOk) return rc;
  req.set_audited_unit_id(audited);
  req.set_kind(a.kind);
  const Lang l = c.lang();
  return c.List(&Stub::ListEngagements, req, a.paging, &v1::ListEngagementsResponse::mutable_engagements,
                T(l, "没有符合条件的审计项目\n", "no matching engagements\n"), [&](const auto& engagements) {
                  std::vector<std::vector<std::string>> rows;
                  for (const auto& e : engagements) {
                    rows.push_back({e.number(), Label(l, EngagementKinds(), e.kind()), Truncate(e.title(), 28),
                                    c.dir.UnitName(e.audited_unit_id()), EngagementPeriod(e),
                                    Label(l, EngagementStates(), e.state())});
                  }
                  PrintTable(std::cout,
                             {T(l, "编号", "number"), T(l, "类型", "kind"), T(l, "标题", "title"),
                              T(l, "被审计单位", "audited unit"), T(l, "审计期间", "period"), T(l, "状态", "state")},
                             rows);
                });
}

void AddEngagementCommands(CLI::App* audit, Commands& commands) {
  CLI::App* eng = AddGroup(audit, "engagement", "审计项目 engagements");
  {
    auto [cmd, a] = commands.Add(eng, "create", "立项 create an engagement", Create);
    AddChoiceOption(cmd, "--kind", &a->kind, EngagementKinds(), "审计类型 kind")->required();
    cmd->add_option("--title", a->title, "项目名称 title");
    cmd->add_option("--audit-unit", a->audit_unit, "审计单位（代码或ID，须为本人单位） audit unit (code or id)")
        ->required();
    cmd->add_option("--audited-unit", a->audited_unit, "被审计单位（代码或ID） audited unit (code or id)")->required();
    cmd->add_option("--audited-person", a->audited_person,
                    "被审计人（警号或ID；经济责任审计必填） audited person (badge or id; departure audits)");
    cmd->add_option("--from", a->from, "审计期间起 period from (YYYY-MM-DD)")->required();
    cmd->add_option("--to", a->to, "审计期间止 period to (YYYY-MM-DD)")->required();
    AddChoiceOption(cmd, "--it-stage", &a->it_stage, ItStages(), "信息化项目环节 IT stage (it-project audits)");
    AddRequestIdOption(cmd, &a->request_id);
  }
  {
    auto [cmd, a] = commands.Add(eng, "advance", "推进项目状态 move an engagement to its next state", Advance);
    cmd->add_option("ENG", a->engagement, "项目ID或编号 engagement id or number")->required();
    AddChoiceOption(cmd, "--to", &a->to, EngagementAdvanceTo(), "目标状态 next state")->required();
    AddRequestIdOption(cmd, &a->request_id);
    AddVersionOption(cmd, &a->version);
  }
  {
    auto [cmd, a] = commands.Add(eng, "show", "查看审计项目 show an engagement", Show);
    cmd->add_option("ENG", a->engagement, "项目ID或编号 engagement id or number")->required();
  }
  {
    auto [cmd, a] = commands.Add(eng, "list", "列出审计项目 list engagements", List);
    cmd->add_option("--audited-unit", a->audited_unit, "被审计单位（代码或ID） audited unit (code or id)");
    AddChoiceOption(cmd, "--kind", &a->kind, EngagementKinds(), "审计类型 kind");
    AddPagingOptions(cmd, &a->paging, 500);
  }
}

}  // namespace

void AddAuditCommands(CLI::App& app, Commands& commands) {
  CLI::App* audit = AddGroup(&app, "audit", "审计 audit: engagements, findings, rectifications");
  AddEngagementCommands(audit, commands);
  AddAuditFindingCommands(audit, commands);
  AddAuditRectificationCommands(audit, commands);
  AddAuditChainCommands(audit, commands);
  AddAuditStatsCommand(audit, commands);
  AddAuditImportCommand(audit, commands);
}

}  // namespace sm::smctl
