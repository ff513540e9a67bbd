// smctl risk file (一人一档), score, scores, stats, history, verify, verify-all, checkpoints
// export; and `smctl risk` itself.
#include <iostream>
#include <map>

#include "tools/smctl/chain_commands.h"
#include "tools/smctl/history.h"
#include "tools/smctl/risk_client.h"
#include "tools/smctl/risk_commands.h"
#include "tools/smctl/risk_labels.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
using Stub = v1::RiskService::Stub;
namespace {

struct PersonArgs {
  std::string person;
};

void Heading(Lang l, const char* zh, const char* en) { std::cout << "\n" << T(l, zh, en) << "\n"; }

int File(RiskClient& c, const PersonArgs& a) {
  v1::GetPersonFileRequest req;
  std::string id;
  if (int rc = c.dir.PersonId(a.person, &id); rc != kExitOk) return rc;
  req.set_person_id(id);
  return c.Run(&Stub::GetPersonFile, req, [&](const v1::PersonFile& f) {
    const Lang l = c.lang();
    std::cout << T(l, "一人一档：", "personnel file: ") << f.person_name() << "\n";
    FieldTable head(l);
    head.Add("姓名", "name", c.dir.PersonName(f.person_id()));
    head.Add("单位", "unit", f.unit_name().empty() ? c.dir.UnitName(f.unit_id()) : f.unit_name());
    head.AddIf("岗位", "post", f.post_name());
    if (f.has_score()) head.Add("风险评分", "risk score", ScoreText(l, f.score()));
    head.Print(std::cout);

    if (f.has_score()) {
      Heading(l, "【评分说明】", "[score explained]");
      if (f.score().terms_size() == 0) std::cout << T(l, "（无计分信号）\n", "(no signals)\n");
      std::map<std::string, std::string> numbers;  // the signals' refs by their entries' numbers
      for (const auto& e : f.timeline()) {
        if (!e.number().empty()) numbers[e.ref()] = e.number();
      }
      for (const auto& t : f.talks()) {
        numbers[t.id()] = Label(l, TalkKinds(), t.kind()) + " " + BeijingTime(t.held_at()).substr(0, 10);
      }
      PrintScoreExplanation(c, f.score(), numbers);
    }
    if (f.risk_points_size() > 0) {
      Heading(l, "【岗位廉政风险点】", "[risk points of the post]");
      PrintPoints(c, f.risk_points());
    }
    Heading(l, "【时间线（新→旧）】", "[timeline, newest first]");
    if (f.timeline_size() == 0) std::cout << T(l, "（无）\n", "(none)\n");
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : f.timeline()) {
      std::string kind = FileKindLabel(l, e.kind());
      if (e.disciplinary()) kind += T(l, "（纪律处分性质）", " (disciplinary)");
      const std::string title = e.kind() == "talk" ? FileStateLabel(l, e.title()) : e.title();
      rows.push_back({BeijingTime(e.at()).substr(0, 10), FileSourceLabel(l, e.source()), kind, e.number(),
                      Truncate(title, 36), FileStateLabel(l, e.state())});
    }
    if (!rows.empty()) {
      PrintTable(std::cout,
                 {T(l, "日期", "date"), T(l, "来源", "source"), T(l, "类型", "kind"), T(l, "编号", "number"),
                  T(l, "标题", "title"), T(l, "状态", "state")},
                 rows);
    }
    if (f.items_size() > 0) {
      Heading(l, "【风险隐患】", "[risk items]");
      PrintItems(c, f.items());
      for (const auto& i : f.items()) {
        for (const auto& m : i.mitigations()) std::cout << "  " << i.number() << "  " << MitigationText(l, m) << "\n";
      }
    }
    if (f.talks_size() > 0) {
      Heading(l, "【谈话】", "[talks]");
      PrintTalks(c, f.talks(), true, false);
    }
    Heading(l, "【数据来源】", "[sources]");
    rows.clear();
    for (const auto& p : f.parts()) rows.push_back({FileSourceLabel(l, p.source()), FilePartText(l, p)});
    PrintTable(std::cout, {T(l, "来源", "source"), T(l, "状态", "state")}, rows);
    if (f.missing_size() > 0) {
      std::cout << T(l, "注意：以下服务未应答，档案不完整：",
                     "note: these services did not answer; the file is incomplete: ")
                << Join(std::vector<std::string>(f.missing().begin(), f.missing().end()), T(l, "、", ", ")) << "\n";
    }
  });
}

