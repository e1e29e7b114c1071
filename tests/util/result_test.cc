#include "util/result.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) {
    return Error(ErrorCode::invalid_input, "not positive");
  }
  return v;
}

Result<int> doubled(int v) {
  KILN_TRY_ASSIGN(int n, parse_positive(v));
  return n * 2;
}

Result<void> check(int v) {
  KILN_TRY(parse_positive(v).context("checking value"));
  return {};
}

TEST(ResultTest, ValueAndErrorPropagate) {
  EXPECT_EQ(*doubled(4), 8);
  auto r = doubled(-1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::invalid_input);
}

TEST(ResultTest, ContextReadsOutsideIn) {
  auto r = check(0);
  ASSERT_FALSE(r);
  r.error().wrap("building stage `app`");
  EXPECT_EQ(r.error().render(), "building stage `app`: checking value: not positive");
}

TEST(ResultTest, ErrnoAppendsStrerror) {
  Error e = Error::from_errno("open `x`", ENOENT);
  EXPECT_EQ(e.render(), "open `x`: No such file or directory");
  EXPECT_EQ(e.code(), ErrorCode::syscall);
}

TEST(ResultTest, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(3);
  ASSERT_TRUE(r);
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 3);
}

}  // namespace
}  // namespace kiln
