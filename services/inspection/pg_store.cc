#include "services/inspection/pg_store.h"

#include <algorithm>

#include "common/db/sql.h"
#include "common/event_payload.h"
#include "common/outbox.h"
#include "common/log.h"
#include "common/rectification_store.h"
#include "common/status.h"

namespace sm::inspection {
namespace {

using db::Tx;
using docs::OptStr;

OptStr Num(int64_t n) { return std::to_string(n); }
OptStr Opt(const std::string& s) { return s.empty() ? OptStr() : OptStr(s); }

// The inspections a unit may be shown (conducts, or targets it or a unit below it), as a
// condition on an inspections row aliased `i`, `param` being the unit.
std::string InspectionVisible(const std::string& param) {
  return "(i.inspection_unit_id = " + param + "::uuid OR i.target_unit_ids && " + db::UnitsBelow(param) + ")";
}

void AddPage(db::Where& w, const std::optional<paging::TimeId>& after, const std::string& alias) {
  if (after) {
    w.Add("(" + alias + "created_us, " + alias + "id) > (?::bigint, ?::uuid)",
          {std::to_string(after->first), after->second});
  }
}

}  // namespace

PgStore::PgStore(db::Pool* pool, const Clock& clock)
    : pool_(pool),
      clock_(clock),
      templates_("templates", "sm-inspection-template-v1", {{"code", "?"}, {"version", "?::integer"}},
                 [](const v1::ChecklistTemplate& t) {
                   return std::vector<OptStr>{t.code(), Num(t.version())};
                 }),
      inspections_("inspections", "sm-inspection-v1",
                   {{"number", "?"},
                    {"kind", "?"},
                    {"state", "?"},
                    {"inspection_unit_id", "?::uuid"},
                    {"target_unit_ids", "?::uuid[]"},
                    {"created_us", "?::bigint"}},
                   [](const v1::Inspection& in) {
                     return std::vector<OptStr>{in.number(),
                                                v1::InspectionKind_Name(in.kind()),
                                                v1::InspectionState_Name(in.state()),
                                                in.inspection_unit_id(),
                                                db::TextArrayLiteral(in.target_unit_ids()),
                                                Num(db::Micros(in.created_at()))};
                   }),
      findings_("findings", "sm-inspection-finding-v1",
                {{"inspection_id", "?::uuid"},
                 {"subject_unit_id", "?::uuid"},
                 {"category", "?"},
                 {"clue_id", "?::uuid"},
                 {"created_us", "?::bigint"},
                 {"subject_person_id", "?::uuid"}},
                [](const v1::InspectionFinding& f) {
                  return std::vector<OptStr>{f.inspection_id(),
                                             f.subject_unit_id(),
                                             v1::InspectionFindingCategory_Name(f.category()),
                                             Opt(f.referral().clue_id()),
                                             Num(db::Micros(f.created_at())),
                                             Opt(f.subject_person_id())};
                }),
      measures_("measures", "sm-inspection-measure-v1",
                {{"inspection_id", "?::uuid"},
                 {"person_id", "?::uuid"},
                 {"unit_id", "?::uuid"},
                 {"kind", "?"},
                 {"state", "?"},
                 {"ends_us", "?::bigint"},
                 {"created_us", "?::bigint"}},
                [](const v1::Measure& m) {
                  return std::vector<OptStr>{m.inspection_id(),
                                             m.person_id(),
                                             m.unit_id(),
                                             v1::MeasureKind_Name(m.kind()),
                                             v1::MeasureState_Name(m.state()),
                                             m.has_ends_at() ? Num(db::Micros(m.ends_at())) : OptStr(),
                                             Num(db::Micros(m.created_at()))};
                }),
      checks_("accountability_checks", "sm-inspection-accountability-v1",
              {{"clue_id", "?::uuid"},
               {"duty", "?"},
               {"owner_unit_id", "?::uuid"},
               {"leader_person_id", "?::uuid"},
               {"subject_unit_id", "?::uuid"},
               {"outcome", "?"},
               {"deadline_us", "?::bigint"},
               {"referral_clue_id", "?::uuid"},
               {"created_us", "?::bigint"}},
              [](const v1::AccountabilityCheck& k) {
                return std::vector<OptStr>{k.clue_id(),
                                           v1::LeaderDuty_Name(k.duty()),
                                           k.owner_unit_id(),
                                           Opt(k.leader_person_id()),
                                           k.subject_unit_id(),
                                           v1::AccountabilityOutcome_Name(k.outcome()),
                                           Num(db::Micros(k.deadline_at())),
                                           Opt(k.referral().clue_id()),
                                           Num(db::Micros(k.created_at()))};
              }),
      chain_(
          chain::Anchor("inspection-service", "inspection_anchor", "inspection_chains", "inspection_events",
                        "aggregate_id"),
          pool, clock, &log_, "inspection, finding, measure or template",
          [this](Tx& tx, const std::string& id) -> absl::StatusOr<std::optional<chain::Evidence>> {
            auto rows = Evidence(tx, id);
            if (rows.empty()) return std::optional<chain::Evidence>();
            chain::Evidence e = std::move(rows.begin()->second);
            SM_ASSIGN_OR_RETURN(auto history, log_.Read(tx, id));
            e.events = std::move(history.events);
            return std::optional<chain::Evidence>(std::move(e));
          },
          [this](Tx& tx) { return Evidence(tx, std::nullopt); }) {}

// ---- documents and their digests ----

std::string PgStore::FindingDigest(const StoredFinding& f) const {
  chain::StateDigester d("sm-inspection-finding-state-v1");
  d.Add(findings_.Digest(f.finding.doc));
  d.Add(std::to_string(f.rectifications.size()));
  for (const auto& x : f.rectifications) rectification::AddToDigest(d, x.rectification);
  return d.Hex();
}

std::map<std::string, chain::Evidence> PgStore::Evidence(Tx& tx, const std::optional<std::string>& id) const {
  std::map<std::string, chain::Evidence> out = templates_.table().Evidence(tx, id);
  out.merge(inspections_.table().Evidence(tx, id));
  out.merge(measures_.table().Evidence(tx, id));
  out.merge(checks_.table().Evidence(tx, id));
  // A finding's digest covers its rectifications, read as stored.
  std::map<std::string, std::vector<pqxx::row>> rects;
  pqxx::result rows = tx.exec_params("SELECT " + rectification::StateColumns() +
                                         " FROM rectifications WHERE $1::uuid IS NULL OR finding_id = $1::uuid"
                                         " ORDER BY finding_id, id",
                                     id);
  for (const auto& r : rows) rects[r[0].as<std::string>()].push_back(r);
  for (auto& [fid, e] : findings_.table().Evidence(tx, id)) {
    chain::StateDigester d("sm-inspection-finding-state-v1");
    d.Add(*e.state_digest);
    const auto& own = rects[fid];
    d.Add(std::to_string(own.size()));
    for (const pqxx::row& x : own) rectification::AddStoredToDigest(d, x);
    e.state_digest = d.Hex();
    out.emplace(fid, std::move(e));
  }
  return out;
}

std::optional<StoredFinding> PgStore::LoadFinding(Tx& tx, const std::string& id, bool lock) const {
  auto f = findings_.Load(tx, id, lock);
  if (!f) return std::nullopt;
  StoredFinding out{*std::move(f), {}};
  for (const auto& r : tx.exec_params(
           "SELECT " + rectification::Columns() + " FROM rectifications WHERE finding_id = $1::uuid ORDER BY id", id)) {
    v1::Rectification x = rectification::FromRow(r);
    const int64_t created = db::Micros(x.created_at());
    out.rectifications.push_back({std::move(x), created});
  }
  out.Count();
  return out;
}

// ---- one walk ----

absl::StatusOr<Current> PgStore::LoadFor(Tx& tx, const StepRequest& r) const {
  Current c;
  c.now_us = NowMicros(clock_);  // the service clock, as deadlines and overdue use
  const std::string& target = TargetOf(r);
  auto load_inspection = [&](const std::string& id, bool lock) -> absl::Status {
    auto in = inspections_.Load(tx, id, lock);
    if (!in) return absl::NotFoundError("inspection not found");
    c.inspection = *std::move(in);
    return absl::OkStatus();
  };
  switch (LoadsOf(r)) {
    case Loads::kTemplate: {
      // Publishers of one code wait for each other: the next version is the latest + 1.
      tx.exec_params("SELECT pg_advisory_xact_lock(hashtext('inspection-template:' || $1))", target);
      auto t = templates_.Select(tx, "code = $1", {target}, "ORDER BY version DESC LIMIT 1");
      if (!t.empty()) c.latest_template = t[0].doc;
      return c;
    }
    case Loads::kNewInspection: {
      const auto& req = std::get<v1::CreateInspectionRequest>(r);
      auto t = req.template_version() == 0
                   ? templates_.Select(tx, "code = $1", {target}, "ORDER BY version DESC LIMIT 1")
                   : templates_.Select(tx, "code = $1 AND version = $2::integer",
                                       {target, std::to_string(req.template_version())});
      if (!t.empty()) c.template_version = t[0].doc;
      c.sequence = tx.exec1("SELECT nextval('inspection_number_seq')")[0].as<int64_t>();
      return c;
    }
    case Loads::kInspection: {
      SM_RETURN_IF_ERROR(load_inspection(target, true));
      if (std::holds_alternative<v1::AddInspectionFindingRequest>(r)) {
        // Counted once the inspection is locked: whoever held the lock before has committed.
        c.finding_ordinal =
            tx.exec_params1("SELECT count(*) + 1 FROM findings WHERE inspection_id = $1::uuid", target)[0]
                .as<int64_t>();
      }
      return c;
    }
    case Loads::kMeasure: {
      auto m = measures_.Load(tx, target, true);
      if (!m) return absl::NotFoundError("measure not found");
      c.measure = *std::move(m);
      SM_RETURN_IF_ERROR(load_inspection(c.measure->doc.inspection_id(), false));
      return c;
    }
    case Loads::kCheck: {
      auto k = checks_.Load(tx, target, true);
      if (!k) return absl::NotFoundError("accountability check not found");
      c.check = *std::move(k);
      return c;
    }
    case Loads::kFinding:
    case Loads::kRectification: {
      std::string finding_id = target;
      if (LoadsOf(r) == Loads::kRectification) {
        pqxx::result f = tx.exec_params("SELECT finding_id::text FROM rectifications WHERE id = $1::uuid", target);
        if (f.empty()) return absl::NotFoundError("rectification not found");
        finding_id = f[0][0].as<std::string>();
      }
      c.finding = LoadFinding(tx, finding_id, true);
      if (!c.finding) return absl::NotFoundError("finding not found");
      SM_RETURN_IF_ERROR(load_inspection(c.finding->finding.doc.inspection_id(), false));
      return c;
    }
  }
  return absl::InternalError("unknown step");
}

absl::Status PgStore::Write(Tx& tx, Change& c, const events::Actor& actor, int64_t at_us) const {
  if (c.command && c.command->retry) {
    if (!outbox::Requeue(tx, "inspection", c.command->dedupe_key)) {
      return absl::FailedPreconditionError("the referral command is not parked as dead");
    }
  } else if (c.command) {
    outbox::Enqueue(tx, "inspection", referral::kCommandKind, c.command->dedupe_key, c.command->payload);
  }
  // Each event commits to its document as the change leaves it (a finding: with its
  // rectifications, FindingDigest).
  docs::ChangeWriter writer;
  if (c.template_doc) writer.Add(templates_, *c.template_doc, docs::RowWrite::kInsert);
  if (c.inspection) writer.Add(inspections_, *c.inspection, c.inspection_row);
  if (c.finding) writer.Add(findings_, c.finding->finding, c.finding_row, [&] { return FindingDigest(*c.finding); });
  if (c.measure) writer.Add(measures_, *c.measure, c.measure_row);
  if (c.check) writer.Add(checks_, *c.check, c.check_row);
  std::vector<std::pair<std::string, events::Payload>> events;
  for (const Event& ev : c.events) events.emplace_back(ev.aggregate_id, events::MustEncode(ev.event));
  writer.Write(tx, log_, events, actor, at_us);
  if (c.rectification_row != Change::Row::kNone) {
    const StoredRectification* x = c.finding ? c.finding->Find(c.rectification_id) : nullptr;
    if (!x) throw std::logic_error("rectification the change does not hold: " + c.rectification_id);
    if (c.rectification_row == Change::Row::kInsert) {
      rectification::Insert(tx, x->rectification);
    } else {
      rectification::Update(tx, x->rectification);
    }
  }
  return absl::OkStatus();
}

template <typename Reply>
absl::StatusOr<Reply> PgStore::Step(const StepRequest& request, const auth::Principal& caller, StepFacts facts,
                                    const Rules& rules, const db::Idempotency::Key& key) {
  const events::Actor actor{caller.EndUser(), caller.unit};
  return idempotency_.Write<Reply>(
      *pool_, key,
      [&](Tx& tx, Reply& out) -> absl::Status {
        SM_ASSIGN_OR_RETURN(Current current, LoadFor(tx, request));
        // Where the inspection's target units sit, for the caller's relation to them.
        if (current.inspection) {
          for (const auto& t : current.inspection->doc.target_unit_ids()) {
            SM_ASSIGN_OR_RETURN(auto unit, Known(directory_.Unit(t, &tx)));
            if (unit) facts.ancestry[t] = unit->ancestors;
          }
        }
        auto more = [&](const std::string& unit_id) -> absl::Status {
          if (unit_id.empty() || facts.ancestry.count(unit_id)) return absl::OkStatus();
          SM_ASSIGN_OR_RETURN(auto unit, Known(directory_.Unit(unit_id, &tx)));
          if (unit) facts.ancestry[unit_id] = unit->ancestors;
          return absl::OkStatus();
        };
        if (current.finding) SM_RETURN_IF_ERROR(more(current.finding->finding.doc.subject_unit_id()));
        // A rectification without an owner is owned by the finding's subject unit, read here
        // with the finding it belongs to.
        if (const auto* add = std::get_if<v1::AddRectificationRequest>(&request);
            add && add->owner_unit_id().empty() && current.finding) {
          const std::string& unit = current.finding->finding.doc.subject_unit_id();
          SM_ASSIGN_OR_RETURN(auto info, Known(directory_.Unit(unit, &tx)));
          if (info) facts.units.emplace(unit, *std::move(info));
        }
        if (current.measure) SM_RETURN_IF_ERROR(more(current.measure->doc.unit_id()));
        if (current.check) {
          SM_RETURN_IF_ERROR(more(current.check->doc.owner_unit_id()));
          SM_RETURN_IF_ERROR(more(caller.unit));
        }
        if (current.finding) {
          for (const auto& x : current.finding->rectifications)
            SM_RETURN_IF_ERROR(more(x.rectification.owner_unit_id()));
        }
        SM_ASSIGN_OR_RETURN(Change change, Decide(current, caller, request, facts, rules));
        SM_RETURN_IF_ERROR(Write(tx, change, actor, NowMicros(clock_)));
        FillReply(change, &out);
        return absl::OkStatus();
      },
      [this] { stats_version_.Changed(); });
}

template absl::StatusOr<v1::TemplateReply> PgStore::Step(const StepRequest&, const auth::Principal&, StepFacts,
                                                         const Rules&, const db::Idempotency::Key&);
template absl::StatusOr<v1::InspectionReply> PgStore::Step(const StepRequest&, const auth::Principal&, StepFacts,
                                                           const Rules&, const db::Idempotency::Key&);
template absl::StatusOr<v1::InspectionFindingReply> PgStore::Step(const StepRequest&, const auth::Principal&, StepFacts,
                                                                  const Rules&, const db::Idempotency::Key&);
template absl::StatusOr<v1::MeasureReply> PgStore::Step(const StepRequest&, const auth::Principal&, StepFacts,
                                                        const Rules&, const db::Idempotency::Key&);
template absl::StatusOr<v1::AccountabilityCheckReply> PgStore::Step(const StepRequest&, const auth::Principal&,
                                                                    StepFacts, const Rules&,
                                                                    const db::Idempotency::Key&);
template absl::StatusOr<v1::RectificationReply> PgStore::Step(const StepRequest&, const auth::Principal&, StepFacts,
                                                              const Rules&, const db::Idempotency::Key&);

// ---- reads ----

using db::Read;

absl::StatusOr<v1::ChecklistTemplate> PgStore::GetTemplate(const std::string& code, int version) {
  return Read<v1::ChecklistTemplate>(*pool_, [&](Tx& tx, v1::ChecklistTemplate& out) {
    auto t = version == 0 ? templates_.Select(tx, "code = $1", {code}, "ORDER BY version DESC LIMIT 1")
                          : templates_.Select(tx, "code = $1 AND version = $2::integer", {code, Num(version)});
    if (t.empty()) return absl::NotFoundError("checklist template not found");
    out = std::move(t[0].doc);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<v1::ChecklistTemplate>> PgStore::ListTemplates(const std::optional<std::string>& after_code,
                                                                          int limit) {
  return Read<std::vector<v1::ChecklistTemplate>>(*pool_, [&](Tx& tx, std::vector<v1::ChecklistTemplate>& out) {
    auto rows = templates_.Select(tx,
                                  "(code, version) IN (SELECT code, max(version) FROM templates GROUP BY code) AND "
                                  "($1::text IS NULL OR code > $1)",
                                  {after_code}, "ORDER BY code LIMIT " + std::to_string(limit));
    for (auto& r : rows) {
      r.doc.clear_aspects();
      out.push_back(std::move(r.doc));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::Inspection> PgStore::GetInspection(const std::string& id) {
  return Read<v1::Inspection>(*pool_, [&](Tx& tx, v1::Inspection& out) {
    auto in = inspections_.Load(tx, id, false);
    if (!in) return absl::NotFoundError("inspection not found");
    out = std::move(in->doc);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<v1::Inspection>> PgStore::ListInspections(const v1::ListInspectionsRequest& q,
                                                                     const Visible& visible,
                                                                     const std::optional<paging::TimeId>& after,
                                                                     int limit) {
  return Read<std::vector<v1::Inspection>>(*pool_, [&](Tx& tx, std::vector<v1::Inspection>& out) {
    db::Where w;
    if (visible) w.Add(InspectionVisible("?"), {*visible, *visible});
    if (q.kind() != v1::INSPECTION_KIND_UNSPECIFIED) w.Add("i.kind = ?", {v1::InspectionKind_Name(q.kind())});
    if (q.state() != v1::INSPECTION_STATE_UNSPECIFIED) w.Add("i.state = ?", {v1::InspectionState_Name(q.state())});
    if (!q.target_unit_id().empty()) w.Add("? ::uuid = ANY (i.target_unit_ids)", {q.target_unit_id()});
    AddPage(w, after, "i.");
    // The documents' own table is aliased `i` through a sub-select.
    auto rows = inspections_.Select(tx, "id IN (SELECT i.id FROM inspections i WHERE " + w.Sql() + ")", w.params(),
                                    "ORDER BY created_us, id LIMIT " + std::to_string(limit));
    for (auto& r : rows) out.push_back(std::move(r.doc));
    return absl::OkStatus();
  });
}

absl::StatusOr<PgStore::FindingRecord> PgStore::FindingIn(Tx& tx, const std::string& id) const {
  auto f = LoadFinding(tx, id, false);
  if (!f) return absl::NotFoundError("finding not found");
  auto in = inspections_.Load(tx, f->finding.doc.inspection_id(), false);
  if (!in) return absl::InternalError("finding without its inspection");
  return FindingRecord{std::move(f->finding.doc), std::move(in->doc)};
}

absl::StatusOr<PgStore::FindingRecord> PgStore::GetFinding(const std::string& id) {
  return Read<FindingRecord>(*pool_, [&](Tx& tx, FindingRecord& out) {
    SM_ASSIGN_OR_RETURN(out, FindingIn(tx, id));
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<PgStore::FindingRecord>> PgStore::ListFindings(const v1::ListInspectionFindingsRequest& q,
                                                                          const Visible& visible,
                                                                          const std::optional<paging::TimeId>& after,
                                                                          int limit) {
  return Read<std::vector<FindingRecord>>(*pool_, [&](Tx& tx, std::vector<FindingRecord>& out) {
    db::Where w;
    if (visible) {
      w.Add("(f.subject_unit_id = ANY (" + db::UnitsBelow("?") +
                ") OR EXISTS (SELECT 1 FROM inspections i WHERE i.id = f.inspection_id AND i.inspection_unit_id = "
                "?::uuid))",
            {*visible, *visible});
    }
    if (!q.inspection_id().empty()) w.Add("f.inspection_id = ?::uuid", {q.inspection_id()});
    if (!q.subject_unit_id().empty()) w.Add("f.subject_unit_id = ?::uuid", {q.subject_unit_id()});
    if (!q.subject_person_id().empty()) w.Add("f.subject_person_id = ?::uuid", {q.subject_person_id()});
    if (q.category() != v1::INSPECTION_FINDING_CATEGORY_UNSPECIFIED) {
      w.Add("f.category = ?", {v1::InspectionFindingCategory_Name(q.category())});
    }
    AddPage(w, after, "f.");
    auto rows = findings_.Select(tx, "id IN (SELECT f.id FROM findings f WHERE " + w.Sql() + ")", w.params(),
                                 "ORDER BY created_us, id LIMIT " + std::to_string(limit));
    // The counts of their rectifications, as a Get gives them, in one statement.
    std::vector<std::string> ids;
    for (const auto& r : rows) ids.push_back(r.doc.id());
    std::map<std::string, std::pair<int, int>> counts;
    for (const auto& n :
         tx.exec_params("SELECT finding_id::text, count(*) FILTER (WHERE state <> 'RECTIFICATION_STATE_SIGNED_OFF'), "
                        "count(*) FILTER (WHERE state = 'RECTIFICATION_STATE_SIGNED_OFF') FROM rectifications "
                        "WHERE finding_id = ANY ($1::uuid[]) GROUP BY 1",
                        db::TextArrayLiteral(ids))) {
      counts[n[0].as<std::string>()] = {n[1].as<int>(), n[2].as<int>()};
    }
    std::map<std::string, v1::Inspection> inspections;
    for (auto& r : rows) {
      auto it = inspections.find(r.doc.inspection_id());
      if (it == inspections.end()) {
        auto in = inspections_.Load(tx, r.doc.inspection_id(), false);
        if (!in) return absl::InternalError("finding without its inspection");
        it = inspections.emplace(r.doc.inspection_id(), std::move(in->doc)).first;
      }
      const auto [open, signed_off] = counts[r.doc.id()];
      r.doc.set_rectifications_open(open);
      r.doc.set_rectifications_signed_off(signed_off);
      out.push_back({std::move(r.doc), it->second});
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<PgStore::MeasureRecord> PgStore::GetMeasure(const std::string& id) {
  return Read<MeasureRecord>(*pool_, [&](Tx& tx, MeasureRecord& out) {
    auto m = measures_.Load(tx, id, false);
    if (!m) return absl::NotFoundError("measure not found");
    auto in = inspections_.Load(tx, m->doc.inspection_id(), false);
    if (!in) return absl::InternalError("measure without its inspection");
    out = {std::move(m->doc), std::move(in->doc)};
    out.measure.set_overdue(IsOverdue(out.measure, clock_.Now()));
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<PgStore::MeasureRecord>> PgStore::ListMeasures(const v1::ListMeasuresRequest& q,
                                                                          const Visible& visible,
                                                                          const std::optional<paging::TimeId>& after,
                                                                          int limit) {
  const int64_t now_us = NowMicros(clock_);
  return Read<std::vector<MeasureRecord>>(*pool_, [&](Tx& tx, std::vector<MeasureRecord>& out) {
    db::Where w;
    if (visible) {
      w.Add("(m.unit_id = ANY (" + db::UnitsBelow("?") +
                ") OR EXISTS (SELECT 1 FROM inspections i WHERE i.id = m.inspection_id AND i.inspection_unit_id = "
                "?::uuid))",
            {*visible, *visible});
    }
    if (!q.inspection_id().empty()) w.Add("m.inspection_id = ?::uuid", {q.inspection_id()});
    if (!q.person_id().empty()) w.Add("m.person_id = ?::uuid", {q.person_id()});
    if (!q.unit_id().empty()) w.Add("m.unit_id = ?::uuid", {q.unit_id()});
    if (q.state() != v1::MEASURE_STATE_UNSPECIFIED) w.Add("m.state = ?", {v1::MeasureState_Name(q.state())});
    if (q.overdue_only()) {
      w.Add("m.state = 'MEASURE_STATE_IN_FORCE' AND m.ends_us < ?::bigint", {std::to_string(now_us)});
    }
    AddPage(w, after, "m.");
    auto rows = measures_.Select(tx, "id IN (SELECT m.id FROM measures m WHERE " + w.Sql() + ")", w.params(),
                                 "ORDER BY created_us, id LIMIT " + std::to_string(limit));
    std::map<std::string, v1::Inspection> inspections;
    for (auto& r : rows) {
      auto it = inspections.find(r.doc.inspection_id());
      if (it == inspections.end()) {
        auto in = inspections_.Load(tx, r.doc.inspection_id(), false);
        if (!in) return absl::InternalError("measure without its inspection");
        it = inspections.emplace(r.doc.inspection_id(), std::move(in->doc)).first;
      }
      r.doc.set_overdue(IsOverdue(r.doc, FromUnixMicros(now_us)));
      out.push_back({std::move(r.doc), it->second});
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<PgStore::RectificationRecord> PgStore::GetRectification(const std::string& id) {
  SM_ASSIGN_OR_RETURN(v1::Rectification x, Read<v1::Rectification>(*pool_, [&](Tx& tx, v1::Rectification& out) {
                        auto got = rectification::Get(tx, id);
                        if (!got) return absl::NotFoundError("rectification not found");
                        out = std::move(*got);
                        return absl::OkStatus();
                      }));
  SM_ASSIGN_OR_RETURN(FindingRecord f, GetFinding(x.finding_id()));
  return RectificationRecord{std::move(x), std::move(f)};
}

absl::StatusOr<std::vector<PgStore::RectificationRecord>> PgStore::ListRectifications(
    const v1::ListRectificationsRequest& q, const Visible& visible, const std::optional<paging::TimeId>& after,
    int limit) {
  return Read<std::vector<RectificationRecord>>(*pool_, [&](Tx& tx, std::vector<RectificationRecord>& out) {
    rectification::ListQuery query;
    if (visible) {
      query.visible = rectification::ListQuery::VisibleTo{
          *visible,
          "EXISTS (SELECT 1 FROM findings f JOIN inspections i ON i.id = f.inspection_id WHERE f.id = "
          "x.finding_id AND (i.inspection_unit_id = ?::uuid OR f.subject_unit_id = ANY (" +
              db::UnitsBelow("?") + ")))"};
    }
    query.after = after;
    query.limit = limit;
    // Each row with its finding and inspection, read once each, in the list's snapshot.
    std::map<std::string, FindingRecord> findings;
    for (auto& x : rectification::List(tx, q, query)) {
      auto it = findings.find(x.finding_id());
      if (it == findings.end()) {
        SM_ASSIGN_OR_RETURN(FindingRecord f, FindingIn(tx, x.finding_id()));
        it = findings.emplace(x.finding_id(), std::move(f)).first;
      }
      out.push_back({std::move(x), it->second});
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<int> PgStore::MarkOverdue(TimePoint now) {
  int marked = 0;
  SM_RETURN_IF_ERROR(db::WithTransaction(*pool_, [&](Tx& tx) -> absl::Status {
    if (!tx.exec1("SELECT pg_try_advisory_xact_lock(hashtext('inspection-overdue-scan'))")[0].as<bool>()) {
      return absl::OkStatus();
    }
    const events::Actor actor{"inspection-service", ""};
    SM_ASSIGN_OR_RETURN(
        marked, rectification::EscalateDue(
                    tx, now, [&](const std::string& id) { return LoadFinding(tx, id, true); },
                    [&](const StoredFinding& f, const std::string& id) -> absl::StatusOr<std::optional<StoredFinding>> {
                      std::optional<Change> c = EscalateOverdue(f, id, now);
                      if (!c) return std::nullopt;
                      SM_RETURN_IF_ERROR(Write(tx, *c, actor, ToUnixMicros(now)));
                      return std::move(c->finding);
                    }));
    return absl::OkStatus();
  }));
  if (marked > 0) stats_version_.Changed();
  return marked;
}

// ---- statistics ----

absl::StatusOr<v1::InspectionStats> PgStore::Stats(const std::optional<std::string>& unit_id) {
  const int64_t now_us = NowMicros(clock_);
  return Read<v1::InspectionStats>(*pool_, [&](Tx& tx, v1::InspectionStats& out) {
    // The inspections in scope, and their findings.
    const std::string scope =
        "WITH scope AS (SELECT id, body, kind, state FROM inspections i WHERE $1::uuid IS NULL OR "
        "i.inspection_unit_id = $1::uuid OR i.target_unit_ids && " +
        db::UnitsBelow("$1") + "), fscope AS (SELECT f.* FROM findings f JOIN scope s ON s.id = f.inspection_id) ";
    auto counts = [&](const std::string& select, auto* field) {
      for (const auto& r : tx.exec_params(scope + select, unit_id)) {
        auto* c = field->Add();
        c->set_key(r[0].is_null() ? "" : r[0].as<std::string>());
        c->set_count(r[1].as<int64_t>());
      }
    };
    out.set_inspections(tx.exec_params1(scope + "SELECT count(*) FROM scope", unit_id)[0].as<int64_t>());
    counts("SELECT kind, count(*) FROM scope GROUP BY 1 ORDER BY 2 DESC, 1", out.mutable_by_kind());
    counts("SELECT state, count(*) FROM scope GROUP BY 1 ORDER BY 2 DESC, 1", out.mutable_by_state());
    out.set_findings(tx.exec_params1(scope + "SELECT count(*) FROM fscope", unit_id)[0].as<int64_t>());
    counts("SELECT category, count(*) FROM fscope GROUP BY 1 ORDER BY 2 DESC, 1", out.mutable_findings_by_category());
    counts("SELECT subject_unit_id::text, count(*) FROM fscope GROUP BY 1 ORDER BY 2 DESC, 1",
           out.mutable_findings_by_unit());
    counts(
        "SELECT to_char(to_timestamp(created_us / 1e6) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM'), count(*) "
        "FROM fscope GROUP BY 1 ORDER BY 1",
        out.mutable_findings_by_month());
    // Conformity, per template and per aspect, from the checklists in scope.
    std::map<std::string, v1::ConformityRate> by_template, by_aspect;
    for (const auto& r : tx.exec_params(scope + "SELECT body FROM scope", unit_id)) {
      v1::Inspection in;
      if (!in.ParseFromString(pqxx::binarystring(r[0]).str())) return absl::InternalError("unreadable inspection");
      for (const auto& e : in.checklist()) {
        for (auto* rate : {&by_template[in.template_code()], &by_aspect[in.template_code() + "/" + e.aspect_code()]}) {
          if (e.mark() == v1::ITEM_MARK_CONFORMING) rate->set_conforming(rate->conforming() + 1);
          if (e.mark() == v1::ITEM_MARK_NON_CONFORMING) rate->set_non_conforming(rate->non_conforming() + 1);
          if (e.mark() == v1::ITEM_MARK_NOT_APPLICABLE) rate->set_not_applicable(rate->not_applicable() + 1);
        }
        by_aspect[in.template_code() + "/" + e.aspect_code()].set_label(e.aspect_title());
      }
    }
    for (auto* m : {&by_template, &by_aspect}) {
      for (auto& [key, rate] : *m) {
        rate.set_key(key);
        if (rate.label().empty()) rate.set_label(key);
        const int64_t judged = rate.conforming() + rate.non_conforming();
        rate.set_rate(judged == 0 ? 0.0 : static_cast<double>(rate.conforming()) / judged);
        *(m == &by_template ? out.add_by_template() : out.add_by_aspect()) = rate;
      }
    }
    // Measures on the inspections in scope.
    pqxx::row m =
        tx.exec_params1(scope +
                            "SELECT count(*) FILTER (WHERE m.state = 'MEASURE_STATE_IN_FORCE'), "
                            "count(*) FILTER (WHERE m.state = 'MEASURE_STATE_IN_FORCE' AND m.ends_us < $2::bigint) "
                            "FROM measures m JOIN scope s ON s.id = m.inspection_id",
                        unit_id, now_us);
    out.set_measures_in_force(m[0].as<int64_t>());
    out.set_measures_overdue(m[1].as<int64_t>());
    for (const auto& r : tx.exec_params(scope + "SELECT m.kind, count(*) FROM measures m JOIN scope s ON s.id = "
                                                "m.inspection_id GROUP BY 1 ORDER BY 2 DESC, 1",
                                        unit_id)) {
      auto* c = out.add_measures_by_kind();
      c->set_key(r[0].as<std::string>());
      c->set_count(r[1].as<int64_t>());
    }
    *out.mutable_rectification() = rectification::Stats(tx, scope, "SELECT id FROM fscope", {unit_id});
    out.set_findings_referred(
        tx.exec_params1(scope + "SELECT count(*) FROM fscope WHERE clue_id IS NOT NULL", unit_id)[0].as<int64_t>());
    // 一案双查: the checks on violations found in the scope's units.
    const std::string checks =
        "FROM accountability_checks k WHERE $1::uuid IS NULL OR k.subject_unit_id = ANY (" + db::UnitsBelow("$1") + ")";
    pqxx::row a = tx.exec_params1(
        "SELECT count(*), count(*) FILTER (WHERE outcome = 'ACCOUNTABILITY_OUTCOME_UNSPECIFIED'), "
        "count(*) FILTER (WHERE outcome = 'ACCOUNTABILITY_OUTCOME_UNSPECIFIED' AND deadline_us < $2::bigint) " +
            checks,
        unit_id, now_us);
    out.set_accountability_checks(a[0].as<int64_t>());
    out.set_accountability_open(a[1].as<int64_t>());
    out.set_accountability_overdue(a[2].as<int64_t>());
    for (const auto& [column, field] : {std::pair{"outcome", out.mutable_accountability_by_outcome()},
                                        std::pair{"duty", out.mutable_accountability_by_duty()}}) {
      for (const auto& r : tx.exec_params(
               std::string("SELECT ") + column + ", count(*) " + checks + " GROUP BY 1 ORDER BY 2 DESC, 1", unit_id)) {
        auto* c = field->Add();
        c->set_key(r[0].as<std::string>());
        c->set_count(r[1].as<int64_t>());
      }
    }
    return absl::OkStatus();
  });
}

// ---- accountability checks ----

absl::StatusOr<v1::AccountabilityCheck> PgStore::GetCheck(const std::string& id) {
  return Read<v1::AccountabilityCheck>(*pool_, [&](Tx& tx, v1::AccountabilityCheck& out) {
    auto k = checks_.Load(tx, id, false);
    if (!k) return absl::NotFoundError("accountability check not found");
    out = std::move(k->doc);
    MarkCheckOverdue(out, clock_.Now());
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<v1::AccountabilityCheck>> PgStore::ListChecks(const v1::ListAccountabilityChecksRequest& q,
                                                                         const std::optional<paging::TimeId>& after,
                                                                         int limit) {
  const int64_t now_us = NowMicros(clock_);
  return Read<std::vector<v1::AccountabilityCheck>>(*pool_, [&](Tx& tx, std::vector<v1::AccountabilityCheck>& out) {
    db::Where w;
    if (!q.clue_id().empty()) w.Add("k.clue_id = ?::uuid", {q.clue_id()});
    if (!q.leader_person_id().empty()) w.Add("k.leader_person_id = ?::uuid", {q.leader_person_id()});
    if (!q.subject_unit_id().empty()) w.Add("k.subject_unit_id = ?::uuid", {q.subject_unit_id()});
    if (q.open_only() || q.overdue_only()) w.Add("k.outcome = 'ACCOUNTABILITY_OUTCOME_UNSPECIFIED'");
    if (q.overdue_only()) w.Add("k.deadline_us < ?::bigint", {std::to_string(now_us)});
    AddPage(w, after, "k.");
    for (auto& r : checks_.Select(tx, "id IN (SELECT k.id FROM accountability_checks k WHERE " + w.Sql() + ")",
                                  w.params(), "ORDER BY created_us, id LIMIT " + std::to_string(limit))) {
      MarkCheckOverdue(r.doc, FromUnixMicros(now_us));
      out.push_back(std::move(r.doc));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::string> PgStore::KindOf(const std::string& id) {
  return Read<std::string>(*pool_, [&](Tx& tx, std::string& out) {
    pqxx::result r = tx.exec_params(
        "SELECT 'template' FROM templates WHERE id = $1::uuid UNION ALL "
        "SELECT 'inspection' FROM inspections WHERE id = $1::uuid UNION ALL "
        "SELECT 'finding' FROM findings WHERE id = $1::uuid UNION ALL "
        "SELECT 'measure' FROM measures WHERE id = $1::uuid UNION ALL "
        "SELECT 'check' FROM accountability_checks WHERE id = $1::uuid",
        id);
    if (r.empty()) return absl::NotFoundError("not found");
    out = r[0][0].as<std::string>();
    return absl::OkStatus();
  });
}

// ---- the referral feed and 一案双查 ----

template <typename Apply>
absl::Status PgStore::OnReferred(Tx& tx, const std::string& kind, const std::string& item, Apply apply,
                                 const std::string& actor) {
  std::optional<Change> change;
  if (kind == "finding") {
    auto f = LoadFinding(tx, item, true);
    if (!f) return absl::OkStatus();
    change = apply(*f);
  } else if (kind == "check") {
    auto k = checks_.Load(tx, item, true);
    if (!k) return absl::OkStatus();
    change = apply(*std::move(k));
  } else {
    log::Warn("referral of an unknown kind", {{"kind", kind}});
    return absl::OkStatus();
  }
  if (!change) return absl::OkStatus();
  SM_RETURN_IF_ERROR(Write(tx, *change, events::Actor{actor, ""}, NowMicros(clock_)));
  stats_version_.Changed();
  return absl::OkStatus();
}

absl::Status PgStore::Delivered(Tx& tx, const std::string& kind, const std::string& item, const v1::ClueReply& reply) {
  return OnReferred(
      tx, kind, item,
      [&](const auto& x) { return LinkReferral(x, reply.clue().id(), reply.clue().number(), reply.clue().state()); },
      "system:outbox-relay");
}

absl::Status PgStore::Dead(Tx& tx, const std::string& kind, const std::string& item, const std::string& error) {
  return OnReferred(
      tx, kind, item, [&](const auto& x) { return std::optional<Change>(ReferralDead(x, error)); },
      "system:outbox-relay");
}

absl::Status PgStore::ApplyClueEvent(Tx& tx, const v1::ClueEvent& ev) {
  auto payload = events::Decode<v1::ClueEventPayload>(ev.type(), ev.data_json());
  if (!payload.ok()) {
    // A type this version does not know, or data it cannot read: counted and skipped, so
    // one event never stops the feed.
    events::Skip("inspection-clue-events", ev.type(), payload.status());
    return absl::OkStatus();
  }
  const std::string actor = "system:clue-events";
  if (payload->has_registered()) {
    // A referral of ours: the clue names the finding or check as its source.
    const v1::ClueRegistered& reg = payload->registered();
    if (reg.referral().system() != "inspection") return absl::OkStatus();
    const std::string& ref = reg.referral().ref();
    const bool finding = !tx.exec_params("SELECT 1 FROM findings WHERE id::text = $1", ref).empty();
    return OnReferred(
        tx, finding ? "finding" : "check", ref,
        [&](const auto& x) { return LinkReferral(x, ev.clue_id(), reg.number(), v1::CLUE_STATE_REGISTERED); }, actor);
  }
  // A referred clue's progress, onto the finding or check it came from.
  for (const auto& [kind, sql] :
       {std::pair<std::string, std::string>{"finding", "SELECT id::text FROM findings WHERE clue_id = $1::uuid"},
        std::pair<std::string, std::string>{
            "check", "SELECT id::text FROM accountability_checks WHERE referral_clue_id = $1::uuid"}}) {
    pqxx::result r = tx.exec_params(sql, ev.clue_id());
    if (r.empty()) continue;
    SM_RETURN_IF_ERROR(OnReferred(
        tx, kind, r[0][0].as<std::string>(),
        [&](const auto& x) { return FollowClue(x, *payload, ev.type(), ev.clue_id(), ev.seq()); }, actor));
  }
  // 一案双查: a confirmed violation, whatever the clue's source.
  if (std::optional<Violation> v = ViolationOf(ev.clue_id(), *payload)) return OpenChecks(tx, *v);
  return absl::OkStatus();
}

absl::Status PgStore::OpenChecks(Tx& tx, Violation v) {
  if (!rules_) return absl::FailedPreconditionError("accountability rules not set");
  // Exactly once per clue: a replay finds the checks there.
  if (!tx.exec_params("SELECT 1 FROM accountability_checks WHERE clue_id = $1::uuid LIMIT 1", v.clue_id).empty()) {
    return absl::OkStatus();
  }
  if (v.subject_unit_id.empty() || !v.subject_person_id.empty()) {
    SM_ASSIGN_OR_RETURN(std::optional<PersonInfo> who, Known(directory_.Person(v.subject_person_id, &tx)));
    if (who) v.subject_unit_id = who->unit_id;
  }
  if (v.subject_unit_id.empty()) {
    log::Warn("concluded violation without a known subject unit", {{"clue_id", v.clue_id}});
    return absl::OkStatus();
  }
  // The inspection unit of the subject's level: the nearest one at or beside a unit on the
  // way up from the subject (a branch's inspection team, else the bureau's corps).
  pqxx::result owner = tx.exec_params(
      "WITH RECURSIVE up AS (SELECT id, parent_id, 0 AS n FROM directory.v_units WHERE id = $1::uuid "
      "  UNION ALL SELECT p.id, p.parent_id, up.n + 1 FROM directory.v_units p JOIN up ON p.id = up.parent_id) "
      "SELECT c.id::text FROM up JOIN directory.v_units c ON (c.parent_id = up.id OR c.id = up.id) "
      "WHERE c.kind = 'INSPECTION_CORPS' AND c.active ORDER BY up.n, (c.id = up.id) DESC, c.id LIMIT 1",
      v.subject_unit_id);
  if (owner.empty()) {
    log::Warn("no inspection unit above the subject of a concluded violation", {{"clue_id", v.clue_id}});
    return absl::OkStatus();
  }
  SM_ASSIGN_OR_RETURN(ResponsibleLeaders leaders, directory_.LeadersOf(v.subject_unit_id, &tx));
  const Rules rules = rules_();
  const int64_t now_us = NowMicros(clock_);
  for (v1::LeaderDuty duty : {v1::LEADER_DUTY_PRINCIPAL, v1::LEADER_DUTY_SUPERVISING}) {
    Change c = OpenCheck(v, duty, duty == v1::LEADER_DUTY_PRINCIPAL ? leaders.principal : leaders.supervising,
                         owner[0][0].as<std::string>(), now_us, rules);
    SM_RETURN_IF_ERROR(Write(tx, c, events::Actor{"system:clue-events", ""}, now_us));
  }
  stats_version_.Changed();
  return absl::OkStatus();
}

}  // namespace sm::inspection
