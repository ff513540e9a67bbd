// smctl audit rectification add, progress, submit, review, reopen, show, list: rectifications
// (整改) followed to sign-off (销号); and audit stats.
#include <algorithm>
#include <iostream>

#include "common/uuid.h"
#include "tools/smctl/audit_client.h"
#include "tools/smctl/audit_commands.h"
#include "tools/smctl/audit_labels.h"
#include "tools/smctl/audit_ledger.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
using Stub = v1::AuditService::Stub;
namespace {

struct AddArgs {
  std::string finding;
  std::string measure;
  std::string owner;  // unit code or id; default: the finding's responsible unit
  int days = 0;       // working days; 0 = the service's default
  std::string request_id;
};

int Add(AuditClient& c, const AddArgs& a) {
  v1::AddRectificationRequest req;
  std::string owner;
  if (int rc = c.dir.UnitIdIfGiven(a.owner, &owner); rc != kExitOk) return rc;
  req.set_owner_unit_id(owner);
  v1::Finding f;
  if (int rc = c.FindFinding(a.finding, false, &f); rc != kExitOk) return rc;
  req.set_request_id(RequestIdOr(a.request_id));
  req.set_finding_id(f.id());
  req.set_measure(a.measure);
  req.set_working_days(a.days);
  return c.Run(&Stub::AddRectification, req, [&](const v1::RectificationReply& r) {
    PrintRectDone(c, r, "已下达整改", "rectification set");
    std::cout << T(c.lang(), "责任单位：", "owner unit: ") << c.dir.UnitName(r.rectification().owner_unit_id()) << "\n";
  });
}

// Arguments of the commands on one rectification; each reads what it needs.
struct StepArgs {
  std::string rect;  // UUID (or a unique prefix of one, at least 8 characters)
  std::string note;
  std::vector<std::string> evidence;
  std::string summary;
  bool approve = false;
  bool reject = false;
  std::string reason;
  std::string request_id;
  int64_t version = 0;
};

// Fills the request id, rectification id and (when `versioned`) the expected version.
template <typename Req>
int Prepare(AuditClient& c, const StepArgs& a, bool versioned, Req* req) {
  v1::Rectification x;
  if (int rc = c.FindRect(a.rect, versioned && a.version <= 0, &x); rc != kExitOk) return rc;
  req->set_request_id(RequestIdOr(a.request_id));
  req->set_rectification_id(x.id());
  if constexpr (requires { req->set_expected_version(int64_t{}); })
    req->set_expected_version(VersionOr(a.version, x.version()));
  return kExitOk;
}

template <typename Req>
int Step(AuditClient& c, Client<v1::AuditService>::Rpc<Req, v1::RectificationReply> rpc, const Req& req, const char* zh,
         const char* en) {
  return c.Run(rpc, req, [&](const v1::RectificationReply& r) { PrintRectDone(c, r, zh, en); });
}

int Progress(AuditClient& c, const StepArgs& a) {
  v1::RecordProgressRequest req;
  if (int rc = Prepare(c, a, false, &req); rc != kExitOk) return rc;
  req.set_note(a.note);
  for (const auto& ref : a.evidence) req.add_evidence_refs(ref);
  return Step(c, &Stub::RecordProgress, req, "已记录整改进展", "progress recorded");
}

int Submit(AuditClient& c, const StepArgs& a) {
  v1::SubmitRectificationRequest req;
  if (int rc = Prepare(c, a, true, &req); rc != kExitOk) return rc;
  req.set_summary(a.summary);
  return Step(c, &Stub::SubmitRectification, req, "已提交整改", "submitted");
}

int Review(AuditClient& c, const StepArgs& a) {
  if (a.approve == a.reject) {
    return c.ctx.FailLocal(kExitUsage, "请给出 --approve（销号）或 --reject --reason …（退回）之一",
                           "give one of --approve (sign off) or --reject --reason ... (send back)");
  }
  v1::ReviewRectificationRequest req;
  if (int rc = Prepare(c, a, true, &req); rc != kExitOk) return rc;
  req.set_approve(a.approve);
  req.set_reason(a.reason);
  return Step(c, &Stub::ReviewRectification, req, a.approve ? "已销号" : "已退回整改",
              a.approve ? "signed off" : "sent back");
}

int Reopen(AuditClient& c, const StepArgs& a) {
  v1::ReopenRectificationRequest req;
  if (int rc = Prepare(c, a, true, &req); rc != kExitOk) return rc;
  req.set_reason(a.reason);
  return Step(c, &Stub::ReopenRectification, req, "已重新打开（回头看）", "reopened (look-back)");
}

struct RectArgs {
  std::string rect;  // as StepArgs::rect
};

int Show(AuditClient& c, const RectArgs& a) {
  v1::Rectification x;
  if (int rc = c.FindRect(a.rect, true, &x); rc != kExitOk) return rc;
  return c.Show(x, [&](const v1::Rectification& x) {
    const Lang l = c.lang();
    FieldTable t(l);
    t.Add("ID", "ID", x.id());
    t.Add("问题编号", "finding", c.FindingNumber(x.finding_id()));
    t.Add("整改措施", "measure", x.measure());
    t.Add("责任单位", "owner unit", c.dir.UnitName(x.owner_unit_id()));
    t.Add("状态", "state", Label(l, RectificationStates(), x.state()));
    t.Add("整改期限", "deadline", BeijingTime(x.deadline_at()));
    t.Add("逾期", "overdue", x.overdue() ? T(l, "是", "yes") : T(l, "否", "no"));
    t.AddIf("最近说明", "last note", x.last_note());
    if (x.has_signed_off_at()) t.Add("销号时间", "signed off", BeijingTime(x.signed_off_at()));
    if (x.has_lookback_until()) t.Add("回头看截止", "look-back until", BeijingTime(x.lookback_until()));
    if (x.spot_check()) t.Add("抽查复核", "spot check", T(l, "已抽中", "selected"));
    if (x.reopened() > 0) t.Add("回头看重新整改", "reopened", std::to_string(x.reopened()) + T(l, " 次", " times"));
    t.Add("下达时间", "set", BeijingTime(x.created_at()));
    t.Add("版本", "version", std::to_string(x.version()));
    t.Print(std::cout);
  });
}

struct ListArgs {
  std::string finding;
  std::string owner;
  v1::RectificationState state{};
  bool overdue = false;
  Paging paging;
};

int List(AuditClient& c, const ListArgs& a) {
  v1::ListRectificationsRequest req;
  req.set_state(a.state);
  std::string owner;
  if (int rc = c.dir.UnitIdIfGiven(a.owner, &owner); rc != kExitOk) return rc;
  req.set_owner_unit_id(owner);
  if (!a.finding.empty()) {
    v1::Finding f;
    if (int rc = c.FindFinding(a.finding, false, &f); rc != kExitOk) return rc;
    req.set_finding_id(f.id());
  }
  req.set_overdue_only(a.overdue);
  return c.List(&Stub::ListRectifications, req, a.paging, &v1::ListRectificationsResponse::mutable_rectifications,
                T(c.lang(), "没有符合条件的整改\n", "no matching rectifications\n"),
                [&](const auto& rects) { PrintRects(c, rects); });
}

struct StatsArgs {
  std::string unit;  // code or id: findings of it or below
};

int Stats(AuditClient& c, const StatsArgs& a) {
  v1::GetAuditStatsRequest req;
  std::string unit;
  if (int rc = c.dir.UnitIdIfGiven(a.unit, &unit); rc != kExitOk) return rc;
  req.set_unit_id(unit);
  return c.Run(&Stub::GetAuditStats, req, [&](const v1::AuditStats& st) {
    const Lang l = c.lang();
    if (!a.unit.empty()) {
      std::cout << T(l, "范围：", "scope: ") << c.dir.UnitName(req.unit_id()) << T(l, "及下级单位\n", " and below\n");
    }
    PrintTable(std::cout, {T(l, "指标", "measure"), T(l, "数值", "value")},
               {{T(l, "审计发现", "findings"), std::to_string(st.findings())},
                {T(l, "涉及金额（元）", "amount (yuan)"), FormatYuan(st.amount_fen())},
                {T(l, "已移送纪检", "referred"), std::to_string(st.referred())},
                {T(l, "屡查屡犯", "recurring"), std::to_string(st.recurring())},
                {T(l, "整改事项", "rectifications"), std::to_string(st.rectifications())},
                {T(l, "已销号", "signed off"), std::to_string(st.signed_off())},
                {T(l, "逾期", "overdue"), std::to_string(st.overdue())},
                {T(l, "整改率", "rectification rate"), Percent(st.signed_off(), st.rectifications())}});
    if (st.from_cache()) std::cout << T(l, "（统计结果来自缓存）\n", "(from the statistics cache)\n");
    auto section = [&](const char* zh, const char* en, const google::protobuf::RepeatedPtrField<v1::StatsCount>& counts,
                       bool units) {
      if (counts.empty()) return;
      // Categories and severities in the API's order (the service sorts by name); units as sent.
      std::vector<const v1::StatsCount*> sorted;
      for (const auto& n : counts) sorted.push_back(&n);
      auto rank = [](const std::string& key) {
        if (v1::FindingCategory cat; v1::FindingCategory_Parse(key, &cat)) return static_cast<int>(cat);
        if (v1::Severity sev; v1::Severity_Parse(key, &sev)) return static_cast<int>(sev);
        return 0;
      };
      if (!units) {
        std::stable_sort(sorted.begin(), sorted.end(), [&](const v1::StatsCount* x, const v1::StatsCount* y) {
          return rank(x->key()) < rank(y->key());
        });
      }
      std::vector<std::vector<std::string>> rows;
      for (const auto* n : sorted) {
        rows.push_back({units && IsUuid(n->key()) ? c.dir.UnitName(n->key()) : AuditEnumNameLabel(l, n->key()),
                        std::to_string(n->count())});
      }
      std::cout << "\n";
      PrintTable(std::cout, {T(l, zh, en), T(l, "数量", "count")}, rows);
    };
    section("问题类别", "category", st.by_category(), false);
    section("严重程度", "severity", st.by_severity(), false);
    section("责任单位（问题数）", "responsible unit (findings)", st.by_unit(), true);
    section("责任单位（已销号整改）", "owner unit (signed off)", st.signed_off_by_unit(), true);
  });
}

}  // namespace

