// smctl inspection check list, get, assign, conclude: 一案双查, the accountability checks on
// the principal (主体责任) and supervising (监督责任) leaders of a unit where a clue concluded in
// form 2 or above; inspection-service opens them from clue events, the inspection unit of
// that level works them.
#include <iostream>

#include "tools/smctl/audit_labels.h"
#include "tools/smctl/clue_labels.h"
#include "tools/smctl/inspection_client.h"
#include "tools/smctl/inspection_commands.h"
#include "tools/smctl/inspection_labels.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
using Stub = v1::InspectionService::Stub;
namespace {

void PrintCheckDone(InspectionClient& c, const v1::AccountabilityCheckReply& r, const char* zh, const char* en) {
  const Lang l = c.lang();
  const v1::AccountabilityCheck& k = r.check();
  std::cout << T(l, zh, en) << T(l, "：", ": ") << k.id() << "\n"
            << T(l, "责任：", "duty: ") << Label(l, LeaderDuties(), k.duty()) << "  " << T(l, "领导：", "leader: ")
            << CheckLeaderText(l, k) << "  " << T(l, "结论：", "outcome: ") << CheckOutcomeText(l, k) << "  "
            << T(l, "版本：", "version: ") << k.version() << "\n";
  PrintReplayed(l, r.mutation().replayed());
}

struct ListArgs {
  std::string clue;    // id or number
  std::string leader;  // badge or id
  std::string unit;    // subject unit: code or id
  bool open = false;
  bool overdue = false;
  Paging paging;
};

int List(InspectionClient& c, const ListArgs& a) {
  v1::ListAccountabilityChecksRequest req;
  std::string id;
  if (int rc = c.dir.PersonIdIfGiven(a.leader, &id); rc != kExitOk) return rc;
  req.set_leader_person_id(id);
  if (int rc = c.dir.UnitIdIfGiven(a.unit, &id); rc != kExitOk) return rc;
  req.set_subject_unit_id(id);
  req.set_open_only(a.open);
  req.set_overdue_only(a.overdue);
  const bool by_number = !a.clue.empty() && !IsUuid(a.clue);
  if (!by_number) req.set_clue_id(Lower(a.clue));
  if (by_number) {  // checks carry the clue's number; the service filters by id only
    v1::ListAccountabilityChecksResponse all;
    req.set_page_size(200);
    if (grpc::Status s = c.Gather(&Stub::ListAccountabilityChecks, req, true,
                                  &v1::ListAccountabilityChecksResponse::mutable_checks, &all);
        !s.ok()) {
      return c.Fail(s);
    }
    v1::ListAccountabilityChecksResponse mine;
    for (const auto& k : all.checks()) {
      if (Upper(k.clue_number()) == Upper(a.clue)) *mine.add_checks() = k;
    }
    return c.Show(mine, [&](const v1::ListAccountabilityChecksResponse& r) {
      if (r.checks().empty()) {
        std::cout << T(c.lang(), "没有符合条件的一案双查\n", "no matching accountability checks\n");
      } else {
        PrintChecks(c, r.checks());
      }
    });
  }
  return c.List(&Stub::ListAccountabilityChecks, req, a.paging, &v1::ListAccountabilityChecksResponse::mutable_checks,
                T(c.lang(), "没有符合条件的一案双查\n", "no matching accountability checks\n"),
                [&](const auto& checks) { PrintChecks(c, checks); });
}

struct CheckArgs {
  std::string check;  // UUID or id prefix
};

int Get(InspectionClient& c, const CheckArgs& a) {
  v1::AccountabilityCheck k;
  if (int rc = c.FindCheck(a.check, true, &k); rc != kExitOk) return rc;
  return c.Show(k, [&](const v1::AccountabilityCheck& k) {
    const Lang l = c.lang();
    FieldTable t(l);
    t.Add("ID", "ID", k.id());
    t.Add("线索编号", "clue number", k.clue_number());
    t.AddIf("线索来源", "clue source", Label(l, ClueSources(), k.clue_source()));
    t.AddIf("结论形态", "form", FormLabel(l, k.form()));
    t.Add("问题单位", "unit", c.dir.UnitName(k.subject_unit_id()));
    t.AddIf("被反映人", "subject", c.dir.PersonName(k.subject_person_id()));
    t.Add("责任", "duty", Label(l, LeaderDuties(), k.duty()));
    t.Add("责任领导", "leader", CheckLeaderText(l, k));
    t.AddIf("领导所在单位", "leader's unit", c.dir.UnitName(k.leader_unit_id()));
    t.Add("承办单位", "owner unit", c.dir.UnitName(k.owner_unit_id()));
    t.AddIf("承办人", "owner", c.dir.PersonName(k.owner_person_id()));
    t.Add("期限", "deadline", BeijingTime(k.deadline_at()) + (k.overdue() ? T(l, "（逾期）", " (overdue)") : ""));
    t.Add("结论", "outcome", CheckOutcomeText(l, k));
    t.AddIf("说明", "note", k.outcome_note());
    t.AddIf("办结人", "concluded by", c.UserName(k.concluded_by()));
    t.AddIf("办结时间", "concluded", BeijingTime(k.concluded_at()));
    if (k.referral().state() != v1::REFERRAL_STATE_UNSPECIFIED) {
      t.Add("移送状态", "referral", ReferralLabel(l, k.referral().state()));
      t.Add("移送至", "referred to", c.dir.UnitName(k.referral().to_unit_id()));
      t.AddIf("移送错误", "referral error", k.referral().last_error());
    }
    t.Add("启动时间", "opened", BeijingTime(k.created_at()));
    t.Add("版本", "version", std::to_string(k.version()));
    t.Print(std::cout);
  });
}

// What assign and conclude share: CHECK, and the step's request id and expected version.
struct StepArgs {
  std::string check;  // UUID or id prefix
  std::string request_id;
  int64_t version = 0;  // 0: read the check for it
};

// Finds CHECK, fills `req`'s request id, check id and expected version, and runs the step.
// Returns an exit code.
template <typename Req>
int RunStep(InspectionClient& c, const StepArgs& a,
            grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Req&, v1::AccountabilityCheckReply*), Req req,
            const char* zh, const char* en) {
  v1::AccountabilityCheck k;
  if (int rc = c.FindCheck(a.check, a.version <= 0, &k); rc != kExitOk) return rc;
  req.set_request_id(RequestIdOr(a.request_id));
  req.set_check_id(k.id());
  req.set_expected_version(VersionOr(a.version, k.version()));
  return c.Run(rpc, req, [&](const v1::AccountabilityCheckReply& r) { PrintCheckDone(c, r, zh, en); });
}

