// Tests for tools/smctl/output.h: display width of CJK text, tables that line up with
// double-width characters, and tree connectors.
#include "tools/smctl/output.h"

#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sm::smctl {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> SplitLines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(DisplayWidth, AsciiIsOneColumnEach) {
  EXPECT_EQ(DisplayWidth(""), 0u);
  EXPECT_EQ(DisplayWidth("a"), 1u);
  EXPECT_EQ(DisplayWidth("bureau-1"), 8u);
}

TEST(DisplayWidth, CjkIsTwoColumnsEach) {
  EXPECT_EQ(DisplayWidth("中"), 2u);
  EXPECT_EQ(DisplayWidth("市公安局"), 8u);
  EXPECT_EQ(DisplayWidth("，。"), 4u) << "full-width punctuation";
  EXPECT_EQ(DisplayWidth("（处长）"), 8u);
  EXPECT_EQ(DisplayWidth("한국"), 4u);
  EXPECT_EQ(DisplayWidth("ＡＢ"), 4u) << "full-width Latin";
  EXPECT_EQ(DisplayWidth("\xF0\xA0\x80\x80"), 2u) << "CJK extension B, U+20000";
}

TEST(DisplayWidth, Mixed) {
  EXPECT_EQ(DisplayWidth("a中b"), 4u);
  EXPECT_EQ(DisplayWidth("王建国 (510701)"), 15u);
  EXPECT_EQ(DisplayWidth("é"), 1u) << "two bytes, one narrow column";
  EXPECT_EQ(DisplayWidth("─│"), 2u) << "box drawing is narrow";
}

TEST(DisplayWidth, MalformedUtf8DoesNotCrash) {
  EXPECT_EQ(DisplayWidth("\xff"), 1u);
  EXPECT_EQ(DisplayWidth("\x80\x80"), 2u);
  EXPECT_LE(DisplayWidth("a\xe4"), 2u);  // truncated sequence at the end
}

TEST(DisplayWidth, EmojiAreWide) {
  // Regression (fixed): output.cc Wide() omits the emoji blocks (U+1F300..U+1F64F, U+1F900..U+1F9FF), which
  // Unicode's East Asian Width marks W and terminals draw two columns wide, so a table cell
  // holding one is padded one column short.
  EXPECT_EQ(DisplayWidth("\xF0\x9F\x98\x80"), 2u);  // U+1F600
}

TEST(PrintTable, AsciiColumnsArePaddedToTheWidest) {
  std::ostringstream out;
  PrintTable(out, {"CODE", "KIND"}, {{"bureau", "BUREAU"}, {"b", "STATION"}});
  EXPECT_THAT(SplitLines(out.str()),
              ElementsAre("CODE    KIND", "------  -------", "bureau  BUREAU", "b       STATION"));
}

TEST(PrintTable, CjkCellsLineUp) {
  std::ostringstream out;
  PrintTable(out, {"名称", "代码", "类型"},
             {{"市公安局", "bureau", "BUREAU"}, {"分局", "b", "分局"}, {"x", "城郊派出所", "-"}});
  EXPECT_THAT(SplitLines(out.str()),
              ElementsAre("名称      代码        类型", "--------  ----------  ------", "市公安局  bureau      BUREAU",
                          "分局      b           分局", "x         城郊派出所  -"));
  // Every column starts at the same display column on every line.
  for (const auto& line : SplitLines(out.str())) {
    size_t second = line.find("  ");
    while (second < line.size() && line[second] == ' ') ++second;
    EXPECT_EQ(DisplayWidth(line.substr(0, second)), 10u) << line;
  }
}

TEST(PrintTable, HeaderOnly) {
  std::ostringstream out;
  PrintTable(out, {"工号", "姓名"}, {});
  EXPECT_THAT(SplitLines(out.str()), ElementsAre("工号  姓名", "----  ----"));
}

TEST(PrintTable, ShortRowsAndEmptyCells) {
  std::ostringstream out;
  PrintTable(out, {"A", "B", "C"}, {{"1", "", "3"}, {"only"}});
  EXPECT_THAT(SplitLines(out.str()), ElementsAre("A     B  C", "----  -  -", "1        3", "only"));
}

TEST(PrintTree, ConnectorsForAPreOrderTree) {
  std::ostringstream out;
  PrintTree(out,
            {{"市公安局", 0}, {"府城分局", 1}, {"城郊派出所", 2}, {"城东派出所", 2}, {"政治部", 1}, {"干部处", 2}});
  EXPECT_EQ(out.str(),
            "市公安局\n"
            "├─ 府城分局\n"
            "│  ├─ 城郊派出所\n"
            "│  └─ 城东派出所\n"
            "└─ 政治部\n"
            "   └─ 干部处\n");
}

TEST(PrintTree, DeeperTreeKeepsOpenAncestors) {
  std::ostringstream out;
  PrintTree(out, {{"root", 0}, {"a", 1}, {"a1", 2}, {"a1x", 3}, {"a2", 2}, {"b", 1}});
  EXPECT_EQ(out.str(),
            "root\n"
            "├─ a\n"
            "│  ├─ a1\n"
            "│  │  └─ a1x\n"
            "│  └─ a2\n"
            "└─ b\n");
}

TEST(PrintTree, SeveralRoots) {
  std::ostringstream out;
  PrintTree(out, {{"r1", 0}, {"c1", 1}, {"r2", 0}, {"c2", 1}, {"c3", 1}});
  EXPECT_EQ(out.str(),
            "r1\n"
            "└─ c1\n"
            "r2\n"
            "├─ c2\n"
            "└─ c3\n");
}

TEST(PrintTree, SubtreeRootedBelowZero) {
  // A listing that starts at depth 1 (a subtree) still draws consistent connectors.
  std::ostringstream out;
  PrintTree(out, {{"x", 1}, {"y", 2}, {"z", 1}});
  EXPECT_EQ(out.str(),
            "├─ x\n"
            "│  └─ y\n"
            "└─ z\n");
}

TEST(PrintTree, Empty) {
  std::ostringstream out;
  PrintTree(out, {});
  EXPECT_EQ(out.str(), "");
}

TEST(Lang, PicksTheLanguage) {
  EXPECT_STREQ(T(Lang::kZh, "单位", "Unit"), "单位");
  EXPECT_STREQ(T(Lang::kEn, "单位", "Unit"), "Unit");
}

}  // namespace
}  // namespace sm::smctl
