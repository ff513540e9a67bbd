#include "services/risk/scoring.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>

#include "common/config.h"
#include "common/crypto.h"
#include "common/db/sql.h"

namespace sm::risk {
namespace {

constexpr double kMaxWeight = 1000;
// Longer half lives would push fades_at past what a Timestamp can hold.
constexpr double kMaxHalfLifeDays = 36500;
constexpr double kMicrosPerDay = 86400.0 * 1e6;
// 9999-12-31T23:59:59.999999Z, the last instant a google.protobuf.Timestamp may hold.
constexpr int64_t kMaxTimestampMicros = 253402300799LL * 1000000 + 999999;

// Each signal kind with the grades it may carry (empty: none), in SignalKinds() order.
const std::vector<std::pair<std::string, std::vector<std::string>>>& KindTable() {
  static const auto* table = new std::vector<std::pair<std::string, std::vector<std::string>>>{
      {"clue_named", {}},
      {"clue_concluded", {"form_1", "form_2", "form_3", "form_4"}},
      {"audit_finding", {"LOW", "MEDIUM", "HIGH", "CRITICAL"}},
      {"inspection_finding", {"LOW", "MEDIUM", "HIGH", "CRITICAL"}},
      {"inspection_measure", {"CORRECTION", "WITHHOLD", "REMOVAL", "SUSPENSION", "CONFINEMENT"}},
      {"accountability_check", {"PRINCIPAL", "SUPERVISING"}},
      {"risk_item", {"LOW", "MEDIUM", "HIGH"}},
      {"admonishment", {}},
  };
  return *table;
}

const std::vector<std::string>* GradesOf(const std::string& kind) {
  for (const auto& [k, grades] : KindTable()) {
    if (k == kind) return &grades;
  }
  return nullptr;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

std::string KeyOf(const YAML::Node& key) { return key.IsScalar() ? key.Scalar() : "<non-scalar key>"; }

// The problems found so far, each "<key path>: <what>".
class Problems {
 public:
  void Add(const std::string& path, const std::string& what) { lines_.push_back(path + ": " + what); }
  bool empty() const { return lines_.empty(); }
  std::string Text() const {
    std::string out;
    for (const std::string& l : lines_) {
      if (!out.empty()) out += "\n";
      out += l;
    }
    return out;
  }

 private:
  std::vector<std::string> lines_;
};

// A finite number at `node`, or a problem at `path`.
std::optional<double> NumberAt(const YAML::Node& node, const std::string& path, Problems& p) {
  double v = 0;
  if (!node.IsScalar() || !YAML::convert<double>::decode(node, v) || !std::isfinite(v)) {
    p.Add(path, "must be a number");
    return std::nullopt;
  }
  return v;
}

std::optional<double> WeightAt(const YAML::Node& node, const std::string& path, Problems& p) {
  std::optional<double> w = NumberAt(node, path, p);
  if (!w) return std::nullopt;
  if (*w < 0 || *w > kMaxWeight) {
    p.Add(path, "must be between 0 and 1000");
    return std::nullopt;
  }
  return w;
}

void ParseRule(const std::string& kind, const YAML::Node& node, Problems& p, Rule& rule) {
  const std::string base = "signals." + kind;
  rule.kind = kind;
  if (!node.IsMap()) {
    p.Add(base, "must be a map (weight or grades, half_life_days, cap)");
    return;
  }
  const std::vector<std::string>& allowed = *GradesOf(kind);
  bool has_half_life = false;
  bool has_grades = false;
  for (const auto& kv : node) {
    const std::string key = KeyOf(kv.first);
    const std::string path = base + "." + key;
    if (key == "weight") {
      rule.has_weight = true;
      if (auto w = WeightAt(kv.second, path, p)) rule.weight = *w;
    } else if (key == "grades") {
      has_grades = true;
      if (allowed.empty()) {
        p.Add(path, kind + " takes no grades (use weight)");
        continue;
      }
      if (!kv.second.IsMap()) {
        p.Add(path, "must be a map of grade to weight");
        continue;
      }
      for (const auto& g : kv.second) {
        const std::string grade = KeyOf(g.first);
        const std::string gpath = path + "." + grade;
        if (std::find(allowed.begin(), allowed.end(), grade) == allowed.end()) {
          p.Add(gpath, "unknown grade (known: " + Join(allowed) + ")");
          continue;
        }
        if (auto w = WeightAt(g.second, gpath, p)) rule.grades[grade] = *w;
      }
    } else if (key == "half_life_days") {
      has_half_life = true;
      if (auto h = NumberAt(kv.second, path, p)) {
        if (*h <= 0) {
          p.Add(path, "must be > 0");
        } else if (*h > kMaxHalfLifeDays) {
          p.Add(path, "must be at most 36500 (100 years)");
        } else {
          rule.half_life_days = *h;
        }
      }
    } else if (key == "cap") {
      if (auto c = NumberAt(kv.second, path, p)) {
        if (*c < 0) {
          p.Add(path, "must be >= 0 (0: no cap)");
        } else {
          rule.cap = *c;
        }
      }
    } else {
      p.Add(path, "unknown key (known: weight, grades, half_life_days, cap)");
    }
  }
  if (!rule.has_weight && !has_grades) p.Add(base, "needs weight or grades");
  if (!has_half_life) p.Add(base + ".half_life_days", "missing");
}

double Round1(double x) { return std::round(x * 10) / 10; }

int64_t ClampMicros(double us) {
  if (!(us < static_cast<double>(kMaxTimestampMicros))) return kMaxTimestampMicros;
  if (us < static_cast<double>(std::numeric_limits<int64_t>::min())) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(std::ceil(us));
}

// The value of a signal of weight `weight` dated `at_us` at `now_us` (full when in the future).
double Decayed(double weight, double half_life_days, int64_t at_us, int64_t now_us) {
  if (half_life_days <= 0) return 0;
  if (now_us <= at_us) return weight;
  const double age_half_lives = static_cast<double>(now_us - at_us) / (half_life_days * kMicrosPerDay);
  return weight * std::exp2(-age_half_lives);
}

// Per SignalKinds() entry: how many signals and their summed value; returns the score.
struct Tally {
  int signals = 0;
  double raw = 0;
};

double Total(const Rules& rules, const std::vector<Signal>& signals, int64_t now_us,
             std::map<std::string, Tally>* tallies) {
  std::map<std::string, Tally> local;
  std::map<std::string, Tally>& by_kind = tallies != nullptr ? *tallies : local;
  for (const Signal& s : signals) {
    auto it = rules.rules.find(s.kind);
    if (it == rules.rules.end()) continue;  // a kind without a rule counts nothing
    const Rule& r = it->second;
    Tally& t = by_kind[s.kind];
    ++t.signals;
    t.raw += Decayed(r.WeightOf(s.grade), r.half_life_days, s.at_us, now_us);
  }
  double sum = 0;
  for (const auto& [kind, t] : by_kind) {
    const Rule& r = rules.rules.at(kind);
    sum += r.cap > 0 ? std::min(t.raw, r.cap) : t.raw;
  }
  return Round1(std::min(sum, rules.max_score));
}

}  // namespace

const std::vector<std::string>& SignalKinds() {
  static const auto* kinds = [] {
    auto* v = new std::vector<std::string>;
    for (const auto& [k, grades] : KindTable()) v->push_back(k);
    return v;
  }();
  return *kinds;
}

double Rule::WeightOf(const std::string& grade) const {
  auto it = grades.find(grade);
  if (it != grades.end()) return it->second;
  return has_weight ? weight : 0;
}

absl::StatusOr<Rules> ParseRules(const std::string& yaml) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError("yaml: line " + std::to_string(e.mark.line + 1) + ", column " +
                                      std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  Rules out;
  Problems p;
  if (!root.IsMap()) {
    p.Add("(top level)", "must be a map with threshold, max_score and signals");
    return absl::InvalidArgumentError(p.Text());
  }
  std::optional<double> threshold;  // a number as written
  bool threshold_seen = false;
  bool max_score_ok = true;  // false: reported, skip checks against it
  YAML::Node signals;
  bool signals_seen = false;
  for (const auto& kv : root) {
    const std::string key = KeyOf(kv.first);
    if (key == "threshold") {
      threshold_seen = true;
      threshold = NumberAt(kv.second, key, p);
    } else if (key == "max_score") {
      std::optional<double> m = NumberAt(kv.second, key, p);
      if (m && *m <= 0) p.Add(key, "must be > 0");
      if (m && *m > 0) {
        out.max_score = *m;
      } else {
        max_score_ok = false;
      }
    } else if (key == "signals") {
      signals_seen = true;
      signals = kv.second;
    } else {
      p.Add(key, "unknown key (known: threshold, max_score, signals)");
    }
  }
  if (threshold) {
    if (*threshold <= 0 || (max_score_ok && *threshold > out.max_score)) {
      p.Add("threshold", "must be > 0 and <= max_score");
    } else {
      out.threshold = *threshold;
    }
  } else if (!threshold_seen && max_score_ok && out.threshold > out.max_score) {
    p.Add("threshold", "must be > 0 and <= max_score (default 60)");
  }

  if (!signals_seen) {
    p.Add("signals", "missing (every signal kind needs a rule: " + Join(SignalKinds()) + ")");
  } else if (!signals.IsMap()) {
    p.Add("signals", "must be a map of signal kind to rule");
  } else {
    for (const auto& kv : signals) {
      const std::string kind = KeyOf(kv.first);
      if (GradesOf(kind) == nullptr) {
        p.Add("signals." + kind, "unknown signal kind (known: " + Join(SignalKinds()) + ")");
        continue;
      }
      Rule rule;
      ParseRule(kind, kv.second, p, rule);
      out.rules[kind] = std::move(rule);
    }
    for (const std::string& kind : SignalKinds()) {
      if (!out.rules.contains(kind)) p.Add("signals." + kind, "missing (every signal kind needs a rule)");
    }
  }
  if (!p.empty()) return absl::InvalidArgumentError(p.Text());
  out.version = "sha256:" + crypto::Sha256Hex(yaml).substr(0, 12);
  return out;
}

absl::StatusOr<Rules> LoadRules(const std::string& path) {
  std::optional<std::string> text = config::ReadFileText(path);
  if (!text) return absl::NotFoundError(path + ": cannot read the risk rule file");
  absl::StatusOr<Rules> rules = ParseRules(*text);
  if (rules.ok()) return rules;
  // Every line names the file.
  std::string msg;
  const std::string problems(rules.status().message());
  std::string_view rest = problems;
  while (true) {
    size_t nl = rest.find('\n');
    if (!msg.empty()) msg += "\n";
    msg += path + ": " + std::string(rest.substr(0, nl));
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return absl::Status(rules.status().code(), msg);
}

void Score(const Rules& rules, const std::vector<Signal>& signals, int64_t now_us, supervision::v1::PersonScore* out) {
  std::map<std::string, Tally> tallies;
  out->set_score(Total(rules, signals, now_us, &tallies));
  db::SetMicros(out->mutable_as_of(), now_us);
  out->set_threshold(rules.threshold);
  out->set_rules_version(rules.version);
  out->set_signals(static_cast<int64_t>(signals.size()));

  out->clear_terms();
  for (const std::string& kind : SignalKinds()) {
    auto t = tallies.find(kind);
    if (t == tallies.end()) continue;
    const Rule& r = rules.rules.at(kind);
    supervision::v1::ScoreTerm* term = out->add_terms();
    term->set_kind(kind);
    term->set_signals(t->second.signals);
    term->set_raw(t->second.raw);
    term->set_cap(r.cap);
    term->set_value(r.cap > 0 ? std::min(t->second.raw, r.cap) : t->second.raw);
  }

  std::vector<const Signal*> order;
  order.reserve(signals.size());
  for (const Signal& s : signals) order.push_back(&s);
  std::stable_sort(order.begin(), order.end(), [](const Signal* a, const Signal* b) { return a->at_us > b->at_us; });

  out->clear_explained();
  for (const Signal* s : order) {
    auto it = rules.rules.find(s->kind);
    const Rule* r = it == rules.rules.end() ? nullptr : &it->second;
    const double weight = r != nullptr ? r->WeightOf(s->grade) : 0;
    const double hl_days = r != nullptr ? r->half_life_days : 0;
    const double hl_us = hl_days * kMicrosPerDay;
    const double value = r != nullptr ? Decayed(weight, hl_days, s->at_us, now_us) : 0;

    supervision::v1::ScoreSignal* e = out->add_explained();
    e->set_kind(s->kind);
    e->set_grade(s->grade);
    e->set_source(s->source);
    e->set_ref(s->ref);
    db::SetMicros(e->mutable_at(), s->at_us);
    e->set_weight(weight);
    e->set_value(value);
    e->set_half_life_days(hl_days);
    // Half of today's value one half life from now, or from its date when it is in the future
    // (it counts fully until then).
    db::SetMicros(e->mutable_halves_at(), ClampMicros(static_cast<double>(std::max(now_us, s->at_us)) + hl_us));
    // weight * 0.5^((t - at) / hl) < 0.5  <=>  t > at + hl * log2(2 * weight).
    int64_t fades = now_us;
    if (value >= 0.5 && hl_us > 0) {
      fades = std::max(now_us, ClampMicros(static_cast<double>(s->at_us) + hl_us * std::log2(2 * weight)));
    }
    db::SetMicros(e->mutable_fades_at(), fades);
  }
}

double ScoreOf(const Rules& rules, const std::vector<Signal>& signals, int64_t now_us) {
  return Total(rules, signals, now_us, nullptr);
}

}  // namespace sm::risk
