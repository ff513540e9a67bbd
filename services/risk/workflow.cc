#include "services/risk/workflow.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/db/sql.h"
#include "common/status.h"

namespace sm::risk {
namespace {

bool In(const std::vector<std::string>& chain, const std::string& unit) {
  return !unit.empty() && std::find(chain.begin(), chain.end(), unit) != chain.end();
}

absl::Status Stale(int64_t expected, int64_t version) {
  return absl::AbortedError("stale: expected_version " + std::to_string(expected) + " but the record is at version " +
                            std::to_string(version));
}

template <typename M>
Doc<M> Inserted(M m) {
  return Doc<M>{Stored<M>{std::move(m), 0, ""}, true, true};
}

template <typename M>
Doc<M> Updated(const Stored<M>& s) {
  return Doc<M>{s, false, true};
}

void At(google::protobuf::Timestamp* t, int64_t us) { db::SetMicros(t, us); }

// A mitigation measure from its input: the deadline as given, or `working_days` on.
absl::StatusOr<v1::Mitigation> MitigationOf(const v1::MitigationInput& in, int index, const std::string& field,
                                            const StepFacts& f) {
  v1::Mitigation m;
  m.set_index(index);
  m.set_measure(in.measure());
  int64_t deadline = 0;
  if (in.working_days() > 0) {
    if (!f.calendar) return absl::InternalError("no working-day calendar");
    deadline = ToUnixMicros(f.calendar->Deadline(FromUnixMicros(f.now_us), in.working_days()));
    m.set_working_days(in.working_days());
  } else {
    deadline = db::Micros(in.deadline());
    if (deadline <= f.now_us) return InvalidField(field + ".deadline", "must be in the future");
  }
  At(m.mutable_deadline(), deadline);
  return m;
}

bool MaySeeItem(Access a) { return a != Access::kNone; }

// Who works an item's mitigations: the political department serving its unit, and its
// responsible leader.
Access WorkOn(Access a, const auth::Principal& p, const v1::RiskItem& item) {
  if (a == Access::kWrite) return a;
  if (!item.responsible_leader_id().empty() && p.user == item.responsible_leader_id() && p.user != item.person_id()) {
    return Access::kWrite;
  }
  return a;
}

// "risk_item_opened" for a new item, whoever opened it (a step or the score).
Event Opened(const v1::RiskItem& it) {
  Event ev{it.id(), {}};
  auto* e = ev.event.mutable_risk_item_opened();
  e->set_number(it.number());
  e->set_person_id(it.person_id());
  e->set_unit_id(it.unit_id());
  e->set_category(it.category());
  e->set_level(it.level());
  e->set_source(it.source());
  e->set_source_ref(it.source_ref());
  e->set_responsible_leader_id(it.responsible_leader_id());
  e->set_mitigations(it.mitigations_size());
  e->set_score(it.score());
  return ev;
}

}  // namespace

std::vector<std::string> ChainOf(const UnitInfo& u) {
  std::vector<std::string> out{u.id};
  out.insert(out.end(), u.ancestors.begin(), u.ancestors.end());
  return out;
}

Access AccessTo(const auth::Principal& p, const CallerFacts& c, const std::string& person_id,
                const std::vector<std::string>& unit_chain) {
  if (!person_id.empty() && p.user == person_id) return Access::kNone;  // never one's own records
  if (p.HasRole(auth::kRolePolitical) && In(unit_chain, c.serves_unit_id)) return Access::kWrite;
  if (p.HasRole(auth::kRoleDiscipline)) return Access::kFull;
  if (c.leader && In(unit_chain, c.unit_id)) return Access::kFull;
  if (p.HasRole(auth::kRoleOversight)) return Access::kRecords;
  return Access::kNone;
}

std::optional<std::string> DefaultLeader(const std::string& person_id, const ResponsibleLeaders& leaders) {
  if (leaders.principal && leaders.principal->person_id != person_id) return leaders.principal->person_id;
  if (leaders.supervising && leaders.supervising->person_id != person_id) return leaders.supervising->person_id;
  return std::nullopt;
}

bool LeaderInChain(const PersonInfo& leader, const std::string& person_id, const std::vector<std::string>& unit_chain) {
  return leader.active && leader.leader && leader.id != person_id && In(unit_chain, leader.unit_id);
}

std::string Unprefixed(const std::string& enum_name, std::string_view prefix) {
  return enum_name.rfind(prefix, 0) == 0 ? enum_name.substr(prefix.size()) : enum_name;
}

std::string ItemNumber(int64_t now_us, int64_t sequence) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "FX-%04d-%06lld", workdays::LocalDate(FromUnixMicros(now_us)).year,
                static_cast<long long>(sequence));
  return buf;
}

