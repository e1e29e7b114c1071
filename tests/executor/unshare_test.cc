// enter_user_namespace and `kiln unshare`, driven from outside the namespace
// through kiln_executor_tool (which calls exactly what `kiln unshare` will).
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include <gtest/gtest.h>

#include "tests/support/test_env.h"
#include "util/file.h"
#include "util/strings.h"
#include "util/subprocess.h"

extern char** environ;

namespace kiln::executor {
namespace {

std::string tool() {
  const char* env = std::getenv("KILN_TEST_TOOL");
  return env != nullptr && *env != '\0' ? env : path_join(kiln::test::binary_dir(), "tests/executor/kiln_executor_tool");
}

class UnshareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto probe = run_program({tool(), "unshare", "--", "true"});
    ASSERT_TRUE(probe) << probe.error().render();
    if (probe->exit_status != 0 && probe->stderr_data.find("create kiln's user namespace") != std::string::npos) {
      GTEST_SKIP() << "user namespaces unavailable: " << probe->stderr_data;
    }
    ASSERT_EQ(probe->exit_status, 0) << probe->stderr_data;
  }
};

TEST_F(UnshareTest, ExitStatusPassesThrough) {
  auto r = run_program({tool(), "unshare", "--", "sh", "-c", "exit 3"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->exit_status, 3);
}

TEST_F(UnshareTest, CommandRunsAsContainerRootAndNeverAsHostRoot) {
  auto r = run_program({tool(), "unshare", "--", "sh", "-c", "id -u; echo $KILN_UNSHARE; cat /proc/self/uid_map"});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->exit_status, 0) << r->stderr_data;
  auto lines = split(std::string(trim(r->stdout_data)), '\n');
  ASSERT_GE(lines.size(), 3u) << r->stdout_data;
  EXPECT_EQ(lines[0], "0");
  EXPECT_EQ(lines[1], "1");
  for (size_t i = 2; i < lines.size(); ++i) {
    unsigned long inside = 0, host = 0, count = 0;
    ASSERT_EQ(std::sscanf(lines[i].c_str(), "%lu %lu %lu", &inside, &host, &count), 3);
    EXPECT_NE(host, 0u) << lines[i];
    if (inside == 0 && ::getuid() != 0) {
      EXPECT_EQ(host, ::getuid()) << "container root is the invoking user";
    }
  }
}

// The two ways in (fork + unshare for a single-threaded caller, re-exec of
// /proc/self/exe when threads run or KILN_USERNS_REEXEC is set) give the same
// namespace, credentials and marker.
TEST_F(UnshareTest, ForkAndReexecGiveTheSameNamespace) {
  std::vector<std::string> argv = {tool(), "unshare", "--", "sh", "-c",
                                   "id -u; id -G; echo $_KILN_USERNS_CONFIGURED; cat /proc/self/uid_map "
                                   "/proc/self/gid_map /proc/self/setgroups; grep -E '^Cap(Eff|Bnd)' /proc/self/status"};
  auto forked = run_program(argv);
  ProgramOptions reexec_env;
  for (char** e = environ; *e != nullptr; ++e) {
    reexec_env.env.emplace_back(*e);
  }
  reexec_env.env.emplace_back("KILN_USERNS_REEXEC=1");
  auto reexeced = run_program(argv, reexec_env);
  ASSERT_TRUE(forked && reexeced);
  ASSERT_EQ(forked->exit_status, 0) << forked->stderr_data;
  ASSERT_EQ(reexeced->exit_status, 0) << reexeced->stderr_data;
  EXPECT_EQ(forked->stdout_data, reexeced->stdout_data);
  EXPECT_NE(forked->stdout_data.find("\n0\n"), std::string::npos) << "container root's groups: " << forked->stdout_data;
}

TEST_F(UnshareTest, SignalsAreForwardedAndTheStatusMirrored) {
  std::string tool_path = tool();
  std::vector<char*> argv = {tool_path.data(), const_cast<char*>("unshare"), const_cast<char*>("--"),
                             const_cast<char*>("sleep"), const_cast<char*>("30"), nullptr};
  pid_t pid = -1;
  ASSERT_EQ(::posix_spawn(&pid, tool_path.c_str(), nullptr, nullptr, argv.data(), environ), 0);
  // Wait until the inner process replaced itself with sleep.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool inner_running = false;
  while (!inner_running && std::chrono::steady_clock::now() < deadline) {
    auto children = read_file(cat("/proc/", pid, "/task/", pid, "/children"));
    if (children && !trim(*children).empty()) {
      auto comm = read_file(cat("/proc/", std::string(trim(*children)), "/comm"));
      inner_running = comm && trim(*comm) == "sleep";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(inner_running);
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "exited with " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
}

TEST_F(UnshareTest, UnknownCommandIsReported) {
  auto r = run_program({tool(), "unshare", "--", "no-such-command-xyz"});
  ASSERT_TRUE(r);
  EXPECT_NE(r->exit_status, 0);
  EXPECT_NE(r->stderr_data.find("`no-such-command-xyz`"), std::string::npos) << r->stderr_data;
}

}  // namespace
}  // namespace kiln::executor
