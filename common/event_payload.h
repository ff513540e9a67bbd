// Typed event payloads (proto/supervision/v1/events.proto): every service writes its events
// from its envelope message and every reader decodes them into it, so the event types and
// their fields are defined once, in the proto, for writer and readers alike.
//
// The stored form: `type` is the name of the envelope's set oneof member, `data` is that
// member as a JSON object with the proto field names. Unlike proto3's JSON mapping, 64-bit
// integers are written as JSON numbers (what the logs have always held and what SQL and
// tools read); enums are written by name; fields without presence are always written,
// `optional` and message fields only when set. Decoding accepts either form of integers
// and enums and ignores fields it does not know (a newer writer).
#pragma once

#include <string>
#include <string_view>

#include <absl/status/status.h>
#include <absl/status/statusor.h>
#include <google/protobuf/message.h>
#include <nlohmann/json.hpp>

namespace sm::events {

struct Payload {
  std::string type;  // the set member's name: "registered", "offered", ...
  std::string json;  // its fields
};

// The set member of `envelope` (a message with exactly one oneof). INVALID_ARGUMENT when no
// member is set.
absl::StatusOr<Payload> Encode(const google::protobuf::Message& envelope);

// Encode for a writer whose envelope is set by construction (every workflow change sets
// exactly one event): none set is a bug, thrown as std::logic_error, not an input error.
Payload MustEncode(const google::protobuf::Message& envelope);

// A message as the JSON object described above.
nlohmann::json ToJson(const google::protobuf::Message& m);

// Sets the member of `envelope` named `type` from `json`. NOT_FOUND (IsUnknownType) when
// the envelope has no such member: an event type this reader does not know, to be skipped;
// INVALID_ARGUMENT when `json` does not parse as that member.
absl::Status Decode(std::string_view type, std::string_view json, google::protobuf::Message* envelope);

template <typename Envelope>
absl::StatusOr<Envelope> Decode(std::string_view type, std::string_view json) {
  Envelope e;
  absl::Status s = Decode(type, json, &e);
  if (!s.ok()) return s;
  return e;
}

bool IsUnknownType(const absl::Status& s);

// Sets the member of `envelope` named `type` to `value`, a message of that member's type:
// NOT_FOUND (IsUnknownType) when there is no such member, INVALID_ARGUMENT when `value` is
// of another type. For events whose type is made from data ("clue_" + a clue event's type).
absl::Status SetMember(google::protobuf::Message* envelope, std::string_view type,
                       const google::protobuf::Message& value);

// The set member of the envelope `from`, set in the envelope `to` under the same name (a
// piece shared by services writes its own envelope; each service's envelope carries its
// members). Errors as SetMember's, and INVALID_ARGUMENT when `from` has none set.
absl::Status Rewrap(const google::protobuf::Message& from, google::protobuf::Message* to);
// Rewrap for a writer whose envelopes carry the shared piece's members by construction (a
// member missing from `to` is a bug, thrown as std::logic_error, as MustEncode).
void MustRewrap(const google::protobuf::Message& from, google::protobuf::Message* to);

// A consumer skips an event it cannot apply: `why` is Decode's error (an unknown type, or
// data that does not read as its type). Counts sm_consumer_skipped_total{consumer,type,
// reason} (reason "unknown_type" or "unreadable") and logs the first of each at info (an
// unknown type: an older reader of a newer writer) or warning (unreadable data).
void Skip(std::string_view consumer, std::string_view type, const absl::Status& why);

}  // namespace sm::events
