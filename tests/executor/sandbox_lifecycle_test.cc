// Exit statuses, streaming, timeouts and interrupts: no process is ever left
// behind.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "executor/sandbox.h"
#include "tests/executor/sandbox_fixture.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::executor::test {
namespace {

// Processes whose command line contains `marker`, visible from kiln's pid
// namespace (the parent of every sandbox's).
int count_processes(const std::string& marker) {
  int n = 0;
  auto entries = list_dir("/proc");
  for (const auto& e : entries.value_or(std::vector<std::string>{})) {
    if (e.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    auto cmdline = read_file(cat("/proc/", e, "/cmdline"));
    if (cmdline && cmdline->find(marker) != std::string::npos) {
      ++n;
    }
  }
  return n;
}

bool wait_for_count(const std::string& marker, int want, std::chrono::seconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (count_processes(marker) == want) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return count_processes(marker) == want;
}

// How `sleep MARKER` appears in /proc/PID/cmdline.
std::string sleep_cmdline(const std::string& marker) { return std::string("sleep\0", 6) + marker; }

class SandboxLifecycleTest : public SandboxFixture {
 protected:
  // Forks a child that runs `spec` and exits with run_sandbox's outcome
  // (status, or 200 + error code when it returned an error).
  pid_t fork_runner(const SandboxSpec& spec, bool handlers) {
    pid_t pid = ::fork();
    if (pid == 0) {
      if (handlers) {
        install_interrupt_handlers();
      }
      auto r = run_sandbox(spec);
      ::_exit(r ? *r : 200 + static_cast<int>(r.error().code()));
    }
    return pid;
  }

  void interrupt_leaves_nothing(bool handlers, int sig) {
    // A unique sleep duration marks this run's processes.
    std::string marker = cat("98", ::getpid() % 1000, handlers ? "1" : "2", sig);
    SandboxSpec spec = overlay_spec(
        {"sh", "-c", cat("for i in $(seq 100); do sleep ", marker, " & done; wait")});
    pid_t runner = fork_runner(spec, handlers);
    ASSERT_GT(runner, 0);
    ASSERT_TRUE(wait_for_count(sleep_cmdline(marker), 100, std::chrono::seconds(30)))
        << "the sandbox did not start 100 children";
    ASSERT_EQ(::kill(runner, sig), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(runner, &status, 0), runner);
    if (handlers) {
      // run_sandbox returned failed_step after killing the sandbox.
      ASSERT_TRUE(WIFEXITED(status));
      EXPECT_EQ(WEXITSTATUS(status), 200 + static_cast<int>(ErrorCode::failed_step));
    } else {
      ASSERT_TRUE(WIFSIGNALED(status));
    }
    EXPECT_TRUE(wait_for_count(sleep_cmdline(marker), 0, std::chrono::seconds(10)))
        << count_processes(sleep_cmdline(marker)) << " processes left behind";
  }
};

TEST_F(SandboxLifecycleTest, ExitStatusPassesThrough) {
  RunOutput r = run(overlay_spec({"/kiln_probe", "exit", "7"}));
  ASSERT_TRUE(r.status) << r.status.error().render();
  EXPECT_EQ(*r.status, 7);
  // The command is pid 1 of its namespace: signals it does not handle reach
  // it only from the kernel (a fault) or from outside (SIGKILL).
  r = run(overlay_spec({"/kiln_probe", "crash"}));
  ASSERT_TRUE(r.status) << r.status.error().render();
  EXPECT_EQ(*r.status, 128 + SIGSEGV);
}

TEST_F(SandboxLifecycleTest, StdoutAndStderrGoToTheGivenFds) {
  RunOutput r = run(overlay_spec({"sh", "-c", "echo out; echo err >&2; echo out2"}));
  ASSERT_TRUE(r.status) << r.status.error().render();
  EXPECT_EQ(r.out, "out\nout2\n");
  EXPECT_EQ(r.err, "err\n");
}

TEST_F(SandboxLifecycleTest, OutputIsStreamedWhileTheCommandRuns) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  SandboxSpec spec = overlay_spec({"sh", "-c", "echo first; sleep 5; echo second"});
  spec.stdout_fd = fds[1];
  std::thread runner([&] { (void)run_sandbox(spec); });
  char buf[16] = {};
  auto start = std::chrono::steady_clock::now();
  ssize_t n = ::read(fds[0], buf, 6);
  auto waited = std::chrono::steady_clock::now() - start;
  runner.join();
  ::close(fds[0]);
  ::close(fds[1]);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), "first\n");
  EXPECT_LT(waited, std::chrono::seconds(4)) << "the first line arrived only at the end";
}

TEST_F(SandboxLifecycleTest, TimeoutKillsTheSandbox) {
  std::string marker = cat("97", ::getpid() % 1000, "5");
  SandboxSpec spec = overlay_spec({"sh", "-c", cat("sleep ", marker, " & sleep ", marker)});
  spec.timeout_seconds = 1;
  auto start = std::chrono::steady_clock::now();
  RunOutput r = run(spec);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().code(), ErrorCode::failed_step);
  EXPECT_NE(r.status.error().render().find("timed out after 1 s"), std::string::npos);
  EXPECT_EQ(count_processes(sleep_cmdline(marker)), 0);
  EXPECT_EQ(list_tree(upper()), std::vector<std::string>{}) << "mount stubs left behind";
}

TEST_F(SandboxLifecycleTest, InterruptWithHandlersKillsEveryProcess) {
  interrupt_leaves_nothing(true, SIGINT);
}

TEST_F(SandboxLifecycleTest, TerminationWithoutHandlersKillsEveryProcess) {
  // kiln dies of SIGTERM; the parent-death signal and the pid namespace
  // take the sandbox with it.
  interrupt_leaves_nothing(false, SIGTERM);
}

}  // namespace
}  // namespace kiln::executor::test
