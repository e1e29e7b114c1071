#include "util/file.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "util/temp_dir.h"

namespace kiln {
namespace {

TEST(FileTest, PathClean) {
  EXPECT_EQ(path_clean("/a/./b/../c//"), "/a/c");
  EXPECT_EQ(path_clean("../../x"), "../../x");
  EXPECT_EQ(path_clean("/../x"), "/x");
  EXPECT_EQ(path_clean(""), ".");
  EXPECT_EQ(path_dirname("/a/b"), "/a");
  EXPECT_EQ(path_basename("/a/b/"), "b");
  EXPECT_EQ(path_join("/a/", "/b"), "/a/b");
}

TEST(FileTest, RemoveTreeHandlesReadOnlyDirectories) {
  auto tmp = TempDir::create();
  ASSERT_TRUE(tmp);
  std::string d = path_join(tmp->path(), "ro/sub");
  ASSERT_TRUE(make_dirs(d));
  ASSERT_TRUE(write_file(path_join(d, "f"), "x"));
  ::symlink("/etc", path_join(d, "link").c_str());
  ::chmod(d.c_str(), 0555);
  ::chmod(path_join(tmp->path(), "ro").c_str(), 0555);
  ASSERT_TRUE(remove_tree(path_join(tmp->path(), "ro")));
  EXPECT_FALSE(path_exists(path_join(tmp->path(), "ro")));
  EXPECT_TRUE(path_exists("/etc/hostname") || path_exists("/etc/passwd"));
}

TEST(FileTest, ReadMissingFileIsNotFound) {
  auto r = read_file("/nonexistent/kiln/file");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::not_found);
  auto r2 = read_file_if_exists("/nonexistent/kiln/file");
  ASSERT_TRUE(r2);
  EXPECT_FALSE(r2->has_value());
}

}  // namespace
}  // namespace kiln
