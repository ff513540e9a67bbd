// smctl commands for audit (审计): engagements, findings and their referral to a discipline
// unit as clues, rectifications followed to sign-off (销号), statistics, and the import of
// findings from a CSV ledger (台账). Talks to AuditService on --audit-addr and resolves unit
// codes and badge numbers through DirectoryService on --addr.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tools/smctl/context.h"

namespace sm::smctl {

// The command-line spellings of the audit enums (e.g. "economic-responsibility", "price").
enum class AuditChoice { kKind, kAdvanceTo, kItStage, kCategory, kSeverity, kRectState };
std::vector<std::string> AuditChoices(AuditChoice kind);

// ---- engagements (审计项目) ----
struct EngagementCreateArgs {
  std::string kind;
  std::string title;
  std::string audit_unit;      // code or id: must be the caller's unit
  std::string audited_unit;    // code or id
  std::string audited_person;  // badge or id
  std::string from;            // YYYY-MM-DD
  std::string to;
  std::string it_stage;
  std::string request_id;
};
int AuditEngagementCreate(Context& ctx, const EngagementCreateArgs& args);

struct EngagementAdvanceArgs {
  std::string engagement;  // UUID or number (SJ-2026-0001)
  std::string to;          // fieldwork | reported | closed
  std::string request_id;
  int64_t version = 0;     // 0 = read it first
};
int AuditEngagementAdvance(Context& ctx, const EngagementAdvanceArgs& args);
int AuditEngagementShow(Context& ctx, const std::string& engagement);

struct EngagementListArgs {
  std::string audited_unit;
  std::string kind;
  int limit = 50;
  std::string page_token;
  bool all_pages = false;
};
int AuditEngagementList(Context& ctx, const EngagementListArgs& args);

// ---- findings (审计发现) ----
struct FindingAddArgs {
  std::string engagement;
  std::string title;
  std::string description;
  std::string category;
  std::string amount;  // decimal yuan, at most 2 decimals
  std::string severity;
  std::string unit;    // responsible unit: code or id
  std::string person;  // responsible person: badge or id
  std::vector<std::string> evidence;
  std::string request_id;
};
int AuditFindingAdd(Context& ctx, const FindingAddArgs& args);
int AuditFindingShow(Context& ctx, const std::string& finding);

struct FindingListArgs {
  std::string engagement;
  std::string unit;
  std::string category;
  bool referred = false;
  int limit = 50;
  std::string page_token;
  bool all_pages = false;
};
int AuditFindingList(Context& ctx, const FindingListArgs& args);

struct FindingReferArgs {
  std::string finding;  // UUID or number (SJ-2026-0001-02)
  std::string to;       // discipline unit: code or id
  std::vector<std::string> categories;  // clue categories (clue spellings)
  std::string summary;
  std::string request_id;
  int64_t version = 0;
};
int AuditFindingRefer(Context& ctx, const FindingReferArgs& args);

struct FindingRetryArgs {
  std::string finding;  // UUID or number
  std::string reason;   // what was fixed
  std::string request_id;
  int64_t version = 0;
};
// Sends a referral that failed for good (移送失败) again once its cause is fixed.
int AuditFindingRetryReferral(Context& ctx, const FindingRetryArgs& args);
int AuditFindingHistory(Context& ctx, const std::string& finding);
// Exit code 1 when the chain is broken.
int AuditFindingVerify(Context& ctx, const std::string& finding);
// Oversight: every engagement's and finding's chain against the latest signed checkpoint
// (exit 1 when broken).
int AuditVerifyAll(Context& ctx);
// Oversight: the signed checkpoints after `after_id`, one JSON object per line on stdout.
int AuditCheckpointsExport(Context& ctx, int64_t after_id);

// ---- rectifications (整改) ----
struct RectAddArgs {
  std::string finding;
  std::string measure;
  std::string owner;  // unit code or id; default: the finding's responsible unit
  int days = 0;       // working days; 0 = the service's default
  std::string request_id;
};
int AuditRectAdd(Context& ctx, const RectAddArgs& args);

// Arguments of the commands on one rectification; each reads what it needs.
struct RectStepArgs {
  std::string rect;  // UUID (or a unique prefix of one, at least 8 characters)
  std::string note;
  std::vector<std::string> evidence;
  std::string summary;
  bool approve = false;
  bool reject = false;
  std::string reason;
  std::string request_id;
  int64_t version = 0;
};
int AuditRectProgress(Context& ctx, const RectStepArgs& args);
int AuditRectSubmit(Context& ctx, const RectStepArgs& args);
int AuditRectReview(Context& ctx, const RectStepArgs& args);
int AuditRectReopen(Context& ctx, const RectStepArgs& args);

struct RectListArgs {
  std::string finding;
  std::string owner;
  std::string state;
  bool overdue = false;
};
int AuditRectList(Context& ctx, const RectListArgs& args);

int AuditStats(Context& ctx, const std::string& unit);

// ---- import of a findings ledger (审计问题台账) ----
struct ImportFindingsArgs {
  std::string file;
  std::string engagement;
  bool dry_run = false;
};
// Exit 6 when any row failed (the good rows are imported all the same), 0 otherwise.
int AuditImportFindings(Context& ctx, const ImportFindingsArgs& args);

// ---- pure helpers (exposed for tests) ----

// Decimal yuan ("12345.67", "12,345.6", "¥100", "100元") to integer fen, exactly, without
// floating point. Negative amounts, more than two decimals, misplaced thousands separators,
// stray characters or more than 15 integer digits are refused: returns false and sets the
// reason (in Chinese and English).
bool ParseYuan(std::string_view text, int64_t* fen, std::string* why_zh, std::string* why_en);
// Integer fen as yuan with two decimals: 1234567 -> "12,345.67" (grouped) or "12345.67".
std::string FormatYuan(int64_t fen, bool grouped = true);

// One CSV record: its fields and the physical line it starts on (1-based).
struct CsvRecord {
  int line = 0;
  std::vector<std::string> fields;
};
// RFC 4180: comma-separated, fields optionally in double quotes, "" for a quote inside one,
// commas and line breaks (CRLF, LF or CR) inside quoted fields. Also tolerated: spaces around
// a quoted field, a quote inside an unquoted field (kept as it is). Blank lines are skipped.
// On an unterminated quote or text after a closing quote returns false with the line and reason.
bool ParseCsv(std::string_view text, std::vector<CsvRecord>* records, int* error_line, std::string* why_zh,
              std::string* why_en);
// The 1-based line of the first byte that is not valid UTF-8 (overlong forms, surrogates and
// code points past U+10FFFF are invalid), or 0 when all of `text` is valid.
int FirstInvalidUtf8Line(std::string_view text);

}  // namespace sm::smctl
