// Tests for services/directory/workflow.h: parsing and validating directory documents
// (table-driven: each bad input names the exact field) and planning imports as the
// difference between a stored snapshot and a document.
#include "services/directory/workflow.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/status.h"

namespace sm::directory {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAreArray;

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// A document from flow-style YAML items, one per list entry.
std::string Doc(const std::vector<std::string>& units, const std::vector<std::string>& posts = {},
                const std::vector<std::string>& people = {}) {
  std::string out;
  auto list = [&](const char* key, const std::vector<std::string>& items) {
    if (items.empty()) return;
    out += std::string(key) + ":\n";
    for (const auto& i : items) out += "  - " + i + "\n";
  };
  list("units", units);
  list("posts", posts);
  list("people", people);
  return out;
}

const std::string kBureau = "{code: bureau, name: 市公安局, kind: BUREAU}";
const std::string kBranch = "{code: branch, name: 分局, kind: BRANCH_BUREAU, parent: bureau}";
const std::string kChief = "{code: chief, name: 所长, powers: [PERSONNEL, CASE_HANDLING]}";
const std::string kWang =
    "{badge: '510701', name: 王建国, unit: branch, post: chief, grade: 一级警长, leader: true, "
    "category: POLICE}";
const std::string kLi = "{badge: '510702', name: 李明, unit: bureau, category: AUXILIARY}";

// --- ParseDocument: bad input ---------------------------------------------------------------

struct BadCase {
  const char* name;
  std::string text;
  std::vector<std::string> fields;  // exactly the fields reported
  std::string description;          // a substring of the first one's description
};

std::vector<BadCase> BadCases() {
  return {
      {"empty_name",
       Doc({kBureau, "{code: b, name: '', kind: STATION, parent: bureau}"}),
       {"units[1].name"},
       "must not be empty"},
      {"blank_name",
       Doc({kBureau, "{code: b, name: '   ', kind: STATION, parent: bureau}"}),
       {"units[1].name"},
       "must not be empty"},
      {"missing_name", Doc({"{code: a, kind: BUREAU}"}), {"units[0].name"}, "is required"},
      {"null_name", Doc({"{code: a, name: ~, kind: BUREAU}"}), {"units[0].name"}, "is required"},
      {"name_not_text", Doc({"{code: a, name: [x, y], kind: BUREAU}"}), {"units[0].name"}, "must be text"},
      {"missing_kind", Doc({"{code: a, name: A}"}), {"units[0].kind"}, "is required"},
      {"unknown_parent",
       Doc({kBureau, kBranch, "{code: s, name: 派出所, kind: STATION, parent: nowhere}"}),
       {"units[2].parent"},
       "unknown unit 'nowhere'"},
      {"own_parent", Doc({"{code: a, name: A, kind: BUREAU, parent: a}"}), {"units[0].parent"}, "own parent"},
      {"cycle_of_two",
       Doc({"{code: a, name: A, kind: BUREAU, parent: b}", "{code: b, name: B, kind: STATION, parent: a}"}),
       {"units[0].parent", "units[1].parent"},
       "cycle"},
      {"cycle_of_three",
       Doc({kBureau, "{code: a, name: A, kind: STATION, parent: c}", "{code: b, name: B, kind: STATION, parent: a}",
            "{code: c, name: C, kind: STATION, parent: b}"}),
       {"units[1].parent", "units[2].parent", "units[3].parent"},
       "cycle"},
      {"duplicate_unit_code",
       Doc({kBureau, "{code: bureau, name: 又一个, kind: BUREAU}"}),
       {"units[1].code"},
       "duplicates units[0].code"},
      {"bad_unit_code", Doc({"{code: Bureau One, name: A, kind: BUREAU}"}), {"units[0].code"}, "may contain only"},
      {"unknown_kind", Doc({"{code: a, name: A, kind: CASTLE}"}), {"units[0].kind"}, "CASTLE"},
      {"lowercase_kind", Doc({"{code: a, name: A, kind: bureau}"}), {"units[0].kind"}, "unknown unit kind"},
      {"unspecified_kind", Doc({"{code: a, name: A, kind: UNSPECIFIED}"}), {"units[0].kind"}, "unknown unit kind"},
      {"unit_field_typo", Doc({"{code: a, nmae: A, name: A, kind: BUREAU}"}), {"units[0].nmae"}, "unknown field"},
      {"oversize_unit_name",
       Doc({"{code: a, name: " + Repeat("中", 65) + ", kind: BUREAU}"}),
       {"units[0].name"},
       "longer than 64"},
      {"oversize_code",
       Doc({"{code: " + Repeat("a", 65) + ", name: A, kind: BUREAU}"}),
       {"units[0].code"},
       "longer than 64"},
      {"control_character",
       Doc({"{code: a, name: \"A\\u0007B\", kind: BUREAU}"}),
       {"units[0].name"},
       "control character"},
      {"unit_not_a_map", Doc({"just-a-string"}), {"units[0]"}, "must be a map"},
      {"units_not_a_list", "units: bureau\n", {"units"}, "must be a list"},
      {"duplicate_post_code",
       Doc({kBureau}, {kChief, "{code: chief, name: 另一个}"}),
       {"posts[1].code"},
       "duplicates posts[0].code"},
      {"unknown_power",
       Doc({kBureau}, {"{code: p, name: P, powers: [FINANCE, FLYING]}"}),
       {"posts[0].powers[1]"},
       "unknown power 'FLYING'"},
      {"repeated_power",
       Doc({kBureau}, {"{code: p, name: P, powers: [FINANCE, FINANCE]}"}),
       {"posts[0].powers[1]"},
       "repeats"},
      {"powers_not_a_list",
       Doc({kBureau}, {"{code: p, name: P, powers: FINANCE}"}),
       {"posts[0].powers"},
       "must be a list"},
      {"unknown_duty",
       Doc({kBureau}, {"{code: p, name: P, duty: BOSS}"}),
       {"posts[0].duty"},
       "unknown leader duty 'BOSS' (PRINCIPAL or SUPERVISING)"},
      {"lowercase_duty", Doc({kBureau}, {"{code: p, name: P, duty: principal}"}), {"posts[0].duty"}, "unknown"},
      {"unspecified_duty", Doc({kBureau}, {"{code: p, name: P, duty: UNSPECIFIED}"}), {"posts[0].duty"}, "unknown"},
      {"prefixed_duty",
       Doc({kBureau}, {"{code: p, name: P, duty: LEADER_DUTY_PRINCIPAL}"}),
       {"posts[0].duty"},
       "unknown leader duty"},
      {"duty_not_text", Doc({kBureau}, {"{code: p, name: P, duty: [PRINCIPAL]}"}), {"posts[0].duty"}, "must be text"},
      {"duty_in_second_post",
       Doc({kBureau}, {kChief, "{code: p, name: P, duty: SUPERVISOR}"}),
       {"posts[1].duty"},
       "'SUPERVISOR'"},
      {"post_field_typo",
       Doc({kBureau}, {"{code: p, name: P, power: [FINANCE]}"}),
       {"posts[0].power"},
       "unknown field"},
      {"duplicate_badge",
       Doc({kBureau, kBranch}, {kChief}, {kWang, "{badge: '510701', name: 张三, unit: bureau, category: POLICE}"}),
       {"people[1].badge"},
       "duplicates people[0].badge"},
      {"duplicate_badge_after_trim",
       Doc({kBureau}, {}, {kLi, "{badge: ' 510702 ', name: 张三, unit: bureau, category: POLICE}"}),
       {"people[1].badge"},
       "duplicates people[0].badge"},
      {"bad_badge",
       Doc({kBureau}, {}, {"{badge: '51 07', name: 张三, unit: bureau, category: POLICE}"}),
       {"people[0].badge"},
       "may contain only"},
      {"oversize_person_name",
       Doc({kBureau}, {}, {"{badge: '1', name: " + Repeat("张", 65) + ", unit: bureau, category: POLICE}"}),
       {"people[0].name"},
       "longer than 64"},
      {"invalid_utf8_in_person_name",
       Doc({kBureau}, {}, {"{badge: '1', name: \"王\xff明\", unit: bureau, category: POLICE}"}),
       {"people[0].name"},
       "UTF-8"},
      {"unknown_category",
       Doc({kBureau}, {}, {"{badge: '1', name: 张三, unit: bureau, category: ROBOT}"}),
       {"people[0].category"},
       "POLICE, AUXILIARY or CIVILIAN"},
      {"missing_category",
       Doc({kBureau}, {}, {"{badge: '1', name: 张三, unit: bureau}"}),
       {"people[0].category"},
       "is required"},
      {"unknown_unit_reference",
       Doc({kBureau}, {}, {"{badge: '1', name: 张三, unit: mars, category: POLICE}"}),
       {"people[0].unit"},
       "unknown unit 'mars'"},
      {"unknown_post_reference",
       Doc({kBureau}, {kChief}, {"{badge: '1', name: 张三, unit: bureau, post: king, category: POLICE}"}),
       {"people[0].post"},
       "unknown post 'king'"},
      {"bad_leader",
       Doc({kBureau}, {}, {"{badge: '1', name: 张三, unit: bureau, leader: maybe, category: POLICE}"}),
       {"people[0].leader"},
       "true or false"},
      {"person_field_typo",
       Doc({kBureau}, {}, {"{bagde: '1', badge: '1', name: 张三, unit: bureau, category: POLICE}"}),
       {"people[0].bagde"},
       "unknown field"},
      {"document_key_typo", Doc({kBureau}) + "peple: []\n", {"document.peple"}, "unknown field"},
      {"empty_document", "", {"document"}, "is empty"},
      {"list_document", "- a\n- b\n", {"document"}, "must be a map"},
      {"scalar_document", "hello", {"document"}, "must be a map"},
      {"comment_only_document", "# nothing here\n", {"document"}, "must be a map"},
      {"yaml_syntax_error", "units:\n  - {code: a, name: [unclosed\n", {"document"}, "cannot be parsed"},
      {"json_syntax_error", "{\"units\": [{\"code\": \"a\",}", {"document"}, "cannot be parsed"},
  };
}

class ParseBad : public ::testing::TestWithParam<BadCase> {};

TEST_P(ParseBad, NamesTheField) {
  const BadCase& c = GetParam();
  auto doc = ParseDocument(c.text);
  ASSERT_FALSE(doc.ok()) << "accepted:\n" << c.text;
  EXPECT_EQ(doc.status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<FieldViolation> violations = FieldViolations(doc.status());
  ASSERT_FALSE(violations.empty()) << doc.status();
  std::vector<std::string> fields;
  for (const auto& v : violations) fields.push_back(v.field);
  EXPECT_THAT(fields, UnorderedElementsAreArray(c.fields)) << doc.status();
  EXPECT_THAT(violations[0].description, HasSubstr(c.description));
  // The message names the first field for clients that ignore details.
  EXPECT_THAT(std::string(doc.status().message()), HasSubstr(violations[0].field));
}

INSTANTIATE_TEST_SUITE_P(Cases, ParseBad, ::testing::ValuesIn(BadCases()),
                         [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

TEST(ParseDocument, CycleDescriptionShowsThePath) {
  auto doc = ParseDocument(
      Doc({"{code: a, name: A, kind: BUREAU, parent: b}", "{code: b, name: B, kind: STATION, parent: a}"}));
  ASSERT_FALSE(doc.ok());
  auto v = FieldViolations(doc.status());
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].field, "units[0].parent");
  EXPECT_EQ(v[0].description, "forms a cycle: a -> b -> a");
  EXPECT_EQ(v[1].description, "forms a cycle: b -> a -> b");
}

TEST(ParseDocument, EveryProblemIsReportedAtOnce) {
  auto doc = ParseDocument(
      Doc({"{code: a, name: '', kind: CASTLE}"}, {}, {"{badge: '1', name: 张三, unit: nowhere, category: ROBOT}"}));
  ASSERT_FALSE(doc.ok());
  std::set<std::string> fields;
  for (const auto& v : FieldViolations(doc.status())) fields.insert(v.field);
  EXPECT_EQ(fields, (std::set<std::string>{"units[0].name", "units[0].kind", "people[0].unit", "people[0].category"}));
}

TEST(ParseDocument, AtMostAHundredViolationsAreKept) {
  std::vector<std::string> units;
  for (int i = 0; i < 150; ++i) units.push_back("{code: u" + std::to_string(i) + ", name: '', kind: STATION}");
  auto doc = ParseDocument(Doc(units));
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(FieldViolations(doc.status()).size(), 100u);
}

TEST(ParseDocument, NameOfExactlyTheLimitIsAccepted) {
  auto doc = ParseDocument(Doc({"{code: " + Repeat("a", 64) + ", name: " + Repeat("中", 64) + ", kind: BUREAU}"}));
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(CodePoints(doc->units[0].name), 64u);
}

TEST(ParseDocument, RepeatedKeyInAnItemIsReported) {
  // A copy-paste slip: the second `parent` would be silently ignored.
  auto doc =
      ParseDocument(Doc({kBureau, kBranch, "{code: s, name: 派出所, kind: STATION, parent: bureau, parent: branch}"}));
  // Regression (fixed): workflow.cc Checker::Keys accepts a key that appears twice in one item; yaml-cpp
  // keeps the first value and the second is dropped without a word, unlike an unknown key.
  ASSERT_FALSE(doc.ok()) << "parent = " << doc->units[2].parent;
  std::vector<std::string> fields;
  for (const auto& v : FieldViolations(doc.status())) fields.push_back(v.field);
  EXPECT_THAT(fields, ElementsAre("units[2].parent"));
}

// Milliseconds ParseDocument takes for 6000 units, each under the previous one (a chain) or
// all under the first (flat). Both documents have the same size and number of references.
std::chrono::milliseconds ParseMillis(bool chain) {
  std::vector<std::string> units = {"{code: u0, name: U, kind: BUREAU}"};
  for (int i = 1; i < 6000; ++i) {
    const int parent = chain ? i - 1 : 0;
    units.push_back("{code: u" + std::to_string(i) + ", name: U, kind: STATION, parent: u" + std::to_string(parent) +
                    "}");
  }
  const std::string text = Doc(units);
  const auto start = std::chrono::steady_clock::now();
  auto doc = ParseDocument(text);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(doc.ok()) << doc.status();
  return std::chrono::duration_cast<std::chrono::milliseconds>(elapsed);
}

TEST(ParseDocument, DeepUnitChainParsesAndItsDepthIsPreserved) {
  // A 6000-level chain (330 KB, far below the 16 MB limit) is accepted, as is the flat tree
  // of the same size. The cycle check is linear (each unit is walked once); how long parsing
  // takes is measured by benchmarks, not asserted here.
  (void)ParseMillis(false);
  (void)ParseMillis(true);
}

// --- ParseDocument: good input --------------------------------------------------------------

const char kValidYaml[] = R"(
units:
  - code: station            # listed before its parent: order is free
    name: 城郊派出所
    kind: STATION
    parent: branch
  - code: bureau
    name: 市公安局
    name_en: Municipal Public Security Bureau
    kind: BUREAU
    parent: ""
  - code: branch
    name: 府城分局
    kind: BRANCH_BUREAU
    parent: bureau
posts:
  - code: station-chief
    name: 派出所所长
    name_en: Police station chief
    powers: [PERSONNEL, CASE_HANDLING]
  - code: clerk
    name: 内勤
people:
  - badge: "510701"
    name: 王建国
    unit: station
    post: station-chief
    grade: 一级警长
    leader: true
    category: POLICE
  - badge: A-0001
    name: 李明
    unit: branch
    category: AUXILIARY
    leader: no
)";

const char kValidJson[] = R"({
  "units": [
    {"code": "station", "name": "城郊派出所", "kind": "STATION", "parent": "branch"},
    {"code": "bureau", "name": "市公安局", "name_en": "Municipal Public Security Bureau",
     "kind": "BUREAU", "parent": ""},
    {"code": "branch", "name": "府城分局", "kind": "BRANCH_BUREAU", "parent": "bureau"}
  ],
  "posts": [
    {"code": "station-chief", "name": "派出所所长", "name_en": "Police station chief",
     "powers": ["PERSONNEL", "CASE_HANDLING"]},
    {"code": "clerk", "name": "\u5185\u52e4"}
  ],
  "people": [
    {"badge": "510701", "name": "王建国", "unit": "station", "post": "station-chief",
     "grade": "一级警长", "leader": true, "category": "POLICE"},
    {"badge": "A-0001", "name": "李明", "unit": "branch", "category": "AUXILIARY", "leader": false}
  ]
})";

