#include "common/db/idempotency.h"

#include "common/crypto.h"
#include "common/status.h"

namespace sm::db {

Idempotency::Idempotency(std::string schema) : table_(schema + ".idempotency") {}

absl::StatusOr<std::optional<std::string>> Idempotency::Begin(
    Tx& tx, const std::string& request_id, const std::string& method,
    const std::string& request_fingerprint) const {
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", table_ + ":" + request_id);
  pqxx::result r = tx.exec_params(
      "SELECT method, request_sha256, response FROM " + table_ + " WHERE request_id = $1",
      request_id);
  if (r.empty()) return std::optional<std::string>();
  const std::string sha = crypto::Sha256Hex(request_fingerprint);
  if (r[0][0].as<std::string>() != method || r[0][1].as<std::string>() != sha) {
    return InvalidField("request_id",
                        "already used for a different request; use a new request_id");
  }
  pqxx::binarystring bytes(r[0][2]);
  return std::optional<std::string>(bytes.str());
}

void Idempotency::Finish(Tx& tx, const std::string& request_id, const std::string& method,
                         const std::string& request_fingerprint,
                         const std::string& response) const {
  pqxx::binarystring bytes(response.data(), response.size());
  tx.exec_params0("INSERT INTO " + table_ +
                      " (request_id, method, request_sha256, response) VALUES ($1, $2, $3, $4)",
                  request_id, method, crypto::Sha256Hex(request_fingerprint), bytes);
}

absl::StatusOr<std::optional<std::string>> Idempotency::Lookup(
    Pool& pool, const std::string& request_id) const {
  std::optional<std::string> out;
  absl::Status s = WithTransaction(pool, [&](Tx& tx) {
    pqxx::result r =
        tx.exec_params("SELECT response FROM " + table_ + " WHERE request_id = $1", request_id);
    if (!r.empty()) out = pqxx::binarystring(r[0][0]).str();
    return absl::OkStatus();
  }, TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return out;
}

}  // namespace sm::db
