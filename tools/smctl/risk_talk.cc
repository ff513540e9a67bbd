// smctl risk talk record, get, list: talks (谈心谈话, 廉政谈话, 提醒谈话, 诫勉谈话). A summary is
// returned only to callers who may read it; others see "（摘要不可见）".
#include <iostream>

#include "tools/smctl/risk_client.h"
#include "tools/smctl/risk_commands.h"
#include "tools/smctl/risk_labels.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
using Stub = v1::RiskService::Stub;
namespace {

void AddTalkFields(RiskClient& c, const v1::TalkRecord& t, FieldTable* f) {
  const Lang l = c.lang();
  f->Add("ID", "ID", t.id());
  std::string kind = Label(l, TalkKinds(), t.kind());
  if (t.disciplinary()) kind += T(l, "（纪律处分性质）", " (disciplinary)");
  f->Add("谈话类型", "kind", kind);
  f->Add("谈话对象", "with", c.dir.PersonName(t.person_id()));
  f->Add("单位", "unit", c.dir.UnitName(t.unit_id()));
  f->Add("谈话人", "talker", c.UserName(t.talker_person_id()));
  f->Add("谈话日期", "held", BeijingTime(t.held_at()).substr(0, 10));
  f->AddIf("摘要", "summary", TalkSummaryText(l, t));
  for (const auto& u : t.follow_ups()) f->Add("后续事项", "follow-up", u);
  f->AddIf("风险隐患", "risk item", t.risk_item_id());
  f->Add("版本", "version", std::to_string(t.version()));
}

struct RecordArgs {
  v1::TalkKind kind{};
  std::string talker, person, held, summary, item;
  std::vector<std::string> follow_ups;
  std::string request_id;
};

int Record(RiskClient& c, const RecordArgs& a) {
  v1::RecordTalkRequest req;
  std::string id;
  if (int rc = c.dir.PersonId(a.person, &id); rc != kExitOk) return rc;
  req.set_person_id(id);
  if (int rc = c.dir.PersonIdIfGiven(a.talker, &id); rc != kExitOk) return rc;
  req.set_talker_person_id(id);
  if (!a.item.empty()) {
    v1::RiskItem item;
    if (int rc = c.FindItem(a.item, false, &item); rc != kExitOk) return rc;
    req.set_risk_item_id(item.id());
  }
  if (!a.held.empty() && !ParseDay(a.held, false, req.mutable_held_at())) {
    return c.ctx.FailLocal(kExitUsage, "日期应为 YYYY-MM-DD：" + a.held, "the date must be YYYY-MM-DD: " + a.held);
  }
  if (!a.held.empty()) req.mutable_held_at()->set_seconds(req.held_at().seconds() + 10 * 3600);  // 10:00 CST
  req.set_request_id(RequestIdOr(a.request_id));
  req.set_kind(a.kind);
  req.set_summary(a.summary);
  for (const auto& u : a.follow_ups) req.add_follow_ups(u);
  return c.Run(&Stub::RecordTalk, req, [&](const v1::TalkReply& r) {
    const Lang l = c.lang();
    std::cout << T(l, "已登记谈话：", "talk recorded: ") << r.talk().id() << "\n";
    PrintReplayed(l, r.mutation().replayed());
    FieldTable t(l);
    AddTalkFields(c, r.talk(), &t);
    t.Print(std::cout);
  });
}

struct TalkArgs {
  std::string talk;
};

int Get(RiskClient& c, const TalkArgs& a) {
  v1::TalkRecord t;
  if (int rc = c.FindTalk(a.talk, true, &t); rc != kExitOk) return rc;
  return c.Show(t, [&](const v1::TalkRecord& t) {
    FieldTable f(c.lang());
    AddTalkFields(c, t, &f);
    f.Print(std::cout);
  });
}

struct ListArgs {
  std::string person, unit;
  v1::TalkKind kind{};
  Paging paging;
};

int List(RiskClient& c, const ListArgs& a) {
  v1::ListTalksRequest req;
  std::string id;
  if (int rc = c.dir.PersonIdIfGiven(a.person, &id); rc != kExitOk) return rc;
  req.set_person_id(id);
  if (int rc = c.dir.UnitIdIfGiven(a.unit, &id); rc != kExitOk) return rc;
  req.set_unit_id(id);
  req.set_kind(a.kind);
  return c.List(&Stub::ListTalks, req, a.paging, &v1::ListTalksResponse::mutable_talks,
                T(c.lang(), "没有符合条件的谈话\n", "no matching talks\n"),
                [&](const auto& talks) { PrintTalks(c, talks, true); });
}

}  // namespace

void AddRiskTalkCommands(CLI::App* risk, Commands& commands) {
  CLI::App* talk = AddGroup(risk, "talk", "谈心谈话 talks");
  {
    auto [cmd, a] = commands.Add(talk, "record", "登记谈话 record a talk", Record);
    AddChoiceOption(cmd, "--kind", &a->kind, TalkKinds(), "谈话类型 kind")->required();
    cmd->add_option("--person", a->person, "谈话对象（警号或ID） with whom (badge or id)")->required();
    cmd->add_option("--talker", a->talker, "谈话人（警号或ID，默认本人） talker (badge or id; default: you)");
    cmd->add_option("--date", a->held, "谈话日期 date (YYYY-MM-DD; default: now)");
    cmd->add_option("--summary", a->summary, "谈话摘要（加密保存） summary (sealed at rest)");
    cmd->add_option("--follow-up", a->follow_ups, "后续事项（可重复） follow-up (repeat)")->allow_extra_args(false);
    cmd->add_option("--item", a->item, "相关风险隐患（ID或编号） the risk item it was about");
    AddRequestIdOption(cmd, &a->request_id);
  }
  {
    auto [cmd, a] = commands.Add(talk, "get", "查看谈话 show a talk", Get);
    cmd->add_option("TALK", a->talk, "谈话ID或ID前缀 talk id or id prefix")->required();
  }
  {
    auto [cmd, a] = commands.Add(talk, "list", "列出谈话 list talks", List);
    cmd->add_option("--person", a->person, "谈话对象（警号或ID） with whom (badge or id)");
    cmd->add_option("--unit", a->unit, "单位及下级（代码或ID） unit and below (code or id)");
    AddChoiceOption(cmd, "--kind", &a->kind, TalkKinds(), "谈话类型 kind");
    AddPagingOptions(cmd, &a->paging, 200);
  }
}

}  // namespace sm::smctl
