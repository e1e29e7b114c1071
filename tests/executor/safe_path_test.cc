#include "executor/safe_path.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "util/file.h"
#include "util/temp_dir.h"

namespace kiln::executor {
namespace {

class SafePathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create();
    ASSERT_TRUE(dir);
    m_tmp.emplace(std::move(*dir));
    root = path_join(m_tmp->path(), "root");
    ASSERT_TRUE(make_dirs(path_join(root, "etc")));
    ASSERT_TRUE(write_file(path_join(root, "etc/passwd"), "inside"));
    ASSERT_TRUE(write_file(path_join(m_tmp->path(), "secret"), "outside"));
    ASSERT_EQ(::symlink("/etc/passwd", path_join(root, "abs").c_str()), 0);
    ASSERT_EQ(::symlink("../../../../secret", path_join(root, "etc/up").c_str()), 0);
    root_fd = UniqueFd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(root_fd);
  }
  std::string read_in_root(const std::string& path) {
    auto fd = open_in_root(root_fd.get(), path, O_RDONLY);
    auto walked = open_in_root_by_walk(root_fd.get(), path, O_RDONLY);
    // The fallback walk must agree with openat2.
    EXPECT_EQ(fd.has_value(), walked.has_value()) << path;
    if (fd && walked) {
      EXPECT_EQ(read_all(fd->get()).value_or("?"), read_all(walked->get()).value_or("!")) << path;
      fd = open_in_root(root_fd.get(), path, O_RDONLY);
    }
    if (!fd) {
      return "error: " + fd.error().render();
    }
    return read_all(fd->get()).value_or("");
  }
  std::optional<TempDir> m_tmp;
  std::string root;
  UniqueFd root_fd;
};

TEST_F(SafePathTest, AbsoluteSymlinksResolveInsideTheRoot) {
  EXPECT_EQ(read_in_root("/abs"), "inside");
}

TEST_F(SafePathTest, DotDotStopsAtTheRoot) {
  EXPECT_EQ(read_in_root("/../../etc/passwd"), "inside");
  EXPECT_NE(read_in_root("/etc/up"), "outside");
}

TEST_F(SafePathTest, MagicLinksAreRefused) {
  UniqueFd host_root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  auto fd = open_in_root(host_root.get(), "/proc/self/fd/0", O_RDONLY);
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().sys_errno(), ELOOP);
  // The walk reads the link's text ("pipe:[...]", "/dev/pts/0", or a path)
  // and resolves it under the root like any symlink: never the magic target.
  UniqueFd dir(::open(m_tmp->path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::string magic = "/proc/self/fd/" + std::to_string(dir.get());
  auto walked = open_in_root_by_walk(host_root.get(), magic + "/secret", O_RDONLY);
  if (walked) {
    // The link text was m_tmp's absolute path, resolved under "/": the same
    // file, reached by its name, not through the magic link.
    EXPECT_EQ(read_all(walked->get()).value_or(""), "outside");
  }
  auto in_root = open_in_root_by_walk(root_fd.get(), magic + "/secret", O_RDONLY);
  EXPECT_FALSE(in_root) << "a magic link escaped the root";
}

TEST_F(SafePathTest, MissingIsNotFound) {
  auto fd = open_in_root(root_fd.get(), "/nope/x", O_PATH);
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().code(), ErrorCode::not_found);
}

TEST_F(SafePathTest, MakeDirsReportsWhatItCreated) {
  std::vector<std::string> created;
  auto fd = make_dirs_in_root(root_fd.get(), "/etc/a/b", 0755, &created);
  ASSERT_TRUE(fd) << fd.error().render();
  EXPECT_EQ(created, (std::vector<std::string>{"etc/a", "etc/a/b"}));
  EXPECT_TRUE(is_directory(path_join(root, "etc/a/b")));
  // Through an absolute symlink to a directory: inside the root.
  ASSERT_EQ(::symlink("/etc/a", path_join(root, "link").c_str()), 0);
  created.clear();
  ASSERT_TRUE(make_dirs_in_root(root_fd.get(), "/link/x", 0755, &created));
  EXPECT_TRUE(is_directory(path_join(root, "etc/a/x")));
  EXPECT_EQ(created, std::vector<std::string>{"link/x"});
  // A dangling symlink is refused, never created through.
  ASSERT_EQ(::symlink("/../../outside", path_join(root, "dangling").c_str()), 0);
  EXPECT_FALSE(make_dirs_in_root(root_fd.get(), "/dangling/x", 0755, nullptr));
  EXPECT_FALSE(path_exists(path_join(m_tmp->path(), "outside")));
}

TEST_F(SafePathTest, RelativeInRootCleansPaths) {
  EXPECT_EQ(relative_in_root("/etc/../x//y/"), "x/y");
  EXPECT_EQ(relative_in_root("/"), "");
  EXPECT_EQ(relative_in_root("../../a"), "a");
  EXPECT_EQ(path_components("/a/./b/../c"), (std::vector<std::string>{"a", "b", "..", "c"}));
}

}  // namespace
}  // namespace kiln::executor
