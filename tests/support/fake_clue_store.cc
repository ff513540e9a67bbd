#include "tests/support/fake_clue_store.h"

#include <algorithm>
#include <cstdio>

#include "common/db/sql.h"
#include "common/event_payload.h"
#include "common/status.h"
#include "common/workdays.h"

namespace sm::clue::testing {
namespace {

absl::Status NotModelled(const std::string& what) {
  return absl::FailedPreconditionError("FakeStore does not model " + what + ": test it against PgStore");
}

int64_t MicrosOf(TimePoint t) { return ToUnixMicros(t); }

}  // namespace

void FakeStore::Count(const std::string& method) const { ++calls_[method]; }

int FakeStore::Calls(const std::string& method) const {
  std::lock_guard lock(mu_);
  auto it = calls_.find(method);
  return it == calls_.end() ? 0 : it->second;
}

std::vector<StoredClue> FakeStore::Clues() const {
  std::lock_guard lock(mu_);
  std::vector<StoredClue> out;
  for (const auto& [id, c] : clues_) out.push_back(c);
  return out;
}

std::vector<chain::Event> FakeStore::AllEvents() const {
  std::lock_guard lock(mu_);
  return events_;
}

int FakeStore::Writes() const {
  std::lock_guard lock(mu_);
  return writes_;
}

template <typename Reply>
absl::StatusOr<Reply> FakeStore::Write(const db::Idempotency::Key& key,
                                       const std::function<absl::StatusOr<Reply>()>& body) {
  if (auto it = replies_.find(key.request_id); it != replies_.end()) {
    const auto& [method, fingerprint, bytes] = it->second;
    if (method != key.method || fingerprint != key.fingerprint) {
      return InvalidField("request_id", "was used for another request");
    }
    Reply r;
    if (!r.ParseFromString(bytes)) return absl::InternalError("stored reply unreadable");
    r.mutable_mutation()->set_replayed(true);
    return r;
  }
  SM_ASSIGN_OR_RETURN(Reply r, body());
  replies_[key.request_id] = {key.method, key.fingerprint, r.SerializeAsString()};
  ++writes_;
  ++version_;
  return r;
}

void FakeStore::Append(StoredClue& c, const Actor& actor, const v1::ClueEventPayload& e, TimePoint at) {
  const events::Payload p = events::MustEncode(e);
  events_.push_back(
      events::EventLog::Next(c.clue.id(), c.chain_len, c.chain_head, actor, p.type, p.json, MicrosOf(at)));
  c.chain_len = static_cast<int>(events_.back().seq);
  c.chain_head = events_.back().hash;
}

StoredClue FakeStore::Apply(Change change, const Actor& actor, TimePoint at) {
  StoredClue& after = change.after;
  after.clue.set_version(after.clue.version() + 1);
  Append(after, actor, change.event, at);
  for (const auto& [unit, standing] : change.custody_add) custody_[{after.clue.id(), unit}] = standing;
  clues_[after.clue.id()] = after;
  return after;
}

Custody FakeStore::CustodyLocked(const std::string& clue_id, const std::string& unit_id) const {
  auto it = custody_.find({clue_id, unit_id});
  return it == custody_.end() ? Custody::kNone : it->second;
}

absl::StatusOr<v1::ClueReply> FakeStore::Register(const StoredClue& clue, const Actor& actor,
                                                  const db::Idempotency::Key& key,
                                                  const std::vector<v1::ClueEventPayload>& events) {
  std::lock_guard lock(mu_);
  Count("Register");
  return Write<v1::ClueReply>(key, [&]() -> absl::StatusOr<v1::ClueReply> {
    StoredClue c = clue;
    if (!c.clue.source_system().empty()) {
      for (const auto& [id, other] : clues_) {
        if (other.clue.source_system() == c.clue.source_system() && other.clue.source_ref() == c.clue.source_ref()) {
          v1::ClueReply r = ReplyOf(other);
          r.mutable_mutation()->set_replayed(true);
          return r;
        }
      }
    }
    char number[48];
    std::snprintf(number, sizeof number, "XS-%04d-%06lld",
                  workdays::LocalDate(FromUnixSeconds(c.clue.registered_at().seconds())).year,
                  static_cast<long long>(next_number_++));
    c.clue.set_number(number);
    for (v1::ClueEventPayload e : events) {
      if (e.has_registered()) e.mutable_registered()->set_number(number);
      Append(c, actor, e, FromUnixSeconds(c.clue.registered_at().seconds()));
    }
    custody_[{c.clue.id(), c.clue.origin_unit_id()}] = Custody::kSender;
    if (!c.clue.offered_to_unit_id().empty() && c.clue.offered_to_unit_id() != c.clue.origin_unit_id()) {
      custody_[{c.clue.id(), c.clue.offered_to_unit_id()}] = Custody::kOffered;
    }
    clues_[c.clue.id()] = c;
    return ReplyOf(c);
  });
}

absl::StatusOr<v1::ClueReply> FakeStore::Step(const StepRequest& request, const auth::Principal& caller,
                                              StepFacts facts, const Rules& rules, const db::Idempotency::Key& key) {
  std::lock_guard lock(mu_);
  Count("Step");
  return Write<v1::ClueReply>(key, [&]() -> absl::StatusOr<v1::ClueReply> {
    auto it = clues_.find(ClueIdOf(request));
    if (it == clues_.end()) return absl::NotFoundError("clue not found");
    const StoredClue& current = it->second;
    facts.custody = CustodyLocked(current.clue.id(), caller.unit);
    if (NeedsSubjects(request)) {
      for (const auto& subject : current.clue.subjects()) {
        if (directory_error) return *directory_error;
        SubjectPlace place{subject.person_id(), {}};
        std::string unit_id = subject.unit_id();
        if (!subject.person_id().empty()) {
          auto p = persons.find(subject.person_id());
          if (p == persons.end()) return absl::NotFoundError("person not found");
          unit_id = p->second.unit_id;
        }
        if (!unit_id.empty()) {
          auto u = units.find(unit_id);
          if (u == units.end()) return absl::NotFoundError("unit not found");
          place.units = u->second.ancestors;
          place.units.push_back(unit_id);
        }
        facts.subjects.push_back(std::move(place));
      }
    }
    if (NeedsHolderUnit(request)) {
      if (directory_error) return *directory_error;
      if (auto u = units.find(current.clue.holding_unit_id()); u != units.end()) facts.holder_unit = u->second;
    }
    SM_ASSIGN_OR_RETURN(Change change, Decide(current, caller, request, facts, rules));
    return ReplyOf(Apply(std::move(change), Actor{caller.EndUser(), caller.unit}, rules.now));
  });
}

absl::StatusOr<v1::RevealRequestReply> FakeStore::CreateReveal(const v1::RequestRevealRequest& request,
                                                               const auth::Principal& caller, const std::string& id,
                                                               const RevealRules& rules,
                                                               const db::Idempotency::Key& key) {
  std::lock_guard lock(mu_);
  Count("CreateReveal");
  return Write<v1::RevealRequestReply>(key, [&]() -> absl::StatusOr<v1::RevealRequestReply> {
    auto it = clues_.find(request.clue_id());
    if (it == clues_.end()) return absl::NotFoundError("clue not found");
    SM_ASSIGN_OR_RETURN(RevealChange change, DecideRevealRequest(it->second, CustodyLocked(it->first, caller.unit),
                                                                 caller, request, id, rules));
    Append(it->second, Actor{caller.EndUser(), caller.unit}, change.event, rules.now);
    reveals_[id] = change.after;
    v1::RevealRequestReply out;
    *out.mutable_request() = change.after;
    return out;
  });
}

absl::StatusOr<RevealOutcome> FakeStore::StepReveal(const RevealStepRequest& request, const auth::Principal& caller,
                                                    const RevealRules& rules, const db::Idempotency::Key& key) {
  std::lock_guard lock(mu_);
  Count("StepReveal");
  std::string sealed;
  auto reply = Write<v1::RevealRequestReply>(key, [&]() -> absl::StatusOr<v1::RevealRequestReply> {
    auto r = reveals_.find(RevealIdOf(request));
    if (r == reveals_.end()) return absl::NotFoundError("reveal request not found");
    StoredClue& clue = clues_.at(r->second.clue_id());
    SM_ASSIGN_OR_RETURN(RevealChange change, DecideRevealStep(r->second, clue, caller, request, rules));
    v1::RevealRequest& a = change.after;
    if (change.decision) {
      for (const auto& d : a.decisions()) {
        if (d.custodian() == change.decision->custodian()) {
          return absl::AlreadyExistsError("this custodian already decided the reveal request");
        }
      }
      *a.add_decisions() = *change.decision;
      if (change.decision->verdict() == v1::REVEAL_VERDICT_APPROVE) a.set_approvals(a.approvals() + 1);
    }
    a.set_version(a.version() + 1);
    Append(clue, Actor{caller.EndUser(), caller.unit}, change.event, rules.now);
    if (std::holds_alternative<v1::RevealReporterRequest>(request)) sealed = clue.reporter_sealed;
    r->second = a;
    v1::RevealRequestReply out;
    *out.mutable_request() = a;
    return out;
  });
  if (!reply.ok()) return reply.status();
  if (reply->mutation().replayed()) sealed.clear();
  return RevealOutcome{std::move(*reply), std::move(sealed)};
}

absl::StatusOr<v1::RevealRequest> FakeStore::GetReveal(const std::string& reveal_id) {
  std::lock_guard lock(mu_);
  Count("GetReveal");
  auto it = reveals_.find(reveal_id);
  if (it == reveals_.end()) return absl::NotFoundError("reveal request not found");
  return it->second;
}

absl::StatusOr<std::vector<v1::RevealRequest>> FakeStore::ListReveals(const RevealQuery& q) {
  std::lock_guard lock(mu_);
  Count("ListReveals");
  std::vector<v1::RevealRequest> out;
  for (const auto& [id, r] : reveals_) {
    if (q.requester && r.requester() != *q.requester) continue;
    if (q.clue_id && r.clue_id() != *q.clue_id) continue;
    if (q.undecided_by && (r.state() != v1::REVEAL_STATE_PENDING || r.requester() == *q.undecided_by ||
                           RevealDecidedBy(r, *q.undecided_by))) {
      continue;
    }
    out.push_back(r);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::make_pair(db::Micros(a.requested_at()), a.id()) > std::make_pair(db::Micros(b.requested_at()), b.id());
  });
  if (q.after) {
    std::erase_if(out, [&](const auto& r) { return std::make_pair(db::Micros(r.requested_at()), r.id()) >= *q.after; });
  }
  if (static_cast<int>(out.size()) > q.limit) out.resize(q.limit);
  return out;
}

