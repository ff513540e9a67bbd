// The shared reading of rectification requests (common/rectification_request.h): each bad
// field of each request named, what each step asks of the rules, and the page a list asks
// for (size limits, tokens bound to their filters).
#include "common/rectification_request.h"

#include <gtest/gtest.h>

#include <set>

#include "common/db/sql.h"
#include "common/status.h"

namespace sm::rectification {
namespace {

const std::string kId = "00000000-0000-7000-8000-0000000000c1";
const std::string kUnit = "00000000-0000-7000-8000-0000000000a3";

// The fields a status names (empty when OK).
std::set<std::string> Named(const absl::Status& s) {
  std::set<std::string> out;
  for (const auto& v : FieldViolations(s)) out.insert(v.field);
  if (!s.ok()) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  }
  return out;
}
using Fields = std::set<std::string>;

TEST(RectificationRequestTest, AddNamesEachBadField) {
  v1::AddRectificationRequest r;
  r.set_request_id("r1");
  r.set_finding_id(kId);
  r.set_measure("建立罚没款日清月结制度");
  EXPECT_EQ(Named(Validate(r)), Fields{});
  r.set_owner_unit_id(kUnit);
  r.set_working_days(365);
  EXPECT_EQ(Named(Validate(r)), Fields{});
  EXPECT_EQ(Named(Validate(v1::AddRectificationRequest())), (Fields{"request_id", "finding_id", "measure"}));
  v1::AddRectificationRequest bad = r;
  bad.set_finding_id("F-1");
  bad.set_owner_unit_id("traffic");
  bad.set_working_days(366);
  bad.set_measure(std::string(2001, 'x'));
  bad.set_request_id(std::string(129, 'k'));
  EXPECT_EQ(Named(Validate(bad)), (Fields{"request_id", "finding_id", "owner_unit_id", "working_days", "measure"}));
  bad = r;
  bad.set_working_days(-1);
  EXPECT_EQ(Named(Validate(bad)), Fields{"working_days"});
}

TEST(RectificationRequestTest, StepsNameEachBadField) {
  v1::RecordProgressRequest p;
  EXPECT_EQ(Named(Validate(p)), (Fields{"request_id", "rectification_id", "note"}));
  p.set_request_id("r1");
  p.set_rectification_id(kId);
  p.set_note("已补登记");
  EXPECT_EQ(Named(Validate(p)), Fields{});
  p.add_evidence_refs("收据 1");
  p.add_evidence_refs("收据 1");
  p.add_evidence_refs("");
  EXPECT_EQ(Named(Validate(p)), (Fields{"evidence_refs[1]", "evidence_refs[2]"}));
  p.clear_evidence_refs();
  p.set_note(std::string(4001, 'n'));
  EXPECT_EQ(Named(Validate(p)), Fields{"note"});

  v1::SubmitRectificationRequest s;
  EXPECT_EQ(Named(Validate(s)), (Fields{"request_id", "rectification_id", "expected_version", "summary"}));
  s.set_request_id("r1");
  s.set_rectification_id(kId);
  s.set_expected_version(3);
  s.set_summary(std::string(4000, 's'));
  EXPECT_EQ(Named(Validate(s)), Fields{});

  v1::ReviewRectificationRequest v;
  v.set_request_id("r1");
  v.set_rectification_id(kId);
  v.set_expected_version(3);
  v.set_approve(true);
  EXPECT_EQ(Named(Validate(v)), Fields{});  // signing off needs no reason
  v.set_approve(false);
  EXPECT_EQ(Named(Validate(v)), Fields{"reason"});  // rejecting does
  v.set_reason(std::string(2001, 'r'));
  EXPECT_EQ(Named(Validate(v)), Fields{"reason"});
  v.set_rectification_id("not-a-uuid");
  v.set_expected_version(-1);
  EXPECT_EQ(Named(Validate(v)), (Fields{"rectification_id", "expected_version", "reason"}));

  v1::ReopenRectificationRequest o;
  o.set_request_id("r1");
  o.set_rectification_id(kId);
  o.set_expected_version(3);
  EXPECT_EQ(Named(Validate(o)), Fields{"reason"});
  o.set_reason("回头看");
  EXPECT_EQ(Named(Validate(o)), Fields{});

  v1::GetRectificationRequest g;
  EXPECT_EQ(Named(Validate(g)), Fields{"rectification_id"});
  g.set_rectification_id("c1");
  EXPECT_EQ(Named(Validate(g)), Fields{"rectification_id"});
  g.set_rectification_id(kId);
  EXPECT_EQ(Named(Validate(g)), Fields{});
}

TEST(RectificationRequestTest, EachStepAsksItsCommand) {
  v1::RecordProgressRequest p;
  p.set_note("half");
  p.add_evidence_refs("a");
  p.add_evidence_refs("b");
  v1::SubmitRectificationRequest s;
  s.set_summary("done");
  s.set_expected_version(7);
  v1::ReviewRectificationRequest approve;
  approve.set_approve(true);
  approve.set_expected_version(8);
  v1::ReviewRectificationRequest reject;
  reject.set_reason("missing");
  reject.set_expected_version(8);
  v1::ReopenRectificationRequest o;
  o.set_reason("back");
  o.set_expected_version(9);
  struct Case {
    Command got, want;
  };
  const Case cases[] = {
      {CommandOf(p), {Action::kProgress, "half", {"a", "b"}, 0}},  // progress takes no version
      {CommandOf(s), {Action::kSubmit, "done", {}, 7}},           {CommandOf(approve), {Action::kApprove, "", {}, 8}},
      {CommandOf(reject), {Action::kReject, "missing", {}, 8}},   {CommandOf(o), {Action::kReopen, "back", {}, 9}},
  };
  for (const Case& c : cases) {
    const std::string where(ActionName(c.want.action));
    EXPECT_EQ(c.got.action, c.want.action) << where;
    EXPECT_EQ(c.got.text, c.want.text) << where;
    EXPECT_EQ(c.got.evidence_refs, c.want.evidence_refs) << where;
    EXPECT_EQ(c.got.expected_version, c.want.expected_version) << where;
  }
}

TEST(RectificationRequestTest, AListPageHasLimitsAndATokenForItsFilters) {
  v1::ListRectificationsRequest r;
  auto page = ReadList(r);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->size, 50);
  EXPECT_FALSE(page->after);
  r.set_page_size(10000);
  EXPECT_EQ(ReadList(r)->size, 500);
  r.set_page_size(2);
  r.set_owner_unit_id(kUnit);
  r.set_state(v1::RECTIFICATION_STATE_OPEN);
  page = ReadList(r);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->size, 2);

  // The token of a page's last row starts the next page after it, with the same filters
  // (the page size may change between pages).
  v1::Rectification last;
  last.set_id(kId);
  db::SetMicros(last.mutable_created_at(), 1737684000123456);
  v1::ListRectificationsRequest next = r;
  next.set_page_token(NextPageToken(*page, last));
  next.set_page_size(3);
  auto second = ReadList(next);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_TRUE(second->after);
  EXPECT_EQ(second->after->first, 1737684000123456);
  EXPECT_EQ(second->after->second, kId);
  // ... and is refused for other filters.
  next.set_overdue_only(true);
  EXPECT_EQ(Named(ReadList(next).status()), Fields{"page_token"});

  v1::ListRectificationsRequest bad;
  bad.set_finding_id("F-1");
  bad.set_owner_unit_id("traffic");
  bad.set_state(static_cast<v1::RectificationState>(42));
  bad.set_page_size(-1);
  bad.set_page_token("not a token");
  EXPECT_EQ(Named(ReadList(bad).status()), (Fields{"finding_id", "owner_unit_id", "state", "page_size", "page_token"}));
}

}  // namespace
}  // namespace sm::rectification
