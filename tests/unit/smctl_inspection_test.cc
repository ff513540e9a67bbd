// Tests for tools/smctl/inspection_checklist.h and the inspection formatting helpers: a
// checklist template read from CSV with every problem reported per row, the request id of a
// template's content, conformity per aspect, the answers of `inspection run` and withheld
// items as the command line spells them; the summary cells of an inspection and a measure;
// a referred finding's clue line and the leader and outcome cells of an accountability check.
#include "tools/smctl/inspection_checklist.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tools/smctl/inspection_client.h"

namespace sm::smctl {
namespace {

namespace v1 = ::supervision::v1;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr const char* kHeader = "aspect_code,aspect_title,item_code,item_text\n";

// The problems as "line column: english".
std::vector<std::string> Problems(const TemplateCsv& csv) {
  std::vector<std::string> out;
  for (const auto& p : csv.problems) out.push_back(std::to_string(p.line) + " " + p.column + ": " + p.en);
  return out;
}

TEST(ReadTemplateCsv, GroupsItemsUnderTheirAspectsInFileOrder) {
  const TemplateCsv csv = ReadTemplateCsv(std::string("\xEF\xBB\xBF") + kHeader +
                                          "A1,执法规范,A1-01,\"受案登记及时, 准确\"\n"
                                          "A2,警容风纪,A2-01,按规定着装\n"
                                          "A1,执法规范,A1-02,涉案财物入库\n"
                                          ",,,\n");
  ASSERT_THAT(Problems(csv), IsEmpty());
  EXPECT_EQ(csv.rows, 3);
  EXPECT_EQ(csv.items, 3);
  ASSERT_EQ(csv.aspects.size(), 2u);
  EXPECT_EQ(csv.aspects[0].code(), "A1");
  EXPECT_EQ(csv.aspects[0].title(), "执法规范");
  ASSERT_EQ(csv.aspects[0].items_size(), 2);
  EXPECT_EQ(csv.aspects[0].items(0).text(), "受案登记及时, 准确");
  EXPECT_EQ(csv.aspects[0].items(1).code(), "A1-02");
  EXPECT_EQ(csv.aspects[1].items(0).code(), "A2-01");
}

TEST(ReadTemplateCsv, HeaderInAnyOrderAndCase) {
  const TemplateCsv csv = ReadTemplateCsv(
      "Item_Code, item text ,ASPECT-CODE,aspect_title\r\n"
      "X-1,Text one,X,Aspect X\r\n");
  ASSERT_THAT(Problems(csv), IsEmpty());
  ASSERT_EQ(csv.aspects.size(), 1u);
  EXPECT_EQ(csv.aspects[0].code(), "X");
  EXPECT_EQ(csv.aspects[0].items(0).text(), "Text one");
}

// Each bad file and every problem it must report (line, column: problem).
TEST(ReadTemplateCsv, ReportsEveryProblemPerRow) {
  struct Case {
    const char* name;
    std::string text;
    std::vector<std::string> problems;
  };
  const std::string long_code(33, 'x');
  const std::vector<Case> cases = {
      {"missing values",
       std::string(kHeader) + "A1,,A1-01,text\nA1,T,,\n",
       {"2 aspect_title: missing value (required)", "3 item_code: missing value (required)",
        "3 item_text: missing value (required)"}},
      {"duplicate item code",
       std::string(kHeader) + "A1,T,I-1,one\nA2,U,I-2,two\nA2,U,I-1,three\n",
       {"4 item_code: duplicate item code I-1 (first on line 2)"}},
      {"aspect title differs",
       std::string(kHeader) + "A1,Title,I-1,one\nA1,Other,I-2,two\n",
       {"3 aspect_title: aspect A1 has another title on line 2 (\"Title\")"}},
      {"too long", std::string(kHeader) + long_code + ",T,I-1,one\n", {"2 aspect_code: longer than 32 characters"}},
      {"extra field",
       std::string(kHeader) + "A1,T,I-1,one,surplus\n",
       {"2 : more fields than the header has: surplus"}},
      {"header lacks a column",
       "aspect_code,aspect_title,item_text\nA1,T,one\n",
       {"1 item_code: the header lacks this column"}},
      {"unknown and repeated header",
       "aspect_code,aspect_title,item_code,item_text,item_code,remark\n",
       {"1 item_code: the column appears twice", "1 remark: unknown column \"remark\""}},
      {"no data rows", kHeader, {"1 : no data rows"}},
      {"empty file",
       "",
       {"1 : empty file: a header row aspect_code,aspect_title,item_code,item_text and data rows "
        "are needed"}},
      {"unterminated quote", std::string(kHeader) + "A1,T,I-1,\"one\n", {}},
      {"not UTF-8",
       std::string(kHeader) + "A1,\xD6\xB4\xB7\xA8,I-1,one\n",
       {"2 : not valid UTF-8 (GBK/GB18030? convert it with iconv -f GB18030 -t UTF-8)"}},
      {"UTF-16",
       "\xFF\xFE"
       "a\0",
       {"1 : the file is UTF-16; save it as \"CSV UTF-8 (comma delimited)\""}},
  };
  for (const auto& c : cases) {
    const TemplateCsv csv = ReadTemplateCsv(c.text);
    EXPECT_FALSE(csv.problems.empty()) << c.name;
    if (!c.problems.empty()) {
      EXPECT_EQ(Problems(csv), c.problems) << c.name;
    }
    for (const auto& p : csv.problems) EXPECT_FALSE(p.zh.empty()) << c.name << ": every problem in Chinese too";
  }
}

TEST(ReadTemplateCsv, LimitsOfATemplate) {
  std::string many_items = kHeader;
  for (int i = 0; i < 201; ++i) many_items += "A1,T,I-" + std::to_string(i) + ",text\n";
  EXPECT_THAT(Problems(ReadTemplateCsv(many_items)), ElementsAre("202 item_code: aspect A1 has more than 200 items"));
  std::string many_aspects = kHeader;
  for (int i = 0; i < 51; ++i) many_aspects += "A" + std::to_string(i) + ",T,I-" + std::to_string(i) + ",text\n";
  EXPECT_THAT(Problems(ReadTemplateCsv(many_aspects)), ElementsAre("52 aspect_code: more than 50 aspects"));
}

TEST(TemplateRequestId, FollowsTheContentNotTheFile) {
  v1::PublishTemplateRequest a;
  a.set_code("daily-duty");
  a.set_name("日常督察");
  auto* aspect = a.add_aspects();
  aspect->set_code("A1");
  aspect->set_title("执法规范");
  auto* item = aspect->add_items();
  item->set_code("A1-01");
  item->set_text("受案登记");
  v1::PublishTemplateRequest b = a;
  b.set_request_id("ignored");
  EXPECT_EQ(TemplateRequestId(a), TemplateRequestId(b));
  EXPECT_EQ(TemplateRequestId(a).rfind("template-", 0), 0u);
  EXPECT_LE(TemplateRequestId(a).size(), 128u) << "the service takes request ids up to 128 characters";
  b.mutable_aspects(0)->mutable_items(0)->set_text("受案登记及时");
  EXPECT_NE(TemplateRequestId(a), TemplateRequestId(b));
  b = a;
  b.set_name("另一个名称");
  EXPECT_NE(TemplateRequestId(a), TemplateRequestId(b));
}

v1::Inspection Checklist() {
  v1::Inspection in;
  auto add = [&](const char* aspect, const char* item, const char* unit, v1::ItemMark mark, bool finding = false) {
    auto* e = in.add_checklist();
    e->set_aspect_code(aspect);
    e->set_aspect_title(std::string("title ") + aspect);
    e->set_item_code(item);
    e->set_target_unit_id(unit);
    e->set_mark(mark);
    if (finding) e->add_finding_ids("f");
  };
  add("A1", "A1-01", "u1", v1::ITEM_MARK_CONFORMING);
  add("A1", "A1-01", "u2", v1::ITEM_MARK_NON_CONFORMING);
  add("A1", "A1-02", "u1", v1::ITEM_MARK_NON_CONFORMING, true);
  add("A1", "A1-02", "u2", v1::ITEM_MARK_UNSPECIFIED);
  add("A2", "A2-01", "u1", v1::ITEM_MARK_NOT_APPLICABLE);
  add("A2", "A2-01", "u2", v1::ITEM_MARK_UNSPECIFIED);
  return in;
}

TEST(ConformityByAspect, CountsEachAspectInChecklistOrder) {
  const auto all = ConformityByAspect(Checklist());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].code, "A1");
  EXPECT_EQ(all[0].title, "title A1");
  EXPECT_EQ(all[0].entries, 4);
  EXPECT_EQ(all[0].conforming, 1);
  EXPECT_EQ(all[0].non_conforming, 2);
  EXPECT_EQ(all[0].without_finding, 1);
  EXPECT_EQ(all[0].unmarked, 1);
  EXPECT_EQ(all[1].not_applicable, 1);
  EXPECT_EQ(all[1].unmarked, 1);
  const auto u1 = ConformityByAspect(Checklist(), "u1");
  ASSERT_EQ(u1.size(), 2u);
  EXPECT_EQ(u1[0].entries, 2);
  EXPECT_EQ(u1[0].without_finding, 0);
}

