// Thin wrappers for the system calls glibc 2.36 does not wrap (openat2,
// clone3, pivot_root) and small helpers around the new mount API that glibc
// does wrap (<sys/mount.h>: fsopen, fsconfig, fsmount, move_mount, open_tree,
// mount_setattr). Used by the parent side and by the kiln-sandbox helper.
#pragma once

#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace kiln::executor::sys {

/// openat2(2) (Linux 5.6). Returns the fd or -1 with errno set.
inline int openat2(int dirfd, const char* path, uint64_t flags, uint64_t mode, uint64_t resolve) {
  struct open_how how {};
  how.flags = flags;
  how.mode = mode;
  how.resolve = resolve;
  return static_cast<int>(::syscall(SYS_openat2, dirfd, path, &how, sizeof how));
}

/// pivot_root(2); glibc has no wrapper.
inline int pivot_root(const char* new_root, const char* put_old) {
  return static_cast<int>(::syscall(SYS_pivot_root, new_root, put_old));
}

/// clone3(2) with fork semantics (no CLONE_VM, no new stack): returns 0 in the
/// child, the pid in the parent, -1 with errno on failure. The child of a
/// multi-threaded parent may only call async-signal-safe functions until it
/// execs.
inline long clone3_fork(struct clone_args* args) {
  return ::syscall(SYS_clone3, args, sizeof *args);
}

}  // namespace kiln::executor::sys
