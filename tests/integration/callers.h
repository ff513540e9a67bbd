// What the in-process service tests share about their callers: a caller by user, unit and one
// role with its development token, the day their fake clock starts on, and the field an
// INVALID_ARGUMENT names.
#pragma once

#include <grpcpp/grpcpp.h>

#include <string>

#include "common/auth.h"
#include "common/clock.h"
#include "common/status.h"
#include "common/workdays.h"

namespace sm::testing {

struct Who {
  std::string user;
  std::string unit;
  std::string role;
};

// A development token for `w` (clearance 1); a service's names the service and nothing else
// (its key vouches for no more).
inline std::string Token(const Who& w) {
  auth::Principal p;
  p.user = w.user;
  p.unit = w.unit;
  p.roles = {w.role};
  p.clearance = 1;
  if (p.HasRole(auth::kRoleService)) p = auth::Principal{.user = w.user, .roles = {w.role}};
  return *auth::Mint(auth::DevelopmentMint(p));
}

// 2026-03-02 02:00 UTC, a working Monday.
inline TimePoint Start() {
  return FromUnixSeconds(workdays::DaysFromCivil(*workdays::ParseDate("2026-03-02")) * 86400 + 2 * 3600);
}

// The first field an INVALID_ARGUMENT names ("" when none).
inline std::string FieldOf(const grpc::Status& s) {
  auto v = FieldViolations(FromGrpcStatus(s));
  return v.empty() ? "" : v[0].field;
}

}  // namespace sm::testing