int Score(RiskClient& c, const PersonArgs& a) {
  v1::GetPersonScoreRequest req;
  std::string id;
  if (int rc = c.dir.PersonId(a.person, &id); rc != kExitOk) return rc;
  req.set_person_id(id);
  return c.Run(&Stub::GetPersonScore, req, [&](const v1::PersonScore& s) {
    const Lang l = c.lang();
    FieldTable t(l);
    t.Add("人员", "person", s.person_name().empty() ? c.dir.PersonName(s.id()) : s.person_name());
    t.Add("单位", "unit", c.dir.UnitName(s.unit_id()));
    t.Add("风险评分", "score", ScoreText(l, s));
    t.Add("计算时间", "as of", BeijingTime(s.as_of()));
    t.Add("越过阈值次数", "crossings", std::to_string(s.crossings()));
    t.Add("信号数", "signals", std::to_string(s.signals()));
    t.AddIf("规则版本", "rules", s.rules_version());
    t.Print(std::cout);
    std::cout << "\n";
    PrintScoreExplanation(c, s);
  });
}

struct ScoresArgs {
  std::string unit;
  double min_score = 0;
  bool above = false;
  Paging paging;
};

int Scores(RiskClient& c, const ScoresArgs& a) {
  v1::ListScoresRequest req;
  std::string id;
  if (int rc = c.dir.UnitIdIfGiven(a.unit, &id); rc != kExitOk) return rc;
  req.set_unit_id(id);
  req.set_min_score(a.min_score);
  req.set_above_only(a.above);
  req.set_page_size(a.paging.limit);
  req.set_page_token(a.paging.page_token);
  v1::ListScoresResponse all;
  if (grpc::Status st =
          c.Gather(&Stub::ListScores, req, a.paging.all_pages, &v1::ListScoresResponse::mutable_scores, &all);
      !st.ok()) {
    return c.Fail(st);
  }
  return c.Show(all, [&](const v1::ListScoresResponse& r) {
    const Lang l = c.lang();
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : r.scores()) {
      rows.push_back({s.person_name().empty() ? c.dir.PersonName(s.id()) : s.person_name(), c.dir.UnitName(s.unit_id()),
                      Points(s.score()), YesNo(l, s.score() >= s.threshold() && s.threshold() > 0),
                      std::to_string(s.signals())});
    }
    if (rows.empty()) {
      std::cout << T(l, "没有符合条件的评分\n", "no matching scores\n");
    } else {
      PrintTable(std::cout,
                 {T(l, "人员", "person"), T(l, "单位", "unit"), T(l, "评分", "score"), T(l, "预警", "alert"),
                  T(l, "信号数", "signals")},
                 rows);
    }
    rows.clear();
    for (const auto& u : r.units()) {
      rows.push_back({u.unit_name().empty() ? c.dir.UnitName(u.unit_id()) : u.unit_name(), Points(u.score()),
                      std::to_string(u.people()), std::to_string(u.above()), Points(u.max())});
    }
    if (!rows.empty()) {
      std::cout << "\n";
      PrintTable(std::cout,
                 {T(l, "单位", "unit"), T(l, "合计", "total"), T(l, "人数", "people"), T(l, "预警人数", "above"),
                  T(l, "最高", "max")},
                 rows);
    }
    PrintMoreResults(l, r.next_page_token());
  });
}

struct UnitArgs {
  std::string unit;
};