void ExpectTheValidDocument(const Document& d) {
  ASSERT_EQ(d.units.size(), 3u);
  EXPECT_EQ(d.units[0].code, "station");
  EXPECT_EQ(d.units[0].name, "城郊派出所");
  EXPECT_EQ(d.units[0].kind, v1::UNIT_KIND_STATION);
  EXPECT_EQ(d.units[0].parent, "branch");
  EXPECT_EQ(d.units[0].sort_order, 0);
  EXPECT_EQ(d.units[1].code, "bureau");
  EXPECT_EQ(d.units[1].name_en, "Municipal Public Security Bureau");
  EXPECT_EQ(d.units[1].parent, "");
  EXPECT_EQ(d.units[1].kind, v1::UNIT_KIND_BUREAU);
  EXPECT_EQ(d.units[2].kind, v1::UNIT_KIND_BRANCH_BUREAU);
  EXPECT_EQ(d.units[2].sort_order, 2);

  ASSERT_EQ(d.posts.size(), 2u);
  EXPECT_EQ(d.posts[0].code, "station-chief");
  EXPECT_THAT(d.posts[0].powers, ElementsAre(v1::POWER_CASE_HANDLING, v1::POWER_PERSONNEL)) << "sorted and unique";
  EXPECT_EQ(d.posts[1].name, "内勤");
  EXPECT_THAT(d.posts[1].powers, IsEmpty());

  ASSERT_EQ(d.people.size(), 2u);
  EXPECT_EQ(d.people[0].badge, "510701");
  EXPECT_EQ(d.people[0].name, "王建国");
  EXPECT_EQ(d.people[0].unit, "station");
  EXPECT_EQ(d.people[0].post, "station-chief");
  EXPECT_EQ(d.people[0].grade, "一级警长");
  EXPECT_TRUE(d.people[0].leader);
  EXPECT_EQ(d.people[0].category, v1::PERSON_CATEGORY_POLICE);
  EXPECT_EQ(d.people[1].badge, "A-0001");
  EXPECT_EQ(d.people[1].post, "");
  EXPECT_FALSE(d.people[1].leader);
  EXPECT_EQ(d.people[1].category, v1::PERSON_CATEGORY_AUXILIARY);
}

