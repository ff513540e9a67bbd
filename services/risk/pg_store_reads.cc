// risk-service's store, part 3: the reads (rows as stored; the service decides what each
// caller sees) and the statistics. pg_store.cc: the documents and steps.
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

void AddPage(db::Where& w, const std::optional<paging::TimeId>& after, const std::string& column) {
  if (after) {
    w.Add("(" + column + ", id) > (?::bigint, ?::uuid)", {std::to_string(after->first), after->second});
  }
}

}  // namespace

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
