// Error handling shared by every service: absl::Status inside the code, one mapping to
// grpc::Status at the edge, and field errors carried as google.rpc.BadRequest so a client
// can tell which field failed.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <absl/status/status.h>
#include <absl/status/statusor.h>
#include <grpcpp/support/status.h>

namespace sm {

// Evaluates `expr` (an absl::Status) and returns it from the current function if not OK.
#define SM_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::absl::Status sm_status_ = (expr);      \
    if (!sm_status_.ok()) return sm_status_; \
  } while (0)

#define SM_CONCAT_INNER_(a, b) a##b
#define SM_CONCAT_(a, b) SM_CONCAT_INNER_(a, b)
// `lhs = value of expr` (an absl::StatusOr<T>), or returns its status from the function.
#define SM_ASSIGN_OR_RETURN(lhs, expr) SM_ASSIGN_OR_RETURN_IMPL_(SM_CONCAT_(sm_statusor_, __LINE__), lhs, expr)
#define SM_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return std::move(tmp).status();  \
  lhs = std::move(tmp).value()

struct FieldViolation {
  std::string field;        // e.g. "people[3].badge"
  std::string description;  // English, for logs and developers
};

// INVALID_ARGUMENT carrying one google.rpc.BadRequest violation per field. The message
// names the first field so that even a client that ignores details sees it.
absl::Status InvalidFields(std::vector<FieldViolation> violations);
absl::Status InvalidField(std::string field, std::string description);

// Collects field violations while validating a request; Status() is OK when none.
class FieldErrors {
 public:
  void Add(std::string field, std::string description);
  bool empty() const { return violations_.empty(); }
  size_t size() const { return violations_.size(); }
  absl::Status ToStatus() const;

 private:
  std::vector<FieldViolation> violations_;
};

// The violations an INVALID_ARGUMENT status carries (empty for other statuses).
std::vector<FieldViolation> FieldViolations(const absl::Status& status);

// The one mapping between the two status types; codes map one to one, messages are kept
// and field violations travel as google.rpc.BadRequest in grpc-status-details-bin.
grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

grpc::StatusCode ToGrpcCode(absl::StatusCode code);
absl::StatusCode FromGrpcCode(grpc::StatusCode code);

// Lower-case canonical name of a gRPC code ("ok", "invalid_argument"): metric labels.
std::string_view GrpcCodeName(grpc::StatusCode code);

}  // namespace sm
