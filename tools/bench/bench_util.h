// Helpers the event-lag benches share (sm-bench-accountability, sm-bench-risk): a bounded
// call with a bearer token, milliseconds of a duration and nearest-rank quantiles. Header
// only: each bench is one source file linking sm_common.
#pragma once

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <vector>

namespace sm::bench {

using Clock = std::chrono::steady_clock;

inline double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// Nearest rank: the smallest value with at least q of them at or below it (0 when empty).
inline double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

// Runs fn(ctx) with `token` as the bearer and a deadline of `deadline` from now; returns its
// status (DEADLINE_EXCEEDED when the deadline passes).
template <typename Fn>
grpc::Status Call(const std::string& token, Fn fn, std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + token);
  ctx.set_deadline(std::chrono::system_clock::now() + deadline);
  return fn(&ctx);
}

}  // namespace sm::bench
