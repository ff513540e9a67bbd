#include "services/risk/pg_store.h"

#include <algorithm>
#include <set>

#include "common/db/sql.h"
#include "common/event_payload.h"
#include "common/log.h"
#include "common/status.h"
#include "common/uuid.h"

namespace sm::risk {
namespace {

using db::Tx;
using docs::OptStr;

OptStr Num(int64_t n) { return std::to_string(n); }
OptStr Opt(const std::string& s) { return s.empty() ? OptStr() : OptStr(s); }

void AddPage(db::Where& w, const std::optional<paging::TimeId>& after, const std::string& column) {
  if (after) {
    w.Add("(" + column + ", id) > (?::bigint, ?::uuid)", {std::to_string(after->first), after->second});
  }
}

// The talk summary's sealing context: bound to the talk and the field.
std::string SummaryContext(const std::string& talk_id) { return "risk-talk:" + talk_id + ":summary"; }

}  // namespace

PgStore::PgStore(db::Pool* pool, const Clock& clock, const crypto::Keyring* keys, const Rules* rules)
    : pool_(pool),
      clock_(clock),
      keys_(keys),
      rules_(rules),
      points_("risk_points", "sm-risk-point-v1",
              {{"post_id", "?::uuid"}, {"power", "?"}, {"active", "?::boolean"}, {"created_us", "?::bigint"}},
              [](const v1::RiskPoint& p) {
                return std::vector<OptStr>{p.post_id(), v1::Power_Name(p.power()), p.active() ? "true" : "false",
                                           Num(db::Micros(p.created_at()))};
              }),
      campaigns_("campaigns", "sm-risk-campaign-v1",
                 {{"state", "?"}, {"unit_id", "?::uuid"}, {"scope_unit_ids", "?::uuid[]"}, {"created_us", "?::bigint"}},
                 [](const v1::ScreeningCampaign& k) {
                   return std::vector<OptStr>{v1::CampaignState_Name(k.state()), k.unit_id(),
                                              db::TextArrayLiteral(k.scope_unit_ids()),
                                              Num(db::Micros(k.created_at()))};
                 }),
      items_("risk_items", "sm-risk-item-v1",
             {{"number", "?"},
              {"person_id", "?::uuid"},
              {"unit_id", "?::uuid"},
              {"category", "?"},
              {"level", "?"},
              {"source", "?"},
              {"state", "?"},
              {"campaign_id", "?::uuid"},
              {"responsible_leader_id", "?::uuid"},
              {"next_deadline_us", "?::bigint"},
              {"created_us", "?::bigint"}},
             [](const v1::RiskItem& it) {
               std::optional<int64_t> next = NextDeadline(it);
               return std::vector<OptStr>{it.number(),
                                          Opt(it.person_id()),
                                          it.unit_id(),
                                          v1::RiskCategory_Name(it.category()),
                                          v1::RiskLevel_Name(it.level()),
                                          v1::RiskSource_Name(it.source()),
                                          v1::RiskItemState_Name(it.state()),
                                          Opt(it.campaign_id()),
                                          it.responsible_leader_id(),
                                          next ? Num(*next) : OptStr(),
                                          Num(db::Micros(it.created_at()))};
             }),
      talks_("talks", "sm-risk-talk-v1",
             {{"person_id", "?::uuid"},
              {"unit_id", "?::uuid"},
              {"kind", "?"},
              {"held_us", "?::bigint"},
              {"created_us", "?::bigint"}},
             [](const v1::TalkRecord& t) {
               return std::vector<OptStr>{t.person_id(), t.unit_id(), v1::TalkKind_Name(t.kind()),
                                          Num(db::Micros(t.held_at())), Num(db::Micros(t.created_at()))};
             }),
      scores_("person_scores", "sm-risk-score-v1",
              {{"unit_id", "?::uuid"},
               {"score", "?::double precision"},
               {"above", "?::boolean"},
               {"updated_us", "?::bigint"}},
              [](const v1::PersonScore& s) {
                return std::vector<OptStr>{Opt(s.unit_id()), std::to_string(s.score()), s.above() ? "true" : "false",
                                           Num(db::Micros(s.as_of()))};
              }),
      chain_(
          chain::Anchor("risk-service", "risk_anchor", "risk_chains", "risk_events", "aggregate_id"), pool, clock,
          &log_, "risk point, campaign, risk item, talk or score",
          [this](Tx& tx, const std::string& id) -> absl::StatusOr<std::optional<chain::Evidence>> {
            auto rows = Evidence(tx, id);
            if (rows.empty()) return std::optional<chain::Evidence>();
            chain::Evidence e = std::move(rows.begin()->second);
            SM_ASSIGN_OR_RETURN(auto history, log_.Read(tx, id));
            e.events = std::move(history.events);
            return std::optional<chain::Evidence>(std::move(e));
          },
          [this](Tx& tx) { return Evidence(tx, std::nullopt); }) {}

std::map<std::string, chain::Evidence> PgStore::Evidence(Tx& tx, const std::optional<std::string>& id) const {
  std::map<std::string, chain::Evidence> out = points_.table().Evidence(tx, id);
  out.merge(campaigns_.table().Evidence(tx, id));
  out.merge(items_.table().Evidence(tx, id));
  out.merge(talks_.table().Evidence(tx, id));
  out.merge(scores_.table().Evidence(tx, id));
  return out;
}

// ---- sealing ----

std::string PgStore::Seal(const std::string& talk_id, const std::string& summary) const {
  return summary.empty() ? "" : keys_->Seal(summary, SummaryContext(talk_id));
}

absl::StatusOr<std::string> PgStore::Open(const std::string& talk_id, const std::string& sealed) const {
  if (sealed.empty()) return std::string();
  return keys_->Open(sealed, SummaryContext(talk_id));
}

void PgStore::OpenSummary(v1::TalkRecord& t) const {
  auto opened = Open(t.id(), t.summary());
  if (!opened.ok()) {
    // Never the text: which talk and why.
    log::Error("talk summary does not open", {{"talk", t.id()}, {"error", std::string(opened.status().message())}});
    t.clear_summary();
    t.set_summary_withheld(true);
    return;
  }
  t.set_summary(*opened);
}

// ---- facts ----

bool PgStore::Screened(Tx& tx, const std::string& campaign_id, const std::string& person_id) const {
  return !tx.exec_params("SELECT 1 FROM screenings WHERE campaign_id = $1::uuid AND person_id = $2::uuid", campaign_id,
                         person_id)
              .empty();
}

bool PgStore::InScope(Tx& tx, const std::string& unit,
                      const google::protobuf::RepeatedPtrField<std::string>& scope) const {
  for (const auto& s : scope) {
    if (tx.exec_params1("SELECT $1::uuid = ANY (" + db::UnitsBelow("$2") + ")", unit, s)[0].as<bool>()) return true;
  }
  return false;
}

std::optional<std::string> PgStore::PostName(Tx& tx, const std::string& post_id) const {
  pqxx::result r = tx.exec_params("SELECT name FROM directory.v_posts WHERE id = $1::uuid AND active", post_id);
  if (r.empty()) return std::nullopt;
  return r[0][0].as<std::string>();
}

std::string PgStore::NextItemNumber(Tx& tx, int64_t now_us) const {
  return ItemNumber(now_us, tx.exec1("SELECT nextval('risk_item_number_seq')")[0].as<int64_t>());
}

absl::Status PgStore::SubjectFacts(Tx* tx, const std::string& person_id, const std::string& unit_id, StepFacts& f) {
  std::string unit = unit_id;
  if (!person_id.empty()) {
    SM_ASSIGN_OR_RETURN(f.person, Known(directory_.Person(person_id, tx)));
    if (!f.person) return absl::OkStatus();
    unit = f.person->unit_id;
  }
  if (unit.empty()) return absl::OkStatus();
  SM_ASSIGN_OR_RETURN(f.unit, Known(directory_.Unit(unit, tx)));
  return absl::OkStatus();
}

absl::Status PgStore::LeaderFacts(StepFacts& f) {
  if (!f.unit) return absl::OkStatus();
  SM_ASSIGN_OR_RETURN(f.leaders, Known(directory_.LeadersOf(f.unit->id)));
  return absl::OkStatus();
}

absl::StatusOr<CallerFacts> PgStore::CallerOf(const auth::Principal& p) {
  CallerFacts c;
  c.unit_id = p.unit;
  if (!p.unit.empty() && p.HasRole(auth::kRolePolitical)) {
    SM_ASSIGN_OR_RETURN(auto unit, Known(directory_.Unit(p.unit)));
    if (unit) {
      c.serves_unit_id = unit->id;
      // A political department serves its parent's tree (the bureau's 政治部: the bureau).
      if (unit->kind == "POLITICAL_DEPARTMENT" && !unit->ancestors.empty()) {
        c.serves_unit_id = unit->ancestors.back();
      }
    }
  }
  if (IsUuid(p.user)) {
    SM_ASSIGN_OR_RETURN(auto who, Known(directory_.Person(p.user)));
    c.leader = who && who->active && who->leader && who->unit_id == p.unit;
  }
  return c;
}

// ---- one walk ----

template <typename Reply>
absl::StatusOr<Reply> PgStore::Step(const auth::Principal& caller, StepFacts facts, const db::Idempotency::Key& key,
                                    const Decide<Reply>& decide,
                                    const std::function<void(const Change&, Reply*)>& fill) {
  const events::Actor actor{caller.EndUser(), caller.unit};
  return idempotency_.Write<Reply>(
      *pool_, key,
      [&](Tx& tx, Reply& out) -> absl::Status {
        StepFacts f = facts;
        // The injected clock, as the events, the reads, the scores and the overdue scan use:
        // the database's now() would date documents and deadlines on another time line.
        f.now_us = NowMicros(clock_);
        SM_ASSIGN_OR_RETURN(Change change, decide(tx, f));
        SM_RETURN_IF_ERROR(Write(tx, change, actor, f.now_us));
        fill(change, &out);
        return absl::OkStatus();
      },
      [this] { stats_version_.Changed(); });
}

template absl::StatusOr<v1::RiskPointReply> PgStore::Step(
    const auth::Principal&, StepFacts, const db::Idempotency::Key&, const Decide<v1::RiskPointReply>&,
    const std::function<void(const Change&, v1::RiskPointReply*)>&);
template absl::StatusOr<v1::CampaignReply> PgStore::Step(const auth::Principal&, StepFacts, const db::Idempotency::Key&,
                                                         const Decide<v1::CampaignReply>&,
                                                         const std::function<void(const Change&, v1::CampaignReply*)>&);
template absl::StatusOr<v1::ScreeningReply> PgStore::Step(
    const auth::Principal&, StepFacts, const db::Idempotency::Key&, const Decide<v1::ScreeningReply>&,
    const std::function<void(const Change&, v1::ScreeningReply*)>&);
template absl::StatusOr<v1::RiskItemReply> PgStore::Step(const auth::Principal&, StepFacts, const db::Idempotency::Key&,
                                                         const Decide<v1::RiskItemReply>&,
                                                         const std::function<void(const Change&, v1::RiskItemReply*)>&);
template absl::StatusOr<v1::TalkReply> PgStore::Step(const auth::Principal&, StepFacts, const db::Idempotency::Key&,
                                                     const Decide<v1::TalkReply>&,
                                                     const std::function<void(const Change&, v1::TalkReply*)>&);

absl::Status PgStore::Write(Tx& tx, Change& c, const events::Actor& actor, int64_t at_us) {
  // The talk's summary is sealed in the stored body; the change keeps the text for the reply.
  std::optional<Stored<v1::TalkRecord>> sealed_talk;
  if (c.talk) {
    sealed_talk = c.talk->stored;
    sealed_talk->doc.set_summary(Seal(sealed_talk->doc.id(), sealed_talk->doc.summary()));
  }
  std::vector<chain::Event> made;
  std::set<std::string> moved;
  auto chain_of = [&](const std::string& id) -> std::tuple<int64_t*, std::string*, std::string> {
    if (c.point && c.point->stored.doc.id() == id) {
      return {&c.point->stored.chain_len, &c.point->stored.chain_head, points_.Digest(c.point->stored.doc)};
    }
    if (c.campaign && c.campaign->stored.doc.id() == id) {
      return {&c.campaign->stored.chain_len, &c.campaign->stored.chain_head, campaigns_.Digest(c.campaign->stored.doc)};
    }
    if (c.item && c.item->stored.doc.id() == id) {
      return {&c.item->stored.chain_len, &c.item->stored.chain_head, items_.Digest(c.item->stored.doc)};
    }
    if (sealed_talk && sealed_talk->doc.id() == id) {
      return {&sealed_talk->chain_len, &sealed_talk->chain_head, talks_.Digest(sealed_talk->doc)};
    }
    if (c.score && c.score->stored.doc.id() == id) {
      return {&c.score->stored.chain_len, &c.score->stored.chain_head, scores_.Digest(c.score->stored.doc)};
    }
    throw std::logic_error("event for an aggregate the change does not hold: " + id);
  };
  for (const Event& ev : c.events) {
    auto [len, head, digest] = chain_of(ev.aggregate_id);
    const events::Payload payload = events::MustEncode(ev.event);
    made.push_back(
        events::EventLog::Next(ev.aggregate_id, *len, *head, actor, payload.type, payload.json, at_us, digest));
    *len = made.back().seq;
    *head = made.back().hash;
    moved.insert(ev.aggregate_id);
  }
  auto write = [&](const auto& table, const auto& doc) {
    if (doc.insert) {
      table.Insert(tx, doc.stored);
    } else if (doc.changed) {
      table.Update(tx, doc.stored);
    } else if (moved.count(doc.stored.doc.id())) {
      table.UpdateChain(tx, doc.stored);
    }
  };
  if (c.point) write(points_, *c.point);
  if (c.campaign) write(campaigns_, *c.campaign);
  if (c.item) write(items_, *c.item);
  if (c.score) write(scores_, *c.score);
  if (c.talk) {
    c.talk->stored.chain_len = sealed_talk->chain_len;
    c.talk->stored.chain_head = sealed_talk->chain_head;
    write(talks_, Doc<v1::TalkRecord>{*sealed_talk, c.talk->insert, c.talk->changed});
  }
  if (c.screening) {
    const v1::Screening& s = *c.screening;
    tx.exec_params(
        "INSERT INTO screenings (campaign_id, person_id, unit_id, outcome, note, screened_by, at_us, risk_item_id) "
        "VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6, $7::bigint, $8::uuid)",
        s.campaign_id(), s.person_id(), s.unit_id(), v1::ScreeningOutcome_Name(s.outcome()), s.note(), s.screened_by(),
        db::Micros(s.at()), Opt(s.risk_item_id()));
  }
  log_.Insert(tx, made);
  if (c.signal) SM_RETURN_IF_ERROR(AddSignal(tx, *c.signal, actor, at_us));
  return absl::OkStatus();
}

// ---- signals and scores ----

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

// ---- overdue ----

absl::StatusOr<int> PgStore::MarkOverdue(TimePoint now) {
  int escalated = 0;
  const int64_t now_us = ToUnixMicros(now);
  absl::Status s = db::WithTransaction(*pool_, [&](Tx& tx) -> absl::Status {
    escalated = 0;
    if (!tx.exec1("SELECT pg_try_advisory_xact_lock(hashtext('risk-overdue-scan'))")[0].as<bool>()) {
      return absl::OkStatus();
    }
    for (auto& item : items_.Select(tx, "next_deadline_us < $1::bigint", {Num(now_us)},
                                    "ORDER BY next_deadline_us LIMIT 500 FOR UPDATE SKIP LOCKED")) {
      SM_ASSIGN_OR_RETURN(auto unit, Known(directory_.Unit(item.doc.unit_id(), &tx)));
      // 督办: to the unit above the item's (the bureau for a branch's item).
      const std::string to = unit && !unit->ancestors.empty() ? unit->ancestors.back() : item.doc.unit_id();
      std::optional<Change> c = EscalateOverdue(item, now_us, to);
      if (!c) continue;
      SM_RETURN_IF_ERROR(Write(tx, *c, events::Actor{"risk-service", ""}, now_us));
      ++escalated;
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (escalated > 0) stats_version_.Changed();
  return escalated;
}

// ---- reads ----

using db::Read;

absl::StatusOr<v1::RiskPoint> PgStore::GetPoint(const std::string& id) {
  return Read<v1::RiskPoint>(*pool_, [&](Tx& tx, v1::RiskPoint& out) {
    auto p = points_.Load(tx, id, false);
    if (!p) return absl::NotFoundError("risk point not found");
    out = std::move(p->doc);
    if (auto name = PostName(tx, out.post_id())) out.set_post_name(*name);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<v1::RiskPoint>> PgStore::ListPoints(const v1::ListRiskPointsRequest& q,
                                                               const std::optional<paging::TimeId>& after, int limit) {
  return Read<std::vector<v1::RiskPoint>>(*pool_, [&](Tx& tx, std::vector<v1::RiskPoint>& out) -> absl::Status {
    db::Where w;
    if (!q.post_id().empty()) w.Add("post_id = ?::uuid", {q.post_id()});
    if (q.power() != v1::POWER_UNSPECIFIED) w.Add("power = ?", {v1::Power_Name(q.power())});
    if (!q.person_id().empty()) {
      w.Add("post_id = (SELECT post_id FROM directory.v_people WHERE id = ?::uuid)", {q.person_id()});
    }
    if (!q.include_inactive()) w.Add("active");
    AddPage(w, after, "created_us");
    for (auto& p : points_.Select(tx, w.Sql(), w.params(), "ORDER BY created_us, id LIMIT " + std::to_string(limit))) {
      if (auto name = PostName(tx, p.doc.post_id())) p.doc.set_post_name(*name);
      out.push_back(std::move(p.doc));
    }
    return absl::OkStatus();
  });
}

namespace {

// Fills a campaign's progress: per scope unit, its active people (the unit and below), how
// many were screened and how many had a risk found.
void Progress(Tx& tx, v1::ScreeningCampaign& k) {
  k.clear_progress();
  int64_t people = 0, screened = 0;
  for (const auto& unit : k.scope_unit_ids()) {
    pqxx::row r = tx.exec_params1(
        "WITH tree AS (SELECT unnest(" + db::UnitsBelow("$2") +
            ") AS id), ppl AS (SELECT p.id FROM directory.v_people p JOIN tree t ON t.id = p.unit_id WHERE p.active) "
            "SELECT (SELECT name FROM directory.v_units WHERE id = $2::uuid), (SELECT count(*) FROM ppl), "
            "(SELECT count(*) FROM screenings s JOIN ppl ON ppl.id = s.person_id WHERE s.campaign_id = $1::uuid), "
            "(SELECT count(*) FROM screenings s JOIN ppl ON ppl.id = s.person_id WHERE s.campaign_id = $1::uuid "
            "AND s.outcome = 'SCREENING_OUTCOME_RISK_FOUND')",
        k.id(), unit);
    auto* p = k.add_progress();
    p->set_unit_id(unit);
    p->set_unit_name(r[0].is_null() ? "" : r[0].as<std::string>());
    p->set_people(r[1].as<int64_t>());
    p->set_screened(r[2].as<int64_t>());
    p->set_risks_found(r[3].as<int64_t>());
    p->set_share(p->people() > 0 ? static_cast<double>(p->screened()) / static_cast<double>(p->people()) : 0.0);
    people += p->people();
    screened += p->screened();
  }
  k.set_people(people);
  k.set_screened(screened);
  k.set_share(people > 0 ? static_cast<double>(screened) / static_cast<double>(people) : 0.0);
}

}  // namespace

absl::StatusOr<v1::ScreeningCampaign> PgStore::GetCampaign(const std::string& id) {
  return Read<v1::ScreeningCampaign>(*pool_, [&](Tx& tx, v1::ScreeningCampaign& out) {
    auto k = campaigns_.Load(tx, id, false);
    if (!k) return absl::NotFoundError("campaign not found");
    out = std::move(k->doc);
    Progress(tx, out);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<v1::ScreeningCampaign>> PgStore::ListCampaigns(const v1::ListCampaignsRequest& q,
                                                                          const std::optional<paging::TimeId>& after,
                                                                          int limit) {
  return Read<std::vector<v1::ScreeningCampaign>>(
      *pool_, [&](Tx& tx, std::vector<v1::ScreeningCampaign>& out) -> absl::Status {
        db::Where w;
        if (q.open_only()) w.Add("state = 'CAMPAIGN_STATE_OPEN'");
        AddPage(w, after, "created_us");
        for (auto& k :
             campaigns_.Select(tx, w.Sql(), w.params(), "ORDER BY created_us, id LIMIT " + std::to_string(limit))) {
          Progress(tx, k.doc);
          out.push_back(std::move(k.doc));
        }
        return absl::OkStatus();
      });
}

absl::StatusOr<std::pair<std::vector<v1::UnscreenedPerson>, int64_t>> PgStore::Unscreened(
    const v1::ScreeningCampaign& c, const std::string& unit, const std::optional<std::string>& after_badge, int limit) {
  using Out = std::pair<std::vector<v1::UnscreenedPerson>, int64_t>;
  return Read<Out>(*pool_, [&](Tx& tx, Out& out) -> absl::Status {
    std::vector<std::string> roots;
    if (unit.empty()) {
      roots.assign(c.scope_unit_ids().begin(), c.scope_unit_ids().end());
    } else {
      roots.push_back(unit);
    }
    const std::string base =
        "WITH RECURSIVE tree AS (SELECT id FROM directory.v_units WHERE id = ANY ($1::uuid[]) UNION "
        "SELECT u.id FROM directory.v_units u JOIN tree t ON u.parent_id = t.id), "
        "todo AS (SELECT p.id, p.name, p.badge_no, p.unit_id FROM directory.v_people p JOIN tree t ON t.id = p.unit_id "
        "WHERE p.active AND NOT EXISTS (SELECT 1 FROM screenings s WHERE s.campaign_id = $2::uuid "
        "AND s.person_id = p.id)) ";
    std::string scope;
    for (const auto& r : roots) scope += (scope.empty() ? "" : ",") + r;
    scope = "{" + scope + "}";
    out.second = tx.exec_params1(base + "SELECT count(*) FROM todo", scope, c.id())[0].as<int64_t>();
    for (const auto& r :
         tx.exec_params(base + "SELECT t.id::text, t.name, t.badge_no, t.unit_id::text, u.name FROM todo t "
                               "JOIN directory.v_units u ON u.id = t.unit_id WHERE $3::text IS NULL OR t.badge_no > $3 "
                               "ORDER BY t.badge_no LIMIT $4",
                        scope, c.id(), after_badge, limit)) {
      v1::UnscreenedPerson p;
      p.set_person_id(r[0].as<std::string>());
      p.set_name(r[1].as<std::string>());
      p.set_badge_no(r[2].as<std::string>());
      p.set_unit_id(r[3].as<std::string>());
      p.set_unit_name(r[4].as<std::string>());
      out.first.push_back(std::move(p));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::RiskItem> PgStore::GetItem(const std::string& id) {
  return Read<v1::RiskItem>(*pool_, [&](Tx& tx, v1::RiskItem& out) {
    auto it = items_.Load(tx, id, false);
    if (!it) return absl::NotFoundError("risk item not found");
    out = std::move(it->doc);
    risk::MarkOverdue(out, NowMicros(clock_));
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<v1::RiskItem>> PgStore::ListItems(const v1::ListRiskItemsRequest& q, const Visible& visible,
                                                             const std::optional<paging::TimeId>& after, int limit) {
  return Read<std::vector<v1::RiskItem>>(*pool_, [&](Tx& tx, std::vector<v1::RiskItem>& out) -> absl::Status {
    db::Where w;
    if (visible) w.Add("unit_id = ANY (" + db::UnitsBelow("?") + ")", {*visible});
    if (!q.person_id().empty()) w.Add("person_id = ?::uuid", {q.person_id()});
    if (!q.unit_id().empty()) w.Add("unit_id = ANY (" + db::UnitsBelow("?") + ")", {q.unit_id()});
    if (q.state() != v1::RISK_ITEM_STATE_UNSPECIFIED) w.Add("state = ?", {v1::RiskItemState_Name(q.state())});
    if (q.level() != v1::RISK_LEVEL_UNSPECIFIED) w.Add("level = ?", {v1::RiskLevel_Name(q.level())});
    if (q.category() != v1::RISK_CATEGORY_UNSPECIFIED) w.Add("category = ?", {v1::RiskCategory_Name(q.category())});
    if (q.source() != v1::RISK_SOURCE_UNSPECIFIED) w.Add("source = ?", {v1::RiskSource_Name(q.source())});
    if (!q.campaign_id().empty()) w.Add("campaign_id = ?::uuid", {q.campaign_id()});
    const int64_t now_us = NowMicros(clock_);
    if (q.overdue_only()) {
      // Open past a deadline: escalated ones have no next deadline, so read the bodies.
      w.Add("state <> 'RISK_ITEM_STATE_RESOLVED'");
    }
    AddPage(w, after, "created_us");
    for (auto& it : items_.Select(tx, w.Sql(), w.params(),
                                  "ORDER BY created_us, id LIMIT " + std::to_string(q.overdue_only() ? 5000 : limit))) {
      risk::MarkOverdue(it.doc, now_us);
      if (q.overdue_only() && !it.doc.overdue()) continue;
      out.push_back(std::move(it.doc));
      if (static_cast<int>(out.size()) >= limit) break;
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::TalkRecord> PgStore::GetTalk(const std::string& id) {
  return Read<v1::TalkRecord>(*pool_, [&](Tx& tx, v1::TalkRecord& out) {
    auto t = talks_.Load(tx, id, false);
    if (!t) return absl::NotFoundError("talk not found");
    out = std::move(t->doc);
    OpenSummary(out);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<v1::TalkRecord>> PgStore::ListTalks(const v1::ListTalksRequest& q, const Visible& visible,
                                                               const std::optional<paging::TimeId>& after, int limit) {
  return Read<std::vector<v1::TalkRecord>>(*pool_, [&](Tx& tx, std::vector<v1::TalkRecord>& out) -> absl::Status {
    db::Where w;
    if (visible) w.Add("unit_id = ANY (" + db::UnitsBelow("?") + ")", {*visible});
    if (!q.person_id().empty()) w.Add("person_id = ?::uuid", {q.person_id()});
    if (!q.unit_id().empty()) w.Add("unit_id = ANY (" + db::UnitsBelow("?") + ")", {q.unit_id()});
    if (q.kind() != v1::TALK_KIND_UNSPECIFIED) w.Add("kind = ?", {v1::TalkKind_Name(q.kind())});
    AddPage(w, after, "held_us");
    for (auto& t : talks_.Select(tx, w.Sql(), w.params(), "ORDER BY held_us, id LIMIT " + std::to_string(limit))) {
      OpenSummary(t.doc);
      out.push_back(std::move(t.doc));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::PersonScore> PgStore::Score(const std::string& person_id) {
  return Read<v1::PersonScore>(*pool_, [&](Tx& tx, v1::PersonScore& out) -> absl::Status {
    auto stored = scores_.Load(tx, person_id, false);
    if (stored) out = std::move(stored->doc);
    out.set_id(person_id);
    pqxx::result who = tx.exec_params("SELECT name FROM directory.v_people WHERE id = $1::uuid", person_id);
    if (!who.empty()) out.set_person_name(who[0][0].as<std::string>());
    risk::Score(*rules_, SignalsOf(tx, person_id), NowMicros(clock_), &out);
    // The newest signals are listed; older ones still count in the terms (a reply stays small
    // however long the person's record).
    constexpr int kListed = 200;
    if (out.explained_size() > kListed) {
      out.set_explained_omitted(out.explained_size() - kListed);
      out.mutable_explained()->DeleteSubrange(kListed, out.explained_size() - kListed);
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<v1::PersonScore>> PgStore::ListScores(
    const v1::ListScoresRequest& q, const Visible& visible, const std::optional<std::pair<double, std::string>>& after,
    int limit) {
  return Read<std::vector<v1::PersonScore>>(*pool_, [&](Tx& tx, std::vector<v1::PersonScore>& out) -> absl::Status {
    db::Where w;
    if (visible) w.Add("unit_id = ANY (" + db::UnitsBelow("?") + ")", {*visible});
    if (!q.unit_id().empty()) w.Add("unit_id = ANY (" + db::UnitsBelow("?") + ")", {q.unit_id()});
    if (q.min_score() > 0) w.Add("score >= ?::double precision", {std::to_string(q.min_score())});
    if (q.above_only()) w.Add("above");
    if (after) w.Add("(score, id) < (?::double precision, ?::uuid)", {std::to_string(after->first), after->second});
    for (auto& s :
         scores_.Select(tx, w.Sql(), w.params(), "ORDER BY score DESC, id DESC LIMIT " + std::to_string(limit))) {
      pqxx::result n = tx.exec_params("SELECT name FROM directory.v_people WHERE id = $1::uuid", s.doc.id());
      if (!n.empty()) s.doc.set_person_name(n[0][0].as<std::string>());
      out.push_back(std::move(s.doc));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<v1::UnitScore>> PgStore::UnitScores(const Visible& visible, int limit) {
  return Read<std::vector<v1::UnitScore>>(*pool_, [&](Tx& tx, std::vector<v1::UnitScore>& out) -> absl::Status {
    for (const auto& r : tx.exec_params(
             "SELECT s.unit_id::text, coalesce(u.name, ''), sum(s.score), count(*), count(*) FILTER (WHERE s.above), "
             "max(s.score) FROM person_scores s LEFT JOIN directory.v_units u ON u.id = s.unit_id "
             "WHERE s.unit_id IS NOT NULL AND ($1::uuid IS NULL OR s.unit_id = ANY (" +
                 db::UnitsBelow("$1") + ")) GROUP BY s.unit_id, u.name ORDER BY sum(s.score) DESC LIMIT $2",
             visible, limit)) {
      v1::UnitScore u;
      u.set_unit_id(r[0].as<std::string>());
      u.set_unit_name(r[1].as<std::string>());
      u.set_score(r[2].as<double>());
      u.set_people(r[3].as<int64_t>());
      u.set_above(r[4].as<int64_t>());
      u.set_max(r[5].as<double>());
      out.push_back(std::move(u));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::RiskStats> PgStore::Stats(const Visible& visible) {
  return Read<v1::RiskStats>(*pool_, [&](Tx& tx, v1::RiskStats& out) -> absl::Status {
    const std::string in_scope = "($1::uuid IS NULL OR unit_id = ANY (" + db::UnitsBelow("$1") + "))";
    auto counts = [&](const std::string& column, auto* field) {
      for (const auto& r : tx.exec_params("SELECT " + column + "::text, count(*) FROM risk_items WHERE " + in_scope +
                                              " GROUP BY 1 ORDER BY 2 DESC, 1",
                                          visible)) {
        auto* c = field->Add();
        c->set_key(r[0].as<std::string>());
        c->set_count(r[1].as<int64_t>());
      }
    };
    counts("level", out.mutable_by_level());
    counts("category", out.mutable_by_category());
    counts("unit_id", out.mutable_by_unit());
    counts("source", out.mutable_by_source());
    counts("state", out.mutable_by_state());
    const int64_t now_us = NowMicros(clock_);
    int64_t items = 0, all = 0, done = 0, overdue = 0, items_overdue = 0;
    for (auto& it : items_.Select(tx, in_scope, {visible})) {
      ++items;
      risk::MarkOverdue(it.doc, now_us);
      for (const auto& m : it.doc.mitigations()) {
        ++all;
        if (m.done()) ++done;
        if (m.overdue()) ++overdue;
      }
      if (it.doc.overdue()) ++items_overdue;
    }
    out.set_items(items);
    out.set_mitigations(all);
    out.set_mitigations_done(done);
    out.set_mitigation_rate(all > 0 ? static_cast<double>(done) / static_cast<double>(all) : 0.0);
    out.set_mitigations_overdue(overdue);
    out.set_items_overdue(items_overdue);
    for (const auto& r : tx.exec_params(
             "SELECT unit_id::text || '/' || to_char(to_timestamp(held_us / 1000000.0) AT TIME ZONE 'Asia/Shanghai', "
             "'YYYY-MM'), count(*) FROM talks WHERE " +
                 in_scope + " GROUP BY 1 ORDER BY 1",
             visible)) {
      auto* c = out.add_talks_by_unit_month();
      c->set_key(r[0].as<std::string>());
      c->set_count(r[1].as<int64_t>());
    }
    for (const auto& r : tx.exec_params(
             "SELECT kind, count(*) FROM talks WHERE " + in_scope + " GROUP BY 1 ORDER BY 2 DESC, 1", visible)) {
      auto* c = out.add_talks_by_kind();
      c->set_key(r[0].as<std::string>());
      c->set_count(r[1].as<int64_t>());
    }
    for (auto& k : campaigns_.Select(tx, "$1::uuid IS NULL OR scope_unit_ids && " + db::UnitsBelow("$1"), {visible},
                                     "ORDER BY created_us DESC LIMIT 20")) {
      Progress(tx, k.doc);
      auto* c = out.add_coverage();
      c->set_campaign_id(k.doc.id());
      c->set_name(k.doc.name());
      c->set_people(k.doc.people());
      c->set_screened(k.doc.screened());
      c->set_share(k.doc.share());
    }
    for (const auto& r : tx.exec_params(
             "SELECT unit_id::text, CASE WHEN score < 20 THEN '0-20' WHEN score < 40 THEN '20-40' WHEN score < 60 "
             "THEN '40-60' WHEN score < 80 THEN '60-80' ELSE '80-100' END, count(*) FROM person_scores "
             "WHERE unit_id IS NOT NULL AND " +
                 in_scope + " GROUP BY 1, 2 ORDER BY 1, 2",
             visible)) {
      auto* b = out.add_score_bands();
      b->set_unit_id(r[0].as<std::string>());
      b->set_band(r[1].as<std::string>());
      b->set_people(r[2].as<int64_t>());
    }
    pqxx::row n =
        tx.exec_params1("SELECT count(*), count(*) FILTER (WHERE above) FROM person_scores WHERE " + in_scope, visible);
    out.set_people_scored(n[0].as<int64_t>());
    out.set_people_above(n[1].as<int64_t>());
    return absl::OkStatus();
  });
}

absl::StatusOr<std::pair<std::vector<v1::RiskItem>, std::vector<v1::TalkRecord>>> PgStore::PersonRecords(
    const std::string& person_id, int limit) {
  using Out = std::pair<std::vector<v1::RiskItem>, std::vector<v1::TalkRecord>>;
  return Read<Out>(*pool_, [&](Tx& tx, Out& out) -> absl::Status {
    const int64_t now_us = NowMicros(clock_);
    for (auto& it : items_.Select(tx, "person_id = $1::uuid", {person_id},
                                  "ORDER BY created_us DESC LIMIT " + std::to_string(limit))) {
      risk::MarkOverdue(it.doc, now_us);
      out.first.push_back(std::move(it.doc));
    }
    for (auto& t : talks_.Select(tx, "person_id = $1::uuid", {person_id},
                                 "ORDER BY held_us DESC LIMIT " + std::to_string(limit))) {
      OpenSummary(t.doc);
      out.second.push_back(std::move(t.doc));
    }
    return absl::OkStatus();
  });
}

}  // namespace sm::risk
