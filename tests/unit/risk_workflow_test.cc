// risk-service's rules without a database (services/risk/workflow.h): who sees and works on
// whose records, the responsible leader, the item's states and every refused step, overdue
// escalation once, and the score's threshold crossing opening one item per crossing.
#include "services/risk/workflow.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/db/sql.h"

namespace sm::risk {
namespace {

constexpr int64_t kDay = int64_t{86400} * 1000000;
constexpr int64_t kNow = int64_t{1764547200} * 1000000;  // 2025-12-01T00:00:00Z

// Units: bureau B > political department PD, branch X > station S; branch Y.
const std::string kB = "b0000000-0000-0000-0000-000000000000";
const std::string kPD = "d0000000-0000-0000-0000-000000000000";
const std::string kX = "a0000000-0000-0000-0000-000000000001";
const std::string kS = "a0000000-0000-0000-0000-000000000002";
const std::string kY = "a0000000-0000-0000-0000-000000000003";
const std::string kPerson = "c0000000-0000-0000-0000-000000000001";
const std::string kLeaderX = "c0000000-0000-0000-0000-000000000002";
const std::string kLeaderY = "c0000000-0000-0000-0000-000000000003";
const std::string kStaff = "c0000000-0000-0000-0000-000000000004";

const std::vector<std::string> kChainS = {kS, kB, kX};  // S, then its ancestors (root first)

auth::Principal Who(const std::string& user, const std::string& unit, std::vector<std::string> roles) {
  auth::Principal p;
  p.user = user;
  p.unit = unit;
  p.roles = std::move(roles);
  return p;
}

CallerFacts Political() { return CallerFacts{kPD, kB, false}; }

Rules DefaultRules() {
  std::ifstream in(std::string(SM_SOURCE_DIR) + "/deploy/local/risk-rules.yaml");
  std::stringstream buf;
  buf << in.rdbuf();
  auto r = ParseRules(buf.str());
  EXPECT_TRUE(r.ok()) << r.status();
  return *r;
}

UnitInfo UnitS() { return UnitInfo{kS, "派出所", "UNIT_KIND_STATION", true, {kB, kX}}; }

StepFacts Facts() {
  StepFacts f;
  f.now_us = kNow;
  f.new_id = "e0000000-0000-0000-0000-000000000001";
  f.number = "FX-2025-000001";
  f.caller = Political();
  f.person = PersonInfo{kPerson, "张三", kS, true, false};
  f.unit = UnitS();
  ResponsibleLeaders l;
  l.principal = ResponsibleLeader{kLeaderX, "李四", "post", kX};
  f.leaders = l;
  return f;
}

v1::OpenRiskItemRequest Item() {
  v1::OpenRiskItemRequest r;
  r.set_person_id(kPerson);
  r.set_category(v1::RISK_CATEGORY_GAMBLING);
  r.set_level(v1::RISK_LEVEL_MEDIUM);
  r.set_source(v1::RISK_SOURCE_SCREENING);
  r.set_description("网络赌博倾向");
  return r;
}

TEST(RiskAccess, EachRoleSeesWhatItMay) {
  const auto political = Who("pol", kPD, {"political"});
  EXPECT_EQ(AccessTo(political, Political(), kPerson, kChainS), Access::kWrite);
  // A political department of another tree serves nothing here.
  EXPECT_EQ(AccessTo(political, CallerFacts{kY, kY, false}, kPerson, kChainS), Access::kNone);
  EXPECT_EQ(AccessTo(Who("d", kB, {"discipline"}), {}, kPerson, kChainS), Access::kFull);
  EXPECT_EQ(AccessTo(Who("o", kB, {"oversight"}), {}, kPerson, kChainS), Access::kRecords);
  // A leader of a unit above the person's reads; a leader of another branch and staff do not.
  EXPECT_EQ(AccessTo(Who(kLeaderX, kX, {"staff"}), CallerFacts{kX, "", true}, kPerson, kChainS), Access::kFull);
  EXPECT_EQ(AccessTo(Who(kLeaderY, kY, {"staff"}), CallerFacts{kY, "", true}, kPerson, kChainS), Access::kNone);
  EXPECT_EQ(AccessTo(Who(kStaff, kS, {"staff"}), CallerFacts{kS, "", false}, kPerson, kChainS), Access::kNone);
  EXPECT_EQ(AccessTo(Who("dash", kB, {"dashboard"}), {}, kPerson, kChainS), Access::kNone);
  // Nobody has access to their own records, whatever their roles.
  EXPECT_EQ(AccessTo(Who(kPerson, kPD, {"political", "discipline", "oversight"}), Political(), kPerson, kChainS),
            Access::kNone);
}

TEST(RiskLeader, DefaultAndChecked) {
  ResponsibleLeaders l;
  l.principal = ResponsibleLeader{kLeaderX, "", "", kX};
  l.supervising = ResponsibleLeader{kLeaderY, "", "", kX};
  EXPECT_EQ(DefaultLeader(kPerson, l), kLeaderX);
  EXPECT_EQ(DefaultLeader(kLeaderX, l), kLeaderY);  // the principal leader's own item
  EXPECT_EQ(DefaultLeader(kPerson, ResponsibleLeaders{}), std::nullopt);
  EXPECT_TRUE(LeaderInChain(PersonInfo{kLeaderX, "", kX, true, true}, kPerson, kChainS));
  EXPECT_FALSE(LeaderInChain(PersonInfo{kLeaderY, "", kY, true, true}, kPerson, kChainS));   // outside
  EXPECT_FALSE(LeaderInChain(PersonInfo{kStaff, "", kS, true, false}, kPerson, kChainS));    // not a leader
  EXPECT_FALSE(LeaderInChain(PersonInfo{kLeaderX, "", kX, false, true}, kPerson, kChainS));  // inactive
  EXPECT_FALSE(LeaderInChain(PersonInfo{kPerson, "", kS, true, true}, kPerson, kChainS));    // the person
}

TEST(RiskItem, OpenThroughResolveAndEveryRefusal) {
  const auto pol = Who("pol", kPD, {"political"});
  StepFacts f = Facts();
  auto opened = OpenRiskItem(Item(), pol, f);
  ASSERT_TRUE(opened.ok()) << opened.status();
  const v1::RiskItem& it = opened->item->stored.doc;
  EXPECT_EQ(it.state(), v1::RISK_ITEM_STATE_IDENTIFIED);
  EXPECT_EQ(it.responsible_leader_id(), kLeaderX);
  ASSERT_TRUE(opened->signal.has_value());
  EXPECT_EQ(opened->signal->signal.kind, "risk_item");
  EXPECT_EQ(opened->signal->signal.grade, "MEDIUM");
  EXPECT_EQ(opened->signal->person_id, kPerson);

  // Refusals: staff may not open; a named leader outside the chain; none found.
  EXPECT_EQ(OpenRiskItem(Item(), Who(kStaff, kS, {"staff"}), f).status().code(), absl::StatusCode::kPermissionDenied);
  auto outside = Item();
  outside.set_responsible_leader_id(kLeaderY);
  StepFacts g = f;
  g.leader = PersonInfo{kLeaderY, "", kY, true, true};
  EXPECT_EQ(OpenRiskItem(outside, pol, g).status().code(), absl::StatusCode::kInvalidArgument);
  StepFacts none = f;
  none.leaders = ResponsibleLeaders{};
  auto s = OpenRiskItem(Item(), pol, none).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.ToString().find("responsible_leader_id"), std::string::npos) << s;