// ---- risk points ----

absl::StatusOr<Change> PutRiskPoint(const std::optional<Stored<v1::RiskPoint>>& current,
                                    const v1::PutRiskPointRequest& req, const auth::Principal& p, const StepFacts& f) {
  if (!p.HasRole(auth::kRolePolitical)) {
    return absl::PermissionDeniedError("PutRiskPoint is for the political department");
  }
  if (!req.id().empty() && !current) return absl::NotFoundError("risk point not found");
  if (!f.post_name) return InvalidField("post_id", "is not a post in the directory");
  if (!f.person) return InvalidField("accountable_person_id", "is not a person in the directory");
  if (!f.person->active) return InvalidField("accountable_person_id", "is no longer active");
  Change c;
  v1::RiskPoint rp;
  if (current) {
    if (req.expected_version() != current->doc.version()) return Stale(req.expected_version(), current->doc.version());
    rp = current->doc;
    rp.set_active(req.active());
    rp.set_version(rp.version() + 1);
  } else {
    rp.set_id(f.new_id);
    rp.set_active(true);
    rp.set_version(1);
    rp.set_unit_id(p.unit);
    At(rp.mutable_created_at(), f.now_us);
  }
  rp.set_post_id(req.post_id());
  rp.set_power(req.power());
  rp.set_description(req.description());
  rp.set_level(req.level());
  *rp.mutable_control_measures() = req.control_measures();
  rp.set_accountable_person_id(req.accountable_person_id());
  rp.clear_post_name();
  At(rp.mutable_updated_at(), f.now_us);
  Event ev{rp.id(), {}};
  auto* put = ev.event.mutable_risk_point_put();
  put->set_post_id(rp.post_id());
  put->set_power(rp.power());
  put->set_level(rp.level());
  put->set_active(rp.active());
  c.events.push_back(std::move(ev));
  c.point = current ? Updated(*current) : Inserted(v1::RiskPoint());
  c.point->stored.doc = std::move(rp);
  return c;
}

// ---- campaigns ----

absl::StatusOr<Change> CreateCampaign(const v1::CreateCampaignRequest& req, const auth::Principal& p,
                                      const StepFacts& f) {
  if (!p.HasRole(auth::kRolePolitical)) {
    return absl::PermissionDeniedError("CreateCampaign is for the political department");
  }
  for (int i = 0; i < req.scope_unit_ids_size(); ++i) {
    const std::string field = "scope_unit_ids[" + std::to_string(i) + "]";
    auto u = f.units.find(req.scope_unit_ids(i));
    if (u == f.units.end()) return InvalidField(field, "is not a unit in the directory");
    if (!In(ChainOf(u->second), f.caller.serves_unit_id)) {
      return absl::PermissionDeniedError(field + " is outside the units the caller's political department serves");
    }
  }
  v1::ScreeningCampaign k;
  k.set_id(f.new_id);
  k.set_name(req.name());
  k.set_theme(req.theme());
  *k.mutable_starts_at() = req.starts_at();
  *k.mutable_ends_at() = req.ends_at();
  *k.mutable_scope_unit_ids() = req.scope_unit_ids();
  k.set_state(v1::CAMPAIGN_STATE_OPEN);
  k.set_unit_id(p.unit);
  k.set_created_by(p.EndUser());
  At(k.mutable_created_at(), f.now_us);
  k.set_version(1);
  Change c;
  Event ev{k.id(), {}};
  auto* e = ev.event.mutable_campaign_created();
  e->set_name(k.name());
  *e->mutable_scope_unit_ids() = k.scope_unit_ids();
  e->set_starts_us(db::Micros(k.starts_at()));
  e->set_ends_us(db::Micros(k.ends_at()));
  c.events.push_back(std::move(ev));
  c.campaign = Inserted(std::move(k));
  return c;
}

