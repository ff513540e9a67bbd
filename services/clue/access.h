// Who a caller is to one clue, and what each standing may see and do: clue-service's
// access table (docs/clue.md § Access) as pure functions, table-tested without a database.
// Deny by default: a standing or view not named here sees nothing.
#pragma once

#include <string_view>

#include "common/auth.h"
#include "supervision/v1/clue.pb.h"

namespace sm::clue {

namespace v1 = ::supervision::v1;

// What the clue's custody record says of a unit, besides holding or being offered it now.
enum class Custody {
  kNone,        // never in its custody
  kOffered,     // was offered it once: keeps nothing
  kSupervisor,  // escalated to it (督办) or it intervened in step (同步介入)
  kSender,      // registered it, or held it and handed it on
};

// The caller's standing towards the clue, strongest first.
enum class Standing { kOversight, kHolder, kOfferee, kSupervisor, kSender, kNone };
inline constexpr Standing kAllStandings[] = {Standing::kOversight,  Standing::kHolder, Standing::kOfferee,
                                             Standing::kSupervisor, Standing::kSender, Standing::kNone};
std::string_view StandingName(Standing s);

// The oversight role wins; then the caller's unit against the clue row (holder, offeree)
// and the custody record.
Standing StandingOf(const auth::Principal& p, const v1::Clue& clue, Custody custody);

// What of a clue a standing reads.
enum class View {
  kNone,    // the clue does not exist for the caller (NOT_FOUND)
  kSender,  // what it sent and the outcome owed to it as feedback
  kRecord,  // the case record without the sealed details
  kFull,    // everything; sealed details with clearance >= internal
};
View ViewOf(Standing s);

// Strips `clue` down to `view` (kFull leaves it; details are handled by the caller).
void Redact(View view, v1::Clue& clue);

// The case history: the holder, the offeree (to decide), a supervisor and oversight.
bool MayReadHistory(Standing s);
// Verifying the event chain: the holder, a supervisor and oversight.
bool MayVerify(Standing s);
// Note texts, reasons and feedback in the history need clearance >= internal.
bool HistoryTextsVisible(const auth::Principal& p);
// Keeps only structural fields (ids, methods, forms, stages) of an event's data when the
// caller may not read texts; returns the JSON to show.
std::string RedactEventData(const std::string& data_json, bool texts_visible);

}  // namespace sm::clue
