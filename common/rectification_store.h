// Rectifications (整改 → 销号) in PostgreSQL, SQL only: the row ↔ v1::Rectification mapping,
// writing a row, its part of its finding's state digest, reading one, the paged list, the
// figures over a set of findings and the overdue scan. Shared by every service that follows
// its findings to rectification (audit-service, inspection-service); each keeps its own
// table and runs these statements in its own transactions.
//
// What a service needs to use it:
//  - a table `rectifications` in its own schema, exactly as below (the statements name it
//    unqualified: the service's connections set search_path to that schema, as
//    common/runtime.cc does with the service's schema), `finding_id` referencing the
//    service's own findings:
//
//      CREATE TABLE rectifications (
//        id              uuid PRIMARY KEY,
//        finding_id      uuid NOT NULL REFERENCES findings (id),
//        measure         text NOT NULL,
//        owner_unit_id   uuid NOT NULL,
//        deadline_at     timestamptz NOT NULL,
//        state           text NOT NULL,
//        overdue         boolean NOT NULL DEFAULT false,
//        spot_check      boolean NOT NULL DEFAULT false,
//        signed_off_at   timestamptz,
//        lookback_until  timestamptz,
//        reopened        integer NOT NULL DEFAULT 0,
//        last_note       text NOT NULL DEFAULT '',
//        version         bigint NOT NULL DEFAULT 1,
//        created_at      timestamptz NOT NULL DEFAULT now()
//      );
//      CREATE INDEX rectifications_finding ON rectifications (finding_id);
//      CREATE INDEX rectifications_owner ON rectifications (owner_unit_id, state);
//
//    (services/audit/migrations/0001_audit.sql; the integration tests check the table
//    against ColumnNames());
//  - its steps decided by rectification::Decide (rectification.h) on the row as loaded in
//    the step's transaction, locked with its finding, and written with Insert/Update;
//    every step is an event on the finding's hash chain, whose state digest covers the
//    finding's rectifications (AddToDigest, and StateColumns/AddStoredToDigest to recompute
//    it from the stored rows);
//  - for lists, the SQL condition saying which findings a unit sees (ListQuery::VisibleTo).
//
// Errors: these functions throw what libpqxx throws; the caller's transaction wrapper
// (db::WithTransaction) turns it into a Status.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <absl/status/statusor.h>
#include <pqxx/pqxx>

#include "common/clock.h"
#include "common/hash_chain.h"
#include "common/paging.h"
#include "supervision/v1/rectification.pb.h"

namespace sm::rectification {

namespace v1 = ::supervision::v1;

// The columns of the table, in the order of the DDL above.
std::vector<std::string> ColumnNames();

// The select list a row is read with, each column prefixed with `alias` ("x."), and the
// row it gives back from column `at` (kColumnCount columns, created_at included).
std::string Columns(const std::string& alias = "");
inline constexpr int kColumnCount = 14;
v1::Rectification FromRow(const pqxx::row& r, int at = 0);

// Writes `x` whole: a new row, or every column of the row with its id.
void Insert(pqxx::transaction_base& tx, const v1::Rectification& x);
void Update(pqxx::transaction_base& tx, const v1::Rectification& x);

// A rectification's part of its finding's state digest: every column but finding_id, as
// PostgreSQL prints them (the finding's digest adds its rectifications by id).
void AddToDigest(chain::StateDigester& d, const v1::Rectification& x);
// The same from a stored row: StateColumns() selects finding_id and then those columns as
// text; AddStoredToDigest adds all but finding_id of such a row.
std::string StateColumns();
void AddStoredToDigest(chain::StateDigester& d, const pqxx::row& r);

// The rectification `id`; nullopt when there is none.
std::optional<v1::Rectification> Get(pqxx::transaction_base& tx, const std::string& id);

// A page of a list: the request's filters (finding_id, owner_unit_id, state,
// overdue_only), narrowed when `visible` is set, after `after` (created_at, id), at most
// `limit` rows, in the order created_at, id.
struct ListQuery {
  // The rows a unit may be shown: those `unit` owns, and those of the findings that
  // `finding_condition` admits — an SQL condition on `x.finding_id` in which every "?" is
  // `unit` (audit: EXISTS a finding of an engagement the unit conducts, for which it is
  // responsible or that was referred to it). A superset: the service then decides each row.
  struct VisibleTo {
    std::string unit;
    std::string finding_condition;
  };
  std::optional<VisibleTo> visible;
  std::optional<paging::TimeId> after;
  int limit = 51;  // a page and one row more (paging::TakePage)
};
std::vector<v1::Rectification> List(pqxx::transaction_base& tx, const v1::ListRectificationsRequest& request,
                                    const ListQuery& query);

// The figures over the rectifications of the findings that `findings` selects: an SQL query
// giving finding ids (e.g. "SELECT id FROM scope"), run after `with` (a WITH clause it may
// use, or ""), `params` being its $1… parameters. `reopened` counts the rectifications
// reopened at least once; the rate is signed off / all (0 without any); by_owner_unit and
// signed_off_by_unit (units with one signed off at least) by count, then unit id.
v1::RectificationStats Stats(pqxx::transaction_base& tx, const std::string& with, const std::string& findings,
                             const std::vector<std::optional<std::string>>& params);

// The overdue scan: the ids of the findings with an OPEN rectification whose deadline
// passed before `now` and that is not yet marked overdue (of the `limit` longest overdue
// such rectifications), in id order — the order their rows are then locked in. The caller
// loads each finding, applies rectification::IsOverdue/Escalate and writes.
std::vector<std::string> DueFindings(pqxx::transaction_base& tx, TimePoint now, int limit = 500);

// The overdue scan in the caller's transaction: each finding DueFindings names, loaded
// locked by `load(id)` (an optional finding holding its `rectifications`, a vector of Held;
// nullopt when gone), then each of its rectifications put to `escalate(finding, id)`, which
// applies the service's overdue change and writes it, giving the finding as it leaves it
// (nullopt: nothing was due), or an error. Returns how many were marked.
template <typename Load, typename Escalate>
absl::StatusOr<int> EscalateDue(pqxx::transaction_base& tx, TimePoint now, Load load, Escalate escalate) {
  int marked = 0;
  for (const std::string& finding_id : DueFindings(tx, now)) {
    auto f = load(finding_id);
    if (!f) continue;
    std::vector<std::string> ids;
    for (const auto& x : f->rectifications) ids.push_back(x.rectification.id());
    for (const std::string& id : ids) {
      auto after = escalate(*f, id);
      if (!after.ok()) return after.status();
      if (!*after) continue;
      *f = **std::move(after);
      ++marked;
    }
  }
  return marked;
}

}  // namespace sm::rectification
