// The userns tests must pass for an ordinary user too. When this binary runs
// as root (CI), it copies the test binaries into a world-readable directory
// and runs them again as `kiln-test` (an ordinary user with a subordinate id
// range) and as `kiln-nosub` (no range: single-id mode). Each user is created
// with useradd when missing; the test skips, naming the reason, when it
// cannot.
#include <unistd.h>

#include <climits>

#include <gtest/gtest.h>

#include "tests/support/run_as_user.h"
#include "tests/support/test_env.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::test {
namespace {

std::string self_path() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

std::string build_file(const std::string& rel) { return path_join(binary_dir(), rel); }

class RunAsTestUserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::getuid() != 0) {
      GTEST_SKIP() << "not root: this process already is the ordinary-user run";
    }
    auto shared = SharedBinaries::create({build_file("tests/executor/kiln_executor_userns_tests"), self_path(),
                                          build_file("kiln-sandbox"), build_file("tests/executor/kiln_probe"),
                                          build_file("tests/executor/kiln_executor_tool")});
    ASSERT_TRUE(shared) << shared.error().render();
    m_bins.emplace(std::move(*shared));
  }

  std::vector<std::string> env() const {
    return {cat("KILN_SANDBOX_HELPER=", m_bins->path("kiln-sandbox")),
            cat("KILN_TEST_PROBE=", m_bins->path("kiln_probe")),
            cat("KILN_TEST_TOOL=", m_bins->path("kiln_executor_tool")), cat("KILN_BINARY_DIR=", m_bins->dir()),
            "TMPDIR=/tmp"};
  }

  Result<ProgramResult> run_as(const TestUser& user, const std::string& binary, const std::string& filter) {
    return run_as_user(user, {m_bins->path(binary), "--gtest_filter=" + filter, "--gtest_color=no"}, env());
  }

  std::optional<SharedBinaries> m_bins;
};

std::string transcript(const ProgramResult& r) { return r.stdout_data + "\n--- stderr ---\n" + r.stderr_data; }

TEST_F(RunAsTestUserTest, UsernsSuitePassesForAUserWithSubordinateIds) {
  std::string why;
  auto user = find_or_create_user("kiln-test", SubordinateIds::yes, &why);
  ASSERT_TRUE(user) << user.error().render();
  if (!*user) {
    GTEST_SKIP() << why;
  }
  if (!has_subordinate_ids(**user)) {
    GTEST_SKIP() << "user `kiln-test` has no /etc/subuid and /etc/subgid range (useradd adds one on Debian)";
  }
  auto r = run_as(**user, "kiln_executor_userns_tests", "*");
  ASSERT_TRUE(r) << r.error().render();
  EXPECT_EQ(r->exit_status, 0) << transcript(*r);
  EXPECT_NE(r->stdout_data.find("[  PASSED  ]"), std::string::npos) << transcript(*r);
  EXPECT_EQ(r->stdout_data.find("user namespaces unavailable"), std::string::npos) << transcript(*r);
  EXPECT_NE(r->stdout_data.find("[       OK ] SnapshotOwnersTest.FilesCreatedAsUid1000AreUid1000InTheTar"),
            std::string::npos)
      << transcript(*r);

  auto outside = run_as(**user, "kiln_executor_outside_tests", "UnshareTest.*");
  ASSERT_TRUE(outside) << outside.error().render();
  EXPECT_EQ(outside->exit_status, 0) << transcript(*outside);
  EXPECT_NE(outside->stdout_data.find("[       OK ] UnshareTest.CommandRunsAsContainerRootAndNeverAsHostRoot"),
            std::string::npos)
      << transcript(*outside);
}

TEST_F(RunAsTestUserTest, SingleIdModeForAUserWithoutSubordinateIds) {
  std::string why;
  auto user = find_or_create_user("kiln-nosub", SubordinateIds::no, &why);
  ASSERT_TRUE(user) << user.error().render();
  if (!*user) {
    GTEST_SKIP() << why;
  }
  if (has_subordinate_ids(**user)) {
    GTEST_SKIP() << "user `kiln-nosub` has a subordinate id range; remove it with "
                    "`usermod --del-subuids ... --del-subgids ...`";
  }
  auto r = run_as(**user, "kiln_executor_userns_tests", "*");
  ASSERT_TRUE(r) << r.error().render();
  EXPECT_EQ(r->exit_status, 0) << transcript(*r);
  EXPECT_NE(r->stderr_data.find("single-id mode"), std::string::npos) << transcript(*r);
  EXPECT_NE(r->stderr_data.find("usermod --add-subuids"), std::string::npos) << transcript(*r);
  for (const char* test : {"SingleIdModeTest.ChownToAnotherIdFailsClearly", "SingleIdModeTest.UserOtherThanRootFailsWithAHint",
                           "SandboxTest.RootGetsBuildkitCapabilitiesAndSeccomp"}) {
    EXPECT_NE(r->stdout_data.find(cat("[       OK ] ", test)), std::string::npos) << test << "\n" << transcript(*r);
  }
}

}  // namespace
}  // namespace kiln::test
