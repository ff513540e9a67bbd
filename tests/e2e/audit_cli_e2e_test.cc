// End to end: `smctl audit ...` against the local stack (deploy/local/stack: PostgreSQL,
// Redis, directory-, clue- and audit-service as processes on free ports), used as the people
// of four units would: the bureau's audit office opens a departure audit of the Fucheng
// branch, records a finding and refers it to the discipline group, which handles the clue
// that audit-service delivered; the outcome comes back onto the finding. The branch's staff
// rectify, the audit office rejects once and then signs off. A findings ledger (CSV) is
// imported twice; an unrelated branch sees nothing. The running audit-service signs a chain
// checkpoint at start-up, which oversight verifies every chain against and exports.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <string>
#include <thread>

#include "tests/e2e/checkpoint_commands.h"
#include "tests/support/local_stack.h"

namespace {

using sm::testing::FreePort;
using sm::testing::PollUntil;
using sm::testing::Sh;
using Result = sm::testing::ShResult;

nlohmann::json Json(const Result& r) {
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded()) {
    ADD_FAILURE() << "not JSON: " << r.out;
    return nlohmann::json::object();
  }
  return j;
}

// 1234567 -> "12,345.67"
std::string Yuan(int64_t fen) {
  std::string whole = std::to_string(fen / 100);
  for (int i = static_cast<int>(whole.size()) - 3; i > 0; i -= 3) whole.insert(static_cast<size_t>(i), ",");
  char cents[4];
  std::snprintf(cents, sizeof cents, "%02d", static_cast<int>(fen % 100));
  return whole + "." + cents;
}

// Config folders (token stores), one per user.
constexpr const char* kAdmin = "admin";      // directory import
constexpr const char* kAuditor = "auditor";  // audit office (role auditor)
constexpr const char* kStaff = "fucheng";    // staff of the audited branch
constexpr const char* kGroup = "group";      // discipline group (receives referrals)
constexpr const char* kGaoxin = "gaoxin";    // staff of an unrelated branch

class AuditCliE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stack_ = new sm::testing::LocalStack("audit-e2e");
    dir_ = new std::string(stack_->dir());
    env_ = new std::string(stack_->env());
    dir_port_ = stack_->grpc_port("directory");
    clue_port_ = stack_->grpc_port("clue");
    audit_port_ = stack_->grpc_port("audit");
    started_ = true;
    Result r = stack_->Start();
    ASSERT_EQ(r.code, 0) << r.out;

    r = stack_->ImportDemoDirectory(kAdmin);
    ASSERT_EQ(r.code, 0) << r.out;
    // Clearance internal (1): below it the referral's outcome is withheld (docs/audit.md).
    r = Smctl("login --dev --user audit-officer --unit audit-office --role auditor --clearance 1", kAuditor);
    ASSERT_EQ(r.code, 0) << r.out;
    r = Smctl("login --dev --user fucheng-clerk --unit fucheng-branch --role staff", kStaff);
    ASSERT_EQ(r.code, 0) << r.out;
    r = Smctl("login --dev --user group-officer --unit discipline-group --role discipline --clearance 2", kGroup);
    ASSERT_EQ(r.code, 0) << r.out;
    r = Smctl("login --dev --user gaoxin-clerk --unit gaoxin-branch --role staff", kGaoxin);
    ASSERT_EQ(r.code, 0) << r.out;

    // The audited leader: a leader of the Fucheng branch, from the directory.
    r = Smctl("people search --unit fucheng-branch --leaders -o json", kAuditor, false);
    ASSERT_EQ(r.code, 0) << r.out;
    auto people = nlohmann::json::parse(r.out);
    ASSERT_FALSE(people["people"].empty()) << r.out;
    leader_badge_ = new std::string(people["people"][0]["badge_no"].get<std::string>());
    leader_name_ = new std::string(people["people"][0]["name"].get<std::string>());
  }

  static void TearDownTestSuite() {
    if (started_) {
      Result r = stack_->Stop();
      EXPECT_EQ(r.code, 0) << r.out;
      EXPECT_NE(Sh("bash -c \"exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(audit_port_) + "\"").code, 0);
    }
    delete stack_;  // removes the folder
    delete dir_;
    delete env_;
    delete leader_badge_;
    delete leader_name_;
  }

  // smctl as the user whose token is in `config`, against this stack.
  static Result Smctl(const std::string& args, const std::string& config, bool merge_stderr = true) {
    return Sh("SMCTL_CONFIG_DIR=" + *dir_ + "/" + config + " SMCTL_ADDR=127.0.0.1:" + std::to_string(dir_port_) +
                  " SMCTL_CLUE_ADDR=127.0.0.1:" + std::to_string(clue_port_) + " SMCTL_AUDIT_ADDR=127.0.0.1:" +
                  std::to_string(audit_port_) + " SMCTL_LANG= " SM_BINARY_DIR "/tools/smctl/smctl " + args,
              merge_stderr);
  }

  struct Ref {
    std::string id;
    std::string number;
  };

  // Opens an engagement as the audit office.
  static Ref Engagement(const std::string& args) {
    Result r = Smctl("audit engagement create --audit-unit audit-office " + args + " -o json", kAuditor, false);
    EXPECT_EQ(r.code, 0) << r.out;
    auto j = Json(r);
    if (!j.contains("engagement")) return {};
    return {j["engagement"]["id"].get<std::string>(), j["engagement"]["number"].get<std::string>()};
  }

  // Adds a finding about the Fucheng branch to `engagement` as the audit office.
  static Ref Finding(const std::string& engagement, const std::string& title, const std::string& amount) {
    Result r = Smctl("audit finding add --engagement " + engagement + " --title '" + title +
                         "' --description '经查阅会计凭证发现' --category financial-discipline --amount " + amount +
                         " --severity medium --unit fucheng-branch -o json",
                     kAuditor, false);
    EXPECT_EQ(r.code, 0) << r.out;
    auto j = Json(r);
    if (!j.contains("finding")) return {};
    return {j["finding"]["id"].get<std::string>(), j["finding"]["number"].get<std::string>()};
  }

  static std::string WriteFile(const std::string& name, const std::string& content) {
    const std::string path = *dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  static inline sm::testing::LocalStack* stack_;
  static inline std::string* dir_;
  static inline std::string* env_;
  static inline std::string* leader_badge_;
  static inline std::string* leader_name_;
  static inline int dir_port_;
  static inline int clue_port_;
  static inline int audit_port_;
  static inline bool started_ = false;
};

