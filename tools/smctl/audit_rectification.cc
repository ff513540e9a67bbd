// smctl audit rectification … (the shared rectification commands, rectification_commands.h)
// and audit stats.
#include <algorithm>
#include <iostream>

#include "common/uuid.h"
#include "tools/smctl/audit_client.h"
#include "tools/smctl/audit_commands.h"
#include "tools/smctl/audit_labels.h"
#include "tools/smctl/audit_ledger.h"
#include "tools/smctl/rectification_commands.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
using Stub = v1::AuditService::Stub;
namespace {

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
  // The shared rectification commands (rectification_commands.h), on audit's client.
  RectificationCommands<AuditClient, v1::Finding>::Register(audit, commands);
}

void AddAuditStatsCommand(CLI::App* audit, Commands& commands) {
  auto [cmd, a] = commands.Add(audit, "stats", "审计统计 audit statistics", Stats);
  cmd->add_option("--unit", a->unit, "范围：该单位及下级单位的问题 scope: findings of this unit or below");
}

}  // namespace sm::smctl