TEST(ParseDocument, ValidYaml) {
  auto doc = ParseDocument(kValidYaml);
  ASSERT_TRUE(doc.ok()) << doc.status();
  ExpectTheValidDocument(*doc);
}

TEST(ParseDocument, ValidJson) {
  auto doc = ParseDocument(kValidJson);
  ASSERT_TRUE(doc.ok()) << doc.status();
  ExpectTheValidDocument(*doc);
}

TEST(ParseDocument, SurroundingSpacesAreTrimmed) {
  auto doc = ParseDocument(Doc({"{code: ' bureau ', name: \"  市公安局\\t\", kind: ' BUREAU', name_en: ' MPSB '}",
                                "{code: b, name: B, kind: STATION, parent: 'bureau  '}"},
                               {}, {"{badge: ' 510701 ', name: ' 王建国 ', unit: ' b ', category: ' POLICE '}"}));
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->units[0].code, "bureau");
  EXPECT_EQ(doc->units[0].name, "市公安局");
  EXPECT_EQ(doc->units[0].name_en, "MPSB");
  EXPECT_EQ(doc->units[0].kind, v1::UNIT_KIND_BUREAU);
  EXPECT_EQ(doc->units[1].parent, "bureau");
  EXPECT_EQ(doc->people[0].badge, "510701");
  EXPECT_EQ(doc->people[0].name, "王建国");
  EXPECT_EQ(doc->people[0].unit, "b");
}