absl::StatusOr<Change> CloseCampaign(const Stored<v1::ScreeningCampaign>& current, const v1::CloseCampaignRequest& req,
                                     const auth::Principal& p, const StepFacts& f) {
  if (!p.HasRole(auth::kRolePolitical) || p.unit != current.doc.unit_id()) {
    return absl::PermissionDeniedError("CloseCampaign is for the political department that organised the campaign");
  }
  if (req.expected_version() != current.doc.version()) return Stale(req.expected_version(), current.doc.version());
  if (current.doc.state() != v1::CAMPAIGN_STATE_OPEN) {
    return absl::FailedPreconditionError("the campaign is " + v1::CampaignState_Name(current.doc.state()));
  }
  Change c;
  c.campaign = Updated(current);
  auto& k = c.campaign->stored.doc;
  k.set_state(v1::CAMPAIGN_STATE_CLOSED);
  k.set_version(k.version() + 1);
  Event ev{k.id(), {}};
  ev.event.mutable_campaign_closed()->set_screened(k.screened());
  c.events.push_back(std::move(ev));
  (void)f;
  return c;
}

absl::StatusOr<Change> RecordScreening(const Stored<v1::ScreeningCampaign>& campaign, bool already, bool in_scope,
                                       const v1::RecordScreeningRequest& req, const auth::Principal& p,
                                       const StepFacts& f) {
  if (!f.person) return InvalidField("person_id", "is not a person in the directory");
  if (!f.unit) return InvalidField("person_id", "the person's unit is not in the directory");
  if (AccessTo(p, f.caller, f.person->id, ChainOf(*f.unit)) != Access::kWrite) {
    return absl::PermissionDeniedError("RecordScreening is for the political department serving the person's unit");
  }
  if (campaign.doc.state() != v1::CAMPAIGN_STATE_OPEN) {
    return absl::FailedPreconditionError("the campaign is " + v1::CampaignState_Name(campaign.doc.state()));
  }
  if (!in_scope) return InvalidField("person_id", "is not in a unit the campaign screens");
  if (already) return absl::AlreadyExistsError("the person was already screened in this campaign");
  Change c;
  if (req.outcome() == v1::SCREENING_OUTCOME_RISK_FOUND) {
    v1::OpenRiskItemRequest item = req.item();
    item.set_person_id(req.person_id());
    item.clear_unit_id();
    item.set_source(v1::RISK_SOURCE_SCREENING);
    if (item.source_ref().empty()) item.set_source_ref(campaign.doc.id());
    SM_ASSIGN_OR_RETURN(c, OpenRiskItem(item, p, f));
    c.item->stored.doc.set_campaign_id(campaign.doc.id());
  }
  v1::Screening s;
  s.set_campaign_id(campaign.doc.id());
  s.set_person_id(f.person->id);
  s.set_unit_id(f.unit->id);
  s.set_outcome(req.outcome());
  s.set_note(req.note());
  s.set_screened_by(p.EndUser());
  At(s.mutable_at(), f.now_us);
  if (c.item) s.set_risk_item_id(c.item->stored.doc.id());
  Event ev{campaign.doc.id(), {}};
  auto* e = ev.event.mutable_person_screened();
  e->set_person_id(s.person_id());
  e->set_unit_id(s.unit_id());
  e->set_outcome(s.outcome());
  e->set_risk_item_id(s.risk_item_id());
  c.events.insert(c.events.begin(), std::move(ev));
  c.campaign = Doc<v1::ScreeningCampaign>{campaign, false, false};
  c.screening = std::move(s);
  return c;
}

