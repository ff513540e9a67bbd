// The plumbing of referrals to clue-service (ARCHITECTURE.md § How messages move), built the
// same way by every service that refers items and by its tests: the outbox relay that
// delivers each referral command as ClueService.RegisterClue with the service's own token and
// hands the outcome (the clue, or a dead letter) to the service, and the consumer of
// clue-service's event feed that hands the service each clue event, exactly once per cursor.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "common/consumer.h"
#include "common/outbox.h"
#include "supervision/v1/clue.grpc.pb.h"

namespace sm::referral {

// What a service does in the relay's and the consumer's transactions. `item` is the part of
// the command's dedupe key after the first ':' ("finding:<id>" gives "<id>"); `kind` the
// part before it.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual absl::Status Delivered(db::Tx& tx, const std::string& kind, const std::string& item,
                                 const supervision::v1::ClueReply& reply) = 0;
  virtual absl::Status Dead(db::Tx& tx, const std::string& kind, const std::string& item, const std::string& error) = 0;
  virtual absl::Status ApplyClueEvent(db::Tx& tx, const supervision::v1::ClueEvent& ev) = 0;
};

// Delivers referral commands from the outbox: ClueService.RegisterClue over `channel` with
// the service's own token (`token()` is called per attempt, so it can be renewed).
outbox::Deliver ClueDeliverer(std::shared_ptr<grpc::Channel> channel, std::function<std::string()> token);

class Feed {
 public:
  // `service`: the outbox's and the consumer cursor's owner ("audit"); `lock_config`: a
  // connection for the relay's leader lock; `pool`: the service's pool. Nothing runs until
  // Start (tests drive the relay with relay().RunOnce()).
  Feed(Sink* sink, const std::string& service, db::PoolConfig lock_config, db::Pool* pool,
       std::shared_ptr<grpc::Channel> channel, std::function<std::string()> token, outbox::Options relay_options = {});
  ~Feed() { Stop(); }

  void Start();  // the relay, and the consumer of the clue feed
  void Stop();

  outbox::Relay& relay() { return relay_; }
  consumer::Consumer<supervision::v1::ClueEvent>& consumer() { return consumer_; }

 private:
  outbox::Relay relay_;
  consumer::Consumer<supervision::v1::ClueEvent> consumer_;
};

}  // namespace sm::referral
