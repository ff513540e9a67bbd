// Tests for common/status.h: the absl <-> gRPC mapping over every canonical code, field
// violations carried as google.rpc.BadRequest, and the RETURN_IF_ERROR / ASSIGN_OR_RETURN
// macros.
#include "common/status.h"

#include <google/rpc/error_details.pb.h>
#include <google/rpc/status.pb.h>
#include <grpcpp/support/error_details.h>

#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sm {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using Pair = std::pair<std::string, std::string>;

// Violations as (field, description) pairs, for readable matchers.
std::vector<Pair> Pairs(const absl::Status& status) {
  std::vector<Pair> out;
  for (const auto& v : FieldViolations(status)) out.emplace_back(v.field, v.description);
  return out;
}

// The canonical codes in numeric order with their lower-case metric label.
struct CodeCase {
  int number;
  absl::StatusCode absl_code;
  grpc::StatusCode grpc_code;
  const char* name;
};
const CodeCase kCodes[] = {
    {0, absl::StatusCode::kOk, grpc::StatusCode::OK, "ok"},
    {1, absl::StatusCode::kCancelled, grpc::StatusCode::CANCELLED, "cancelled"},
    {2, absl::StatusCode::kUnknown, grpc::StatusCode::UNKNOWN, "unknown"},
    {3, absl::StatusCode::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT, "invalid_argument"},
    {4, absl::StatusCode::kDeadlineExceeded, grpc::StatusCode::DEADLINE_EXCEEDED, "deadline_exceeded"},
    {5, absl::StatusCode::kNotFound, grpc::StatusCode::NOT_FOUND, "not_found"},
    {6, absl::StatusCode::kAlreadyExists, grpc::StatusCode::ALREADY_EXISTS, "already_exists"},
    {7, absl::StatusCode::kPermissionDenied, grpc::StatusCode::PERMISSION_DENIED, "permission_denied"},
    {8, absl::StatusCode::kResourceExhausted, grpc::StatusCode::RESOURCE_EXHAUSTED, "resource_exhausted"},
    {9, absl::StatusCode::kFailedPrecondition, grpc::StatusCode::FAILED_PRECONDITION, "failed_precondition"},
    {10, absl::StatusCode::kAborted, grpc::StatusCode::ABORTED, "aborted"},
    {11, absl::StatusCode::kOutOfRange, grpc::StatusCode::OUT_OF_RANGE, "out_of_range"},
    {12, absl::StatusCode::kUnimplemented, grpc::StatusCode::UNIMPLEMENTED, "unimplemented"},
    {13, absl::StatusCode::kInternal, grpc::StatusCode::INTERNAL, "internal"},
    {14, absl::StatusCode::kUnavailable, grpc::StatusCode::UNAVAILABLE, "unavailable"},
    {15, absl::StatusCode::kDataLoss, grpc::StatusCode::DATA_LOSS, "data_loss"},
    {16, absl::StatusCode::kUnauthenticated, grpc::StatusCode::UNAUTHENTICATED, "unauthenticated"},
};

TEST(StatusCodeMapping, EveryCanonicalCodeMapsOneToOne) {
  ASSERT_EQ(std::size(kCodes), 17u);
  for (const auto& c : kCodes) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(static_cast<int>(c.absl_code), c.number);
    EXPECT_EQ(static_cast<int>(c.grpc_code), c.number);
    EXPECT_EQ(ToGrpcCode(c.absl_code), c.grpc_code);
    EXPECT_EQ(FromGrpcCode(c.grpc_code), c.absl_code);
    EXPECT_EQ(GrpcCodeName(c.grpc_code), c.name);
  }
}

TEST(StatusCodeMapping, OutOfRangeCodesBecomeUnknown) {
  EXPECT_EQ(ToGrpcCode(static_cast<absl::StatusCode>(17)), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(ToGrpcCode(static_cast<absl::StatusCode>(-1)), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(FromGrpcCode(static_cast<grpc::StatusCode>(17)), absl::StatusCode::kUnknown);
  EXPECT_EQ(FromGrpcCode(grpc::StatusCode::DO_NOT_USE), absl::StatusCode::kUnknown);
  EXPECT_EQ(GrpcCodeName(static_cast<grpc::StatusCode>(99)), "unknown");
}

TEST(StatusConversion, EveryCodeAndMessageSurvivesTheRoundTrip) {
  for (const auto& c : kCodes) {
    SCOPED_TRACE(c.name);
    if (c.number == 0) continue;
    const std::string message = std::string("went wrong: ") + c.name + " 失败";
    absl::Status in(c.absl_code, message);
    grpc::Status g = ToGrpcStatus(in);
    EXPECT_EQ(g.error_code(), c.grpc_code);
    EXPECT_EQ(g.error_message(), message);
    EXPECT_TRUE(g.error_details().empty()) << "no details without field violations";
    absl::Status back = FromGrpcStatus(g);
    EXPECT_EQ(back.code(), c.absl_code);
    EXPECT_EQ(std::string(back.message()), message);
  }
}

TEST(StatusConversion, OkStaysOk) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

TEST(FieldViolationsTest, InvalidFieldsCarriesEveryViolationAndNamesTheFirst) {
  absl::Status s = InvalidFields({{"people[3].badge", "duplicates people[1].badge"}, {"units[0].name", "is required"}});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("people[3].badge"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("1 more"));
  EXPECT_THAT(Pairs(s),
              ElementsAre(Pair{"people[3].badge", "duplicates people[1].badge"}, Pair{"units[0].name", "is required"}));
}

TEST(FieldViolationsTest, InvalidFieldIsASingleViolation) {
  absl::Status s = InvalidField("document", "is empty");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(s.message()), "document: is empty");
  EXPECT_THAT(Pairs(s), ElementsAre(Pair{"document", "is empty"}));
}

TEST(FieldViolationsTest, EmptyListIsStillInvalidArgument) {
  absl::Status s = InvalidFields({});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(FieldViolations(s).empty());
}

TEST(FieldViolationsTest, OtherStatusesHaveNone) {
  EXPECT_TRUE(FieldViolations(absl::OkStatus()).empty());
  EXPECT_TRUE(FieldViolations(absl::NotFoundError("x")).empty());
  EXPECT_TRUE(FieldViolations(absl::InvalidArgumentError("plain")).empty());
}

TEST(FieldErrorsTest, CollectsThenReports) {
  FieldErrors errors;
  EXPECT_TRUE(errors.empty());
  EXPECT_TRUE(errors.ToStatus().ok());
  errors.Add("a", "is required");
  errors.Add("b[2].c", "is too long");
  EXPECT_FALSE(errors.empty());
  EXPECT_EQ(errors.size(), 2u);
  absl::Status s = errors.ToStatus();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Pairs(s), ElementsAre(Pair{"a", "is required"}, Pair{"b[2].c", "is too long"}));
}