TEST(ParseDocument, EmptyListsAreFine) {
  auto doc = ParseDocument("units: []\nposts: []\npeople: []\n");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_TRUE(doc->units.empty());
  doc = ParseDocument("units:\n");
  ASSERT_TRUE(doc.ok()) << doc.status();
}

TEST(ParseDocument, ByteOrderMarkAndCrlfAreAccepted) {
  // Spreadsheet exports on Windows write a BOM and CRLF line ends.
  std::string text = "\xEF\xBB\xBF";
  for (char c : std::string(kValidYaml)) {
    if (c == '\n') text += '\r';
    text += c;
  }
  auto doc = ParseDocument(text);
  ASSERT_TRUE(doc.ok()) << doc.status();
  ExpectTheValidDocument(*doc);
}

TEST(ParseDocument, TabIndentedJsonIsAccepted) {
  // JSON written with tab indentation (many editors and JSON.stringify(x, null, "\t")).
  std::string text =
      "{\n\t\"units\": [\n\t\t{\"code\": \"bureau\", \"name\": \"市公安局\", \"kind\": \"BUREAU\"}\n\t]\n}\n";
  auto doc = ParseDocument(text);
  ASSERT_TRUE(doc.ok()) << doc.status();
  ASSERT_EQ(doc->units.size(), 1u);
  EXPECT_EQ(doc->units[0].code, "bureau");
}

// --- UTF-8 helpers and enum names -----------------------------------------------------------

