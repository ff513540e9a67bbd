#include "common/referral.h"

#include <google/protobuf/util/message_differencer.h>

#include "common/event_payload.h"
#include "common/status.h"

namespace sm::referral {

absl::Status CheckReceiver(const std::optional<UnitInfo>& unit, const std::string& field) {
  if (!unit || !unit->active) return InvalidField(field, "no such active unit");
  const std::string& kind = unit->kind;
  if (kind != "DISCIPLINE_GROUP" && kind != "DISCIPLINE_COMMISSION" && kind != "ORGAN_DISCIPLINE_COMMITTEE") {
    return InvalidField(field, "is not a discipline unit (discipline group, commission or organ committee)");
  }
  return absl::OkStatus();
}

absl::StatusOr<Step> Start(const v1::Referral& cur, const std::string& to_unit_id) {
  if (cur.state() != v1::REFERRAL_STATE_UNSPECIFIED) {
    return absl::FailedPreconditionError("already referred (referral state " + v1::ReferralState_Name(cur.state()) +
                                         ")");
  }
  Step s{cur, {}};
  s.after.set_state(v1::REFERRAL_STATE_PENDING);
  s.after.set_to_unit_id(to_unit_id);
  s.event.mutable_referred()->set_to_unit_id(to_unit_id);
  return s;
}

absl::StatusOr<Step> Retry(const v1::Referral& cur, const std::string& reason) {
  if (cur.state() != v1::REFERRAL_STATE_DEAD) {
    return absl::FailedPreconditionError("only a dead referral is retried (referral state " +
                                         v1::ReferralState_Name(cur.state()) + ")");
  }
  Step s{cur, {}};
  s.event.mutable_referral_retried()->set_reason(reason);
  s.event.mutable_referral_retried()->set_last_error(cur.last_error());
  s.after.set_state(v1::REFERRAL_STATE_PENDING);
  s.after.clear_last_error();
  return s;
}

std::optional<Step> Link(const v1::Referral& cur, const std::string& clue_id, const std::string& clue_number,
                         v1::ClueState clue_state) {
  Step s{cur, {}};
  v1::Referral& ref = s.after;
  const bool first = ref.clue_id().empty();
  ref.set_state(v1::REFERRAL_STATE_DELIVERED);
  ref.set_clue_id(clue_id);
  if (!clue_number.empty()) ref.set_clue_number(clue_number);
  if (ref.clue_state() == v1::CLUE_STATE_UNSPECIFIED) ref.set_clue_state(clue_state);
  ref.clear_last_error();
  // Already linked (by the relay's reply or the clue's own event, whichever came first) and
  // nothing new: no write. "clue_linked" is written once per item.
  if (!first && google::protobuf::util::MessageDifferencer::Equals(ref, cur)) return std::nullopt;
  (first ? s.event.mutable_clue_linked() : s.event.mutable_referral_delivered())->set_clue_id(clue_id);
  return s;
}

Step Dead(const v1::Referral& cur, const std::string& error) {
  Step s{cur, {}};
  s.event.mutable_referral_dead()->set_error(error);
  s.after.set_state(v1::REFERRAL_STATE_DEAD);
  s.after.set_last_error(error);
  return s;
}

std::optional<Update> FromClueEvent(const v1::ClueEventPayload& e) {
  using P = v1::ClueEventPayload;
  Update u;
  switch (e.event_case()) {
    case P::kRegistered: u.clue_state = v1::CLUE_STATE_REGISTERED; break;
    case P::kOffered: u.clue_state = v1::CLUE_STATE_OFFERED; break;
    case P::kAccepted:
    case P::kReturned: u.clue_state = v1::CLUE_STATE_HELD; break;
    case P::kDisposed: {
      const v1::DispositionMethod m = e.disposed().method();
      if (m == v1::DISPOSITION_METHOD_UNSPECIFIED) return std::nullopt;
      u.disposition = m;
      u.clue_state = m == v1::DISPOSITION_METHOD_SHELVE  ? v1::CLUE_STATE_SHELVED
                     : m == v1::DISPOSITION_METHOD_CLOSE ? v1::CLUE_STATE_CONCLUDED
                                                         : v1::CLUE_STATE_IN_HANDLING;
      if (m == v1::DISPOSITION_METHOD_CLOSE) u.feedback = e.disposed().reason();
      break;
    }
    case P::kCaseFiled:
    case P::kConcluded: {
      const v1::ClueConcluded& c = e.has_case_filed() ? e.case_filed() : e.concluded();
      u.clue_state = e.has_case_filed() ? v1::CLUE_STATE_CASE_FILED : v1::CLUE_STATE_CONCLUDED;
      u.outcome_form = c.form();
      u.feedback = c.feedback();
      break;
    }
    case P::kMergedInto: u.clue_state = v1::CLUE_STATE_MERGED; break;
    default: return std::nullopt;
  }
  return u;
}

std::optional<Step> Follow(const v1::Referral& cur, const v1::ClueEventPayload& event, const std::string& type,
                           const std::string& clue_id, int64_t clue_seq) {
  std::optional<Update> u = FromClueEvent(event);
  if (!u) return std::nullopt;
  return Follow(cur, *u, type, clue_id, clue_seq);
}

Step Follow(const v1::Referral& cur, const Update& u, const std::string& type, const std::string& clue_id,
            int64_t clue_seq) {
  Step s{cur, {}};
  v1::ClueFollowed followed;
  followed.set_clue_id(clue_id);
  followed.set_clue_seq(clue_seq);
  // "clue_" + the clue event's type: every type FromClueEvent maps is a member.
  if (absl::Status st = events::SetMember(&s.event, "clue_" + type, followed); !st.ok()) {
    throw std::logic_error(std::string(st.message()));
  }
  v1::Referral& ref = s.after;
  if (u.clue_state) ref.set_clue_state(*u.clue_state);
  if (u.disposition) ref.set_disposition(*u.disposition);
  if (u.outcome_form) ref.set_outcome_form(static_cast<v1::SupervisionForm>(*u.outcome_form));
  if (u.feedback) ref.set_outcome_feedback(*u.feedback);
  return s;
}

v1::RegisterClueRequest Clue(const ClueOf& c) {
  v1::RegisterClueRequest clue;
  clue.set_request_id(c.system + "-referral-" + c.ref);
  clue.set_origin_unit_id(c.origin_unit_id);
  clue.set_offer_to_unit_id(c.to_unit_id);
  clue.set_source(c.source);
  clue.set_channel(v1::RECEIPT_CHANNEL_SYSTEM);
  clue.set_source_system(c.system);
  clue.set_source_ref(c.ref);
  if (!c.subject_person_id.empty()) {
    clue.add_subjects()->set_person_id(c.subject_person_id);
  } else {
    clue.add_subjects()->set_unit_id(c.subject_unit_id);
  }
  if (c.categories.empty()) clue.add_categories(v1::CLUE_CATEGORY_INTEGRITY);
  for (v1::ClueCategory category : c.categories) clue.add_categories(category);
  clue.set_summary(c.summary);
  clue.set_details(c.details);
  clue.set_severity(c.severity);
  return clue;
}

}  // namespace sm::referral
