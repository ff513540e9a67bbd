// Serving an event log over gRPC: history entries and the Subscribe stream, the same for
// every service (ClueEvent, AuditEvent, ... share their field names).
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <thread>
#include <vector>

#include "common/event_log.h"
#include "common/pg_listen.h"
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

using FeedFn = std::function<absl::StatusOr<std::vector<FeedEvent>>(const Cursor& after, int limit)>;

// Writes every event after `after_cursor` and then new ones as they commit, until the
// client goes away. Wakes on `listener` (NOTIFY) at once; polls every 500 ms otherwise.
// `to_msg` sets the message's aggregate id; the common fields and the cursor are set here.
template <typename Msg>
absl::Status Stream(grpc::ServerContext* ctx, const std::string& after_cursor, db::Listener* listener,
                    const FeedFn& feed, const std::function<void(Msg&, const FeedEvent&)>& to_msg,
                    grpc::ServerWriter<Msg>* writer) {
  auto cursor = Cursor::Parse(after_cursor);
  if (!cursor) return InvalidField("after_cursor", "is not a cursor from this service");
  constexpr int kBatch = 500;
  while (!ctx->IsCancelled() && !server::ShuttingDown()) {
    const uint64_t seen = listener ? listener->count() : 0;
    auto batch = feed(*cursor, kBatch);
    if (!batch.ok()) return batch.status();
    for (const auto& f : *batch) {
      Msg ev;
      FillCommon(ev, f.event);
      to_msg(ev, f);
      ev.set_cursor(f.cursor.ToString());
      if (!writer->Write(ev)) return absl::CancelledError("subscriber went away");
      *cursor = f.cursor;
    }
    if (static_cast<int>(batch->size()) == kBatch) continue;
    // NOTIFY wakes us at once; the timeout is the polling fallback, and re-checks the
    // horizon when a slow older transaction finally commits.
    if (listener) {
      listener->Wait(seen, std::chrono::milliseconds(200));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  if (server::ShuttingDown()) return absl::UnavailableError("server shutting down; reconnect");
  return absl::OkStatus();
}

}  // namespace sm::events