TEST(Utf8, IsValidUtf8) {
  struct Case {
    std::string s;
    bool valid;
  };
  const Case cases[] = {
      {"", true},
      {"ascii", true},
      {"中文 mixed", true},
      {"\xF0\x9F\x98\x80", true},  // U+1F600
      {"\xF4\x8F\xBF\xBF", true},  // U+10FFFF
      {"\xff", false},
      {"\xc3", false},              // truncated
      {"\xe4\xb8", false},          // truncated
      {"\xc0\xaf", false},          // overlong '/'
      {"\xe0\x80\xaf", false},      // overlong
      {"\xed\xa0\x80", false},      // surrogate U+D800
      {"\xf4\x90\x80\x80", false},  // > U+10FFFF
      {"\x80", false},              // lone continuation
      {"a\xe4\xb8z", false},        // bad continuation
      {std::string("a\0b", 3), true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(IsValidUtf8(c.s), c.valid) << testing::PrintToString(c.s);
  }
}

TEST(Utf8, CodePoints) {
  EXPECT_EQ(CodePoints(""), 0u);
  EXPECT_EQ(CodePoints("abc"), 3u);
  EXPECT_EQ(CodePoints("市公安局"), 4u);
  EXPECT_EQ(CodePoints("a中\xF0\x9F\x98\x80"), 3u);
}

TEST(EnumNames, RoundTrip) {
  EXPECT_EQ(UnitKindName(v1::UNIT_KIND_BRANCH_BUREAU), "BRANCH_BUREAU");
  EXPECT_EQ(UnitKindFromName("BRANCH_BUREAU"), v1::UNIT_KIND_BRANCH_BUREAU);
  EXPECT_EQ(UnitKindFromName(""), v1::UNIT_KIND_UNSPECIFIED);
  EXPECT_EQ(UnitKindFromName("UNIT_KIND_BUREAU"), v1::UNIT_KIND_UNSPECIFIED);
  EXPECT_EQ(PowerName(v1::POWER_PROPERTY_CUSTODY), "PROPERTY_CUSTODY");
  EXPECT_EQ(PowerFromName("FINANCE"), v1::POWER_FINANCE);
  EXPECT_EQ(PowerFromName("finance"), v1::POWER_UNSPECIFIED);
  EXPECT_EQ(CategoryName(v1::PERSON_CATEGORY_CIVILIAN), "CIVILIAN");
  EXPECT_EQ(CategoryFromName("AUXILIARY"), v1::PERSON_CATEGORY_AUXILIARY);
  EXPECT_EQ(CategoryFromName("NOBODY"), v1::PERSON_CATEGORY_UNSPECIFIED);
  for (int k = 1; k <= 13; ++k) {
    auto kind = static_cast<v1::UnitKind>(k);
    EXPECT_EQ(UnitKindFromName(UnitKindName(kind)), kind) << k;
  }
}

TEST(EnumNames, DutyRoundTrip) {
  EXPECT_EQ(DutyName(v1::LEADER_DUTY_PRINCIPAL), "PRINCIPAL");
  EXPECT_EQ(DutyName(v1::LEADER_DUTY_SUPERVISING), "SUPERVISING");
  EXPECT_EQ(DutyName(v1::LEADER_DUTY_UNSPECIFIED), "") << "no duty is stored as none";
  EXPECT_EQ(DutyFromName("SUPERVISING"), v1::LEADER_DUTY_SUPERVISING);
  EXPECT_EQ(DutyFromName(""), v1::LEADER_DUTY_UNSPECIFIED);
  EXPECT_EQ(DutyFromName("UNSPECIFIED"), v1::LEADER_DUTY_UNSPECIFIED);
  for (int d = 1; d <= 2; ++d) {
    auto duty = static_cast<v1::LeaderDuty>(d);
    EXPECT_EQ(DutyFromName(DutyName(duty)), duty) << d;
  }
  EXPECT_FALSE(v1::LeaderDuty_IsValid(3)) << "a new duty needs a case here and in the demo directory";
}

TEST(ParseDocument, PostDutyIsOptionalAndTrimmed) {
  auto doc =
      ParseDocument(Doc({kBureau}, {"{code: chief, name: 局长, duty: PRINCIPAL}",
                                    "{code: commissar, name: 政委, duty: ' SUPERVISING '}", "{code: clerk, name: 内勤}",
                                    "{code: none, name: 无, duty: ~}", "{code: blank, name: 空, duty: ''}"}));
  ASSERT_TRUE(doc.ok()) << doc.status();
  ASSERT_EQ(doc->posts.size(), 5u);
  EXPECT_EQ(doc->posts[0].duty, v1::LEADER_DUTY_PRINCIPAL);
  EXPECT_EQ(doc->posts[1].duty, v1::LEADER_DUTY_SUPERVISING);
  for (size_t i = 2; i < 5; ++i) EXPECT_EQ(doc->posts[i].duty, v1::LEADER_DUTY_UNSPECIFIED) << doc->posts[i].code;
}

TEST(ParseDocument, PostDutyInJson) {
  auto doc = ParseDocument(R"({"posts": [{"code": "chief", "name": "局长", "duty": "PRINCIPAL"}]})");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->posts[0].duty, v1::LEADER_DUTY_PRINCIPAL);
}

// --- PlanImport -------------------------------------------------------------------------------

// Deterministic ids: id-1, id-2, ...
class IdGen {
 public:
  std::string operator()() { return "id-" + std::to_string(++n_); }
  int issued() const { return n_; }

 private:
  int n_ = 0;
};

// What the store would hold after writing `plan` over `s`.
Snapshot Apply(Snapshot s, const Plan& plan) {
  auto upsert = [](auto& rows, const auto& row) {
    for (auto& r : rows) {
      if (r.id == row.id) {
        r = row;
        return;
      }
    }
    rows.push_back(row);
  };
  auto deactivate = [](auto& rows, const std::vector<std::string>& ids) {
    for (auto& r : rows) {
      if (std::find(ids.begin(), ids.end(), r.id) != ids.end()) r.active = false;
    }
  };
  for (const auto& u : plan.unit_writes) upsert(s.units, u);
  for (const auto& p : plan.post_writes) upsert(s.posts, p);
  for (const auto& p : plan.person_writes) upsert(s.people, p);
  deactivate(s.units, plan.unit_deactivations);
  deactivate(s.posts, plan.post_deactivations);
  deactivate(s.people, plan.person_deactivations);
  return s;
}

