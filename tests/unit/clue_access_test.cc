// clue-service's access table (services/clue/access.h) without a database: every role and
// standing against what it may see, with a count check so that a new standing cannot slip
// in untested. The same table is walked through the real service in
// tests/integration/clue_service_test.cc (AccessTableCellByCell).
#include "services/clue/access.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

namespace sm::clue {
namespace {

const std::string kHolder = "0190f0e0-0000-7000-8000-00000000000a";
const std::string kOfferee = "0190f0e0-0000-7000-8000-00000000000b";
const std::string kOther = "0190f0e0-0000-7000-8000-00000000000c";

v1::Clue Offered() {
  v1::Clue c;
  c.set_state(v1::CLUE_STATE_OFFERED);
  c.set_holding_unit_id(kHolder);
  c.set_offered_to_unit_id(kOfferee);
  return c;
}

TEST(ClueAccessTest, StandingComesFromRoleThenClueRowThenCustody) {
  const v1::Clue c = Offered();
  struct Row {
    std::string unit;
    std::vector<std::string> roles;
    Custody custody;
    Standing want;
  };
  const std::vector<Row> rows = {
      {kHolder, {"discipline"}, Custody::kNone, Standing::kHolder},
      {kHolder, {"discipline"}, Custody::kOffered, Standing::kHolder},
      {kOfferee, {"discipline"}, Custody::kOffered, Standing::kOfferee},
      {kOther, {"discipline"}, Custody::kSupervisor, Standing::kSupervisor},
      {kOther, {"discipline"}, Custody::kSender, Standing::kSender},
      {kOther, {"discipline"}, Custody::kOffered, Standing::kNone},
      {kOther, {"discipline"}, Custody::kNone, Standing::kNone},
      {kOther, {"oversight"}, Custody::kNone, Standing::kOversight},
      {"", {"discipline"}, Custody::kSender, Standing::kNone},  // a token naming no unit
  };
  for (const auto& r : rows) {
    auth::Principal p{.user = "u", .unit = r.unit, .roles = r.roles};
    EXPECT_EQ(StandingOf(p, c, r.custody), r.want) << r.unit << " " << static_cast<int>(r.custody);
  }
  // Once the offer is accepted the former offeree is the holder; once it is returned, nobody.
  v1::Clue returned = c;
  returned.set_state(v1::CLUE_STATE_HELD);
  returned.clear_offered_to_unit_id();
  EXPECT_EQ(StandingOf(auth::Principal{.unit = kOfferee, .roles = {"discipline"}}, returned, Custody::kOffered),
            Standing::kNone);
}

TEST(ClueAccessTest, EveryStandingAgainstEveryRead) {
  struct Want {
    View view;
    bool history, verify;
  };
  const std::map<Standing, Want> table = {
      {Standing::kOversight, {View::kFull, true, true}},  {Standing::kHolder, {View::kFull, true, true}},
      {Standing::kOfferee, {View::kFull, true, false}},   {Standing::kSupervisor, {View::kRecord, true, true}},
      {Standing::kSender, {View::kSender, false, false}}, {Standing::kNone, {View::kNone, false, false}},
  };
  int checked = 0;
  for (Standing s : kAllStandings) {
    SCOPED_TRACE(std::string(StandingName(s)));
    auto it = table.find(s);
    ASSERT_NE(it, table.end()) << "a standing without a row in the table";
    EXPECT_EQ(ViewOf(s), it->second.view);
    EXPECT_EQ(MayReadHistory(s), it->second.history);
    EXPECT_EQ(MayVerify(s), it->second.verify);
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(table.size()));
}

TEST(ClueAccessTest, EachViewKeepsWhatItShould) {
  v1::Clue full = Offered();
  full.set_number("XS-2026-000001");
  full.set_summary("s");
  full.set_details("sealed details");
  full.set_reporter_on_file(true);
  full.set_handler_person_id(kOther);
  full.mutable_disposition()->set_method(v1::DISPOSITION_METHOD_VERIFICATION);
  full.mutable_outcome()->set_feedback("owed to the sender");
  full.set_deadline_stage("accept");
  full.set_intervened(true);
  v1::Clue c = full;
  Redact(View::kFull, c);
  EXPECT_EQ(c.SerializeAsString(), full.SerializeAsString());
  c = full;
  Redact(View::kRecord, c);
  EXPECT_TRUE(c.details().empty());
  EXPECT_FALSE(c.reporter_on_file());
  EXPECT_EQ(c.holding_unit_id(), kHolder);
  EXPECT_TRUE(c.has_disposition());
  c = full;
  Redact(View::kSender, c);
  EXPECT_EQ(c.number(), full.number());
  EXPECT_EQ(c.summary(), "s");
  EXPECT_EQ(c.outcome().feedback(), "owed to the sender");
  EXPECT_TRUE(c.details().empty());
  EXPECT_TRUE(c.holding_unit_id().empty());
  EXPECT_TRUE(c.offered_to_unit_id().empty());
  EXPECT_TRUE(c.handler_person_id().empty());
  EXPECT_FALSE(c.has_disposition());
  EXPECT_TRUE(c.deadline_stage().empty());
  EXPECT_FALSE(c.intervened());
  c = full;
  Redact(View::kNone, c);
  EXPECT_EQ(c.ByteSizeLong(), 0u);
}

TEST(ClueAccessTest, HistoryTextsNeedClearance) {
  EXPECT_FALSE(HistoryTextsVisible(auth::Principal{.clearance = 0}));
  EXPECT_TRUE(HistoryTextsVisible(auth::Principal{.clearance = 1}));
  const std::string data =
      R"({"from_unit_id":"a","to_unit_id":"b","reason":"涉嫌违纪","text":"笔记","method":"VERIFICATION","attachments":[1]})";
  EXPECT_EQ(RedactEventData(data, true), data);
  auto kept = nlohmann::json::parse(RedactEventData(data, false));
  EXPECT_EQ(kept["from_unit_id"], "a");
  EXPECT_EQ(kept["to_unit_id"], "b");
  EXPECT_EQ(kept["method"], "VERIFICATION");
  EXPECT_FALSE(kept.contains("reason"));
  EXPECT_FALSE(kept.contains("text"));
  EXPECT_FALSE(kept.contains("attachments"));
  EXPECT_EQ(kept["texts_withheld"], true);
  EXPECT_EQ(RedactEventData("not json", false), "{}");
}

}  // namespace
}  // namespace sm::clue
