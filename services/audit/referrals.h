// The audit → clue referral plumbing (ARCHITECTURE.md § How messages move): the shared
// relay and clue-feed consumer (common/referral_feed.h) wired to audit's store, built the
// same way by main and the tests.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "common/referral_feed.h"
#include "services/audit/pg_store.h"

namespace sm::audit {

class Referrals {
 public:
  // `lock_config`: a connection for the relay's leader lock; `pool`: the service's pool.
  // Nothing runs until Start (tests drive the relay with relay().RunOnce()).
  Referrals(PgStore* store, db::PoolConfig lock_config, db::Pool* pool, std::shared_ptr<grpc::Channel> channel,
            std::function<std::string()> token, outbox::Options relay_options = {});

  void Start() { feed_.Start(); }  // the relay, and the consumer of the clue feed
  void Stop() { feed_.Stop(); }

  outbox::Relay& relay() { return feed_.relay(); }
  consumer::Consumer<supervision::v1::ClueEvent>& consumer() { return feed_.consumer(); }

 private:
  // Audit's referral commands are "finding:<id>"; the store applies each outcome.
  class Sink final : public referral::Sink {
   public:
    explicit Sink(PgStore* store) : store_(store) {}
    absl::Status Delivered(db::Tx& tx, const std::string&, const std::string& finding,
                           const supervision::v1::ClueReply& reply) override {
      return store_->ReferralDelivered(tx, finding, reply);
    }
    absl::Status Dead(db::Tx& tx, const std::string&, const std::string& finding, const std::string& error) override {
      return store_->ReferralDead(tx, finding, error);
    }
    absl::Status ApplyClueEvent(db::Tx& tx, const supervision::v1::ClueEvent& ev) override {
      return store_->ApplyClueEvent(tx, ev);
    }

   private:
    PgStore* store_;
  };
  Sink sink_;
  referral::Feed feed_;  // after sink_: destroyed (and stopped) first
};

}  // namespace sm::audit