absl::StatusOr<v1::ClueReply> FakeStore::Merge(const std::string& primary_id, int64_t expected_version,
                                               const std::vector<std::string>& merged_ids,
                                               const auth::Principal& caller, const std::string& reason,
                                               const db::Idempotency::Key& key) {
  std::lock_guard lock(mu_);
  Count("Merge");
  return Write<v1::ClueReply>(key, [&]() -> absl::StatusOr<v1::ClueReply> {
    auto item = [&](const std::string& id) -> absl::StatusOr<MergeItem> {
      auto it = clues_.find(id);
      if (it == clues_.end()) return absl::NotFoundError("clue " + id + " not found");
      return MergeItem{it->second, CustodyLocked(id, caller.unit)};
    };
    SM_ASSIGN_OR_RETURN(MergeItem primary, item(primary_id));
    std::vector<MergeItem> merged;
    for (const auto& id : merged_ids) {
      SM_ASSIGN_OR_RETURN(MergeItem m, item(id));
      merged.push_back(std::move(m));
    }
    SM_ASSIGN_OR_RETURN(std::vector<Change> changes, DecideMerge(primary, merged, caller, expected_version, reason));
    v1::ClueReply out;
    for (auto& change : changes) {
      StoredClue written = Apply(std::move(change), Actor{caller.EndUser(), caller.unit}, clock_.Now());
      if (written.clue.id() == primary_id) {
        out = ReplyOf(written);
        continue;
      }
      std::vector<std::pair<std::string, Custody>> follow;
      for (const auto& [k, standing] : custody_) {
        if (k.first == written.clue.id()) follow.emplace_back(k.second, standing);
      }
      for (const auto& [unit, standing] : follow) custody_.try_emplace({primary_id, unit}, standing);
    }
    return out;
  });
}