void AddAuditRectificationCommands(CLI::App* audit, Commands& commands) {
  CLI::App* rect = AddGroup(audit, "rectification", "整改 rectifications");
  {
    auto [cmd, a] = commands.Add(rect, "add", "下达整改 set a rectification for a finding", Add);
    cmd->add_option("FINDING", a->finding, "问题ID或编号 finding id or number")->required();
    cmd->add_option("--measure", a->measure, "整改措施 measure");
    cmd->add_option("--owner", a->owner, "整改责任单位（默认问题的责任单位） owner unit (default: the finding's unit)");
    cmd->add_option("--days", a->days, "整改期限（工作日） deadline in working days")->check(CLI::Range(1, 365));
    AddRequestIdOption(cmd, &a->request_id);
  }
  auto rect_arg = [](CLI::App* cmd, std::string* rect) {
    cmd->add_option("RECT", *rect, "整改ID（或至少前 8 位） rectification id (or its first 8+ characters)")->required();
  };
  // A step on RECT; `versioned` adds --version.
  auto step = [&](const char* name, const char* help, bool versioned, int (*fn)(AuditClient&, const StepArgs&)) {
    auto added = commands.Add(rect, name, help, fn);
    rect_arg(added.cmd, &added.args->rect);
    AddRequestIdOption(added.cmd, &added.args->request_id);
    if (versioned) AddVersionOption(added.cmd, &added.args->version);
    return added;
  };
  {
    auto [cmd, a] = step("progress", "记录整改进展（责任单位） record progress (owner unit)", false, Progress);
    cmd->add_option("--note", a->note, "进展情况（必填） progress note (required)");
    cmd->add_option("--evidence", a->evidence, "证据索引（可重复） evidence reference (repeat)")
        ->allow_extra_args(false);
  }
  {
    auto [cmd, a] = step("submit", "提交整改结果待核验（责任单位） submit for review (owner unit)", true, Submit);
    cmd->add_option("--summary", a->summary, "整改情况说明（必填） summary (required)");
  }
  {
    auto [cmd, a] = step("review", "核验：销号或退回（审计单位） sign off or send back (audit unit)", true, Review);
    auto* approve = cmd->add_flag("--approve", a->approve, "核验通过，销号 sign off");
    cmd->add_flag("--reject", a->reject, "退回重新整改 send back to the owner")->excludes(approve);
    cmd->add_option("--reason", a->reason, "理由（退回时必填） reason (required to reject)");
  }
  {
    auto [cmd, a] =
        step("reopen", "回头看：重新打开已销号的整改（审计单位） reopen a signed-off rectification", true, Reopen);
    cmd->add_option("--reason", a->reason, "理由（必填） reason (required)");
  }
  {
    auto [cmd, a] = commands.Add(rect, "show", "查看整改（含回头看、抽查复核） show a rectification", Show);
    rect_arg(cmd, &a->rect);
  }
  {
    auto [cmd, a] = commands.Add(rect, "list", "列出整改 list rectifications", List);
    cmd->add_option("--finding", a->finding, "问题ID或编号 finding id or number");
    cmd->add_option("--owner", a->owner, "整改责任单位（代码或ID） owner unit (code or id)");
    AddChoiceOption(cmd, "--state", &a->state, RectificationStates(), "状态 state");
    cmd->add_flag("--overdue", a->overdue, "只看逾期 overdue only");
    AddPagingOptions(cmd, &a->paging, 500);
  }
}

void AddAuditStatsCommand(CLI::App* audit, Commands& commands) {
  auto [cmd, a] = commands.Add(audit, "stats", "审计统计 audit statistics", Stats);
  cmd->add_option("--unit", a->unit, "范围：该单位及下级单位的问题 scope: findings of this unit or below");
}

}  // namespace sm::smctl
