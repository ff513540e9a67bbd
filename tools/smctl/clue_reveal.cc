// smctl clue reveal-*: the two-person rule for the reporter (docs/clue.md § Revealing the
// reporter): a request, the custodians' decisions, and the one look by the requester.
#include <iostream>

#include "tools/smctl/clue_client.h"
#include "tools/smctl/clue_commands.h"
#include "tools/smctl/clue_labels.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
using Stub = v1::ClueService::Stub;
namespace {

struct RevealArgs {
  std::string target;  // reveal-request: CLUE; the others: the reveal request's id
  std::string reason;
  std::string request_id;  // default: a fresh UUID
};

void PrintRevealRequest(ClueClient& c, const v1::RevealRequest& r) {
  const Lang l = c.lang();
  std::vector<std::string> decisions;
  for (const auto& d : r.decisions()) {
    std::string text = c.UserName(d.custodian()) + " " +
                       (d.verdict() == v1::REVEAL_VERDICT_APPROVE ? T(l, "批准", "approved") : T(l, "拒绝", "refused"));
    if (!d.reason().empty()) text += T(l, "（", " (") + d.reason() + T(l, "）", ")");
    text += " " + BeijingTime(d.decided_at());
    decisions.push_back(text);
  }
  FieldTable t(l);
  t.Add("申请编号", "request id", r.id());
  t.Add("线索", "clue", r.clue_number() + " (" + r.clue_id() + ")");
  t.Add("状态", "state", RevealStateLabel(l, r.state()));
  t.Add("申请人", "requester",
        c.UserName(r.requester()) +
            (r.requester_unit_id().empty() ? "" : " (" + c.dir.UnitName(r.requester_unit_id()) + ")"));
  t.Add("理由", "reason", r.reason());
  t.Add("批准数", "approvals", std::to_string(r.approvals()) + "/" + std::to_string(r.approvals_needed()));
  t.Add("审批记录", "decisions", Join(decisions, T(l, "；", "; ")));
  t.Add("申请时间", "requested", BeijingTime(r.requested_at()));
  if (r.has_expires_at()) t.Add("查看期限", "usable until", BeijingTime(r.expires_at(), true));
  if (r.has_used_at()) t.Add("查看时间", "used", BeijingTime(r.used_at(), true));
  t.Print(std::cout);
}

void PrintRevealDone(ClueClient& c, const v1::RevealRequestReply& reply, const char* zh, const char* en) {
  const Lang l = c.lang();
  std::cout << T(l, zh, en) << T(l, "：", ": ") << reply.request().id() << "  " << T(l, "状态：", "state: ")
            << RevealStateLabel(l, reply.request().state()) << "\n";
  PrintReplayed(l, reply.mutation().replayed());
  PrintRevealRequest(c, reply.request());
}

int RevealRequest(ClueClient& c, const RevealArgs& a) {
  v1::Clue cl;
  if (int rc = c.Find(a.target, false, &cl); rc != kExitOk) return rc;
  v1::RequestRevealRequest req;
  req.set_request_id(RequestIdOr(a.request_id));
  req.set_clue_id(cl.id());
  req.set_reason(a.reason);
  return c.Run(&Stub::RequestReveal, req, [&](const v1::RevealRequestReply& r) {
    PrintRevealDone(c, r, "已申请查看举报人，待审批", "reveal requested, awaiting custodians");
    std::cout << T(c.lang(), "批准后请运行：smctl clue reveal ", "once approved, run: smctl clue reveal ")
              << r.request().id() << "\n";
  });
}

int Decide(ClueClient& c, const RevealArgs& a, bool approve) {
  v1::DecideRevealRequest req;
  req.set_request_id(RequestIdOr(a.request_id));
  req.set_reveal_request_id(a.target);
  req.set_verdict(approve ? v1::REVEAL_VERDICT_APPROVE : v1::REVEAL_VERDICT_REFUSE);
  req.set_reason(a.reason);
  return c.Run(&Stub::DecideReveal, req, [&](const v1::RevealRequestReply& r) {
    if (approve)
      PrintRevealDone(c, r, "已批准", "approved");
    else
      PrintRevealDone(c, r, "已拒绝", "refused");
  });
}
int Approve(ClueClient& c, const RevealArgs& a) { return Decide(c, a, true); }
int Refuse(ClueClient& c, const RevealArgs& a) { return Decide(c, a, false); }

int Reveal(ClueClient& c, const RevealArgs& a) {
  v1::RevealReporterRequest req;
  req.set_request_id(RequestIdOr(a.request_id));
  req.set_reveal_request_id(a.target);
  const Lang l = c.lang();
  return c.Run(&Stub::RevealReporter, req, [&](const v1::RevealReporterResponse& r) {
    std::cout << T(l, "举报人信息（本次查看已记入线索历史，不可再次查看）\n",
                   "reporter (this look is recorded in the clue's history and cannot be repeated)\n");
    FieldTable t(l);
    t.Add("线索", "clue", r.request().clue_number());
    t.Add("匿名", "anonymous", YesNo(l, r.reporter().anonymous()));
    t.Add("姓名", "name", r.reporter().name());
    t.Add("联系方式", "contact", r.reporter().contact());
    t.Add("身份证号", "id number", r.reporter().id_number());
    t.Print(std::cout);
  });
}

int Show(ClueClient& c, const RevealArgs& a) {
  v1::GetRevealRequestRequest req;
  req.set_reveal_request_id(a.target);
  return c.Run(&Stub::GetRevealRequest, req, [&](const v1::RevealRequest& r) { PrintRevealRequest(c, r); });
}

struct ListArgs {
  bool mine = false;  // my own requests instead of my queue as a custodian
  std::string clue;   // only this clue (id or number)
  Paging paging;
};

int List(ClueClient& c, const ListArgs& a) {
  v1::ListRevealRequestsRequest req;
  req.set_mine(a.mine);
  if (!a.clue.empty()) {
    v1::Clue cl;
    if (int rc = c.Find(a.clue, false, &cl); rc != kExitOk) return rc;
    req.set_clue_id(cl.id());
  }
  const Lang l = c.lang();
  const char* none = a.mine ? T(l, "没有查看举报人的申请\n", "no reveal requests\n")
                            : T(l, "没有待您审批的申请\n", "no requests awaiting your decision\n");
  return c.List(
      &Stub::ListRevealRequests, req, a.paging, &v1::ListRevealRequestsResponse::mutable_requests, none,
      [&](const auto& requests) {
        std::vector<std::vector<std::string>> rows;
        for (const auto& r : requests) {
          rows.push_back({r.id(), r.clue_number(), RevealStateLabel(l, r.state()), c.UserName(r.requester()),
                          std::to_string(r.approvals()) + "/" + std::to_string(r.approvals_needed()),
                          Truncate(r.reason(), 24), BeijingTime(r.requested_at()), BeijingTime(r.expires_at())});
        }
        PrintTable(std::cout,
                   {T(l, "申请编号", "request id"), T(l, "线索", "clue"), T(l, "状态", "state"),
                    T(l, "申请人", "requester"), T(l, "批准数", "approvals"), T(l, "理由", "reason"),
                    T(l, "申请时间", "requested"), T(l, "查看期限", "usable until")},
                   rows);
      });
}

}  // namespace

