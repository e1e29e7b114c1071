#include "parser/ignore.h"

#include <gtest/gtest.h>

#include "tests/support/test_env.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::parser {
namespace {

TEST(IgnoreTest, AllConformanceRows) {
  KILN_REQUIRE_SHARED();
  Result<std::string> tsv = read_file(test::shared_dir() + "/conformance/dockerignore-cases.tsv");
  ASSERT_TRUE(tsv.has_value());
  int rows = 0;
  bool header = true;
  for (const std::string& line : split(*tsv, '\n')) {
    if (header) {
      header = false;
      continue;
    }
    if (line.empty() || line[0] == '#') {
      continue;
    }
    std::vector<std::string> f = split(line, '\t');
    ASSERT_EQ(f.size(), 3u) << line;
    ++rows;
    std::string text = join(split(f[0], ';'), "\n");
    Result<IgnoreMatcher> m = IgnoreMatcher::from_text(text);
    ASSERT_TRUE(m.has_value()) << line << ": " << m.error().render();
    EXPECT_EQ(m->matches(f[1]), f[2] == "yes") << line;
  }
  EXPECT_EQ(rows, 46);
}

TEST(IgnoreTest, LoneBangAndBadClassAreErrors) {
  EXPECT_FALSE(IgnoreMatcher::from_text("!\n").has_value());
  EXPECT_FALSE(IgnoreMatcher::from_text("[\n").has_value());
  EXPECT_FALSE(IgnoreMatcher::from_text("a\\\n").has_value());
  EXPECT_TRUE(IgnoreMatcher::from_text("a[b-c]\n").has_value());
}

TEST(IgnoreTest, DirActionSkipsWithoutExceptions) {
  Result<IgnoreMatcher> m = IgnoreMatcher::from_text("build\n");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->dir_action("build"), DirAction::skip);
  EXPECT_EQ(m->dir_action("src"), DirAction::include);
}

TEST(IgnoreTest, DirActionDescendsForPrefixException) {
  Result<IgnoreMatcher> m = IgnoreMatcher::from_text("docs\n!docs/README.md\n");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->dir_action("docs"), DirAction::descend);
  Result<IgnoreMatcher> other = IgnoreMatcher::from_text("build\nlogs\n!docs/README.md\n");
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->dir_action("build"), DirAction::skip);
}

TEST(IgnoreTest, DirActionDescendsForWildcardException) {
  Result<IgnoreMatcher> m = IgnoreMatcher::from_text("*\n!*/sub1*\n");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->dir_action("subdir"), DirAction::descend);
  EXPECT_FALSE(m->matches("subdir/sub1.txt"));
  EXPECT_TRUE(m->matches("subdir/other.txt"));
}

TEST(IgnoreTest, ParentMatchInfoGivesSameAnswers) {
  Result<IgnoreMatcher> m = IgnoreMatcher::from_text("docs\n!docs/keep\n**/*.tmp\n");
  ASSERT_TRUE(m.has_value());
  MatchInfo root, docs, keep;
  EXPECT_TRUE(m->matches("docs", root, &docs));
  EXPECT_FALSE(m->matches("docs/keep", docs, &keep));
  EXPECT_FALSE(m->matches("docs/keep/a.c", keep, nullptr));
  EXPECT_TRUE(m->matches("docs/keep/a.tmp", keep, nullptr));
  EXPECT_TRUE(m->matches("docs/other", docs, nullptr));
}

TEST(IgnoreTest, CandidatesPreferDockerfileSpecificAndContainerignore) {
  EXPECT_EQ(ignore_file_candidates("sub/app.Dockerfile"),
            (std::vector<std::string>{"sub/app.Dockerfile.containerignore", "sub/app.Dockerfile.dockerignore",
                                      ".containerignore", ".dockerignore"}));
  EXPECT_EQ(ignore_file_candidates(""), (std::vector<std::string>{".containerignore", ".dockerignore"}));
}

}  // namespace
}  // namespace kiln::parser
