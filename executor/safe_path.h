// Path resolution under an untrusted root (STYLE.md R3): a container rootfs,
// a layer directory, an overlay upper dir. Paths are always interpreted as if
// `root_fd` were "/": ".." stops at the root, absolute symlinks restart at the
// root, and magic links (/proc/self/fd/N, /proc/PID/root) are refused, so a
// hostile rootfs cannot make kiln open or mount a host path.
//
// Primary mechanism: openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
// (Linux 5.6). Fallback when openat2 is unavailable (ENOSYS) or refused by a
// seccomp filter (EPERM): a component walk with O_NOFOLLOW that resolves
// symlinks itself, stays under the root and refuses /proc magic links by
// refusing to follow any symlink whose target is not a plain path (crun's
// safe_openat, bubblewrap's path checks).
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "util/fd.h"
#include "util/result.h"

namespace kiln::executor {

enum class FollowLast { yes, no };

/// Opens `path` below root_fd. flags are open(2) flags (O_PATH, O_RDONLY,
/// O_DIRECTORY, O_NOFOLLOW ...); O_CLOEXEC is always added; O_CREAT is not
/// supported here (see create_in_root). With FollowLast::no a final symlink
/// is opened itself (needs O_PATH). Errors: not_found for ENOENT/ENOTDIR,
/// syscall otherwise (ELOOP for a magic link or a symlink loop).
Result<UniqueFd> open_in_root(int root_fd, std::string_view path, int flags,
                              FollowLast follow = FollowLast::yes);

/// The fallback of open_in_root (a component walk), used when openat2 is
/// unavailable; exposed so tests exercise it on kernels that have openat2.
Result<UniqueFd> open_in_root_by_walk(int root_fd, std::string_view path, int flags,
                                      FollowLast follow = FollowLast::yes);

/// Opens a directory below root_fd, creating missing components (mode, like
/// mkdir -p). Each directory it creates is appended to `created` as a path
/// relative to the root ("etc", "etc/ssl"), outermost first, when created is
/// not null. Returns an O_PATH|O_DIRECTORY fd.
Result<UniqueFd> make_dirs_in_root(int root_fd, std::string_view path, mode_t mode,
                                   std::vector<std::string>* created);

/// Splits an absolute or relative path into its components, dropping empty
/// and "." components and keeping "..": "/a//./b/../c" -> {a, b, .., c}.
std::vector<std::string> path_components(std::string_view path);

/// Cleans `path` lexically and makes it relative to the root: "/etc/../x/" ->
/// "x"; "/" -> "". Used for names reported back to the parent.
std::string relative_in_root(std::string_view path);

}  // namespace kiln::executor
