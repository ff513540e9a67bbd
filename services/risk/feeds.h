// The three feeds risk-service scores people from — clue-, audit- and inspection-service's
// Subscribe streams — each followed by the shared consumer (common/consumer.h) under its own
// cursor ("clue-events", "audit-events", "inspection-events"), each event applied in the
// consumer's transaction, so every event counts exactly once whatever restarts. Built the same
// way by main and the tests.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/consumer.h"
#include "services/risk/pg_store.h"
#include "supervision/v1/audit.grpc.pb.h"
#include "supervision/v1/clue.grpc.pb.h"
#include "supervision/v1/inspection.grpc.pb.h"

namespace sm::risk {

class Feeds {
 public:
  // A null channel leaves that feed out. `token()` is risk-service's own token.
  Feeds(PgStore* store, db::Pool* pool, std::shared_ptr<grpc::Channel> clue, std::shared_ptr<grpc::Channel> audit,
        std::shared_ptr<grpc::Channel> inspection, std::function<std::string()> token);
  ~Feeds() { Stop(); }

  void Start();
  void Stop();
  // Events applied since Start, all feeds together.
  int64_t applied() const;

 private:
  std::unique_ptr<consumer::Consumer<supervision::v1::ClueEvent>> clue_;
  std::unique_ptr<consumer::Consumer<supervision::v1::AuditEvent>> audit_;
  std::unique_ptr<consumer::Consumer<supervision::v1::InspectionEvent>> inspection_;
};

}  // namespace sm::risk
