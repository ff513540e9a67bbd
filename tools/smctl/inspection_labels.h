// The words of the inspection domain (督察) on the command line and on screen: the spellings
// of the inspection enums (e.g. "on-site", "non-conforming", "confinement") and their labels
// in Chinese and English.
#pragma once

#include <string>

#include "supervision/v1/inspection.pb.h"
#include "tools/smctl/choices.h"

namespace sm::smctl {

const Choices& InspectionKinds();
const Choices& InspectionStates();
const Choices& InspectionAdvanceTo();  // the states `inspection advance --to` takes
const Choices& ItemMarks();            // "" (unmarked) is not among them
const Choices& InspectionFindingCategories();
const Choices& MeasureKinds();
const Choices& MeasureStates();
const Choices& WithheldKinds();
const Choices& LeaderDuties();            // 一案双查: whose responsibility a check is about
const Choices& AccountabilityOutcomes();  // "" (open) is not among them

// A checklist mark in words, "未标记"/"unmarked" for ITEM_MARK_UNSPECIFIED.
std::string MarkLabel(Lang l, ::supervision::v1::ItemMark m);
// An inspection enum value name (StatsCount keys, event data) in words; anything else unchanged.
std::string InspectionEnumNameLabel(Lang l, const std::string& key);
// An inspection event type ("item_marked", "measure_approved", ...) in words; anything else unchanged.
std::string InspectionEventLabel(Lang l, const std::string& type);

}  // namespace sm::smctl