Document MustParse(const std::string& text) {
  auto doc = ParseDocument(text);
  EXPECT_TRUE(doc.ok()) << doc.status();
  return doc.ok() ? *std::move(doc) : Document{};
}

template <typename Row>
const Row* ByKey(const std::vector<Row>& rows, const std::string& key) {
  for (const auto& r : rows) {
    if constexpr (std::is_same_v<Row, StoredPerson>) {
      if (r.badge == key) return &r;
    } else {
      if (r.code == key) return &r;
    }
  }
  return nullptr;
}

std::vector<std::string> Fields(const v1::ImportChange& c) { return {c.fields().begin(), c.fields().end()}; }

void ExpectCounts(const v1::ImportCounts& c, int created, int updated, int unchanged, int deactivated) {
  EXPECT_EQ(c.created(), created);
  EXPECT_EQ(c.updated(), updated);
  EXPECT_EQ(c.unchanged(), unchanged);
  EXPECT_EQ(c.deactivated(), deactivated);
}

class PlanImportTest : public ::testing::Test {
 protected:
  // Imports kValidYaml into an empty store.
  void SetUp() override {
    base_ = MustParse(kValidYaml);
    Plan first = PlanImport({}, base_, std::ref(ids_));
    stored_ = Apply({}, first);
  }
  Plan Replan(const Document& doc) { return PlanImport(stored_, doc, std::ref(ids_)); }

  IdGen ids_;
  Document base_;
  Snapshot stored_;
};

TEST(PlanImport, EmptySnapshotCreatesEverything) {
  IdGen ids;
  Document doc = MustParse(kValidYaml);
  Plan plan = PlanImport({}, doc, std::ref(ids));
  EXPECT_TRUE(plan.changed());
  ExpectCounts(plan.units, 3, 0, 0, 0);
  ExpectCounts(plan.posts, 2, 0, 0, 0);
  ExpectCounts(plan.people, 2, 0, 0, 0);
  EXPECT_EQ(plan.unit_writes.size(), 3u);
  EXPECT_EQ(plan.post_writes.size(), 2u);
  EXPECT_EQ(plan.person_writes.size(), 2u);
  EXPECT_THAT(plan.unit_deactivations, IsEmpty());
  EXPECT_EQ(plan.new_ids.size(), 7u);
  EXPECT_EQ(std::set<std::string>(plan.new_ids.begin(), plan.new_ids.end()).size(), 7u);
  EXPECT_EQ(ids.issued(), 7);
  ASSERT_EQ(plan.changes.size(), 7u);
  for (const auto& c : plan.changes) {
    EXPECT_EQ(c.action(), v1::ImportChange::ACTION_CREATED) << c.key();
    EXPECT_EQ(c.fields_size(), 0);
  }
  EXPECT_EQ(plan.changes[0].kind(), "unit");
  EXPECT_EQ(plan.changes[0].key(), "station");

  // Rows carry resolved ids, document order and enum names.
  const StoredUnit* station = ByKey(plan.unit_writes, "station");
  const StoredUnit* branch = ByKey(plan.unit_writes, "branch");
  const StoredUnit* bureau = ByKey(plan.unit_writes, "bureau");
  ASSERT_TRUE(station && branch && bureau);
  EXPECT_EQ(bureau->parent_id, "");
  EXPECT_EQ(bureau->kind, "BUREAU");
  EXPECT_EQ(bureau->name_en, "Municipal Public Security Bureau");
  EXPECT_TRUE(bureau->active);
  EXPECT_EQ(station->sort_order, 0);
  EXPECT_EQ(branch->sort_order, 2);

  const StoredPost* chief = ByKey(plan.post_writes, "station-chief");
  ASSERT_NE(chief, nullptr);
  EXPECT_THAT(chief->powers, ElementsAre("CASE_HANDLING", "PERSONNEL"));

  const StoredPerson* wang = ByKey(plan.person_writes, "510701");
  const StoredPerson* li = ByKey(plan.person_writes, "A-0001");
  ASSERT_TRUE(wang && li);
  EXPECT_EQ(wang->unit_id, station->id);
  EXPECT_EQ(wang->post_id, chief->id);
  EXPECT_EQ(wang->category, "POLICE");
  EXPECT_EQ(wang->grade, "一级警长");
  EXPECT_TRUE(wang->leader);
  EXPECT_EQ(li->unit_id, branch->id);
  EXPECT_EQ(li->post_id, "");
  EXPECT_FALSE(li->leader);
}

TEST(PlanImport, ParentsResolveWhateverTheDocumentOrder) {
  // Child first, then grandchild, then the root.
  IdGen ids;
  Document doc = MustParse(Doc({"{code: branch, name: 分局, kind: BRANCH_BUREAU, parent: bureau}",
                                "{code: station, name: 派出所, kind: STATION, parent: branch}",
                                "{code: bureau, name: 市公安局, kind: BUREAU}"}));
  Plan plan = PlanImport({}, doc, std::ref(ids));
  const StoredUnit* branch = ByKey(plan.unit_writes, "branch");
  const StoredUnit* station = ByKey(plan.unit_writes, "station");
  const StoredUnit* bureau = ByKey(plan.unit_writes, "bureau");
  ASSERT_TRUE(branch && station && bureau);
  EXPECT_FALSE(bureau->id.empty());
  EXPECT_EQ(branch->parent_id, bureau->id);
  EXPECT_EQ(station->parent_id, branch->id);
  EXPECT_EQ(bureau->parent_id, "");
}

