#include "layers/snapshot_walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "util/file.h"
#include "util/strings.h"

namespace kiln::layers::detail {

Result<std::vector<std::string>> sorted_children(int dirfd, const std::string& what) {
  int fd = ::dup(dirfd);
  if (fd < 0) {
    return Error::from_errno(cat("read directory `", what, "`"));
  }
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return Error::from_errno(cat("read directory `", what, "`"));
  }
  ::rewinddir(dir);  // the dup shares the offset with dirfd
  std::vector<std::string> names;
  errno = 0;
  while (dirent* d = ::readdir(dir)) {
    if (std::strcmp(d->d_name, ".") != 0 && std::strcmp(d->d_name, "..") != 0) {
      names.emplace_back(d->d_name);
    }
    errno = 0;
  }
  int err = errno;
  ::closedir(dir);
  if (err != 0) {
    return Error::from_errno(cat("read directory `", what, "`"), err);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<UniqueFd> open_entry(int dirfd, const std::string& name, bool directory, const std::string& path) {
  int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (directory ? O_DIRECTORY : O_NOCTTY);
  int fd = ::openat(dirfd, name.c_str(), flags);
  if (fd < 0) {
    return Error::from_errno(cat("open `", path, "`"));
  }
  return UniqueFd(fd);
}

Result<Xattrs> layer_xattrs(int fd, int dirfd, const std::string& name, Xattrs* all) {
  KILN_TRY_ASSIGN(Xattrs attrs, fd >= 0 ? read_xattrs_fd(fd) : read_xattrs_at(dirfd, name));
  Xattrs kept;
  for (const auto& kv : attrs) {
    if (is_layer_xattr(kv.first)) {
      kept.push_back(kv);
    }
  }
  if (all != nullptr) {
    *all = std::move(attrs);
  }
  return kept;
}

namespace {

bool has_overlay_attr(const Xattrs& all, std::string_view suffix, std::string_view value = {}) {
  for (const auto& [name, v] : all) {
    if (is_overlay_xattr(name) && std::string_view(name).substr(name.find(".overlay.") + 9) == suffix &&
        (value.empty() || v == value)) {
      return true;
    }
  }
  return false;
}

struct Child {
  std::string name;
  struct stat st {};
};

class UpperWalker {
 public:
  explicit UpperWalker(EntrySink& sink) : m_sink(sink) {}

  // Emits the children of directory `dirfd` (layer path `prefix`, "" = root).
  Result<void> walk_dir(int dirfd, const std::string& prefix) {
    KILN_TRY_ASSIGN(auto names, sorted_children(dirfd, prefix.empty() ? "." : prefix));
    std::vector<Child> whiteouts;
    std::vector<Child> rest;
    for (auto& name : names) {
      Child c{std::move(name), {}};
      if (::fstatat(dirfd, c.name.c_str(), &c.st, AT_SYMLINK_NOFOLLOW) != 0) {
        return Error::from_errno(cat("stat `", join_path(prefix, c.name), "`"));
      }
      bool is_whiteout = S_ISCHR(c.st.st_mode) && c.st.st_rdev == makedev(0, 0);
      (is_whiteout ? whiteouts : rest).push_back(std::move(c));
    }
    for (const auto& c : whiteouts) {
      KILN_TRY(m_sink.whiteout(join_path(prefix, c.name)));
    }
    for (const auto& c : rest) {
      KILN_TRY(visit(dirfd, prefix, c));
    }
    return {};
  }

  static std::string join_path(const std::string& prefix, const std::string& name) {
    return prefix.empty() ? name : cat(prefix, "/", name);
  }

 private:
  Result<void> visit(int dirfd, const std::string& prefix, const Child& c) {
    Entry e;
    e.path = join_path(prefix, c.name);
    e.st = c.st;
    e.dirfd = dirfd;
    e.name = c.name;
    Xattrs all;
    UniqueFd fd;
    if (S_ISDIR(c.st.st_mode) || S_ISREG(c.st.st_mode)) {
      KILN_TRY_ASSIGN(fd, open_entry(dirfd, c.name, S_ISDIR(c.st.st_mode), e.path));
      e.fd = fd.get();
    }
    if (!S_ISSOCK(c.st.st_mode)) {
      KILN_TRY_ASSIGN(e.xattrs, layer_xattrs(e.fd, dirfd, c.name, &all));
    }
    if (has_overlay_attr(all, "redirect")) {
      return Error(ErrorCode::unsupported, cat("directory `", e.path,
                                               "` in the overlay upper dir was renamed (overlay redirect_dir); "
                                               "kiln mounts overlay without redirect_dir and cannot write it"));
    }
    if (has_overlay_attr(all, "metacopy")) {
      return Error(ErrorCode::unsupported, cat("file `", e.path,
                                               "` in the overlay upper dir is a metadata-only copy (overlay metacopy); "
                                               "kiln mounts overlay without metacopy and cannot write it"));
    }
    if (S_ISREG(c.st.st_mode) && c.st.st_size == 0 && has_overlay_attr(all, "whiteout")) {
      return m_sink.whiteout(e.path);  // an xattr whiteout (overlay "xwhiteout", Linux 6.7)
    }
    KILN_TRY(m_sink.entry(e));
    if (S_ISDIR(c.st.st_mode)) {
      // "y" marks an opaque dir; "x" (Linux 6.7) only says it holds xattr whiteouts.
      if (has_overlay_attr(all, "opaque", "y")) {
        KILN_TRY(m_sink.opaque(e.path));
      }
      KILN_TRY(walk_dir(fd.get(), e.path));
    }
    return {};
  }

  EntrySink& m_sink;
};

}  // namespace

Result<void> walk_overlay_upper(const std::string& upper, EntrySink& sink) {
  int fd = ::open(upper.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return Error(err == ENOENT ? ErrorCode::not_found : ErrorCode::syscall,
                 cat("open overlay upper dir `", upper, "`"), err);
  }
  UniqueFd root(fd);
  KILN_TRY_ASSIGN(Xattrs all, read_xattrs_fd(root.get()));
  if (has_overlay_attr(all, "opaque", "y")) {
    KILN_TRY(sink.opaque(""));
  }
  return UpperWalker(sink).walk_dir(root.get(), "");
}

}  // namespace kiln::layers::detail
