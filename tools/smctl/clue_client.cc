#include "tools/smctl/clue_client.h"

#include <iostream>

#include "common/uuid.h"
#include "tools/smctl/clue_labels.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;

int ClueClient::Find(const std::string& key, bool fetch, v1::Clue* clue) {
  if (IsUuid(key)) {
    v1::GetClueRequest req;
    req.set_clue_id(key);
    return ReadById(&v1::ClueService::Stub::GetClue, req, key, fetch, clue);
  }
  v1::ListCluesRequest req;
  req.set_page_size(500);
  v1::Clue found;
  bool any = false;
  grpc::Status s =
      FindByNumber(&v1::ClueService::Stub::ListClues, req, &v1::ListCluesResponse::clues, key, &found, &any);
  if (!s.ok()) return Fail(s);
  if (!any) return NotVisible("线索", "clue", key);
  if (!fetch) {
    *clue = found;
    return kExitOk;
  }
  return Find(found.id(), true, clue);  // details only come with GetClue
}

int ClueClient::Target(const std::string& key, int64_t version, std::string* id, int64_t* expected) {
  v1::Clue c;
  if (int rc = Find(key, version <= 0 && IsUuid(key), &c); rc != kExitOk) return rc;
  *id = c.id();
  *expected = VersionOr(version, c.version());
  return kExitOk;
}

void ClueClient::PrintDone(const v1::ClueReply& r, const char* zh, const char* en) {
  const Lang l = lang();
  const v1::Clue& c = r.clue();
  std::cout << T(l, zh, en) << T(l, "：", ": ") << c.number() << "  " << T(l, "状态：", "state: ")
            << Label(l, ClueStates(), c.state()) << "  " << T(l, "版本：", "version: ") << c.version();
  if (c.has_deadline_at()) {
    std::cout << "  " << T(l, "办理时限：", "deadline: ") << BeijingTime(c.deadline_at());
    if (!c.deadline_stage().empty()) std::cout << " (" << StageLabel(l, c.deadline_stage()) << ")";
  }
  std::cout << "\n";
  PrintReplayed(l, r.mutation().replayed());
}

void ClueClient::PrintClues(const google::protobuf::RepeatedPtrField<v1::Clue>& clues) {
  const Lang l = lang();
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : clues) {
    rows.push_back({c.number(), Label(l, ClueStates(), c.state()), Truncate(c.summary(), 24),
                    dir.UnitName(c.holding_unit_id()), BeijingTime(c.deadline_at()),
                    c.overdue() ? T(l, "是", "yes") : ""});
  }
  PrintTable(std::cout,
             {T(l, "编号", "number"), T(l, "状态", "state"), T(l, "摘要", "summary"), T(l, "承办单位", "holding unit"),
              T(l, "时限", "deadline"), T(l, "逾期", "overdue")},
             rows);
}

std::string ClueClient::UserName(const std::string& user) { return IsUuid(user) ? dir.PersonName(user) : user; }

}  // namespace sm::smctl
