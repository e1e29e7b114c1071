#include "layers/safe_path.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/layers/layer_fixture.h"
#include "util/file.h"
#include "util/temp_dir.h"

namespace kiln::layers::detail {
namespace {

using namespace kiln::layers::test;

TEST(SafePathTest, CleanEntryPathStripsRootAndDots) {
  EXPECT_EQ(*clean_entry_path("/etc/passwd"), "etc/passwd");
  EXPECT_EQ(*clean_entry_path("./a//b/./c/"), "a/b/c");
  EXPECT_EQ(*clean_entry_path("./"), "");
  EXPECT_EQ(*clean_entry_path("..."), "...");
  EXPECT_FALSE(clean_entry_path("../x").has_value());
  EXPECT_FALSE(clean_entry_path("a/../b").has_value());
  EXPECT_FALSE(clean_entry_path("/..").has_value());
  EXPECT_NE(clean_entry_path("a/../../x").error().render().find("`a/../../x`"), std::string::npos);
}

class SafeRootTest : public TempDirTest, public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(TempDirTest::SetUp());
    root = path_join(m_tmp->path(), "root");
    ASSERT_NO_FATAL_FAILURE(put_dir(root, "real"));
    ASSERT_NO_FATAL_FAILURE(put_dir(m_tmp->path(), "outside"));
    ASSERT_NO_FATAL_FAILURE(put_symlink(root, "abs", "/real"));
    ASSERT_NO_FATAL_FAILURE(put_symlink(root, "up", "../../../outside"));
    ASSERT_NO_FATAL_FAILURE(put_dir(root, "outside"));
  }
  std::string root;
};

TEST_P(SafeRootTest, SymlinkedParentsStayInsideOrAreRefused) {
  bool walk = GetParam();
  auto sr = SafeRoot::open(root, walk);
  ASSERT_TRUE(sr.has_value());
  auto abs = sr->dir("abs", MissingDirs::create);
  auto up = sr->dir("up/x", MissingDirs::create);
  if (walk) {
    // The fallback cannot confine symlinks, so it refuses them.
    ASSERT_FALSE(abs.has_value());
    EXPECT_NE(abs.error().render().find("refuse to follow symlink `abs`"), std::string::npos);
    ASSERT_FALSE(up.has_value());
  } else {
    ASSERT_TRUE(abs.has_value()) << abs.error().render();
    ASSERT_TRUE(up.has_value()) << up.error().render();
    // `up` -> ../../../outside resolves to <root>/outside, created inside.
    EXPECT_TRUE(is_directory(path_join(root, "outside/x")));
  }
  EXPECT_TRUE(list_dir(path_join(m_tmp->path(), "outside"))->empty());
  auto made = sr->dir("new/deep/dir", MissingDirs::create);
  ASSERT_TRUE(made.has_value()) << made.error().render();
  EXPECT_TRUE(is_directory(path_join(root, "new/deep/dir")));
  EXPECT_FALSE(sr->dir("missing", MissingDirs::fail).has_value());
}

INSTANTIATE_TEST_SUITE_P(Openat2AndWalk, SafeRootTest, ::testing::Bool());

}  // namespace
}  // namespace kiln::layers::detail
