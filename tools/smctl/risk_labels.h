// The words of risk screening (风险排查) on the command line and on screen: the spellings of
// the risk enums (e.g. "high", "finances", "admonishment") and their labels in Chinese and
// English, and the words of the personnel file (sources, entry kinds, score rules, events).
#pragma once

#include <string>

#include "supervision/v1/risk.pb.h"
#include "tools/smctl/choices.h"

namespace sm::smctl {

const Choices& RiskLevels();
const Choices& RiskCategories();
const Choices& RiskSources();
const Choices& RiskSourcesOpen();  // those `risk item open --source` takes (not score)
const Choices& RiskItemStates();
const Choices& TalkKinds();
const Choices& CampaignStates();
const Choices& ScreeningOutcomes();
const Choices& Powers();

// A personnel-file source ("risk", "clue", "audit", "inspection") in words: "审计".
std::string FileSourceLabel(Lang l, const std::string& source);
// The service a source comes from, as `missing` names it ("audit" -> "audit-service").
std::string SourceService(const std::string& source);
// A timeline entry kind ("risk_item", "talk", "audit_finding", "measure", ...) in words.
std::string FileKindLabel(Lang l, const std::string& kind);
// A score rule / signal kind ("clue_named", "admonishment", ...) in words.
std::string SignalKindLabel(Lang l, const std::string& kind);
// A signal grade ("form_2", "HIGH", "CONFINEMENT", ...) in words; "" stays "".
std::string SignalGradeLabel(Lang l, const std::string& grade);
// A risk enum value name (StatsCount keys, states in the file) in words; anything else
// (other services' enum names included, through their labels) unchanged.
std::string RiskEnumNameLabel(Lang l, const std::string& key);
// A state or kind as the personnel file gives it, short or full ("MITIGATING", "REGISTERED",
// "ADMONISHMENT", "CLUE_STATE_HELD") in words, through every service's enums; else unchanged.
std::string FileStateLabel(Lang l, const std::string& state);
// A risk event type ("risk_item_opened", "score_changed", ...) in words; anything else unchanged.
std::string RiskEventLabel(Lang l, const std::string& type);

}  // namespace sm::smctl
