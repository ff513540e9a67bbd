// `<service> rectification add, progress, submit, review, reopen, get, list`: the commands of
// the shared rectification piece (rectification.proto, common/rectification.h), written once
// for any service that serves its RPCs. `C` is the service's client (a Client<Grpc>) with
//   int FindFinding(const std::string& key, bool fetch, Finding* out);
//   int FindRect(const std::string& key, bool fetch, v1::Rectification* out);
//   std::string FindingNumber(const std::string& finding_id);
// (InspectionClient and AuditClient.)
#pragma once

#include <iostream>
#include <string>
#include <vector>

#include "supervision/v1/rectification.pb.h"
#include "tools/smctl/audit_labels.h"
#include "tools/smctl/command.h"

namespace sm::smctl {

// After a step: the rectification's id, finding, state, deadline and version (and the
// look-back window once signed off; the replay note).
template <typename C>
void PrintRectificationDone(C& c, const ::supervision::v1::RectificationReply& r, const char* zh, const char* en) {
  const Lang l = c.lang();
  const ::supervision::v1::Rectification& x = r.rectification();
  std::cout << T(l, zh, en) << T(l, "：", ": ") << x.id() << "\n"
            << T(l, "问题：", "finding: ") << c.FindingNumber(x.finding_id()) << "  " << T(l, "状态：", "state: ")
            << Label(l, RectificationStates(), x.state()) << "  " << T(l, "整改期限：", "deadline: ")
            << BeijingTime(x.deadline_at()) << "  " << T(l, "版本：", "version: ") << x.version() << "\n";
  if (x.state() == ::supervision::v1::RECTIFICATION_STATE_SIGNED_OFF) {
    std::cout << T(l, "回头看截止：", "look-back until: ") << BeijingTime(x.lookback_until());
    if (x.spot_check()) std::cout << "  " << T(l, "（已抽中复核）", "(selected for a spot check)");
    std::cout << "\n";
  }
  PrintReplayed(l, r.mutation().replayed());
}

// Rectifications as a table: id, finding, measure, owner, state, deadline, overdue, notes.
template <typename C>
void PrintRectificationTable(C& c, const google::protobuf::RepeatedPtrField<::supervision::v1::Rectification>& rects) {
  const Lang l = c.lang();
  std::vector<std::vector<std::string>> rows;
  for (const auto& x : rects) {
    const std::string flags =
        Join({x.spot_check() ? T(l, "抽查复核", "spot check") : "",
              x.reopened() > 0 ? T(l, "回头看×", "reopened ×") + std::to_string(x.reopened()) : ""},
             T(l, "、", ", "));
    rows.push_back({x.id(), c.FindingNumber(x.finding_id()), Truncate(x.measure(), 24),
                    c.dir.UnitName(x.owner_unit_id()), Label(l, RectificationStates(), x.state()),
                    BeijingTime(x.deadline_at()), x.overdue() ? T(l, "是", "yes") : "", flags});
  }
  PrintTable(std::cout,
             {"ID", T(l, "问题编号", "finding"), T(l, "整改措施", "measure"), T(l, "责任单位", "owner unit"),
              T(l, "状态", "state"), T(l, "整改期限", "deadline"), T(l, "逾期", "overdue"), T(l, "备注", "notes")},
             rows);
}

template <typename C, typename Finding>
struct RectificationCommands {
  using Stub = typename C::Stub;
  using Reply = ::supervision::v1::RectificationReply;

  struct AddArgs {
    std::string finding;
    std::string measure;
    std::string owner;  // unit code or id; default: the finding's unit
    int days = 0;       // working days; 0 = the service's default
    std::string request_id;
  };
  // The commands on one rectification; each reads what it needs.
  struct StepArgs {
    std::string rect;  // UUID, or a unique prefix of one (8+ characters)
    std::string note;
    std::vector<std::string> evidence;
    std::string summary;
    bool approve = false;
    bool reject = false;
    std::string reason;
    std::string request_id;
    int64_t version = 0;
  };
  struct ListArgs {
    std::string finding;
    std::string owner;
    ::supervision::v1::RectificationState state{};
    bool overdue = false;
    Paging paging;
  };

