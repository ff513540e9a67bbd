// smctl inspection show (the whole inspection in one view), history, verify, verify-all,
// checkpoints export and stats.
#include <iostream>

#include <nlohmann/json.hpp>

#include "tools/smctl/chain_commands.h"
#include "tools/smctl/history.h"
#include "tools/smctl/inspection_checklist.h"
#include "tools/smctl/inspection_client.h"
#include "tools/smctl/inspection_commands.h"
#include "tools/smctl/inspection_labels.h"
#include "tools/smctl/rectification_commands.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
using Stub = v1::InspectionService::Stub;
namespace {

// ---------------------------------------------------------------------------------------
// show

// What `inspection show` puts together, read before anything is printed.
struct Dossier {
  v1::Inspection inspection;
  v1::ListInspectionFindingsResponse findings;
  v1::ListMeasuresResponse measures;
  v1::ListRectificationsResponse rectifications;  // of every finding, in finding order
  // 一案双查: the accountability checks opened for the clue of each referred finding (its
  // referral's clue_id), in finding order.
  v1::ListAccountabilityChecksResponse checks;
};

grpc::Status ReadDossier(InspectionClient& c, Dossier* d) {
  v1::ListInspectionFindingsRequest findings;
  findings.set_inspection_id(d->inspection.id());
  findings.set_page_size(200);
  if (grpc::Status s = c.Gather(&Stub::ListFindings, findings, true,
                                &v1::ListInspectionFindingsResponse::mutable_findings, &d->findings);
      !s.ok()) {
    return s;
  }
  v1::ListMeasuresRequest measures;
  measures.set_inspection_id(d->inspection.id());
  measures.set_page_size(200);
  if (grpc::Status s =
          c.Gather(&Stub::ListMeasures, measures, true, &v1::ListMeasuresResponse::mutable_measures, &d->measures);
      !s.ok()) {
    return s;
  }
  for (const auto& f : d->findings.findings()) {
    v1::ListRectificationsRequest rects;
    rects.set_finding_id(f.id());
    rects.set_page_size(500);
    grpc::Status s = c.Gather(&Stub::ListRectifications, rects, true,
                              &v1::ListRectificationsResponse::mutable_rectifications, &d->rectifications);
    if (s.ok() && !f.referral().clue_id().empty()) {
      v1::ListAccountabilityChecksRequest checks;
      checks.set_clue_id(f.referral().clue_id());
      checks.set_page_size(200);
      s = c.Gather(&Stub::ListAccountabilityChecks, checks, true, &v1::ListAccountabilityChecksResponse::mutable_checks,
                   &d->checks);
    }
    if (!s.ok()) return s;
  }
  d->rectifications.clear_next_page_token();
  d->checks.clear_next_page_token();
  return grpc::Status::OK;
}

nlohmann::json ProtoJson(const google::protobuf::Message& m) { return nlohmann::json::parse(Context::JsonOf(m)); }

// The referred findings: each with its clue and the checks opened for that clue.
nlohmann::json AccountabilityJson(const Dossier& d) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& f : d.findings.findings()) {
    const v1::Referral& r = f.referral();
    if (r.state() == v1::REFERRAL_STATE_UNSPECIFIED) continue;
    nlohmann::json checks = nlohmann::json::array();
    for (const auto& k : d.checks.checks()) {
      if (!r.clue_id().empty() && k.clue_id() == r.clue_id()) checks.push_back(ProtoJson(k));
    }
    out.push_back({{"finding", f.number()}, {"referral", ProtoJson(r)}, {"checks", std::move(checks)}});
  }
  return out;
}

nlohmann::json DossierJson(const Dossier& d) {
  nlohmann::json aspects = nlohmann::json::array();
  for (const auto& a : ConformityByAspect(d.inspection)) {
    aspects.push_back({{"code", a.code},
                       {"title", a.title},
                       {"entries", a.entries},
                       {"conforming", a.conforming},
                       {"non_conforming", a.non_conforming},
                       {"not_applicable", a.not_applicable},
                       {"unmarked", a.unmarked},
                       {"non_conforming_without_finding", a.without_finding}});
  }
  return {{"inspection", ProtoJson(d.inspection)},
          {"aspects", std::move(aspects)},
          {"findings", ProtoJson(d.findings)["findings"]},
          {"measures", ProtoJson(d.measures)["measures"]},
          {"rectifications", ProtoJson(d.rectifications)["rectifications"]},
          {"accountability", AccountabilityJson(d)}};
}

