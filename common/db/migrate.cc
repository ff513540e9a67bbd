#include "common/db/migrate.h"

#include <set>

#include "common/crypto.h"
#include "common/db/pool.h"
#include "common/log.h"

namespace sm::db {

absl::Status ApplyMigrations(Pool& pool, const std::string& schema, const std::vector<Migration>& migrations) {
  std::set<int> seen;
  for (const auto& m : migrations) {
    if (!seen.insert(m.version).second) {
      return absl::FailedPreconditionError("migration version " + std::to_string(m.version) + " appears twice in " +
                                           schema);
    }
  }
  std::string failed;
  absl::Status status = WithTransaction(
      pool,
      [&](Tx& tx) -> absl::Status {
        tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", "sm_migrate:" + schema);
        const std::string table = tx.quote_name(schema) + ".schema_migrations";
        tx.exec0("CREATE TABLE IF NOT EXISTS " + table +
                 " (version integer PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL,"
                 "  applied_at timestamptz NOT NULL DEFAULT now())");
        std::map<int, std::string> applied;
        for (const auto& row : tx.exec("SELECT version, sha256 FROM " + table)) {
          applied[row[0].as<int>()] = row[1].as<std::string>();
        }
        std::vector<const Migration*> ordered;
        for (const auto& m : migrations) ordered.push_back(&m);
        std::sort(ordered.begin(), ordered.end(),
                  [](const Migration* a, const Migration* b) { return a->version < b->version; });
        for (const Migration* m : ordered) {
          std::string sha = crypto::Sha256Hex(m->sql);
          if (auto it = applied.find(m->version); it != applied.end()) {
            if (it->second != sha) {
              return absl::FailedPreconditionError("migration " + std::string(m->name) + " in schema " + schema +
                                                   " was changed after it was applied; add a new migration instead");
            }
            continue;
          }
          failed = m->name;
          tx.exec0("SET LOCAL search_path TO " + tx.quote_name(schema) + ", public");
          tx.exec0(m->sql);
          tx.exec_params0("INSERT INTO " + table + " (version, name, sha256) VALUES ($1, $2, $3)", m->version,
                          std::string(m->name), sha);
          log::Info("applied migration", {{"schema", schema}, {"migration", m->name}});
        }
        failed.clear();
        return absl::OkStatus();
      },
      TxOptions{.attempts = 1});
  if (!status.ok() && !failed.empty()) {
    return absl::Status(status.code(), "migration " + failed + " failed: " + std::string(status.message()));
  }
  return status;
}

}  // namespace sm::db
