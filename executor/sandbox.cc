// run_sandbox: the parent's half of the sandbox (sandbox.h has the sequence).
#include "executor/sandbox.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <optional>
#include <cerrno>
#include <map>
#include <mutex>

#include "executor/child_process.h"
#include "executor/deferred_teardown.h"
#include "executor/mount_stubs.h"
#include "executor/mounts.h"
#include "executor/sandbox_plan.h"
#include "executor/spec_wire.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln::executor {

namespace {

// ---- interrupts --------------------------------------------------------------

std::atomic<int> g_interrupt_signal{0};
int g_interrupt_pipe[2] = {-1, -1};  // never drained: once readable, stays so

void on_interrupt(int sig) {
  int expected = 0;
  g_interrupt_signal.compare_exchange_strong(expected, sig);
  if (g_interrupt_pipe[1] >= 0) {
    char byte = 1;
    (void)!::write(g_interrupt_pipe[1], &byte, 1);
  }
}

// ---- the helper ----------------------------------------------------------------

// An O_PATH fd of the helper, opened once per path (execveat skips the path
// walk, and the binary cannot be swapped underneath a running kiln).
Result<int> helper_fd() {
  static std::mutex mutex;
  static std::map<std::string, int> fds;
  KILN_TRY_ASSIGN(std::string path, sandbox_helper_path());
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = fds.find(path); it != fds.end()) {
    return it->second;
  }
  int fd = ::open(path.c_str(), O_PATH | O_CLOEXEC);
  if (fd < 0) {
    return Error::from_errno(cat("open the sandbox helper `", path, "`"));
  }
  fds.emplace(path, fd);
  return fd;
}

struct Sandbox {
  ChildProcess process;
  UniqueFd sync;
  UniqueFd devnull;
  UniqueFd mount_ns;  // held so the exit does not wait for the unmounts
};

Result<Sandbox> start(const SandboxSpec& spec, const ChildSpec& child) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return Error::from_errno("create the sandbox sync socket");
  }
  Sandbox sb;
  sb.sync.reset(pair[0]);
  UniqueFd child_end(pair[1]);
  SpawnRequest req;
  KILN_TRY_ASSIGN(req.program_fd, helper_fd());
  req.argv = {"kiln-sandbox"};
  req.clone_flags = namespace_flags(spec);
  if (spec.stdin_fd < 0) {
    sb.devnull.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!sb.devnull) {
      return Error::from_errno("open /dev/null");
    }
  }
  req.stdin_fd = spec.stdin_fd < 0 ? sb.devnull.get() : spec.stdin_fd;
  req.stdout_fd = spec.stdout_fd;
  req.stderr_fd = spec.stderr_fd;
  req.sync_fd = child_end.get();
  KILN_TRY_ASSIGN(sb.process, spawn_in_namespaces(req));
  child_end.reset();
  log::debug("sandbox: started helper pid ", sb.process.pid());
  // The child waits for sync 1, so its pid and namespace are stable here.
  sb.mount_ns.reset(::open(cat("/proc/", sb.process.pid(), "/ns/mnt").c_str(), O_RDONLY | O_CLOEXEC));
  // sync 1: the resolved spec.
  KILN_TRY(send_message(sb.sync.get(), MessageTag::spec, encode_child_spec(child)).context("send the sandbox spec"));
  return sb;
}

int64_t now_ms() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

// What the parent learned while supervising one sandbox.
struct Outcome {
  bool setup_ok = false;
  std::optional<Error> error;        // from the child
  std::vector<std::string> stubs;    // created mount targets
  std::optional<int> status;         // exit status once reaped
};

// One record from the sync socket; returns false at EOF.
Result<bool> handle_message(int fd, Outcome& out) {
  KILN_TRY_ASSIGN(std::string msg, receive_message(fd));
  if (msg.empty()) {
    return false;
  }
  std::string_view payload = std::string_view(msg).substr(1);
  switch (static_cast<MessageTag>(msg[0])) {
    case MessageTag::trace: log::debug(payload); break;
    case MessageTag::stubs: {
      KILN_TRY_ASSIGN(out.stubs, decode_strings(payload));
      break;
    }
    case MessageTag::ok: out.setup_ok = true; break;  // sync 2
    case MessageTag::error: {
      out.error = decode_error(payload);
      break;
    }
    default: return Error(ErrorCode::internal, "unexpected record on the sandbox sync socket");
  }
  return true;
}

Error killed_error(const char* why, unsigned timeout) {
  std::string msg = timeout != 0 ? cat("stop the command: timed out after ", timeout, " s") : std::string(why);
  return Error(ErrorCode::failed_step, msg).with_exit_status(128 + SIGKILL);
}

