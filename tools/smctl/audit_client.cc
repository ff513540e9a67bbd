#include "tools/smctl/audit_client.h"

#include <iostream>
#include <map>
#include <utility>

#include "common/uuid.h"
#include "tools/smctl/audit_labels.h"
#include "tools/smctl/audit_ledger.h"
#include "tools/smctl/clue_labels.h"
#include "tools/smctl/history.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;

grpc::Status AuditClient::SearchEngagement(const std::string& number, std::optional<v1::Engagement>* out) {
  out->reset();
  v1::ListEngagementsRequest req;
  req.set_page_size(500);
  v1::Engagement e;
  bool found = false;
  grpc::Status s =
      FindByNumber(&Stub::ListEngagements, req, &v1::ListEngagementsResponse::engagements, number, &e, &found);
  if (found) *out = e;
  return s;
}

int AuditClient::FindEngagement(const std::string& key, bool fetch, v1::Engagement* out) {
  if (IsUuid(key)) {
    v1::GetEngagementRequest req;
    req.set_engagement_id(key);
    return ReadById(&Stub::GetEngagement, req, key, fetch, out);
  }
  std::optional<v1::Engagement> found;
  grpc::Status s = SearchEngagement(Upper(key), &found);
  if (!s.ok()) return Fail(s);
  if (!found) return NotVisible("审计项目", "engagement", key);
  *out = *found;
  return kExitOk;
}

int AuditClient::FindFinding(const std::string& key, bool fetch, v1::Finding* out) {
  if (IsUuid(key)) {
    v1::GetFindingRequest req;
    req.set_finding_id(key);
    return ReadById(&Stub::GetFinding, req, key, fetch, out);
  }
  const std::string number = Upper(key);
  v1::ListFindingsRequest req;
  req.set_page_size(500);
  bool found = false;
  if (const size_t dash = number.rfind('-'); dash != std::string::npos && dash > 0) {
    std::optional<v1::Engagement> en;
    if (SearchEngagement(number.substr(0, dash), &en).ok() && en) {
      req.set_engagement_id(en->id());
      grpc::Status s = FindByNumber(&Stub::ListFindings, req, &v1::ListFindingsResponse::findings, number, out, &found);
      if (!s.ok()) return Fail(s);
    }
  }
  if (!found) {
    req.clear_engagement_id();
    grpc::Status s = FindByNumber(&Stub::ListFindings, req, &v1::ListFindingsResponse::findings, number, out, &found);
    if (!s.ok()) return Fail(s);
  }
  if (!found) return NotVisible("审计发现", "finding", key);
  return kExitOk;
}

int AuditClient::FindRect(const std::string& key_in, bool fetch, v1::Rectification* out) {
  const std::string key = Lower(key_in);
  if (IsUuid(key)) {
    v1::GetRectificationRequest req;
    req.set_rectification_id(key);
    return ReadById(&Stub::GetRectification, req, key, fetch, out);
  }
  if (key.size() < 8) {
    return ctx.FailLocal(kExitUsage, "整改ID至少需要前 8 位：" + key_in,
                         "give the rectification id, or at least its first 8 characters: " + key_in);
  }
  v1::ListRectificationsRequest req;
  req.set_page_size(500);
  int matches = 0;
  grpc::Status s = EachListed(&Stub::ListRectifications, req, &v1::ListRectificationsResponse::rectifications,
                              [&](const v1::Rectification& x) {
                                if (!StartsWith(x.id(), key)) return false;
                                *out = x;
                                return ++matches > 1;  // two are enough to refuse
                              });
  if (!s.ok()) return Fail(s);
  if (matches > 1) {
    return ctx.FailLocal(kExitUsage, "前缀 " + key_in + " 对应多条整改，请给出完整ID",
                         "prefix " + key_in + " matches several rectifications; give the whole id");
  }
  if (matches == 0) return NotVisible("整改", "rectification", key_in);
  return kExitOk;
}

