// Internal: resolving layer entry names inside a target root (STYLE.md R3).
//
// Every directory a layer entry lives in is opened relative to the root with
// openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): symlinks in parent
// directories are followed as if the root were "/" (an absolute or `..`-laden
// link target cannot leave it), and the final component is then handled with
// *at() calls that never follow it (O_NOFOLLOW, O_EXCL, AT_SYMLINK_NOFOLLOW).
// Where openat2 is missing (Linux < 5.6) a component walk with O_NOFOLLOW is
// used instead, which refuses symlinked parents with an error.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "util/fd.h"
#include "util/result.h"

namespace kiln::layers::detail {

/// Normalizes a tar entry or hard link name: leading "/" and "./" removed,
/// empty and "." components dropped; "" names the root. A `..` component is
/// an invalid_input error naming the entry (tar-slip); NUL cannot occur.
Result<std::string> clean_entry_path(std::string_view name);

/// Splits a cleaned path into (parent, base): "a/b/c" -> ("a/b", "c").
std::pair<std::string, std::string> split_parent(const std::string& path);

enum class MissingDirs { create, fail };

class SafeRoot {
 public:
  /// Called after a missing parent directory `rel` was created (as 0755, owned
  /// by the caller) with an fd for it, so the caller can give it metadata.
  using CreatedHook = std::function<Result<void>(const std::string& rel, int dirfd)>;

  /// Opens `dir` (which must exist) as the root. `force_component_walk` is
  /// for tests of the fallback.
  static Result<SafeRoot> open(const std::string& dir, bool force_component_walk = false);

  int fd() const { return m_root.get(); }
  const std::string& path() const { return m_path; }
  void set_created_hook(CreatedHook hook) { m_hook = std::move(hook); }

  /// An O_PATH fd for directory `rel` (cleaned; "" = the root) resolved
  /// inside the root, creating missing directories when asked. The fd is
  /// owned by a cache: valid until the next call or invalidate(). Errors:
  /// not_found (MissingDirs::fail), invalid_input when a component is not a
  /// directory or (fallback) is a symlink.
  Result<int> dir(const std::string& rel, MissingDirs missing);
  /// Like dir() but an owned fd opened O_RDONLY (for listing, xattrs, fchmod).
  Result<UniqueFd> open_dir_rdonly(const std::string& rel);
  /// Forgets cached directory fds; call after removing or replacing anything.
  /// fds handed out stay open until the next dir() call.
  void invalidate() {
    for (auto& [path, fd] : m_cache) {
      m_retired.push_back(std::move(fd));
    }
    m_cache.clear();
  }

 private:
  SafeRoot(UniqueFd root, std::string path, bool walk) : m_root(std::move(root)), m_path(std::move(path)), m_walk(walk) {}
  Result<UniqueFd> resolve(const std::string& rel, int flags);
  Result<UniqueFd> resolve_walk(const std::string& rel, int flags);
  Result<UniqueFd> create_missing(const std::string& rel);

  UniqueFd m_root;
  std::string m_path;
  bool m_walk;
  CreatedHook m_hook;
  std::unordered_map<std::string, UniqueFd> m_cache;
  std::vector<UniqueFd> m_retired;
};

}  // namespace kiln::layers::detail
