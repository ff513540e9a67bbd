// What inspection-service's handler files share (service.cc: the steps; read_service.cc:
// the reads, statistics, chains and the feed): the role gates that come before any item is
// read.
#pragma once

#include <string>
#include <string_view>

#include <absl/status/status.h>

#include "common/auth.h"
#include "common/log.h"

namespace sm::inspection {

// The roles that read inspections at all (each item is then decided by the caller's view).
inline bool Reads(const auth::Principal& p) {
  return p.HasRole(auth::kRoleInspector) || p.HasRole(auth::kRoleChiefInspector) || p.HasRole(auth::kRoleOversight) ||
         p.HasRole(auth::kRoleStaff) || p.HasRole(auth::kRoleDiscipline);
}

inline absl::Status GateReads(const auth::Principal& p, std::string_view method) {
  if (Reads(p)) return absl::OkStatus();
  log::Warn("access denied",
            {{"method", std::string(method)}, {"user", p.user}, {"reason", "no role reads inspections"}});
  return absl::PermissionDeniedError(std::string(method) + " is not open to the caller's roles");
}

}  // namespace sm::inspection
