#include "util/atomic_file.h"

#include <gtest/gtest.h>

#include "util/file.h"
#include "util/temp_dir.h"

namespace kiln {
namespace {

TEST(AtomicFileTest, CommitReplacesAndLeavesNoTemp) {
  auto tmp = TempDir::create();
  ASSERT_TRUE(tmp);
  std::string p = path_join(tmp->path(), "f");
  ASSERT_TRUE(write_file(p, "old"));
  {
    auto f = AtomicFile::create(p);
    ASSERT_TRUE(f);
    ASSERT_TRUE(f->write("new"));
    EXPECT_EQ(*read_file(p), "old");  // not visible before commit
    ASSERT_TRUE(f->commit());
  }
  EXPECT_EQ(*read_file(p), "new");
  EXPECT_EQ(list_dir(tmp->path())->size(), 1u);
}

TEST(AtomicFileTest, DestroyedWithoutCommitDiscards) {
  auto tmp = TempDir::create();
  ASSERT_TRUE(tmp);
  std::string p = path_join(tmp->path(), "f");
  {
    auto f = AtomicFile::create(p);
    ASSERT_TRUE(f);
    ASSERT_TRUE(f->write("partial"));
  }
  EXPECT_FALSE(path_exists(p));
  EXPECT_TRUE(list_dir(tmp->path())->empty());
}

}  // namespace
}  // namespace kiln
