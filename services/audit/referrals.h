// The audit → clue referral plumbing (ARCHITECTURE.md § How messages move), built the same
// way by main and the tests: the outbox relay that delivers each referral as
// ClueService.RegisterClue with this service's own token and records the delivery (or the
// dead letter) on its finding, and the consumer of clue-service's event feed that follows
// each referred clue (state, disposition, outcome) onto its finding.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "common/consumer.h"
#include "common/outbox.h"
#include "services/audit/pg_store.h"
#include "supervision/v1/clue.grpc.pb.h"

namespace sm::audit {

// Delivers referral commands from the outbox: ClueService.RegisterClue over `channel`
// with this service's own token (`token()` is called per attempt, so it can be renewed).
outbox::Deliver ClueDeliverer(std::shared_ptr<grpc::Channel> channel, std::function<std::string()> token);

class Referrals {
 public:
  // `lock_config`: a connection for the relay's leader lock; `pool`: the service's pool.
  // Nothing runs until Start (tests drive the relay with relay().RunOnce()).
  Referrals(PgStore* store, db::PoolConfig lock_config, db::Pool* pool, std::shared_ptr<grpc::Channel> channel,
            std::function<std::string()> token, outbox::Options relay_options = {});
  ~Referrals() { Stop(); }

  void Start();  // the relay, and the consumer of the clue feed
  void Stop();

  outbox::Relay& relay() { return relay_; }
  consumer::Consumer<supervision::v1::ClueEvent>& consumer() { return consumer_; }

 private:
  outbox::Relay relay_;
  consumer::Consumer<supervision::v1::ClueEvent> consumer_;
};

}  // namespace sm::audit
