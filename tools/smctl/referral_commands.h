// `finding refer` and `finding retry-referral`, shared by `smctl audit` and `smctl inspection`:
// both services serve the same ReferFindingRequest and RetryReferralRequest (referral.proto)
// on findings that carry a Referral. What differs is told by a Traits struct, a ReferralOf:
//   struct XReferral : ReferralOf<XClient, XFinding, XFindingReply> {
//     static constexpr const char* kServiceZh, kServiceEn;  // who registers the clue
//     static constexpr const char* kShowCommand;            // shows the clue number later
//   };
#pragma once

#include <iostream>
#include <string>
#include <vector>

#include "supervision/v1/referral.pb.h"
#include "tools/smctl/audit_labels.h"
#include "tools/smctl/clue_labels.h"
#include "tools/smctl/command.h"

namespace sm::smctl {

// The types of one service's referral: its client (whose Stub serves ReferFinding and
// RetryReferral, and which finds a FINDING by id or number), its finding and the reply of both.
template <typename ClientT, typename FindingT, typename ReplyT>
struct ReferralOf {
  using Client = ClientT;
  using Finding = FindingT;
  using Reply = ReplyT;
  static constexpr auto kRefer = &ClientT::Stub::ReferFinding;
  static constexpr auto kRetry = &ClientT::Stub::RetryReferral;
};

struct ReferArgs {
  std::string finding;  // UUID or number
  std::string to;       // discipline unit: code or id
  std::vector<::supervision::v1::ClueCategory> categories;
  std::string summary;
  std::string request_id;
  int64_t version = 0;
};

struct RetryReferralArgs {
  std::string finding;  // UUID or number
  std::string reason;   // what was fixed
  std::string request_id;
  int64_t version = 0;
};

// "已移送：<number>  移送至：…  移送状态：…  版本：…" after refer (`again`: after retry-referral).
template <typename Client, typename Finding>
void PrintReferralDone(Client& c, const Finding& r, bool again) {
  const Lang l = c.lang();
  std::cout << (again ? T(l, "已重新移送：", "referral sent again: ") : T(l, "已移送：", "referred: ")) << r.number();
  if (!again) std::cout << "  " << T(l, "移送至：", "to: ") << c.dir.UnitName(r.referral().to_unit_id());
  std::cout << "  " << T(l, "移送状态：", "referral: ") << ReferralLabel(l, r.referral().state()) << "  "
            << T(l, "版本：", "version: ") << r.version() << "\n";
}

template <typename Traits>
int ReferFinding(typename Traits::Client& c, const ReferArgs& a) {
  ::supervision::v1::ReferFindingRequest req;
  for (auto cat : a.categories) req.add_categories(cat);
  std::string to;
  if (int rc = c.dir.UnitId(a.to, &to); rc != kExitOk) return rc;
  typename Traits::Finding f;
  if (int rc = c.FindFinding(a.finding, a.version <= 0, &f); rc != kExitOk) return rc;
  req.set_request_id(RequestIdOr(a.request_id));
  req.set_finding_id(f.id());
  req.set_expected_version(VersionOr(a.version, f.version()));
  req.set_to_unit_id(to);
  req.set_summary(a.summary);
  return c.Run(Traits::kRefer, req, [&](const typename Traits::Reply& reply) {
    const Lang l = c.lang();
    const auto& r = reply.finding();
    PrintReferralDone(c, r, false);
    if (r.referral().state() == ::supervision::v1::REFERRAL_STATE_PENDING) {
      std::cout << T(l, Traits::kServiceZh, Traits::kServiceEn)
                << T(l, "将把它登记为线索并送达；稍后用 ",
                     " registers it as a clue and delivers it; see the clue number "
                     "later with ")
                << Traits::kShowCommand << " " << r.number() << T(l, " 查看线索编号。\n", "\n");
    }
    PrintReplayed(l, reply.mutation().replayed());
  });
}

// Sends a referral that failed for good (移送失败) again once its cause is fixed.
template <typename Traits>
int RetryFindingReferral(typename Traits::Client& c, const RetryReferralArgs& a) {
  typename Traits::Finding f;
  if (int rc = c.FindFinding(a.finding, a.version <= 0, &f); rc != kExitOk) return rc;
  ::supervision::v1::RetryReferralRequest req;
  req.set_request_id(RequestIdOr(a.request_id));
  req.set_finding_id(f.id());
  req.set_expected_version(VersionOr(a.version, f.version()));
  req.set_reason(a.reason);
  return c.Run(Traits::kRetry, req, [&](const typename Traits::Reply& reply) {
    PrintReferralDone(c, reply.finding(), true);
    PrintReplayed(c.lang(), reply.mutation().replayed());
  });
}

// Adds `refer` and `retry-referral` under `finding`.
template <typename Traits>
void AddReferralCommands(CLI::App* finding, Commands& commands) {
  {
    auto [cmd, a] =
        commands.Add(finding, "refer", "移送纪检监察部门（形成问题线索） refer to a discipline unit as a clue",
                     &ReferFinding<Traits>);
    cmd->add_option("FINDING", a->finding, "问题ID或编号 finding id or number")->required();
    cmd->add_option("--to", a->to, "接收单位（代码或ID） discipline unit (code or id)")->required();
    AddChoicesOption(cmd, "--category", &a->categories, ClueCategories(),
                     "线索类别（可重复，或逗号分隔；默认廉洁纪律） clue category (repeat)")
        ->delimiter(',')
        ->allow_extra_args(false);
    cmd->add_option("--summary", a->summary, "线索摘要（默认：问题标题） clue summary (default: the finding's title)");
    AddRequestIdOption(cmd, &a->request_id);
    AddVersionOption(cmd, &a->version);
  }
  {
    auto [cmd, a] = commands.Add(finding, "retry-referral", "移送失败后重新移送 send a failed referral again",
                                 &RetryFindingReferral<Traits>);
    cmd->add_option("FINDING", a->finding, "问题ID或编号 finding id or number")->required();
    cmd->add_option("--reason", a->reason, "已纠正的原因（必填） what was fixed (required)")->required();
    AddRequestIdOption(cmd, &a->request_id);
    AddVersionOption(cmd, &a->version);
  }
}

}  // namespace sm::smctl