std::string AuditClient::FindingNumber(const std::string& id) {
  if (id.empty()) return "";
  auto it = finding_numbers_.find(id);
  if (it != finding_numbers_.end()) return it->second;
  v1::GetFindingRequest req;
  req.set_finding_id(id);
  v1::Finding f;
  std::string number = Call(&Stub::GetFinding, req, &f).ok() ? f.number() : id;
  finding_numbers_[id] = number;
  return number;
}

std::string EngagementPeriod(const v1::Engagement& e) {
  if (e.period_from().empty() && e.period_to().empty()) return "";
  return e.period_from() + " ~ " + e.period_to();
}

void PrintEngagementDone(AuditClient& c, const v1::EngagementReply& r, const char* zh, const char* en) {
  const Lang l = c.lang();
  const v1::Engagement& e = r.engagement();
  std::cout << T(l, zh, en) << T(l, "：", ": ") << e.number() << "  " << T(l, "状态：", "state: ")
            << Label(l, EngagementStates(), e.state()) << "  " << T(l, "版本：", "version: ") << e.version() << "\n";
  PrintReplayed(l, r.mutation().replayed());
}

std::string ReferralCell(Lang l, const v1::Referral& r) {
  switch (r.state()) {
    case v1::REFERRAL_STATE_DELIVERED: return r.clue_number().empty() ? ReferralLabel(l, r.state()) : r.clue_number();
    case v1::REFERRAL_STATE_PENDING:
    case v1::REFERRAL_STATE_DEAD: return ReferralLabel(l, r.state());
    default: return "";
  }
}

void PrintFindings(AuditClient& c, const google::protobuf::RepeatedPtrField<v1::Finding>& findings) {
  const Lang l = c.lang();
  std::vector<std::vector<std::string>> rows;
  for (const auto& f : findings) {
    rows.push_back({f.number(), Truncate(f.title(), 24), Label(l, FindingCategories(), f.category()),
                    FormatYuan(f.amount_fen()), Label(l, Severities(), f.severity()),
                    c.dir.UnitName(f.responsible_unit_id()), ReferralCell(l, f.referral()),
                    std::to_string(f.rectifications_signed_off()) + "/" +
                        std::to_string(f.rectifications_signed_off() + f.rectifications_open()),
                    f.recurring() ? T(l, "是", "yes") : ""});
  }
  PrintTable(std::cout,
             {T(l, "编号", "number"), T(l, "标题", "title"), T(l, "类别", "category"),
              T(l, "金额（元）", "amount (yuan)"), T(l, "严重程度", "severity"), T(l, "责任单位", "responsible unit"),
              T(l, "移送", "referral"), T(l, "整改销号", "signed off"), T(l, "屡查屡犯", "recurring")},
             rows);
}

void PrintRects(AuditClient& c, const google::protobuf::RepeatedPtrField<v1::Rectification>& rects) {
  const Lang l = c.lang();
  std::vector<std::vector<std::string>> rows;
  for (const auto& x : rects) {
    std::string flags = Join({x.spot_check() ? T(l, "抽查复核", "spot check") : "",
                              x.reopened() > 0 ? T(l, "回头看×", "reopened ×") + std::to_string(x.reopened()) : ""},
                             T(l, "、", ", "));
    rows.push_back({x.id(), c.FindingNumber(x.finding_id()), Truncate(x.measure(), 24),
                    c.dir.UnitName(x.owner_unit_id()), Label(l, RectificationStates(), x.state()),
                    BeijingTime(x.deadline_at()), x.overdue() ? T(l, "是", "yes") : "", flags});
  }
  PrintTable(std::cout,
             {"ID", T(l, "问题编号", "finding"), T(l, "整改措施", "measure"), T(l, "责任单位", "owner unit"),
              T(l, "状态", "state"), T(l, "整改期限", "deadline"), T(l, "逾期", "overdue"), T(l, "备注", "notes")},
             rows);
}

