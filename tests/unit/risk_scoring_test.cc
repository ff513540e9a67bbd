// The risk score rules (services/risk/scoring.h): the default rule file parses, every kind
// of error in a rule file is reported with its key path (all of them, one per line), and the
// score with its explanation: decay, caps, grades, rounding, ordering, halves_at / fades_at.
#include "services/risk/scoring.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "common/crypto.h"
#include "common/db/sql.h"

namespace sm::risk {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kDay = int64_t{86400} * 1000000;
constexpr int64_t kNow = int64_t{1737684000} * 1000000;  // 2025-01-24T02:00:00Z

std::string ReadDefault() {
  std::ifstream in(std::string(SM_SOURCE_DIR) + "/deploy/local/risk-rules.yaml");
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// A valid file with every kind, under `top` (the threshold and max_score lines).
std::string Valid(const std::string& top = "threshold: 60\nmax_score: 100\n") {
  return top +
         "signals:\n"
         "  clue_named: {weight: 10, half_life_days: 180, cap: 30}\n"
         "  clue_concluded: {grades: {form_1: 5, form_2: 20}, weight: 7, half_life_days: 365, cap: 60}\n"
         "  audit_finding: {grades: {LOW: 5, HIGH: 20}, half_life_days: 365, cap: 40}\n"
         "  inspection_finding: {grades: {LOW: 5}, half_life_days: 365}\n"
         "  inspection_measure: {grades: {REMOVAL: 10}, half_life_days: 365, cap: 40}\n"
         "  accountability_check: {grades: {PRINCIPAL: 10}, half_life_days: 365, cap: 20}\n"
         "  risk_item: {grades: {HIGH: 30}, half_life_days: 180, cap: 45}\n"
         "  admonishment: {weight: 25, half_life_days: 365, cap: 40}\n";
}

std::vector<std::string> Lines(const absl::Status& s) {
  std::vector<std::string> out;
  std::stringstream in{std::string(s.message())};
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// The problems ParseRules reports for `yaml` (fails the test when it parses).
std::vector<std::string> Problems(const std::string& yaml) {
  absl::StatusOr<Rules> r = ParseRules(yaml);
  EXPECT_FALSE(r.ok()) << yaml;
  if (r.ok()) return {};
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  return Lines(r.status());
}

Rules Parsed(const std::string& yaml) {
  absl::StatusOr<Rules> r = ParseRules(yaml);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : Rules{};
}

// A rule set with only the given rules (the scorer does not need all kinds).
Rules Only(std::vector<Rule> rules, double max_score = 100) {
  Rules out;
  out.max_score = max_score;
  out.version = "sha256:test";
  for (Rule& r : rules) out.rules[r.kind] = std::move(r);
  return out;
}

Rule Plain(const std::string& kind, double weight, double half_life_days, double cap = 0) {
  Rule r;
  r.kind = kind;
  r.weight = weight;
  r.has_weight = true;
  r.half_life_days = half_life_days;
  r.cap = cap;
  return r;
}

Signal Sig(const std::string& kind, int64_t at_us, const std::string& grade = "", const std::string& ref = "r") {
  return Signal{kind, grade, "src", ref, at_us};
}

// ---- the rule file ----

TEST(RiskRules, DefaultFileParses) {
  const std::string text = ReadDefault();
  ASSERT_FALSE(text.empty()) << "deploy/local/risk-rules.yaml not found";
  Rules r = Parsed(text);
  EXPECT_EQ(r.threshold, 60);
  EXPECT_EQ(r.max_score, 100);
  ASSERT_EQ(r.rules.size(), SignalKinds().size());
  for (const std::string& k : SignalKinds()) EXPECT_TRUE(r.rules.contains(k)) << k;
  EXPECT_EQ(r.rules["clue_named"].WeightOf(""), 10);
  EXPECT_EQ(r.rules["clue_named"].half_life_days, 180);
  EXPECT_EQ(r.rules["clue_named"].cap, 30);
  EXPECT_EQ(r.rules["clue_concluded"].WeightOf("form_4"), 50);
  EXPECT_EQ(r.rules["audit_finding"].WeightOf("CRITICAL"), 30);
  EXPECT_EQ(r.rules["inspection_finding"].cap, 30);
  EXPECT_EQ(r.rules["inspection_measure"].WeightOf("SUSPENSION"), 25);
  EXPECT_EQ(r.rules["accountability_check"].WeightOf("SUPERVISING"), 8);
  EXPECT_EQ(r.rules["risk_item"].WeightOf("MEDIUM"), 15);
  EXPECT_EQ(r.rules["admonishment"].WeightOf(""), 25);
  EXPECT_EQ(r.version, "sha256:" + crypto::Sha256Hex(text).substr(0, 12));
}

TEST(RiskRules, LoadRulesReadsAndNamesTheFile) {
  const std::string path = std::string(SM_SOURCE_DIR) + "/deploy/local/risk-rules.yaml";
  absl::StatusOr<Rules> r = LoadRules(path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rules.size(), SignalKinds().size());

  absl::StatusOr<Rules> missing = LoadRules("/nonexistent/risk-rules.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("/nonexistent/risk-rules.yaml"));

  const std::string bad = ::testing::TempDir() + "/risk-rules-bad.yaml";
  std::ofstream(bad) << "threshold: 0\nsignals: {}\n";
  absl::StatusOr<Rules> b = LoadRules(bad);
  ASSERT_FALSE(b.ok());
  std::vector<std::string> lines = Lines(b.status());
  ASSERT_EQ(lines.size(), 1 + SignalKinds().size());
  for (const std::string& l : lines) EXPECT_EQ(l.rfind(bad + ": ", 0), 0u) << l;
}

TEST(RiskRules, VersionIsTheDigestOfTheText) {
  Rules a = Parsed(Valid());
  Rules b = Parsed(Valid() + "# a comment changes the version\n");
  EXPECT_EQ(a.version, "sha256:" + crypto::Sha256Hex(Valid()).substr(0, 12));
  EXPECT_EQ(a.version.size(), 7u + 12u);
  EXPECT_NE(a.version, b.version);
}

TEST(RiskRules, WeightAndGrades) {
  Rules r = Parsed(Valid());
  const Rule& cc = r.rules.at("clue_concluded");
  EXPECT_EQ(cc.WeightOf("form_2"), 20);
  EXPECT_EQ(cc.WeightOf("form_3"), 7);                           // not listed: the rule's weight
  EXPECT_EQ(r.rules.at("audit_finding").WeightOf("MEDIUM"), 0);  // no weight, not listed
  EXPECT_EQ(r.rules.at("inspection_finding").cap, 0);            // cap defaults to none
  EXPECT_EQ(r.threshold, 60);
}

TEST(RiskRules, ThresholdAndMaxScoreDefault) {
  Rules r = Parsed(Valid(""));
  EXPECT_EQ(r.threshold, 60);
  EXPECT_EQ(r.max_score, 100);
}

struct ErrorCase {
  std::string name;
  std::string yaml;
  std::string line;  // the exact problem line expected
};

TEST(RiskRules, EveryErrorNamesItsKey) {
  const std::string kinds =
      "clue_named, clue_concluded, audit_finding, inspection_finding, inspection_measure, "
      "accountability_check, risk_item, admonishment";
  auto with = [](const std::string& from, const std::string& to) {
    std::string y = Valid();
    size_t at = y.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return y.replace(at, from.size(), to);
  };
  const std::vector<ErrorCase> cases = {
      {"half life zero",
       with("clue_named: {weight: 10, half_life_days: 180", "clue_named: {weight: 10, half_life_days: 0"),
       "signals.clue_named.half_life_days: must be > 0"},
      {"half life negative",
       with("risk_item: {grades: {HIGH: 30}, half_life_days: 180",
            "risk_item: {grades: {HIGH: 30}, half_life_days: -3"),
       "signals.risk_item.half_life_days: must be > 0"},
      {"half life missing",
       with("admonishment: {weight: 25, half_life_days: 365, cap: 40}", "admonishment: {weight: 25, cap: 40}"),
       "signals.admonishment.half_life_days: missing"},
      {"unknown kind", Valid() + "  foo: {weight: 1, half_life_days: 1}\n",
       "signals.foo: unknown signal kind (known: " + kinds + ")"},
      {"missing kind", with("  audit_finding: {grades: {LOW: 5, HIGH: 20}, half_life_days: 365, cap: 40}\n", ""),
       "signals.audit_finding: missing (every signal kind needs a rule)"},
      {"unknown grade", with("form_2: 20", "form_9: 20"),
       "signals.clue_concluded.grades.form_9: unknown grade (known: form_1, form_2, form_3, form_4)"},
      {"severity of another kind", with("grades: {HIGH: 30}", "grades: {CRITICAL: 30}"),
       "signals.risk_item.grades.CRITICAL: unknown grade (known: LOW, MEDIUM, HIGH)"},
      {"grades on a kind without", with("admonishment: {weight: 25,", "admonishment: {grades: {LOW: 1}, weight: 25,"),
       "signals.admonishment.grades: admonishment takes no grades (use weight)"},
      {"grades on clue_named", with("clue_named: {weight: 10,", "clue_named: {weight: 10, grades: {form_1: 1},"),
       "signals.clue_named.grades: clue_named takes no grades (use weight)"},
      {"threshold zero", Valid("threshold: 0\n"), "threshold: must be > 0 and <= max_score"},
      {"threshold above max", Valid("threshold: 120\nmax_score: 100\n"), "threshold: must be > 0 and <= max_score"},
      {"default threshold above max", Valid("max_score: 50\n"), "threshold: must be > 0 and <= max_score (default 60)"},
      {"max_score zero", Valid("threshold: 10\nmax_score: 0\n"), "max_score: must be > 0"},
      {"threshold not a number", Valid("threshold: high\n"), "threshold: must be a number"},
      {"unknown top-level key", Valid("threshold: 60\nmax_scroe: 100\n"),
       "max_scroe: unknown key (known: threshold, max_score, signals)"},
      {"unknown rule key", with("clue_named: {weight: 10,", "clue_named: {weight: 10, halflife: 3,"),
       "signals.clue_named.halflife: unknown key (known: weight, grades, half_life_days, cap)"},
      {"weight above 1000", with("admonishment: {weight: 25", "admonishment: {weight: 1001"),
       "signals.admonishment.weight: must be between 0 and 1000"},
      {"weight negative", with("clue_named: {weight: 10", "clue_named: {weight: -1"),
       "signals.clue_named.weight: must be between 0 and 1000"},
      {"grade weight above 1000", with("PRINCIPAL: 10", "PRINCIPAL: 5000"),
       "signals.accountability_check.grades.PRINCIPAL: must be between 0 and 1000"},
      {"weight not a number", with("clue_named: {weight: 10", "clue_named: {weight: ten"),
       "signals.clue_named.weight: must be a number"},
      {"cap negative", with("cap: 45", "cap: -1"), "signals.risk_item.cap: must be >= 0 (0: no cap)"},
      {"neither weight nor grades", with("inspection_finding: {grades: {LOW: 5}, ", "inspection_finding: {"),
       "signals.inspection_finding: needs weight or grades"},
      {"signals missing", "threshold: 60\n", "signals: missing (every signal kind needs a rule: " + kinds + ")"},
      {"rule not a map", with("admonishment: {weight: 25, half_life_days: 365, cap: 40}", "admonishment: 25"),
       "signals.admonishment: must be a map (weight or grades, half_life_days, cap)"},
      {"top level not a map", "- a\n- b\n", "(top level): must be a map with threshold, max_score and signals"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<std::string> lines = Problems(c.yaml);
    EXPECT_EQ(lines, std::vector<std::string>{c.line}) << c.yaml;
  }
}

TEST(RiskRules, YamlSyntaxErrorHasTheLine) {
  std::vector<std::string> lines = Problems("threshold: 60\nsignals:\n  clue_named: {weight: 10\n  x: [\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("yaml: line ", 0), 0u) << lines[0];
  absl::StatusOr<Rules> r = ParseRules("threshold: 60\nmax_score: 100: 3\nsignals: {}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("line 2")) << r.status();
}

TEST(RiskRules, AllProblemsListedOnePerLine) {
  std::string y =
      "threshold: -5\n"
      "colour: red\n"
      "signals:\n"
      "  clue_named: {weight: 10, half_life_days: 0}\n"
      "  clue_concluded: {grades: {form_9: 5}, half_life_days: 365, cap: -2}\n"
      "  bogus: {weight: 1}\n";
  std::vector<std::string> lines = Problems(y);
  const std::vector<std::string> want = {
      "colour: unknown key (known: threshold, max_score, signals)",
      "threshold: must be > 0 and <= max_score",
      "signals.clue_named.half_life_days: must be > 0",
      "signals.clue_concluded.grades.form_9: unknown grade (known: form_1, form_2, form_3, form_4)",
      "signals.clue_concluded.cap: must be >= 0 (0: no cap)",
      "signals.bogus: unknown signal kind (known: clue_named, clue_concluded, audit_finding, inspection_finding, "
      "inspection_measure, accountability_check, risk_item, admonishment)",
      "signals.audit_finding: missing (every signal kind needs a rule)",
      "signals.inspection_finding: missing (every signal kind needs a rule)",
      "signals.inspection_measure: missing (every signal kind needs a rule)",
      "signals.accountability_check: missing (every signal kind needs a rule)",
      "signals.risk_item: missing (every signal kind needs a rule)",
      "signals.admonishment: missing (every signal kind needs a rule)",
  };
  EXPECT_EQ(lines, want);
}

// ---- the score ----

TEST(RiskScore, NoSignalsScoresZero) {
  Rules r = Parsed(ReadDefault());
  supervision::v1::PersonScore s;
  Score(r, {}, kNow, &s);
  EXPECT_EQ(s.score(), 0);
  EXPECT_EQ(s.signals(), 0);
  EXPECT_EQ(s.terms_size(), 0);
  EXPECT_EQ(s.explained_size(), 0);
  EXPECT_EQ(s.threshold(), 60);
  EXPECT_EQ(s.rules_version(), r.version);
  EXPECT_EQ(db::Micros(s.as_of()), kNow);
}

TEST(RiskScore, DecayHalvesEveryHalfLife) {
  Rules r = Only({Plain("admonishment", 20, 10)});
  EXPECT_DOUBLE_EQ(ScoreOf(r, {Sig("admonishment", kNow)}, kNow), 20);
  EXPECT_DOUBLE_EQ(ScoreOf(r, {Sig("admonishment", kNow - 10 * kDay)}, kNow), 10);
  EXPECT_DOUBLE_EQ(ScoreOf(r, {Sig("admonishment", kNow - 20 * kDay)}, kNow), 5);
  EXPECT_DOUBLE_EQ(ScoreOf(r, {Sig("admonishment", kNow - 5 * kDay)}, kNow), 14.1);  // 20 / sqrt(2) = 14.14
}

TEST(RiskScore, FutureSignalCountsFully) {
  Rules r = Only({Plain("admonishment", 20, 10)});
  EXPECT_DOUBLE_EQ(ScoreOf(r, {Sig("admonishment", kNow + 30 * kDay)}, kNow), 20);
}

TEST(RiskScore, CapPerRule) {
  Rules r = Only({Plain("clue_named", 10, 180, 30), Plain("admonishment", 25, 365)});
  std::vector<Signal> sigs;
  for (int i = 0; i < 5; ++i) sigs.push_back(Sig("clue_named", kNow));
  EXPECT_DOUBLE_EQ(ScoreOf(r, sigs, kNow), 30);  // 50 capped at 30
  sigs.push_back(Sig("admonishment", kNow));
  sigs.push_back(Sig("admonishment", kNow));
  EXPECT_DOUBLE_EQ(ScoreOf(r, sigs, kNow), 80);  // no cap on admonishment: 30 + 50
}

TEST(RiskScore, MaxScoreCapsTheTotal) {
  Rules r = Only({Plain("clue_named", 60, 180), Plain("admonishment", 70, 365)}, 100);
  EXPECT_DOUBLE_EQ(ScoreOf(r, {Sig("clue_named", kNow), Sig("admonishment", kNow)}, kNow), 100);
  supervision::v1::PersonScore s;
  Score(r, {Sig("clue_named", kNow), Sig("admonishment", kNow)}, kNow, &s);
  EXPECT_DOUBLE_EQ(s.score(), 100);
  ASSERT_EQ(s.terms_size(), 2);
  EXPECT_DOUBLE_EQ(s.terms(0).value() + s.terms(1).value(), 130);  // the terms are not scaled
}

TEST(RiskScore, GradesAndDefaultWeight) {
  Rules r = Parsed(Valid());
  // clue_concluded: form_1 5, form_2 20, weight 7 for other grades; audit_finding has no weight.
  EXPECT_DOUBLE_EQ(ScoreOf(r, {Sig("clue_concluded", kNow, "form_2")}, kNow), 20);
  EXPECT_DOUBLE_EQ(ScoreOf(r, {Sig("clue_concluded", kNow, "form_1")}, kNow), 5);
  EXPECT_DOUBLE_EQ(ScoreOf(r, {Sig("clue_concluded", kNow, "form_4")}, kNow), 7);
  EXPECT_DOUBLE_EQ(ScoreOf(r, {Sig("audit_finding", kNow, "HIGH")}, kNow), 20);
  EXPECT_DOUBLE_EQ(ScoreOf(r, {Sig("audit_finding", kNow, "MEDIUM")}, kNow), 0);
}

TEST(RiskScore, RoundsToOneDecimal) {
  Rules r = Only({Plain("clue_named", 10, 3), Plain("admonishment", 1, 1)});
  // 10 * 0.5^(1/3) = 7.937 -> 7.9
  EXPECT_DOUBLE_EQ(ScoreOf(r, {Sig("clue_named", kNow - kDay)}, kNow), 7.9);
  // 1 * 0.5^(1/2) = 0.7071 + 7.937 = 8.644 -> 8.6
  EXPECT_DOUBLE_EQ(ScoreOf(r, {Sig("clue_named", kNow - kDay), Sig("admonishment", kNow - kDay / 2)}, kNow), 8.6);
  // 1.25 exactly: 1 + 0.25 -> rounds half away from zero to 1.3
  EXPECT_DOUBLE_EQ(ScoreOf(r, {Sig("admonishment", kNow), Sig("admonishment", kNow - 2 * kDay)}, kNow), 1.3);
}

TEST(RiskScore, SignalOfUnknownKindCountsNothing) {
  Rules r = Only({Plain("admonishment", 20, 10)});
  supervision::v1::PersonScore s;
  Score(r, {Sig("admonishment", kNow), Sig("retired_kind", kNow - kDay)}, kNow, &s);
  EXPECT_DOUBLE_EQ(s.score(), 20);
  EXPECT_EQ(s.signals(), 2);
  ASSERT_EQ(s.terms_size(), 1);
  ASSERT_EQ(s.explained_size(), 2);
  EXPECT_EQ(s.explained(1).kind(), "retired_kind");
  EXPECT_EQ(s.explained(1).weight(), 0);
  EXPECT_EQ(s.explained(1).value(), 0);
  EXPECT_EQ(db::Micros(s.explained(1).fades_at()), kNow);
}

TEST(RiskScore, Explanation) {
  Rules r = Parsed(ReadDefault());
  const std::vector<Signal> sigs = {
      Sig("clue_named", kNow - 180 * kDay, "", "clue-1"),            // 10 -> 5
      Sig("audit_finding", kNow - 10 * kDay, "HIGH", "finding-1"),   // ~19.6
      Sig("clue_named", kNow - 360 * kDay, "", "clue-2"),            // 10 -> 2.5
      Sig("admonishment", kNow - 365 * kDay, "", "talk-1"),          // 25 -> 12.5
      Sig("clue_concluded", kNow - 730 * kDay, "form_2", "clue-1"),  // 20 -> 5
      Sig("audit_finding", kNow + kDay, "LOW", "finding-2"),         // future: 5
  };
  supervision::v1::PersonScore s;
  s.set_id("person-1");
  s.set_version(7);
  s.set_above(true);
  s.set_crossings(2);
  Score(r, sigs, kNow, &s);

  // Left alone.
  EXPECT_EQ(s.id(), "person-1");
  EXPECT_EQ(s.version(), 7);
  EXPECT_TRUE(s.above());
  EXPECT_EQ(s.crossings(), 2);

  EXPECT_EQ(s.signals(), 6);
  EXPECT_EQ(s.threshold(), 60);
  EXPECT_EQ(s.rules_version(), r.version);
  EXPECT_EQ(db::Micros(s.as_of()), kNow);

  // Terms in SignalKinds() order, only rules with signals.
  ASSERT_EQ(s.terms_size(), 4);
  EXPECT_EQ(s.terms(0).kind(), "clue_named");
  EXPECT_EQ(s.terms(0).signals(), 2);
  EXPECT_NEAR(s.terms(0).raw(), 7.5, 1e-9);
  EXPECT_EQ(s.terms(0).cap(), 30);
  EXPECT_NEAR(s.terms(0).value(), 7.5, 1e-9);
  EXPECT_EQ(s.terms(1).kind(), "clue_concluded");
  EXPECT_NEAR(s.terms(1).value(), 5, 1e-9);
  EXPECT_EQ(s.terms(2).kind(), "audit_finding");
  EXPECT_EQ(s.terms(2).signals(), 2);
  const double high = 20 * std::exp2(-10.0 / 365);
  EXPECT_NEAR(s.terms(2).raw(), high + 5, 1e-9);
  EXPECT_EQ(s.terms(3).kind(), "admonishment");
  EXPECT_NEAR(s.terms(3).value(), 12.5, 1e-9);

  const double total = 7.5 + 5 + high + 5 + 12.5;
  EXPECT_DOUBLE_EQ(s.score(), std::round(total * 10) / 10);
  EXPECT_DOUBLE_EQ(s.score(), ScoreOf(r, sigs, kNow));

  // Every signal, newest first.
  ASSERT_EQ(s.explained_size(), 6);
  const std::vector<std::string> refs = {"finding-2", "finding-1", "clue-1", "clue-2", "talk-1", "clue-1"};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(s.explained(i).ref(), refs[i]) << i;
  for (int i = 1; i < 6; ++i) {
    EXPECT_GE(db::Micros(s.explained(i - 1).at()), db::Micros(s.explained(i).at())) << i;
  }

  // The clue named 180 days ago: weight 10, value 5, halves a half life from now, fades
  // below 0.5 when 10 * 0.5^(n) < 0.5, n = log2(20) half lives after it was named.
  const supervision::v1::ScoreSignal& c1 = s.explained(2);
  EXPECT_EQ(c1.kind(), "clue_named");
  EXPECT_EQ(c1.grade(), "");
  EXPECT_EQ(c1.source(), "src");
  EXPECT_EQ(db::Micros(c1.at()), kNow - 180 * kDay);
  EXPECT_EQ(c1.weight(), 10);
  EXPECT_NEAR(c1.value(), 5, 1e-9);
  EXPECT_EQ(c1.half_life_days(), 180);
  EXPECT_EQ(db::Micros(c1.halves_at()), kNow + 180 * kDay);
  const double fades = static_cast<double>(kNow - 180 * kDay) + std::log2(20.0) * 180 * kDay;
  EXPECT_NEAR(static_cast<double>(db::Micros(c1.fades_at())), fades, 2);

  // The HIGH finding: its grade's weight.
  EXPECT_EQ(s.explained(1).grade(), "HIGH");
  EXPECT_EQ(s.explained(1).weight(), 20);
  EXPECT_NEAR(s.explained(1).value(), high, 1e-9);

  // The future finding counts fully; it halves a half life after its date.
  const supervision::v1::ScoreSignal& f = s.explained(0);
  EXPECT_EQ(f.value(), 5);
  EXPECT_EQ(db::Micros(f.halves_at()), kNow + kDay + 365 * kDay);
  EXPECT_GT(db::Micros(f.fades_at()), kNow + kDay);
}

TEST(RiskScore, FadesAtNowWhenAlreadyBelowHalfAPoint) {
  Rules r = Only({Plain("clue_named", 10, 10), Plain("admonishment", 0, 10)});
  supervision::v1::PersonScore s;
  // 10 * 0.5^5 = 0.3125 < 0.5: faded already.
  Score(r, {Sig("clue_named", kNow - 50 * kDay), Sig("admonishment", kNow - 60 * kDay)}, kNow, &s);
  ASSERT_EQ(s.explained_size(), 2);
  EXPECT_NEAR(s.explained(0).value(), 0.3125, 1e-9);
  EXPECT_EQ(db::Micros(s.explained(0).fades_at()), kNow);
  EXPECT_EQ(db::Micros(s.explained(0).halves_at()), kNow + 10 * kDay);
  // Weight 0: now.
  EXPECT_EQ(s.explained(1).weight(), 0);
  EXPECT_EQ(db::Micros(s.explained(1).fades_at()), kNow);
  EXPECT_DOUBLE_EQ(s.score(), 0.3);
}

TEST(RiskScore, FadesAtIsWhereTheValueDropsBelowHalf) {
  Rules r = Only({Plain("clue_named", 8, 10)});
  supervision::v1::PersonScore s;
  // 8 -> 0.5 after 4 half lives: 40 days after the signal.
  Score(r, {Sig("clue_named", kNow - 5 * kDay)}, kNow, &s);
  ASSERT_EQ(s.explained_size(), 1);
  const int64_t fades = db::Micros(s.explained(0).fades_at());
  EXPECT_NEAR(static_cast<double>(fades), static_cast<double>(kNow + 35 * kDay), 2);
  EXPECT_GE(ScoreOf(r, {Sig("clue_named", kNow - 5 * kDay)}, fades - kDay), 0.5);
  Score(r, {Sig("clue_named", kNow - 5 * kDay)}, fades + 1, &s);
  EXPECT_LT(s.explained(0).value(), 0.5);
}

TEST(RiskScore, ScoreReplacesAnEarlierExplanation) {
  Rules r = Only({Plain("admonishment", 20, 10)});
  supervision::v1::PersonScore s;
  Score(r, {Sig("admonishment", kNow), Sig("admonishment", kNow)}, kNow, &s);
  Score(r, {Sig("admonishment", kNow)}, kNow, &s);
  EXPECT_EQ(s.terms_size(), 1);
  EXPECT_EQ(s.explained_size(), 1);
  EXPECT_EQ(s.signals(), 1);
  EXPECT_DOUBLE_EQ(s.score(), 20);
}

TEST(RiskScore, ScoreOfMatchesScore) {
  Rules r = Parsed(ReadDefault());
  std::vector<Signal> sigs;
  const std::vector<std::pair<std::string, std::string>> kinds = {{"clue_named", ""},
                                                                  {"clue_concluded", "form_3"},
                                                                  {"audit_finding", "CRITICAL"},
                                                                  {"inspection_finding", "MEDIUM"},
                                                                  {"inspection_measure", "SUSPENSION"},
                                                                  {"accountability_check", "PRINCIPAL"},
                                                                  {"risk_item", "HIGH"},
                                                                  {"admonishment", ""}};
  for (int i = 0; i < 40; ++i) {
    const auto& [k, g] = kinds[i % kinds.size()];
    sigs.push_back(Sig(k, kNow - (i * 37 % 500) * kDay + i * 1234567, g));
    supervision::v1::PersonScore s;
    Score(r, sigs, kNow, &s);
    EXPECT_EQ(s.score(), ScoreOf(r, sigs, kNow)) << i;
    EXPECT_LE(s.score(), 100);
    EXPECT_DOUBLE_EQ(s.score(), std::round(s.score() * 10) / 10);
  }
}

}  // namespace
}  // namespace sm::risk
