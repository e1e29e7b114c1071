#include "executor/child_process.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "executor/syscalls.h"
#include "util/log.h"

namespace kiln::executor {

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : m_pid(other.m_pid), m_pidfd(std::move(other.m_pidfd)), m_reaped(other.m_reaped) {
  other.m_pid = -1;
  other.m_reaped = true;
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    this->~ChildProcess();
    m_pid = other.m_pid;
    m_pidfd = std::move(other.m_pidfd);
    m_reaped = other.m_reaped;
    other.m_pid = -1;
    other.m_reaped = true;
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (!m_reaped && m_pid > 0) {
    log_warning_and_drop(kill(SIGKILL));
    log_warning_and_drop(wait());
  }
}

Result<void> ChildProcess::kill(int sig) {
  if (m_reaped) {
    return {};
  }
  if (::syscall(SYS_pidfd_send_signal, m_pidfd.get(), sig, nullptr, 0) != 0 && errno != ESRCH) {
    return Error::from_errno("signal the sandbox process");
  }
  return {};
}

Result<int> ChildProcess::wait() {
  if (m_reaped) {
    return Error(ErrorCode::internal, "wait for a process that was already reaped");
  }
  siginfo_t info {};
  while (::waitid(P_PIDFD, static_cast<id_t>(m_pidfd.get()), &info, WEXITED) != 0) {
    if (errno != EINTR) {
      return Error::from_errno("wait for the sandbox process");
    }
  }
  m_reaped = true;
  if (info.si_code == CLD_EXITED) {
    return info.si_status;
  }
  return 128 + info.si_status;
}

namespace {

// Runs in the child between clone and exec: raw syscalls only, because the
// parent may be multi-threaded (async-signal-safe subset).
[[noreturn]] void exec_child(const SpawnRequest& r, char* const* argv) {
  char* const envp[] = {nullptr};
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (::dup2(r.stdin_fd, 0) < 0 || ::dup2(r.stdout_fd, 1) < 0 || ::dup2(r.stderr_fd, 2) < 0 ||
      ::dup2(r.sync_fd, 3) < 0) {
    ::_exit(errno & 0x7f);
  }
  ::syscall(SYS_execveat, r.program_fd, "", argv, envp, AT_EMPTY_PATH);
  ::_exit(errno & 0x7f);
}

// fork-style clone (no CLONE_VM, no new stack): the child continues here.
long clone_with_pidfd(uint64_t flags, int* pidfd) {
  struct clone_args args {};
  args.flags = flags | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(pidfd);
  args.exit_signal = SIGCHLD;
  long pid = sys::clone3_fork(&args);
  if (pid < 0 && errno == ENOSYS) {
    // Linux < 5.3. x86-64 and arm64 both take (flags, stack, parent_tid, ...)
    // and CLONE_PIDFD stores the pidfd through parent_tid.
    pid = ::syscall(SYS_clone, flags | CLONE_PIDFD | SIGCHLD, nullptr, pidfd, nullptr, nullptr);
  }
  return pid;
}

// Moves fd above the range 0..3 so the child's dup2 calls cannot clobber it.
Result<UniqueFd> high_dup(int fd) {
  int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
  if (copy < 0) {
    return Error::from_errno("duplicate a sandbox fd");
  }
  return UniqueFd(copy);
}

}  // namespace

Result<ChildProcess> spawn_in_namespaces(const SpawnRequest& request) {
  SpawnRequest r = request;
  KILN_TRY_ASSIGN(UniqueFd in, high_dup(r.stdin_fd));
  KILN_TRY_ASSIGN(UniqueFd out, high_dup(r.stdout_fd));
  KILN_TRY_ASSIGN(UniqueFd err, high_dup(r.stderr_fd));
  KILN_TRY_ASSIGN(UniqueFd sync, high_dup(r.sync_fd));
  r.stdin_fd = in.get();
  r.stdout_fd = out.get();
  r.stderr_fd = err.get();
  r.sync_fd = sync.get();
  std::vector<char*> argv;
  for (auto& a : r.argv) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);

  // No signal handler of kiln may run in the child before it execs.
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  int pidfd = -1;
  long pid = clone_with_pidfd(r.clone_flags, &pidfd);
  if (pid == 0) {
    exec_child(r, argv.data());
  }
  int clone_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) {
    Error e(ErrorCode::sandbox, "create the sandbox namespaces (clone3)", clone_errno);
    if (clone_errno == EPERM || clone_errno == ENOSPC || clone_errno == EUSERS) {
      e.with_hint("The kernel refused new namespaces inside kiln's user namespace; check "
                  "`sysctl user.max_mnt_namespaces user.max_pid_namespaces user.max_net_namespaces`.");
    }
    return e;
  }
  return ChildProcess(static_cast<pid_t>(pid), UniqueFd(pidfd));
}

}  // namespace kiln::executor
