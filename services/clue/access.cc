#include "services/clue/access.h"

#include <nlohmann/json.hpp>

namespace sm::clue {

std::string_view StandingName(Standing s) {
  switch (s) {
    case Standing::kOversight: return "oversight";
    case Standing::kHolder: return "holder";
    case Standing::kOfferee: return "offeree";
    case Standing::kSupervisor: return "supervisor";
    case Standing::kSender: return "sender";
    case Standing::kNone: return "none";
  }
  return "none";
}

Standing StandingOf(const auth::Principal& p, const v1::Clue& clue, Custody custody) {
  if (p.HasRole(auth::kRoleOversight)) return Standing::kOversight;
  if (p.unit.empty()) return Standing::kNone;
  if (p.unit == clue.holding_unit_id()) return Standing::kHolder;
  if (clue.state() == v1::CLUE_STATE_OFFERED && p.unit == clue.offered_to_unit_id()) return Standing::kOfferee;
  switch (custody) {
    case Custody::kSupervisor: return Standing::kSupervisor;
    case Custody::kSender: return Standing::kSender;
    case Custody::kOffered:
    case Custody::kNone: return Standing::kNone;
  }
  return Standing::kNone;
}

View ViewOf(Standing s) {
  switch (s) {
    case Standing::kOversight:
    case Standing::kHolder:
    case Standing::kOfferee: return View::kFull;
    case Standing::kSupervisor: return View::kRecord;
    case Standing::kSender: return View::kSender;
    case Standing::kNone: return View::kNone;
  }
  return View::kNone;
}

void Redact(View view, v1::Clue& c) {
  if (view == View::kFull) return;
  if (view == View::kNone) {
    c.Clear();
    return;
  }
  // Neither a supervisor nor a sender reads the sealed details or learns of the reporter.
  c.clear_details();
  c.clear_reporter();
  c.clear_reporter_on_file();
  if (view == View::kRecord) return;
  // The sender keeps what it sent (number, source, subjects, categories, summary, dates),
  // the clue's state and the outcome it is owed; not where the case went or how it is run.
  c.clear_holding_unit_id();
  c.clear_offered_to_unit_id();
  c.clear_handler_person_id();
  c.clear_disposition();
  c.clear_deadline_at();
  c.clear_deadline_stage();
  c.clear_overdue();
  c.clear_intervened();
  c.clear_merged_into_id();
}

bool MayReadHistory(Standing s) {
  return s == Standing::kOversight || s == Standing::kHolder || s == Standing::kOfferee || s == Standing::kSupervisor;
}

bool MayVerify(Standing s) { return s == Standing::kOversight || s == Standing::kHolder || s == Standing::kSupervisor; }

bool HistoryTextsVisible(const auth::Principal& p) { return p.clearance >= auth::kClearanceInternal; }

std::string RedactEventData(const std::string& data_json, bool texts_visible) {
  if (texts_visible) return data_json;
  auto data = nlohmann::json::parse(data_json, nullptr, false);
  if (!data.is_object()) return "{}";
  nlohmann::json kept = nlohmann::json::object();
  for (const auto& [key, value] : data.items()) {
    const bool id = key.size() > 3 && key.compare(key.size() - 3, 3, "_id") == 0;
    const bool structural = key == "method" || key == "form" || key == "stage" || key == "source" || key == "channel" ||
                            key == "state" || key == "deadline_us" || key == "extra_days";
    if ((id || structural) && !value.is_object() && !value.is_array()) kept[key] = value;
  }
  kept["texts_withheld"] = true;
  return kept.dump();
}

}  // namespace sm::clue
