// smctl clue show, history, verify, duplicates, list, verify-all, checkpoints export, stats:
// the read side of clues (docs/smctl.md § Clues).
#include <iostream>
#include <map>

#include "common/uuid.h"
#include "tools/smctl/chain_commands.h"
#include "tools/smctl/clue_client.h"
#include "tools/smctl/clue_commands.h"
#include "tools/smctl/clue_labels.h"
#include "tools/smctl/history.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
using Stub = v1::ClueService::Stub;
namespace {

std::string EventData(ClueClient& c, const std::string& json) {
  const Lang l = c.lang();
  static const KeyLabels kKeys = {
      {"from_unit_id", {"从", "from"}},
      {"to_unit_id", {"至", "to"}},
      {"by_unit_id", {"退回单位", "by"}},
      {"origin_unit_id", {"来源单位", "origin"}},
      {"feedback_to_unit_id", {"反馈至", "feedback to"}},
      {"holding_unit_id", {"承办单位", "holding unit"}},
      {"escalated_to_unit_id", {"督办单位", "escalated to"}},
      {"unit_id", {"单位", "unit"}},
      {"handler_person_id", {"承办人", "handler"}},
      {"approved_by", {"批准人", "approved by"}},
      {"reason", {"理由", "reason"}},
      {"method", {"方式", "method"}},
      {"form", {"形态", "form"}},
      {"case_filed", {"立案", "case filed"}},
      {"source", {"来源", "source"}},
      {"channel", {"受理方式", "channel"}},
      {"anonymous", {"匿名", "anonymous"}},
      {"note", {"说明", "note"}},
      {"text", {"内容", "text"}},
      {"stage", {"阶段", "stage"}},
      {"from", {"原时限", "from"}},
      {"to", {"新时限", "to"}},
      {"working_days", {"延长工作日", "extra working days"}},
      {"extra_working_days", {"延长工作日", "extra working days"}},
      {"attachments", {"附件", "attachments"}},
      {"merged", {"并入线索", "merged in"}},
      {"primary_clue_id", {"并入主线索", "merged into"}},
      {"reveal_request_id", {"申请编号", "reveal request"}},
      {"requester", {"申请人", "requester"}},
      {"custodian", {"审批人", "custodian"}},
      {"approvals", {"已批准", "approvals"}},
      {"approvals_needed", {"需批准", "approvals needed"}},
      {"custodians", {"审批人总数", "custodians"}},
      {"state", {"状态", "state"}},
      {"expires_at", {"查看期限", "usable until"}},
  };
  auto text_of = [&](const std::string& key, const nlohmann::json& value) -> std::optional<std::string> {
    std::string text;
    if (value.is_string()) {
      const std::string v = value.get<std::string>();
      if (v.empty()) return std::nullopt;
      if (EndsWith(key, "unit_id") && IsUuid(v))
        text = c.dir.UnitName(v);
      else if ((EndsWith(key, "person_id") || key == "approved_by") && IsUuid(v))
        text = c.dir.PersonName(v);
      else if (key == "stage")
        text = StageLabel(l, v);
      else if (LooksLikeEnumName(v))
        text = ClueEnumNameLabel(l, v);
      else
        text = v;
    } else if (key == "form" && value.is_number_integer()) {
      text = FormLabel(l, value.get<int>());
    } else if ((key == "from" || key == "to" || EndsWith(key, "_at")) && value.is_number_integer() &&
               value.get<int64_t>() > 1000000000) {
      google::protobuf::Timestamp t;
      t.set_seconds(value.get<int64_t>());
      text = BeijingTime(t);
    } else if (value.is_boolean()) {
      text = value.get<bool>() ? T(l, "是", "yes") : T(l, "否", "no");
    } else if (value.is_array() && (key == "attachments" || key == "merged")) {
      // Attachments by name and short hash; merged clues by number.
      std::vector<std::string> items;
      for (const auto& item : value) {
        if (!item.is_object()) return std::nullopt;
        if (key == "attachments") {
          std::string sha = item.value("sha256", "");
          items.push_back(item.value("name", "?") + (sha.empty() ? "" : " (sha256 " + sha.substr(0, 12) + "…)"));
        } else {
          items.push_back(item.value("number", item.value("clue_id", "?")));
        }
      }
      if (items.empty()) return std::nullopt;
      text = Join(items, T(l, "、", ", "));
    } else if (value.is_object()) {
      std::vector<std::string> items;
      for (const auto& [k, v] : value.items())
        items.push_back(k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
      text = Join(items, ", ");
    } else {
      text = value.dump();
    }
    return text;
  };
  return EventDataText(l, json, kKeys, text_of);
}

struct ClueArgs {
  std::string clue;  // id or number
};

int Show(ClueClient& c, const ClueArgs& a) {
  v1::Clue cl;
  if (int rc = c.Find(a.clue, true, &cl); rc != kExitOk) return rc;
  return c.Show(cl, [&](const v1::Clue& cl) {
    const Lang l = c.lang();
    std::vector<std::string> subjects, categories;
    for (const auto& subj : cl.subjects()) {
      std::string name = subj.display_name();
      if (subj.subject_case() == v1::ClueSubject::kUnitId) {
        if (name.empty()) name = c.dir.UnitName(subj.unit_id());
        name += T(l, "（单位）", " (unit)");
      } else if (name.empty()) {
        name = c.dir.PersonName(subj.person_id());
      }
      subjects.push_back(name);
    }
    for (int cat : cl.categories()) categories.push_back(Label(l, ClueCategories(), cat));
    std::string deadline = BeijingTime(cl.deadline_at());
    if (!deadline.empty() && !cl.deadline_stage().empty()) deadline += " (" + StageLabel(l, cl.deadline_stage()) + ")";
    std::string details = cl.details();
    if (cl.details_withheld()) details = T(l, "（有详情，无权查看）", "(withheld: not for this caller)");
    std::string source = Label(l, ClueSources(), cl.source());
    if (!cl.source_system().empty()) source += " (" + cl.source_system() + ": " + cl.source_ref() + ")";
    const auto& o = cl.outcome();
    const bool has_outcome = o.form() != v1::SUPERVISION_FORM_UNSPECIFIED || !o.feedback().empty();

    FieldTable t(l);  // Add: always shown; AddIf: only with a value
    t.Add("编号", "number", cl.number());
    t.Add("ID", "ID", cl.id());
    t.Add("状态", "state", Label(l, ClueStates(), cl.state()));
    t.Add("来源", "source", source);
    t.Add("受理方式", "channel", Label(l, ClueChannels(), cl.channel()));
    t.Add("线索类别", "categories", Join(categories, T(l, "、", ", ")));
    t.Add("被反映人", "subjects", Join(subjects, T(l, "、", ", ")));
    t.Add("摘要", "summary", cl.summary());
    t.AddIf("详情", "details", details);
    t.AddIf("严重程度", "severity", Label(l, Severities(), cl.severity()));
    t.Add("举报人", "reporter",
          cl.reporter_on_file() ? T(l, "署名（已加密存档）", "named (on file, encrypted)")
                                : T(l, "匿名或无", "anonymous or none"));
    t.Add("来源单位", "origin unit", c.dir.UnitName(cl.origin_unit_id()));
    t.Add("承办单位", "holding unit", c.dir.UnitName(cl.holding_unit_id()));
    t.AddIf("移送至", "offered to", c.dir.UnitName(cl.offered_to_unit_id()));
    t.AddIf("承办人", "handler", c.dir.PersonName(cl.handler_person_id()));
    t.Add("收到时间", "received", BeijingTime(cl.received_at()));
    t.AddIf("登记时间", "registered", BeijingTime(cl.registered_at()));
    t.AddIf("处置方式", "disposition", Label(l, DispositionMethods(), cl.disposition().method()));
    t.AddIf("处置理由", "disposition reason", cl.disposition().reason());
    t.AddIf("处置时间", "disposed", BeijingTime(cl.disposition().decided_at()));
    t.Add("办理时限", "deadline", deadline.empty() ? T(l, "无（不计时）", "none (clock stopped)") : deadline);
    t.Add("是否逾期", "overdue", YesNo(l, cl.overdue()));
    t.AddIf("结论形态", "form", FormLabel(l, o.form()));
    if (has_outcome) t.AddIf("是否立案", "case filed", YesNo(l, o.case_filed()));
    t.AddIf("处分", "sanctions",
            Join(std::vector<std::string>(o.sanctions().begin(), o.sanctions().end()), T(l, "、", ", ")));
    t.AddIf("反馈", "feedback", o.feedback());
    t.AddIf("办结时间", "concluded", BeijingTime(o.concluded_at()));
    t.AddIf("同步介入", "intervened", cl.intervened() ? T(l, "是", "yes") : "");
    if (!cl.merged_into_id().empty()) {
      v1::GetClueRequest req;
      req.set_clue_id(cl.merged_into_id());
      v1::Clue primary;
      const bool named = c.Call(&Stub::GetClue, req, &primary).ok();
      t.AddIf("并入", "merged into", named ? primary.number() + " (" + cl.merged_into_id() + ")" : cl.merged_into_id());
    }
    t.Add("版本", "version", std::to_string(cl.version()));
    t.Print(std::cout);
  });
}

int History(ClueClient& c, const ClueArgs& a) {
  v1::Clue cl;
  if (int rc = c.Find(a.clue, false, &cl); rc != kExitOk) return rc;
  v1::GetClueHistoryRequest req;
  req.set_clue_id(cl.id());
  return c.History(&Stub::GetClueHistory, req, [&](const v1::GetClueHistoryResponse& resp) {
    PrintHistory(c.lang(), resp.events(), [&](const v1::ClueEvent& ev) {
      std::string actor = c.UserName(ev.actor());
      if (!ev.actor_unit_id().empty()) actor += " (" + c.dir.UnitName(ev.actor_unit_id()) + ")";
      return EventCells{ClueEventLabel(c.lang(), ev.type()), actor, EventData(c, ev.data_json())};
    });
  });
}

int Verify(ClueClient& c, const ClueArgs& a) {
  v1::Clue cl;
  if (int rc = c.Find(a.clue, false, &cl); rc != kExitOk) return rc;
  v1::VerifyChainRequest req;
  req.set_clue_id(cl.id());
  v1::VerifyChainResponse resp;
  if (grpc::Status st = c.Call(&Stub::VerifyChain, req, &resp); !st.ok()) return c.Fail(st);
  return PrintChainVerify(c.ctx, resp);
}

int Duplicates(ClueClient& c, const ClueArgs& a) {
  v1::Clue cl;
  if (int rc = c.Find(a.clue, false, &cl); rc != kExitOk) return rc;
  v1::ListDuplicatesRequest req;
  req.set_clue_id(cl.id());
  return c.Run(&Stub::ListDuplicates, req, [&](const v1::ListCluesResponse& resp) {
    if (resp.clues().empty()) {
      std::cout << T(c.lang(), "没有可并案的线索\n", "no merge candidates\n");
      return;
    }
    c.PrintClues(resp.clues());
  });
}

struct ListArgs {
  std::string holding;  // unit code or id
  std::string origin;   // unit code or id
  v1::ClueState state{};
  v1::ClueCategory category{};
  std::string subject;  // badge number or id
  bool overdue = false;
  std::string text;
  Paging paging;
};

int List(ClueClient& c, const ListArgs& a) {
  std::string holding, origin, subject;
  if (int rc = c.dir.UnitIdIfGiven(a.holding, &holding); rc != kExitOk) return rc;
  if (int rc = c.dir.UnitIdIfGiven(a.origin, &origin); rc != kExitOk) return rc;
  if (int rc = c.dir.PersonIdIfGiven(a.subject, &subject); rc != kExitOk) return rc;
  v1::ListCluesRequest req;
  req.set_holding_unit_id(holding);
  req.set_origin_unit_id(origin);
  req.set_subject_person_id(subject);
  req.set_state(a.state);
  req.set_category(a.category);
  req.set_overdue_only(a.overdue);
  req.set_text(a.text);
  return c.List(&Stub::ListClues, req, a.paging, &v1::ListCluesResponse::mutable_clues,
                T(c.lang(), "没有符合条件的线索\n", "no matching clues\n"),
                [&](const auto& clues) { c.PrintClues(clues); });
}

int VerifyAll(ClueClient& c, const NoArgs&) {
  v1::VerifyAllChainsResponse resp;
  if (grpc::Status st = c.Call(&Stub::VerifyAllChains, v1::VerifyAllChainsRequest(), &resp); !st.ok()) {
    return c.Fail(st);
  }
  ChainReport r{resp.intact(), resp.clues(), resp.checkpoint_id(), resp.checkpoint_problem(), {}};
  for (const auto& b : resp.broken()) r.broken.push_back({b.clue_id(), b.first_broken_seq(), b.problem()});
  return PrintChainReport(c.ctx, resp, r, "条线索", "clues");
}

int ExportCheckpoints(ClueClient& c, const CheckpointsArgs& a) {
  return ExportCheckpointLines(
      a.after, [&](const auto& req, auto* resp) { return c.Call(&Stub::ExportCheckpoints, req, resp); },
      [&](const grpc::Status& st) { return c.Fail(st); });
}

struct StatsArgs {
  std::string unit;  // code or id: clues held by it or below
};

int Stats(ClueClient& c, const StatsArgs& a) {
  v1::GetClueStatsRequest req;
  std::string unit;
  if (int rc = c.dir.UnitIdIfGiven(a.unit, &unit); rc != kExitOk) return rc;
  req.set_unit_id(unit);
  return c.Run(&Stub::GetClueStats, req, [&](const v1::ClueStats& stats) {
    const Lang l = c.lang();
    std::cout << T(l, "线索总数：", "total: ") << stats.total() << "  " << T(l, "逾期：", "overdue: ")
              << stats.overdue();
    if (stats.has_computed_at()) {
      std::cout << "  " << T(l, "统计时间：", "computed at: ") << BeijingTime(stats.computed_at(), true);
    }
    std::cout << "\n";
    auto section = [&](const char* zh, const char* en, const google::protobuf::RepeatedPtrField<v1::StatsCount>& counts,
                       bool units, bool forms) {
      if (counts.empty()) return;
      std::vector<std::vector<std::string>> rows;
      for (const auto& n : counts) {
        std::string key = ClueEnumNameLabel(l, n.key());
        if (units && IsUuid(n.key())) key = c.dir.UnitName(n.key());
        if (forms && n.key().size() == 1 && n.key()[0] >= '1' && n.key()[0] <= '4')
          key = FormLabel(l, n.key()[0] - '0');
        rows.push_back({key, std::to_string(n.count())});
      }
      std::cout << "\n";
      PrintTable(std::cout, {T(l, zh, en), T(l, "数量", "count")}, rows);
    };
    section("状态", "state", stats.by_state(), false, false);
    section("处置方式", "disposition method", stats.by_method(), false, false);
    section("四种形态", "form", stats.by_form(), false, true);
    section("线索类别", "category", stats.by_category(), false, false);
    section("来源", "source", stats.by_source(), false, false);
    section("被反映人类别", "subject kind", stats.by_subject_kind(), false, false);
    section("承办单位", "holding unit", stats.by_holding_unit(), true, false);
  });
}

}  // namespace

void AddClueReadCommands(CLI::App* clue, Commands& commands) {
  auto on_clue = [&](const char* name, const char* help, int (*fn)(ClueClient&, const ClueArgs&)) {
    auto [cmd, a] = commands.Add(clue, name, help, fn);
    cmd->add_option("CLUE", a->clue, "线索ID或编号（ID更快） clue id or number (an id is faster)")->required();
  };
  on_clue("show", "查看线索 show a clue", Show);
  on_clue("history", "线索办理历史 the clue's history", History);
  on_clue("verify", "校验历史哈希链 verify the history's hash chain (exit 1 when broken)", Verify);
  on_clue("duplicates", "可并案的线索（同一被反映人） merge candidates (same subject person)", Duplicates);
  {
    auto [cmd, a] = commands.Add(clue, "list", "查询线索 list clues", List);
    cmd->add_option("--holding", a->holding, "承办单位（代码或ID） holding unit (code or id)");
    cmd->add_option("--origin", a->origin, "来源单位（代码或ID） registering unit (code or id)");
    AddChoiceOption(cmd, "--state", &a->state, ClueStates(), "状态 state");
    AddChoiceOption(cmd, "--category", &a->category, ClueCategories(), "线索类别 category");
    cmd->add_option("--subject", a->subject, "被反映人（警号或ID） subject person (badge or id)");
    cmd->add_flag("--overdue", a->overdue, "只看逾期 overdue only");
    cmd->add_option("--text", a->text, "摘要包含 summary contains");
    AddPagingOptions(cmd, &a->paging, 500);
  }
  AddChainCommands(clue, commands, VerifyAll, ExportCheckpoints);
  {
    auto [cmd, a] = commands.Add(clue, "stats", "线索统计 clue statistics", Stats);
    cmd->add_option("--unit", a->unit, "范围：该单位及下级承办的线索 scope: clues held by this unit or below");
  }
}

}  // namespace sm::smctl
