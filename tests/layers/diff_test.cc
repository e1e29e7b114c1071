#include "layers/diff.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/layers/layer_fixture.h"
#include "util/file.h"
#include "util/strings.h"
#include "util/subprocess.h"
#include "util/temp_dir.h"

namespace kiln::layers {
namespace {

using namespace kiln::layers::test;

class DiffTest : public TempDirTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(TempDirTest::SetUp());
    lower = path_join(m_tmp->path(), "lower");
    upper = path_join(m_tmp->path(), "new");
    ASSERT_NO_FATAL_FAILURE(put_file(lower, "etc/passwd", "root:x:0:0"));
    ASSERT_NO_FATAL_FAILURE(put_file(lower, "etc/hostname", "a"));
    ASSERT_NO_FATAL_FAILURE(put_file(lower, "etc/same", "same"));
    ASSERT_NO_FATAL_FAILURE(put_file(lower, "bin/sh", "sh", 0755));
    ASSERT_NO_FATAL_FAILURE(put_dir(lower, "var/lib/apt"));
    ASSERT_NO_FATAL_FAILURE(put_file(lower, "var/lib/apt/lists", "l"));
    ASSERT_NO_FATAL_FAILURE(put_symlink(lower, "lib", "usr/lib"));
    ASSERT_NO_FATAL_FAILURE(put_file(lower, "coarse", "1234"));
    ASSERT_NO_FATAL_FAILURE(set_mtime(lower, "coarse", 1000, 0));
    // The new tree starts as a copy of the lower view (the copying snapshotter).
    auto cp = run_program({"cp", "-a", lower, upper});
    ASSERT_TRUE(cp.has_value() && cp->exit_status == 0);
  }
  std::vector<std::string> changes() {
    std::vector<std::string> out;
    auto r = diff(lower, upper, [&](const Change& c) -> Result<void> {
      const char* k = c.kind == ChangeKind::added ? "A" : c.kind == ChangeKind::modified ? "M" : "D";
      out.push_back(cat(k, " ", c.path));
      return {};
    });
    EXPECT_TRUE(r.has_value()) << r.error().render();
    return out;
  }
  std::string lower;
  std::string upper;
};

TEST_F(DiffTest, UnchangedCopyHasNoChanges) { EXPECT_TRUE(changes().empty()); }

TEST_F(DiffTest, ReportsAddedModifiedDeletedAndTypeChanges) {
  ASSERT_NO_FATAL_FAILURE(put_file(upper, "etc/hostname", "b"));  // same size, new mtime
  ASSERT_NO_FATAL_FAILURE(set_mtime(upper, "etc/hostname", 2000, 5));
  ASSERT_NO_FATAL_FAILURE(set_mtime(upper, "etc", 1000, 7));  // keep etc's mtime distinct
  ASSERT_EQ(::unlink(path_join(upper, "etc/passwd").c_str()), 0);
  ASSERT_TRUE(remove_tree(path_join(upper, "var/lib/apt")).has_value());
  ASSERT_NO_FATAL_FAILURE(put_file(upper, "var/lib/apt", "now a file"));
  ASSERT_NO_FATAL_FAILURE(put_file(upper, "srv/www/index.html", "hi"));
  ASSERT_EQ(::unlink(path_join(upper, "lib").c_str()), 0);
  ASSERT_NO_FATAL_FAILURE(put_symlink(upper, "lib", "usr/lib64"));
  ASSERT_EQ(::chmod(path_join(upper, "bin/sh").c_str(), 0700), 0);
  auto got = changes();
  std::vector<std::string> want = {"M bin",          "M bin/sh",          "M etc",  "D etc/passwd",
                                   "M etc/hostname", "M lib",             "A srv",  "A srv/www",
                                   "A srv/www/index.html", "M var",         "M var/lib", "D var/lib/apt",
                                   "A var/lib/apt"};
  // bin is reported as a parent of a change (its own metadata is unchanged).
  EXPECT_EQ(got, want);
}

TEST_F(DiffTest, CoarseTimestampsFallBackToContent) {
  ASSERT_NO_FATAL_FAILURE(put_file(upper, "coarse", "5678"));  // same size
  ASSERT_NO_FATAL_FAILURE(set_mtime(upper, "coarse", 1000, 0));  // same (whole-second) mtime
  EXPECT_EQ(changes(), std::vector<std::string>{"M coarse"});
}

TEST_F(DiffTest, PairLayerAppliedOnLowerGivesTheNewTree) {
  ASSERT_NO_FATAL_FAILURE(put_file(upper, "etc/hostname", "bb"));
  ASSERT_EQ(::unlink(path_join(upper, "etc/passwd").c_str()), 0);
  ASSERT_TRUE(remove_tree(path_join(upper, "var/lib")).has_value());
  ASSERT_NO_FATAL_FAILURE(put_file(upper, "srv/a", "a"));
  ASSERT_NO_FATAL_FAILURE(put_hardlink(upper, "srv/a", "srv/b"));
  std::string blob = path_join(m_tmp->path(), "layer");
  write_to(SnapshotSource::tree_pair(lower, upper), WriteOptions{}, blob);
  std::string applied = path_join(m_tmp->path(), "applied");
  auto cp = run_program({"cp", "-a", lower, applied});
  ASSERT_TRUE(cp.has_value() && cp->exit_status == 0);
  auto r = extract_from(blob, test_options(applied, ExtractMode::merged));
  ASSERT_TRUE(r.has_value()) << r.error().render();
  auto want = describe_tree(upper);
  auto got = describe_tree(applied);
  want.erase(".");
  got.erase(".");
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace kiln::layers
