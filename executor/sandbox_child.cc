// The sandbox setup sequence, run by the kiln-sandbox helper (STYLE.md S2).
//
// The helper starts as pid 1 of new mount, pid, ipc, uts (and net, unless the
// network is host) namespaces inside kiln's user namespace, holding every
// capability of that namespace. It receives the resolved ChildSpec on fd 3
// (sync 1: helper_main.cc), then runs the steps below in this order and
// nothing else. Each step is traced at debug level (S4) and a failure is
// reported to the parent as an Error whose context names the step.
//
//  2  make "/" private recursively: nothing we mount propagates back to
//     kiln, and nothing from the host reaches the sandbox after setup
//  2  mount the rootfs (overlay on its mountpoint, or bind the directory
//     onto itself) so it is a mount point pivot_root accepts
//  3  /proc (fresh, for the new pid namespace), /dev (tmpfs with host
//     null/zero/full/random/urandom/tty bound in, a new devpts instance,
//     /dev/shm, /dev/mqueue, the standard symlinks), /sys (recursive
//     read-only bind: a fresh sysfs is refused in a user namespace sharing
//     the host network), /etc/hosts, /etc/resolv.conf, /etc/hostname (files
//     on the /dev tmpfs bound over the targets), the spec's mounts, and last
//     Docker's masked and read-only paths, so no later mount uncovers them.
//     Every target is resolved under the new root (RESOLVE_IN_ROOT, R3);
//     targets that do not exist are created and reported to the parent.
//  4  pivot_root(".", "."), detach the old root (crun do_pivot)
//  5  hostname, loopback up (network none), rlimits, umask, working dir
//     (created if missing; resolved with RESOLVE_NO_MAGICLINKS, so WORKDIR
//     /proc/self/fd/N fails instead of reaching a host directory,
//     CVE-2024-21626)
//  6  without no_new_privs: seccomp now, while CAP_SYS_ADMIN in the user
//     namespace still allows loading a filter
//  7  identity and capabilities in crun's order: drop the bounding set
//     (needs CAP_SETPCAP, so first), keep-caps + groups + setresgid +
//     setresuid, capset (effective = permitted = the set; inheritable and
//     ambient empty), then no_new_privs when asked
//  8  close every fd above 3 (3 is the sync socket, close-on-exec)
//  9  with no_new_privs: seccomp now, as late as possible (bubblewrap)
// 10  resolve argv[0] in the spec's PATH, report setup OK (sync 2), execve
#include "executor/sandbox_child.h"

#include <time.h>

#include <string>

namespace kiln::executor {

namespace {

// Microseconds since the helper started, for the trace.
long elapsed_us() {
  static const long start = [] {
    struct timespec ts {};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
  }();
  struct timespec ts {};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000L + ts.tv_nsec / 1000 - start;
}

template <typename F>
Result<void> run_step(ChildContext& ctx, int number, const char* name, F&& step) {
  std::string label = "sandbox step " + std::to_string(number) + ": " + name;
  if (ctx.spec.trace) {
    (void)send_message(ctx.sync_fd, MessageTag::trace, label + " (+" + std::to_string(elapsed_us()) + " us)");
  }
  Result<void> result = step();
  if (!result) {
    // Setup failures are sandbox errors whatever the syscall said; only the
    // command lookup keeps not_found (the solver reports it like a shell's 127).
    if (number < 10) {
      result.error().with_code(ErrorCode::sandbox);
    }
    result.error().wrap(label);
    // The stubs first, so the parent can clean up even when setup failed.
    if (!ctx.created.empty()) {
      (void)send_message(ctx.sync_fd, MessageTag::stubs, encode_strings(ctx.created));
    }
    (void)send_message(ctx.sync_fd, MessageTag::error, encode_error(result.error()));
  }
  return result;
}

}  // namespace

#define KILN_STEP(number, name, call) KILN_TRY(run_step(ctx, number, name, [&] { return call; }))

Result<void> sandbox_child_main(const ChildSpec& spec, int sync_fd) {
  (void)elapsed_us();  // the trace's time origin
  ChildContext ctx(spec, sync_fd);
  KILN_STEP(2, "make mounts private", make_mounts_private(ctx));
  KILN_STEP(2, "mount the rootfs", mount_rootfs(ctx));
  KILN_STEP(3, "mount /proc", mount_proc(ctx));
  KILN_STEP(3, "mount /dev", mount_dev(ctx));
  KILN_STEP(3, "mount /sys", mount_sys(ctx));
  KILN_STEP(3, "bind /etc/hosts, /etc/resolv.conf, /etc/hostname", bind_etc_files(ctx));
  KILN_STEP(3, "apply the mounts", apply_spec_mounts(ctx));
  KILN_STEP(3, "mask /proc and /sys paths", mask_paths(ctx));
  KILN_STEP(4, "pivot_root into the rootfs", pivot_into_root(ctx));
  KILN_STEP(5, "set the hostname", set_hostname(ctx));
  if (spec.network_none) {
    KILN_STEP(5, "bring up loopback", bring_up_loopback(ctx));
  }
  KILN_STEP(5, "set rlimits", set_rlimits(ctx));
  KILN_STEP(5, "set the umask", set_umask(ctx));
  KILN_STEP(5, "enter the working directory", enter_working_dir(ctx));
  if (!spec.no_new_privs) {
    KILN_STEP(6, "load seccomp (before dropping CAP_SYS_ADMIN)", load_seccomp(ctx));
  }
  KILN_STEP(7, "drop the bounding set", drop_bounding_set(ctx));
  KILN_STEP(7, "switch to the user", switch_user(ctx));
  KILN_STEP(7, "set capabilities", set_capabilities(ctx));
  if (spec.no_new_privs) {
    KILN_STEP(7, "set no_new_privs", set_no_new_privs(ctx));
  }
  KILN_STEP(8, "close extra fds", close_extra_fds(ctx));
  if (spec.no_new_privs) {
    KILN_STEP(9, "load seccomp", load_seccomp(ctx));
  }
  KILN_STEP(10, "find the command", resolve_command(ctx));
  KILN_STEP(10, "report setup OK", report_setup_ok(ctx));
  KILN_STEP(10, "exec the command", exec_command(ctx));
  return {};  // not reached: exec_command succeeds only by not returning
}

}  // namespace kiln::executor