absl::StatusOr<int> FakeStore::MarkOverdue(TimePoint now) {
  std::lock_guard lock(mu_);
  Count("MarkOverdue");
  std::vector<std::string> due;
  for (const auto& [id, c] : clues_) {
    if (IsOverdue(c, now)) due.push_back(id);
  }
  for (const auto& id : due) {
    std::optional<UnitInfo> holder;
    if (auto u = units.find(clues_.at(id).clue.holding_unit_id()); u != units.end()) holder = u->second;
    Apply(Escalate(clues_.at(id), holder), Actor{"system:overdue", ""}, now);
    ++writes_;
    ++version_;
  }
  return static_cast<int>(due.size());
}

absl::StatusOr<StoredClue> FakeStore::Get(const std::string& clue_id) {
  std::lock_guard lock(mu_);
  Count("Get");
  auto it = clues_.find(clue_id);
  if (it == clues_.end()) return absl::NotFoundError("clue not found");
  return it->second;
}

absl::StatusOr<Custody> FakeStore::CustodyOf(const std::string& clue_id, const std::string& unit_id) {
  std::lock_guard lock(mu_);
  Count("CustodyOf");
  return CustodyLocked(clue_id, unit_id);
}

absl::StatusOr<std::unordered_map<std::string, Custody>> FakeStore::CustodyOf(const std::vector<std::string>& clue_ids,
                                                                              const std::string& unit_id) {
  std::lock_guard lock(mu_);
  Count("CustodyOf");
  std::unordered_map<std::string, Custody> out;
  for (const auto& id : clue_ids) {
    if (Custody c = CustodyLocked(id, unit_id); c != Custody::kNone) out[id] = c;
  }
  return out;
}

