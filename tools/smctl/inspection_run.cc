// smctl inspection run INSPECTION --unit UNIT [--all]: the checklist of one target unit walked
// item by item at a terminal. Each answer is sent at once (MarkItem), so quitting keeps what
// was done; the end sums up what was marked and which non-conforming entries still need a
// finding before the inspection can be reported.
#include <unistd.h>

#include <iostream>

#include "tools/smctl/inspection_checklist.h"
#include "tools/smctl/inspection_client.h"
#include "tools/smctl/inspection_commands.h"
#include "tools/smctl/inspection_labels.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
using Stub = v1::InspectionService::Stub;
namespace {

struct RunArgs {
  std::string inspection;
  std::string unit;  // code or id
  bool all = false;  // every entry, not only the unmarked ones
};

// Asks `prompt` and reads one line; false at the end of input.
bool Ask(const std::string& prompt, std::string* line) {
  std::cout << prompt << std::flush;
  return static_cast<bool>(std::getline(std::cin, *line));
}

// What a failed MarkItem means to the walk: the entry's own problem (go on with the next one)
// or one that every entry would have (stop).
bool EntryProblem(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
         s.error_code() == grpc::StatusCode::FAILED_PRECONDITION || s.error_code() == grpc::StatusCode::ABORTED;
}

void PrintSummary(InspectionClient& c, const v1::Inspection& in, const std::string& unit, const std::string& unit_key,
                  int marked, int skipped, int failed) {
  const Lang l = c.lang();
  std::cout << "\n"
            << T(l, "本次标记 ", "marked now: ") << marked << T(l, " 项，跳过 ", ", skipped: ") << skipped
            << (failed > 0 ? T(l, " 项，未成功 ", ", failed: ") + std::to_string(failed) : std::string())
            << T(l, " 项\n", "\n");
  int entries = 0, done = 0, non_conforming = 0;
  std::vector<const v1::ChecklistEntry*> owed;
  for (const auto& e : in.checklist()) {
    if (e.target_unit_id() != unit) continue;
    ++entries;
    done += e.mark() != v1::ITEM_MARK_UNSPECIFIED;
    if (e.mark() == v1::ITEM_MARK_NON_CONFORMING) {
      ++non_conforming;
      if (e.finding_ids().empty()) owed.push_back(&e);
    }
  }
  std::cout << c.dir.UnitName(unit) << T(l, "：已标记 ", ": marked ") << done << "/" << entries
            << T(l, "，不符合 ", ", non-conforming ") << non_conforming
            << T(l, "，其中未登记问题 ", ", without a finding ") << owed.size() << "\n";
  for (const auto* e : owed) {
    std::cout << "  " << e->item_code() << "  " << Truncate(e->item_text(), 40) << "\n"
              << "    smctl inspection finding add --inspection " << in.number() << " --item " << e->item_code()
              << " --unit " << unit_key << " --title … --category … --severity …\n";
  }
}

int Run(InspectionClient& c, const RunArgs& a) {
  const Lang l = c.lang();
  if (isatty(STDIN_FILENO) != 1) {
    return c.ctx.FailLocal(kExitUsage,
                           "inspection run 须在终端中逐项回答（标准输入不是终端）；脚本请用 smctl inspection mark",
                           "inspection run asks item by item at a terminal, and stdin is not one; scripts use smctl "
                           "inspection mark");
  }
  if (c.ctx.json()) {
    return c.ctx.FailLocal(kExitUsage, "inspection run 是交互命令，不支持 -o json",
                           "inspection run is interactive: -o json does not apply");
  }
  std::string unit;
  if (int rc = c.dir.UnitId(a.unit, &unit); rc != kExitOk) return rc;
  v1::Inspection in;
  if (int rc = c.FindInspection(a.inspection, true, &in); rc != kExitOk) return rc;
  if (in.state() != v1::INSPECTION_STATE_IN_PROGRESS) {
    return c.ctx.FailLocal(kExitConflict,
                           "督察 " + in.number() + " 的状态为“" + Label(l, InspectionStates(), in.state()) +
                               "”：只有督察中的检查项可以标记",
                           "inspection " + in.number() + " is " + Label(l, InspectionStates(), in.state()) +
                               ": only an inspection in progress has its entries marked");
  }
  const std::vector<int> walk = EntriesToWalk(in, unit, a.all);
  bool target = false;
  for (const auto& t : in.target_unit_ids()) target = target || t == unit;
  if (!target) {
    return c.ctx.FailLocal(kExitInvalid, a.unit + " 不是督察 " + in.number() + " 的被督察单位",
                           a.unit + " is not a target unit of inspection " + in.number());
  }
  std::cout << T(l, "督察 ", "inspection ") << in.number() << "  " << in.title() << "\n"
            << T(l, "被督察单位：", "target unit: ") << c.dir.UnitName(unit) << "\n"
            << (a.all ? T(l, "逐项检查全部 ", "all ") : T(l, "待标记 ", "unmarked: ")) << walk.size()
            << T(l, " 项。回答 c 符合、n 不符合、a 不适用、s 跳过、q 退出；每项回答后立即保存。\n",
                 " entries. Answer c conforming, n non-conforming, a not applicable, s skip, q quit; each answer "
                 "is saved at once.\n");
  int marked = 0, skipped = 0, failed = 0;
  for (size_t k = 0; k < walk.size(); ++k) {
    const v1::ChecklistEntry e = in.checklist(walk[k]);  // a copy: `in` is replaced below
    std::cout << "\n[" << k + 1 << "/" << walk.size() << "] " << T(l, "方面 ", "aspect ") << e.aspect_code() << " "
              << e.aspect_title() << "\n"
              << "  " << e.item_code() << T(l, "：", ": ") << e.item_text() << "\n"
              << "  " << T(l, "当前：", "now: ") << MarkLabel(l, e.mark())
              << (e.note().empty() ? "" : T(l, "（", " (") + e.note() + T(l, "）", ")")) << "\n";
    Answer answer = Answer::kUnknown;
    for (std::string line; answer == Answer::kUnknown;) {
      if (!Ask(T(l, "结果 [c/n/a/s/q]：", "mark [c/n/a/s/q]: "), &line)) {
        answer = Answer::kQuit;
      } else if ((answer = ParseAnswer(line)) == Answer::kUnknown) {
        std::cout << T(l, "请输入 c（符合）、n（不符合）、a（不适用）、s（跳过）或 q（退出）\n",
                       "answer c (conforming), n (non-conforming), a (not applicable), s (skip) or q (quit)\n");
      }
    }
    if (answer == Answer::kQuit) break;
    if (answer == Answer::kSkip) {
      ++skipped;
      continue;
    }
    const v1::ItemMark mark = MarkOf(answer);
    std::string note;
    bool ended = false;
    while (true) {
      if (!Ask(mark == v1::ITEM_MARK_NON_CONFORMING ? T(l, "工作记录（必填）：", "working note (required): ")
                                                    : T(l, "工作记录（可空）：", "working note (optional): "),
               &note)) {
        ended = true;
        break;
      }
      note = Trim(note);
      if (!note.empty() || mark != v1::ITEM_MARK_NON_CONFORMING) break;
      std::cout << T(l, "不符合的检查项须写明工作记录\n", "a non-conforming entry needs a working note\n");
    }
    if (ended) break;
    v1::MarkItemRequest req;
    req.set_request_id(RequestIdOr(""));
    req.set_inspection_id(in.id());
    req.set_item_code(e.item_code());
    req.set_target_unit_id(unit);
    req.set_mark(mark);
    req.set_note(note);
    v1::InspectionReply reply;
    if (grpc::Status st = c.Call(&Stub::MarkItem, req, &reply); !st.ok()) {
      const int rc = c.Fail(st);
      if (!EntryProblem(st)) {
        PrintSummary(c, in, unit, a.unit, marked, skipped, failed + 1);
        return rc;
      }
      ++failed;
      continue;
    }
    in = reply.inspection();
    ++marked;
    std::cout << T(l, "已保存：", "saved: ") << e.item_code() << " " << MarkLabel(l, mark) << "\n";
  }
  PrintSummary(c, in, unit, a.unit, marked, skipped, failed);
  return failed > 0 ? kExitConflict : kExitOk;
}

}  // namespace

void AddInspectionRunCommand(CLI::App* inspection, Commands& commands) {
  auto [cmd, a] =
      commands.Add(inspection, "run", "在终端逐项检查一个被督察单位 walk a unit's checklist at a terminal", Run);
  cmd->add_option("INSPECTION", a->inspection, "督察ID或编号 inspection id or number")->required();
  cmd->add_option("--unit", a->unit, "被督察单位（代码或ID） target unit (code or id)")->required();
  cmd->add_flag("--all", a->all, "全部检查项（含已标记的） every entry, the marked ones too");
}

}  // namespace sm::smctl
