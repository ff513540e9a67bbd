// Risk scores (一人一档), pure: the scoring rules read from a YAML file and checked at
// start-up (each error naming the rule), and a person's score computed from their signals
// at a point in time, with its explanation. docs/risk.md § Scores.
//
// The rule file:
//   threshold: 60          # a score reaching it opens a risk item (once per upward crossing)
//   max_score: 100         # the total is capped here
//   signals:               # one rule per signal kind; every kind the service emits must have one
//     clue_named:          # a clue registered naming the person
//       weight: 10         # points a fresh signal counts (0..1000)
//       half_life_days: 180  # its value halves every this many days (> 0)
//       cap: 30            # the rule's signals together count at most this (0: no cap)
//     clue_concluded:
//       grades: {form_1: 5, form_2: 20, form_3: 35, form_4: 50}   # weight by grade
//       half_life_days: 365
//       cap: 60
//     ...
// A rule has `weight` or `grades` (grade -> weight), or both (`weight` then counts for a
// grade the map does not list). Unknown keys, unknown signal kinds and kinds the service
// emits without a rule are errors.
//
// The score at time t: for each rule, raw = sum over its signals of
// weight(grade) * 0.5^((t - at) / half_life), value = min(raw, cap) (no cap when 0); the
// score is min(sum of values, max_score), rounded to 0.1. Signals dated after t count fully.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <absl/status/statusor.h>

#include "common/clock.h"
#include "supervision/v1/risk.pb.h"

namespace sm::risk {

// The signal kinds risk-service emits, and the grades each may carry:
//   clue_named            (clue-service: a clue registered naming the person)       no grade
//   clue_concluded        (a clue naming the person concluded)            form_1 .. form_4
//   audit_finding         (an audit finding naming the person)   LOW MEDIUM HIGH CRITICAL
//   inspection_finding    (an inspection finding naming the person)      same severities
//   inspection_measure    (a measure on the officer)   CORRECTION WITHHOLD REMOVAL SUSPENSION CONFINEMENT
//   accountability_check  (a leader's 一案双查 check opened)           PRINCIPAL SUPERVISING
//   risk_item             (a risk item about the person, not from the score)  LOW MEDIUM HIGH
//   admonishment          (a 诫勉谈话)                                            no grade
const std::vector<std::string>& SignalKinds();

struct Rule {
  std::string kind;
  double weight = 0;  // for grades the map does not list
  bool has_weight = false;
  std::map<std::string, double> grades;  // grade -> weight
  double half_life_days = 0;
  double cap = 0;  // 0: none

  double WeightOf(const std::string& grade) const;
};

struct Rules {
  double threshold = 60;
  double max_score = 100;
  std::map<std::string, Rule> rules;  // by kind; one for every SignalKinds() entry
  std::string version;                // "sha256:<first 12 hex>" of the file's text
};

// Parses and checks a rule file. INVALID_ARGUMENT naming the rule and key
// ("signals.clue_named.half_life_days: must be > 0"), every problem listed, one per line.
absl::StatusOr<Rules> ParseRules(const std::string& yaml);
// Reads `path` and parses it; the error names the file.
absl::StatusOr<Rules> LoadRules(const std::string& path);

// One signal as stored.
struct Signal {
  std::string kind, grade, source, ref;
  int64_t at_us = 0;
};

// The score of `signals` at `now_us` with the explanation filled in `out`: score, terms
// (one per rule that has signals, in SignalKinds() order), explained (every signal, newest
// first, with its weight, value now, half life, halves_at = now + half_life and fades_at =
// when its value drops below 0.5, or now when it is already below), threshold,
// rules_version, signals (count) and as_of. Leaves id, unit_id, above, crossings and
// version alone.
void Score(const Rules& rules, const std::vector<Signal>& signals, int64_t now_us, supervision::v1::PersonScore* out);
// Only the number (what the consumer compares with the threshold).
double ScoreOf(const Rules& rules, const std::vector<Signal>& signals, int64_t now_us);

}  // namespace sm::risk
