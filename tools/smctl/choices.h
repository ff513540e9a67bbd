// The command-line spellings of enum values and their labels in both languages, as one table
// per enum (e.g. {CLUE_SOURCE_PETITION, "petition", "信访举报", "petition"}).
#pragma once

#include <string>
#include <vector>

#include "tools/smctl/output.h"

namespace sm::smctl {

struct Choice {
  int value;
  const char* cli;  // command-line spelling
  const char* zh;
  const char* en;
};
using Choices = std::vector<Choice>;

// Every spelling, in table order (for CLI::IsMember and the docs).
std::vector<std::string> Spellings(const Choices& choices);
// The value spelled `cli`; 0 (the enum's UNSPECIFIED) when none is.
int ChoiceValue(const Choices& choices, const std::string& cli);
// The label of `value`; "" for 0, "?N" for a value not in the table.
std::string Label(Lang lang, const Choices& choices, int value);

}  // namespace sm::smctl