TEST_F(PlanImportTest, SameDocumentAgainChangesNothing) {
  const int issued = ids_.issued();
  Plan plan = Replan(base_);
  EXPECT_FALSE(plan.changed());
  ExpectCounts(plan.units, 0, 0, 3, 0);
  ExpectCounts(plan.posts, 0, 0, 2, 0);
  ExpectCounts(plan.people, 0, 0, 2, 0);
  EXPECT_THAT(plan.changes, IsEmpty());
  EXPECT_THAT(plan.new_ids, IsEmpty());
  EXPECT_EQ(ids_.issued(), issued) << "no new ids for known rows";
}

TEST_F(PlanImportTest, SameDocumentAsJsonChangesNothing) { EXPECT_FALSE(Replan(MustParse(kValidJson)).changed()); }

TEST_F(PlanImportTest, RenamingOnePersonIsOneUpdateOfName) {
  Document doc = base_;
  doc.people[1].name = "李明明";
  Plan plan = Replan(doc);
  EXPECT_TRUE(plan.changed());
  ExpectCounts(plan.people, 0, 1, 1, 0);
  ExpectCounts(plan.units, 0, 0, 3, 0);
  ASSERT_EQ(plan.changes.size(), 1u);
  EXPECT_EQ(plan.changes[0].kind(), "person");
  EXPECT_EQ(plan.changes[0].key(), "A-0001");
  EXPECT_EQ(plan.changes[0].action(), v1::ImportChange::ACTION_UPDATED);
  EXPECT_THAT(Fields(plan.changes[0]), ElementsAre("name"));
  ASSERT_EQ(plan.person_writes.size(), 1u);
  EXPECT_EQ(plan.person_writes[0].id, ByKey(stored_.people, "A-0001")->id) << "same row";
  EXPECT_EQ(plan.person_writes[0].name, "李明明");
  EXPECT_EQ(plan.person_writes[0].unit_id, ByKey(stored_.people, "A-0001")->unit_id);
  EXPECT_THAT(plan.new_ids, IsEmpty());
}

TEST_F(PlanImportTest, SeveralPersonFieldsAreListed) {
  Document doc = base_;
  doc.people[0].unit = "branch";
  doc.people[0].post = "";
  doc.people[0].grade = "二级警长";
  doc.people[0].leader = false;
  doc.people[0].category = v1::PERSON_CATEGORY_CIVILIAN;
  Plan plan = Replan(doc);
  ASSERT_EQ(plan.changes.size(), 1u);
  EXPECT_THAT(Fields(plan.changes[0]), ElementsAre("unit", "post", "grade", "leader", "category"));
}

TEST_F(PlanImportTest, DroppingAPersonDeactivatesIt) {
  Document doc = base_;
  doc.people.erase(doc.people.begin());  // 510701
  Plan plan = Replan(doc);
  EXPECT_TRUE(plan.changed());
  ExpectCounts(plan.people, 0, 0, 1, 1);
  EXPECT_THAT(plan.person_deactivations, ElementsAre(ByKey(stored_.people, "510701")->id));
  EXPECT_THAT(plan.person_writes, IsEmpty());
  ASSERT_EQ(plan.changes.size(), 1u);
  EXPECT_EQ(plan.changes[0].action(), v1::ImportChange::ACTION_DEACTIVATED);
  EXPECT_EQ(plan.changes[0].key(), "510701");

  // Importing the shorter document again: the inactive row stays as it is.
  stored_ = Apply(stored_, plan);
  EXPECT_FALSE(ByKey(stored_.people, "510701")->active);
  EXPECT_FALSE(Replan(doc).changed());
}

TEST_F(PlanImportTest, ReAddingADeactivatedPersonUpdatesActive) {
  Document shorter = base_;
  shorter.people.erase(shorter.people.begin());
  stored_ = Apply(stored_, Replan(shorter));
  const std::string id = ByKey(stored_.people, "510701")->id;

  Plan plan = Replan(base_);
  ExpectCounts(plan.people, 0, 1, 1, 0);
  ASSERT_EQ(plan.changes.size(), 1u);
  EXPECT_EQ(plan.changes[0].action(), v1::ImportChange::ACTION_UPDATED);
  EXPECT_THAT(Fields(plan.changes[0]), ElementsAre("active"));
  ASSERT_EQ(plan.person_writes.size(), 1u);
  EXPECT_EQ(plan.person_writes[0].id, id) << "the old row comes back, no new id";
  EXPECT_TRUE(plan.person_writes[0].active);
  EXPECT_THAT(plan.new_ids, IsEmpty());
}

TEST_F(PlanImportTest, MovingAUnitChangesItsParent) {
  // station moves from branch to directly under bureau, keeping its place in the list.
  Document doc = base_;
  doc.units[0].parent = "bureau";
  Plan plan = Replan(doc);
  ExpectCounts(plan.units, 0, 1, 2, 0);
  ASSERT_EQ(plan.changes.size(), 1u);
  EXPECT_EQ(plan.changes[0].kind(), "unit");
  EXPECT_EQ(plan.changes[0].key(), "station");
  EXPECT_THAT(Fields(plan.changes[0]), ElementsAre("parent"));
  ASSERT_EQ(plan.unit_writes.size(), 1u);
  EXPECT_EQ(plan.unit_writes[0].parent_id, ByKey(stored_.units, "bureau")->id);
}

