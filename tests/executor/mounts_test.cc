// Overlay mounts for kiln's own process, the seam format of upper dirs, the
// vfs driver and the fuse-overlayfs fallback.
#include "executor/mounts.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "tests/executor/sandbox_fixture.h"
#include "util/file.h"
#include "util/strings.h"
#include "util/subprocess.h"

namespace kiln::executor::test {
namespace {

using Listing = std::vector<std::string>;

class MountsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    KILN_REQUIRE_USERNS();
    auto dir = TempDir::create("", "kiln-mounts-test-");
    ASSERT_TRUE(dir);
    m_tmp.emplace(std::move(*dir));
    for (const char* d : {"lower/d", "upper", "work", "merged", "copy"}) {
      ASSERT_TRUE(make_dirs(p(d)));
    }
    ASSERT_TRUE(write_file(p("lower/a"), "a"));
    ASSERT_TRUE(write_file(p("lower/d/x"), "x"));
    ASSERT_TRUE(write_file(p("lower/keep"), "keep"));
    ASSERT_EQ(::link(p("lower/keep").c_str(), p("lower/keep-link").c_str()), 0);
  }
  std::string p(const std::string& rel) const { return path_join(m_tmp->path(), rel); }
  OverlayMount overlay() const { return {{p("lower")}, p("upper"), p("work"), p("merged")}; }

  // Deletes a file and replaces a directory through the merged view.
  void change_through(const std::string& merged) {
    ASSERT_EQ(::unlink(path_join(merged, "a").c_str()), 0);
    ASSERT_TRUE(remove_tree(path_join(merged, "d")));
    ASSERT_TRUE(make_dirs(path_join(merged, "d")));
    ASSERT_TRUE(write_file(path_join(merged, "d/y"), "y"));
  }

  void expect_seam_format(const std::string& upper) {
    EXPECT_EQ(list_tree(upper), (Listing{"a c0/0", "d d", "d/y f"}));
    char value[4] = {};
    EXPECT_EQ(::getxattr(path_join(upper, "d").c_str(), k_opaque_xattr, value, sizeof value), 1);
    EXPECT_EQ(value[0], 'y');
  }

  std::optional<TempDir> m_tmp;
};

TEST_F(MountsTest, OverlayTakesMoreThanAHundredLowers) {
  std::vector<std::string> lowers;
  for (int i = 0; i < 120; ++i) {
    std::string dir = p(cat("layers/", i));
    ASSERT_TRUE(make_dirs(dir));
    ASSERT_TRUE(write_file(path_join(dir, cat("file", i)), cat(i)));
    ASSERT_TRUE(write_file(path_join(dir, "top"), cat(i)));
    lowers.insert(lowers.begin(), dir);  // top first: the last one wins
  }
  {
    auto m = mount_overlay(lowers, p("upper"), p("work"), p("merged"));
    ASSERT_TRUE(m) << m.error().render();
    for (int i = 0; i < 120; ++i) {
      EXPECT_EQ(read_file(p(cat("merged/file", i))).value_or(""), cat(i));
    }
    EXPECT_EQ(read_file(p("merged/top")).value_or(""), "119");
  }
  EXPECT_FALSE(path_exists(p("merged/file0"))) << "UniqueMount did not unmount";
}

TEST_F(MountsTest, UpperDirUsesTheSeamFormat) {
  auto m = mount_overlay(overlay());
  ASSERT_TRUE(m) << m.error().render();
  ASSERT_NO_FATAL_FAILURE(change_through(p("merged")));
  ASSERT_TRUE(m->unmount());
  expect_seam_format(p("upper"));
}

TEST_F(MountsTest, VolatileOverlayCanBeMountedAgain) {
  for (int i = 0; i < 2; ++i) {
    auto m = mount_overlay(overlay());
    ASSERT_TRUE(m) << "mount " << i << ": " << m.error().render();
    ASSERT_TRUE(write_file(p(cat("merged/f", i)), "x"));
    ASSERT_TRUE(m->unmount());
  }
  EXPECT_EQ(list_tree(p("upper")), (Listing{"f0 f", "f1 f"}));
}

TEST_F(MountsTest, VfsCopyAppliesWhiteoutsOpaqueDirsAndHardLinks) {
  {
    auto m = mount_overlay(overlay());
    ASSERT_TRUE(m) << m.error().render();
    ASSERT_NO_FATAL_FAILURE(change_through(p("merged")));
  }
  // The upper dir is now a layer above `lower`.
  ASSERT_TRUE(copy_lowers_to({p("upper"), p("lower")}, p("copy")));
  EXPECT_EQ(list_tree(p("copy")), (Listing{"d d", "d/y f", "keep f", "keep-link f"}));
  struct stat a {}, b {};
  ASSERT_EQ(::stat(p("copy/keep").c_str(), &a), 0);
  ASSERT_EQ(::stat(p("copy/keep-link").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  char value[4];
  EXPECT_LT(::getxattr(p("copy/d").c_str(), k_opaque_xattr, value, sizeof value), 0)
      << "overlay markers must not be copied into a vfs rootfs";
}

TEST_F(MountsTest, FuseOverlayfsUpperIsNormalized) {
  int fuse = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fuse < 0 || find_program("fuse-overlayfs").empty()) {
    GTEST_SKIP() << "fuse-overlayfs needs the program and read-write /dev/fuse (mode 0600 root here)";
  }
  ::close(fuse);
  auto m = mount_fuse_overlayfs(overlay());
  ASSERT_TRUE(m) << m.error().render();
  ASSERT_NO_FATAL_FAILURE(change_through(p("merged")));
  ASSERT_TRUE(m->unmount());
  ASSERT_TRUE(normalize_upper_dir(p("upper")));
  expect_seam_format(p("upper"));
}

TEST_F(MountsTest, NativeOverlayIsChosenUnlessAnotherDriverIsRequested) {
  auto chosen = select_storage_driver(std::nullopt, m_tmp->path());
  ASSERT_TRUE(chosen) << chosen.error().render();
  EXPECT_EQ(*chosen, StorageDriver::overlay);
  auto requested = select_storage_driver(StorageDriver::vfs, m_tmp->path());
  ASSERT_TRUE(requested);
  EXPECT_EQ(*requested, StorageDriver::vfs);
}

}  // namespace
}  // namespace kiln::executor::test
