#include "common/paging.h"

#include <absl/strings/escaping.h>

#include "common/crypto.h"
#include "common/status.h"

namespace sm::paging {

std::string FilterFingerprint(const google::protobuf::Message& request) {
  std::unique_ptr<google::protobuf::Message> copy(request.New());
  copy->CopyFrom(request);
  const auto* d = copy->GetDescriptor();
  for (const char* name : {"page_size", "page_token"}) {
    if (const auto* f = d->FindFieldByName(name)) copy->GetReflection()->ClearField(copy.get(), f);
  }
  std::string bytes;
  copy->SerializeToString(&bytes);
  return crypto::Sha256Hex(d->full_name() + ":" + bytes).substr(0, 16);
}

std::string Encode(const nlohmann::json& position, const std::string& fingerprint) {
  nlohmann::json tok = {{"p", position}, {"f", fingerprint}};
  return absl::WebSafeBase64Escape(tok.dump());
}

absl::StatusOr<std::optional<nlohmann::json>> Decode(const std::string& token, const std::string& fingerprint) {
  if (token.empty()) return std::optional<nlohmann::json>();
  std::string raw;
  nlohmann::json tok;
  if (token.size() < 4096 && absl::WebSafeBase64Unescape(token, &raw)) tok = nlohmann::json::parse(raw, nullptr, false);
  if (!tok.is_object() || !tok.contains("p") || !tok["f"].is_string()) {
    return InvalidField("page_token", "is not a token from this API");
  }
  if (tok["f"].get<std::string>() != fingerprint) return InvalidField("page_token", "was issued for different filters");
  return std::optional<nlohmann::json>(tok["p"]);
}

std::string EncodeTimeId(const TimeId& position, const std::string& fingerprint) {
  return Encode(nlohmann::json::array({position.first, position.second}), fingerprint);
}

std::optional<TimeId> DecodeTimeId(const std::string& token, const std::string& fingerprint, FieldErrors& errors) {
  auto pos = Decode(token, fingerprint);
  for (const auto& v : FieldViolations(pos.status())) errors.Add(v.field, v.description);
  if (!pos.ok() || !pos->has_value()) return std::nullopt;
  const auto& j = **pos;
  if (!j.is_array() || j.size() != 2 || !j[0].is_number_integer() || !j[1].is_string() ||
      j[1].get<std::string>().size() != 36) {
    errors.Add("page_token", "is not a token from this API");
    return std::nullopt;
  }
  return TimeId{j[0].get<int64_t>(), j[1].get<std::string>()};
}

absl::StatusOr<int> PageSize(int requested, int def, int max) {
  if (requested < 0) return InvalidField("page_size", "must not be negative");
  if (requested == 0) return def;
  return std::min(requested, max);
}

SeqPage DecodeSeqPage(const google::protobuf::Message& request, int page_size, const std::string& token, int def,
                      int max, FieldErrors& errors) {
  SeqPage p;
  auto size = PageSize(page_size, def, max);
  for (const auto& v : FieldViolations(size.status())) errors.Add(v.field, v.description);
  p.size = size.ok() ? *size : def;
  auto position = Decode(token, FilterFingerprint(request));
  for (const auto& v : FieldViolations(position.status())) errors.Add(v.field, v.description);
  if (position.ok() && *position) {
    if (!(*position)->is_number_integer() || (*position)->get<int64_t>() < 0) {
      errors.Add("page_token", "is not a token of this history");
    } else {
      p.after_seq = (*position)->get<int64_t>();
    }
  }
  return p;
}

}  // namespace sm::paging
