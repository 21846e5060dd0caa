#include "common/status.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace dfs {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), Code::kOk);
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_TRUE(Status::Ok().ok());
}

TEST(StatusTest, ToStringNamesTheCodeAndKeepsTheMessage) {
  EXPECT_EQ(NotFound("no such file: /a").ToString(), "NOT_FOUND: no such file: /a");
  EXPECT_EQ(DataLoss("bad").ToString(), "DATA_LOSS: bad");
  EXPECT_EQ(Status(Code::kUnauthenticated, "who").ToString(), "UNAUTHENTICATED: who");
}

TEST(StatusTest, HelpersCarryTheirCanonicalCodes) {
  EXPECT_EQ(InvalidArgument("").code(), Code::kInvalidArgument);
  EXPECT_EQ(AlreadyExists("").code(), Code::kAlreadyExists);
  EXPECT_EQ(FailedPrecondition("").code(), Code::kFailedPrecondition);
  EXPECT_EQ(PermissionDenied("").code(), Code::kPermissionDenied);
  EXPECT_EQ(ResourceExhausted("").code(), Code::kResourceExhausted);
  EXPECT_EQ(Unavailable("").code(), Code::kUnavailable);
  EXPECT_EQ(Internal("").code(), Code::kInternal);
  EXPECT_EQ(IoError("").code(), Code::kInternal);
  EXPECT_EQ(Aborted("").code(), Code::kAborted);
  EXPECT_EQ(OutOfRange("").code(), Code::kOutOfRange);
  EXPECT_EQ(DeadlineExceeded("").code(), Code::kDeadlineExceeded);
  // The numeric values cross RPC boundaries as gRPC codes.
  EXPECT_EQ(static_cast<int>(Code::kNotFound), 5);
  EXPECT_EQ(static_cast<int>(Code::kDataLoss), 15);
}

TEST(StatusTest, ErrnoStatusMapsCommonErrnosAndSaysWhatWasBeingDone) {
  EXPECT_EQ(ErrnoStatus("open /x", ENOENT).code(), Code::kNotFound);
  EXPECT_EQ(ErrnoStatus("mkdir /x", EEXIST).code(), Code::kAlreadyExists);
  EXPECT_EQ(ErrnoStatus("open /x", EACCES).code(), Code::kPermissionDenied);
  EXPECT_EQ(ErrnoStatus("open /x", EPERM).code(), Code::kPermissionDenied);
  EXPECT_EQ(ErrnoStatus("write /x", ENOSPC).code(), Code::kResourceExhausted);
  EXPECT_EQ(ErrnoStatus("read /x", EIO).code(), Code::kInternal);
  EXPECT_EQ(ErrnoStatus("open /x", ENOENT).message(),
            std::string("open /x: ") + std::strerror(ENOENT));
}

TEST(ResultTest, HoldsAValue) {
  Result<int> r = 7;
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.status().ok());
  EXPECT_EQ(*r, 7);
  EXPECT_EQ(r.value(), 7);
}

TEST(ResultTest, HoldsAnErrorStatus) {
  Result<int> r = NotFound("gone");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_EQ(r.status().message(), "gone");
}

TEST(ResultTest, MovesOutMoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(3);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 3);
}

Status FailIfNegative(int v) { return v < 0 ? InvalidArgument("negative") : Status::Ok(); }

Status Chain(int v, int* reached) {
  RETURN_IF_ERROR(FailIfNegative(v));
  *reached = v;
  return Status::Ok();
}

TEST(StatusMacrosTest, ReturnIfErrorStopsAtTheFirstError) {
  int reached = 0;
  EXPECT_EQ(Chain(-1, &reached).code(), Code::kInvalidArgument);
  EXPECT_EQ(reached, 0);
  EXPECT_TRUE(Chain(5, &reached).ok());
  EXPECT_EQ(reached, 5);
}

Result<int> Half(int v) {
  if (v % 2 != 0) return InvalidArgument("odd");
  return v / 2;
}

Result<int> Quarter(int v) {
  ASSIGN_OR_RETURN(int h, Half(v));
  ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(StatusMacrosTest, AssignOrReturnAssignsValuesAndPropagatesErrors) {
  ASSERT_TRUE(Quarter(12).ok());
  EXPECT_EQ(*Quarter(12), 3);
  EXPECT_EQ(Quarter(6).status().code(), Code::kInvalidArgument);  // 6 -> 3 is odd
  EXPECT_EQ(Quarter(5).status().message(), "odd");
}

}  // namespace
}  // namespace dfs
