#include "common/directory_reader.h"

#include "common/db/sql.h"
#include "common/status.h"

namespace sm {

using db::Str;

namespace {

// Runs `body` in `tx` when given (the caller's transaction: a write path must not wait for a
// second connection from the pool it holds one of), else in a read-only transaction of its
// own.
absl::Status InTx(db::Pool& pool, db::Tx* tx, const std::function<absl::Status(db::Tx&)>& body) {
  if (tx != nullptr) return body(*tx);
  return db::WithTransaction(pool, body, db::TxOptions{.read_only = true});
}

}  // namespace

absl::StatusOr<int64_t> DirectoryReader::Generation(db::Tx* tx) {
  return generation_.Get([this, tx]() -> absl::StatusOr<int64_t> {
    int64_t generation = 0;
    SM_RETURN_IF_ERROR(InTx(*pool_, tx, [&](db::Tx& t) {
      generation = t.exec1("SELECT generation FROM directory.v_generation")[0].as<int64_t>();
      return absl::OkStatus();
    }));
    return generation;
  });
}

template <typename T>
std::optional<T> DirectoryReader::Copy::Find(const std::unordered_map<std::string, T>& map, int64_t generation,
                                             const std::string& id) {
  std::lock_guard lock(mu);
  if (generation != this->generation) return std::nullopt;
  auto it = map.find(id);
  if (it == map.end()) return std::nullopt;
  return it->second;
}

template <typename T>
void DirectoryReader::Copy::Keep(std::unordered_map<std::string, T>& map, int64_t loaded_generation, const T& value,
                                 const std::string& id) {
  std::lock_guard lock(mu);
  if (loaded_generation > generation) {  // an import moved the directory on: start afresh
    units.clear();
    people.clear();
    leaders.clear();
    generation = loaded_generation;
  }
  if (loaded_generation != generation) return;
  if (map.size() >= kLimit) map.clear();
  map[id] = value;
}

template <typename T>
absl::StatusOr<T> DirectoryReader::Look(std::unordered_map<std::string, T>& map, const std::string& id, db::Tx* in,
                                        const std::function<absl::StatusOr<int64_t>(db::Tx&, T&)>& load) {
  auto generation = Generation(in);
  if (generation.ok()) {
    if (auto kept = copy_.Find(map, *generation, id)) return *kept;
  }
  T value;
  int64_t loaded_generation = 0;
  SM_RETURN_IF_ERROR(InTx(*pool_, in, [&](db::Tx& tx) -> absl::Status {
    SM_ASSIGN_OR_RETURN(loaded_generation, load(tx, value));
    return absl::OkStatus();
  }));
  copy_.Keep(map, loaded_generation, value, id);
  return value;
}

absl::StatusOr<UnitInfo> DirectoryReader::Unit(const std::string& id, db::Tx* in) {
  return Look<UnitInfo>(copy_.units, id, in, [&](db::Tx& tx, UnitInfo& u) -> absl::StatusOr<int64_t> {
    pqxx::result r = tx.exec_params(
        "WITH RECURSIVE up AS ("
        "  SELECT id, parent_id, name, active, kind, 0 AS n FROM directory.v_units WHERE id = $1::uuid"
        "  UNION ALL SELECT p.id, p.parent_id, p.name, p.active, p.kind, up.n + 1 FROM directory.v_units p"
        "  JOIN up ON p.id = up.parent_id WHERE up.n < 1000)"
        "SELECT id::text, name, active, kind, (SELECT generation FROM directory.v_generation) FROM up ORDER BY n DESC",
        id);
    if (r.empty()) return absl::NotFoundError("unit not found");
    for (size_t i = 0; i + 1 < r.size(); ++i) u.ancestors.push_back(Str(r[i][0]));
    u.id = Str(r[r.size() - 1][0]);
    u.name = Str(r[r.size() - 1][1]);
    u.active = r[r.size() - 1][2].as<bool>();
    u.kind = Str(r[r.size() - 1][3]);
    return r[0][4].as<int64_t>();
  });
}

absl::StatusOr<PersonInfo> DirectoryReader::Person(const std::string& id, db::Tx* in) {
  return Look<PersonInfo>(copy_.people, id, in, [&](db::Tx& tx, PersonInfo& p) -> absl::StatusOr<int64_t> {
    pqxx::result r = tx.exec_params(
        "SELECT id::text, name, unit_id::text, active, leader, (SELECT generation FROM directory.v_generation) "
        "FROM directory.v_people WHERE id = $1::uuid",
        id);
    if (r.empty()) return absl::NotFoundError("person not found");
    p.id = Str(r[0][0]);
    p.name = Str(r[0][1]);
    p.unit_id = Str(r[0][2]);
    p.active = r[0][3].as<bool>();
    p.leader = r[0][4].as<bool>();
    return r[0][5].as<int64_t>();
  });
}

absl::StatusOr<ResponsibleLeaders> DirectoryReader::LeadersOf(const std::string& unit_id, db::Tx* in) {
  return Look<ResponsibleLeaders>(
      copy_.leaders, unit_id, in, [&](db::Tx& tx, ResponsibleLeaders& l) -> absl::StatusOr<int64_t> {
        // No row: no such unit. Otherwise one row per duty found (one row of nulls for none):
        // per duty, the nearest unit up the tree, then the lowest badge in it.
        pqxx::result r = tx.exec_params(
            "WITH RECURSIVE up AS ("
            "  SELECT id, parent_id, 0 AS n FROM directory.v_units WHERE id = $1::uuid"
            "  UNION ALL SELECT u.id, u.parent_id, up.n + 1 FROM directory.v_units u"
            "  JOIN up ON u.id = up.parent_id WHERE up.n < 1000),"
            " found AS ("
            "  SELECT DISTINCT ON (po.duty) po.duty, p.id::text AS person_id, p.name, po.id::text AS post_id,"
            "         up.id::text AS unit_id"
            "  FROM up JOIN directory.v_people p ON p.unit_id = up.id AND p.active"
            "  JOIN directory.v_posts po ON po.id = p.post_id AND po.active AND po.duty IS NOT NULL"
            "  ORDER BY po.duty, up.n, p.badge_no COLLATE \"C\")"
            "SELECT (SELECT generation FROM directory.v_generation), f.duty, f.person_id, f.name, f.post_id, "
            "f.unit_id FROM up LEFT JOIN found f ON true WHERE up.n = 0",
            unit_id);
        if (r.empty()) return absl::NotFoundError("unit not found");
        for (const auto& row : r) {
          ResponsibleLeader leader{Str(row[2]), Str(row[3]), Str(row[4]), Str(row[5])};
          const std::string duty = Str(row[1]);
          if (duty == "PRINCIPAL") l.principal = std::move(leader);
          if (duty == "SUPERVISING") l.supervising = std::move(leader);
        }
        return r[0][0].as<int64_t>();
      });
}

}  // namespace sm