  static int Add(C& c, const AddArgs& a) {
    ::supervision::v1::AddRectificationRequest req;
    std::string owner;
    if (int rc = c.dir.UnitIdIfGiven(a.owner, &owner); rc != kExitOk) return rc;
    req.set_owner_unit_id(owner);
    Finding f;
    if (int rc = c.FindFinding(a.finding, false, &f); rc != kExitOk) return rc;
    req.set_request_id(RequestIdOr(a.request_id));
    req.set_finding_id(f.id());
    req.set_measure(a.measure);
    req.set_working_days(a.days);
    return c.Run(&Stub::AddRectification, req, [&](const Reply& r) {
      PrintRectificationDone(c, r, "已下达整改", "rectification set");
      std::cout << T(c.lang(), "责任单位：", "owner unit: ") << c.dir.UnitName(r.rectification().owner_unit_id())
                << "\n";
    });
  }

  // Fills the request id, the rectification id and, where the request has one, the version.
  template <typename Req>
  static int Step(C& c, const StepArgs& a, typename C::template Rpc<Req, Reply> rpc, Req req, const char* zh,
                  const char* en) {
    constexpr bool kVersioned = requires { req.set_expected_version(int64_t{}); };
    ::supervision::v1::Rectification x;
    if (int rc = c.FindRect(a.rect, kVersioned && a.version <= 0, &x); rc != kExitOk) return rc;
    req.set_request_id(RequestIdOr(a.request_id));
    req.set_rectification_id(x.id());
    if constexpr (kVersioned) req.set_expected_version(VersionOr(a.version, x.version()));
    return c.Run(rpc, req, [&](const Reply& r) { PrintRectificationDone(c, r, zh, en); });
  }

  static int Progress(C& c, const StepArgs& a) {
    ::supervision::v1::RecordProgressRequest req;
    req.set_note(a.note);
    for (const auto& ref : a.evidence) req.add_evidence_refs(ref);
    return Step(c, a, &Stub::RecordProgress, req, "已记录整改进展", "progress recorded");
  }
  static int Submit(C& c, const StepArgs& a) {
    ::supervision::v1::SubmitRectificationRequest req;
    req.set_summary(a.summary);
    return Step(c, a, &Stub::SubmitRectification, req, "已提交整改", "submitted");
  }
  static int Review(C& c, const StepArgs& a) {
    if (a.approve == a.reject) {
      return c.ctx.FailLocal(kExitUsage, "请给出 --approve（销号）或 --reject --reason …（退回）之一",
                             "give one of --approve (sign off) or --reject --reason ... (send back)");
    }
    ::supervision::v1::ReviewRectificationRequest req;
    req.set_approve(a.approve);
    req.set_reason(a.reason);
    return Step(c, a, &Stub::ReviewRectification, req, a.approve ? "已销号" : "已退回整改",
                a.approve ? "signed off" : "sent back");
  }
  static int Reopen(C& c, const StepArgs& a) {
    ::supervision::v1::ReopenRectificationRequest req;
    req.set_reason(a.reason);
    return Step(c, a, &Stub::ReopenRectification, req, "已重新打开（回头看）", "reopened (look-back)");
  }

  static int Get(C& c, const StepArgs& a) {
    ::supervision::v1::Rectification x;
    if (int rc = c.FindRect(a.rect, true, &x); rc != kExitOk) return rc;
    return c.Show(x, [&](const ::supervision::v1::Rectification& x) {
      const Lang l = c.lang();
      FieldTable t(l);
      t.Add("ID", "ID", x.id());
      t.Add("问题", "finding", c.FindingNumber(x.finding_id()));
      t.Add("整改措施", "measure", x.measure());
      t.Add("责任单位", "owner unit", c.dir.UnitName(x.owner_unit_id()));
      t.Add("状态", "state", Label(l, RectificationStates(), x.state()));
      t.Add("整改期限", "deadline", BeijingTime(x.deadline_at()));
      t.Add("逾期", "overdue", YesNo(l, x.overdue()));
      t.AddIf("最近进展", "last note", x.last_note());
      t.AddIf("销号时间", "signed off", BeijingTime(x.signed_off_at()));
      t.AddIf("回头看截止", "look-back until", BeijingTime(x.lookback_until()));
      if (x.spot_check()) t.Add("抽查复核", "spot check", YesNo(l, true));
      if (x.reopened() > 0) t.Add("回头看重新整改", "reopened", std::to_string(x.reopened()));
      t.Add("下达时间", "set", BeijingTime(x.created_at()));
      t.Add("版本", "version", std::to_string(x.version()));
      t.Print(std::cout);
    });
  }