// ---- risk items ----

absl::StatusOr<Change> OpenRiskItem(const v1::OpenRiskItemRequest& req, const auth::Principal& p, const StepFacts& f) {
  const bool about_person = !req.person_id().empty();
  if (about_person && !f.person) return InvalidField("person_id", "is not a person in the directory");
  if (about_person && !f.person->active) return InvalidField("person_id", "is no longer active");
  if (!f.unit) return InvalidField(about_person ? "person_id" : "unit_id", "the unit is not in the directory");
  const std::vector<std::string> chain = ChainOf(*f.unit);
  if (AccessTo(p, f.caller, req.person_id(), chain) != Access::kWrite) {
    return absl::PermissionDeniedError("OpenRiskItem is for the political department serving the unit");
  }
  std::string leader;
  if (!req.responsible_leader_id().empty()) {
    if (!f.leader) return InvalidField("responsible_leader_id", "is not a person in the directory");
    if (!LeaderInChain(*f.leader, req.person_id(), chain)) {
      return InvalidField("responsible_leader_id",
                          "must be an active leader (领导干部) of the unit or a unit above it, other than the person");
    }
    leader = f.leader->id;
  } else {
    std::optional<std::string> d = f.leaders ? DefaultLeader(req.person_id(), *f.leaders) : std::nullopt;
    if (!d) {
      return InvalidField("responsible_leader_id",
                          "no leader with a duty post was found in the unit chain: name the responsible leader");
    }
    leader = *d;
  }
  v1::RiskItem it;
  it.set_id(f.new_id);
  it.set_number(f.number);
  it.set_person_id(req.person_id());
  it.set_unit_id(f.unit->id);
  it.set_category(req.category());
  it.set_level(req.level());
  it.set_source(req.source());
  it.set_source_ref(req.source_ref());
  it.set_description(req.description());
  it.set_responsible_leader_id(leader);
  for (int i = 0; i < req.mitigations_size(); ++i) {
    SM_ASSIGN_OR_RETURN(v1::Mitigation m,
                        MitigationOf(req.mitigations(i), i + 1, "mitigations[" + std::to_string(i) + "]", f));
    *it.add_mitigations() = std::move(m);
  }
  it.set_state(it.mitigations_size() > 0 ? v1::RISK_ITEM_STATE_MITIGATING : v1::RISK_ITEM_STATE_IDENTIFIED);
  it.set_created_by(p.EndUser());
  At(it.mutable_created_at(), f.now_us);
  At(it.mutable_updated_at(), f.now_us);
  it.set_version(1);
  Change c;
  c.events.push_back(Opened(it));
  if (auto s = SignalOf(it)) c.signal = PersonSignal{"risk:" + it.id() + ":opened", it.person_id(), it.unit_id(), *s};
  c.item = Inserted(std::move(it));
  return c;
}

