// The vfs storage driver (copy_lowers_to) and normalize_upper_dir: the two
// tree walks over the seam format described in mounts.h.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <map>
#include <utility>

#include "executor/mounts.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln::executor {

namespace {

constexpr std::string_view k_wh_prefix = ".wh.";
constexpr std::string_view k_wh_opaque = ".wh..wh..opq";

bool is_whiteout(const struct stat& st) {
  return S_ISCHR(st.st_mode) && major(st.st_rdev) == 0 && minor(st.st_rdev) == 0;
}

// Directory entries of an open directory fd, sorted (deterministic order).
Result<std::vector<std::string>> entries_of(int dir_fd) {
  int dup = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup < 0) {
    return Error::from_errno("open directory");
  }
  DIR* d = ::fdopendir(dup);
  if (d == nullptr) {
    ::close(dup);
    return Error::from_errno("read directory");
  }
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") {
      names.emplace_back(n);
    }
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

Result<UniqueFd> open_dir_at(int parent, const std::string& name) {
  int fd = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return Error::from_errno(cat("open directory `", name, "`"));
  }
  return UniqueFd(fd);
}

std::optional<std::string> get_xattr(int fd, const char* name) {
  char buf[16];
  ssize_t n = ::fgetxattr(fd, name, buf, sizeof buf);
  if (n < 0) {
    return std::nullopt;
  }
  return std::string(buf, static_cast<size_t>(n));
}

bool is_overlay_xattr(std::string_view name) {
  return name.rfind("user.overlay.", 0) == 0 || name.rfind("trusted.overlay.", 0) == 0 ||
         name.rfind("user.fuseoverlayfs.", 0) == 0;
}

// Copies xattrs other than overlay's own markers (path-based, so it works for
// symlinks too).
void copy_xattrs(const std::string& src, const std::string& dst) {
  ssize_t size = ::llistxattr(src.c_str(), nullptr, 0);
  if (size <= 0) {
    return;
  }
  std::string names(static_cast<size_t>(size), '\0');
  size = ::llistxattr(src.c_str(), names.data(), names.size());
  for (size_t i = 0; size > 0 && i < static_cast<size_t>(size);) {
    const char* name = names.c_str() + i;
    i += std::strlen(name) + 1;
    if (is_overlay_xattr(name)) {
      continue;
    }
    std::string value(65536, '\0');
    ssize_t n = ::lgetxattr(src.c_str(), name, value.data(), value.size());
    if (n >= 0 && ::lsetxattr(dst.c_str(), name, value.data(), static_cast<size_t>(n), 0) != 0) {
      log::debug("vfs: keep going without xattr `", name, "` on `", dst, "`: ", std::strerror(errno));
    }
  }
}

Result<void> copy_file_data(int src_dir, const std::string& name, int dst_dir, const struct stat& st) {
  int in = ::openat(src_dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0) {
    return Error::from_errno(cat("open `", name, "`"));
  }
  UniqueFd src(in);
  int out = ::openat(dst_dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0) {
    return Error::from_errno(cat("create `", name, "`"));
  }
  UniqueFd dst(out);
  off_t left = st.st_size;
  while (left > 0) {
    ssize_t n = ::copy_file_range(src.get(), nullptr, dst.get(), nullptr, static_cast<size_t>(left), 0);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n == 0) {
        break;
      }
      // Different filesystems on old kernels: plain read/write.
      KILN_TRY_ASSIGN(std::string data, read_all(src.get()));
      KILN_TRY(write_all(dst.get(), data));
      break;
    }
    left -= n;
  }
  return {};
}

struct CopyState {
  std::map<std::pair<dev_t, ino_t>, std::string> links;  // first copy of each inode
  std::string src_root;
  std::string dst_root;
};

