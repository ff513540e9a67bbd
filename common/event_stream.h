// Serving an event log over gRPC: history entries and the Subscribe stream, the same for
// every service (ClueEvent, AuditEvent, ... share their field names). The feed itself comes
// from the service's FeedHub (event_hub.h).
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <vector>

#include "common/auth.h"
#include "common/clock.h"
#include "common/event_hub.h"
#include "common/event_log.h"
#include "common/server.h"
#include "common/status.h"

namespace sm::events {

// Copies what every event message carries (seq, type, actor, time, data, hashes).
template <typename Msg>
void FillCommon(Msg& out, const chain::Event& e) {
  out.set_seq(e.seq);
  out.set_type(e.type);
  out.set_actor(e.actor);
  out.set_actor_unit_id(e.actor_unit);
  out.mutable_at()->set_seconds(e.at_micros / 1000000);
  out.mutable_at()->set_nanos(static_cast<int32_t>((e.at_micros % 1000000) * 1000));
  out.set_data_json(e.data);
  out.set_hash(e.hash);
  out.set_prev_hash(e.prev_hash);
}

// Writes every event after `after_cursor` and then new ones as they commit, taken from the
// service's shared `hub` (one database reader for all streams; a stream that is behind reads
// pages until it catches up). Ends with UNAUTHENTICATED "token expired" when the caller's
// token expires by `clock`, checked at least every 200 ms, and when the client goes away
// or the server shuts down. RESOURCE_EXHAUSTED when the caller (token subject) or the
// server has no stream left (HubOptions). `to_msg` sets the message's aggregate id; the
// common fields and the cursor are set here.
template <typename Msg>
absl::Status Stream(grpc::ServerContext* ctx, const auth::Principal& principal, const Clock& clock,
                    const std::string& after_cursor, FeedHub& hub,
                    const std::function<void(Msg&, const FeedEvent&)>& to_msg, grpc::ServerWriter<Msg>* writer) {
  auto cursor = Cursor::Parse(after_cursor);
  if (!cursor) return InvalidField("after_cursor", "is not a cursor from this service");
  // A principal without an expiry did not come from a checked token: treat it as expired.
  const TimePoint expires = FromUnixSeconds(principal.expires_at);
  auto expired = [&] { return principal.expires_at <= 0 || clock.Now() >= expires; };
  if (expired()) return absl::UnauthenticatedError("token expired");
  SM_ASSIGN_OR_RETURN(std::unique_ptr<FeedHub::Subscription> sub, hub.Open(principal.user, *cursor));
  while (!ctx->IsCancelled() && !server::ShuttingDown()) {
    if (expired()) return absl::UnauthenticatedError("token expired");
    SM_ASSIGN_OR_RETURN(std::vector<SharedEvent> batch, sub->Next(std::chrono::milliseconds(200)));
    for (const SharedEvent& f : batch) {
      Msg ev;
      FillCommon(ev, f->event);
      to_msg(ev, *f);
      ev.set_cursor(f->cursor.ToString());
      if (!writer->Write(ev)) return absl::CancelledError("subscriber went away");
    }
  }
  if (server::ShuttingDown()) return absl::UnavailableError("server shutting down; reconnect");
  return absl::OkStatus();
}

// Stream for a feed that is the whole service's (every aggregate's events): other services
// and oversight only (PERMISSION_DENIED otherwise); each message's aggregate_id is set.
template <typename Msg>
absl::Status StreamWhole(grpc::ServerContext* ctx, const auth::Principal& principal, const Clock& clock,
                         const std::string& after_cursor, FeedHub& hub, grpc::ServerWriter<Msg>* writer) {
  if (!principal.HasRole(auth::kRoleService) && !principal.HasRole(auth::kRoleOversight)) {
    return absl::PermissionDeniedError("Subscribe is for services and oversight");
  }
  return Stream<Msg>(
      ctx, principal, clock, after_cursor, hub,
      [](Msg& ev, const FeedEvent& f) { ev.set_aggregate_id(f.event.aggregate_id); }, writer);
}

}  // namespace sm::events