TEST(ConformityRate, NotApplicableDoesNotCount) {
  EXPECT_EQ(ConformityRate(1, 2), "33.3%");
  EXPECT_EQ(ConformityRate(7, 1), "87.5%");
  EXPECT_EQ(ConformityRate(3, 0), "100.0%");
  EXPECT_EQ(ConformityRate(0, 0), "—");
}

TEST(EntriesToWalk, UnmarkedOfTheUnitOrAll) {
  EXPECT_THAT(EntriesToWalk(Checklist(), "u2", false), ElementsAre(3, 5));
  EXPECT_THAT(EntriesToWalk(Checklist(), "u2", true), ElementsAre(1, 3, 5));
  EXPECT_THAT(EntriesToWalk(Checklist(), "u1", false), IsEmpty());
  EXPECT_THAT(EntriesToWalk(Checklist(), "nobody", true), IsEmpty());
}

TEST(ParseAnswer, LettersWordsAndChinese) {
  struct Case {
    const char* line;
    Answer answer;
  };
  for (const Case& c : std::vector<Case>{{"c", Answer::kConforming},
                                         {" C \r", Answer::kConforming},
                                         {"符合", Answer::kConforming},
                                         {"n", Answer::kNonConforming},
                                         {"Non-Conforming", Answer::kNonConforming},
                                         {"不符合", Answer::kNonConforming},
                                         {"a", Answer::kNotApplicable},
                                         {"不适用", Answer::kNotApplicable},
                                         {"s", Answer::kSkip},
                                         {"q", Answer::kQuit},
                                         {"退出", Answer::kQuit},
                                         {"", Answer::kUnknown},
                                         {"x", Answer::kUnknown},
                                         {"cn", Answer::kUnknown}}) {
    EXPECT_EQ(ParseAnswer(c.line), c.answer) << c.line;
  }
  EXPECT_EQ(MarkOf(Answer::kConforming), v1::ITEM_MARK_CONFORMING);
  EXPECT_EQ(MarkOf(Answer::kNonConforming), v1::ITEM_MARK_NON_CONFORMING);
  EXPECT_EQ(MarkOf(Answer::kNotApplicable), v1::ITEM_MARK_NOT_APPLICABLE);
  EXPECT_EQ(MarkOf(Answer::kSkip), v1::ITEM_MARK_UNSPECIFIED);
  EXPECT_EQ(MarkOf(Answer::kQuit), v1::ITEM_MARK_UNSPECIFIED);
}