void PrintDossier(InspectionClient& c, const Dossier& d) {
  const Lang l = c.lang();
  const v1::Inspection& in = d.inspection;
  FieldTable t(l);
  AddInspectionFields(c, in, &t);
  t.Add("符合率", "conformity", ConformityRate(in.summary().conforming(), in.summary().non_conforming()));
  t.AddIf("督察报告", "report", Truncate(in.report(), 60));
  t.Print(std::cout);

  std::cout << "\n" << T(l, "检查清单（按方面）\n", "checklist by aspect\n");
  std::vector<std::vector<std::string>> rows;
  for (const auto& a : ConformityByAspect(in)) {
    rows.push_back(
        {a.code, Truncate(a.title, 24), std::to_string(a.entries), std::to_string(a.conforming),
         std::to_string(a.non_conforming) +
             (a.without_finding > 0
                  ? T(l, "（未登记问题 ", " (no finding: ") + std::to_string(a.without_finding) + T(l, "）", ")")
                  : std::string()),
         std::to_string(a.not_applicable), std::to_string(a.unmarked), ConformityRate(a.conforming, a.non_conforming)});
  }
  PrintTable(
      std::cout,
      {T(l, "方面", "aspect"), T(l, "名称", "title"), T(l, "检查项", "entries"), T(l, "符合", "conforming"),
       T(l, "不符合", "non-conforming"), T(l, "不适用", "n/a"), T(l, "未标记", "unmarked"), T(l, "符合率", "rate")},
      rows);

  // Each section: its title with a count, then its table or "无".
  auto section = [&](const char* zh, const char* en, int count, const auto& print) {
    std::cout << "\n" << T(l, zh, en) << T(l, "（", " (") << count << T(l, "）\n", ")\n");
    if (count == 0) {
      std::cout << T(l, "无\n", "none\n");
    } else {
      print();
    }
  };
  section("问题", "findings", d.findings.findings_size(), [&] { PrintFindings(c, d.findings.findings()); });
  section("督察措施", "measures", d.measures.measures_size(), [&] { PrintMeasures(c, d.measures.measures()); });
  section("整改", "rectifications", d.rectifications.rectifications_size(),
          [&] { PrintRectificationTable(c, d.rectifications.rectifications()); });
  int referred = 0;
  for (const auto& f : d.findings.findings()) referred += f.referral().state() != v1::REFERRAL_STATE_UNSPECIFIED;
  section("移送线索与一案双查", "referred clues and accountability checks", referred, [&] {
    for (const auto& f : d.findings.findings()) {
      const v1::Referral& r = f.referral();
      if (r.state() == v1::REFERRAL_STATE_UNSPECIFIED) continue;
      std::cout << ReferredClueLine(l, f.number(), c.dir.UnitName(r.to_unit_id()), r) << "\n";
      google::protobuf::RepeatedPtrField<v1::AccountabilityCheck> checks;
      for (const auto& k : d.checks.checks()) {
        if (!r.clue_id().empty() && k.clue_id() == r.clue_id()) *checks.Add() = k;
      }
      if (checks.empty()) {
        std::cout << T(l, "  一案双查：无\n", "  accountability checks: none\n");
      } else {
        PrintChecks(c, checks);
      }
    }
  });
}

struct InspectionArgs {
  std::string key;  // inspection: UUID or number; history and verify: any item (see Aggregate)
};

int Show(InspectionClient& c, const InspectionArgs& a) {
  Dossier d;
  if (int rc = c.FindInspection(a.key, true, &d.inspection); rc != kExitOk) return rc;
  if (grpc::Status s = ReadDossier(c, &d); !s.ok()) return c.Fail(s);
  if (c.ctx.json()) {
    std::cout << DossierJson(d).dump(2) << "\n";
    return kExitOk;
  }
  PrintDossier(c, d);
  return kExitOk;
}

