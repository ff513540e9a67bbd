#include "common/referral_feed.h"

#include "common/client.h"
#include "common/status.h"

namespace sm::referral {

namespace v1 = ::supervision::v1;

namespace {

// "<kind>:<item>" of an outbox row's dedupe key.
std::pair<std::string, std::string> KeyOf(const outbox::Row& row) {
  const size_t colon = row.dedupe_key.find(':');
  if (colon == std::string::npos) return {"", row.dedupe_key};
  return {row.dedupe_key.substr(0, colon), row.dedupe_key.substr(colon + 1)};
}

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

Feed::Feed(Sink* sink, const std::string& service, db::PoolConfig lock_config, db::Pool* pool,
           std::shared_ptr<grpc::Channel> channel, std::function<std::string()> token, outbox::Options relay_options)
    : relay_(
          std::move(lock_config), pool, service, ClueDeliverer(channel, token),
          [sink](db::Tx& tx, const outbox::Row& row, const std::string& response) {
            v1::ClueReply reply;
            if (!reply.ParseFromString(response)) return absl::InternalError("clue reply unreadable");
            auto [kind, item] = KeyOf(row);
            return sink->Delivered(tx, kind, item, reply);
          },
          [sink](db::Tx& tx, const outbox::Row& row, const absl::Status& why) {
            auto [kind, item] = KeyOf(row);
            return sink->Dead(tx, kind, item, why.ToString());
          },
          relay_options),
      consumer_(pool, service, "clue-events", consumer::Bearer(token),
                consumer::SubscribeOn<v1::ClueService, v1::ClueEvent, v1::SubscribeRequest>(channel),
                [sink](db::Tx& tx, const v1::ClueEvent& ev) { return sink->ApplyClueEvent(tx, ev); }) {}

void Feed::Start() {
  relay_.Start();
  consumer_.Start();
}

void Feed::Stop() {
  consumer_.Stop();
  relay_.Stop();
}

}  // namespace sm::referral