absl::StatusOr<std::vector<StoredClue>> FakeStore::List(const ListQuery& q) {
  std::lock_guard lock(mu_);
  Count("List");
  std::vector<StoredClue> out;
  for (const auto& [id, s] : clues_) {
    const v1::Clue& c = s.clue;
    if (q.visible_to_unit && c.holding_unit_id() != *q.visible_to_unit && c.origin_unit_id() != *q.visible_to_unit &&
        c.offered_to_unit_id() != *q.visible_to_unit && CustodyLocked(id, *q.visible_to_unit) == Custody::kNone) {
      continue;
    }
    if (q.holding_unit && c.holding_unit_id() != *q.holding_unit) continue;
    if (q.origin_unit && c.origin_unit_id() != *q.origin_unit) continue;
    if (q.state && v1::ClueState_Name(c.state()) != *q.state) continue;
    if (q.text && c.summary().find(*q.text) == std::string::npos) continue;
    if (q.overdue_only && !c.overdue()) continue;
    if (q.subject_person && std::none_of(c.subjects().begin(), c.subjects().end(), [&](const auto& subject) {
          return subject.person_id() == *q.subject_person;
        })) {
      continue;
    }
    out.push_back(s);
  }
  auto order = [](const StoredClue& s) { return std::make_pair(db::Micros(s.clue.received_at()), s.clue.id()); };
  std::sort(out.begin(), out.end(), [&](const auto& a, const auto& b) { return order(a) > order(b); });
  if (q.after) std::erase_if(out, [&](const auto& s) { return order(s) >= *q.after; });
  if (static_cast<int>(out.size()) > q.limit) out.resize(q.limit);
  return out;
}