TEST_F(AuditCliE2E, DepartureAuditFindingIsReferredAndCarriesTheClueOutcome) {
  // A departure (economic responsibility) audit of the branch's leader.
  Result create = Smctl(
      "audit engagement create --kind economic-responsibility --title '涪城分局主要领导离任经济责任审计'"
      " --audit-unit audit-office --audited-unit fucheng-branch --audited-person " +
          *leader_badge_ + " --from 2022-01-01 --to 2025-12-31",
      kAuditor);
  ASSERT_EQ(create.code, 0) << create.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(create.out, m, std::regex("SJ-\\d{4}-\\d{4}"))) << create.out;
  const std::string eng = m.str();
  EXPECT_NE(create.out.find("已立项"), std::string::npos) << create.out;
  EXPECT_NE(create.out.find("经济责任（离任）审计"), std::string::npos) << create.out;

  Result advance = Smctl("audit engagement advance " + eng + " --to fieldwork", kAuditor);
  ASSERT_EQ(advance.code, 0) << advance.out;
  EXPECT_NE(advance.out.find("现场审计"), std::string::npos) << advance.out;
  Result eshow = Smctl("audit engagement show " + eng, kAuditor);
  ASSERT_EQ(eshow.code, 0) << eshow.out;
  EXPECT_NE(eshow.out.find(*leader_name_), std::string::npos) << eshow.out;
  EXPECT_NE(eshow.out.find("2022-01-01 ~ 2025-12-31"), std::string::npos) << eshow.out;
  Result elist = Smctl("audit engagement list --audited-unit fucheng-branch --kind economic-responsibility", kAuditor);
  ASSERT_EQ(elist.code, 0) << elist.out;
  EXPECT_NE(elist.out.find(eng), std::string::npos) << elist.out;

  // The finding: 12345.67 yuan is exactly 1234567 fen.
  Result add = Smctl("audit finding add --engagement " + eng +
                         " --title '违规发放津补贴' --description '以加班补助名义向全局民警发放津贴，无审批手续'"
                         " --category financial-discipline --amount 12345.67 --severity high --unit fucheng-branch"
                         " --person " +
                         *leader_badge_ + " --evidence 记账凭证2023-11-052 --evidence 工资发放表 -o json",
                     kAuditor, false);
  ASSERT_EQ(add.code, 0) << add.out;
  auto added = Json(add)["finding"];
  EXPECT_EQ(added["amount_fen"], "1234567") << add.out;
  EXPECT_EQ(added["evidence_refs"].size(), 2u) << add.out;
  const std::string id = added["id"].get<std::string>();
  const std::string number = added["number"].get<std::string>();
  EXPECT_EQ(number, eng + "-01");

  // Refer it (by number) to the discipline group; audit-service delivers the clue.
  Result refer = Smctl("audit finding refer " + number + " --to discipline-group --category integrity", kAuditor);
  ASSERT_EQ(refer.code, 0) << refer.out;
  EXPECT_NE(refer.out.find("已移送"), std::string::npos) << refer.out;
  std::string clue_number;
  const bool delivered = PollUntil([&] {
    Result show = Smctl("audit finding show " + id + " -o json", kAuditor, false);
    if (show.code != 0) return false;
    auto j = nlohmann::json::parse(show.out, nullptr, false);
    if (j.is_discarded() || j["referral"]["state"] != "REFERRAL_STATE_DELIVERED") return false;
    clue_number = j["referral"]["clue_number"].get<std::string>();
    return !clue_number.empty();
  });
  ASSERT_TRUE(delivered) << Smctl("audit finding show " + id, kAuditor).out;
  ASSERT_TRUE(std::regex_match(clue_number, std::regex("XS-\\d{4}-\\d{6}"))) << clue_number;
  // Referred exactly once: a second referral is a conflict.
  Result again = Smctl("audit finding refer " + number + " --to discipline-group", kAuditor);
  EXPECT_EQ(again.code, 8) << again.out;

  // The discipline group handles the clue with the clue commands.
  Result accept = Smctl("clue accept " + clue_number, kGroup);
  ASSERT_EQ(accept.code, 0) << accept.out;
  Result dispose = Smctl("clue dispose " + clue_number + " --method verify", kGroup);
  ASSERT_EQ(dispose.code, 0) << dispose.out;
  const std::string feedback = "经初步核实问题属实，对责任人诫勉谈话，责令清退违规发放款项";
  Result conclude = Smctl("clue conclude " + clue_number + " --form 2 --feedback '" + feedback + "'", kGroup);
  ASSERT_EQ(conclude.code, 0) << conclude.out;

  // The outcome comes back onto the finding.
  Result show;
  const bool concluded = PollUntil([&] {
    show = Smctl("audit finding show " + number, kAuditor);
    return show.code == 0 && show.out.find("第二种形态") != std::string::npos &&
           show.out.find(feedback) != std::string::npos;
  });
  ASSERT_TRUE(concluded) << show.out;
  for (const char* label : {"移送状态", "线索编号", "线索状态", "处置方式", "结论形态", "反馈"}) {
    EXPECT_NE(show.out.find(label), std::string::npos) << label << "\n" << show.out;
  }
  EXPECT_NE(show.out.find(clue_number), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("已送达"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("已办结"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("初步核实"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("12,345.67"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("市纪委监委驻市公安局纪检监察组"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find(*leader_name_), std::string::npos) << show.out;
  Result en = Smctl("audit finding show " + id + " --lang en", kAuditor);
  ASSERT_EQ(en.code, 0) << en.out;
  EXPECT_NE(en.out.find("form 2"), std::string::npos) << en.out;
  EXPECT_NE(en.out.find("preliminary verification"), std::string::npos) << en.out;
  // The unit it was referred to sees it too, with the outcome; the branch it is about as
  // well, but not what became of the referral (that would tip off the subject).
  Result by_group = Smctl("audit finding show " + id, kGroup);
  EXPECT_EQ(by_group.code, 0) << by_group.out;
  EXPECT_NE(by_group.out.find(clue_number), std::string::npos) << by_group.out;
  Result by_branch = Smctl("audit finding show " + number, kStaff);
  EXPECT_EQ(by_branch.code, 0) << by_branch.out;
  EXPECT_NE(by_branch.out.find(number), std::string::npos) << by_branch.out;
  for (const std::string& secret : {clue_number, feedback, std::string("初步核实"), std::string("已办结")}) {
    EXPECT_EQ(by_branch.out.find(secret), std::string::npos) << secret << "\n" << by_branch.out;
  }
  Result referred = Smctl("audit finding list --referred --engagement " + eng, kAuditor);
  ASSERT_EQ(referred.code, 0) << referred.out;
  EXPECT_NE(referred.out.find(clue_number), std::string::npos) << referred.out;

  // History in words, and an intact chain.
  Result history = Smctl("audit finding history " + number, kAuditor);
  ASSERT_EQ(history.code, 0) << history.out;
  size_t pos = 0;
  for (const char* event : {"登记问题", "移送", "已形成线索", "线索接收", "线索处置", "线索办结"}) {
    size_t next = history.out.find(std::string("  ") + event + "  ", pos);
    EXPECT_NE(next, std::string::npos) << event << " missing or out of order:\n" << history.out;
    if (next != std::string::npos) pos = next;
  }
  Result verify = Smctl("audit finding verify " + number, kAuditor);
  EXPECT_EQ(verify.code, 0) << verify.out;
  EXPECT_NE(verify.out.find("完整"), std::string::npos) << verify.out;

  // An unrelated branch does not see it, by id or by number.
  Result by_id = Smctl("audit finding show " + id, kGaoxin);
  EXPECT_EQ(by_id.code, 5) << by_id.out;
  Result by_number = Smctl("audit finding show " + number, kGaoxin);
  EXPECT_EQ(by_number.code, 5) << by_number.out;
  Result history_gx = Smctl("audit finding history " + id, kGaoxin);
  EXPECT_EQ(history_gx.code, 5) << history_gx.out;
}

TEST_F(AuditCliE2E, RectificationIsRejectedOnceThenSignedOff) {
  Ref eng = Engagement(
      "--kind project-payment --title '涪城分局业务技术用房维修工程审计' --audited-unit fucheng-branch"
      " --from 2024-01-01 --to 2024-12-31");
  ASSERT_FALSE(eng.id.empty());
  Ref f = Finding(eng.number, "工程进度款超合同约定比例支付", "56000");
  ASSERT_FALSE(f.id.empty());

  // Only the audit unit sets rectifications.
  Result by_staff = Smctl("audit rectification add " + f.number + " --measure 自行整改", kStaff);
  EXPECT_EQ(by_staff.code, 4) << by_staff.out;
  Result add = Smctl(
      "audit rectification add " + f.number + " --measure '追回超付工程款，完善工程款支付审批流程' --days 20 -o json",
      kAuditor, false);
  ASSERT_EQ(add.code, 0) << add.out;
  auto x = Json(add)["rectification"];
  EXPECT_EQ(x["state"], "RECTIFICATION_STATE_OPEN");
  const std::string rect = x["id"].get<std::string>();

  // The owner (the branch) records progress (by an id prefix) and submits.
  Result mine = Smctl("audit rectification list --owner fucheng-branch --state open", kStaff);
  ASSERT_EQ(mine.code, 0) << mine.out;
  EXPECT_NE(mine.out.find(rect), std::string::npos) << mine.out;
  EXPECT_NE(mine.out.find(f.number), std::string::npos) << mine.out;
  Result progress = Smctl("audit rectification progress " + rect.substr(0, 13) +
                              " --note '已向施工单位发函追回超付款项' --evidence 催款函2024-031",
                          kStaff);
  ASSERT_EQ(progress.code, 0) << progress.out;
  EXPECT_NE(progress.out.find("已记录整改进展"), std::string::npos) << progress.out;
  Result submit = Smctl("audit rectification submit " + rect + " --summary '超付款项已全部追回'", kStaff);
  ASSERT_EQ(submit.code, 0) << submit.out;
  EXPECT_NE(submit.out.find("已提交待核验"), std::string::npos) << submit.out;

  // The audit office rejects (a reason is required), then signs off.
  EXPECT_EQ(Smctl("audit rectification review " + rect, kAuditor).code, 2);
  Result no_reason = Smctl("audit rectification review " + rect + " --reject", kAuditor);
  EXPECT_EQ(no_reason.code, 6) << no_reason.out;
  EXPECT_NE(no_reason.out.find("reason"), std::string::npos) << no_reason.out;
  Result reject = Smctl("audit rectification review " + rect + " --reject --reason '未见审批流程修订文件'", kAuditor);
  ASSERT_EQ(reject.code, 0) << reject.out;
  EXPECT_NE(reject.out.find("已退回整改"), std::string::npos) << reject.out;
  EXPECT_NE(reject.out.find("整改中"), std::string::npos) << reject.out;
  Result resubmit = Smctl("audit rectification submit " + rect + " --summary '已修订工程款支付审批办法并印发'", kStaff);
  ASSERT_EQ(resubmit.code, 0) << resubmit.out;
  Result self_approve = Smctl("audit rectification review " + rect + " --approve", kStaff);
  EXPECT_EQ(self_approve.code, 4) << self_approve.out;
  Result approve = Smctl("audit rectification review " + rect + " --approve", kAuditor);
  ASSERT_EQ(approve.code, 0) << approve.out;
  EXPECT_NE(approve.out.find("已销号"), std::string::npos) << approve.out;

  Result signed_off = Smctl("audit rectification list --state signed-off", kAuditor);
  ASSERT_EQ(signed_off.code, 0) << signed_off.out;
  EXPECT_NE(signed_off.out.find(rect), std::string::npos) << signed_off.out;
  Result open = Smctl("audit rectification list --state open --finding " + f.number, kAuditor);
  ASSERT_EQ(open.code, 0) << open.out;
  EXPECT_EQ(open.out.find(rect), std::string::npos) << open.out;
  Result show = Smctl("audit finding show " + f.id, kAuditor);
  ASSERT_EQ(show.code, 0) << show.out;
  EXPECT_NE(show.out.find("1 项，已销号 1"), std::string::npos) << show.out;
  Result history = Smctl("audit finding history " + f.id, kAuditor);
  ASSERT_EQ(history.code, 0) << history.out;
  for (const char* event : {"下达整改", "整改进展", "提交整改", "退回整改", "销号"}) {
    EXPECT_NE(history.out.find(event), std::string::npos) << event << "\n" << history.out;
  }
  // An unrelated branch neither sees nor touches it.
  Result other = Smctl("audit rectification submit " + rect + " --summary x --version 9", kGaoxin);
  EXPECT_EQ(other.code, 5) << other.out;

  // Shown by id or by prefix: in Chinese by default, in English when asked, as JSON; to an
  // unrelated branch it does not exist.
  Result shown = Smctl("audit rectification show " + rect, kAuditor);
  ASSERT_EQ(shown.code, 0) << shown.out;
  for (const std::string& text : {std::string("已销号"), std::string("回头看截止"), std::string("下达时间"), f.number,
                                  rect, std::string("追回超付工程款"), std::string("已修订工程款支付审批办法并印发")}) {
    EXPECT_NE(shown.out.find(text), std::string::npos) << text << "\n" << shown.out;
  }
  Result shown_en = Smctl("audit rectification show " + rect.substr(0, 13) + " --lang en", kStaff);
  ASSERT_EQ(shown_en.code, 0) << shown_en.out;
  for (const char* text : {"signed off", "look-back until", "owner unit", "deadline"}) {
    EXPECT_NE(shown_en.out.find(text), std::string::npos) << text << "\n" << shown_en.out;
  }
  Result shown_json = Smctl("audit rectification show " + rect + " -o json", kAuditor, false);
  ASSERT_EQ(shown_json.code, 0) << shown_json.out;
  EXPECT_EQ(Json(shown_json)["id"], rect);
  EXPECT_EQ(Json(shown_json)["state"], "RECTIFICATION_STATE_SIGNED_OFF");
  EXPECT_FALSE(Json(shown_json)["created_at"].get<std::string>().empty()) << shown_json.out;
  EXPECT_EQ(Smctl("audit rectification show " + rect, kGaoxin).code, 5);

  // The list follows pages: one at a time, or all of them.
  Result second =
      Smctl("audit rectification add " + f.number + " --measure '完善工程变更签证管理' -o json", kAuditor, false);
  ASSERT_EQ(second.code, 0) << second.out;
  Result page = Smctl("audit rectification list --finding " + f.number + " --limit 1 -o json", kAuditor, false);
  ASSERT_EQ(page.code, 0) << page.out;
  EXPECT_EQ(Json(page)["rectifications"].size(), 1u) << page.out;
  const std::string token = Json(page)["next_page_token"].get<std::string>();
  EXPECT_FALSE(token.empty()) << page.out;
  Result next =
      Smctl("audit rectification list --finding " + f.number + " --limit 1 --page-token " + token + " -o json",
            kAuditor, false);
  ASSERT_EQ(next.code, 0) << next.out;
  ASSERT_EQ(Json(next)["rectifications"].size(), 1u) << next.out;
  EXPECT_EQ(Json(next)["rectifications"][0]["id"], Json(second)["rectification"]["id"]);
  Result all =
      Smctl("audit rectification list --finding " + f.number + " --limit 1 --all-pages -o json", kAuditor, false);
  ASSERT_EQ(all.code, 0) << all.out;
  EXPECT_EQ(Json(all)["rectifications"].size(), 2u) << all.out;
}

TEST_F(AuditCliE2E, LedgerImportLandsGoodRowsListsBadOnesAndIsIdempotent) {
  Ref eng = Engagement(
      "--kind property --title '2024年度执法活动财物管理专项审计' --audited-unit bureau"
      " --from 2024-01-01 --to 2024-12-31");
  ASSERT_FALSE(eng.id.empty());
  const std::string ledger = SM_SOURCE_DIR "/deploy/demo/audit-ledger.csv";

  Result dry = Smctl("audit import-findings " + ledger + " --engagement " + eng.number + " --dry-run", kAuditor);
  EXPECT_EQ(dry.code, 6) << dry.out;
  EXPECT_NE(dry.out.find("可导入 10 条，有误 2 条"), std::string::npos) << dry.out;
  auto count = [&] {
    Result list = Smctl("audit finding list --all-pages --engagement " + eng.id + " -o json", kAuditor, false);
    EXPECT_EQ(list.code, 0) << list.out;
    return Json(list)["findings"].size();
  };
  EXPECT_EQ(count(), 0u);

  // Ten good rows land; the two bad ones are named by line (the file's line 4-5 is one
  // record, so the lines are those of the file, not row indexes) with the reason.
  Result first = Smctl("audit import-findings " + ledger + " --engagement " + eng.number, kAuditor);
  EXPECT_EQ(first.code, 6) << first.out;
  EXPECT_NE(first.out.find("导入 10 条，失败 2 条"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("第 10 行  责任单位"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("wucheng-branch"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("第 13 行  金额"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("负数"), std::string::npos) << first.out;
  EXPECT_EQ(count(), 10u);

  // The quoted, multi-line, thousands-separated row came through intact.
  Result third = Smctl("audit finding show " + eng.number + "-03 -o json", kAuditor, false);
  ASSERT_EQ(third.code, 0) << third.out;
  auto f3 = Json(third);
  EXPECT_EQ(f3["amount_fen"], "18650000") << third.out;
  EXPECT_NE(f3["description"].get<std::string>().find("标准；\n化整为零"), std::string::npos) << third.out;
  EXPECT_EQ(f3["evidence_refs"].size(), 2u) << third.out;
  Result second = Smctl("audit finding show " + eng.number + "-02 -o json", kAuditor, false);
  ASSERT_EQ(second.code, 0) << second.out;
  EXPECT_NE(Json(second)["description"].get<std::string>().find("\"存放位置\""), std::string::npos) << second.out;

  // Again: nothing new, the same two failures.
  Result rerun = Smctl("audit import-findings " + ledger + " --engagement " + eng.id + " -o json", kAuditor, false);
  EXPECT_EQ(rerun.code, 6) << rerun.out;
  auto summary = Json(rerun);
  EXPECT_EQ(summary["imported"], 0) << rerun.out;
  EXPECT_EQ(summary["already_imported"], 10) << rerun.out;
  EXPECT_EQ(summary["failed"], 2) << rerun.out;
  Result rerun_table = Smctl("audit import-findings " + ledger + " --engagement " + eng.number, kAuditor);
  EXPECT_EQ(rerun_table.code, 6) << rerun_table.out;
  EXPECT_NE(rerun_table.out.find("导入 0 条，失败 2 条"), std::string::npos) << rerun_table.out;
  EXPECT_EQ(count(), 10u);
}

TEST_F(AuditCliE2E, LedgerFormatsAndEncodings) {
  Ref eng = Engagement(
      "--kind price-check --title '警用装备采购事前询价' --audited-unit gaoxin-branch"
      " --from 2025-01-01 --to 2025-06-30");
  ASSERT_FALSE(eng.id.empty());
  // A BOM, English headers with notes, CRLF, a quoted comma, an escaped quote, a line break in
  // a field, a blank line, an empty row, English and enum-style values.
  const std::string english =
      WriteFile("english.csv",
                "\xEF\xBB\xBFTitle,Description,Category,Amount (yuan),Severity,Unit (code),Person,Evidence\r\n"
                "\"Quotes, unverified\",\"Supplier said \"\"final\"\"\r\nno second quote\",Price,\"1,000.50\",HIGH,"
                "gaoxin-branch,,\"quote-1; quote-2\"\r\n"
                "\r\n"
                ",,,,,,,\r\n"
                "Overpriced radios,Unit price 18% above market,PRICE,0.01,low,gaoxin-branch,,\r\n");
  Result dry =
      Smctl("audit import-findings " + english + " --engagement " + eng.number + " --dry-run -o json", kAuditor, false);
  ASSERT_EQ(dry.code, 0) << dry.out;
  auto d = Json(dry);
  EXPECT_EQ(d["valid"], 2) << dry.out;
  EXPECT_EQ(d["results"][0]["line"], 2) << dry.out;
  EXPECT_EQ(d["results"][1]["line"], 6) << dry.out;
  EXPECT_EQ(d["results"][0]["amount_fen"], 100050) << dry.out;
  Result imported = Smctl("audit import-findings " + english + " --engagement " + eng.number, kAuditor);
  ASSERT_EQ(imported.code, 0) << imported.out;
  EXPECT_NE(imported.out.find("导入 2 条，失败 0 条"), std::string::npos) << imported.out;
  Result f1 = Smctl("audit finding show " + eng.number + "-01 -o json", kAuditor, false);
  ASSERT_EQ(f1.code, 0) << f1.out;
  auto j = Json(f1);
  EXPECT_EQ(j["title"], "Quotes, unverified");
  EXPECT_EQ(j["description"], "Supplier said \"final\"\nno second quote");
  EXPECT_EQ(j["category"], "FINDING_CATEGORY_PRICE");
  EXPECT_EQ(j["severity"], "SEVERITY_HIGH");
  EXPECT_EQ(j["evidence_refs"], nlohmann::json::array({"quote-1", "quote-2"}));

  // GBK is refused with the line, before anything is written.
  const std::string gbk = WriteFile("gbk.csv",
                                    "title,description,category,amount,severity,unit\n"
                                    "\xB2\xC9\xB9\xBA,\xC3\xE8\xCA\xF6,price,1,low,gaoxin-branch\n");  // 采购,描述
  Result refused = Smctl("audit import-findings " + gbk + " --engagement " + eng.number, kAuditor);
  EXPECT_EQ(refused.code, 6) << refused.out;
  EXPECT_NE(refused.out.find("第 2 行"), std::string::npos) << refused.out;
  EXPECT_NE(refused.out.find("UTF-8"), std::string::npos) << refused.out;
  EXPECT_NE(refused.out.find("GBK"), std::string::npos) << refused.out;
  // An unclosed quote is refused whole, naming the line where it opened.
  const std::string unclosed = WriteFile("unclosed.csv",
                                         "标题,描述,类别,金额,严重程度,责任单位\n"
                                         "甲,乙,询价,1,低,gaoxin-branch\n"
                                         "\"丙,丁,询价,1,低,gaoxin-branch\n");
  Result unclosed_r = Smctl("audit import-findings " + unclosed + " --engagement " + eng.number, kAuditor);
  EXPECT_EQ(unclosed_r.code, 6) << unclosed_r.out;
  EXPECT_NE(unclosed_r.out.find("第 3 行"), std::string::npos) << unclosed_r.out;
  // The service's field errors are reported per row too (title longer than 200 characters).
  std::string long_title;
  for (int i = 0; i < 201; ++i) long_title += "长";
  const std::string too_long =
      WriteFile("long.csv", "标题,描述,类别,金额,严重程度,责任单位\n" + long_title + ",描述,询价,1,低,gaoxin-branch\n");
  Result long_r = Smctl("audit import-findings " + too_long + " --engagement " + eng.number, kAuditor);
  EXPECT_EQ(long_r.code, 6) << long_r.out;
  EXPECT_NE(long_r.out.find("第 2 行  标题 (title)"), std::string::npos) << long_r.out;
  EXPECT_NE(long_r.out.find("导入 0 条，失败 1 条"), std::string::npos) << long_r.out;
  Result list = Smctl("audit finding list --engagement " + eng.number + " -o json", kAuditor, false);
  ASSERT_EQ(list.code, 0) << list.out;
  EXPECT_EQ(Json(list)["findings"].size(), 2u) << list.out;
}

TEST_F(AuditCliE2E, StatsShowTheAmountAndRates) {
  Ref eng = Engagement(
      "--kind project-payment --title '城郊派出所营房改造工程结算审计' "
      "--audited-unit fucheng-branch-chengjiao-station --from 2025-01-01 --to 2025-12-31");
  ASSERT_FALSE(eng.id.empty());
  ASSERT_FALSE(Finding(eng.number, "工程结算多计工程量", "8765.43").id.empty());
  // The audit office's findings are every finding of this stack.
  Result list = Smctl("audit finding list --all-pages --limit 500 -o json", kAuditor, false);
  ASSERT_EQ(list.code, 0) << list.out;
  int64_t total = 0;
  const auto findings = Json(list)["findings"];
  ASSERT_FALSE(findings.empty()) << list.out;
  for (const auto& f : findings) total += std::stoll(f["amount_fen"].get<std::string>());
  Result json = Smctl("audit stats -o json", kAuditor, false);
  ASSERT_EQ(json.code, 0) << json.out;
  EXPECT_EQ(Json(json)["amount_fen"], std::to_string(total)) << json.out;
  Result table = Smctl("audit stats", kAuditor);
  ASSERT_EQ(table.code, 0) << table.out;
  EXPECT_NE(table.out.find("涉及金额（元）  " + Yuan(total)), std::string::npos) << Yuan(total) << "\n" << table.out;
  for (const char* label : {"审计发现", "已移送纪检", "屡查屡犯", "整改率", "违反财经纪律", "问题类别", "严重程度"}) {
    EXPECT_NE(table.out.find(label), std::string::npos) << label << "\n" << table.out;
  }
  Result scoped = Smctl("audit stats --unit fucheng-branch-chengjiao-station --lang en", kAuditor);
  ASSERT_EQ(scoped.code, 0) << scoped.out;
  EXPECT_NE(scoped.out.find("amount (yuan)"), std::string::npos) << scoped.out;
  // Staff of a branch do not see statistics.
  EXPECT_EQ(Smctl("audit stats", kStaff).code, 4);
}

TEST_F(AuditCliE2E, BadInputsAreRefusedClearly) {
  Ref eng = Engagement(
      "--kind it-project --it-stage before-contract --title '执法办案系统升级项目合同签订前审计'"
      " --audited-unit fucheng-branch --from 2025-01-01 --to 2025-03-31");
  ASSERT_FALSE(eng.id.empty());
  const std::string base = "audit finding add --engagement " + eng.number +
                           " --title 合同价偏高 --description 高于同类项目 --category price --severity low"
                           " --unit fucheng-branch --amount ";
  Result three_decimals = Smctl(base + "1.234", kAuditor);
  EXPECT_EQ(three_decimals.code, 2) << three_decimals.out;
  EXPECT_NE(three_decimals.out.find("两位小数"), std::string::npos) << three_decimals.out;
  EXPECT_EQ(three_decimals.out.find("terminate"), std::string::npos) << three_decimals.out;
  Result english = Smctl(base + "1.234 --lang en", kAuditor);
  EXPECT_EQ(english.code, 2) << english.out;
  EXPECT_NE(english.out.find("at most 2 decimals"), std::string::npos) << english.out;
  EXPECT_EQ(Smctl(base + "12.3.4", kAuditor).code, 2);
  EXPECT_EQ(Smctl(base + "1e3", kAuditor).code, 2);
  Result exact = Smctl(base + "0.1 -o json", kAuditor, false);
  ASSERT_EQ(exact.code, 0) << exact.out;
  EXPECT_EQ(Json(exact)["finding"]["amount_fen"], "10") << exact.out;

  EXPECT_EQ(Smctl("audit engagement create --kind bogus --audit-unit audit-office --audited-unit fucheng-branch"
                  " --from 2025-01-01 --to 2025-02-01",
                  kAuditor)
                .code,
            2);
  // A departure audit needs the audited person: the service names the field.
  Result no_person = Smctl(
      "audit engagement create --kind economic-responsibility --title x --audit-unit audit-office"
      " --audited-unit fucheng-branch --from 2025-01-01 --to 2025-02-01",
      kAuditor);
  EXPECT_EQ(no_person.code, 6) << no_person.out;
  EXPECT_NE(no_person.out.find("audited_person_id"), std::string::npos) << no_person.out;
  // Only the next state: planned -> reported is a conflict.
  Result skip = Smctl("audit engagement advance " + eng.number + " --to reported", kAuditor);
  EXPECT_EQ(skip.code, 8) << skip.out;
  Result unknown = Smctl("audit finding show SJ-1999-0001-01", kAuditor);
  EXPECT_EQ(unknown.code, 5) << unknown.out;
  EXPECT_NE(unknown.out.find("SJ-1999-0001-01"), std::string::npos) << unknown.out;
  Result unknown_person = Smctl(base + "1 --person 000000", kAuditor);
  EXPECT_EQ(unknown_person.code, 5) << unknown_person.out;
  EXPECT_EQ(Smctl("audit finding list", "nobody").code, 3);
  // Staff of another branch get "not found", not the finding.
  Ref f = Finding(eng.number, "合同条款不完整", "100");
  ASSERT_FALSE(f.id.empty());
  Result gaoxin = Smctl("audit finding show " + f.number, kGaoxin);
  EXPECT_EQ(gaoxin.code, 5) << gaoxin.out;
  Result down = Sh("SMCTL_CONFIG_DIR=" + *dir_ + "/" + kAuditor + " SMCTL_ADDR=127.0.0.1:" + std::to_string(dir_port_) +
                   " " SM_BINARY_DIR "/tools/smctl/smctl --audit-addr 127.0.0.1:" + std::to_string(FreePort()) +
                   " --timeout-ms 2000 audit finding list");
  EXPECT_EQ(down.code, 7) << down.out;
  EXPECT_NE(down.out.find("审计服务"), std::string::npos) << down.out;
}

// The running audit-service signs a checkpoint at start-up; oversight verifies every
// engagement's and finding's chain against it and exports it as JSON lines; the audit office,
// the audited branch and the discipline group may do neither.
TEST_F(AuditCliE2E, ACheckpointIsSignedAtStartUpVerifiedAndExported) {
  Result login = Smctl("login --dev --user overseer --unit bureau-party-committee --role oversight", "oversight");
  ASSERT_EQ(login.code, 0) << login.out;
  Ref eng = Engagement(
      "--kind project-payment --title '办公楼改造工程结算审计' --audited-unit fucheng-branch"
      " --from 2025-01-01 --to 2025-12-31");
  ASSERT_FALSE(eng.id.empty());
  Ref f = Finding(eng.number, "工程款超付", "1200");
  ASSERT_FALSE(f.id.empty());
  sm::testing::ExpectCheckpointCommands(Smctl, "audit", "audit-service", "oversight", {kAuditor, kStaff, kGroup});
}

}  // namespace
