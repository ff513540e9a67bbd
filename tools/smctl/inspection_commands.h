// smctl commands for inspections (督察), on InspectionService at --inspection-addr; unit codes
// and badge numbers are resolved through DirectoryService at --addr (docs/smctl.md § Inspection):
//   inspection_core.cc      create, advance, mark, get, list; the group and its rectifications
//                           (rectification_commands.h)
//   inspection_template.cc  template publish, import (CSV), get, list
//   inspection_run.cc       run: the checklist of one target unit, item by item, at a terminal
//   inspection_finding.cc   finding add, get, list, refer, retry-referral
//   inspection_measure.cc   measure impose, approve, refuse, lift, return, get, list
//   inspection_check.cc     check list, get, assign, conclude (一案双查)
//   inspection_read.cc      show (the whole inspection), history, verify, verify-all,
//                           checkpoints export, stats
#pragma once

#include "tools/smctl/command.h"

namespace sm::smctl {

// Adds `smctl inspection …` to `app`.
void AddInspectionCommands(CLI::App& app, Commands& commands);

// The parts of `smctl inspection` (in the order their help lists them).
void AddInspectionTemplateCommands(CLI::App* inspection, Commands& commands);
void AddInspectionRunCommand(CLI::App* inspection, Commands& commands);
void AddInspectionFindingCommands(CLI::App* inspection, Commands& commands);
void AddInspectionMeasureCommands(CLI::App* inspection, Commands& commands);
void AddInspectionCheckCommands(CLI::App* inspection, Commands& commands);
void AddInspectionReadCommands(CLI::App* inspection, Commands& commands);

}  // namespace sm::smctl