int Stats(RiskClient& c, const UnitArgs& a) {
  v1::GetRiskStatsRequest req;
  std::string id;
  if (int rc = c.dir.UnitIdIfGiven(a.unit, &id); rc != kExitOk) return rc;
  req.set_unit_id(id);
  return c.Run(&Stub::GetRiskStats, req, [&](const v1::RiskStats& s) {
    const Lang l = c.lang();
    FieldTable t(l);
    t.Add("风险隐患", "risk items", std::to_string(s.items()));
    t.Add("逾期隐患", "items overdue", std::to_string(s.items_overdue()));
    t.Add("化解措施", "mitigations",
          std::to_string(s.mitigations_done()) + "/" + std::to_string(s.mitigations()) + " (" +
              Percent(s.mitigations_done(), s.mitigations()) + ")");
    t.Add("逾期措施", "overdue", std::to_string(s.mitigations_overdue()));
    t.Add("已评分人数", "people scored", std::to_string(s.people_scored()));
    t.Add("预警人数", "people above", std::to_string(s.people_above()));
    if (s.from_cache()) t.Add("数据", "data", T(l, "缓存", "cached"));
    t.Print(std::cout);
    auto counts = [&](const char* zh, const char* en, const auto& list, bool units) {
      if (list.empty()) return;
      std::vector<std::vector<std::string>> rows;
      for (const auto& x : list) {
        rows.push_back({units ? c.dir.UnitName(x.key()) : RiskEnumNameLabel(l, x.key()), std::to_string(x.count())});
      }
      std::cout << "\n";
      PrintTable(std::cout, {T(l, zh, en), T(l, "数量", "count")}, rows);
    };
    counts("等级", "level", s.by_level(), false);
    counts("类别", "category", s.by_category(), false);
    counts("来源", "source", s.by_source(), false);
    counts("状态", "state", s.by_state(), false);
    counts("单位", "unit", s.by_unit(), true);
    counts("谈话类型", "talk kind", s.talks_by_kind(), false);
    if (s.talks_by_unit_month_size() > 0) {
      std::vector<std::vector<std::string>> rows;
      for (const auto& x : s.talks_by_unit_month()) {
        const size_t slash = x.key().rfind('/');
        rows.push_back({c.dir.UnitName(x.key().substr(0, slash)),
                        slash == std::string::npos ? "" : x.key().substr(slash + 1), std::to_string(x.count())});
      }
      std::cout << "\n";
      PrintTable(std::cout, {T(l, "单位", "unit"), T(l, "月份", "month"), T(l, "谈话", "talks")}, rows);
    }
    if (s.coverage_size() > 0) {
      std::vector<std::vector<std::string>> rows;
      for (const auto& x : s.coverage()) {
        rows.push_back({x.name(), std::to_string(x.screened()) + "/" + std::to_string(x.people()),
                        Percent(x.screened(), x.people())});
      }
      std::cout << "\n";
      PrintTable(std::cout, {T(l, "排查活动", "campaign"), T(l, "已排查", "screened"), T(l, "覆盖率", "coverage")},
                 rows);
    }
    if (s.score_bands_size() > 0) {
      std::vector<std::vector<std::string>> rows;
      for (const auto& b : s.score_bands())
        rows.push_back({c.dir.UnitName(b.unit_id()), b.band(), std::to_string(b.people())});
      std::cout << "\n";
      PrintTable(std::cout, {T(l, "单位", "unit"), T(l, "分数段", "band"), T(l, "人数", "people")}, rows);
    }
  });
}

struct AggregateArgs {
  std::string key;  // item number or id, campaign, talk or point id, or a person (badge)
};

// An aggregate: a risk item number, a UUID, or a badge (the person's score chain).
int Aggregate(RiskClient& c, const std::string& key, std::string* id) {
  if (IsUuid(key)) {
    *id = key;
    return kExitOk;
  }
  if (StartsWith(Upper(key), "FX-")) {
    v1::RiskItem item;
    if (int rc = c.FindItem(key, false, &item); rc != kExitOk) return rc;
    *id = item.id();
    return kExitOk;
  }
  return c.dir.PersonId(key, id);
}

std::string EventData(RiskClient& c, const std::string& json) {
  const Lang l = c.lang();
  static const KeyLabels kKeys = {
      {"person_id", {"人员", "person"}},
      {"unit_id", {"单位", "unit"}},
      {"level", {"等级", "level"}},
      {"category", {"类别", "category"}},
      {"source", {"来源", "source"}},
      {"outcome", {"排查结果", "outcome"}},
      {"kind", {"类型", "kind"}},
      {"score", {"评分", "score"}},
      {"previous", {"原评分", "previous"}},
      {"number", {"编号", "number"}},
      {"measure", {"措施", "measure"}},
      {"resolution", {"化解情况", "resolution"}},
      {"description", {"描述", "description"}},
      {"responsible_leader_id", {"责任领导", "leader"}},
  };
  return EventDataText(l, json, kKeys,
                       [&](const std::string& key, const nlohmann::json& v) -> std::optional<std::string> {
                         if (!v.is_string()) return v.dump();
                         const std::string s = v.get<std::string>();
                         if (EndsWith(key, "person_id") || key == "responsible_leader_id") return c.dir.PersonName(s);
                         if (EndsWith(key, "unit_id")) return c.dir.UnitName(s);
                         return RiskEnumNameLabel(l, s);
                       });
}

