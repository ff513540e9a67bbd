// Pure helpers of the inspection commands (no I/O, unit-tested): a checklist template read
// from a CSV file and checked row by row, the request id a template's content gives, the
// conformity of an inspection's checklist per aspect, the answers of `inspection run`, and
// withheld items as the command line spells them (KIND:DESCRIPTION).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "supervision/v1/inspection.pb.h"
#include "tools/smctl/output.h"

namespace sm::smctl {

// ---- a checklist template from CSV ----

// The columns of a template CSV, in the order the documentation lists them.
enum TemplateColumn { kTplAspectCode, kTplAspectTitle, kTplItemCode, kTplItemText, kTplColumns };
inline constexpr const char* kTplColumnNames[kTplColumns] = {"aspect_code", "aspect_title", "item_code", "item_text"};

// One problem of a template CSV: the physical line its record starts on (1-based), the column
// (a kTplColumnNames name, or "" for the row or the file) and what is wrong, in both languages.
struct CsvProblem {
  int line = 0;
  std::string column;
  std::string zh;
  std::string en;
  std::string Text(Lang l) const { return l == Lang::kZh ? zh : en; }
};

// What a template CSV holds: its aspects with their items in file order (an aspect where its
// code first appears), the data rows read, and every problem found. Nothing is to be
// published unless `problems` is empty.
struct TemplateCsv {
  std::vector<::supervision::v1::TemplateAspect> aspects;
  int rows = 0;
  int items = 0;
  std::vector<CsvProblem> problems;
};

// Reads `text` (the file's bytes: UTF-8, a byte-order mark allowed; RFC 4180 CSV) with a
// header row naming the four columns in any order (case and spaces ignored). Every row is
// checked, and all problems are reported, not only the first: a file that is not UTF-8 or not
// CSV, a header without a column or with an unknown or repeated one, a row with more fields
// than the header, an empty cell, a value longer than the service takes, an item code used
// twice, an aspect code whose title differs from its first row's, more aspects or more items
// in one aspect than a template may hold, no data rows. Rows whose cells are all empty are
// skipped.
TemplateCsv ReadTemplateCsv(std::string_view text);

// The request id of publishing `req`: derived from its code, name and aspects (not from the
// file's bytes), so that publishing the same checklist again replays the first publication
// instead of making a new version.
std::string TemplateRequestId(const ::supervision::v1::PublishTemplateRequest& req);

// ---- conformity ----

struct AspectConformity {
  std::string code;
  std::string title;
  int entries = 0;  // items × target units (of `unit` only, when given)
  int conforming = 0;
  int non_conforming = 0;
  int not_applicable = 0;
  int unmarked = 0;
  int without_finding = 0;  // non-conforming entries with no finding yet
};
// The checklist's entries counted per aspect, in checklist order; only those of `unit` when
// it is not "".
std::vector<AspectConformity> ConformityByAspect(const ::supervision::v1::Inspection& in, const std::string& unit = "");
// conforming / (conforming + non-conforming) as "87.5%", "—" when nothing was judged (the
// service's rate: not-applicable entries do not count).
std::string ConformityRate(int64_t conforming, int64_t non_conforming);

// ---- inspection run ----

enum class Answer { kConforming, kNonConforming, kNotApplicable, kSkip, kQuit, kUnknown };
// One answer line: c / n / a / s / q (either case, surrounding spaces ignored), or the
// words (conforming, non-conforming, not-applicable, skip, quit) or 符合 / 不符合 / 不适用 /
// 跳过 / 退出. Anything else is kUnknown.
Answer ParseAnswer(std::string_view line);
// The mark an answer gives; ITEM_MARK_UNSPECIFIED for skip, quit and unknown.
::supervision::v1::ItemMark MarkOf(Answer a);
// Indexes into in.checklist() of the entries of `unit` that `inspection run` walks, in
// checklist order: the unmarked ones, or every one with `all`.
std::vector<int> EntriesToWalk(const ::supervision::v1::Inspection& in, const std::string& unit, bool all);

// ---- measures ----

// "KIND:DESCRIPTION" (the colon may be full-width) to a withheld item: KIND a spelling of
// WithheldKinds() or its Chinese label. Returns false with the reason when it is not one.
bool ParseWithheld(std::string_view spec, ::supervision::v1::WithheldItem* out, std::string* why_zh,
                   std::string* why_en);

}  // namespace sm::smctl
