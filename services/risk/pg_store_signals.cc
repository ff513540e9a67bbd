// risk-service's store, part 2: signals and scores — a signal about a person added once by
// its key and the person's score moved with it, and the three feeds' events turned into
// signals (each call in the consumer's transaction). pg_store.cc: the documents and steps;
// pg_store_reads.cc: the reads.
#include "services/risk/pg_store.h"

#include <algorithm>

#include "common/db/sql.h"
#include "common/event_payload.h"
#include "common/log.h"
#include "common/status.h"
#include "common/uuid.h"

namespace sm::risk {

using db::Tx;
using docs::OptStr;

namespace {

OptStr Opt(const std::string& s) { return s.empty() ? OptStr() : OptStr(s); }

}  // namespace

std::vector<Signal> PgStore::SignalsOf(Tx& tx, const std::string& person_id) const {
  std::vector<Signal> out;
  for (const auto& r : tx.exec_params(
           "SELECT kind, grade, source, ref, at_us FROM signals WHERE person_id = $1::uuid ORDER BY at_us DESC, key",
           person_id)) {
    out.push_back(Signal{r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<std::string>(),
                         r[4].as<int64_t>()});
  }
  return out;
}

absl::Status PgStore::AddSignal(Tx& tx, const PersonSignal& ps, const events::Actor& actor, int64_t at_us) {
  const std::string& person_id = ps.person_id;
  const Signal& s = ps.signal;
  // One person's score at a time: whoever adds a signal about them waits for the other.
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtext('risk-person:' || $1))", person_id);
  pqxx::result added = tx.exec_params(
      "INSERT INTO signals (key, person_id, unit_id, kind, grade, source, ref, at_us) "
      "VALUES ($1, $2::uuid, $3::uuid, $4, $5, $6, $7, $8::bigint) ON CONFLICT (key) DO NOTHING RETURNING 1",
      ps.key, person_id, Opt(ps.unit_id), s.kind, s.grade, s.source, s.ref, s.at_us);
  if (added.empty()) return absl::OkStatus();  // applied before (a replay)
  std::optional<Stored<v1::PersonScore>> current = scores_.Load(tx, person_id, true);
  const std::vector<Signal> all = SignalsOf(tx, person_id);
  const int64_t now_us = NowMicros(clock_);
  const std::string unit = ps.unit_id.empty() && current ? current->doc.unit_id() : ps.unit_id;
  // The leader an item opened by a crossing goes to (read only when it may cross).
  std::optional<std::string> leader;
  std::string item_id, number;
  const bool was_above = current && current->doc.above();
  if (!was_above && ScoreOf(*rules_, all, now_us) >= rules_->threshold && !unit.empty()) {
    SM_ASSIGN_OR_RETURN(auto leaders, Known(directory_.LeadersOf(unit, &tx)));
    if (leaders) leader = DefaultLeader(person_id, *leaders);
    if (!leader) {
      log::Warn("score crossed the threshold but no responsible leader was found",
                {{"person", person_id}, {"unit", unit}});
    }
    item_id = NewUuid(clock_);
    number = NextItemNumber(tx, now_us);
  }
  Change moved = MoveScore(current, person_id, unit, all, s, *rules_, now_us, leader, item_id, number);
  return Write(tx, moved, actor, at_us);
}

absl::Status PgStore::SignalPeople(Tx& tx, const std::vector<std::string>& people, const std::string& key_prefix,
                                   const Signal& s, int64_t at_us) {
  // The feeds' transactions take the people of a batch of events in event order: two feeds
  // naming the same two people in opposite orders would deadlock (and wait out PostgreSQL's
  // deadlock timeout). So the feeds take turns at writing signals; a step of this service
  // locks one person only and never this lock, so it cannot close a cycle.
  tx.exec("SELECT pg_advisory_xact_lock(hashtext('risk-feeds'))");
  std::vector<std::string> sorted = people;
  std::sort(sorted.begin(), sorted.end());  // one event's people in one order
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  const events::Actor actor{"risk-service", ""};
  for (const std::string& person : sorted) {
    if (!IsUuid(person)) continue;
    SM_ASSIGN_OR_RETURN(auto who, Known(directory_.Person(person, &tx)));
    const std::string unit = who ? who->unit_id : "";
    SM_RETURN_IF_ERROR(AddSignal(tx, PersonSignal{key_prefix + ":" + person, person, unit, s}, actor, at_us));
  }
  return absl::OkStatus();
}

