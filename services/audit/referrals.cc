#include "services/audit/referrals.h"

#include "common/client.h"
#include "common/status.h"

namespace sm::audit {

namespace v1 = ::supervision::v1;

namespace {

// The finding an outbox row refers ("finding:<id>").
std::string FindingOf(const outbox::Row& row) { return row.dedupe_key.substr(row.dedupe_key.find(':') + 1); }

}  // namespace

outbox::Deliver ClueDeliverer(std::shared_ptr<grpc::Channel> channel, std::function<std::string()> token) {
  auto stub = std::shared_ptr<v1::ClueService::Stub>(v1::ClueService::NewStub(channel));
  return [stub, token](const outbox::Row& row, std::chrono::milliseconds deadline) -> outbox::Delivery {
    if (row.kind != "clue.register") {
      return {absl::InvalidArgumentError("unknown command kind " + row.kind), ""};
    }
    v1::RegisterClueRequest req;
    if (!req.ParseFromString(row.payload)) return {absl::InvalidArgumentError("command payload unreadable"), ""};
    grpc::ClientContext ctx;
    client::Config cc;
    client::PrepareContext(&ctx, cc, token(), deadline);
    v1::ClueReply reply;
    grpc::Status s = stub->RegisterClue(&ctx, req, &reply);
    return {FromGrpcStatus(s), s.ok() ? reply.SerializeAsString() : ""};
  };
}

Referrals::Referrals(PgStore* store, db::PoolConfig lock_config, db::Pool* pool, std::shared_ptr<grpc::Channel> channel,
                     std::function<std::string()> token, outbox::Options relay_options)
    : relay_(
          std::move(lock_config), pool, "audit", ClueDeliverer(channel, token),
          [store](db::Tx& tx, const outbox::Row& row, const std::string& response) {
            v1::ClueReply reply;
            if (!reply.ParseFromString(response)) return absl::InternalError("clue reply unreadable");
            return store->ReferralDelivered(tx, FindingOf(row), reply);
          },
          [store](db::Tx& tx, const outbox::Row& row, const absl::Status& why) {
            return store->ReferralDead(tx, FindingOf(row), why.ToString());
          },
          relay_options),
      consumer_(
          pool, "audit", "clue-events",
          [token](grpc::ClientContext* ctx) { ctx->AddMetadata("authorization", "Bearer " + token()); },
          [stub = std::shared_ptr<v1::ClueService::Stub>(v1::ClueService::NewStub(channel))](
              grpc::ClientContext* ctx, const std::string& cursor) {
            v1::SubscribeRequest req;
            req.set_after_cursor(cursor);
            return stub->Subscribe(ctx, req);
          },
          [store](db::Tx& tx, const v1::ClueEvent& ev) { return store->ApplyClueEvent(tx, ev); }) {}

void Referrals::Start() {
  relay_.Start();
  consumer_.Start();
}

void Referrals::Stop() {
  consumer_.Stop();
  relay_.Stop();
}

}  // namespace sm::audit
