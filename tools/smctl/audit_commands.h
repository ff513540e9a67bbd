// smctl commands for audit (审计), on AuditService at --audit-addr; unit codes and badge
// numbers are resolved through DirectoryService at --addr (docs/smctl.md § Audit):
//   audit_engagement.cc     engagement create, advance, show, list
//   audit_finding.cc        finding add, show, history, verify, list, refer, retry-referral;
//                           verify-all and checkpoints export
//   audit_rectification.cc  rectification add, progress, submit, review, reopen, show, list;
//                           stats
//   audit_import.cc         import-findings (a CSV ledger, 台账)
#pragma once

#include "tools/smctl/command.h"

namespace sm::smctl {

// Adds `smctl audit …` to `app`.
void AddAuditCommands(CLI::App& app, Commands& commands);

// The parts of `smctl audit` (in the order their help lists them).
void AddAuditFindingCommands(CLI::App* audit, Commands& commands);
void AddAuditRectificationCommands(CLI::App* audit, Commands& commands);
void AddAuditChainCommands(CLI::App* audit, Commands& commands);
void AddAuditStatsCommand(CLI::App* audit, Commands& commands);
void AddAuditImportCommand(CLI::App* audit, Commands& commands);

}  // namespace sm::smctl