struct AssignArgs : StepArgs {
  std::string to;  // badge or id
};

int Assign(InspectionClient& c, const AssignArgs& a) {
  v1::AssignAccountabilityCheckRequest req;
  std::string person;
  if (int rc = c.dir.PersonId(a.to, &person); rc != kExitOk) return rc;
  req.set_owner_person_id(person);
  return RunStep(c, a, &Stub::AssignAccountabilityCheck, std::move(req), "已指定承办人", "assigned");
}

struct ConcludeArgs : StepArgs {
  v1::AccountabilityOutcome outcome{};
  std::string to;  // referred: the discipline unit
  std::vector<v1::ClueCategory> categories;
  std::string note;
};

int Conclude(InspectionClient& c, const ConcludeArgs& a) {
  v1::ConcludeAccountabilityCheckRequest req;
  req.set_outcome(a.outcome);
  req.set_note(a.note);
  for (auto cat : a.categories) req.add_categories(cat);
  std::string to;
  if (int rc = c.dir.UnitIdIfGiven(a.to, &to); rc != kExitOk) return rc;
  req.set_to_unit_id(to);
  return RunStep(c, a, &Stub::ConcludeAccountabilityCheck, std::move(req), "一案双查已办结", "concluded");
}

}  // namespace

void AddInspectionCheckCommands(CLI::App* inspection, Commands& commands) {
  CLI::App* check = AddGroup(inspection, "check", "一案双查（领导责任追究） accountability checks on leaders");
  {
    auto [cmd, a] = commands.Add(check, "list", "列出一案双查 list accountability checks", List);
    cmd->add_option("--clue", a->clue, "线索ID或编号 clue id or number");
    cmd->add_option("--leader", a->leader, "责任领导（警号或ID） leader (badge or id)");
    cmd->add_option("--unit", a->unit, "问题单位（代码或ID） unit of the violation (code or id)");
    cmd->add_flag("--open", a->open, "只看办理中的 open only");
    cmd->add_flag("--overdue", a->overdue, "只看逾期的 overdue only");
    AddPagingOptions(cmd, &a->paging, 200);
  }
  {
    auto [cmd, a] = commands.Add(check, "get", "查看一案双查 show an accountability check", Get);
    cmd->add_option("CHECK", a->check, "ID或其前 8 位以上 id or a prefix of at least 8")->required();
  }
  {
    auto [cmd, a] = commands.Add(check, "assign", "指定承办人 assign to an inspector", Assign);
    cmd->add_option("CHECK", a->check, "ID或其前 8 位以上 id or a prefix of at least 8")->required();
    cmd->add_option("--to", a->to, "承办督察（警号或ID） inspector (badge or id)")->required();
    AddRequestIdOption(cmd, &a->request_id);
    AddVersionOption(cmd, &a->version);
  }
  {
    auto [cmd, a] = commands.Add(check, "conclude", "办结 conclude", Conclude);
    cmd->add_option("CHECK", a->check, "ID或其前 8 位以上 id or a prefix of at least 8")->required();
    AddChoiceOption(cmd, "--outcome", &a->outcome, AccountabilityOutcomes(), "结论 outcome")->required();
    cmd->add_option("--to", a->to, "移送纪检监察时的接收单位（代码或ID） referred: discipline unit (code or id)");
    AddChoicesOption(cmd, "--category", &a->categories, ClueCategories(),
                     "移送时的线索类别（默认廉洁纪律） referred: clue category (repeat)")
        ->delimiter(',')
        ->allow_extra_args(false);
    cmd->add_option("--note", a->note, "说明（必填） note (required)")->required();
    AddRequestIdOption(cmd, &a->request_id);
    AddVersionOption(cmd, &a->version);
  }
}

}  // namespace sm::smctl
