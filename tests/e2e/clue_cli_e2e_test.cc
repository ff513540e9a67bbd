// End to end: `smctl clue ...` against the local stack (deploy/local/stack: PostgreSQL,
// Redis, directory-service and clue-service as processes on free ports), used as the
// discipline staff of three units would: the bureau's discipline group registers a petition
// and transfers it to the discipline commission, which accepts, verifies and concludes it;
// an unrelated branch cannot see it.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "tests/e2e/checkpoint_commands.h"
#include "tests/support/local_stack.h"

namespace {

using sm::testing::FreePort;
using sm::testing::PollUntil;
using sm::testing::Sh;
using Result = sm::testing::ShResult;

// Config folders (token stores), one per user.
constexpr const char* kAdmin = "admin";            // directory import
constexpr const char* kGroup = "group";            // discipline group (registers)
constexpr const char* kCommission = "commission";  // discipline commission (receives)
constexpr const char* kGaoxin = "gaoxin";          // an unrelated branch

class ClueCliE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stack_ = new sm::testing::LocalStack("clue-e2e");
    dir_ = new std::string(stack_->dir());
    env_ = new std::string(stack_->env());
    dir_port_ = stack_->grpc_port("directory");
    clue_port_ = stack_->grpc_port("clue");
    started_ = true;
    Result r = stack_->Start();
    ASSERT_EQ(r.code, 0) << r.out;

    r = stack_->ImportDemoDirectory(kAdmin);
    ASSERT_EQ(r.code, 0) << r.out;
    r = Smctl("login --dev --user group-officer --unit discipline-group --role discipline --clearance 2", kGroup);
    ASSERT_EQ(r.code, 0) << r.out;
    r = Smctl("login --dev --user commission-officer --unit discipline-commission --role discipline --clearance 2",
              kCommission);
    ASSERT_EQ(r.code, 0) << r.out;
    r = Smctl("login --dev --user gaoxin-officer --unit gaoxin-branch --role discipline --clearance 2", kGaoxin);
    ASSERT_EQ(r.code, 0) << r.out;

    // The subject: a non-leader of the Chengjiao station, picked from the directory.
    r = Smctl("people search --unit fucheng-branch-chengjiao-station --non-leaders -o json", kGroup, false);
    ASSERT_EQ(r.code, 0) << r.out;
    auto people = nlohmann::json::parse(r.out);
    ASSERT_FALSE(people["people"].empty()) << r.out;
    badge_ = new std::string(people["people"][0]["badge_no"].get<std::string>());
    subject_name_ = new std::string(people["people"][0]["name"].get<std::string>());
  }

  static void TearDownTestSuite() {
    if (started_) {
      Result r = stack_->Stop();
      EXPECT_EQ(r.code, 0) << r.out;
      EXPECT_NE(Sh("bash -c \"exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(clue_port_) + "\"").code, 0);
    }
    delete stack_;  // removes the folder
    delete dir_;
    delete env_;
    delete badge_;
    delete subject_name_;
  }

  // smctl as the user whose token is in `config`, against this stack.
  static Result Smctl(const std::string& args, const std::string& config, bool merge_stderr = true) {
    return Sh("SMCTL_CONFIG_DIR=" + *dir_ + "/" + config + " SMCTL_ADDR=127.0.0.1:" + std::to_string(dir_port_) +
                  " SMCTL_CLUE_ADDR=127.0.0.1:" + std::to_string(clue_port_) +
                  " SMCTL_LANG= " SM_BINARY_DIR "/tools/smctl/smctl " + args,
              merge_stderr);
  }

  struct Registered {
    std::string id;
    std::string number;
  };

  // Registers a petition about the subject as the discipline group.
  static Registered Register(const std::string& summary) {
    Result r = Smctl("clue register --unit discipline-group --source petition --channel letter --subject-person " +
                         *badge_ + " --category integrity --category bending-law --summary '" + summary +
                         "' --details '来信称其收受当事人财物' --reporter-name 张三 --reporter-contact 13800000000"
                         " --severity high -o json",
                     kGroup, false);
    EXPECT_EQ(r.code, 0) << r.out;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (j.is_discarded()) {
      ADD_FAILURE() << r.out;
      return {};
    }
    return {j["clue"]["id"].get<std::string>(), j["clue"]["number"].get<std::string>()};
  }

  static inline sm::testing::LocalStack* stack_;
  static inline std::string* dir_;
  static inline std::string* env_;
  static inline std::string* badge_;
  static inline std::string* subject_name_;
  static inline int dir_port_;
  static inline int clue_port_;
  static inline bool started_ = false;
};

