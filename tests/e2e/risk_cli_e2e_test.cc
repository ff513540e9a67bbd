// End to end: `smctl risk ...` against the local stack (deploy/local/stack with the demo
// directory). A case officer of a branch station is named in a clue, made responsible for an
// audit finding and the subject of an inspection finding, and the clue is concluded in form 2:
// after each step risk-service, following the other services' real feeds, shows the score
// higher with the new signal in its explanation. A restart of risk-service applies nothing
// twice and every chain verifies; the personnel file (一人一档) joins the clue, both findings,
// the score and its explanation for a discipline user, is refused to the officer themself and
// still comes back, naming audit-service as missing, while audit-service is down. The political
// department imports a screening ledger with a bad row twice (the second run replays, creating
// nothing), and the statistics and the score list count what was made.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <thread>

#include "tests/support/local_stack.h"

namespace {

using Result = sm::testing::ShResult;
using namespace std::chrono_literals;

nlohmann::json Json(const Result& r) {
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded()) {
    ADD_FAILURE() << "not JSON: " << r.out;
    return nlohmann::json::object();
  }
  return j;
}

// An int64 field of smctl's JSON (a string there), or a number.
int64_t Int(const nlohmann::json& j, const char* key) {
  if (!j.contains(key)) return 0;
  const auto& v = j[key];
  if (v.is_string()) return std::stoll(v.get<std::string>());
  return v.is_number() ? v.get<int64_t>() : 0;
}

bool Alive(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return false;
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos || close_paren + 2 >= stat.size()) return false;
  const char state = stat[close_paren + 2];
  return state != 'Z' && state != 'X';
}

// Token stores, one per user.
constexpr const char* kAdmin = "admin";          // directory import
constexpr const char* kGroup = "group";          // discipline group: registers and concludes the clue
constexpr const char* kAuditor = "auditor";      // audit office
constexpr const char* kInspector = "inspector";  // inspection corps, a person of the corps
constexpr const char* kPolitical = "political";  // the bureau's political department
constexpr const char* kOversight = "oversight";
constexpr const char* kReader = "reader";  // reads files at the bureau: discipline, auditor, oversight
constexpr const char* kSelf = "self";      // the officer P themself, with every role that reads files

constexpr const char* kTemplateCsv =
    "aspect_code,aspect_title,item_code,item_text\n"
    "A1,执法规范,A1-01,受案登记及时准确\n"
    "A1,执法规范,A1-02,涉案财物按规定登记入库\n";

