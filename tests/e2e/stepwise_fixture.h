// The fixture the stepwise e2e tests share (tests/e2e/stepwise_*_test.cc):
// a fresh store with the busybox fixture pulled, and the kiln binary.
#pragma once

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/kiln_runner.h"
#include "util/file.h"
#include "util/strings.h"
#include "util/temp_dir.h"

namespace kiln::test {

class StepwiseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = TempDir::create("", "kiln-stepwise-");
    ASSERT_TRUE(t);
    m_tmp = std::make_unique<TempDir>(std::move(*t));
    // kiln works inside its user namespace as the mapped container root,
    // which must be able to reach the store and the contexts.
    ASSERT_EQ(::chmod(m_tmp->path().c_str(), 0755), 0);
    m_root = path_join(m_tmp->path(), "store");
    ASSERT_FALSE(busybox_layout().empty()) << "busybox fixture failed to build";
    auto u = kiln({"unshare", "--", "true"});
    if (u.status != 0) {
      GTEST_SKIP() << "kiln's user namespace is unavailable here: " << u.err;
    }
    auto p = kiln({"pull", "oci:" + busybox_layout()});
    ASSERT_EQ(p.status, 0) << p.describe();
  }

  CmdResult kiln(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {}) {
    return run_kiln(m_root, args, env);
  }
  /// Runs a command that must succeed; returns its trimmed stdout.
  std::string ok(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {}) {
    auto r = kiln(args, env);
    EXPECT_EQ(r.status, 0) << "kiln " << join(args, " ") << "\n" << r.describe();
    return std::string(trim(r.out));
  }
  /// A directory under the test's temp dir with `files` (path -> content).
  std::string make_dir(const std::string& name, const std::map<std::string, std::string>& files) {
    std::string dir = path_join(m_tmp->path(), name);
    EXPECT_TRUE(make_dirs(dir));
    for (const auto& [path, data] : files) {
      std::string p = path_join(dir, path);
      EXPECT_TRUE(make_dirs(path_dirname(p)));
      EXPECT_TRUE(write_file(p, data, 0644));
    }
    return dir;
  }

  std::unique_ptr<TempDir> m_tmp;
  std::string m_root;
};

}  // namespace kiln::test
