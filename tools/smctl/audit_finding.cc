// smctl audit finding add, show, history, verify, list, refer, retry-referral: audit findings
// (审计发现) and their referral to a discipline unit as clues; audit verify-all and
// checkpoints export.
#include <iostream>

#include "common/uuid.h"
#include "tools/smctl/audit_client.h"
#include "tools/smctl/audit_commands.h"
#include "tools/smctl/audit_labels.h"
#include "tools/smctl/audit_ledger.h"
#include "tools/smctl/chain_commands.h"
#include "tools/smctl/clue_labels.h"
#include "tools/smctl/history.h"
#include "tools/smctl/referral_commands.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
using Stub = v1::AuditService::Stub;
namespace {

struct AddArgs {
  std::string engagement;
  std::string title;
  std::string description;
  v1::FindingCategory category{};
  std::string amount;  // decimal yuan, at most 2 decimals
  v1::Severity severity{};
  std::string unit;    // responsible unit: code or id
  std::string person;  // responsible person: badge or id
  std::vector<std::string> evidence;
  std::string request_id;
};

std::string Recurring(AuditClient& c, const v1::Finding& f) {
  const Lang l = c.lang();
  return std::string(T(l, "是（同类问题：", "yes (like ")) + c.FindingNumber(f.recurs_finding_id()) + T(l, "）", ")");
}

int Add(AuditClient& c, const AddArgs& a) {
  v1::AddFindingRequest req;
  req.set_category(a.category);
  req.set_severity(a.severity);
  int64_t fen = 0;
  std::string why_zh, why_en;
  if (!ParseYuan(a.amount, &fen, &why_zh, &why_en)) {
    return c.ctx.FailLocal(kExitUsage, "--amount：" + why_zh, "--amount: " + why_en);
  }
  req.set_amount_fen(fen);
  v1::Engagement e;
  if (int rc = c.FindEngagement(a.engagement, false, &e); rc != kExitOk) return rc;
  std::string id;
  if (int rc = c.dir.UnitId(a.unit, &id); rc != kExitOk) return rc;
  req.set_responsible_unit_id(id);
  if (int rc = c.dir.PersonIdIfGiven(a.person, &id); rc != kExitOk) return rc;
  req.set_responsible_person_id(id);
  req.set_request_id(RequestIdOr(a.request_id));
  req.set_engagement_id(e.id());
  req.set_title(a.title);
  req.set_description(a.description);
  for (const auto& ref : a.evidence) req.add_evidence_refs(ref);
  return c.Run(&Stub::AddFinding, req, [&](const v1::FindingReply& reply) {
    const Lang l = c.lang();
    const v1::Finding& f = reply.finding();
    std::cout << (reply.mutation().replayed() ? T(l, "此问题此前已登记：", "added earlier: ")
                                              : T(l, "已登记问题：", "finding added: "))
              << f.number() << "\n";
    FieldTable t(l);
    t.Add("编号", "number", f.number());
    t.Add("ID", "ID", f.id());
    t.Add("类别", "category", Label(l, FindingCategories(), f.category()));
    t.Add("涉及金额（元）", "amount (yuan)", FormatYuan(f.amount_fen()));
    t.Add("责任单位", "responsible unit", c.dir.UnitName(f.responsible_unit_id()));
    if (f.recurring()) t.Add("屡查屡犯", "recurring", Recurring(c, f));
    t.Print(std::cout);
  });
}

struct FindingArgs {
  std::string finding;  // UUID or number (SJ-2026-0001-02)
};

int Show(AuditClient& c, const FindingArgs& a) {
  v1::Finding f;
  if (int rc = c.FindFinding(a.finding, true, &f); rc != kExitOk) return rc;
  return c.Show(f, [&](const v1::Finding& f) {
    const Lang l = c.lang();
    auto or_none = [](std::string v) { return v.empty() ? std::string("—") : v; };
    // The engagement's number is the finding's without its last part (SJ-2026-0001-03).
    const std::string engagement = f.number().substr(0, f.number().rfind('-'));
    FieldTable t(l);
    t.Add("编号", "number", f.number());
    t.Add("ID", "ID", f.id());
    t.Add("审计项目", "engagement", engagement);
    t.Add("标题", "title", f.title());
    t.Add("描述", "description", f.description());
    t.Add("类别", "category", Label(l, FindingCategories(), f.category()));
    t.Add("涉及金额（元）", "amount (yuan)", FormatYuan(f.amount_fen()));
    t.Add("严重程度", "severity", Label(l, Severities(), f.severity()));
    t.Add("责任单位", "responsible unit", c.dir.UnitName(f.responsible_unit_id()));
    t.AddIf("责任人", "responsible person", c.dir.PersonName(f.responsible_person_id()));
    t.AddIf("证据", "evidence",
            Join(std::vector<std::string>(f.evidence_refs().begin(), f.evidence_refs().end()), T(l, "、", ", ")));
    if (f.recurring()) t.AddIf("屡查屡犯", "recurring", Recurring(c, f));
    const v1::Referral& r = f.referral();
    t.Add("移送状态", "referral", ReferralLabel(l, r.state()));
    if (r.state() != v1::REFERRAL_STATE_UNSPECIFIED) {
      t.Add("移送至", "referred to", c.dir.UnitName(r.to_unit_id()));
      t.Add("线索编号", "clue number", or_none(r.clue_number()));
      t.Add("线索状态", "clue state", or_none(Label(l, ClueStates(), r.clue_state())));
      t.Add("处置方式", "disposition", or_none(Label(l, DispositionMethods(), r.disposition())));
      t.Add("结论形态", "outcome form", or_none(FormLabel(l, r.outcome_form())));
      t.Add("反馈", "feedback", or_none(r.outcome_feedback()));
      t.AddIf("移送错误", "referral error", r.last_error());
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
  std::string engagement;
  std::string unit;
  std::string person;  // responsible person: badge or id
  v1::FindingCategory category{};
  bool referred = false;
  Paging paging;
};

int List(AuditClient& c, const ListArgs& a) {
  v1::ListFindingsRequest req;
  if (!a.engagement.empty()) {
    v1::Engagement e;
    if (int rc = c.FindEngagement(a.engagement, false, &e); rc != kExitOk) return rc;
    req.set_engagement_id(e.id());
  }
  std::string unit;
  if (int rc = c.dir.UnitIdIfGiven(a.unit, &unit); rc != kExitOk) return rc;
  req.set_responsible_unit_id(unit);
  std::string person;
  if (int rc = c.dir.PersonIdIfGiven(a.person, &person); rc != kExitOk) return rc;
  req.set_responsible_person_id(person);
  req.set_category(a.category);
  req.set_referred_only(a.referred);
  return c.List(&Stub::ListFindings, req, a.paging, &v1::ListFindingsResponse::mutable_findings,
                T(c.lang(), "没有符合条件的审计发现\n", "no matching findings\n"),
                [&](const auto& findings) { PrintFindings(c, findings); });
}

// `finding refer` and `finding retry-referral` (referral_commands.h).
struct AuditReferral : ReferralOf<AuditClient, v1::Finding, v1::FindingReply> {
  static constexpr const char* kServiceZh = "审计服务";
  static constexpr const char* kServiceEn = "the audit service";
  static constexpr const char* kShowCommand = "smctl audit finding show";
};

int History(AuditClient& c, const FindingArgs& a) {
  v1::Finding f;
  if (int rc = c.FindFinding(a.finding, true, &f); rc != kExitOk) return rc;
  v1::GetAuditHistoryRequest req;
  req.set_aggregate_id(f.id());
  const Lang l = c.lang();
  return c.History(&Stub::GetAuditHistory, req, [&](const v1::GetAuditHistoryResponse& resp) {
    PrintHistory(l, resp.events(), [&](const v1::AuditEvent& ev) {
      std::string actor = IsUuid(ev.actor()) ? c.dir.PersonName(ev.actor()) : ev.actor();
      if (actor == "system:clue-events")
        actor = T(l, "系统（线索事件）", "system (clue events)");
      else if (actor == "system:outbox-relay")
        actor = T(l, "系统（移送）", "system (referral relay)");
      else if (actor == "system:overdue-scanner")
        actor = T(l, "系统（逾期督办）", "system (overdue scan)");
      if (!ev.actor_unit_id().empty()) actor += " (" + c.dir.UnitName(ev.actor_unit_id()) + ")";
      return EventCells{AuditEventLabel(l, ev.type()), actor, EventData(c, ev.data_json(), f)};
    });
  });
}

int Verify(AuditClient& c, const FindingArgs& a) {
  v1::Finding f;
  if (int rc = c.FindFinding(a.finding, false, &f); rc != kExitOk) return rc;
  v1::VerifyAuditChainRequest req;
  req.set_aggregate_id(f.id());
  v1::VerifyChainResponse resp;
  if (grpc::Status st = c.Call(&Stub::VerifyAuditChain, req, &resp); !st.ok()) return c.Fail(st);
  return PrintChainVerify(c.ctx, resp);
}

int VerifyAll(AuditClient& c, const NoArgs&) {
  v1::VerifyAllAuditChainsResponse resp;
  if (grpc::Status st = c.Call(&Stub::VerifyAllAuditChains, v1::VerifyAllChainsRequest(), &resp); !st.ok()) {
    return c.Fail(st);
  }
  ChainReport r{resp.intact(), resp.aggregates(), resp.checkpoint_id(), resp.checkpoint_problem(), {}};
  for (const auto& b : resp.broken()) r.broken.push_back({b.aggregate_id(), b.first_broken_seq(), b.problem()});
  return PrintChainReport(c.ctx, resp, r, "个审计项目和问题", "engagements and findings");
}

int ExportCheckpoints(AuditClient& c, const CheckpointsArgs& a) {
  return ExportCheckpointLines(
      a.after, [&](const auto& req, auto* resp) { return c.Call(&Stub::ExportAuditCheckpoints, req, resp); },
      [&](const grpc::Status& st) { return c.Fail(st); });
}

}  // namespace

void AddAuditFindingCommands(CLI::App* audit, Commands& commands) {
  CLI::App* finding = AddGroup(audit, "finding", "审计发现（问题） findings");
  {
    auto [cmd, a] = commands.Add(finding, "add", "登记审计发现 add a finding", Add);
    cmd->add_option("--engagement", a->engagement, "审计项目（ID或编号） engagement (id or number)")->required();
    cmd->add_option("--title", a->title, "问题标题 title");
    cmd->add_option("--description", a->description, "问题描述 description");
    AddChoiceOption(cmd, "--category", &a->category, FindingCategories(), "问题类别 category")->required();
    cmd->add_option("--amount", a->amount, "涉及金额（元，最多两位小数） amount in yuan (at most 2 decimals)")
        ->required();
    AddChoiceOption(cmd, "--severity", &a->severity, Severities(), "严重程度 severity")->required();
    cmd->add_option("--unit", a->unit, "责任单位（代码或ID） responsible unit (code or id)")->required();
    cmd->add_option("--person", a->person, "责任人（警号或ID） responsible person (badge or id)");
    cmd->add_option("--evidence", a->evidence, "证据索引（可重复） evidence reference (repeat)")
        ->allow_extra_args(false);
    AddRequestIdOption(cmd, &a->request_id);
  }
  auto on_finding = [&](const char* name, const char* help, int (*fn)(AuditClient&, const FindingArgs&)) {
    auto [cmd, a] = commands.Add(finding, name, help, fn);
    cmd->add_option("FINDING", a->finding, "问题ID或编号 finding id or number (SJ-2026-0001-02)")->required();
  };
  on_finding("show", "查看审计发现（含移送线索的办理结果） show a finding and its referral", Show);
  on_finding("history", "问题的历史 the finding's history", History);
  on_finding("verify", "校验历史哈希链 verify the history's hash chain (exit 1 when broken)", Verify);
  {
    auto [cmd, a] = commands.Add(finding, "list", "列出审计发现 list findings", List);
    cmd->add_option("--engagement", a->engagement, "审计项目（ID或编号） engagement (id or number)");
    cmd->add_option("--unit", a->unit, "责任单位（代码或ID） responsible unit (code or id)");
    cmd->add_option("--person", a->person, "责任人（警号或ID） responsible person (badge or id)");
    AddChoiceOption(cmd, "--category", &a->category, FindingCategories(), "问题类别 category");
    cmd->add_flag("--referred", a->referred, "只看已移送的 referred only");
    AddPagingOptions(cmd, &a->paging, 500);
  }
  AddReferralCommands<AuditReferral>(finding, commands);
}

void AddAuditChainCommands(CLI::App* audit, Commands& commands) {
  AddChainCommands(audit, commands, VerifyAll, ExportCheckpoints);
}

}  // namespace sm::smctl
