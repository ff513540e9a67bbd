#include "common/consumer.h"

namespace sm::consumer {

absl::StatusOr<std::string> LoadCursor(db::Pool& pool, const std::string& schema, const std::string& name) {
  std::string cursor;
  absl::Status s = db::WithTransaction(
      pool,
      [&](db::Tx& tx) {
        pqxx::result r =
            tx.exec_params("SELECT cursor FROM " + tx.quote_name(schema) + ".consumer_cursors WHERE name = $1", name);
        cursor = r.empty() ? "" : r[0][0].as<std::string>();
        return absl::OkStatus();
      },
      db::TxOptions{.read_only = true});
  if (!s.ok()) return s;
  return cursor;
}

absl::Status AdvanceCursor(db::Tx& tx, const std::string& schema, const std::string& name, const std::string& from,
                           const std::string& to) {
  const std::string table = tx.quote_name(schema) + ".consumer_cursors";
  pqxx::result r = from.empty()
                       ? tx.exec_params("INSERT INTO " + table +
                                            " (name, cursor) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE "
                                            "SET cursor = EXCLUDED.cursor, updated_at = now() WHERE " +
                                            table + ".cursor = '' RETURNING 1",
                                        name, to)
                       : tx.exec_params("UPDATE " + table +
                                            " SET cursor = $3, updated_at = now() WHERE name = $1 AND cursor = $2 "
                                            "RETURNING 1",
                                        name, from, to);
  if (r.empty()) return absl::AbortedError("another consumer moved the cursor");
  return absl::OkStatus();
}

void RecordApplied(const std::string& name, double lag_seconds) {
  static auto& lag = prometheus::BuildGauge()
                         .Name("sm_consumer_lag_seconds")
                         .Help("Age of the last event a consumer applied, when it applied it")
                         .Register(metrics::Metrics::Global().registry());
  static auto& applied = prometheus::BuildCounter()
                             .Name("sm_consumer_events_total")
                             .Help("Events applied by each consumer")
                             .Register(metrics::Metrics::Global().registry());
  lag.Add({{"consumer", name}}).Set(lag_seconds);
  applied.Add({{"consumer", name}}).Increment();
}

}  // namespace sm::consumer