// Waits for the sandbox to exit, honouring the timeout and interrupts, then
// reads what the child reported. The sync socket is watched live only when
// debug tracing is on: every wake-up of the parent costs a scheduling round
// trip, and on a busy machine those dominate a short step. Without tracing
// the child's few records (stubs, setup OK, or an error) wait in the socket
// until the exit, and the parent wakes once.
Result<void> supervise(Sandbox& sb, const SandboxSpec& spec, Outcome& out) {
  int64_t deadline = spec.timeout_seconds != 0 ? now_ms() + int64_t{spec.timeout_seconds} * 1000 : -1;
  bool sync_open = true;
  bool live = log::enabled(log::Level::debug);
  std::optional<Error> stopped;
  while (!out.status) {
    struct pollfd fds[4] = {{sb.process.pidfd(), POLLIN, 0},
                            {g_interrupt_pipe[0], POLLIN, 0},
                            {live && sync_open ? sb.sync.get() : -1, POLLIN, 0},
                            {stopped ? -1 : spec.cancel_fd, POLLIN, 0}};
    int wait_ms = deadline < 0 ? -1 : static_cast<int>(std::max<int64_t>(0, deadline - now_ms()));
    int n = ::poll(fds, 4, wait_ms);
    if (n < 0 && errno != EINTR) {
      return Error::from_errno("wait for the sandbox");
    }
    if (n == 0 || (fds[1].revents & POLLIN) != 0 || (fds[3].revents & POLLIN) != 0) {
      // Killing pid 1 makes the kernel kill everything in its pid namespace.
      KILN_TRY(sb.process.kill(SIGKILL));
      if (n == 0) {
        stopped = killed_error("", spec.timeout_seconds);
        deadline = -1;
      } else if ((fds[1].revents & POLLIN) != 0) {
        stopped = killed_error(cat("stop the command: interrupted by signal ", g_interrupt_signal.load()).c_str(), 0);
      } else {
        stopped = killed_error("stop the command: the build was cancelled (another step failed)", 0);
      }
    } else if ((fds[2].revents & (POLLIN | POLLHUP)) != 0) {
      KILN_TRY_ASSIGN(sync_open, handle_message(sb.sync.get(), out));
      continue;
    } else if ((fds[0].revents & POLLIN) == 0) {
      continue;
    }
    KILN_TRY_ASSIGN(int status, sb.process.wait());
    out.status = status;
  }
  // The child is gone, so its end is closed: everything it sent (the stubs
  // to remove, too) is queued, followed by EOF.
  while (sync_open) {
    KILN_TRY_ASSIGN(sync_open, handle_message(sb.sync.get(), out));
  }
  if (stopped) {
    return std::move(*stopped);
  }
  return {};
}

}  // namespace

void install_interrupt_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (::pipe2(g_interrupt_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
      g_interrupt_pipe[0] = g_interrupt_pipe[1] = -1;
    }
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
      ::sigaction(sig, &sa, nullptr);
    }
  });
}

int interrupted_by() { return g_interrupt_signal.load(); }

Result<int> run_sandbox(const SandboxSpec& spec) {
  if (g_interrupt_signal.load() != 0) {
    return killed_error(cat("start a sandbox: interrupted by signal ", g_interrupt_signal.load()).c_str(), 0);
  }
  KILN_TRY_ASSIGN(ChildSpec child, plan_child(spec, log::enabled(log::Level::debug)));
  if (spec.overlay) {
    wait_for_teardown(spec.overlay->work);  // an earlier run on this snapshot
  }
  MountStubCleaner stubs = spec.overlay ? MountStubCleaner::prepare(spec.overlay->upper, spec.overlay->lowers,
                                                                     mount_targets(spec))
                                        : MountStubCleaner::prepare(spec.rootfs_dir, {}, mount_targets(spec));
  int64_t started = now_ms();
  KILN_TRY_ASSIGN(Sandbox sb, start(spec, child));
  Outcome out;
  Result<void> supervised = supervise(sb, spec, out);
  log::debug("sandbox: pid ", sb.process.pid(), " ended after ", now_ms() - started, " ms");
  if (!out.stubs.empty()) {
    log_warning_and_drop(stubs.cleanup(out.stubs).context("remove mount stubs"));
  }
  // The mount tree is torn down in the background (deferred_teardown.h),
  // then the volatile overlay's marker is removed.
  bool volatile_upper = spec.overlay && spec.overlay->durability == Durability::volatile_upper;
  std::string marker_work = volatile_upper && sb.process.reaped() ? spec.overlay->work : "";
  if (sb.mount_ns) {
    defer_teardown(std::move(sb.mount_ns), marker_work);
  } else if (!marker_work.empty()) {
    log_warning_and_drop(remove_volatile_marker(marker_work));
  }
  KILN_TRY(std::move(supervised).context(cat("run `", join(spec.argv, " "), "`")));
  if (out.error) {
    return std::move(*out.error).wrap(cat("run `", join(spec.argv, " "), "`"));
  }
  if (!out.setup_ok) {
    return Error(ErrorCode::sandbox, cat("run `", join(spec.argv, " "), "`: the sandbox helper exited with status ",
                                         *out.status, " during setup"),
                 *out.status > 0 && *out.status < 125 ? *out.status : 0);
  }
  return *out.status;
}

}  // namespace kiln::executor
