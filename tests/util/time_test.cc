#include "util/time.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

TEST(TimeTest, Rfc3339RoundTrip) {
  EXPECT_EQ(format_rfc3339({0, 0}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339({1700000000, 500000000}), "2023-11-14T22:13:20.5Z");
  auto t = parse_rfc3339("2023-11-14T23:13:20.5+01:00");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->seconds, 1700000000);
  EXPECT_EQ(t->nanos, 500000000);
  EXPECT_FALSE(parse_rfc3339("yesterday"));
}

}  // namespace
}  // namespace kiln