class RiskCliE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stack_ = new sm::testing::LocalStack("risk-e2e");
    Result r = stack_->Start();
    ASSERT_EQ(r.code, 0) << r.out;
    r = stack_->ImportDemoDirectory(kAdmin);
    ASSERT_EQ(r.code, 0) << r.out;

    // P: a non-leader of the Chengjiao station (Fucheng branch); three more for the ledger.
    r = Smctl("people search --unit fucheng-branch-chengjiao-station --non-leaders -o json", kAdmin, false);
    ASSERT_EQ(r.code, 0) << r.out;
    auto people = Json(r)["people"];
    ASSERT_GE(people.size(), 4u) << r.out;
    person_ = new Person{people[0]["id"].get<std::string>(), people[0]["badge_no"].get<std::string>(),
                         people[0]["name"].get<std::string>()};
    others_ = new std::vector<std::string>;
    for (size_t i = 1; i < 4; ++i) others_->push_back(people[i]["badge_no"].get<std::string>());

    r = Smctl("people search --unit inspection-corps -o json", kAdmin, false);
    ASSERT_EQ(r.code, 0) << r.out;
    auto corps = Json(r)["people"];
    ASSERT_GE(corps.size(), 1u) << r.out;
    inspector_badge_ = new std::string(corps[0]["badge_no"].get<std::string>());

    for (const auto& [args, user] : std::vector<std::pair<std::string, const char*>>{
             {"--user group-officer --unit discipline-group --role discipline --clearance 2", kGroup},
             {"--user audit-officer --unit audit-office --role auditor --clearance 1", kAuditor},
             {"--user " + corps[0]["id"].get<std::string>() + " --unit inspection-corps --role inspector", kInspector},
             {"--user e2e-political --unit political-department --role political", kPolitical},
             {"--user overseer --unit bureau-party-committee --role oversight", kOversight},
             {"--user e2e-file-reader --unit bureau --role discipline --role auditor --role oversight --clearance 2",
              kReader},
             {"--user " + person_->id +
                  " --unit fucheng-branch-chengjiao-station --role discipline --role political --clearance 2",
              kSelf},
         }) {
      r = Smctl("login --dev " + args, user);
      ASSERT_EQ(r.code, 0) << user << ": " << r.out;
    }
  }

  static void TearDownTestSuite() {
    if (stack_ != nullptr) {
      Result r = stack_->Stop();
      EXPECT_EQ(r.code, 0) << r.out;
    }
    delete stack_;  // removes the folder
    delete person_;
    delete others_;
    delete inspector_badge_;
  }

  struct Person {
    std::string id, badge, name;
  };

  static Result Smctl(const std::string& args, const std::string& user, bool merge_stderr = true,
                      const std::string& env = "SMCTL_LANG=") {
    return stack_->Smctl(args, user, merge_stderr, env);
  }

  static std::string WriteFile(const std::string& name, const std::string& content) {
    const std::string path = stack_->dir() + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  // P's score as the discipline group reads it (PersonScore as JSON; {} on failure).
  static nlohmann::json Score() {
    Result r = Smctl("risk score " + person_->badge + " -o json", kGroup, false);
    if (r.code != 0) return nlohmann::json::object();
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    return j.is_discarded() ? nlohmann::json::object() : j;
  }

  static bool HasSignal(const nlohmann::json& score, const std::string& kind, const std::string& grade = "") {
    if (!score.contains("explained")) return false;
    for (const auto& s : score["explained"]) {
      if (s.value("kind", "") == kind && (grade.empty() || s.value("grade", "") == grade)) return true;
    }
    return false;
  }

  // Polls (≤ 10 s, 100 ms steps) until P's score shows the signal; checks it rose past `before`.
  static nlohmann::json AwaitSignal(const nlohmann::json& before, const std::string& kind,
                                    const std::string& grade = "") {
    nlohmann::json now;
    const bool seen = sm::testing::PollUntil(
        [&] {
          now = Score();
          return HasSignal(now, kind, grade);
        },
        10s, 100ms);
    EXPECT_TRUE(seen) << kind << " " << grade << " never showed: " << now.dump(2);
    EXPECT_GT(now.value("score", 0.0), before.value("score", 0.0)) << kind << ": " << now.dump(2);
    EXPECT_EQ(Int(now, "signals"), Int(before, "signals") + 1) << kind << ": " << now.dump(2);
    bool term = false;
    for (const auto& t : now.value("terms", nlohmann::json::array())) term |= t.value("kind", "") == kind;
    EXPECT_TRUE(term) << "the explanation has no term " << kind << ": " << now.dump(2);
    return now;
  }

  // Stops a service of the stack (SIGTERM, then waits ≤ 10 s for it to go).
  static void StopService(const std::string& name) {
    const pid_t pid = stack_->Pid(name);
    ASSERT_GT(pid, 0) << name;
    ASSERT_EQ(kill(pid, SIGTERM), 0) << name;
    ASSERT_TRUE(sm::testing::PollUntil([&] { return !Alive(pid); }, 10s, 100ms)) << name << " did not stop";
  }

  static void StartService(const std::string& name) {
    Result r = stack_->Run("start-service " + name);
    ASSERT_EQ(r.code, 0) << r.out;
  }

  static inline sm::testing::LocalStack* stack_ = nullptr;
  static inline Person* person_ = nullptr;
  static inline std::vector<std::string>* others_ = nullptr;
  static inline std::string* inspector_badge_ = nullptr;
};