TEST_F(ClueCliE2E, PetitionGoesFromTheGroupToTheCommissionAndIsConcludedWithFeedback) {
  // Register: the table names the number, id, state and deadline.
  Result reg =
      Smctl("clue register --unit discipline-group --source petition --channel letter --subject-person " + *badge_ +
                " --category integrity,bending-law --summary '群众来信反映其在办理盗窃案件中收受当事人红包'"
                " --anonymous",
            kGroup);
  ASSERT_EQ(reg.code, 0) << reg.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(reg.out, m, std::regex("XS-\\d{4}-\\d{6}"))) << reg.out;
  const std::string number = m.str();
  EXPECT_NE(reg.out.find("已登记"), std::string::npos) << reg.out;
  EXPECT_NE(reg.out.find("办理时限"), std::string::npos) << reg.out;
  ASSERT_TRUE(std::regex_search(reg.out, m, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")))
      << reg.out;
  const std::string id = m.str();

  // Transfer by number; accept, dispose and conclude as the commission, by id and number.
  Result transfer =
      Smctl("clue transfer " + number + " --to discipline-commission --reason '涉嫌违法，移送纪委监委'", kGroup);
  ASSERT_EQ(transfer.code, 0) << transfer.out;
  EXPECT_NE(transfer.out.find("移送待接收"), std::string::npos) << transfer.out;
  EXPECT_NE(transfer.out.find("市纪委监委"), std::string::npos) << transfer.out;

  Result accept = Smctl("clue accept " + id, kCommission);
  ASSERT_EQ(accept.code, 0) << accept.out;
  EXPECT_NE(accept.out.find("在办"), std::string::npos) << accept.out;

  Result dispose = Smctl("clue dispose " + number + " --method verify", kCommission);
  ASSERT_EQ(dispose.code, 0) << dispose.out;
  EXPECT_NE(dispose.out.find("处置中"), std::string::npos) << dispose.out;

  const std::string feedback = "经初步核实问题部分属实，给予警告处分";
  Result conclude =
      Smctl("clue conclude " + id + " --form 2 --sanction 警告 --feedback '" + feedback + "'", kCommission);
  ASSERT_EQ(conclude.code, 0) << conclude.out;
  EXPECT_NE(conclude.out.find("已办结"), std::string::npos) << conclude.out;

  // Show, in Chinese: the state, the form, the feedback, the units by name, the subject.
  Result show = Smctl("clue show " + number, kCommission);
  ASSERT_EQ(show.code, 0) << show.out;
  EXPECT_NE(show.out.find("已办结"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find(feedback), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("第二种形态"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("初步核实"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("信访举报"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("廉洁纪律、徇私枉法"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find(*subject_name_), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("承办单位  市纪委监委"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("来源单位  市纪委监委驻市公安局纪检监察组"), std::string::npos) << show.out;
  // The sending unit sees the outcome fed back to it, too.
  Result fed_back = Smctl("clue show " + id, kGroup);
  ASSERT_EQ(fed_back.code, 0) << fed_back.out;
  EXPECT_NE(fed_back.out.find(feedback), std::string::npos) << fed_back.out;
  // English on request.
  Result en = Smctl("clue show " + id + " --lang en", kCommission);
  ASSERT_EQ(en.code, 0) << en.out;
  EXPECT_NE(en.out.find("concluded"), std::string::npos) << en.out;
  EXPECT_NE(en.out.find("form 2"), std::string::npos) << en.out;
  // JSON for scripts: the proto, field names as in the API.
  Result json = Smctl("clue show " + id + " -o json", kCommission, false);
  ASSERT_EQ(json.code, 0) << json.out;
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["state"], "CLUE_STATE_CONCLUDED");
  EXPECT_EQ(j["outcome"]["form"], "SUPERVISION_FORM_2");
  EXPECT_EQ(j["number"], number);

  // History: five events, in order, in words.
  Result history = Smctl("clue history " + number, kCommission);
  ASSERT_EQ(history.code, 0) << history.out;
  size_t pos = 0;
  for (const char* event : {"登记", "移送", "接收", "处置", "办结"}) {
    size_t next = history.out.find(std::string("  ") + event + "  ", pos);
    EXPECT_NE(next, std::string::npos) << event << " missing or out of order:\n" << history.out;
    if (next != std::string::npos) pos = next;
  }
  Result history_json = Smctl("clue history " + id + " -o json", kCommission, false);
  ASSERT_EQ(history_json.code, 0) << history_json.out;
  auto events = nlohmann::json::parse(history_json.out)["events"];
  ASSERT_EQ(events.size(), 5u) << history_json.out;
  EXPECT_EQ(events[0]["type"], "registered");
  EXPECT_EQ(events[4]["type"], "concluded");

  // The chain is intact.
  Result verify = Smctl("clue verify " + number, kCommission);
  EXPECT_EQ(verify.code, 0) << verify.out;
  EXPECT_NE(verify.out.find("完整"), std::string::npos) << verify.out;

  // Listed for the holder, with the state and the holding unit by name.
  Result list = Smctl("clue list", kCommission);
  ASSERT_EQ(list.code, 0) << list.out;
  size_t line_start = list.out.find(number);
  ASSERT_NE(line_start, std::string::npos) << list.out;
  std::string line = list.out.substr(line_start, list.out.find('\n', line_start) - line_start);
  EXPECT_NE(line.find("已办结"), std::string::npos) << line;
  EXPECT_NE(line.find("市纪委监委"), std::string::npos) << line;
  EXPECT_NE(line.find("…"), std::string::npos) << "the long summary is cut: " << line;
  Result filtered =
      Smctl("clue list --state concluded --holding discipline-commission --subject " + *badge_, kCommission);
  ASSERT_EQ(filtered.code, 0) << filtered.out;
  EXPECT_NE(filtered.out.find(number), std::string::npos) << filtered.out;
  Result none = Smctl("clue list --state shelved", kCommission);
  ASSERT_EQ(none.code, 0) << none.out;
  EXPECT_EQ(none.out.find(number), std::string::npos) << none.out;
}

TEST_F(ClueCliE2E, ReturnWithoutReasonIsInvalidAndNamesTheField) {
  Registered c = Register("反映其违规插手经济纠纷");
  ASSERT_FALSE(c.id.empty());
  ASSERT_EQ(Smctl("clue transfer " + c.id + " --to discipline-commission", kGroup).code, 0);
  Result bad = Smctl("clue return " + c.number, kCommission);
  EXPECT_EQ(bad.code, 6) << bad.out;
  EXPECT_NE(bad.out.find("reason"), std::string::npos) << bad.out;
  EXPECT_EQ(bad.out.find("terminate"), std::string::npos) << bad.out;
  // With a reason it goes back to the group, which holds it again.
  Result ok = Smctl("clue return " + c.number + " --reason '不属于本机关管辖'", kCommission);
  ASSERT_EQ(ok.code, 0) << ok.out;
  EXPECT_NE(ok.out.find("在办"), std::string::npos) << ok.out;
  Result show = Smctl("clue show " + c.id, kGroup);
  ASSERT_EQ(show.code, 0) << show.out;
  EXPECT_NE(show.out.find("承办单位  市纪委监委驻市公安局纪检监察组"), std::string::npos) << show.out;
  // A stale --version is a conflict, not a silent overwrite.
  Result stale = Smctl("clue dispose " + c.id + " --method talk --version 1", kGroup);
  EXPECT_EQ(stale.code, 8) << stale.out;
}

TEST_F(ClueCliE2E, AnUnrelatedUnitCannotSeeTheClue) {
  Registered c = Register("反映其与涉赌人员交往密切");
  ASSERT_FALSE(c.id.empty());
  Result by_id = Smctl("clue show " + c.id, kGaoxin);
  EXPECT_EQ(by_id.code, 5) << by_id.out;
  Result by_number = Smctl("clue show " + c.number, kGaoxin);
  EXPECT_EQ(by_number.code, 5) << by_number.out;
  Result history = Smctl("clue history " + c.id, kGaoxin);
  EXPECT_EQ(history.code, 5) << history.out;
  Result transfer = Smctl("clue transfer " + c.id + " --to gaoxin-branch --version 1", kGaoxin);
  EXPECT_EQ(transfer.code, 5) << transfer.out;
  Result list = Smctl("clue list", kGaoxin);
  ASSERT_EQ(list.code, 0) << list.out;
  EXPECT_EQ(list.out.find(c.number), std::string::npos) << list.out;
  // Nor may it ask to see the reporter.
  Result reveal = Smctl("clue reveal-request " + c.id + " --reason 核查", kGaoxin);
  EXPECT_EQ(reveal.code, 5) << reveal.out;
}

TEST_F(ClueCliE2E, TheReporterIsRevealedOnlyAfterTwoCustodiansApproveAndOnlyOnce) {
  Registered c = Register("反映其违规借用管理服务对象车辆");
  ASSERT_FALSE(c.id.empty());
  for (const char* who : {"custodian-a", "custodian-b"}) {
    ASSERT_EQ(Smctl(std::string("login --dev --user ") + who +
                        " --unit bureau-party-committee --role custodian --clearance 2",
                    who)
                  .code,
              0);
  }
  // The group's cleared officer asks, with a reason (required).
  Result no_reason = Smctl("clue reveal-request " + c.number, kGroup);
  EXPECT_EQ(no_reason.code, 6) << no_reason.out;
  EXPECT_NE(no_reason.out.find("reason"), std::string::npos) << no_reason.out;
  Result asked =
      Smctl("clue reveal-request " + c.number + " --reason '核实举报内容需联系举报人' -o json", kGroup, false);
  ASSERT_EQ(asked.code, 0) << asked.out;
  auto request = nlohmann::json::parse(asked.out)["request"];
  const std::string id = request["id"].get<std::string>();
  EXPECT_EQ(request["state"], "REVEAL_STATE_PENDING");

  // The custodians see it in their queue; the requester cannot approve it.
  Result queue = Smctl("clue reveals", "custodian-a");
  ASSERT_EQ(queue.code, 0) << queue.out;
  EXPECT_NE(queue.out.find(id), std::string::npos) << queue.out;
  EXPECT_NE(queue.out.find("待审批"), std::string::npos) << queue.out;
  EXPECT_EQ(Smctl("clue reveal-approve " + id, kGroup).code, 4);
  Result early = Smctl("clue reveal " + id, kGroup);
  EXPECT_EQ(early.code, 8) << early.out;
  Result first = Smctl("clue reveal-approve " + id, "custodian-a");
  ASSERT_EQ(first.code, 0) << first.out;
  EXPECT_NE(first.out.find("1/2"), std::string::npos) << first.out;
  Result twice = Smctl("clue reveal-approve " + id, "custodian-a");
  EXPECT_EQ(twice.code, 8) << twice.out;
  Result second = Smctl("clue reveal-approve " + id + " --lang en", "custodian-b");
  ASSERT_EQ(second.code, 0) << second.out;
  EXPECT_NE(second.out.find("approved"), std::string::npos) << second.out;

  // Someone else cannot use the approval; the requester sees the reporter once.
  EXPECT_EQ(Smctl("clue reveal " + id, kCommission).code, 4);
  Result shown = Smctl("clue reveal " + id, kGroup);
  ASSERT_EQ(shown.code, 0) << shown.out;
  EXPECT_NE(shown.out.find("张三"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("13800000000"), std::string::npos) << shown.out;
  Result again = Smctl("clue reveal " + id, kGroup);
  EXPECT_EQ(again.code, 8) << again.out;
  Result mine = Smctl("clue reveals --mine --clue " + c.id, kGroup);
  ASSERT_EQ(mine.code, 0) << mine.out;
  EXPECT_NE(mine.out.find("已查看"), std::string::npos) << mine.out;

  // Every step is in the history (never the name), and the chain holds.
  Result history = Smctl("clue history " + c.id, kGroup);
  ASSERT_EQ(history.code, 0) << history.out;
  size_t pos = 0;
  for (const char* event : {"申请查看举报人", "批准查看举报人", "批准查看举报人", "查看举报人"}) {
    size_t next = history.out.find(std::string("  ") + event + "  ", pos);
    EXPECT_NE(next, std::string::npos) << event << " missing or out of order:\n" << history.out;
    if (next != std::string::npos) pos = next + 1;
  }
  EXPECT_EQ(history.out.find("张三"), std::string::npos) << history.out;
  EXPECT_EQ(Smctl("clue verify " + c.id, kGroup).code, 0);

  // A refusal needs a reason and ends a request.
  Result other = Smctl("clue reveal-request " + c.id + " --reason '再次核实' -o json", kGroup, false);
  ASSERT_EQ(other.code, 0) << other.out;
  const std::string other_id = nlohmann::json::parse(other.out)["request"]["id"].get<std::string>();
  EXPECT_EQ(Smctl("clue reveal-refuse " + other_id, "custodian-b").code, 6);
  Result refused = Smctl("clue reveal-refuse " + other_id + " --reason '理由不充分'", "custodian-b");
  ASSERT_EQ(refused.code, 0) << refused.out;
  EXPECT_NE(refused.out.find("已拒绝"), std::string::npos) << refused.out;
  Result state = Smctl("clue reveal-show " + other_id, kGroup);
  ASSERT_EQ(state.code, 0) << state.out;
  EXPECT_NE(state.out.find("已拒绝"), std::string::npos) << state.out;
  EXPECT_NE(state.out.find("理由不充分"), std::string::npos) << state.out;
  EXPECT_EQ(Smctl("clue reveal " + other_id, kGroup).code, 8);
}

TEST_F(ClueCliE2E, ExitCodesForUsageLoginAndUnknownClues) {
  EXPECT_EQ(Smctl("clue frobnicate", kGroup).code, 2);
  EXPECT_EQ(Smctl("clue dispose XS-2026-000001 --method burn", kGroup).code, 2);
  EXPECT_EQ(Smctl("clue conclude XS-2026-000001 --form 5 --feedback x", kGroup).code, 2);
  EXPECT_EQ(Smctl("clue list", "nobody").code, 3);
  Result unknown = Smctl("clue show XS-1999-999999", kGroup);
  EXPECT_EQ(unknown.code, 5) << unknown.out;
  EXPECT_NE(unknown.out.find("XS-1999-999999"), std::string::npos) << unknown.out;
  Result down = Sh("SMCTL_CONFIG_DIR=" + *dir_ + "/group " SM_BINARY_DIR "/tools/smctl/smctl --clue-addr 127.0.0.1:" +
                   std::to_string(FreePort()) + " --timeout-ms 2000 clue list");
  EXPECT_EQ(down.code, 7) << down.out;
  EXPECT_NE(down.out.find("线索服务"), std::string::npos) << down.out;
}

TEST_F(ClueCliE2E, NotesWithAttachmentsAndStatistics) {
  Registered c = Register("反映其酒后驾驶警车");
  ASSERT_FALSE(c.id.empty());
  const std::string file = *dir_ + "/谈话笔录.pdf";
  std::ofstream(file) << "%PDF-1.4 transcript";
  Result note = Smctl("clue note " + c.number + " --text '已调取相关执法记录' --attach '" + file + "'", kGroup);
  ASSERT_EQ(note.code, 0) << note.out;
  Result history = Smctl("clue history " + c.id + " -o json", kGroup, false);
  ASSERT_EQ(history.code, 0) << history.out;
  auto events = nlohmann::json::parse(history.out)["events"];
  ASSERT_EQ(events.size(), 2u) << history.out;
  auto data = nlohmann::json::parse(events[1]["data_json"].get<std::string>());
  ASSERT_EQ(data["attachments"].size(), 1u) << data.dump();
  EXPECT_EQ(data["attachments"][0]["name"], "谈话笔录.pdf");
  EXPECT_EQ(data["attachments"][0]["media_type"], "application/pdf");
  EXPECT_EQ(data["attachments"][0]["size_bytes"], 19);
  // sha256 of "%PDF-1.4 transcript"
  Result sha = Sh("sha256sum '" + file + "' | cut -c1-64", false);
  EXPECT_EQ(data["attachments"][0]["sha256"], sha.out.substr(0, 64));
  Result table = Smctl("clue history " + c.id, kGroup);
  EXPECT_NE(table.out.find("谈话笔录.pdf"), std::string::npos) << table.out;
  Result missing = Smctl("clue note " + c.id + " --text x --attach " + *dir_ + "/no-such-file", kGroup);
  EXPECT_EQ(missing.code, 6) << missing.out;

  Result stats = Smctl("clue stats --unit discipline-group", kGroup);
  ASSERT_EQ(stats.code, 0) << stats.out;
  EXPECT_NE(stats.out.find("线索总数"), std::string::npos) << stats.out;
  EXPECT_NE(stats.out.find("已登记"), std::string::npos) << stats.out;
  EXPECT_NE(stats.out.find("廉洁纪律"), std::string::npos) << stats.out;
  Result stats_json = Smctl("clue stats -o json", kGroup, false);
  ASSERT_EQ(stats_json.code, 0) << stats_json.out;
  auto s = nlohmann::json::parse(stats_json.out);
  EXPECT_GE(std::stoll(s["total"].get<std::string>()), 1);
}

TEST_F(ClueCliE2E, DuplicatesAreMergedIntoThePrimary) {
  Registered a = Register("反映其违规收受礼金（一）");
  Registered b = Register("反映其违规收受礼金（二）");
  ASSERT_FALSE(a.id.empty());
  ASSERT_FALSE(b.id.empty());
  Result dups = Smctl("clue duplicates " + a.number, kGroup);
  ASSERT_EQ(dups.code, 0) << dups.out;
  EXPECT_NE(dups.out.find(b.number), std::string::npos) << dups.out;
  Result merge = Smctl("clue merge " + a.number + " --with " + b.number + " --reason 同一被反映人同一事项", kGroup);
  ASSERT_EQ(merge.code, 0) << merge.out;
  Result show = Smctl("clue show " + b.id, kGroup);
  ASSERT_EQ(show.code, 0) << show.out;
  EXPECT_NE(show.out.find("已并案"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find(a.number), std::string::npos) << show.out;
}

TEST_F(ClueCliE2E, ADeadlineIsExtendedOnlyByALeaderOfTheHoldingUnit) {
  Registered c = Register("反映其违规参与营利性活动");
  ASSERT_FALSE(c.id.empty());
  Result not_leader = Smctl("clue extend " + c.id + " --days 5 --reason 案情复杂", kGroup);
  EXPECT_EQ(not_leader.code, 4) << not_leader.out;
  // The token's subject is the leader's directory id.
  Result leaders = Smctl("people search --unit discipline-group --leaders -o json", kGroup, false);
  ASSERT_EQ(leaders.code, 0) << leaders.out;
  auto people = nlohmann::json::parse(leaders.out)["people"];
  ASSERT_FALSE(people.empty()) << leaders.out;
  const std::string leader_id = people[0]["id"].get<std::string>();
  ASSERT_EQ(Smctl("login --dev --user " + leader_id + " --unit discipline-group --role discipline --clearance 2",
                  "group-leader")
                .code,
            0);
  Result before = Smctl("clue show " + c.id + " -o json", kGroup, false);
  ASSERT_EQ(before.code, 0) << before.out;
  Result no_reason = Smctl("clue extend " + c.id + " --days 5", "group-leader");
  EXPECT_EQ(no_reason.code, 6) << no_reason.out;
  EXPECT_NE(no_reason.out.find("reason"), std::string::npos) << no_reason.out;
  Result extend = Smctl("clue extend " + c.number + " --days 5 --reason 案情复杂", "group-leader");
  ASSERT_EQ(extend.code, 0) << extend.out;
  EXPECT_NE(extend.out.find("已延长时限"), std::string::npos) << extend.out;
  Result after = Smctl("clue show " + c.id + " -o json", kGroup, false);
  ASSERT_EQ(after.code, 0) << after.out;
  EXPECT_GT(nlohmann::json::parse(after.out)["deadline_at"].get<std::string>(),
            nlohmann::json::parse(before.out)["deadline_at"].get<std::string>());
  Result history = Smctl("clue history " + c.id, kGroup);
  EXPECT_NE(history.out.find("延长时限"), std::string::npos) << history.out;
  EXPECT_NE(history.out.find(people[0]["name"].get<std::string>()), std::string::npos) << history.out;
}

// The running clue-service signs a checkpoint at start-up; oversight verifies every chain
// against it and exports it as JSON lines; other callers may do neither.
TEST_F(ClueCliE2E, ACheckpointIsSignedAtStartUpVerifiedAndExported) {
  Result login = Smctl("login --dev --user overseer --unit bureau-party-committee --role oversight", "oversight");
  ASSERT_EQ(login.code, 0) << login.out;
  Registered c = Register("反映其违规发放津贴");
  ASSERT_FALSE(c.id.empty());
  sm::testing::ExpectCheckpointCommands(Smctl, "clue", "clue-service", "oversight", {kGroup});
}

}  // namespace
