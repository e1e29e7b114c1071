#include "util/strings.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

TEST(StringsTest, SplitKeepsEmptyParts) {
  EXPECT_EQ(split("a,,b", ','), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(split("", ','), (std::vector<std::string>{""}));
}

TEST(StringsTest, CatMixesTypes) { EXPECT_EQ(cat("step ", 3, "/", 7, ' ', true), "step 3/7 true"); }

TEST(StringsTest, HexRoundTrip) {
  EXPECT_EQ(hex_encode("\x01\xff"), "01ff");
  EXPECT_EQ(*hex_decode("01FF"), "\x01\xff");
  EXPECT_FALSE(hex_decode("0"));
}

TEST(StringsTest, ParseSize) {
  EXPECT_EQ(*parse_size("10g"), 10ull << 30);
  EXPECT_EQ(*parse_size("1.5GB"), 1500000000ull);
  EXPECT_EQ(*parse_size("4096"), 4096u);
  EXPECT_FALSE(parse_size("ten"));
}

TEST(StringsTest, ShellQuote) {
  EXPECT_EQ(shell_quote("abc"), "abc");
  EXPECT_EQ(shell_quote("a b"), "'a b'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
}

}  // namespace
}  // namespace kiln