TEST_F(RiskCliE2E, TheScoreFollowsEachSourceSurvivesARestartAndTheFileJoinsThemAll) {
  const Person& p = *person_;
  // Nothing yet: 0, no signals.
  Result first = Smctl("risk score " + p.badge + " -o json", kGroup, false);
  ASSERT_EQ(first.code, 0) << first.out;
  nlohmann::json score = Json(first);
  EXPECT_EQ(score.value("score", -1.0), 0.0) << first.out;
  EXPECT_EQ(Int(score, "signals"), 0) << first.out;
  EXPECT_TRUE(score.value("explained", nlohmann::json::array()).empty()) << first.out;

  // 1. A clue naming P → clue_named.
  Result reg = Smctl("clue register --unit discipline-group --subject-person " + p.badge +
                         " --category integrity --source petition --channel letter --anonymous"
                         " --summary '信访举报：反映其向案件当事人亲属借款' -o json",
                     kGroup, false);
  ASSERT_EQ(reg.code, 0) << reg.out;
  const std::string clue = Json(reg)["clue"]["number"].get<std::string>();
  score = AwaitSignal(score, "clue_named");

  // 2. An audit finding with P responsible → audit_finding.
  Result eng = Smctl(
      "audit engagement create --kind property --title 城郊派出所涉案财物管理专项审计 --audit-unit audit-office"
      " --audited-unit fucheng-branch --from 2025-01-01 --to 2025-12-31 -o json",
      kAuditor, false);
  ASSERT_EQ(eng.code, 0) << eng.out;
  const std::string engagement = Json(eng)["engagement"]["number"].get<std::string>();
  Result adv = Smctl("audit engagement advance " + engagement + " --to fieldwork", kAuditor);
  ASSERT_EQ(adv.code, 0) << adv.out;
  Result af = Smctl("audit finding add --engagement " + engagement +
                        " --title 扣押现金未按时移交入库 --description '扣押现金由办案民警个人保管超过 7 日'"
                        " --category property-management --amount 23000.00 --severity high --unit fucheng-branch"
                        " --person " +
                        p.badge + " -o json",
                    kAuditor, false);
  ASSERT_EQ(af.code, 0) << af.out;
  const std::string audit_finding = Json(af)["finding"]["number"].get<std::string>();
  score = AwaitSignal(score, "audit_finding");

  // 3. An inspection finding with P its subject → inspection_finding.
  Result tpl = Smctl("inspection template import " + WriteFile("template.csv", kTemplateCsv) +
                         " --code risk-duty --name 日常督察检查表",
                     kInspector);
  ASSERT_EQ(tpl.code, 0) << tpl.out;
  Result ins = Smctl(
      "inspection create --kind on-site --title 城郊派出所现场督察 --inspection-unit inspection-corps"
      " --target fucheng-branch --inspector " +
          *inspector_badge_ + " --from 2026-03-01 --to 2026-03-31 --template risk-duty -o json",
      kInspector, false);
  ASSERT_EQ(ins.code, 0) << ins.out;
  const std::string inspection = Json(ins)["inspection"]["number"].get<std::string>();
  ASSERT_EQ(Smctl("inspection advance " + inspection + " --to in-progress", kInspector).code, 0);
  Result mark = Smctl("inspection mark " + inspection +
                          " --item A1-02 --unit fucheng-branch --mark non-conforming --note 涉案财物未登记",
                      kInspector);
  ASSERT_EQ(mark.code, 0) << mark.out;
  Result inf =
      Smctl("inspection finding add --inspection " + inspection + " --item A1-02 --unit fucheng-branch" + " --person " +
                p.badge + " --title 涉案财物未登记入库 --category law-enforcement --severity high -o json",
            kInspector, false);
  ASSERT_EQ(inf.code, 0) << inf.out;
  const std::string inspection_finding = Json(inf)["finding"]["number"].get<std::string>();
  const std::string inspection_finding_id = Json(inf)["finding"]["id"].get<std::string>();
  score = AwaitSignal(score, "inspection_finding");
  // One finding, one signal, referring to the finding.
  for (const auto& t : score["terms"]) {
    if (t.value("kind", "") == "inspection_finding") {
      EXPECT_EQ(t.value("signals", 0), 1) << score.dump(2);
    }
  }
  for (const auto& s : score["explained"]) {
    if (s.value("kind", "") == "inspection_finding") {
      EXPECT_EQ(s.value("ref", ""), inspection_finding_id);
    }
  }

  // 4. The clue concluded in form 2 → clue_concluded form_2 (the group holds it: it disposes
  // and concludes itself).
  Result dispose = Smctl("clue dispose " + clue + " --method verify", kGroup);
  ASSERT_EQ(dispose.code, 0) << dispose.out;
  Result conclude = Smctl("clue conclude " + clue + " --form 2 --feedback '属实，诫勉谈话'", kGroup);
  ASSERT_EQ(conclude.code, 0) << conclude.out;
  score = AwaitSignal(score, "clue_concluded", "form_2");
  EXPECT_EQ(Int(score, "signals"), 4) << score.dump(2);
  // risk.proto: PersonScore.person_name is "filled on reads" (ListScores fills it).
  EXPECT_EQ(score.value("person_name", ""), p.name) << score.dump(2);

  // A restart of risk-service: the consumers resume from their cursors, applying nothing twice.
  StopService("risk");
  StartService("risk");
  nlohmann::json after;
  ASSERT_TRUE(sm::testing::PollUntil(
      [&] {
        after = Score();
        return after.contains("score");
      },
      10s, 100ms))
      << "risk-service did not answer after the restart";
  std::this_thread::sleep_for(1500ms);  // time for any wrongly replayed event to land
  after = Score();
  EXPECT_EQ(Int(after, "signals"), Int(score, "signals")) << after.dump(2);
  EXPECT_NEAR(after.value("score", 0.0), score.value("score", 0.0), 1e-3) << after.dump(2);
  EXPECT_EQ(after.value("explained", nlohmann::json::array()).size(),
            score.value("explained", nlohmann::json::array()).size())
      << after.dump(2);
  Result verify = Smctl("risk verify-all", kOversight);
  EXPECT_EQ(verify.code, 0) << verify.out;
  EXPECT_NE(verify.out.find("完整"), std::string::npos) << verify.out;
  Result verify_json = Smctl("risk verify-all -o json", kOversight, false);
  EXPECT_EQ(verify_json.code, 0) << verify_json.out;
  EXPECT_EQ(Json(verify_json).value("intact", false), true) << verify_json.out;

  // The personnel file, as a discipline reader of the bureau (also auditor and oversight: each
  // service shows the file what it shows the caller, and audit- and inspection-service show
  // their findings to their own roles).
  Result file = Smctl("risk file " + p.badge, kReader);
  ASSERT_EQ(file.code, 0) << file.out;
  for (const std::string& want : {std::string("一人一档：") + p.name, clue, audit_finding, inspection_finding,
                                  std::string("风险评分"), std::string("【评分说明】"), std::string("被反映问题线索"),
                                  std::string("第二种形态"), std::string("审计发现"), std::string("督察问题")}) {
    EXPECT_NE(file.out.find(want), std::string::npos) << want << " in\n" << file.out;
  }
  Result file_json = Smctl("risk file " + p.badge + " -o json", kReader, false);
  ASSERT_EQ(file_json.code, 0) << file_json.out;
  auto f = Json(file_json);
  EXPECT_NEAR(f["score"].value("score", 0.0), score.value("score", 0.0), 1e-3) << file_json.out;
  EXPECT_EQ(f["score"]["terms"].size(), 4u) << file_json.out;
  EXPECT_TRUE(f.value("missing", nlohmann::json::array()).empty()) << file_json.out;

  // The discipline group alone: the file with its clue (audit and inspection show it nothing).
  Result group_file = Smctl("risk file " + p.badge, kGroup);
  EXPECT_EQ(group_file.code, 0) << group_file.out;
  EXPECT_NE(group_file.out.find(clue), std::string::npos) << group_file.out;

  // Not to P themself, whatever their roles.
  Result own = Smctl("risk file " + p.badge, kSelf);
  EXPECT_EQ(own.code, 4) << own.out;

  // audit-service down: the file still comes back, naming it missing.
  StopService("audit");
  Result partial = Smctl("risk file " + p.badge, kReader);
  EXPECT_EQ(partial.code, 0) << partial.out;
  EXPECT_NE(partial.out.find("audit-service"), std::string::npos) << partial.out;
  EXPECT_NE(partial.out.find(clue), std::string::npos) << partial.out;
  EXPECT_NE(partial.out.find(inspection_finding), std::string::npos) << partial.out;
  Result partial_json = Smctl("risk file " + p.badge + " -o json", kReader, false);
  EXPECT_EQ(partial_json.code, 0) << partial_json.out;
  EXPECT_EQ(Json(partial_json).value("missing", nlohmann::json::array()), nlohmann::json::array({"audit-service"}))
      << partial_json.out;
  StartService("audit");
  // Back once risk-service's channel has reconnected (gRPC's backoff, at most 2 s here).
  Result back;
  EXPECT_TRUE(sm::testing::PollUntil(
      [&] {
        back = Smctl("risk file " + p.badge, kReader);
        return back.out.find(audit_finding) != std::string::npos;
      },
      10s, 200ms))
      << back.out;

  // The score list has P.
  Result scores = Smctl("risk scores -o json", kOversight, false);
  ASSERT_EQ(scores.code, 0) << scores.out;
  bool listed = false;
  const auto listed_scores = Json(scores)["scores"];
  for (const auto& s : listed_scores) listed |= s.value("id", "") == p.id;
  EXPECT_TRUE(listed) << p.id << " in " << scores.out;
}

