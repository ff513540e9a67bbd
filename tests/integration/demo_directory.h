// The demo directory (deploy/demo/directory.yaml) in the throwaway PostgreSQL: the reference
// data every clue and audit integration test starts from, the look-ups they make in it,
// and SQL as the superuser (to count what was written, or to tamper as an attacker would).
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include <pqxx/pqxx>

#include "common/db/migrate.h"
#include "common/db/pool.h"
#include "common/uuid.h"
#include "services/directory/pg_store.h"
#include "services/directory/workflow.h"
#include "tests/support/pg_redis.h"

const std::vector<sm::db::Migration>& directory_lib_migrations();

namespace sm::testing {

// The demo directory document's text.
inline std::string DemoDirectoryYaml() {
  std::ifstream in(std::string(SM_SOURCE_DIR) + "/deploy/demo/directory.yaml");
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// Migrates the directory schema through `pool` (role sm_directory) and imports the demo
// directory. Fails the calling test on any error.
inline void SeedDemoDirectory(db::Pool& pool) {
  ASSERT_TRUE(db::ApplyMigrations(pool, "directory", directory_lib_migrations()).ok());
  auto doc = directory::ParseDocument(DemoDirectoryYaml());
  ASSERT_TRUE(doc.ok()) << doc.status();
  directory::PgStore store(&pool, [] { return NewUuid(); });
  ASSERT_TRUE(store.Import({&*doc, "seed", "seed", "seed", "test", false}).ok());
}

// The throwaway PostgreSQL as the superuser.
inline std::string Conn() {
  return "host=127.0.0.1 port=" + std::to_string(PgRedis::Get().pg_port()) + " dbname=supervision user=postgres";
}
// The single number `sql` selects.
inline int64_t Count(const std::string& sql) {
  pqxx::connection c(Conn());
  pqxx::work tx(c);
  return tx.exec1(sql)[0].as<int64_t>();
}
// Runs `sql` and commits.
inline void Sql(const std::string& sql) {
  pqxx::connection c(Conn());
  pqxx::work tx(c);
  tx.exec(sql);
  tx.commit();
}
// The id of the demo unit with that code.
inline std::string UnitId(const std::string& code) {
  pqxx::connection c(Conn());
  pqxx::work tx(c);
  return tx.exec_params1("SELECT id::text FROM directory.v_units WHERE code = $1", code)[0].as<std::string>();
}
// A person of the unit with that code (the first by badge), a leader or not.
inline std::string PersonIn(const std::string& code, bool leader = false) {
  pqxx::connection c(Conn());
  pqxx::work tx(c);
  return tx
      .exec_params1(
          "SELECT p.id::text FROM directory.v_people p JOIN directory.v_units u ON u.id = p.unit_id "
          "WHERE u.code = $1 AND p.leader = $2 ORDER BY p.badge_no LIMIT 1",
          code, leader)[0]
      .as<std::string>();
}

}  // namespace sm::testing