  Stored<v1::RiskItem> cur{it, 1, "h"};
  v1::ResolveRiskItemRequest resolve;
  resolve.set_expected_version(1);
  resolve.set_resolution("已化解");
  EXPECT_EQ(ResolveRiskItem(cur, resolve, pol, f).status().code(), absl::StatusCode::kFailedPrecondition);

  v1::AddMitigationRequest add;
  add.set_expected_version(1);
  add.mutable_mitigation()->set_measure("谈心谈话，家属共管");
  db::SetMicros(add.mutable_mitigation()->mutable_deadline(), kNow + 10 * kDay);
  // The responsible leader works on the item; staff do not see it; a stale version is refused.
  auto leader = Who(kLeaderX, kX, {"staff"});
  StepFacts lf = f;
  lf.caller = CallerFacts{kX, "", true};
  auto added = AddMitigation(cur, add, leader, lf);
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(added->item->stored.doc.state(), v1::RISK_ITEM_STATE_MITIGATING);
  EXPECT_EQ(AddMitigation(cur, add, Who(kStaff, kS, {"staff"}),
                          StepFacts{f.now_us, "", "", CallerFacts{kS, "", false}, f.person, f.unit})
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  add.set_expected_version(7);
  EXPECT_EQ(AddMitigation(cur, add, pol, f).status().code(), absl::StatusCode::kAborted);

  Stored<v1::RiskItem> mitigating{added->item->stored.doc, 2, "h2"};
  resolve.set_expected_version(2);
  EXPECT_EQ(ResolveRiskItem(mitigating, resolve, pol, f).status().code(), absl::StatusCode::kFailedPrecondition);
  v1::CompleteMitigationRequest done;
  done.set_expected_version(2);
  done.set_index(2);
  EXPECT_EQ(CompleteMitigation(mitigating, done, pol, f).status().code(), absl::StatusCode::kInvalidArgument);
  done.set_index(1);
  auto completed = CompleteMitigation(mitigating, done, pol, f);
  ASSERT_TRUE(completed.ok()) << completed.status();
  Stored<v1::RiskItem> all_done{completed->item->stored.doc, 3, "h3"};
  done.set_expected_version(3);
  EXPECT_EQ(CompleteMitigation(all_done, done, pol, f).status().code(), absl::StatusCode::kFailedPrecondition);
  // Only the political department resolves, not the leader.
  resolve.set_expected_version(3);
  EXPECT_EQ(ResolveRiskItem(all_done, resolve, leader, lf).status().code(), absl::StatusCode::kPermissionDenied);
  auto resolved = ResolveRiskItem(all_done, resolve, pol, f);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  Stored<v1::RiskItem> closed{resolved->item->stored.doc, 4, "h4"};
  add.set_expected_version(4);
  EXPECT_EQ(AddMitigation(closed, add, pol, f).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(RiskItem, OverdueEscalatesOnce) {
  StepFacts f = Facts();
  auto req = Item();
  auto* m = req.add_mitigations();
  m->set_measure("限期说明情况");
  db::SetMicros(m->mutable_deadline(), kNow + kDay);
  auto opened = OpenRiskItem(req, Who("pol", kPD, {"political"}), f);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Stored<v1::RiskItem> it{opened->item->stored.doc, 1, "h"};
  EXPECT_EQ(NextDeadline(it.doc), kNow + kDay);
  EXPECT_FALSE(EscalateOverdue(it, kNow, kX).has_value());  // not due yet
  auto late = EscalateOverdue(it, kNow + 2 * kDay, kB);
  ASSERT_TRUE(late.has_value());
  ASSERT_EQ(late->events.size(), 1u);
  EXPECT_TRUE(late->events[0].event.has_mitigation_escalated());
  const v1::RiskItem& after = late->item->stored.doc;
  EXPECT_EQ(after.escalated_to_unit_id(), kB);
  EXPECT_EQ(NextDeadline(after), std::nullopt);  // nothing more for the scan
  EXPECT_FALSE(EscalateOverdue(Stored<v1::RiskItem>{after, 2, ""}, kNow + 3 * kDay, kB).has_value());
  v1::RiskItem shown = after;
  MarkOverdue(shown, kNow + 3 * kDay);
  EXPECT_TRUE(shown.overdue());
  EXPECT_TRUE(shown.mitigations(0).overdue());
}

TEST(RiskTalk, AdmonishmentIsDisciplinaryAndScores) {
  StepFacts f = Facts();
  f.talker = PersonInfo{kLeaderX, "李四", kX, true, true};
  v1::RecordTalkRequest req;
  req.set_kind(v1::TALK_KIND_ADMONISHMENT);
  req.set_person_id(kPerson);
  db::SetMicros(req.mutable_held_at(), kNow - kDay);
  req.set_summary("就饮酒问题进行诫勉");
  auto c = RecordTalk(req, Who("pol", kPD, {"political"}), f);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->talk->stored.doc.disciplinary());
  ASSERT_TRUE(c->signal.has_value());
  EXPECT_EQ(c->signal->signal.kind, "admonishment");
  // The summary never goes into the event.
  EXPECT_FALSE(c->events[0].event.talk_recorded().ShortDebugString().find("饮酒") != std::string::npos);
  req.set_kind(v1::TALK_KIND_HEART_TO_HEART);
  auto plain = RecordTalk(req, Who("pol", kPD, {"political"}), f);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->signal.has_value());
  // Oversight may not record talks; nobody records a talk with themselves.
  EXPECT_EQ(RecordTalk(req, Who("o", kB, {"oversight"}), f).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(RecordTalk(req, Who(kPerson, kPD, {"political"}), f).status().code(), absl::StatusCode::kPermissionDenied);
}

TEST(RiskScore, CrossingOpensOneItemPerCrossing) {
  const Rules rules = DefaultRules();
  std::vector<Signal> all;
  std::optional<Stored<v1::PersonScore>> cur;
  int items = 0;
  // Clue conclusions of form 4 push the score over the threshold (60) within two signals.
  for (int i = 0; i < 4; ++i) {
    all.push_back(Signal{"clue_concluded", "form_4", "clue", "clue-" + std::to_string(i), kNow});
    Change m = MoveScore(cur, kPerson, kS, all, all.back(), rules, kNow, kLeaderX, "item-" + std::to_string(i),
                         "FX-" + std::to_string(i));
    if (m.item) ++items;
    EXPECT_EQ(m.events[0].event.score_changed().to(), m.score->stored.doc.score());
    cur = Stored<v1::PersonScore>{m.score->stored.doc, 1, ""};
  }
  EXPECT_EQ(items, 1);
  EXPECT_TRUE(cur->doc.above());
  EXPECT_EQ(cur->doc.crossings(), 1);
  // Once below (decayed four years on) and over again: a second crossing, a second item.
  all.push_back(Signal{"clue_named", "", "clue", "later", kNow + 1460 * kDay});
  Change low = MoveScore(cur, kPerson, kS, all, all.back(), rules, kNow + 1460 * kDay, kLeaderX, "x", "y");
  EXPECT_FALSE(low.score->stored.doc.above());
  EXPECT_FALSE(low.item.has_value());
  cur = Stored<v1::PersonScore>{low.score->stored.doc, 2, ""};
  for (int i = 0; i < 2; ++i) all.push_back(Signal{"clue_concluded", "form_4", "clue", "again", kNow + 1460 * kDay});
  Change again = MoveScore(cur, kPerson, kS, all, all.back(), rules, kNow + 1460 * kDay, kLeaderX, "z", "w");
  ASSERT_TRUE(again.item.has_value());
  EXPECT_EQ(again.item->stored.doc.source(), v1::RISK_SOURCE_SCORE);
  EXPECT_EQ(again.item->stored.doc.responsible_leader_id(), kLeaderX);
  EXPECT_EQ(again.score->stored.doc.crossings(), 2);
  // The stored score keeps the terms but not every signal (recomputed on read).
  EXPECT_GT(again.score->stored.doc.terms_size(), 0);
  EXPECT_EQ(again.score->stored.doc.explained_size(), 0);
  // Items about the score itself do not score (no feedback loop).
  EXPECT_FALSE(SignalOf(again.item->stored.doc).has_value());
}

}  // namespace
}  // namespace sm::risk
