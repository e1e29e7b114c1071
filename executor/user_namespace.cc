// Entering kiln's user namespace (fork + unshare, or re-execute
// /proc/self/exe when threads run), and `kiln unshare`.
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
#include <cstdio>
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

// Becomes container root once the parent wrote the maps: setresgid/
// setgroups/setresuid inside the new namespace, then the parent-death signal
// (cleared by the credential change). Returns errno, 0 on success. Runs in a
// single-threaded child (fork semantics).
int become_container_root(pid_t parent, MappingMode mode) {
  if (::setresgid(0, 0, 0) != 0 || (mode != MappingMode::single_id && ::setgroups(0, nullptr) != 0) ||
      ::setresuid(0, 0, 0) != 0) {
    return errno;
  }
  // kiln's inner process must not outlive the outer one.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) {
    std::_Exit(1);
  }
  return 0;
}

// The re-executed child: waits until the parent wrote the maps, becomes
// container root, execs. Never returns.
[[noreturn]] void reexec_child_main(int go_fd, int err_fd, pid_t parent, MappingMode mode, char** argv,
                                    char** envp) {
  char go = 0;
  if (::read(go_fd, &go, 1) != 1) {
    std::_Exit(1);  // the parent failed to write the maps and reported it
  }
  int err = become_container_root(parent, mode);
  if (err == 0) {
    ::execve("/proc/self/exe", argv, envp);
    err = errno;
  }
  (void)!::write(err_fd, &err, sizeof err);
  std::_Exit(127);
}

Error namespace_error(int e) {
  Error error = Error(ErrorCode::sandbox, "create kiln's user namespace", e);
  if (e == EPERM || e == ENOSPC || e == EINVAL || e == EACCES || e == EUSERS) {
    error.with_hint(k_userns_hint);
  }
  return error;
}

// Writes the maps of child `pid`, releases it through `go_w` and reads its
// verdict from `err_r` (EOF: it went on). On success the caller waits for
// it; on error the child is reaped here.
Result<void> map_and_release(pid_t pid, const IdMapping& mapping, UniqueFd& go_w, const UniqueFd& err_r,
                             const char* what) {
  auto written = write_mapping(pid, mapping);
  if (!written) {
    go_w.reset();  // the child sees EOF and exits
    ::waitpid(pid, nullptr, 0);
    return std::move(written).error().wrap("enter kiln's user namespace");
  }
  char byte = 1;
  if (::write(go_w.get(), &byte, 1) != 1) {
    return Error::from_errno("start kiln inside its user namespace");
  }
  int child_err = 0;
  if (::read(err_r.get(), &child_err, sizeof child_err) == sizeof child_err) {
    ::waitpid(pid, nullptr, 0);
    return Error(ErrorCode::sandbox, what, child_err);
  }
  return {};
}

// Re-executes /proc/self/exe in a new user + mount namespace: the way in
// when this process already runs threads (a forked copy of a threaded
// process may inherit locks held by other threads). Never returns on success.
Result<void> enter_by_reexec(const IdMapping& mapping, char** argv) {
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
    return namespace_error(errno);
  }
  if (pid == 0) {
    go_w.reset();
    err_r.reset();
    reexec_child_main(go_r.get(), err_w.get(), parent, mapping.mode, argv, envp.data());
  }
  go_r.reset();
  err_w.reset();
  KILN_TRY(map_and_release(static_cast<pid_t>(pid), mapping, go_w, err_r,
                           "re-execute kiln (`/proc/self/exe`) inside its user namespace"));
  wait_and_exit(static_cast<pid_t>(pid));
}

// The single-threaded way in, without a second program start: fork; the
// child unshares a user + mount namespace, waits for its maps, becomes
// container root and returns to go on with the command; the parent forwards
// signals and exits with the child's status. Returns only in the child
// (OK) or on error in the parent.
Result<void> enter_by_fork(const IdMapping& mapping) {
  // Whatever sits in stdio buffers would otherwise be written twice.
  std::fflush(nullptr);
  // go: parent -> child (maps written); err: child -> parent, the unshare
  // errno first, then a credential errno or EOF (it went on).
  int go[2], err[2];
  if (::pipe2(go, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    return Error::from_errno("create pipes for kiln's user namespace");
  }
  UniqueFd go_r(go[0]), go_w(go[1]), err_r(err[0]), err_w(err[1]);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    return Error::from_errno("fork kiln's namespace process");
  }
  if (pid == 0) {
    go_w.reset();
    err_r.reset();
    int e = ::unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0 ? 0 : errno;
    if (::write(err_w.get(), &e, sizeof e) != sizeof e || e != 0) {
      std::_Exit(1);
    }
    char byte = 0;
    if (::read(go_r.get(), &byte, 1) != 1) {
      std::_Exit(1);  // the parent failed to write the maps and reported it
    }
    e = become_container_root(parent, mapping.mode);
    if (e != 0) {
      (void)!::write(err_w.get(), &e, sizeof e);
      std::_Exit(127);
    }
    // The credential change made this process undumpable, which would leave
    // its /proc files to host root; nothing else is at stake in a process
    // its own user may trace.
    ::prctl(PR_SET_DUMPABLE, 1);
    ::setenv(k_userns_env, mode_name(mapping.mode), 1);
    return {};
  }
  go_r.reset();
  err_w.reset();
  int child_errno = EIO;
  if (::read(err_r.get(), &child_errno, sizeof child_errno) != sizeof child_errno || child_errno != 0) {
    ::waitpid(pid, nullptr, 0);
    return namespace_error(child_errno);
  }
  KILN_TRY(map_and_release(pid, mapping, go_w, err_r, "become root inside kiln's user namespace"));
  wait_and_exit(pid);
}

// Whether this process runs one thread (/proc/self/task has one entry).
bool single_threaded() {
  auto tasks = list_dir("/proc/self/task");
  return tasks && tasks->size() == 1;
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
  if (single_threaded() && std::getenv("KILN_USERNS_REEXEC") == nullptr) {
    return enter_by_fork(mapping);
  }
  return enter_by_reexec(mapping, argv);
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
