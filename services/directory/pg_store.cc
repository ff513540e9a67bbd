#include "services/directory/pg_store.h"

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "common/status.h"

namespace sm::directory {
namespace {

using db::Tx;
using OptStr = std::optional<std::string>;

constexpr char kMethodImport[] = "ImportDirectory";

OptStr NullIfEmpty(const std::string& s) { return s.empty() ? OptStr() : OptStr(s); }

std::string Str(const pqxx::field& f) { return f.is_null() ? "" : f.as<std::string>(); }

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string JoinComma(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

void SetTimestamp(google::protobuf::Timestamp* ts, int64_t micros) {
  ts->set_seconds(micros / 1000000);
  ts->set_nanos(static_cast<int32_t>((micros % 1000000) * 1000));
}

// Columns: id, code, name, name_en, kind, parent_id, active, version, updated_us
constexpr char kUnitColumns[] =
    "u.id::text, u.code, u.name, u.name_en, u.kind, u.parent_id::text, u.active, u.version, "
    "(extract(epoch FROM u.updated_at) * 1000000)::bigint";

v1::Unit UnitFromRow(const pqxx::row& r) {
  v1::Unit u;
  u.set_id(Str(r[0]));
  u.set_code(Str(r[1]));
  u.set_name(Str(r[2]));
  u.set_name_en(Str(r[3]));
  u.set_kind(UnitKindFromName(Str(r[4])));
  u.set_parent_id(Str(r[5]));
  u.set_active(r[6].as<bool>());
  u.set_version(r[7].as<int64_t>());
  SetTimestamp(u.mutable_updated_at(), r[8].as<int64_t>());
  return u;
}

constexpr char kPersonSelect[] =
    "SELECT p.id::text, p.badge_no, p.name, p.unit_id::text, u.name, p.post_id::text, "
    "       coalesce(po.name, ''), p.grade, p.leader, p.category, p.active, p.version "
    "FROM people p JOIN units u ON u.id = p.unit_id LEFT JOIN posts po ON po.id = p.post_id ";

v1::Person PersonFromRow(const pqxx::row& r) {
  v1::Person p;
  p.set_id(Str(r[0]));
  p.set_badge_no(Str(r[1]));
  p.set_name(Str(r[2]));
  p.set_unit_id(Str(r[3]));
  p.set_unit_name(Str(r[4]));
  p.set_post_id(Str(r[5]));
  p.set_post_name(Str(r[6]));
  p.set_grade(Str(r[7]));
  p.set_leader(r[8].as<bool>());
  p.set_category(CategoryFromName(Str(r[9])));
  p.set_active(r[10].as<bool>());
  p.set_version(r[11].as<int64_t>());
  return p;
}

constexpr char kPostSelect[] =
    "SELECT id::text, code, name, name_en, array_to_string(powers, ','), active, version, duty "
    "FROM posts ";

v1::Post PostFromRow(const pqxx::row& r) {
  v1::Post p;
  p.set_id(Str(r[0]));
  p.set_code(Str(r[1]));
  p.set_name(Str(r[2]));
  p.set_name_en(Str(r[3]));
  for (const auto& name : SplitComma(Str(r[4]))) p.add_powers(PowerFromName(name));
  p.set_active(r[5].as<bool>());
  p.set_version(r[6].as<int64_t>());
  p.set_duty(DutyFromName(Str(r[7])));
  return p;
}

// Ancestor ids of `id`, root first.
std::vector<std::string> Ancestors(Tx& tx, const std::string& id) {
  pqxx::result r = tx.exec_params(
      "WITH RECURSIVE up AS ("
      "  SELECT parent_id, 1 AS n FROM units WHERE id = $1::uuid"
      "  UNION ALL"
      "  SELECT u.parent_id, up.n + 1 FROM units u JOIN up ON u.id = up.parent_id"
      "  WHERE up.n < 1000)"
      "SELECT parent_id::text FROM up WHERE parent_id IS NOT NULL ORDER BY n DESC",
      id);
  std::vector<std::string> out;
  for (const auto& row : r) out.push_back(row[0].as<std::string>());
  return out;
}

Snapshot LoadSnapshot(Tx& tx) {
  Snapshot s;
  for (const auto& r : tx.exec("SELECT id::text, code, name, name_en, coalesce(parent_id::text, ''), "
                               "kind, sort_order, active FROM units")) {
    s.units.push_back(
        {Str(r[0]), Str(r[1]), Str(r[2]), Str(r[3]), Str(r[4]), Str(r[5]), r[6].as<int>(), r[7].as<bool>()});
  }
  for (const auto& r : tx.exec("SELECT id::text, code, name, name_en, array_to_string(powers, ','), "
                               "sort_order, active, duty FROM posts")) {
    s.posts.push_back({Str(r[0]), Str(r[1]), Str(r[2]), Str(r[3]), SplitComma(Str(r[4])), r[5].as<int>(),
                       r[6].as<bool>(), Str(r[7])});
  }
  for (const auto& r : tx.exec("SELECT id::text, badge_no, name, unit_id::text, coalesce(post_id::text, ''), "
                               "grade, category, leader, active FROM people")) {
    s.people.push_back({Str(r[0]), Str(r[1]), Str(r[2]), Str(r[3]), Str(r[4]), Str(r[5]), Str(r[6]), r[7].as<bool>(),
                        r[8].as<bool>()});
  }
  return s;
}

void ApplyPlan(Tx& tx, const Plan& plan) {
  for (const auto& u : plan.unit_writes) {
    tx.exec_params0(
        "INSERT INTO units (id, code, name, name_en, kind, parent_id, sort_order, active) "
        "VALUES ($1::uuid, $2, $3, $4, $5, $6::uuid, $7, true) "
        "ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, name_en = EXCLUDED.name_en, "
        "  kind = EXCLUDED.kind, parent_id = EXCLUDED.parent_id, sort_order = EXCLUDED.sort_order, "
        "  active = true, version = units.version + 1, updated_at = now()",
        u.id, u.code, u.name, u.name_en, u.kind, NullIfEmpty(u.parent_id), u.sort_order);
  }
  for (const auto& p : plan.post_writes) {
    tx.exec_params0(
        "INSERT INTO posts (id, code, name, name_en, powers, sort_order, active, duty) "
        "VALUES ($1::uuid, $2, $3, $4, string_to_array($5, ','), $6, true, $7) "
        "ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, name_en = EXCLUDED.name_en, "
        "  powers = EXCLUDED.powers, sort_order = EXCLUDED.sort_order, active = true, "
        "  duty = EXCLUDED.duty, version = posts.version + 1, updated_at = now()",
        p.id, p.code, p.name, p.name_en, JoinComma(p.powers), p.sort_order, NullIfEmpty(p.duty));
  }
  for (const auto& p : plan.person_writes) {
    tx.exec_params0(
        "INSERT INTO people (id, badge_no, name, unit_id, post_id, grade, leader, category, active) "
        "VALUES ($1::uuid, $2, $3, $4::uuid, $5::uuid, $6, $7, $8, true) "
        "ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, unit_id = EXCLUDED.unit_id, "
        "  post_id = EXCLUDED.post_id, grade = EXCLUDED.grade, leader = EXCLUDED.leader, "
        "  category = EXCLUDED.category, active = true, version = people.version + 1, "
        "  updated_at = now()",
        p.id, p.badge, p.name, p.unit_id, NullIfEmpty(p.post_id), p.grade, p.leader, p.category);
  }
  auto deactivate = [&](const char* table, const std::vector<std::string>& ids) {
    for (const auto& id : ids) {
      tx.exec_params0(std::string("UPDATE ") + table +
                          " SET active = false, version = version + 1, updated_at = now() "
                          "WHERE id = $1::uuid",
                      id);
    }
  };
  deactivate("units", plan.unit_deactivations);
  deactivate("posts", plan.post_deactivations);
  deactivate("people", plan.person_deactivations);
}

}  // namespace

PgStore::PgStore(db::Pool* pool, std::function<std::string()> new_id) : pool_(pool), new_id_(std::move(new_id)) {}

absl::StatusOr<v1::ImportDirectoryResponse> PgStore::Import(const ImportRequest& req) {
  // Plans the import and, unless it is a dry run, applies it.
  auto import = [&](Tx& tx, v1::ImportDirectoryResponse& out) -> absl::Status {
    // One import at a time; readers are not blocked.
    tx.exec("SELECT pg_advisory_xact_lock(hashtext('directory-import'))");
    Plan plan = PlanImport(LoadSnapshot(tx), *req.document, new_id_);
    int64_t generation = tx.exec1("SELECT generation FROM meta")[0].as<int64_t>();
    if (!req.dry_run && plan.changed()) {
      ApplyPlan(tx, plan);
      generation = tx.exec1("UPDATE meta SET generation = generation + 1 RETURNING generation")[0].as<int64_t>();
    }
    out.set_dry_run(req.dry_run);
    out.set_generation(generation);
    *out.mutable_units() = plan.units;
    *out.mutable_posts() = plan.posts;
    *out.mutable_people() = plan.people;
    constexpr size_t kMaxChanges = 1000;
    for (size_t i = 0; i < plan.changes.size() && i < kMaxChanges; ++i) *out.add_changes() = plan.changes[i];
    out.set_changes_truncated(plan.changes.size() > kMaxChanges);
    if (req.dry_run) return absl::OkStatus();
    nlohmann::json summary;
    for (auto [name, c] : {std::pair{"units", &plan.units}, {"posts", &plan.posts}, {"people", &plan.people}}) {
      summary[name] = {{"created", c->created()},
                       {"updated", c->updated()},
                       {"unchanged", c->unchanged()},
                       {"deactivated", c->deactivated()}};
    }
    tx.exec_params0(
        "INSERT INTO imports (id, request_id, imported_by, generation, summary) "
        "VALUES ($1::uuid, $2, $3, $4, $5::jsonb)",
        new_id_(), req.request_id, req.user, generation, summary.dump());
    return absl::OkStatus();
  };
  if (req.dry_run) {
    v1::ImportDirectoryResponse out;
    absl::Status s = db::WithTransaction(
        *pool_, [&](Tx& tx) { return import(tx, out); }, db::TxOptions{.read_only = true});
    if (!s.ok()) return s;
    return out;
  }
  return idempotency_.Write<v1::ImportDirectoryResponse>(*pool_, {req.idempotency_key, kMethodImport, req.fingerprint},
                                                         import);
}

absl::StatusOr<int64_t> PgStore::Generation() { return db::ReadInt64(*pool_, "SELECT generation FROM meta"); }

absl::StatusOr<v1::Unit> PgStore::GetUnit(const std::string& id, const std::string& code) {
  v1::Unit out;
  absl::Status s = db::WithTransaction(
      *pool_,
      [&](Tx& tx) -> absl::Status {
        pqxx::result r =
            id.empty()
                ? tx.exec_params(std::string("SELECT ") + kUnitColumns + " FROM units u WHERE u.code = $1", code)
                : tx.exec_params(std::string("SELECT ") + kUnitColumns + " FROM units u WHERE u.id = $1::uuid", id);
        if (r.empty()) return absl::NotFoundError("unit not found");
        out = UnitFromRow(r[0]);
        for (auto& a : Ancestors(tx, out.id())) out.add_ancestor_ids(a);
        out.set_depth(out.ancestor_ids_size());
        return absl::OkStatus();
      },
      db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<v1::Unit>> PgStore::ListUnits(const std::string& root_id, int max_depth,
                                                         bool include_inactive) {
  std::vector<v1::Unit> out;
  absl::Status s = db::WithTransaction(
      *pool_,
      [&](Tx& tx) -> absl::Status {
        std::vector<std::string> base;
        if (!root_id.empty()) {
          if (tx.exec_params("SELECT 1 FROM units WHERE id = $1::uuid", root_id).empty()) {
            return absl::NotFoundError("unit not found");
          }
          base = Ancestors(tx, root_id);
        }
        pqxx::result r = tx.exec_params(
            std::string(
                "WITH RECURSIVE t AS ("
                "  SELECT u.id, 0 AS rel_depth, ARRAY[u.sort_order] AS path, ARRAY[]::text[] AS anc"
                "  FROM units u WHERE CASE WHEN $1::uuid IS NULL THEN u.parent_id IS NULL ELSE u.id = $1::uuid END"
                "  UNION ALL"
                "  SELECT c.id, t.rel_depth + 1, t.path || c.sort_order, t.anc || t.id::text"
                "  FROM units c JOIN t ON c.parent_id = t.id"
                "  WHERE ($2 = 0 OR t.rel_depth < $2) AND t.rel_depth < 1000)"
                "SELECT ") +
                kUnitColumns +
                ", array_to_string(t.anc, ',') "
                "FROM t JOIN units u ON u.id = t.id WHERE ($3 OR u.active) ORDER BY t.path",
            NullIfEmpty(root_id), max_depth, include_inactive);
        for (const auto& row : r) {
          v1::Unit u = UnitFromRow(row);
          for (const auto& a : base) u.add_ancestor_ids(a);
          for (const auto& a : SplitComma(Str(row[9]))) u.add_ancestor_ids(a);
          u.set_depth(u.ancestor_ids_size());
          out.push_back(std::move(u));
        }
        return absl::OkStatus();
      },
      db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<v1::Person> PgStore::GetPerson(const std::string& id, const std::string& badge) {
  v1::Person out;
  absl::Status s = db::WithTransaction(
      *pool_,
      [&](Tx& tx) -> absl::Status {
        pqxx::result r = id.empty() ? tx.exec_params(std::string(kPersonSelect) + "WHERE p.badge_no = $1", badge)
                                    : tx.exec_params(std::string(kPersonSelect) + "WHERE p.id = $1::uuid", id);
        if (r.empty()) return absl::NotFoundError("person not found");
        out = PersonFromRow(r[0]);
        return absl::OkStatus();
      },
      db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<v1::Person>> PgStore::SearchPeople(const PeopleQuery& q) {
  std::vector<v1::Person> out;
  auto escape_like = [](const std::string& v) {
    std::string o;
    for (char c : v) {
      if (c == '%' || c == '_' || c == '\\') o += '\\';
      o += c;
    }
    return o;
  };
  OptStr name = q.name_contains ? OptStr("%" + escape_like(*q.name_contains) + "%") : OptStr();
  OptStr badge = q.badge_prefix ? OptStr(escape_like(*q.badge_prefix) + "%") : OptStr();
  OptStr after_name = q.after ? OptStr(q.after->first) : OptStr();
  OptStr after_id = q.after ? OptStr(q.after->second) : OptStr();
  absl::Status s = db::WithTransaction(
      *pool_,
      [&](Tx& tx) -> absl::Status {
        pqxx::result r = tx.exec_params(
            std::string(
                "WITH RECURSIVE scope AS ("
                "  SELECT id, 0 AS d FROM units WHERE id = $1::uuid"
                "  UNION ALL"
                "  SELECT u.id, s.d + 1 FROM units u JOIN scope s ON u.parent_id = s.id WHERE $2 AND s.d < 1000) ") +
                kPersonSelect +
                "WHERE ($1::uuid IS NULL OR p.unit_id IN (SELECT id FROM scope))"
                "  AND ($3::text IS NULL OR p.name LIKE $3)"
                "  AND ($4::text IS NULL OR p.badge_no LIKE $4)"
                "  AND ($5::boolean IS NULL OR p.leader = $5)"
                "  AND ($6::text IS NULL OR p.category = $6)"
                "  AND ($7 OR p.active)"
                "  AND ($8::text IS NULL OR (p.name, p.id) > ($8::text, $9::uuid))"
                " ORDER BY p.name, p.id LIMIT $10",
            q.unit_id, q.include_subunits, name, badge, q.leader, q.category, q.include_inactive, after_name, after_id,
            q.limit);
        for (const auto& row : r) out.push_back(PersonFromRow(row));
        return absl::OkStatus();
      },
      db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<v1::Post> PgStore::GetPost(const std::string& id, const std::string& code) {
  v1::Post out;
  absl::Status s = db::WithTransaction(
      *pool_,
      [&](Tx& tx) -> absl::Status {
        pqxx::result r = id.empty() ? tx.exec_params(std::string(kPostSelect) + "WHERE code = $1", code)
                                    : tx.exec_params(std::string(kPostSelect) + "WHERE id = $1::uuid", id);
        if (r.empty()) return absl::NotFoundError("post not found");
        out = PostFromRow(r[0]);
        return absl::OkStatus();
      },
      db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<v1::Post>> PgStore::ListPosts(bool include_inactive) {
  std::vector<v1::Post> out;
  absl::Status s = db::WithTransaction(
      *pool_,
      [&](Tx& tx) -> absl::Status {
        for (const auto& row : tx.exec_params(
                 std::string(kPostSelect) + "WHERE ($1 OR active) ORDER BY sort_order, code", include_inactive)) {
          out.push_back(PostFromRow(row));
        }
        return absl::OkStatus();
      },
      db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return out;
}

}  // namespace sm::directory
