// The words of the clue domain on the command line and on screen: the spellings of the clue
// enums (e.g. "petition", "in-person", "bribery") and their labels in Chinese and English.
// Shared by the clue commands and by audit's referral (whose clues they describe).
#pragma once

#include <string>

#include "tools/smctl/choices.h"

namespace sm::smctl {

const Choices& ClueSources();
const Choices& ClueChannels();
const Choices& ClueCategories();
const Choices& Severities();  // clue and audit share v1::Severity
const Choices& DispositionMethods();
const Choices& ClueStates();

// 第N种形态 / form N (1-4); "" otherwise.
std::string FormLabel(Lang l, int form);
// A v1::RevealState in words; "" when unset.
std::string RevealStateLabel(Lang l, int state);
// A deadline stage ("accept", "dispose", ...) in words; anything else unchanged.
std::string StageLabel(Lang l, const std::string& stage);
// A clue event type ("offered", "handler_assigned", ...) in words; anything else unchanged.
std::string ClueEventLabel(Lang l, const std::string& type);
// An enum value name such as "CLUE_STATE_HELD" or "SUPERVISION_FORM_2" (StatsCount keys,
// event data), or a subject kind, in words; anything else unchanged.
std::string ClueEnumNameLabel(Lang l, const std::string& key);
// True for text spelled like a proto enum value name.
bool LooksLikeEnumName(const std::string& s);

}  // namespace sm::smctl
