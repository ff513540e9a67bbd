// What the clue-service handler files (service.cc, read_service.cc, reveal_service.cc)
// share: field limits, role checks and the sealing contexts. Not part of the service's
// interface.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <absl/status/status.h>

#include "common/auth.h"
#include "common/validate.h"

namespace sm::clue::handler {

inline constexpr size_t kMaxSummary = 500;
inline constexpr size_t kMaxDetails = 20000;
inline constexpr size_t kMaxReason = 1000;
inline constexpr size_t kMaxFeedback = 4000;
inline constexpr int kMaxSubjects = 50;

using validate::Length;
using validate::RequestId;
using validate::Uuid;
using validate::Version;

inline bool Oversight(const auth::Principal& p) { return p.HasRole(auth::kRoleOversight); }

inline absl::Status RequireCaseStaff(const auth::Principal& p) {
  return auth::RequireAnyRole(p, {auth::kRoleDiscipline});
}

inline absl::Status RequireReader(const auth::Principal& p) {
  return auth::RequireAnyRole(p, {auth::kRoleDiscipline, auth::kRoleOversight});
}

// Reveal steps are a person's: the token must name one.
inline absl::Status RequireUser(const auth::Principal& p) {
  if (p.user.empty()) return absl::PermissionDeniedError("the token names no user");
  return absl::OkStatus();
}

// The source system a service refers under: its name without "-service" ("audit-service"
// refers findings as source_system "audit").
inline std::string SourceSystemOf(const auth::Principal& p) {
  constexpr std::string_view kSuffix = "-service";
  const std::string& name = p.user;
  if (name.size() > kSuffix.size() && name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0) {
    return name.substr(0, name.size() - kSuffix.size());
  }
  return name;
}

// The additional data each sealed field is bound to (a value moved to another clue or
// field does not open).
inline std::string DetailsAad(const std::string& id) { return "clue:" + id + ":details"; }
inline std::string ReporterAad(const std::string& id) { return "clue:" + id + ":reporter"; }

}  // namespace sm::clue::handler
