// smctl commands for clues (问题线索), on ClueService at --clue-addr; unit codes and badge
// numbers are resolved through DirectoryService at --addr (docs/smctl.md § Clues):
//   clue_lifecycle.cc  register and the steps of a clue's life (transfer … intervene)
//   clue_reveal.cc     the two-person rule for seeing the reporter
//   clue_read.cc       show, history, verify, duplicates, list, verify-all, checkpoints, stats
#pragma once

#include "tools/smctl/command.h"

namespace sm::smctl {

// Adds `smctl clue …` to `app`.
void AddClueCommands(CLI::App& app, Commands& commands);

// The parts of `smctl clue` (in the order their help lists them).
void AddClueRevealCommands(CLI::App* clue, Commands& commands);
void AddClueReadCommands(CLI::App* clue, Commands& commands);

}  // namespace sm::smctl