// ---------------------------------------------------------------------------------------
// history, verify

// KEY to the id of the chain it names: a UUID as it is (an inspection, finding, measure or
// template version), a number DC-2026-0001 (inspection) or DC-2026-0001-01 (finding), else
// a measure's id prefix.
int Aggregate(InspectionClient& c, const std::string& key, std::string* id) {
  if (IsUuid(key)) {
    *id = Lower(key);
    return kExitOk;
  }
  if (StartsWith(Upper(key), "DC-")) {
    if (std::count(key.begin(), key.end(), '-') >= 3) {
      v1::InspectionFinding f;
      if (int rc = c.FindFinding(key, false, &f); rc != kExitOk) return rc;
      *id = f.id();
    } else {
      v1::Inspection in;
      if (int rc = c.FindInspection(key, false, &in); rc != kExitOk) return rc;
      *id = in.id();
    }
    return kExitOk;
  }
  v1::Measure m;
  if (int rc = c.FindMeasure(key, false, &m); rc != kExitOk) return rc;
  *id = m.id();
  return kExitOk;
}

std::string EventData(InspectionClient& c, const std::string& json) {
  const Lang l = c.lang();
  static const KeyLabels kKeys = {
      {"kind", {"类型", "kind"}},
      {"number", {"编号", "number"}},
      {"code", {"代码", "code"}},
      {"version", {"版本", "version"}},
      {"aspects", {"方面", "aspects"}},
      {"items", {"检查项/物品", "items"}},
      {"entries", {"检查项", "entries"}},
      {"inspection_unit_id", {"督察单位", "inspecting unit"}},
      {"target_unit_ids", {"被督察单位", "target units"}},
      {"target_unit_id", {"被督察单位", "target unit"}},
      {"subject_unit_id", {"被督察单位", "unit"}},
      {"unit_id", {"单位", "unit"}},
      {"owner_unit_id", {"责任单位", "owner unit"}},
      {"template_code", {"模板", "template"}},
      {"template_version", {"模板版本", "template version"}},
      {"item_code", {"检查项", "item"}},
      {"from", {"从", "from"}},
      {"to", {"至", "to"}},
      {"state", {"状态", "state"}},
      {"category", {"类别", "category"}},
      {"severity", {"严重程度", "severity"}},
      {"has_person", {"涉及人员", "officer named"}},
      {"evidence_refs", {"证据", "evidence"}},
      {"days", {"天数", "days"}},
      {"withheld", {"扣留物品", "withheld items"}},
      {"approved", {"批准", "approved"}},
      {"starts_us", {"开始", "starts"}},
      {"ends_us", {"期满", "ends"}},
      {"deadline_us", {"整改期限", "deadline"}},
      {"reason", {"理由", "reason"}},
      {"overdue", {"逾期", "overdue"}},
      {"returned_to", {"返还给", "returned to"}},
      {"all_returned", {"全部返还", "all returned"}},
      {"rectification_id", {"整改", "rectification"}},
      {"note", {"进展", "note"}},
      {"summary", {"说明", "summary"}},
      {"spot_check", {"抽查复核", "spot check"}},
  };
  auto text_of = [&](const std::string& key, const nlohmann::json& value) -> std::optional<std::string> {
    if (key == "inspection_id") return std::nullopt;  // the chain's own, or its inspection
    if (value.is_number_integer() && value.get<int64_t>() == 0) return std::nullopt;  // no evidence, no days
    if (value.is_string()) {
      const std::string v = value.get<std::string>();
      if (v.empty()) return std::nullopt;
      if (EndsWith(key, "unit_id") && IsUuid(v)) return c.dir.UnitName(v);
      if ((key == "returned_to" || EndsWith(key, "person_id")) && IsUuid(v)) return c.dir.PersonName(v);
      if (EndsWith(key, "_us")) {  // int64 is a string in proto JSON
        google::protobuf::Timestamp t;
        t.set_seconds(std::stoll(v) / 1000000);
        return BeijingTime(t);
      }
      return InspectionEnumNameLabel(l, v);
    }
    if (value.is_boolean()) return std::string(YesNo(l, value.get<bool>()));
    if (value.is_array()) {
      std::vector<std::string> parts;
      for (const auto& item : value) {
        if (key == "items" && item.is_number_integer()) {
          parts.push_back("#" + std::to_string(item.get<int>() + 1));  // as `measure get` numbers them
        } else if (item.is_string() && IsUuid(item.get<std::string>())) {
          parts.push_back(c.dir.UnitName(item.get<std::string>()));
        } else {
          parts.push_back(item.is_string() ? item.get<std::string>() : item.dump());
        }
      }
      if (parts.empty()) return std::nullopt;
      return Join(parts, T(l, "、", ", "));
    }
    return value.dump();
  };
  return EventDataText(l, json, kKeys, text_of);
}

