// Entering kiln's user namespace: re-execute /proc/self/exe inside a new
// user + mount namespace, and `kiln unshare`.
#include "executor/user_namespace.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "util/fd.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/subprocess.h"

extern char** environ;

namespace kiln::executor {

namespace {

const char* mode_name(MappingMode mode) {
  switch (mode) {
    case MappingMode::subordinate: return "subordinate";
    case MappingMode::single_id: return "single_id";
    case MappingMode::root_range: return "root_range";
  }
  return "single_id";
}

const char* const k_userns_hint =
    "Unprivileged user namespaces seem to be disabled. Check `sysctl user.max_user_namespaces` "
    "(must be > 0), Debian's `sysctl kernel.unprivileged_userns_clone` (must be 1) and Ubuntu's "
    "`sysctl kernel.apparmor_restrict_unprivileged_userns` (must be 0, or an AppArmor profile must "
    "allow kiln).";

Result<void> run_idmap_tool(const char* tool, pid_t pid, const std::vector<IdRange>& ranges) {
  std::vector<std::string> argv = {tool, std::to_string(pid)};
  for (const auto& r : ranges) {
    argv.push_back(std::to_string(r.container));
    argv.push_back(std::to_string(r.host));
    argv.push_back(std::to_string(r.count));
  }
  KILN_TRY_ASSIGN(ProgramResult res, run_program(argv));
  if (res.exit_status != 0) {
    return Error(ErrorCode::sandbox, cat("run `", join(argv, " "), "`: exit status ", res.exit_status, ": ",
                                         trim(res.stderr_data)))
        .with_hint("Check that /etc/subuid and /etc/subgid grant this user a range and that "
                   "newuidmap/newgidmap (package uidmap) are installed setuid root.");
  }
  return {};
}

Result<void> write_proc(pid_t pid, const char* file, const std::string& text) {
  std::string path = cat("/proc/", pid, "/", file);
  auto fd = open_file(path, O_WRONLY);
  if (!fd) {
    return std::move(fd).error();
  }
  if (::write(fd->get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    return Error::from_errno(cat("write `", path, "`"));
  }
  return {};
}

Result<void> write_mapping(pid_t pid, const IdMapping& m) {
  if (m.mode == MappingMode::subordinate) {
    KILN_TRY(run_idmap_tool("newuidmap", pid, m.uids));
    return run_idmap_tool("newgidmap", pid, m.gids);
  }
  if (m.mode == MappingMode::single_id) {
    // An unprivileged process may map only its own ids, and only after
    // giving up setgroups (user_namespaces(7)).
    KILN_TRY(write_proc(pid, "setgroups", "deny"));
  }
  KILN_TRY(write_proc(pid, "uid_map", IdMapping::format(m.uids)));
  return write_proc(pid, "gid_map", IdMapping::format(m.gids));
}

volatile sig_atomic_t g_child_pid = 0;

void forward_signal(int sig) {
  if (g_child_pid > 0) {
    ::kill(g_child_pid, sig);
  }
}

const int k_forwarded_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

[[noreturn]] void wait_and_exit(pid_t pid) {
  g_child_pid = pid;
  struct sigaction sa {};
  sa.sa_handler = forward_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int sig : k_forwarded_signals) {
    ::sigaction(sig, &sa, nullptr);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      std::_Exit(125);
    }
  }
  if (WIFEXITED(status)) {
    std::_Exit(WEXITSTATUS(status));
  }
  // Die the same way, without a core dump of this process.
  int sig = WTERMSIG(status);
  struct rlimit no_core {};
  ::setrlimit(RLIMIT_CORE, &no_core);
  ::signal(sig, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
  ::raise(sig);
  std::_Exit(128 + sig);
}

// The re-executed child: waits until the parent wrote the maps, becomes
// container root, execs. Single-threaded (fork semantics), so it may
// allocate; it never returns.
[[noreturn]] void child_main(int go_fd, int err_fd, pid_t parent, MappingMode mode, char** argv,
                             char** envp) {
  char go = 0;
  if (::read(go_fd, &go, 1) != 1) {
    std::_Exit(1);  // the parent failed to write the maps and reported it
  }
  int err = 0;
  if (::setresgid(0, 0, 0) != 0 || (mode != MappingMode::single_id && ::setgroups(0, nullptr) != 0) ||
      ::setresuid(0, 0, 0) != 0) {
    err = errno;
  }
  // The credential change above cleared any parent-death signal; kiln's inner
  // process must not outlive the outer one.
  if (err == 0 && (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent)) {
    std::_Exit(1);
  }
  if (err == 0) {
    ::execve("/proc/self/exe", argv, envp);
    err = errno;
  }
  (void)!::write(err_fd, &err, sizeof err);
  std::_Exit(127);
}

}  // namespace

Result<void> enter_user_namespace(int /*argc*/, char** argv) {
  if (in_kiln_namespace()) {
    return {};
  }
  KILN_TRY_ASSIGN(IdMapping mapping, compute_id_mapping());
  if (!mapping.warning.empty()) {
    log::warning(mapping.warning);
  }
  // The environment for the child, prepared before the clone.
  std::vector<std::string> env_store;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, k_userns_env, std::strlen(k_userns_env)) != 0) {
      env_store.emplace_back(*e);
    }
  }
  env_store.push_back(cat(k_userns_env, "=", mode_name(mapping.mode)));
  std::vector<char*> envp;
  for (auto& e : env_store) {
    envp.push_back(e.data());
  }
  envp.push_back(nullptr);

  int go[2], err[2];
  if (::pipe2(go, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    return Error::from_errno("create pipes for kiln's user namespace");
  }
  UniqueFd go_r(go[0]), go_w(go[1]), err_r(err[0]), err_w(err[1]);
  pid_t parent = ::getpid();
  long pid = ::syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWNS | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid < 0) {
    int e = errno;
    Error error = Error(ErrorCode::sandbox, "create kiln's user namespace", e);
    if (e == EPERM || e == ENOSPC || e == EINVAL || e == EACCES) {
      error.with_hint(k_userns_hint);
    }
    return error;
  }
  if (pid == 0) {
    go_w.reset();
    err_r.reset();
    child_main(go_r.get(), err_w.get(), parent, mapping.mode, argv, envp.data());
  }
  go_r.reset();
  err_w.reset();
  auto written = write_mapping(static_cast<pid_t>(pid), mapping);
  if (!written) {
    go_w.reset();  // the child sees EOF and exits
    ::waitpid(static_cast<pid_t>(pid), nullptr, 0);
    return std::move(written).error().wrap("enter kiln's user namespace");
  }
  char byte = 1;
  if (::write(go_w.get(), &byte, 1) != 1) {
    return Error::from_errno("start kiln inside its user namespace");
  }
  int child_err = 0;
  if (::read(err_r.get(), &child_err, sizeof child_err) == sizeof child_err) {
    ::waitpid(static_cast<pid_t>(pid), nullptr, 0);
    return Error(ErrorCode::sandbox, "re-execute kiln (`/proc/self/exe`) inside its user namespace", child_err);
  }
  wait_and_exit(static_cast<pid_t>(pid));
}

Result<void> exec_in_namespace(const std::vector<std::string>& cmd) {
  if (!in_kiln_namespace()) {
    return Error(ErrorCode::invalid_input, "run a command in kiln's user namespace: not inside it "
                                           "(call enter_user_namespace first)");
  }
  std::vector<std::string> args = cmd;
  if (args.empty()) {
    const char* shell = std::getenv("SHELL");
    args.emplace_back(shell != nullptr && *shell != '\0' ? shell : "/bin/sh");
  }
  std::string prog = find_program(args[0]);
  if (prog.empty()) {
    return Error(ErrorCode::not_found, cat("run `", args[0], "` in kiln's user namespace: not found in PATH"));
  }
  ::setenv("KILN_UNSHARE", "1", 1);
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  ::execv(prog.c_str(), argv.data());
  return Error::from_errno(cat("run `", args[0], "` in kiln's user namespace"));
}

}  // namespace kiln::executor
