// smctl risk point put, get, list: integrity risk points (廉政风险点) on a post's power,
// inherited by everyone holding the post (political department).
#include <iostream>

#include "tools/smctl/risk_client.h"
#include "tools/smctl/risk_commands.h"
#include "tools/smctl/risk_labels.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
using Stub = v1::RiskService::Stub;
namespace {

void AddPointFields(RiskClient& c, const v1::RiskPoint& p, FieldTable* t) {
  const Lang l = c.lang();
  t->Add("ID", "ID", p.id());
  t->Add("岗位", "post", p.post_name().empty() ? p.post_id() : p.post_name());
  t->Add("权力", "power", Label(l, Powers(), p.power()));
  t->Add("风险等级", "level", Label(l, RiskLevels(), p.level()));
  t->Add("风险描述", "description", p.description());
  for (const auto& m : p.control_measures()) t->Add("防控措施", "control", m);
  t->AddIf("防控责任人", "accountable", c.dir.PersonName(p.accountable_person_id()));
  t->AddIf("设定单位", "defined by", c.dir.UnitName(p.unit_id()));
  t->Add("有效", "active", YesNo(l, p.active()));
  t->Add("版本", "version", std::to_string(p.version()));
}

struct PutArgs {
  std::string id;  // replace this point
  int64_t version = 0;
  std::string post;
  v1::Power power{};
  std::string description;
  v1::RiskLevel level{};
  std::vector<std::string> controls;
  std::string accountable;
  bool inactive = false;
  std::string request_id;
};

int Put(RiskClient& c, const PutArgs& a) {
  v1::PutRiskPointRequest req;
  std::string id;
  if (int rc = c.PostId(a.post, &id); rc != kExitOk) return rc;
  req.set_post_id(id);
  if (int rc = c.dir.PersonIdIfGiven(a.accountable, &id); rc != kExitOk) return rc;
  req.set_accountable_person_id(id);
  if (!a.id.empty()) {
    v1::RiskPoint current;
    v1::GetRiskPointRequest get;
    get.set_id(a.id);
    if (a.version == 0) {
      if (grpc::Status st = c.Call(&Stub::GetRiskPoint, get, &current); !st.ok()) return c.Fail(st);
    }
    req.set_id(a.id);
    req.set_expected_version(VersionOr(a.version, current.version()));
  }
  req.set_request_id(RequestIdOr(a.request_id));
  req.set_power(a.power);
  req.set_description(a.description);
  req.set_level(a.level);
  for (const auto& m : a.controls) req.add_control_measures(m);
  req.set_active(!a.inactive);
  return c.Run(&Stub::PutRiskPoint, req, [&](const v1::RiskPointReply& r) {
    const Lang l = c.lang();
    std::cout << (a.id.empty() ? T(l, "已设定廉政风险点：", "risk point created: ")
                               : T(l, "已更新廉政风险点：", "risk point updated: "))
              << r.point().id() << "\n";
    PrintReplayed(l, r.mutation().replayed());
    FieldTable t(l);
    AddPointFields(c, r.point(), &t);
    t.Print(std::cout);
  });
}

struct GetArgs {
  std::string id;
};

int Get(RiskClient& c, const GetArgs& a) {
  v1::GetRiskPointRequest req;
  req.set_id(a.id);
  return c.Run(&Stub::GetRiskPoint, req, [&](const v1::RiskPoint& p) {
    FieldTable t(c.lang());
    AddPointFields(c, p, &t);
    t.Print(std::cout);
  });
}

struct ListArgs {
  std::string post;
  v1::Power power{};
  std::string person;
  bool all = false;
  Paging paging;
};

int List(RiskClient& c, const ListArgs& a) {
  v1::ListRiskPointsRequest req;
  std::string id;
  if (!a.post.empty()) {
    if (int rc = c.PostId(a.post, &id); rc != kExitOk) return rc;
    req.set_post_id(id);
  }
  if (int rc = c.dir.PersonIdIfGiven(a.person, &id); rc != kExitOk) return rc;
  req.set_person_id(id);
  req.set_power(a.power);
  req.set_include_inactive(a.all);
  return c.List(&Stub::ListRiskPoints, req, a.paging, &v1::ListRiskPointsResponse::mutable_points,
                T(c.lang(), "没有符合条件的廉政风险点\n", "no matching risk points\n"),
                [&](const auto& points) { PrintPoints(c, points); });
}

}  // namespace

void AddRiskPointCommands(CLI::App* risk, Commands& commands) {
  CLI::App* point = AddGroup(risk, "point", "廉政风险点 integrity risk points on posts' powers");
  {
    auto [cmd, a] =
        commands.Add(point, "put", "设定或修改风险点（政治部） create or replace a risk point (political)", Put);
    cmd->add_option("--id", a->id, "修改此风险点 replace this point (id)");
    AddVersionOption(cmd, &a->version);
    cmd->add_option("--post", a->post, "岗位（代码或ID） post (code or id)")->required();
    AddChoiceOption(cmd, "--power", &a->power, Powers(), "权力 power")->required();
    cmd->add_option("--description", a->description, "风险描述 description")->required();
    AddChoiceOption(cmd, "--level", &a->level, RiskLevels(), "风险等级 level")->required();
    cmd->add_option("--control", a->controls, "防控措施（可重复） control measure (repeat)")->allow_extra_args(false);
    cmd->add_option("--accountable", a->accountable, "防控责任人（警号或ID） accountable person (badge or id)");
    cmd->add_flag("--inactive", a->inactive, "停用（修改时） deactivate (on replace)");
    AddRequestIdOption(cmd, &a->request_id);
  }
  {
    auto [cmd, a] = commands.Add(point, "get", "查看风险点 show a risk point", Get);
    cmd->add_option("POINT", a->id, "风险点ID risk point id")->required();
  }
  {
    auto [cmd, a] = commands.Add(point, "list", "列出风险点 list risk points", List);
    cmd->add_option("--post", a->post, "岗位（代码或ID） post (code or id)");
    AddChoiceOption(cmd, "--power", &a->power, Powers(), "权力 power");
    cmd->add_option("--person", a->person, "该人员岗位的风险点（警号或ID） points a person inherits (badge or id)");
    cmd->add_flag("--all", a->all, "包括已停用 include inactive");
    AddPagingOptions(cmd, &a->paging, 200);
  }
}

}  // namespace sm::smctl