int History(InspectionClient& c, const InspectionArgs& a) {
  v1::GetInspectionHistoryRequest req;
  std::string id;
  if (int rc = Aggregate(c, a.key, &id); rc != kExitOk) return rc;
  req.set_aggregate_id(id);
  const Lang l = c.lang();
  return c.History(&Stub::GetInspectionHistory, req, [&](const v1::GetInspectionHistoryResponse& resp) {
    PrintHistory(l, resp.events(), [&](const v1::InspectionEvent& ev) {
      std::string actor = c.UserName(ev.actor());
      if (actor == "system:overdue-scanner") actor = T(l, "系统（逾期督办）", "system (overdue scan)");
      if (!ev.actor_unit_id().empty()) actor += " (" + c.dir.UnitName(ev.actor_unit_id()) + ")";
      return EventCells{InspectionEventLabel(l, ev.type()), actor, EventData(c, ev.data_json())};
    });
  });
}

int Verify(InspectionClient& c, const InspectionArgs& a) {
  v1::VerifyInspectionChainRequest req;
  std::string id;
  if (int rc = Aggregate(c, a.key, &id); rc != kExitOk) return rc;
  req.set_aggregate_id(id);
  v1::VerifyChainResponse resp;
  if (grpc::Status st = c.Call(&Stub::VerifyInspectionChain, req, &resp); !st.ok()) return c.Fail(st);
  return PrintChainVerify(c.ctx, resp);
}

int VerifyAll(InspectionClient& c, const NoArgs&) {
  v1::VerifyAllInspectionChainsResponse resp;
  if (grpc::Status st = c.Call(&Stub::VerifyAllInspectionChains, v1::VerifyAllChainsRequest(), &resp); !st.ok()) {
    return c.Fail(st);
  }
  ChainReport r{resp.intact(), resp.aggregates(), resp.checkpoint_id(), resp.checkpoint_problem(), {}};
  for (const auto& b : resp.broken()) r.broken.push_back({b.aggregate_id(), b.first_broken_seq(), b.problem()});
  return PrintChainReport(c.ctx, resp, r, "条模板、督察、问题和措施的哈希链",
                          "chains of templates, inspections, findings and measures");
}

int ExportCheckpoints(InspectionClient& c, const CheckpointsArgs& a) {
  return ExportCheckpointLines(
      a.after, [&](const auto& req, auto* resp) { return c.Call(&Stub::ExportInspectionCheckpoints, req, resp); },
      [&](const grpc::Status& st) { return c.Fail(st); });
}

// ---------------------------------------------------------------------------------------
// stats

struct StatsArgs {
  std::string unit;  // code or id: inspections of it or below
};