namespace {

// The item step's gate: NOT_FOUND for who may not see it, PERMISSION_DENIED for who may
// see but not work on it, ABORTED for a stale version, FAILED_PRECONDITION once resolved.
template <typename Req>
absl::Status ItemGate(const Stored<v1::RiskItem>& cur, const Req& req, const auth::Principal& p, const StepFacts& f,
                      bool leader_may, const char* method) {
  if (!f.unit) return absl::NotFoundError("risk item not found");
  const Access a = AccessTo(p, f.caller, cur.doc.person_id(), ChainOf(*f.unit));
  const Access w = leader_may ? WorkOn(a, p, cur.doc) : a;
  if (!MaySeeItem(a) && w != Access::kWrite) return absl::NotFoundError("risk item not found");
  if (w != Access::kWrite) {
    return absl::PermissionDeniedError(std::string(method) +
                                       (leader_may ? " is for the political department and the responsible leader"
                                                   : " is for the political department serving the unit"));
  }
  if (req.expected_version() != cur.doc.version()) return Stale(req.expected_version(), cur.doc.version());
  if (cur.doc.state() == v1::RISK_ITEM_STATE_RESOLVED) {
    return absl::FailedPreconditionError("the risk item is RISK_ITEM_STATE_RESOLVED");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Change> AddMitigation(const Stored<v1::RiskItem>& current, const v1::AddMitigationRequest& req,
                                     const auth::Principal& p, const StepFacts& f) {
  SM_RETURN_IF_ERROR(ItemGate(current, req, p, f, true, "AddMitigation"));
  Change c;
  c.item = Updated(current);
  auto& it = c.item->stored.doc;
  SM_ASSIGN_OR_RETURN(v1::Mitigation m, MitigationOf(req.mitigation(), it.mitigations_size() + 1, "mitigation", f));
  Event ev{it.id(), {}};
  ev.event.mutable_mitigation_added()->set_index(m.index());
  ev.event.mutable_mitigation_added()->set_deadline_us(db::Micros(m.deadline()));
  *it.add_mitigations() = std::move(m);
  it.set_state(v1::RISK_ITEM_STATE_MITIGATING);
  it.set_version(it.version() + 1);
  At(it.mutable_updated_at(), f.now_us);
  c.events.push_back(std::move(ev));
  return c;
}

absl::StatusOr<Change> CompleteMitigation(const Stored<v1::RiskItem>& current, const v1::CompleteMitigationRequest& req,
                                          const auth::Principal& p, const StepFacts& f) {
  SM_RETURN_IF_ERROR(ItemGate(current, req, p, f, true, "CompleteMitigation"));
  if (req.index() < 1 || req.index() > current.doc.mitigations_size()) {
    return InvalidField("index", "must be 1 to " + std::to_string(current.doc.mitigations_size()));
  }
  Change c;
  c.item = Updated(current);
  auto& it = c.item->stored.doc;
  v1::Mitigation& m = *it.mutable_mitigations(req.index() - 1);
  if (m.done()) return absl::FailedPreconditionError("mitigation " + std::to_string(req.index()) + " is done already");
  m.set_done(true);
  At(m.mutable_done_at(), f.now_us);
  m.set_note(req.note());
  m.set_overdue(false);
  it.set_version(it.version() + 1);
  At(it.mutable_updated_at(), f.now_us);
  Event ev{it.id(), {}};
  ev.event.mutable_mitigation_completed()->set_index(req.index());
  ev.event.mutable_mitigation_completed()->set_late(f.now_us > db::Micros(m.deadline()));
  c.events.push_back(std::move(ev));
  return c;
}

absl::StatusOr<Change> ResolveRiskItem(const Stored<v1::RiskItem>& current, const v1::ResolveRiskItemRequest& req,
                                       const auth::Principal& p, const StepFacts& f) {
  SM_RETURN_IF_ERROR(ItemGate(current, req, p, f, false, "ResolveRiskItem"));
  if (current.doc.mitigations_size() == 0) {
    return absl::FailedPreconditionError("a risk item is resolved through its mitigation measures: none is recorded");
  }
  for (const auto& m : current.doc.mitigations()) {
    if (!m.done()) return absl::FailedPreconditionError("mitigation " + std::to_string(m.index()) + " is not done");
  }
  Change c;
  c.item = Updated(current);
  auto& it = c.item->stored.doc;
  it.set_state(v1::RISK_ITEM_STATE_RESOLVED);
  it.set_resolution(req.resolution());
  At(it.mutable_resolved_at(), f.now_us);
  At(it.mutable_updated_at(), f.now_us);
  it.set_version(it.version() + 1);
  Event ev{it.id(), {}};
  ev.event.mutable_risk_item_resolved()->set_mitigations(it.mitigations_size());
  c.events.push_back(std::move(ev));
  return c;
}

// ---- talks ----

absl::StatusOr<Change> RecordTalk(const v1::RecordTalkRequest& req, const auth::Principal& p, const StepFacts& f) {
  if (!f.person) return InvalidField("person_id", "is not a person in the directory");
  if (!f.unit) return InvalidField("person_id", "the person's unit is not in the directory");
  if (p.user == req.person_id()) return absl::PermissionDeniedError("a talk with oneself is not recorded");
  const Access a = AccessTo(p, f.caller, req.person_id(), ChainOf(*f.unit));
  if (a != Access::kWrite && a != Access::kFull) {
    return absl::PermissionDeniedError(
        "RecordTalk is for the political department, discipline staff and leaders of the person's unit chain");
  }
  if (!f.talker) return InvalidField("talker_person_id", "is not a person in the directory");
  if (f.talker->id == req.person_id()) return InvalidField("talker_person_id", "must not be the person talked with");
  if (!req.risk_item_id().empty()) {
    if (!f.talk_item) return InvalidField("risk_item_id", "is not a risk item");
    if (f.talk_item->person_id() != req.person_id()) return InvalidField("risk_item_id", "is about another person");
  }
  v1::TalkRecord t;
  t.set_id(f.new_id);
  t.set_kind(req.kind());
  t.set_talker_person_id(f.talker->id);
  t.set_person_id(req.person_id());
  t.set_unit_id(f.unit->id);
  *t.mutable_held_at() = req.held_at();
  t.set_summary(req.summary());
  *t.mutable_follow_ups() = req.follow_ups();
  t.set_risk_item_id(req.risk_item_id());
  t.set_disciplinary(req.kind() == v1::TALK_KIND_ADMONISHMENT);
  t.set_created_by(p.EndUser());
  At(t.mutable_created_at(), f.now_us);
  t.set_version(1);
  Change c;
  Event ev{t.id(), {}};
  auto* e = ev.event.mutable_talk_recorded();
  e->set_kind(t.kind());
  e->set_person_id(t.person_id());
  e->set_unit_id(t.unit_id());
  e->set_talker_person_id(t.talker_person_id());
  e->set_held_us(db::Micros(t.held_at()));
  e->set_disciplinary(t.disciplinary());
  e->set_risk_item_id(t.risk_item_id());
  c.events.push_back(std::move(ev));
  if (auto s = SignalOf(t)) c.signal = PersonSignal{"risk:" + t.id() + ":talk", t.person_id(), t.unit_id(), *s};
  c.talk = Inserted(std::move(t));
  return c;
}

// ---- overdue ----

void MarkOverdue(v1::RiskItem& item, int64_t now_us) {
  bool any = false;
  for (auto& m : *item.mutable_mitigations()) {
    m.set_overdue(!m.done() && item.state() != v1::RISK_ITEM_STATE_RESOLVED && db::Micros(m.deadline()) < now_us);
    any = any || m.overdue();
  }
  item.set_overdue(any);
}

std::optional<int64_t> NextDeadline(const v1::RiskItem& item) {
  if (item.state() == v1::RISK_ITEM_STATE_RESOLVED) return std::nullopt;
  std::optional<int64_t> out;
  for (const auto& m : item.mitigations()) {
    if (m.done() || m.escalated()) continue;
    const int64_t d = db::Micros(m.deadline());
    if (!out || d < *out) out = d;
  }
  return out;
}

std::optional<Change> EscalateOverdue(const Stored<v1::RiskItem>& item, int64_t now_us, const std::string& to_unit_id) {
  if (item.doc.state() == v1::RISK_ITEM_STATE_RESOLVED) return std::nullopt;
  Change c;
  c.item = Updated(item);
  auto& it = c.item->stored.doc;
  for (auto& m : *it.mutable_mitigations()) {
    if (m.done() || m.escalated() || db::Micros(m.deadline()) >= now_us) continue;
    m.set_escalated(true);
    Event ev{it.id(), {}};
    auto* e = ev.event.mutable_mitigation_escalated();
    e->set_index(m.index());
    e->set_deadline_us(db::Micros(m.deadline()));
    e->set_escalated_to_unit_id(to_unit_id);
    c.events.push_back(std::move(ev));
  }
  if (c.events.empty()) return std::nullopt;
  it.set_escalated_to_unit_id(to_unit_id);
  it.set_version(it.version() + 1);
  return c;
}

// ---- scores ----

std::optional<Signal> SignalOf(const v1::RiskItem& item) {
  if (item.person_id().empty() || item.source() == v1::RISK_SOURCE_SCORE) return std::nullopt;
  return Signal{"risk_item", Unprefixed(v1::RiskLevel_Name(item.level()), "RISK_LEVEL_"), "risk", item.id(),
                db::Micros(item.created_at())};
}

std::optional<Signal> SignalOf(const v1::TalkRecord& talk) {
  if (talk.kind() != v1::TALK_KIND_ADMONISHMENT) return std::nullopt;
  return Signal{"admonishment", "", "risk", talk.id(), db::Micros(talk.held_at())};
}

Change MoveScore(const std::optional<Stored<v1::PersonScore>>& current, const std::string& person_id,
                 const std::string& unit_id, const std::vector<Signal>& all, const Signal& trigger, const Rules& rules,
                 int64_t now_us, const std::optional<std::string>& leader, const std::string& item_id,
                 const std::string& item_number) {
  Change out;
  out.score = current ? Updated(*current) : Inserted(v1::PersonScore());
  v1::PersonScore& s = out.score->stored.doc;
  const double before = current ? current->doc.score() : 0.0;
  const bool was_above = current && current->doc.above();
  s.set_id(person_id);
  if (!unit_id.empty()) s.set_unit_id(unit_id);
  Score(rules, all, now_us, &s);
  s.clear_explained();  // recomputed from the signals on read
  const bool above = s.score() >= rules.threshold;
  const bool crossed = above && !was_above;
  s.set_above(above);
  if (crossed) s.set_crossings(s.crossings() + 1);
  s.set_version(s.version() + 1);
  Event ev{person_id, {}};
  auto* e = ev.event.mutable_score_changed();
  e->set_person_id(person_id);
  e->set_unit_id(s.unit_id());
  e->set_from(before);
  e->set_to(s.score());
  e->set_kind(trigger.kind);
  e->set_source(trigger.source);
  e->set_ref(trigger.ref);
  e->set_crossed(crossed && leader.has_value());
  e->set_threshold(rules.threshold);
  out.events.push_back(std::move(ev));
  if (crossed && leader) {
    v1::RiskItem it;
    it.set_id(item_id);
    it.set_number(item_number);
    it.set_person_id(person_id);
    it.set_unit_id(s.unit_id());
    it.set_category(v1::RISK_CATEGORY_OTHER);
    it.set_level(v1::RISK_LEVEL_HIGH);
    it.set_source(v1::RISK_SOURCE_SCORE);
    it.set_source_ref(trigger.source + ":" + trigger.ref);
    char text[160];
    std::snprintf(text, sizeof text, "风险评分 %.1f 达到预警阈值 %.1f（最近信号：%s）", s.score(), rules.threshold,
                  trigger.kind.c_str());
    it.set_description(text);
    it.set_responsible_leader_id(*leader);
    it.set_state(v1::RISK_ITEM_STATE_IDENTIFIED);
    it.set_score(s.score());
    it.set_created_by("risk-service");
    At(it.mutable_created_at(), now_us);
    At(it.mutable_updated_at(), now_us);
    it.set_version(1);
    out.events.push_back(Opened(it));
    out.item = Inserted(std::move(it));
  }
  return out;
}

}  // namespace sm::risk