Result<void> set_metadata(int dst_dir, const std::string& name, const struct stat& st) {
  if (::fchownat(dst_dir, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0) {
    return Error::from_errno(cat("chown `", name, "` to ", st.st_uid, ":", st.st_gid));
  }
  if (!S_ISLNK(st.st_mode) && ::fchmodat(dst_dir, name.c_str(), st.st_mode & 07777, 0) != 0) {
    return Error::from_errno(cat("chmod `", name, "`"));
  }
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (::utimensat(dst_dir, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    return Error::from_errno(cat("set times of `", name, "`"));
  }
  return {};
}

Result<void> apply_layer_dir(CopyState& state, int src_dir, int dst_dir, const std::string& rel);

Result<void> apply_entry(CopyState& state, int src_dir, int dst_dir, const std::string& rel,
                         const std::string& name) {
  struct stat st {};
  if (::fstatat(src_dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return Error::from_errno(cat("stat `", rel, name, "`"));
  }
  struct stat cur {};
  bool exists = ::fstatat(dst_dir, name.c_str(), &cur, AT_SYMLINK_NOFOLLOW) == 0;
  bool keep_dir = exists && S_ISDIR(cur.st_mode) && S_ISDIR(st.st_mode);
  if (exists && !keep_dir) {
    KILN_TRY(remove_tree_at(dst_dir, name));
  }
  if (is_whiteout(st)) {
    return {};
  }
  std::string src_path = path_join(path_join(state.src_root, rel), name);
  std::string dst_path = path_join(path_join(state.dst_root, rel), name);
  if (S_ISDIR(st.st_mode)) {
    KILN_TRY_ASSIGN(UniqueFd sub_src, open_dir_at(src_dir, name));
    if (keep_dir && get_xattr(sub_src.get(), k_opaque_xattr) == "y") {
      KILN_TRY(remove_tree_at(dst_dir, name));
      keep_dir = false;
    }
    if (!keep_dir && ::mkdirat(dst_dir, name.c_str(), 0700) != 0) {
      return Error::from_errno(cat("create directory `", rel, name, "`"));
    }
    KILN_TRY_ASSIGN(UniqueFd sub_dst, open_dir_at(dst_dir, name));
    KILN_TRY(apply_layer_dir(state, sub_src.get(), sub_dst.get(), rel + name + "/"));
  } else if (st.st_nlink > 1 && state.links.count({st.st_dev, st.st_ino}) != 0) {
    const std::string& first = state.links[{st.st_dev, st.st_ino}];
    if (::linkat(AT_FDCWD, first.c_str(), dst_dir, name.c_str(), 0) != 0) {
      return Error::from_errno(cat("link `", rel, name, "`"));
    }
    return {};
  } else if (S_ISREG(st.st_mode)) {
    KILN_TRY(copy_file_data(src_dir, name, dst_dir, st));
  } else if (S_ISLNK(st.st_mode)) {
    std::string target(PATH_MAX, '\0');
    ssize_t n = ::readlinkat(src_dir, name.c_str(), target.data(), target.size());
    if (n < 0) {
      return Error::from_errno(cat("read link `", rel, name, "`"));
    }
    target.resize(static_cast<size_t>(n));
    if (::symlinkat(target.c_str(), dst_dir, name.c_str()) != 0) {
      return Error::from_errno(cat("create symlink `", rel, name, "`"));
    }
  } else if (::mknodat(dst_dir, name.c_str(), st.st_mode, st.st_rdev) != 0) {
    // Real device nodes cannot be created in a user namespace.
    log::warning("vfs: skip device `/", rel, name, "`: ", std::strerror(errno));
    return {};
  }
  if (st.st_nlink > 1 && !S_ISDIR(st.st_mode)) {
    state.links[{st.st_dev, st.st_ino}] = dst_path;
  }
  copy_xattrs(src_path, dst_path);
  return set_metadata(dst_dir, name, st);
}

Result<void> apply_layer_dir(CopyState& state, int src_dir, int dst_dir, const std::string& rel) {
  KILN_TRY_ASSIGN(auto names, entries_of(src_dir));
  for (const auto& name : names) {
    KILN_TRY(apply_entry(state, src_dir, dst_dir, rel, name).context(cat("copy `/", rel, name, "`")));
  }
  return {};
}

// Converts fuse-overlayfs markers below one directory (see mounts.h).
Result<void> normalize_dir(int dir_fd, const std::string& rel) {
  KILN_TRY_ASSIGN(auto names, entries_of(dir_fd));
  for (const auto& name : names) {
    if (name == k_wh_opaque) {
      if (::unlinkat(dir_fd, name.c_str(), 0) != 0 ||
          ::fsetxattr(dir_fd, k_opaque_xattr, "y", 1, 0) != 0) {
        return Error::from_errno(cat("mark `/", rel, "` opaque"));
      }
      continue;
    }
    struct stat st {};
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return Error::from_errno(cat("stat `/", rel, name, "`"));
    }
    if (name.size() > k_wh_prefix.size() && name.rfind(k_wh_prefix, 0) == 0) {
      // A `.wh.NAME` file whites out NAME. fuse-overlayfs also leaves 0/0
      // devices named `.wh.*` that hide its own marker files: drop those.
      std::string victim = name.substr(k_wh_prefix.size());
      if (::unlinkat(dir_fd, name.c_str(), 0) != 0) {
        return Error::from_errno(cat("remove `/", rel, name, "`"));
      }
      if (!is_whiteout(st) && ::mknodat(dir_fd, victim.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0 && errno != EEXIST) {
        return Error::from_errno(cat("convert whiteout `/", rel, name, "`"));
      }
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      KILN_TRY_ASSIGN(UniqueFd sub, open_dir_at(dir_fd, name));
      for (const char* other : {"user.fuseoverlayfs.opaque", "trusted.overlay.opaque"}) {
        if (get_xattr(sub.get(), other) == "y") {
          ::fremovexattr(sub.get(), other);
          if (::fsetxattr(sub.get(), k_opaque_xattr, "y", 1, 0) != 0) {
            return Error::from_errno(cat("mark `/", rel, name, "` opaque"));
          }
        }
      }
      KILN_TRY(normalize_dir(sub.get(), rel + name + "/"));
    }
  }
  return {};
}

}  // namespace

Result<void> copy_lowers_to(const std::vector<std::string>& lowers, const std::string& dest) {
  KILN_TRY_ASSIGN(UniqueFd dst, open_file(dest, O_RDONLY | O_DIRECTORY));
  for (auto it = lowers.rbegin(); it != lowers.rend(); ++it) {
    KILN_TRY_ASSIGN(UniqueFd src, open_file(*it, O_RDONLY | O_DIRECTORY));
    CopyState state;
    state.src_root = *it;
    state.dst_root = dest;
    KILN_TRY(apply_layer_dir(state, src.get(), dst.get(), "").context(cat("apply layer `", *it, "`")));
    struct stat st {};
    if (::fstat(src.get(), &st) == 0) {
      KILN_TRY(set_metadata(dst.get(), ".", st));
    }
  }
  return {};
}

Result<void> normalize_upper_dir(const std::string& upper) {
  KILN_TRY_ASSIGN(UniqueFd dir, open_file(upper, O_RDONLY | O_DIRECTORY));
  return normalize_dir(dir.get(), "").context(cat("normalize upper dir `", upper, "`"));
}

}  // namespace kiln::executor
