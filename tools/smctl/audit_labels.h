// The words of the audit domain on the command line and on screen: the spellings of the audit
// enums (e.g. "economic-responsibility", "price") and their labels in Chinese and English.
#pragma once

#include <string>

#include "supervision/v1/audit.pb.h"
#include "tools/smctl/choices.h"

namespace sm::smctl {

const Choices& EngagementKinds();
const Choices& EngagementStates();
const Choices& EngagementAdvanceTo();  // the states `engagement advance --to` takes
const Choices& ItStages();
const Choices& FindingCategories();
const Choices& RectificationStates();

// A referral's state in words ("not referred" when unset).
std::string ReferralLabel(Lang l, ::supervision::v1::ReferralState s);
// An audit enum value name (StatsCount keys, event data) in words; anything else unchanged.
std::string AuditEnumNameLabel(Lang l, const std::string& key);
// An audit event type ("finding_added", "referred", ...) in words; anything else unchanged.
std::string AuditEventLabel(Lang l, const std::string& type);

}  // namespace sm::smctl
