// smctl commands for risk screening (风险排查), on RiskService at --risk-addr; unit codes,
// badge numbers and post codes are resolved through DirectoryService at --addr
// (docs/smctl.md § Risk):
//   risk_point.cc     point put, get, list (廉政风险点)
//   risk_campaign.cc  campaign create, close, get, list, unscreened, screen (排查活动)
//   risk_import.cc    campaign import: a screening ledger (CSV), row by row
//   risk_item.cc      item open, mitigate, complete, resolve, get, list (队伍风险隐患)
//   risk_talk.cc      talk record, get, list (谈心谈话 ...)
//   risk_read.cc      file (一人一档), score, scores, stats, history, verify, verify-all,
//                     checkpoints export
#pragma once

#include "tools/smctl/command.h"

namespace sm::smctl {

// Adds `smctl risk …` to `app`.
void AddRiskCommands(CLI::App& app, Commands& commands);

// The parts of `smctl risk` (in the order their help lists them).
void AddRiskPointCommands(CLI::App* risk, Commands& commands);
void AddRiskCampaignCommands(CLI::App* risk, Commands& commands);  // with the import
void AddRiskImportCommand(CLI::App* campaign, Commands& commands);
void AddRiskItemCommands(CLI::App* risk, Commands& commands);
void AddRiskTalkCommands(CLI::App* risk, Commands& commands);
void AddRiskReadCommands(CLI::App* risk, Commands& commands);

}  // namespace sm::smctl