void AddClueRevealCommands(CLI::App* clue, Commands& commands) {
  const char* kRequestHelp = "查看申请编号 reveal request id";
  auto reveal = [&](const char* name, const char* help, const char* target, const char* target_help,
                    int (*fn)(ClueClient&, const RevealArgs&)) {
    auto added = commands.Add(clue, name, help, fn);
    added.cmd->add_option(target, added.args->target, target_help)->required();
    AddRequestIdOption(added.cmd, &added.args->request_id);
    return added;
  };
  {
    auto [cmd, a] =
        reveal("reveal-request", "申请查看举报人（需审批人批准） ask to see the reporter (custodians decide)", "CLUE",
               "线索ID或编号 clue id or number", RevealRequest);
    cmd->add_option("--reason", a->reason, "申请理由（必填） reason (required)");
  }
  {
    auto [cmd, a] = reveal("reveal-approve", "批准查看举报人的申请（审批人） approve a reveal request (custodian)",
                           "REQUEST", kRequestHelp, Approve);
    cmd->add_option("--reason", a->reason, "意见 comment");
  }
  {
    auto [cmd, a] = reveal("reveal-refuse", "拒绝查看举报人的申请（审批人） refuse a reveal request (custodian)",
                           "REQUEST", kRequestHelp, Refuse);
    cmd->add_option("--reason", a->reason, "拒绝理由（必填） reason (required)");
  }
  reveal("reveal", "查看举报人（申请人，批准后一次，记入历史） see the reporter: the requester, once, after approval",
         "REQUEST", kRequestHelp, Reveal);
  {
    auto [cmd, a] = commands.Add(clue, "reveal-show", "查看申请状态 show a reveal request", Show);
    cmd->add_option("REQUEST", a->target, kRequestHelp)->required();
  }
  {
    auto [cmd, a] = commands.Add(
        clue, "reveals",
        "查看举报人的申请：待我审批的（审批人），或 --mine 我的申请 reveal requests: my queue, or --mine", List);
    cmd->add_flag("--mine", a->mine, "我提出的申请 requests I made");
    cmd->add_option("--clue", a->clue, "只看该线索（ID或编号） only this clue (id or number)");
    AddPagingOptions(cmd, &a->paging, 200);
  }
}

}  // namespace sm::smctl