  static int List(C& c, const ListArgs& a) {
    ::supervision::v1::ListRectificationsRequest req;
    req.set_state(a.state);
    std::string owner;
    if (int rc = c.dir.UnitIdIfGiven(a.owner, &owner); rc != kExitOk) return rc;
    req.set_owner_unit_id(owner);
    if (!a.finding.empty()) {
      Finding f;
      if (int rc = c.FindFinding(a.finding, false, &f); rc != kExitOk) return rc;
      req.set_finding_id(f.id());
    }
    req.set_overdue_only(a.overdue);
    return c.List(&Stub::ListRectifications, req, a.paging,
                  &::supervision::v1::ListRectificationsResponse::mutable_rectifications,
                  T(c.lang(), "没有符合条件的整改\n", "no matching rectifications\n"),
                  [&](const auto& rects) { PrintRectificationTable(c, rects); });
  }

  // Adds `rectification …` to `parent`; `get` only where the service has GetRectification.
  static void Register(CLI::App* parent, Commands& commands) {
    CLI::App* rect = AddGroup(parent, "rectification", "整改 rectifications");
    {
      auto [cmd, a] = commands.Add(rect, "add", "下达整改 set a rectification for a finding", Add);
      cmd->add_option("FINDING", a->finding, "问题ID或编号 finding id or number")->required();
      cmd->add_option("--measure", a->measure, "整改措施 measure");
      cmd->add_option("--owner", a->owner, "整改责任单位（默认问题所涉单位） owner unit (default: the finding's unit)");
      cmd->add_option("--days", a->days, "整改期限（工作日） deadline in working days")->check(CLI::Range(1, 365));
      AddRequestIdOption(cmd, &a->request_id);
    }
    // A command on RECT; `changes` adds --request-id, `versioned` --version.
    auto on_rect = [&](const char* name, const char* help, bool changes, bool versioned,
                       int (*fn)(C&, const StepArgs&)) {
      auto added = commands.Add(rect, name, help, fn);
      added.cmd
          ->add_option("RECT", added.args->rect,
                       "整改ID（或至少前 8 位） rectification id (or its first 8+ characters)")
          ->required();
      if (changes) AddRequestIdOption(added.cmd, &added.args->request_id);
      if (versioned) AddVersionOption(added.cmd, &added.args->version);
      return added;
    };
    {
      auto [cmd, a] =
          on_rect("progress", "记录整改进展（责任单位） record progress (owner unit)", true, false, Progress);
      cmd->add_option("--note", a->note, "进展情况（必填） progress note (required)");
      cmd->add_option("--evidence", a->evidence, "证据索引（可重复） evidence reference (repeat)")
          ->allow_extra_args(false);
    }
    {
      auto [cmd, a] =
          on_rect("submit", "提交整改结果待核验（责任单位） submit for review (owner unit)", true, true, Submit);
      cmd->add_option("--summary", a->summary, "整改情况说明（必填） summary (required)");
    }
    {
      auto [cmd, a] = on_rect("review", "核验：销号或退回 sign off or send back (reviewing unit)", true, true, Review);
      auto* approve = cmd->add_flag("--approve", a->approve, "核验通过，销号 sign off");
      cmd->add_flag("--reject", a->reject, "退回重新整改 send back to the owner")->excludes(approve);
      cmd->add_option("--reason", a->reason, "理由（退回时必填） reason (required to reject)");
    }
    {
      auto [cmd, a] =
          on_rect("reopen", "回头看：重新打开已销号的整改 reopen a signed-off rectification", true, true, Reopen);
      cmd->add_option("--reason", a->reason, "理由（必填） reason (required)");
    }
    if constexpr (requires { &Stub::GetRectification; }) {
      on_rect("show", "查看整改（含回头看、抽查复核） show a rectification", false, false, Get).cmd->alias("get");
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
};

}  // namespace sm::smctl