int Stats(InspectionClient& c, const StatsArgs& a) {
  v1::GetInspectionStatsRequest req;
  std::string unit;
  if (int rc = c.dir.UnitIdIfGiven(a.unit, &unit); rc != kExitOk) return rc;
  req.set_unit_id(unit);
  return c.Run(&Stub::GetInspectionStats, req, [&](const v1::InspectionStats& st) {
    const Lang l = c.lang();
    if (!a.unit.empty()) {
      std::cout << T(l, "范围：", "scope: ") << c.dir.UnitName(unit) << T(l, "及下级单位\n", " and below\n");
    }
    const v1::RectificationStats& r = st.rectification();
    PrintTable(std::cout, {T(l, "指标", "measure"), T(l, "数值", "value")},
               {{T(l, "督察", "inspections"), std::to_string(st.inspections())},
                {T(l, "问题", "findings"), std::to_string(st.findings())},
                {T(l, "执行中的措施", "measures in force"), std::to_string(st.measures_in_force())},
                {T(l, "逾期未解除的措施", "measures overdue"), std::to_string(st.measures_overdue())},
                {T(l, "整改事项", "rectifications"), std::to_string(r.rectifications())},
                {T(l, "已销号", "signed off"), std::to_string(r.signed_off())},
                {T(l, "整改逾期", "rectifications overdue"), std::to_string(r.overdue())},
                {T(l, "整改率", "rectification rate"), Percent(r.signed_off(), r.rectifications())}});
    if (st.from_cache()) std::cout << T(l, "（统计结果来自缓存）\n", "(from the statistics cache)\n");
    auto counts = [&](const char* zh, const char* en, const google::protobuf::RepeatedPtrField<v1::StatsCount>& list) {
      if (list.empty()) return;
      std::vector<std::vector<std::string>> rows;
      for (const auto& n : list) {
        rows.push_back({IsUuid(n.key()) ? c.dir.UnitName(n.key()) : InspectionEnumNameLabel(l, n.key()),
                        std::to_string(n.count())});
      }
      std::cout << "\n";
      PrintTable(std::cout, {T(l, zh, en), T(l, "数量", "count")}, rows);
    };
    counts("督察类型", "kind", st.by_kind());
    counts("督察状态", "state", st.by_state());
    counts("问题类别", "finding category", st.findings_by_category());
    counts("被督察单位（问题数）", "unit (findings)", st.findings_by_unit());
    counts("月份（问题数）", "month (findings)", st.findings_by_month());
    counts("措施种类", "measure kind", st.measures_by_kind());
    auto rates = [&](const char* zh, const char* en,
                     const google::protobuf::RepeatedPtrField<v1::ConformityRate>& list) {
      if (list.empty()) return;
      std::vector<std::vector<std::string>> rows;
      for (const auto& x : list) {
        rows.push_back({x.key(), Truncate(x.label(), 24), std::to_string(x.conforming()),
                        std::to_string(x.non_conforming()), std::to_string(x.not_applicable()),
                        ConformityRate(x.conforming(), x.non_conforming())});
      }
      std::cout << "\n";
      PrintTable(std::cout,
                 {T(l, zh, en), T(l, "名称", "name"), T(l, "符合", "conforming"), T(l, "不符合", "non-conforming"),
                  T(l, "不适用", "n/a"), T(l, "符合率", "rate")},
                 rows);
    };
    rates("模板", "template", st.by_template());
    rates("方面", "aspect", st.by_aspect());
  });
}

}  // namespace

void AddInspectionReadCommands(CLI::App* inspection, Commands& commands) {
  {
    auto [cmd, a] = commands.Add(inspection, "show", "督察全貌：检查清单、问题、措施、整改 the whole inspection", Show);
    cmd->add_option("INSPECTION", a->key, "督察ID或编号 inspection id or number")->required();
  }
  {
    auto [cmd, a] = commands.Add(inspection, "history", "历史（督察单位） the history (inspecting unit)", History);
    cmd->add_option("KEY", a->key, "督察或问题编号，或ID inspection or finding number, or an id")->required();
  }
  {
    auto [cmd, a] = commands.Add(inspection, "verify",
                                 "校验一条哈希链（监督） verify one chain (oversight; exit 1 when broken)", Verify);
    cmd->add_option("KEY", a->key, "督察或问题编号，或ID inspection or finding number, or an id")->required();
  }
  AddChainCommands(inspection, commands, VerifyAll, ExportCheckpoints);
  {
    auto [cmd, a] = commands.Add(inspection, "stats", "督察统计 inspection statistics", Stats);
    cmd->add_option("--unit", a->unit, "范围：以该单位及下级单位为对象的督察 scope: inspections of this unit or below");
  }
}

}  // namespace sm::smctl
