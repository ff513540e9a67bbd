#include "tests/support/fake_audit_store.h"

#include "common/event_payload.h"

#include "common/status.h"

namespace sm::audit::testing {

template <typename Reply>
absl::StatusOr<Reply> FakeStore::Walk(const StepRequest& request, const auth::Principal& caller, StepFacts facts,
                                      const Rules& rules, const db::Idempotency::Key& key) {
  ++steps;
  // As db::Idempotency::Write: a key replays its reply, or is refused for other parameters.
  if (auto it = replies_.find(key.request_id); it != replies_.end()) {
    if (it->second.method != key.method || it->second.fingerprint != key.fingerprint) {
      return InvalidField("request_id", "was used for another request");
    }
    Reply out;
    if (!out.ParseFromString(it->second.reply)) return absl::InternalError("stored reply unreadable");
    out.mutable_mutation()->set_replayed(true);
    return out;
  }
  SM_ASSIGN_OR_RETURN(Current current, Load(request));
  SM_RETURN_IF_ERROR(ReadStepUnits(
      request, current, caller, [this](const std::string& id) { return Unit(id); }, facts));
  SM_ASSIGN_OR_RETURN(Change change, Decide(current, caller, request, facts, rules));
  Apply(change);
  Reply out;
  FillReply(change, &out);
  replies_[key.request_id] = {key.method, key.fingerprint, out.SerializeAsString()};
  return out;
}

absl::StatusOr<v1::EngagementReply> FakeStore::Step(const EngagementStep& request, const auth::Principal& caller,
                                                    StepFacts facts, const Rules& rules,
                                                    const db::Idempotency::Key& key) {
  return Walk<v1::EngagementReply>(AsStep(request), caller, std::move(facts), rules, key);
}
absl::StatusOr<v1::FindingReply> FakeStore::Step(const FindingStep& request, const auth::Principal& caller,
                                                 StepFacts facts, const Rules& rules, const db::Idempotency::Key& key) {
  return Walk<v1::FindingReply>(AsStep(request), caller, std::move(facts), rules, key);
}
absl::StatusOr<v1::RectificationReply> FakeStore::Step(const RectificationStep& request, const auth::Principal& caller,
                                                       StepFacts facts, const Rules& rules,
                                                       const db::Idempotency::Key& key) {
  return Walk<v1::RectificationReply>(AsStep(request), caller, std::move(facts), rules, key);
}

absl::StatusOr<Current> FakeStore::Load(const StepRequest& request) {
  Current c;
  c.now_us = ToUnixMicros(now);
  const std::string& target = TargetOf(request);
  switch (LoadsOf(request)) {
    case Loads::kNothing: c.sequence = ++sequence_; return c;
    case Loads::kEngagement: {
      auto it = engagements.find(target);
      if (it == engagements.end()) return absl::NotFoundError("engagement not found");
      c.engagement = it->second;
      c.finding_ordinal = 1;
      for (const auto& [id, f] : findings) c.finding_ordinal += f.finding.engagement_id() == target ? 1 : 0;
      return c;
    }
    case Loads::kFinding:
    case Loads::kRectification: {
      auto it = findings.find(target);
      if (LoadsOf(request) == Loads::kRectification) {
        it = std::find_if(findings.begin(), findings.end(), [&](const auto& f) { return f.second.Find(target); });
      }
      if (it == findings.end()) {
        return absl::NotFoundError(LoadsOf(request) == Loads::kFinding ? "finding not found"
                                                                       : "rectification not found");
      }
      c.finding = it->second;
      c.engagement = engagements.at(it->second.finding.engagement_id());
      return c;
    }
  }
  return absl::InternalError("unknown step");
}

void FakeStore::Apply(Change& c) {
  for (const Event& e : c.events) {
    if (c.engagement && e.aggregate_id == c.engagement->engagement.id()) ++c.engagement->chain_len;
    if (c.finding && e.aggregate_id == c.finding->finding.id()) ++c.finding->chain_len;
    events.push_back(e);
  }
  if (c.engagement) engagements[c.engagement->engagement.id()] = *c.engagement;
  if (c.finding) findings[c.finding->finding.id()] = *c.finding;
  if (c.command) commands.push_back(*c.command);
}

absl::StatusOr<v1::Engagement> FakeStore::GetEngagement(const std::string& id) {
  auto it = engagements.find(id);
  if (it == engagements.end()) return absl::NotFoundError("engagement not found");
  return it->second.engagement;
}

absl::StatusOr<std::vector<v1::Engagement>> FakeStore::ListEngagements(const v1::ListEngagementsRequest&,
                                                                       const std::optional<std::string>&,
                                                                       std::optional<std::pair<int64_t, std::string>>,
                                                                       int limit) {
  std::vector<v1::Engagement> out;
  for (const auto& [id, e] : engagements) {
    if (static_cast<int>(out.size()) < limit) out.push_back(e.engagement);
  }
  return out;
}

absl::StatusOr<v1::Finding> FakeStore::GetFinding(const std::string& id) {
  SM_ASSIGN_OR_RETURN(FindingRecord r, GetFindingRecord(id));
  return r.finding.finding;
}

absl::StatusOr<FindingRecord> FakeStore::GetFindingRecord(const std::string& id) {
  auto it = findings.find(id);
  if (it == findings.end()) return absl::NotFoundError("finding not found");
  return FindingRecord{it->second, engagements.at(it->second.finding.engagement_id())};
}

absl::StatusOr<std::vector<v1::Finding>> FakeStore::ListFindings(const v1::ListFindingsRequest& q,
                                                                 const std::optional<std::string>&,
                                                                 std::optional<std::pair<int64_t, std::string>>,
                                                                 int limit) {
  std::vector<v1::Finding> out;
  for (const auto& [id, f] : findings) {
    if (!q.engagement_id().empty() && f.finding.engagement_id() != q.engagement_id()) continue;
    if (static_cast<int>(out.size()) < limit) out.push_back(f.finding);
  }
  return out;
}

absl::StatusOr<v1::Rectification> FakeStore::GetRectification(const std::string& id) {
  for (const auto& [fid, f] : findings) {
    if (const StoredRectification* x = f.Find(id)) return x->rectification;
  }
  return absl::NotFoundError("rectification not found");
}

absl::StatusOr<std::vector<v1::Rectification>> FakeStore::ListRectifications(
    const v1::ListRectificationsRequest& q, const std::optional<std::string>&,
    std::optional<std::pair<int64_t, std::string>>, int limit) {
  std::vector<v1::Rectification> out;
  for (const auto& [fid, f] : findings) {
    for (const auto& x : f.rectifications) {
      if (!q.finding_id().empty() && x.rectification.finding_id() != q.finding_id()) continue;
      if (!q.owner_unit_id().empty() && x.rectification.owner_unit_id() != q.owner_unit_id()) continue;
      if (static_cast<int>(out.size()) < limit) out.push_back(x.rectification);
    }
  }
  return out;
}

absl::StatusOr<int> FakeStore::MarkOverdue(TimePoint at) {
  int marked = 0;
  for (auto& [fid, f] : findings) {
    std::vector<std::string> ids;
    for (const auto& x : f.rectifications) ids.push_back(x.rectification.id());
    for (const std::string& id : ids) {
      if (std::optional<Change> change = EscalateOverdue(f, id, at)) {
        Apply(*change);
        ++marked;
      }
    }
  }
  return marked;
}

absl::StatusOr<events::EventLog::History> FakeStore::History(const std::string& aggregate_id) {
  events::EventLog::History h;
  for (const Event& e : events) {
    if (e.aggregate_id != aggregate_id) continue;
    chain::Event out;
    out.seq = static_cast<int64_t>(h.events.size()) + 1;
    out.aggregate_id = e.aggregate_id;
    auto payload = events::Encode(e.event);
    if (!payload.ok()) return payload.status();
    out.type = payload->type;
    out.data = payload->json;
    h.events.push_back(std::move(out));
  }
  if (h.events.empty() && !engagements.count(aggregate_id) && !findings.count(aggregate_id)) {
    return absl::NotFoundError("not found");
  }
  return h;
}

absl::StatusOr<UnitInfo> FakeStore::Unit(const std::string& id) {
  if (failing_units.count(id)) return absl::UnavailableError("directory unavailable");
  auto it = units.find(id);
  if (it == units.end()) return absl::NotFoundError("no such unit");
  return it->second;
}

absl::StatusOr<PersonInfo> FakeStore::Person(const std::string& id) {
  auto it = people.find(id);
  if (it == people.end()) return absl::NotFoundError("no such person");
  return it->second;
}

}  // namespace sm::audit::testing