TEST_F(PlanImportTest, MovingAUnitUnderANewUnit) {
  Document doc = base_;
  UnitSpec team;
  team.code = "team";
  team.name = "新队";
  team.kind = v1::UNIT_KIND_STATION;
  team.parent = "branch";
  team.sort_order = 3;
  doc.units.push_back(team);
  doc.units[0].parent = "team";
  Plan plan = Replan(doc);
  ExpectCounts(plan.units, 1, 1, 2, 0);
  const StoredUnit* new_team = ByKey(plan.unit_writes, "team");
  const StoredUnit* station = ByKey(plan.unit_writes, "station");
  ASSERT_TRUE(new_team && station);
  EXPECT_EQ(station->parent_id, new_team->id);
  EXPECT_THAT(plan.new_ids, ElementsAre(new_team->id));
}

TEST_F(PlanImportTest, UnitAndPostChangesAreNamed) {
  Document doc = base_;
  doc.units[1].name = "市公安局（新）";
  doc.units[1].name_en = "";
  doc.units[2].kind = v1::UNIT_KIND_POLICE_DIVISION;
  doc.posts[0].powers = {v1::POWER_FINANCE};
  doc.posts[1].name_en = "Clerk";
  Plan plan = Replan(doc);
  std::map<std::string, std::vector<std::string>> changed;
  for (const auto& c : plan.changes) changed[c.kind() + ":" + c.key()] = Fields(c);
  EXPECT_THAT(changed["unit:bureau"], ElementsAre("name", "name_en"));
  EXPECT_THAT(changed["unit:branch"], ElementsAre("kind"));
  EXPECT_THAT(changed["post:station-chief"], ElementsAre("powers"));
  EXPECT_THAT(changed["post:clerk"], ElementsAre("name_en"));
  EXPECT_EQ(changed.size(), 4u);
}

TEST_F(PlanImportTest, GivingTakingAndChangingADutyIsOneUpdateOfDuty) {
  Document doc = base_;
  doc.posts[0].duty = v1::LEADER_DUTY_PRINCIPAL;  // station-chief: none -> PRINCIPAL
  Plan plan = Replan(doc);
  ExpectCounts(plan.posts, 0, 1, 1, 0);
  ASSERT_EQ(plan.post_writes.size(), 1u);
  EXPECT_EQ(plan.post_writes[0].code, "station-chief");
  EXPECT_EQ(plan.post_writes[0].duty, "PRINCIPAL");
  ASSERT_EQ(plan.changes.size(), 1u);
  EXPECT_THAT(Fields(plan.changes[0]), ElementsAre("duty"));
  stored_ = Apply(stored_, plan);
  EXPECT_FALSE(Replan(doc).changed()) << "the same duty again";

  doc.posts[0].duty = v1::LEADER_DUTY_SUPERVISING;
  plan = Replan(doc);
  ASSERT_EQ(plan.post_writes.size(), 1u);
  EXPECT_EQ(plan.post_writes[0].duty, "SUPERVISING");
  EXPECT_THAT(Fields(plan.changes[0]), ElementsAre("duty"));
  stored_ = Apply(stored_, plan);

  plan = Replan(base_);  // the duty dropped from the document
  ASSERT_EQ(plan.post_writes.size(), 1u);
  EXPECT_EQ(plan.post_writes[0].duty, "");
  EXPECT_THAT(Fields(plan.changes[0]), ElementsAre("duty"));
  EXPECT_TRUE(plan.person_writes.empty()) << "the holder of the post is not changed";
}

TEST(PlanImport, ANewPostCarriesItsDuty) {
  IdGen ids;
  Document doc = MustParse(Doc({kBureau}, {"{code: chief, name: 局长, duty: PRINCIPAL}", "{code: clerk, name: 内勤}"}));
  Plan plan = PlanImport({}, doc, std::ref(ids));
  ASSERT_EQ(plan.post_writes.size(), 2u);
  EXPECT_EQ(ByKey(plan.post_writes, "chief")->duty, "PRINCIPAL");
  EXPECT_EQ(ByKey(plan.post_writes, "clerk")->duty, "");
}

TEST_F(PlanImportTest, ReorderingUnitsChangesOrder) {
  Document doc =
      MustParse(Doc({"{code: bureau, name: 市公安局, name_en: Municipal Public Security Bureau, kind: BUREAU}",
                     "{code: branch, name: 府城分局, kind: BRANCH_BUREAU, parent: bureau}",
                     "{code: station, name: 城郊派出所, kind: STATION, parent: branch}"}));
  doc.posts = base_.posts;
  doc.people = base_.people;
  Plan plan = Replan(doc);
  std::map<std::string, std::vector<std::string>> changed;
  for (const auto& c : plan.changes) changed[c.key()] = Fields(c);
  EXPECT_THAT(changed["bureau"], ElementsAre("order"));
  EXPECT_THAT(changed["branch"], ElementsAre("order"));
  EXPECT_THAT(changed["station"], ElementsAre("order"));
}

TEST_F(PlanImportTest, DroppingUnitsAndPostsDeactivatesThem) {
  Document doc = base_;
  doc.posts.erase(doc.posts.begin() + 1);  // clerk
  Plan plan = Replan(doc);
  ExpectCounts(plan.posts, 0, 0, 1, 1);
  EXPECT_THAT(plan.post_deactivations, ElementsAre(ByKey(stored_.posts, "clerk")->id));

  Document empty;
  plan = Replan(empty);
  ExpectCounts(plan.units, 0, 0, 0, 3);
  ExpectCounts(plan.posts, 0, 0, 0, 2);
  ExpectCounts(plan.people, 0, 0, 0, 2);
  EXPECT_EQ(plan.unit_deactivations.size(), 3u);
}

}  // namespace
}  // namespace sm::directory
