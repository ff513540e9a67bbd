#include "tools/smctl/choices.h"

namespace sm::smctl {

std::vector<std::string> Spellings(const Choices& choices) {
  std::vector<std::string> out;
  for (const auto& c : choices) out.push_back(c.cli);
  return out;
}

int ChoiceValue(const Choices& choices, const std::string& cli) {
  for (const auto& c : choices) {
    if (cli == c.cli) return c.value;
  }
  return 0;
}

std::string Label(Lang lang, const Choices& choices, int value) {
  for (const auto& c : choices) {
    if (c.value == value) return T(lang, c.zh, c.en);
  }
  return value == 0 ? "" : "?" + std::to_string(value);
}

}  // namespace sm::smctl