void PrintRectDone(AuditClient& c, const v1::RectificationReply& r, const char* zh, const char* en) {
  const Lang l = c.lang();
  const v1::Rectification& x = r.rectification();
  std::cout << T(l, zh, en) << T(l, "：", ": ") << x.id() << "\n"
            << T(l, "状态：", "state: ") << Label(l, RectificationStates(), x.state()) << "  "
            << T(l, "整改期限：", "deadline: ") << BeijingTime(x.deadline_at()) << "  " << T(l, "版本：", "version: ")
            << x.version() << "\n";
  if (x.state() == v1::RECTIFICATION_STATE_SIGNED_OFF) {
    std::cout << T(l, "回头看截止：", "look-back until: ") << BeijingTime(x.lookback_until());
    if (x.spot_check()) std::cout << "  " << T(l, "（已抽中复核）", "(selected for a spot check)");
    std::cout << "\n";
  }
  PrintReplayed(l, r.mutation().replayed());
}

std::string EventData(AuditClient& c, const std::string& json, const v1::Finding& finding) {
  const Lang l = c.lang();
  static const KeyLabels kKeys = {
      {"to_unit_id", {"移送至", "to"}},
      {"owner_unit_id", {"责任单位", "owner unit"}},
      {"responsible_unit_id", {"责任单位", "responsible unit"}},
      {"audited_unit_id", {"被审计单位", "audited unit"}},
      {"engagement_id", {"审计项目", "engagement"}},
      {"rectification_id", {"整改", "rectification"}},
      {"clue_id", {"线索", "clue"}},
      {"category", {"类别", "category"}},
      {"amount_fen", {"金额（元）", "amount (yuan)"}},
      {"kind", {"类型", "kind"}},
      {"from", {"从", "from"}},
      {"to", {"至", "to"}},
      {"note", {"进展", "note"}},
      {"summary", {"说明", "summary"}},
      {"reason", {"理由", "reason"}},
      {"evidence_refs", {"证据", "evidence"}},
      {"spot_check", {"抽查复核", "spot check"}},
      {"deadline_us", {"整改期限", "deadline"}},
      {"recurs_finding_id", {"前次问题", "earlier finding"}},
      {"error", {"错误", "error"}},
  };
  auto text_of = [&](const std::string& key, const nlohmann::json& value) -> std::optional<std::string> {
    if (key == "clue_seq") return std::nullopt;
    std::string text;
    if (value.is_string()) {
      const std::string v = value.get<std::string>();
      if (v.empty()) return std::nullopt;
      if (EndsWith(key, "unit_id") && IsUuid(v))
        text = c.dir.UnitName(v);
      else if (EndsWith(key, "person_id") && IsUuid(v))
        text = c.dir.PersonName(v);
      else if (key == "clue_id" && v == finding.referral().clue_id() && !finding.referral().clue_number().empty())
        text = finding.referral().clue_number();
      else if (key == "recurs_finding_id" && IsUuid(v))
        text = c.FindingNumber(v);
      else if (key == "engagement_id" && v == finding.engagement_id())
        return std::nullopt;  // the finding's own
      else
        text = AuditEnumNameLabel(l, v);
    } else if (key == "amount_fen" && value.is_number_integer()) {
      text = FormatYuan(value.get<int64_t>());
    } else if (key == "deadline_us" && value.is_number_integer()) {
      google::protobuf::Timestamp t;
      t.set_seconds(value.get<int64_t>() / 1000000);
      text = BeijingTime(t);
    } else if (value.is_boolean()) {
      text = value.get<bool>() ? T(l, "是", "yes") : T(l, "否", "no");
    } else if (value.is_array()) {
      std::vector<std::string> items;
      for (const auto& item : value) items.push_back(item.is_string() ? item.get<std::string>() : item.dump());
      if (items.empty()) return std::nullopt;
      text = Join(items, T(l, "、", ", "));
    } else {
      text = value.dump();
    }
    return text;
  };
  return EventDataText(l, json, kKeys, text_of);
}

}  // namespace sm::smctl
