// Rules of risk-service, pure (no I/O): who may see and do what to risk points, campaigns,
// risk items and talks, what each step writes, and how a person's score moves when a signal
// arrives. One walk per command as in the other services: the handler validates, the store
// loads the item locked and the directory facts, a function below decides, the store writes
// each document once with its events. docs/risk.md.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <absl/status/statusor.h>

#include "common/auth.h"
#include "common/clock.h"
#include "common/directory_reader.h"
#include "common/doc_table.h"
#include "common/workdays.h"
#include "services/risk/scoring.h"
#include "supervision/v1/events.pb.h"
#include "supervision/v1/risk.pb.h"

namespace sm::risk {

namespace v1 = ::supervision::v1;
using docs::Stored;

// ---- who the caller is ----

// What the directory says about the caller (read by the handler).
struct CallerFacts {
  std::string unit_id;
  // political role: the unit whose tree they serve (a political department serves its
  // parent's tree; another unit its own); "" otherwise.
  std::string serves_unit_id;
  bool leader = false;  // the caller is a directory person marked leader (领导干部)
};

// What a caller may do with the risk records of one person or unit. A person never has any
// access to their own records.
enum class Access {
  kNone,     // nothing: NOT_FOUND
  kRecords,  // items, talks without summaries, scores (oversight)
  kFull,     // and talk summaries and the person file (discipline; unit leaders above)
  kWrite,    // and every step (the political department serving the unit)
};
// `unit_chain`: the subject's unit and its ancestors.
Access AccessTo(const auth::Principal& p, const CallerFacts& c, const std::string& person_id,
                const std::vector<std::string>& unit_chain);
std::vector<std::string> ChainOf(const UnitInfo& u);  // the unit, then its ancestors

// ---- steps ----

struct Event {
  std::string aggregate_id;
  v1::RiskEventPayload event;
};

// What a step writes: each document once, whole (`*_new` true: insert, else update); a
// document that only gets events has its chain head written.
template <typename M>
struct Doc {
  Stored<M> stored;
  bool insert = false;
  bool changed = true;  // false: only the chain head moves
};

// A signal about a person, keyed by what it came from (the store adds it once by key).
struct PersonSignal {
  std::string key;  // "risk:<item id>:opened", "clue:<clue id>:<seq>:<person id>", ...
  std::string person_id, unit_id;
  Signal signal;
};

struct Change {
  std::optional<Doc<v1::RiskPoint>> point;
  std::optional<Doc<v1::ScreeningCampaign>> campaign;
  std::optional<Doc<v1::RiskItem>> item;
  std::optional<Doc<v1::TalkRecord>> talk;
  std::optional<Doc<v1::PersonScore>> score;
  std::optional<v1::Screening> screening;  // inserted
  std::optional<PersonSignal> signal;      // the step's signal (the store then moves the score)
  std::vector<Event> events;
};

struct StepFacts {
  int64_t now_us = 0;
  std::string new_id;
  std::string number;  // OpenRiskItem: FX-yyyy-nnnnnn
  CallerFacts caller;
  std::optional<PersonInfo> person;           // the subject person
  std::optional<UnitInfo> unit;               // the subject unit (the person's)
  std::optional<PersonInfo> leader;           // the responsible leader asked (or chosen)
  std::optional<ResponsibleLeaders> leaders;  // of the subject unit (default leader)
  std::optional<PersonInfo> talker;
  std::optional<std::string> post_name;   // PutRiskPoint: the post, when the directory has it
  std::optional<v1::RiskItem> talk_item;  // RecordTalk: the item it names, when it exists
  std::map<std::string, UnitInfo> units;  // CreateCampaign scope
  const workdays::Calendar* calendar = nullptr;
};

// 廉政风险点: political department only.
absl::StatusOr<Change> PutRiskPoint(const std::optional<Stored<v1::RiskPoint>>& current,
                                    const v1::PutRiskPointRequest& req, const auth::Principal& p, const StepFacts& f);
absl::StatusOr<Change> CreateCampaign(const v1::CreateCampaignRequest& req, const auth::Principal& p,
                                      const StepFacts& f);
absl::StatusOr<Change> CloseCampaign(const Stored<v1::ScreeningCampaign>& current, const v1::CloseCampaignRequest& req,
                                     const auth::Principal& p, const StepFacts& f);
// `already`: the person was screened in the campaign before. `in_scope`: the person's unit
// is at or below a scope unit.
absl::StatusOr<Change> RecordScreening(const Stored<v1::ScreeningCampaign>& campaign, bool already, bool in_scope,
                                       const v1::RecordScreeningRequest& req, const auth::Principal& p,
                                       const StepFacts& f);
absl::StatusOr<Change> OpenRiskItem(const v1::OpenRiskItemRequest& req, const auth::Principal& p, const StepFacts& f);
absl::StatusOr<Change> AddMitigation(const Stored<v1::RiskItem>& current, const v1::AddMitigationRequest& req,
                                     const auth::Principal& p, const StepFacts& f);
absl::StatusOr<Change> CompleteMitigation(const Stored<v1::RiskItem>& current, const v1::CompleteMitigationRequest& req,
                                          const auth::Principal& p, const StepFacts& f);
absl::StatusOr<Change> ResolveRiskItem(const Stored<v1::RiskItem>& current, const v1::ResolveRiskItemRequest& req,
                                       const auth::Principal& p, const StepFacts& f);
absl::StatusOr<Change> RecordTalk(const v1::RecordTalkRequest& req, const auth::Principal& p, const StepFacts& f);

// The responsible leader of a person's item when none is named: the principal leader of
// the unit chain, or the supervising one when the person is the principal leader; nullopt
// when neither can be.
std::optional<std::string> DefaultLeader(const std::string& person_id, const ResponsibleLeaders& leaders);
// Whether `leader` is a leader (领导干部) whose unit is in `unit_chain`, and not the person.
bool LeaderInChain(const PersonInfo& leader, const std::string& person_id, const std::vector<std::string>& unit_chain);

// ---- overdue mitigation (督办) ----
// Marks mitigations open past their deadline at `now_us` escalated to `to_unit_id` (the
// unit above the item's unit): nullopt when none is newly overdue.
std::optional<Change> EscalateOverdue(const Stored<v1::RiskItem>& item, int64_t now_us, const std::string& to_unit_id);
// Sets `overdue` on open mitigations past their deadline and on the item (at read).
void MarkOverdue(v1::RiskItem& item, int64_t now_us);
// The earliest deadline of an open mitigation not yet escalated (what the scan looks at).
std::optional<int64_t> NextDeadline(const v1::RiskItem& item);

// ---- scores ----

// A signal a step of this service adds: a risk item (not from the score) and a 诫勉谈话.
std::optional<Signal> SignalOf(const v1::RiskItem& item);
std::optional<Signal> SignalOf(const v1::TalkRecord& talk);

// A person's score after new signals: the score document as it becomes (inserted when
// `current` is absent) with its "score_changed" event on the person's chain, and — when the
// score reaches the threshold from below — the risk item it opens (source SCORE) for
// `leader` (nullopt: none could be found; the item is then not opened, the crossing is
// still counted, and the event says so). `trigger`: the signal that moved it.
Change MoveScore(const std::optional<Stored<v1::PersonScore>>& current, const std::string& person_id,
                 const std::string& unit_id, const std::vector<Signal>& all, const Signal& trigger, const Rules& rules,
                 int64_t now_us, const std::optional<std::string>& leader, const std::string& item_id,
                 const std::string& item_number);

// An enum value's name without its prefix ("SEVERITY_HIGH", "SEVERITY_" -> "HIGH"): signal
// grades and the file's states.
std::string Unprefixed(const std::string& enum_name, std::string_view prefix);

// "FX-2026-000012".
std::string ItemNumber(int64_t now_us, int64_t sequence);

}  // namespace sm::risk
