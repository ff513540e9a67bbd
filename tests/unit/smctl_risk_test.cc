// Tests for the pure parts of `smctl risk` (tools/smctl/risk_client.h, risk_labels.h): the
// screening ledger read from CSV with every problem reported by row and column, the request
// id of a ledger row, mitigations and dates as the command line spells them, and the labels
// of the risk enums, the personnel file's parts and the score's words in both languages.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tools/smctl/risk_client.h"
#include "tools/smctl/risk_labels.h"

namespace sm::smctl {
namespace {

namespace v1 = ::supervision::v1;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr const char* kHeader = "badge,outcome,category,level,description,leader_badge,measure,deadline_days\n";

// The problems as "line column: english".
std::vector<std::string> Problems(const ScreeningLedger& l) {
  std::vector<std::string> out;
  for (const auto& p : l.problems) out.push_back(std::to_string(p.line) + " " + p.column + ": " + p.en);
  return out;
}

TEST(ParseScreeningLedger, ReadsClearAndRiskFoundRows) {
  const ScreeningLedger l = ParseScreeningLedger(std::string("\xEF\xBB\xBF") + kHeader +
                                                 "010001,CLEAR,,,,,,\n"
                                                 "010002,RISK_FOUND,finances,high,\"网贷逾期, 多平台\",010009,"
                                                 "签订承诺书,5\n"
                                                 "010003,发现风险,饮酒,中,酒后驾驶私车苗头,,,\n");
  ASSERT_THAT(Problems(l), IsEmpty());
  ASSERT_EQ(l.rows.size(), 3u);
  EXPECT_EQ(l.data_rows, 3);
  EXPECT_EQ(l.rows[0].badge, "010001");
  EXPECT_EQ(l.rows[0].outcome, v1::SCREENING_OUTCOME_CLEAR);
  EXPECT_EQ(l.rows[1].outcome, v1::SCREENING_OUTCOME_RISK_FOUND);
  EXPECT_EQ(l.rows[1].category, v1::RISK_CATEGORY_FINANCES);
  EXPECT_EQ(l.rows[1].level, v1::RISK_LEVEL_HIGH);
  EXPECT_EQ(l.rows[1].description, "网贷逾期, 多平台");
  EXPECT_EQ(l.rows[1].leader_badge, "010009");
  EXPECT_EQ(l.rows[1].measure, "签订承诺书");
  EXPECT_EQ(l.rows[1].deadline_days, 5);
  EXPECT_EQ(l.rows[1].line, 3);
  EXPECT_EQ(l.rows[2].category, v1::RISK_CATEGORY_DRINKING);
  EXPECT_EQ(l.rows[2].level, v1::RISK_LEVEL_MEDIUM);
}

TEST(ParseScreeningLedger, ColumnsInAnyOrderAndOnlyTheRequiredOnes) {
  const ScreeningLedger l = ParseScreeningLedger("Outcome,BADGE\nclear,010001\nrisk-found,010002\n");
  EXPECT_THAT(Problems(l), ElementsAre("3 category: category is required with RISK_FOUND",
                                       "3 level: level is required with RISK_FOUND",
                                       "3 description: description is required with RISK_FOUND"));
  ASSERT_EQ(l.rows.size(), 1u);
  EXPECT_EQ(l.rows[0].badge, "010001");
}

TEST(ParseScreeningLedger, ReportsEveryProblemWithItsRowAndColumn) {
  const ScreeningLedger l = ParseScreeningLedger(std::string(kHeader) +
                                                 ",CLEAR,,,,,,\n"                         // 2: no badge
                                                 "010002,MAYBE,,,,,,\n"                   // 3: bad outcome
                                                 "010003,CLEAR,finances,,,,,\n"           // 4: risk column with CLEAR
                                                 "010004,RISK_FOUND,luck,urgent,x,,,\n"   // 5: bad category, level
                                                 "010005,RISK_FOUND,family,low,x,,m,0\n"  // 6: days out of range
                                                 "010006,RISK_FOUND,family,low,x,,,3\n"   // 7: days without measure
                                                 "010001,CLEAR,,,,,,\n"                   // 8: fine
                                                 "010001,CLEAR,,,,,,\n");                 // 9: badge again
  EXPECT_THAT(Problems(l),
              ElementsAre("2 badge: badge is required", "3 outcome: outcome must be CLEAR or RISK_FOUND: MAYBE",
                          "4 category: must be empty with CLEAR", "5 category: unknown category: luck",
                          "5 level: level must be low, medium or high: urgent",
                          "6 deadline_days: deadline_days must be a whole number 1-365: 0",
                          "7 deadline_days: deadline_days needs a measure", "9 badge: same badge as line 8"));
  EXPECT_EQ(l.problems[2].badge, "010003");
  ASSERT_EQ(l.rows.size(), 1u);
  EXPECT_EQ(l.rows[0].line, 8);
  EXPECT_EQ(l.data_rows, 8);
}

TEST(ParseScreeningLedger, HeaderAndFileProblemsAreOnLineOneOrTheBadLine) {
  EXPECT_THAT(Problems(ParseScreeningLedger("badge,result\n1,CLEAR\n")),
              ElementsAre("1 result: unknown column", "1 outcome: column missing"));
  EXPECT_THAT(Problems(ParseScreeningLedger("")), ElementsAre("1 : the file is empty"));
  EXPECT_THAT(Problems(ParseScreeningLedger(kHeader)), ElementsAre("1 : the ledger has no rows"));
  EXPECT_EQ(ParseScreeningLedger(std::string(kHeader) + "010001,CLEAR,,,\"open\n").problems.size(), 1u);
  const ScreeningLedger gbk = ParseScreeningLedger(std::string(kHeader) + "010001,CLEAR,,,\xB7\xE7,,,\n");
  ASSERT_EQ(gbk.problems.size(), 1u);
  EXPECT_EQ(gbk.problems[0].line, 2);
}

TEST(ScreeningRequestId, SameCampaignAndBadgeGiveTheSameId) {
  const std::string a = ScreeningRequestId("c1", "010001");
  EXPECT_EQ(a, ScreeningRequestId("c1", " 010001 "));
  EXPECT_NE(a, ScreeningRequestId("c2", "010001"));
  EXPECT_NE(a, ScreeningRequestId("c1", "010002"));
  EXPECT_TRUE(a.rfind("screening-", 0) == 0);
  EXPECT_LE(a.size(), 128u);  // the services' limit on request ids
}

TEST(ParseMitigation, MeasureWithWorkingDaysOrDate) {
  v1::MitigationInput m;
  std::string zh, en;
  ASSERT_TRUE(ParseMitigation("签订廉洁承诺书@5", &m, &zh, &en));
  EXPECT_EQ(m.measure(), "签订廉洁承诺书");
  EXPECT_EQ(m.working_days(), 5);
  v1::MitigationInput d;
  ASSERT_TRUE(ParseMitigation("家访 @ 2026-03-31", &d, &zh, &en));
  EXPECT_EQ(d.measure(), "家访");
  EXPECT_EQ(BeijingTime(d.deadline(), true), "2026-03-31 23:59:59");
  v1::MitigationInput plain;
  ASSERT_TRUE(ParseMitigation("谈心谈话", &plain, &zh, &en));
  EXPECT_EQ(plain.working_days(), 0);
  EXPECT_FALSE(plain.has_deadline());
  EXPECT_FALSE(ParseMitigation("@5", &m, &zh, &en));
  EXPECT_FALSE(ParseMitigation("x@0", &m, &zh, &en));
  EXPECT_FALSE(ParseMitigation("x@2026-02-30", &m, &zh, &en));
  EXPECT_FALSE(ParseMitigation("x@", &m, &zh, &en));
}

TEST(ParseDay, StartAndEndOfAChinaStandardTimeDay) {
  google::protobuf::Timestamp t;
  ASSERT_TRUE(ParseDay("2026-03-01", false, &t));
  EXPECT_EQ(BeijingTime(t, true), "2026-03-01 00:00:00");
  ASSERT_TRUE(ParseDay("2026-03-01", true, &t));
  EXPECT_EQ(BeijingTime(t, true), "2026-03-01 23:59:59");
  EXPECT_FALSE(ParseDay("2026/03/01", false, &t));
}

TEST(RiskLabels, EnumsInBothLanguages) {
  EXPECT_EQ(Label(Lang::kZh, RiskLevels(), v1::RISK_LEVEL_HIGH), "高");
  EXPECT_EQ(Label(Lang::kEn, RiskCategories(), v1::RISK_CATEGORY_SOCIAL_TIES), "social ties");
  EXPECT_EQ(Label(Lang::kZh, TalkKinds(), v1::TALK_KIND_ADMONISHMENT), "诫勉谈话");
  EXPECT_EQ(Label(Lang::kZh, Powers(), v1::POWER_PROPERTY_CUSTODY), "涉案财物保管");
  EXPECT_EQ(ChoiceValue(RiskSourcesOpen(), "score"), 0);  // the service's own
  EXPECT_EQ(ChoiceValue(RiskSources(), "score"), v1::RISK_SOURCE_SCORE);
  EXPECT_EQ(RiskEnumNameLabel(Lang::kZh, "RISK_ITEM_STATE_MITIGATING"), "化解中");
  EXPECT_EQ(RiskEnumNameLabel(Lang::kEn, "CAMPAIGN_STATE_OPEN"), "open");
  EXPECT_EQ(RiskEnumNameLabel(Lang::kZh, "SOMETHING_ELSE"), "SOMETHING_ELSE");
  EXPECT_EQ(RiskEventLabel(Lang::kZh, "score_changed"), "风险评分变化");
  EXPECT_EQ(RiskEventLabel(Lang::kEn, "talk_recorded"), "talk recorded");
}

TEST(RiskLabels, FileWords) {
  EXPECT_EQ(FileSourceLabel(Lang::kZh, "audit"), "审计");
  EXPECT_EQ(FileSourceLabel(Lang::kEn, "clue"), "clue");
  EXPECT_EQ(FileKindLabel(Lang::kZh, "measure"), "督察措施");
  EXPECT_EQ(FileKindLabel(Lang::kEn, "new_kind"), "new_kind");
  EXPECT_EQ(SignalKindLabel(Lang::kZh, "admonishment"), "诫勉谈话");
  EXPECT_EQ(SignalGradeLabel(Lang::kZh, "form_2"), "第二种形态");
  EXPECT_EQ(SignalGradeLabel(Lang::kZh, "HIGH"), "高");
  EXPECT_EQ(SignalGradeLabel(Lang::kEn, ""), "");
  EXPECT_EQ(FileStateLabel(Lang::kZh, "MITIGATING"), "化解中");
  EXPECT_EQ(FileStateLabel(Lang::kZh, "ADMONISHMENT"), "诫勉谈话");
  EXPECT_EQ(FileStateLabel(Lang::kEn, "RISK_ITEM_STATE_RESOLVED"), "resolved");
  EXPECT_EQ(FileStateLabel(Lang::kZh, "HIGH"), "高");
  EXPECT_EQ(FileStateLabel(Lang::kZh, "WHATEVER"), "WHATEVER");
  EXPECT_EQ(SourceService("audit"), "audit-service");
  EXPECT_EQ(SourceService("audit-service"), "audit-service");
}

TEST(RiskText, PartsSummariesAndScores) {
  v1::FilePart p;
  p.set_source("audit");
  p.set_error("UNAVAILABLE");
  EXPECT_EQ(FilePartText(Lang::kZh, p), "缺失：audit-service（UNAVAILABLE）");
  EXPECT_EQ(FilePartText(Lang::kEn, p), "missing: audit-service (UNAVAILABLE)");
  p.set_error("unavailable: connections to all backends failing; last error: ...");
  EXPECT_EQ(FilePartText(Lang::kZh, p), "缺失：audit-service（UNAVAILABLE）");
  p.set_error("deadline exceeded: after 2s");
  EXPECT_EQ(FilePartText(Lang::kEn, p), "missing: audit-service (DEADLINE_EXCEEDED)");
  p.set_available(true);
  p.set_entries(3);
  EXPECT_EQ(FilePartText(Lang::kZh, p), "可用（3 条）");

  v1::TalkRecord t;
  EXPECT_EQ(TalkSummaryText(Lang::kZh, t), "");
  t.set_summary_withheld(true);
  EXPECT_EQ(TalkSummaryText(Lang::kZh, t), "（摘要不可见）");
  t.set_summary("谈及家庭经济压力");
  EXPECT_EQ(TalkSummaryText(Lang::kZh, t), "谈及家庭经济压力");

  v1::PersonScore s;
  s.set_score(62.46);
  s.set_threshold(60);
  EXPECT_EQ(ScoreText(Lang::kZh, s), "62.5 / 60.0（达到预警阈值）");
  s.set_score(12);
  EXPECT_EQ(ScoreText(Lang::kEn, s), "12.0 / 60.0");

  v1::Mitigation m;
  m.set_index(1);
  m.set_measure("签订承诺书");
  m.set_working_days(5);
  ASSERT_TRUE(ParseDay("2026-03-06", true, m.mutable_deadline()));
  EXPECT_EQ(MitigationText(Lang::kZh, m), "1. 签订承诺书  截止 2026-03-06（5 个工作日）  未完成");
  m.set_overdue(true);
  EXPECT_EQ(MitigationText(Lang::kEn, m), "1. 签订承诺书  due 2026-03-06 (5 working days)  open (overdue)");
}

}  // namespace
}  // namespace sm::smctl