absl::Status PgStore::ApplyClueEvent(Tx& tx, const v1::ClueEvent& ev) {
  auto payload = events::Decode<v1::ClueEventPayload>(ev.type(), ev.data_json());
  if (!payload.ok()) {
    events::Skip("risk-clue", ev.type(), payload.status());
    return absl::OkStatus();
  }
  const int64_t at = db::Micros(ev.at());
  const std::string key = "clue:" + ev.clue_id() + ":" + std::to_string(ev.seq());
  std::vector<std::string> people;
  Signal s{"", "", "clue", ev.clue_id(), at};
  if (payload->has_registered()) {
    for (const auto& subj : payload->registered().subjects())
      if (!subj.person_id().empty()) people.push_back(subj.person_id());
    s.kind = "clue_named";
  } else if (payload->has_concluded()) {
    for (const auto& subj : payload->concluded().subjects())
      if (!subj.person_id().empty()) people.push_back(subj.person_id());
    s.kind = "clue_concluded";
    s.grade = "form_" + std::to_string(payload->concluded().form());
  }
  if (people.empty()) return absl::OkStatus();
  return SignalPeople(tx, people, key, s, NowMicros(clock_));
}

absl::Status PgStore::ApplyAuditEvent(Tx& tx, const v1::AuditEvent& ev) {
  auto payload = events::Decode<v1::AuditEventPayload>(ev.type(), ev.data_json());
  if (!payload.ok()) {
    events::Skip("risk-audit", ev.type(), payload.status());
    return absl::OkStatus();
  }
  if (!payload->has_finding_added() || payload->finding_added().responsible_person_id().empty()) {
    return absl::OkStatus();
  }
  const auto& f = payload->finding_added();
  Signal s{"audit_finding", Unprefixed(v1::Severity_Name(f.severity()), "SEVERITY_"), "audit", ev.aggregate_id(),
           db::Micros(ev.at())};
  if (f.severity() == v1::SEVERITY_UNSPECIFIED) s.grade = "";
  return SignalPeople(tx, {f.responsible_person_id()}, "audit:" + ev.aggregate_id() + ":" + std::to_string(ev.seq()), s,
                      NowMicros(clock_));
}

absl::Status PgStore::ApplyInspectionEvent(Tx& tx, const v1::InspectionEvent& ev) {
  auto payload = events::Decode<v1::InspectionEventPayload>(ev.type(), ev.data_json());
  if (!payload.ok()) {
    events::Skip("risk-inspection", ev.type(), payload.status());
    return absl::OkStatus();
  }
  const std::string key = "inspection:" + ev.aggregate_id() + ":" + std::to_string(ev.seq());
  Signal s{"", "", "inspection", ev.aggregate_id(), db::Micros(ev.at())};
  std::string person;
  if (payload->has_finding_added()) {
    // inspection-service writes a finding's "finding_added" on the finding's chain and on its
    // inspection's: the finding's own counts, the inspection's copy would count it twice.
    if (ev.aggregate_id() == payload->finding_added().inspection_id()) return absl::OkStatus();
    person = payload->finding_added().subject_person_id();
    s.kind = "inspection_finding";
    s.grade = Unprefixed(v1::Severity_Name(payload->finding_added().severity()), "SEVERITY_");
  } else if (payload->has_measure_imposed()) {
    person = payload->measure_imposed().person_id();
    s.kind = "inspection_measure";
    s.grade = Unprefixed(v1::MeasureKind_Name(payload->measure_imposed().kind()), "MEASURE_KIND_");
  } else if (payload->has_accountability_opened()) {
    person = payload->accountability_opened().leader_person_id();
    s.kind = "accountability_check";
    s.grade = Unprefixed(v1::LeaderDuty_Name(payload->accountability_opened().duty()), "LEADER_DUTY_");
  }
  if (person.empty()) return absl::OkStatus();
  return SignalPeople(tx, {person}, key, s, NowMicros(clock_));
}

}  // namespace sm::risk
