// Wildcards (Go filepath.Match) and --chmod parsing.
#include <gtest/gtest.h>

#include "solver/ops/copy_match.h"
#include "solver/ops/copy_mode.h"

namespace kiln::solver::ops::detail {
namespace {

struct MatchCase {
  const char* pattern;
  const char* name;
  bool match;
  bool bad;
};

// Test vectors from Go's path/filepath match_test.go (matchTests).
const MatchCase k_go_vectors[] = {
    {"abc", "abc", true, false},
    {"*", "abc", true, false},
    {"*c", "abc", true, false},
    {"a*", "a", true, false},
    {"a*", "abc", true, false},
    {"a*", "ab/c", false, false},
    {"a*/b", "abc/b", true, false},
    {"a*/b", "a/c/b", false, false},
    {"a*b*c*d*e*/f", "axbxcxdxe/f", true, false},
    {"a*b*c*d*e*/f", "axbxcxdxexxx/f", true, false},
    {"a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false, false},
    {"a*b*c*d*e*/f", "axbxcxdxexxx/fff", false, false},
    {"a*b?c*x", "abxbbxdbxebxczzx", true, false},
    {"a*b?c*x", "abxbbxdbxebxczzy", false, false},
    {"ab[c]", "abc", true, false},
    {"ab[b-d]", "abc", true, false},
    {"ab[e-g]", "abc", false, false},
    {"ab[^c]", "abc", false, false},
    {"ab[^b-d]", "abc", false, false},
    {"ab[^e-g]", "abc", true, false},
    {"a\\*b", "a*b", true, false},
    {"a\\*b", "ab", false, false},
    {"a?b", "a\u263Ab", true, false},
    {"a[^a]b", "a\u263Ab", true, false},
    {"a???b", "a\u263Ab", false, false},
    {"a[^a][^a][^a]b", "a\u263Ab", false, false},
    {"[a-\u03B6]*", "\u03B1", true, false},
    {"*[a-\u03B6]", "A", false, false},
    {"a?b", "a/b", false, false},
    {"a*b", "a/b", false, false},
    {"[\\]a]", "]", true, false},
    {"[\\-]", "-", true, false},
    {"[x\\-]", "x", true, false},
    {"[x\\-]", "-", true, false},
    {"[x\\-]", "z", false, false},
    {"[\\-x]", "x", true, false},
    {"[\\-x]", "-", true, false},
    {"[\\-x]", "a", false, false},
    {"[]a]", "]", false, true},
    {"[-]", "-", false, true},
    {"[x-]", "x", false, true},
    {"[x-]", "-", false, true},
    {"[x-]", "z", false, true},
    {"[-x]", "x", false, true},
    {"[-x]", "-", false, true},
    {"[-x]", "a", false, true},
    {"\\", "a", false, true},
    {"[a-b-c]", "a", false, true},
    {"[", "a", false, true},
    {"[^", "a", false, true},
    {"[^bc", "a", false, true},
    {"a[", "a", false, true},
    {"a[", "ab", false, true},
    {"a[", "x", false, true},
    {"a/b[", "x", false, true},
    {"*x", "xxx", true, false},
};

TEST(CopyMatchTest, GoFilepathMatchVectors) {
  for (const MatchCase& c : k_go_vectors) {
    bool bad = false;
    EXPECT_EQ(glob_match(c.pattern, c.name, &bad), c.match) << c.pattern << " vs " << c.name;
    EXPECT_EQ(bad, c.bad) << c.pattern << " vs " << c.name;
  }
}

TEST(CopyMatchTest, SplitsAtTheFirstWildcardComponent) {
  EXPECT_EQ(split_wildcards("a/b/c*/d"), std::make_pair(std::string("a/b"), std::string("c*/d")));
  EXPECT_EQ(split_wildcards("a/b"), std::make_pair(std::string("a/b"), std::string()));
  EXPECT_EQ(split_wildcards("*.go"), std::make_pair(std::string(), std::string("*.go")));
  EXPECT_EQ(split_wildcards("a/x\\*y"), std::make_pair(std::string("a"), std::string("x\\*y")));
  EXPECT_TRUE(has_wildcards("a[bc]"));
  EXPECT_TRUE(has_wildcards("a?"));
  EXPECT_FALSE(has_wildcards("a\\?"));
}

TEST(CopyModeTest, OctalIsAbsolute) {
  Result<ChmodSpec> m = ChmodSpec::parse("0755");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->apply(0600, false), 0755U);
  EXPECT_EQ(m->apply(0700, true), 0755U);
  EXPECT_EQ(ChmodSpec::parse("4755")->apply(0, false), 04755U);
  EXPECT_FALSE(ChmodSpec::parse("8"));
  EXPECT_FALSE(ChmodSpec::parse(""));
  EXPECT_FALSE(ChmodSpec::parse("0o755"));
}

TEST(CopyModeTest, SymbolicFollowsChmod) {
  struct Case {
    const char* spec;
    uint32_t before;
    bool dir;
    uint32_t after;
  };
  const Case cases[] = {
      {"u+x", 0644, false, 0744},        {"go-w", 0666, false, 0644},      {"a=r", 0755, false, 0444},
      {"=rw", 0777, false, 0644},        {"+w", 0444, false, 0644},        {"u=rwX,go=rX", 0640, false, 0644},
      {"u=rwX,go=rX", 0750, false, 0755}, {"u=rwX,go=rX", 0700, true, 0755}, {"a+X", 0600, true, 0711},
      {"a+X", 0600, false, 0600},        {"g=u", 0750, false, 0770},       {"o=g", 0750, false, 0755},
      {"u+s,g+s", 0755, false, 06755},   {"o+s", 0755, false, 0755},       {"+t", 0755, true, 01755},
      {"u-x,g+w,o=", 0755, false, 0670}, {"ug+rw,o-rwx", 0004, false, 0660}, {"a-x,a+X", 0755, false, 0644},
  };
  for (const Case& c : cases) {
    Result<ChmodSpec> m = ChmodSpec::parse(c.spec);
    ASSERT_TRUE(m) << c.spec;
    EXPECT_EQ(m->apply(c.before, c.dir), c.after) << c.spec << " on " << std::oct << c.before;
  }
  for (const char* bad : {"u", "u+q", "x+r", "u+r,", ",", "u+rwz"}) {
    EXPECT_FALSE(ChmodSpec::parse(bad)) << bad;
  }
}

}  // namespace
}  // namespace kiln::solver::ops::detail