absl::StatusOr<std::vector<chain::Event>> FakeStore::Events(const std::string& clue_id) {
  std::lock_guard lock(mu_);
  Count("Events");
  if (!clues_.count(clue_id)) return absl::NotFoundError("clue not found");
  std::vector<chain::Event> out;
  for (const auto& e : events_) {
    if (e.aggregate_id == clue_id) out.push_back(e);
  }
  return out;
}

absl::StatusOr<chain::Check> FakeStore::VerifyChain(const std::string&) {
  Count("VerifyChain");
  return NotModelled("chain verification");
}
absl::StatusOr<chain::ServiceCheck> FakeStore::VerifyAllChains() {
  Count("VerifyAllChains");
  return NotModelled("chain verification");
}
absl::StatusOr<std::optional<chain::Checkpoint>> FakeStore::TakeCheckpoint() {
  Count("TakeCheckpoint");
  return NotModelled("checkpoints");
}
absl::StatusOr<std::vector<chain::Checkpoint>> FakeStore::Checkpoints(int64_t, int) {
  Count("Checkpoints");
  return NotModelled("checkpoints");
}

absl::StatusOr<std::vector<StoredClue>> FakeStore::Duplicates(const std::vector<std::string>& person_ids,
                                                              const std::optional<std::string>& visible_to_unit,
                                                              const std::string& exclude_id) {
  std::lock_guard lock(mu_);
  Count("Duplicates");
  std::vector<StoredClue> out;
  for (const auto& [id, s] : clues_) {
    if (id == exclude_id) continue;
    if (visible_to_unit && s.clue.holding_unit_id() != *visible_to_unit &&
        CustodyLocked(id, *visible_to_unit) == Custody::kNone) {
      continue;
    }
    const bool shares = std::any_of(s.clue.subjects().begin(), s.clue.subjects().end(), [&](const auto& subject) {
      return std::find(person_ids.begin(), person_ids.end(), subject.person_id()) != person_ids.end();
    });
    if (shares) out.push_back(s);
  }
  return out;
}

absl::StatusOr<v1::ClueStats> FakeStore::Stats(const StatsQuery&) {
  Count("Stats");
  return NotModelled("statistics");
}

absl::StatusOr<int64_t> FakeStore::StatsVersion() {
  std::lock_guard lock(mu_);
  Count("StatsVersion");
  return version_;
}

absl::StatusOr<std::vector<FeedEvent>> FakeStore::Feed(const Cursor& after, int limit) {
  std::lock_guard lock(mu_);
  Count("Feed");
  std::vector<FeedEvent> out;
  for (size_t i = 0; i < events_.size() && static_cast<int>(out.size()) < limit; ++i) {
    const Cursor at{1, static_cast<int64_t>(i + 1)};
    if (at > after) out.push_back(FeedEvent{events_[i], at});
  }
  return out;
}

absl::StatusOr<UnitInfo> FakeStore::Unit(const std::string& id) {
  std::lock_guard lock(mu_);
  Count("Unit");
  if (directory_error) return *directory_error;
  auto it = units.find(id);
  if (it == units.end()) return absl::NotFoundError("unit not found");
  return it->second;
}

absl::StatusOr<PersonInfo> FakeStore::Person(const std::string& id) {
  std::lock_guard lock(mu_);
  Count("Person");
  if (directory_error) return *directory_error;
  auto it = persons.find(id);
  if (it == persons.end()) return absl::NotFoundError("person not found");
  return it->second;
}

}  // namespace sm::clue::testing
