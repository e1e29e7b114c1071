// Internal to solver/ops: paths inside a directory tree that may hold hostile
// symlinks (a build context, another stage's filesystem, the destination
// image), resolved as if the tree were the root of the filesystem (STYLE.md
// R3; CVE-2024-1753 is the bug this prevents).
//
// Nothing here builds a host path by joining strings and then opening it.
// Directories are opened relative to the root's fd with
// openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): an absolute symlink target
// or a run of `..` stops at the root, exactly as the kernel resolves paths for
// a chrooted process. Where openat2 is missing (Linux < 5.6) a component walk
// does the same in user space: each component is opened with O_NOFOLLOW from
// its parent's fd, symlinks are read and re-resolved from the root, `..` never
// goes above it. Final components that a caller creates or replaces are
// handled with *at() calls that never follow them.
#pragma once

#include <sys/stat.h>

#include <functional>
#include <string>
#include <string_view>

#include "util/fd.h"
#include "util/result.h"

namespace kiln::solver::ops::detail {

enum class FollowLast { yes, no };

/// Where a path leads inside a root.
struct Resolved {
  /// Canonical path relative to the root ("" = the root): '/'-separated, no
  /// `.`/`..`, and no symlink among the components that exist.
  std::string rel;
  /// Whether rel exists; when it does, `st` is its lstat.
  bool exists = false;
  struct stat st {};
};

class RootDir {
 public:
  /// Opens `dir` (which must be a directory) as a root. `force_walk` selects
  /// the user-space component walk even where openat2 exists (for tests of
  /// the fallback). Errors: not_found, syscall.
  static Result<RootDir> open(const std::string& dir, bool force_walk = false);
  /// Takes an open directory fd (O_PATH or O_RDONLY) as a root; `display`
  /// names it in messages.
  static Result<RootDir> from_fd(UniqueFd dir, std::string display, bool force_walk = false);

  RootDir(RootDir&&) noexcept = default;
  RootDir& operator=(RootDir&&) noexcept = default;

  int fd() const { return m_fd.get(); }
  /// The directory as given to open(), for messages only.
  const std::string& path() const { return m_path; }

  /// Resolves `path` (absolute or relative, both taken from the root) like a
  /// chrooted process would: symlinks in every component (and in the last one
  /// with FollowLast::yes) are followed and confined, `..` stops at the root.
  /// Components that do not exist are kept lexically (so a dangling symlink
  /// leads to where its target would be). Errors: invalid_input for more than
  /// 40 symlinks (a loop) or a non-directory in the middle of the path;
  /// syscall otherwise.
  Result<Resolved> resolve(std::string_view path, FollowLast follow) const;

  /// Opens directory `path` inside the root, following symlinks (confined).
  /// `flags` is O_PATH or O_RDONLY; O_DIRECTORY and O_CLOEXEC are added.
  /// Errors: not_found; invalid_input when it is not a directory.
  Result<UniqueFd> open_dir(std::string_view path, int flags) const;

  /// Opens the file `path` inside the root without following its last
  /// component (O_NOFOLLOW): parents are resolved like open_dir. For reading
  /// sources. Errors: not_found; syscall (ELOOP when it is a symlink).
  Result<UniqueFd> open_file(std::string_view path, int flags) const;

  /// Called for each directory make_dirs creates (mode 0755), with an
  /// O_RDONLY fd of it and its canonical path, so the caller can chown it.
  using CreatedHook = std::function<Result<void>(int fd, const std::string& rel)>;

  /// mkdir -p inside the root: existing components (symlinks followed,
  /// confined) are kept, missing ones are created 0755 (whatever the umask)
  /// and passed to `on_created` (may be empty). Returns an O_RDONLY fd of the
  /// directory. Errors: invalid_input when a component exists and is not a
  /// directory (naming it), syscall otherwise.
  Result<UniqueFd> make_dirs(std::string_view path, const CreatedHook& on_created) const;

 private:
  RootDir(UniqueFd fd, std::string path, bool walk) : m_fd(std::move(fd)), m_path(std::move(path)), m_walk(walk) {}
  Result<UniqueFd> open_dir_walk(std::string_view path, int flags) const;

  UniqueFd m_fd;
  std::string m_path;
  bool m_walk = false;
};

/// Tests only: every RootDir opened afterwards uses the component walk, as on
/// a kernel without openat2.
void set_force_component_walk(bool force);

/// "a/b/c" -> "a/b"; "c" -> "".
std::string rel_dirname(std::string_view rel);
/// "a/b/c" -> "c"; "c" -> "c".
std::string rel_basename(std::string_view rel);
/// Joins two '/'-separated relative paths, either may be "".
std::string rel_join(std::string_view a, std::string_view b);
/// "/" + rel, for messages about paths inside a root.
std::string display_path(std::string_view rel);

}  // namespace kiln::solver::ops::detail
