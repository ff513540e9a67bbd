// Pure rules of a referral (移送), no I/O: a finding (or an accountability check's leader)
// sent to a discipline unit as exactly one clue, and the clue's progress followed back onto
// it from clue-service's events. audit-service and inspection-service apply them to their
// own items; the item's service keeps the Referral (referral.proto) in its own row and
// writes the events below on the item's chain (ReferralEventPayload members, carried by each
// service's envelope under the same names: events::Rewrap).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <absl/status/statusor.h>

#include "common/directory_reader.h"
#include "supervision/v1/clue.pb.h"
#include "supervision/v1/events.pb.h"
#include "supervision/v1/referral.pb.h"

namespace sm::referral {

namespace v1 = ::supervision::v1;

// The outbox command kind a referral is delivered as (ClueService.RegisterClue).
inline constexpr char kCommandKind[] = "clue.register";

// Whether `unit` (the directory's, nullopt when it has none) may receive a referral: an
// active discipline group, commission or organ discipline committee. INVALID_ARGUMENT
// naming `field` otherwise.
absl::Status CheckReceiver(const std::optional<UnitInfo>& unit, const std::string& field);

// What a step does to a referral: its new value and the event recording it.
struct Step {
  v1::Referral after;
  v1::ReferralEventPayload event;
};

// A first referral to `to_unit_id`: PENDING. FAILED_PRECONDITION naming the referral state
// when the item was referred already.
absl::StatusOr<Step> Start(const v1::Referral& current, const std::string& to_unit_id);
// A dead referral sent again (its cause fixed): PENDING. FAILED_PRECONDITION otherwise.
absl::StatusOr<Step> Retry(const v1::Referral& current, const std::string& reason);
// The clue the referral became, from either path (the relay's reply or the clue's own
// "registered" event): "clue_linked" the first time, "referral_delivered" when a later
// arrival changes something, nullopt when it changes nothing.
std::optional<Step> Link(const v1::Referral& current, const std::string& clue_id, const std::string& clue_number,
                         v1::ClueState clue_state);
// clue-service refused the clue for good.
Step Dead(const v1::Referral& current, const std::string& error);

// How a clue event changes a referral that follows it; nullopt: no change.
struct Update {
  std::optional<v1::ClueState> clue_state;
  std::optional<v1::DispositionMethod> disposition;
  std::optional<int> outcome_form;
  std::optional<std::string> feedback;
};
std::optional<Update> FromClueEvent(const v1::ClueEventPayload& event);
// The clue event (`type`, the clue's id and seq) followed onto the referral: event
// "clue_" + type. nullopt when the event says nothing to a referral.
std::optional<Step> Follow(const v1::Referral& current, const v1::ClueEventPayload& event, const std::string& type,
                           const std::string& clue_id, int64_t clue_seq);
// The same with the event's update already read.
Step Follow(const v1::Referral& current, const Update& update, const std::string& type, const std::string& clue_id,
            int64_t clue_seq);

// The clue a referral registers. (source_system, source_ref) makes every redelivery the same
// clue; the request id too.
struct ClueOf {
  std::string system;  // "audit", "inspection": the referring service
  std::string ref;     // the referred item's id
  v1::ClueSource source = v1::CLUE_SOURCE_UNSPECIFIED;
  std::string origin_unit_id;
  std::string to_unit_id;
  std::string subject_person_id;  // the subject: the person when known, else the unit
  std::string subject_unit_id;
  std::string summary;
  std::string details;
  v1::Severity severity = v1::SEVERITY_UNSPECIFIED;
  std::vector<v1::ClueCategory> categories;  // none: integrity
};
v1::RegisterClueRequest Clue(const ClueOf& c);

}  // namespace sm::referral