TEST(ParseWithheld, KindColonDescription) {
  v1::WithheldItem w;
  std::string zh, en;
  ASSERT_TRUE(ParseWithheld("vehicle:川B·1234警", &w, &zh, &en)) << en;
  EXPECT_EQ(w.kind(), v1::WITHHELD_KIND_VEHICLE);
  EXPECT_EQ(w.description(), "川B·1234警");
  ASSERT_TRUE(ParseWithheld("警用车辆：川B·5678警", &w, &zh, &en)) << en;
  EXPECT_EQ(w.kind(), v1::WITHHELD_KIND_VEHICLE);
  EXPECT_EQ(w.description(), "川B·5678警");
  ASSERT_TRUE(ParseWithheld(" Weapon : 64式手枪 No. 12:34 ", &w, &zh, &en)) << en;
  EXPECT_EQ(w.kind(), v1::WITHHELD_KIND_WEAPON);
  EXPECT_EQ(w.description(), "64式手枪 No. 12:34") << "only the first colon separates";
  EXPECT_FALSE(ParseWithheld("vehicle", &w, &zh, &en));
  EXPECT_NE(en.find("KIND:DESCRIPTION"), std::string::npos) << en;
  EXPECT_FALSE(ParseWithheld("boat:x", &w, &zh, &en));
  EXPECT_NE(en.find("unknown kind"), std::string::npos) << en;
  EXPECT_FALSE(ParseWithheld("vehicle:  ", &w, &zh, &en));
  EXPECT_NE(en.find("description is missing"), std::string::npos) << en;
}

