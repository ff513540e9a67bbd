// risk-service's store, part 1: the documents (common/doc_table.h), the facts a step reads,
// the one walk and its write, and the overdue scan. pg_store_signals.cc: signals and scores;
// pg_store_reads.cc: the reads.
#include "services/risk/pg_store.h"

#include <algorithm>

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
  std::optional<Doc<v1::TalkRecord>> sealed;
  if (c.talk) {
    sealed = *c.talk;
    sealed->stored.doc.set_summary(Seal(sealed->stored.doc.id(), sealed->stored.doc.summary()));
  }
  docs::ChangeWriter writer;
  auto add = [&](const auto& table, auto& doc) {
    writer.Add(table, doc.stored,
               doc.insert    ? docs::RowWrite::kInsert
               : doc.changed ? docs::RowWrite::kUpdate
                             : docs::RowWrite::kNone);
  };
  if (c.point) add(points_, *c.point);
  if (c.campaign) add(campaigns_, *c.campaign);
  if (c.item) add(items_, *c.item);
  if (c.score) add(scores_, *c.score);
  if (sealed) add(talks_, *sealed);
  std::vector<std::pair<std::string, events::Payload>> events;
  for (const Event& ev : c.events) events.emplace_back(ev.aggregate_id, events::MustEncode(ev.event));
  writer.Write(tx, log_, events, actor, at_us);
  if (sealed) {
    c.talk->stored.chain_len = sealed->stored.chain_len;
    c.talk->stored.chain_head = sealed->stored.chain_head;
  }
  if (c.screening) {
    const v1::Screening& s = *c.screening;
    tx.exec_params(
        "INSERT INTO screenings (campaign_id, person_id, unit_id, outcome, note, screened_by, at_us, risk_item_id) "
        "VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6, $7::bigint, $8::uuid)",
        s.campaign_id(), s.person_id(), s.unit_id(), v1::ScreeningOutcome_Name(s.outcome()), s.note(), s.screened_by(),
        db::Micros(s.at()), Opt(s.risk_item_id()));
  }
  if (c.signal) SM_RETURN_IF_ERROR(AddSignal(tx, *c.signal, actor, at_us));
  return absl::OkStatus();
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

}  // namespace sm::risk
