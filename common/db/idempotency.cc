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

void Idempotency::Finish(Tx& tx, const std::vector<Request>& requests,
                         const std::vector<std::string>& responses) const {
  std::vector<std::string> ids, methods, shas, hex;
  for (size_t i = 0; i < requests.size(); ++i) {
    ids.push_back(requests[i].request_id);
    methods.push_back(requests[i].method);
    shas.push_back(crypto::Sha256Hex(requests[i].fingerprint));
    hex.push_back(crypto::ToHex(responses.at(i)));
  }
  tx.exec_params0(
      "INSERT INTO " + table_ +
          " (request_id, method, request_sha256, response) "
          "SELECT id, method, sha, decode(hex, 'hex') FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) "
          "AS r(id, method, sha, hex)",
      TextArrayLiteral(ids), TextArrayLiteral(methods), TextArrayLiteral(shas), TextArrayLiteral(hex));
}

absl::StatusOr<std::optional<std::string>> Idempotency::Find(Tx& tx, const Key& key) const {
  pqxx::result r = ExecPrepared(tx, statement_ + "_find",
                                std::string("SELECT ") + kStoredColumns + " FROM " + table_ + " WHERE request_id = $1",
                                key.request_id);
  if (r.empty()) return std::optional<std::string>();
  return StoredReply(r[0], key.method, key.fingerprint);
}

bool Idempotency::Claim(Tx& tx, const Key& key, const std::string& response) const {
  return !ExecPrepared(tx, statement_ + "_claim",
                       "INSERT INTO " + table_ +
                           " (request_id, method, request_sha256, response) "
                           "VALUES ($1, $2, $3, decode($4, 'hex')) ON CONFLICT (request_id) DO NOTHING RETURNING 1",
                       key.request_id, key.method, crypto::Sha256Hex(key.fingerprint), crypto::ToHex(response))
              .empty();
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
