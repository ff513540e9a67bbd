// smctl commands for clues (问题线索): register, the transfer/accept/return workflow,
// disposition and conclusion, notes and merges, and the read side (show, list, history,
// chain verification, statistics, merge candidates). Talks to ClueService on --clue-addr
// and resolves unit codes and badge numbers through DirectoryService on --addr.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/smctl/context.h"

namespace sm::smctl {

// The command-line spellings of the clue enums (e.g. "petition", "in-person", "bribery").
enum class ClueChoice { kSource, kChannel, kCategory, kSeverity, kMethod, kState };
std::vector<std::string> ClueChoices(ClueChoice kind);

struct ClueRegisterArgs {
  std::string unit;  // registering unit: code or id
  std::string source;
  std::string channel;
  std::vector<std::string> subject_people;  // badge numbers or ids
  std::vector<std::string> subject_units;   // codes or ids
  std::vector<std::string> categories;
  std::string summary;
  std::string details;
  std::string details_file;
  std::string reporter_name;
  std::string reporter_contact;
  bool anonymous = false;
  std::string severity;
  std::string source_system;
  std::string source_ref;
  std::string request_id;
};
int ClueRegister(Context& ctx, const ClueRegisterArgs& args);

// Arguments of the commands that act on one clue. Each command reads the fields it needs.
struct ClueStepArgs {
  std::string clue;        // UUID or number (XS-2026-000123)
  std::string request_id;  // default: a fresh UUID
  int64_t version = 0;     // expected version; 0 = read the clue first
  std::string to;          // transfer: unit code or id
  std::string reason;
  std::string handler;     // assign: badge number or id
  std::string method;      // dispose: talk | verify | shelve | close
  int days = 0;            // extend
  int form = 0;            // conclude: 1-4
  bool case_filed = false;
  std::vector<std::string> sanctions;
  std::string feedback;
  std::vector<std::string> merge_with;  // merge: clue ids or numbers
  std::string text;                     // note
  std::vector<std::string> attachments; // note: files
  std::string note;                     // intervene
};
int ClueTransfer(Context& ctx, const ClueStepArgs& args);
int ClueAccept(Context& ctx, const ClueStepArgs& args);
int ClueReturn(Context& ctx, const ClueStepArgs& args);
int ClueAssign(Context& ctx, const ClueStepArgs& args);
int ClueDispose(Context& ctx, const ClueStepArgs& args);
int ClueExtend(Context& ctx, const ClueStepArgs& args);
int ClueConclude(Context& ctx, const ClueStepArgs& args);
int ClueMerge(Context& ctx, const ClueStepArgs& args);
int ClueNote(Context& ctx, const ClueStepArgs& args);
int ClueIntervene(Context& ctx, const ClueStepArgs& args);

// The two-person rule for the reporter (docs/clue.md § Revealing the reporter).
struct ClueRevealArgs {
  std::string target;      // reveal-request: CLUE; the others: the reveal request's id
  std::string reason;
  std::string request_id;  // default: a fresh UUID
  bool mine = false;       // reveals: my own requests instead of my queue as a custodian
  std::string clue;        // reveals: only this clue (id or number)
  int limit = 50;
  std::string page_token;
  bool all_pages = false;
};
int ClueRevealRequest(Context& ctx, const ClueRevealArgs& args);
int ClueRevealApprove(Context& ctx, const ClueRevealArgs& args);
int ClueRevealRefuse(Context& ctx, const ClueRevealArgs& args);
int ClueReveal(Context& ctx, const ClueRevealArgs& args);
int ClueRevealShow(Context& ctx, const ClueRevealArgs& args);
int ClueReveals(Context& ctx, const ClueRevealArgs& args);

int ClueShow(Context& ctx, const std::string& clue);

struct ClueListArgs {
  std::string holding;  // unit code or id
  std::string origin;   // unit code or id
  std::string state;
  std::string category;
  std::string subject;  // badge number or id
  bool overdue = false;
  std::string text;
  int limit = 50;
  std::string page_token;
  bool all_pages = false;
};
int ClueList(Context& ctx, const ClueListArgs& args);

int ClueHistory(Context& ctx, const std::string& clue);
// Exit code 1 when the chain is broken.
int ClueVerify(Context& ctx, const std::string& clue);
// Oversight: every clue's chain against the latest signed checkpoint (exit 1 when broken).
int ClueVerifyAll(Context& ctx);
// Oversight: the signed checkpoints after `after_id`, one JSON object per line on stdout.
int ClueCheckpointsExport(Context& ctx, int64_t after_id);
int ClueStats(Context& ctx, const std::string& unit);
int ClueDuplicates(Context& ctx, const std::string& clue);

}  // namespace sm::smctl
