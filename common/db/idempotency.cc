#include "common/db/idempotency.h"

#include "common/crypto.h"
#include "common/db/sql.h"
#include "common/status.h"

namespace sm::db {

std::string CallerKey(const auth::Principal& caller, const std::string& request_id) {
  const char* kind = caller.HasRole(auth::kRoleService) ? "s" : "p";
  return std::string(kind) + "|" + std::to_string(caller.user.size()) + "|" + caller.user + "|" + request_id;
}

Idempotency::Key KeyOf(const auth::Principal& caller, const std::string& request_id, std::string_view method,
                       const google::protobuf::Message& request) {
  return {CallerKey(caller, request_id), std::string(method), crypto::Sha256Hex(request.SerializeAsString())};
}

Idempotency::Idempotency(std::string schema) : table_(schema + ".idempotency"), statement_(schema + "_idempotency") {}

namespace {

constexpr char kStoredColumns[] = "request_id, method, request_sha256, response";

// The reply stored in `row` (kStoredColumns) for a request with `method` and `fingerprint`;
// INVALID_ARGUMENT naming `request_id` when the key was used for another method or other
// parameters.
absl::StatusOr<std::optional<std::string>> StoredReply(const pqxx::row& row, const std::string& method,
                                                       const std::string& fingerprint) {
  if (row[1].as<std::string>() != method || row[2].as<std::string>() != crypto::Sha256Hex(fingerprint)) {
    return InvalidField("request_id", "already used for a different request; use a new request_id");
  }
  return std::optional<std::string>(pqxx::binarystring(row[3]).str());
}

}  // namespace

std::vector<absl::StatusOr<std::optional<std::string>>> Idempotency::Begin(Tx& tx,
                                                                           const std::vector<Request>& requests) const {
  std::vector<std::string> keys, ids;
  for (const auto& r : requests) {
    keys.push_back(table_ + ":" + r.request_id);
    ids.push_back(r.request_id);
  }
  // Ordered in a subquery so that the locks are taken in that order.
  tx.exec_params(
      "SELECT pg_advisory_xact_lock(k) FROM "
      "(SELECT DISTINCT hashtext(key) AS k FROM unnest($1::text[]) AS key ORDER BY 1) AS keys",
      TextArrayLiteral(keys));
  pqxx::result rows = tx.exec_params(
      std::string("SELECT ") + kStoredColumns + " FROM " + table_ + " WHERE request_id = ANY($1::text[])",
      TextArrayLiteral(ids));
  std::vector<absl::StatusOr<std::optional<std::string>>> out;
  out.reserve(requests.size());
  for (const auto& r : requests) {
    size_t found = rows.size();
    for (size_t i = 0; i < rows.size(); ++i) {
      if (rows[i][0].as<std::string>() == r.request_id) found = i;
    }
    if (found == rows.size()) {
      out.emplace_back(std::optional<std::string>());
      continue;
    }
    out.push_back(StoredReply(rows[found], r.method, r.fingerprint));
  }
  return out;
}

size_t Idempotency::Claim(Tx& tx, const std::vector<Request>& requests,
                          const std::vector<std::string>& responses) const {
  RowSet rows({"?", "?", "?", "decode(?, 'hex')"});
  for (size_t i = 0; i < requests.size(); ++i) {
    rows.Add({requests[i].request_id, requests[i].method, crypto::Sha256Hex(requests[i].fingerprint),
              crypto::ToHex(responses.at(i))});
  }
  // In key order, so that two transactions claiming the same keys wait on each other in the
  // same order rather than deadlock.
  int next = 1;
  static const std::string kInsert = " (request_id, method, request_sha256, response) SELECT * FROM (";
  return ExecPrepared(tx, statement_ + "_claim",
                      "INSERT INTO " + table_ + kInsert + Numbered(rows.Select(), next) +
                          ") AS r ORDER BY 1 ON CONFLICT (request_id) DO NOTHING RETURNING 1",
                      pqxx::prepare::make_dynamic_params(rows.Params()))
      .size();
}

absl::StatusOr<std::optional<std::string>> Idempotency::Find(Tx& tx, const Key& key) const {
  pqxx::result r = ExecPrepared(tx, statement_ + "_find",
                                std::string("SELECT ") + kStoredColumns + " FROM " + table_ + " WHERE request_id = $1",
                                key.request_id);
  if (r.empty()) return std::optional<std::string>();
  return StoredReply(r[0], key.method, key.fingerprint);
}

bool Idempotency::Taken(Tx& tx, const Key& key) const {
  try {
    return !tx.exec_params("SELECT 1 FROM " + table_ + " WHERE request_id = $1", key.request_id).empty();
  } catch (const std::exception&) {
    return false;  // the transaction cannot answer: the refusal stands
  }
}

absl::StatusOr<std::optional<std::string>> Idempotency::Lookup(Pool& pool, const std::string& request_id) const {
  std::optional<std::string> out;
  absl::Status s = WithTransaction(
      pool,
      [&](Tx& tx) {
        pqxx::result r = tx.exec_params("SELECT response FROM " + table_ + " WHERE request_id = $1", request_id);
        if (!r.empty()) out = pqxx::binarystring(r[0][0]).str();
        return absl::OkStatus();
      },
      TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return out;
}

}  // namespace sm::db
