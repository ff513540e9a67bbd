#include "common/event_payload.h"

#include <mutex>
#include <set>
#include <stdexcept>

#include <absl/strings/match.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>
#include <prometheus/counter.h>

#include "common/log.h"
#include "common/metrics.h"

namespace sm::events {
namespace {

namespace pb = google::protobuf;
using FD = pb::FieldDescriptor;

constexpr char kUnknownType[] = "unknown event type";

nlohmann::json ValueOf(const pb::Message& m, const FD* f, int index) {
  const pb::Reflection* r = m.GetReflection();
  const bool rep = f->is_repeated();
  switch (f->cpp_type()) {
    case FD::CPPTYPE_INT32: return rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f);
    case FD::CPPTYPE_INT64: return rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f);
    case FD::CPPTYPE_UINT32: return rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f);
    case FD::CPPTYPE_UINT64: return rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f);
    case FD::CPPTYPE_DOUBLE: return rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f);
    case FD::CPPTYPE_FLOAT: return rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f);
    case FD::CPPTYPE_BOOL: return rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f);
    case FD::CPPTYPE_STRING: return rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f);
    case FD::CPPTYPE_ENUM: {
      const pb::EnumValueDescriptor* v = rep ? r->GetRepeatedEnum(m, f, index) : r->GetEnum(m, f);
      return v->name();
    }
    case FD::CPPTYPE_MESSAGE: return ToJson(rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f));
  }
  return nullptr;
}

}  // namespace

nlohmann::json ToJson(const pb::Message& m) {
  nlohmann::json out = nlohmann::json::object();
  const pb::Descriptor* d = m.GetDescriptor();
  const pb::Reflection* r = m.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const FD* f = d->field(i);
    if (f->is_repeated()) {
      nlohmann::json items = nlohmann::json::array();
      for (int k = 0; k < r->FieldSize(m, f); ++k) items.push_back(ValueOf(m, f, k));
      out[f->name()] = std::move(items);
    } else if (!f->has_presence() || r->HasField(m, f)) {
      out[f->name()] = ValueOf(m, f, 0);
    }
  }
  return out;
}

namespace {

// The member of `envelope` that is set: INTERNAL when the message is not an envelope (one
// oneof), INVALID_ARGUMENT when no member is set.
absl::StatusOr<const FD*> SetMemberOf(const pb::Message& envelope) {
  const pb::Descriptor* d = envelope.GetDescriptor();
  if (d->oneof_decl_count() != 1) return absl::InternalError(std::string(d->full_name()) + " is not an event envelope");
  const FD* member = envelope.GetReflection()->GetOneofFieldDescriptor(envelope, d->oneof_decl(0));
  if (member == nullptr) return absl::InvalidArgumentError(std::string(d->full_name()) + ": no event set");
  return member;
}

// The member of `d` named `type`: NOT_FOUND (IsUnknownType) when `d` has no such event type.
absl::StatusOr<const FD*> MemberNamed(const pb::Descriptor* d, std::string_view type) {
  const FD* member = d->FindFieldByName(std::string(type));
  if (member == nullptr || member->containing_oneof() == nullptr || member->message_type() == nullptr) {
    return absl::NotFoundError(kUnknownType + std::string(" \"") + std::string(type) + "\" for " + d->full_name());
  }
  return member;
}

}  // namespace

absl::StatusOr<Payload> Encode(const pb::Message& envelope) {
  absl::StatusOr<const FD*> member = SetMemberOf(envelope);
  if (!member.ok()) return member.status();
  return Payload{(*member)->name(), ToJson(envelope.GetReflection()->GetMessage(envelope, *member)).dump()};
}

Payload MustEncode(const pb::Message& envelope) {
  absl::StatusOr<Payload> p = Encode(envelope);
  if (!p.ok()) throw std::logic_error(std::string(p.status().message()));
  return *std::move(p);
}

void MustRewrap(const pb::Message& from, pb::Message* to) {
  if (absl::Status s = Rewrap(from, to); !s.ok()) throw std::logic_error(std::string(s.message()));
}

absl::Status Decode(std::string_view type, std::string_view json, pb::Message* envelope) {
  absl::StatusOr<const FD*> member = MemberNamed(envelope->GetDescriptor(), type);
  if (!member.ok()) return member.status();
  pb::Message* target = envelope->GetReflection()->MutableMessage(envelope, *member);
  pb::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto s = pb::util::JsonStringToMessage(pb::StringPiece(json.data(), json.size()), target, options);
  if (!s.ok()) {
    envelope->Clear();
    return absl::InvalidArgumentError("event \"" + std::string(type) + "\": " + std::string(s.message()));
  }
  return absl::OkStatus();
}

absl::Status SetMember(pb::Message* envelope, std::string_view type, const pb::Message& value) {
  absl::StatusOr<const FD*> member = MemberNamed(envelope->GetDescriptor(), type);
  if (!member.ok()) return member.status();
  if ((*member)->message_type() != value.GetDescriptor()) {
    return absl::InvalidArgumentError("event \"" + std::string(type) + "\" is a " +
                                      (*member)->message_type()->full_name() + ", not a " +
                                      value.GetDescriptor()->full_name());
  }
  envelope->GetReflection()->MutableMessage(envelope, *member)->CopyFrom(value);
  return absl::OkStatus();
}

absl::Status Rewrap(const pb::Message& from, pb::Message* to) {
  absl::StatusOr<const FD*> member = SetMemberOf(from);
  if (!member.ok()) return member.status();
  return SetMember(to, (*member)->name(), from.GetReflection()->GetMessage(from, *member));
}

bool IsUnknownType(const absl::Status& s) {
  return s.code() == absl::StatusCode::kNotFound && absl::StartsWith(s.message(), kUnknownType);
}

void Skip(std::string_view consumer, std::string_view type, const absl::Status& why) {
  static auto& family = prometheus::BuildCounter()
                            .Name("sm_consumer_skipped_total")
                            .Help("Events a consumer skipped: a type it does not know, or data it cannot read")
                            .Register(metrics::Metrics::Global().registry());
  const bool unknown = IsUnknownType(why);
  const std::string reason = unknown ? "unknown_type" : "unreadable";
  family.Add({{"consumer", std::string(consumer)}, {"type", std::string(type)}, {"reason", reason}}).Increment();
  static std::mutex mu;
  static std::set<std::string> seen;
  std::lock_guard lock(mu);
  if (!seen.insert(std::string(consumer) + "/" + std::string(type) + "/" + reason).second) return;
  const nlohmann::json fields = {{"consumer", consumer}, {"type", type}, {"error", why.message()}};
  if (unknown)
    log::Info("skipping events of an unknown type", fields);
  else
    log::Warn("skipping an event whose data cannot be read", fields);
}

}  // namespace sm::events
