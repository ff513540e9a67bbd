#include "tools/smctl/history.h"

namespace sm::smctl {

std::string EventDataText(
    Lang l, const std::string& json, const KeyLabels& labels,
    const std::function<std::optional<std::string>(const std::string& key, const nlohmann::json& value)>& text) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return json;
  std::vector<std::string> parts;
  for (const auto& [key, value] : j.items()) {
    std::optional<std::string> t = text(key, value);
    if (!t) continue;
    auto it = labels.find(key);
    parts.push_back((it == labels.end() ? key : std::string(T(l, it->second.first, it->second.second))) +
                    T(l, "：", ": ") + *t);
  }
  return Join(parts, T(l, "；", "; "));
}

}  // namespace sm::smctl