TEST(SummaryText, MarkedOfEntriesAndWhatIsOwed) {
  v1::ChecklistSummary s;
  s.set_entries(20);
  s.set_marked(12);
  EXPECT_EQ(SummaryText(Lang::kZh, s), "12/20");
  s.set_non_conforming(2);
  s.set_non_conforming_without_finding(1);
  EXPECT_EQ(SummaryText(Lang::kZh, s), "12/20（不符合 2，其中 1 项未登记问题）");
  EXPECT_EQ(SummaryText(Lang::kEn, s), "12/20 (non-conforming 2, 1 without a finding)");
  s.set_non_conforming_without_finding(0);
  EXPECT_EQ(SummaryText(Lang::kEn, s), "12/20 (non-conforming 2)");
}

TEST(WithheldText, ReturnedOfAll) {
  v1::Measure m;
  EXPECT_EQ(WithheldText(Lang::kEn, m), "");
  m.add_withheld()->set_returned(true);
  m.add_withheld();
  EXPECT_EQ(WithheldText(Lang::kEn, m), "1/2 returned");
  EXPECT_EQ(WithheldText(Lang::kZh, m), "1/2 已返还");
}

TEST(ReferredClueLine, TheClueOnceThereElseTheReferral) {
  v1::Referral r;
  r.set_state(v1::REFERRAL_STATE_PENDING);
  EXPECT_EQ(ReferredClueLine(Lang::kEn, "DC-2026-0001-01", "Group", r),
            "DC-2026-0001-01 → Group  referral: pending (in the outbox)");
  r.set_state(v1::REFERRAL_STATE_DEAD);
  r.set_last_error("unit is not a discipline unit");
  EXPECT_EQ(ReferredClueLine(Lang::kZh, "DC-2026-0001-01", "纪检组", r),
            "DC-2026-0001-01 → 纪检组  移送状态：移送失败（unit is not a discipline unit）");
  r.set_state(v1::REFERRAL_STATE_DELIVERED);
  r.set_clue_number("XS-2026-0042");
  EXPECT_EQ(ReferredClueLine(Lang::kEn, "DC-2026-0001-01", "Group", r), "DC-2026-0001-01 → Group  clue: XS-2026-0042");
  r.set_clue_state(v1::CLUE_STATE_CONCLUDED);
  r.set_outcome_form(v1::SupervisionForm(2));
  EXPECT_EQ(ReferredClueLine(Lang::kZh, "DC-2026-0001-01", "纪检组", r),
            "DC-2026-0001-01 → 纪检组  线索：XS-2026-0042  状态：已办结  结论形态：第二种形态");
  EXPECT_EQ(ReferredClueLine(Lang::kEn, "DC-2026-0001-01", "Group", r),
            "DC-2026-0001-01 → Group  clue: XS-2026-0042  state: concluded  outcome: form 2");
}

TEST(CheckLeaderText, NameOrNoLeader) {
  v1::AccountabilityCheck k;
  EXPECT_EQ(CheckLeaderText(Lang::kZh, k), "（无在任领导）");
  EXPECT_EQ(CheckLeaderText(Lang::kEn, k), "(no leader holds the duty)");
  k.set_leader_name("张三");
  EXPECT_EQ(CheckLeaderText(Lang::kEn, k), "张三");
}

TEST(CheckOutcomeText, OpenOverdueOrTheOutcomeWithItsClue) {
  v1::AccountabilityCheck k;
  EXPECT_EQ(CheckOutcomeText(Lang::kZh, k), "办理中");
  k.set_overdue(true);
  EXPECT_EQ(CheckOutcomeText(Lang::kZh, k), "办理中（逾期）");
  EXPECT_EQ(CheckOutcomeText(Lang::kEn, k), "open (overdue)");
  k.set_overdue(false);
  k.set_outcome(v1::ACCOUNTABILITY_OUTCOME_TALK);
  EXPECT_EQ(CheckOutcomeText(Lang::kZh, k), "约谈");
  k.set_outcome(v1::ACCOUNTABILITY_OUTCOME_NO_FAULT);
  EXPECT_EQ(CheckOutcomeText(Lang::kEn, k), "no fault");
  k.set_outcome(v1::ACCOUNTABILITY_OUTCOME_REFERRED);
  EXPECT_EQ(CheckOutcomeText(Lang::kZh, k), "移送纪检监察");
  k.mutable_referral()->set_state(v1::REFERRAL_STATE_DELIVERED);
  k.mutable_referral()->set_clue_number("XS-2026-0043");
  EXPECT_EQ(CheckOutcomeText(Lang::kZh, k), "移送纪检监察（XS-2026-0043）");
  EXPECT_EQ(CheckOutcomeText(Lang::kEn, k), "referred (XS-2026-0043)");
}

}  // namespace
}  // namespace sm::smctl
