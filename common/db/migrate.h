// Versioned schema migrations: each service embeds its migrations/NNNN_name.sql files
// (cmake/embed_migrations.cmake) and applies the pending ones at start-up, under an
// advisory lock so that replicas starting together apply each file once.
#pragma once

#include <string>
#include <vector>

#include <absl/status/status.h>

namespace sm::db {

class Pool;

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// Applies, in version order and in one transaction, every migration not yet recorded in
// <schema>.schema_migrations, and records it with its SHA-256. The schema must exist and
// belong to the connecting role. Errors: FAILED_PRECONDITION when an applied file was
// edited since (checksum differs) or versions repeat; the SQL error of a failing file
// (nothing is applied then).
absl::Status ApplyMigrations(Pool& pool, const std::string& schema, const std::vector<Migration>& migrations);

}  // namespace sm::db