TEST(FieldViolationsTest, TravelAsBadRequestInGrpcStatusDetails) {
  absl::Status s = InvalidFields({{"units[1].name", "must not be empty"}, {"units[2].parent", "unknown unit 'x'"}});
  grpc::Status g = ToGrpcStatus(s);
  EXPECT_EQ(g.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(g.error_message(), std::string(s.message()));
  ASSERT_FALSE(g.error_details().empty());

  // What any gRPC client sees: a google.rpc.Status whose details hold a BadRequest.
  google::rpc::Status rpc;
  ASSERT_TRUE(grpc::ExtractErrorDetails(g, &rpc).ok());
  EXPECT_EQ(rpc.code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  ASSERT_EQ(rpc.details_size(), 1);
  google::rpc::BadRequest br;
  ASSERT_TRUE(rpc.details(0).UnpackTo(&br));
  ASSERT_EQ(br.field_violations_size(), 2);
  EXPECT_EQ(br.field_violations(0).field(), "units[1].name");
  EXPECT_EQ(br.field_violations(1).field(), "units[2].parent");
  EXPECT_EQ(br.field_violations(1).description(), "unknown unit 'x'");

  absl::Status back = FromGrpcStatus(g);
  EXPECT_EQ(back.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(back.message(), s.message());
  EXPECT_THAT(Pairs(back),
              ElementsAre(Pair{"units[1].name", "must not be empty"}, Pair{"units[2].parent", "unknown unit 'x'"}));
}

TEST(FieldViolationsTest, FromGrpcStatusIgnoresUnparseableDetails) {
  grpc::Status g(grpc::StatusCode::INVALID_ARGUMENT, "bad", "\xff\xff not a proto");
  absl::Status s = FromGrpcStatus(g);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(s.message()), "bad");
  EXPECT_TRUE(FieldViolations(s).empty());
}

// --- macros ---------------------------------------------------------------------------

int g_calls = 0;

absl::Status Step(bool ok) {
  ++g_calls;
  return ok ? absl::OkStatus() : absl::NotFoundError("step failed");
}

absl::Status TwoSteps(bool first_ok, bool second_ok, int* reached) {
  SM_RETURN_IF_ERROR(Step(first_ok));
  *reached = 1;
  SM_RETURN_IF_ERROR(Step(second_ok));
  *reached = 2;
  return absl::OkStatus();
}

TEST(Macros, ReturnIfErrorStopsAtTheFirstErrorAndEvaluatesOnce) {
  int reached = 0;
  g_calls = 0;
  EXPECT_TRUE(TwoSteps(true, true, &reached).ok());
  EXPECT_EQ(reached, 2);
  EXPECT_EQ(g_calls, 2);

  reached = 0;
  g_calls = 0;
  absl::Status s = TwoSteps(false, true, &reached);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(std::string(s.message()), "step failed");
  EXPECT_EQ(reached, 0);
  EXPECT_EQ(g_calls, 1);

  reached = 0;
  EXPECT_EQ(TwoSteps(true, false, &reached).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(reached, 1);
}

absl::StatusOr<int> Half(int n) {
  ++g_calls;
  if (n % 2 != 0) return absl::InvalidArgumentError("odd");
  return n / 2;
}

absl::StatusOr<std::unique_ptr<int>> Boxed(int n) {
  if (n < 0) return absl::OutOfRangeError("negative");
  return std::make_unique<int>(n);
}

// Two ASSIGN_OR_RETURNs in one scope (distinct temporaries), a declaration and an
// assignment to an existing variable, and a move-only value.
absl::StatusOr<int> Quarter(int n) {
  SM_ASSIGN_OR_RETURN(int half, Half(n));
  int quarter = 0;
  SM_ASSIGN_OR_RETURN(quarter, Half(half));
  SM_ASSIGN_OR_RETURN(std::unique_ptr<int> box, Boxed(quarter));
  return *box;
}

TEST(Macros, AssignOrReturn) {
  g_calls = 0;
  absl::StatusOr<int> q = Quarter(12);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(*q, 3);
  EXPECT_EQ(g_calls, 2);

  g_calls = 0;
  q = Quarter(6);  // 6 -> 3 -> odd
  EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(q.status().message()), "odd");
  EXPECT_EQ(g_calls, 2);

  g_calls = 0;
  q = Quarter(7);
  EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(g_calls, 1);

  q = Quarter(-8);
  EXPECT_EQ(q.status().code(), absl::StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace sm