int History(RiskClient& c, const AggregateArgs& a) {
  v1::GetRiskHistoryRequest req;
  std::string id;
  if (int rc = Aggregate(c, a.key, &id); rc != kExitOk) return rc;
  req.set_aggregate_id(id);
  const Lang l = c.lang();
  return c.History(&Stub::GetRiskHistory, req, [&](const v1::GetRiskHistoryResponse& resp) {
    PrintHistory(l, resp.events(), [&](const v1::RiskEvent& ev) {
      std::string actor = c.UserName(ev.actor());
      if (!ev.actor_unit_id().empty()) actor += " (" + c.dir.UnitName(ev.actor_unit_id()) + ")";
      return EventCells{RiskEventLabel(l, ev.type()), actor, EventData(c, ev.data_json())};
    });
  });
}

int Verify(RiskClient& c, const AggregateArgs& a) {
  v1::VerifyRiskChainRequest req;
  std::string id;
  if (int rc = Aggregate(c, a.key, &id); rc != kExitOk) return rc;
  req.set_aggregate_id(id);
  v1::VerifyChainResponse resp;
  if (grpc::Status st = c.Call(&Stub::VerifyRiskChain, req, &resp); !st.ok()) return c.Fail(st);
  return PrintChainVerify(c.ctx, resp);
}

int VerifyAll(RiskClient& c, const NoArgs&) {
  v1::VerifyAllRiskChainsResponse resp;
  if (grpc::Status st = c.Call(&Stub::VerifyAllRiskChains, v1::VerifyAllChainsRequest(), &resp); !st.ok()) {
    return c.Fail(st);
  }
  ChainReport r{resp.intact(), resp.aggregates(), resp.checkpoint_id(), resp.checkpoint_problem(), {}};
  for (const auto& b : resp.broken()) r.broken.push_back({b.aggregate_id(), b.first_broken_seq(), b.problem()});
  return PrintChainReport(c.ctx, resp, r, "条风险点、排查活动、风险隐患、谈话和评分的哈希链",
                          "chains of risk points, campaigns, items, talks and scores");
}

int ExportCheckpoints(RiskClient& c, const CheckpointsArgs& a) {
  return ExportCheckpointLines(
      a.after, [&](const auto& req, auto* resp) { return c.Call(&Stub::ExportRiskCheckpoints, req, resp); },
      [&](const grpc::Status& st) { return c.Fail(st); });
}

}  // namespace

void AddRiskReadCommands(CLI::App* risk, Commands& commands) {
  {
    auto [cmd, a] = commands.Add(risk, "file", "一人一档：评分、时间线、谈话 a person's file", File);
    cmd->add_option("PERSON", a->person, "人员（警号或ID） person (badge or id)")->required();
  }
  {
    auto [cmd, a] = commands.Add(risk, "score", "风险评分及说明 a person's score, explained", Score);
    cmd->add_option("PERSON", a->person, "人员（警号或ID） person (badge or id)")->required();
  }
  {
    auto [cmd, a] = commands.Add(risk, "scores", "风险评分排行 scores of people and units", Scores);
    cmd->add_option("--unit", a->unit, "单位及下级（代码或ID） unit and below (code or id)");
    cmd->add_option("--min", a->min_score, "最低分 minimum score");
    cmd->add_flag("--above", a->above, "只列达到预警阈值的 at or above the threshold only");
    AddPagingOptions(cmd, &a->paging, 500);
  }
  {
    auto [cmd, a] = commands.Add(risk, "stats", "风险排查统计 statistics", Stats);
    cmd->add_option("--unit", a->unit, "单位及下级（代码或ID） unit and below (code or id)");
  }
  {
    auto [cmd, a] =
        commands.Add(risk, "history", "事件历史 the history of an item, campaign, talk, point or score", History);
    cmd->add_option("KEY", a->key, "风险隐患编号、ID，或人员警号（评分） item number, id, or a badge (score)")
        ->required();
  }
  {
    auto [cmd, a] =
        commands.Add(risk, "verify", "校验一条哈希链（监督） verify one chain (oversight; exit 1 when broken)", Verify);
    cmd->add_option("KEY", a->key, "风险隐患编号、ID，或人员警号 item number, id, or a badge")->required();
  }
  AddChainCommands(risk, commands, VerifyAll, ExportCheckpoints);
}

void AddRiskCommands(CLI::App& app, Commands& commands) {
  CLI::App* risk =
      AddGroup(&app, "risk", "风险排查 risk screening: risk points, campaigns, items, talks, personnel files");
  AddRiskPointCommands(risk, commands);
  AddRiskCampaignCommands(risk, commands);
  AddRiskItemCommands(risk, commands);
  AddRiskTalkCommands(risk, commands);
  AddRiskReadCommands(risk, commands);
}

}  // namespace sm::smctl