TEST_F(RiskCliE2E, AScreeningLedgerImportsOnceReportsItsBadRowAndReplays) {
  Result created = Smctl(
      "risk campaign create --name 底线防线红线专项排查 --from 2026-03-01 --to 2026-04-30 --scope fucheng-branch -o "
      "json",
      kPolitical, false);
  ASSERT_EQ(created.code, 0) << created.out;
  const std::string campaign = Json(created)["campaign"]["id"].get<std::string>();
  const std::string ledger =
      WriteFile("ledger.csv", "badge,outcome,category,level,description,leader_badge,measure,deadline_days\n" +
                                  (*others_)[0] + ",CLEAR,,,,,,\n" + (*others_)[1] + ",CLEAR,,,,,,\n" + (*others_)[2] +
                                  ",RISK_FOUND,finances,high,网络借贷多平台逾期,,签订廉洁从警承诺书,5\n" +
                                  "999999,CLEAR,,,,,,\n");

  Result once = Smctl("risk campaign import " + campaign + " " + ledger, kPolitical);
  EXPECT_EQ(once.code, 6) << once.out;
  EXPECT_NE(once.out.find("导入 3 条，重放 0 条，失败 1 条"), std::string::npos) << once.out;
  EXPECT_TRUE(std::regex_search(once.out, std::regex("\\n5 +999999 .*失败：badge：未找到警号 999999"))) << once.out;
  Result items = Smctl("risk item list --campaign " + campaign + " -o json", kPolitical, false);
  ASSERT_EQ(items.code, 0) << items.out;
  const size_t count = Json(items)["items"].size();
  EXPECT_EQ(count, 1u) << items.out;

  Result twice = Smctl("risk campaign import " + campaign + " " + ledger, kPolitical);
  EXPECT_EQ(twice.code, 6) << twice.out;
  EXPECT_NE(twice.out.find("导入 0 条，重放 3 条，失败 1 条"), std::string::npos) << twice.out;
  size_t replayed = 0;
  for (size_t at = twice.out.find("已导入（重放）"); at != std::string::npos;
       at = twice.out.find("已导入（重放）", at + 1)) {
    ++replayed;
  }
  EXPECT_EQ(replayed, 3u) << twice.out;
  Result items_again = Smctl("risk item list --campaign " + campaign + " -o json", kPolitical, false);
  ASSERT_EQ(items_again.code, 0) << items_again.out;
  EXPECT_EQ(Json(items_again)["items"].size(), count) << items_again.out;

  Result get = Smctl("risk campaign get " + campaign + " -o json", kPolitical, false);
  ASSERT_EQ(get.code, 0) << get.out;
  EXPECT_EQ(Int(Json(get), "screened"), 3) << get.out;
  Result get_text = Smctl("risk campaign get " + campaign, kPolitical);
  ASSERT_EQ(get_text.code, 0) << get_text.out;
  EXPECT_NE(get_text.out.find("底线防线红线专项排查"), std::string::npos) << get_text.out;

  // The statistics count the items: all oversight sees (the screening's, and one the score
  // may have opened), one from screening.
  Result all = Smctl("risk item list -o json", kOversight, false);
  ASSERT_EQ(all.code, 0) << all.out;
  const int64_t visible = static_cast<int64_t>(Json(all)["items"].size());
  nlohmann::json stats;
  EXPECT_TRUE(sm::testing::PollUntil(
      [&] {
        Result r = Smctl("risk stats -o json", kOversight, false);
        if (r.code != 0) return false;
        stats = nlohmann::json::parse(r.out, nullptr, false);
        return !stats.is_discarded() && Int(stats, "items") == visible;
      },
      10s, 250ms))
      << "items " << visible << " vs " << stats.dump(2);
  int64_t screening = 0;
  for (const auto& s : stats.value("by_source", nlohmann::json::array())) {
    if (s.value("key", "").find("SCREENING") != std::string::npos) screening = Int(s, "count");
  }
  EXPECT_EQ(screening, 1) << stats.dump(2);
}

}  // namespace
