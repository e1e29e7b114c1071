// Applier, continued: hard links, whiteouts, opaque directories and what
// overlay_lower mode takes from the lower layers.
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>

#include "layers/extract_entry.h"
#include "layers/snapshot_walk.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln::layers::detail {

namespace {

std::string join_path(const std::string& parent, const std::string& name) {
  return parent.empty() ? name : cat(parent, "/", name);
}

}  // namespace

Result<void> Applier::hardlink(int pfd, const std::string& name, const std::string& path, const char* raw_target) {
  KILN_TRY_ASSIGN(std::string target, clean_entry_path(raw_target));
  ++m_result.hardlinks;
  if (target == path) {
    return {};  // a link to itself: nothing to do
  }
  if (target.empty()) {
    return Error(ErrorCode::invalid_input, "refuse a hard link to the root directory");
  }
  auto it = m_copied_from_lower.find(target);
  if (it != m_copied_from_lower.end()) {
    target = it->second;  // the lower file was already copied into this layer
  }
  auto [tparent, tbase] = split_parent(target);
  // The target's directory resolves inside the root like any entry's, so a
  // link to `/etc/passwd` means `<root>/etc/passwd`. Resolve it into an owned
  // fd: the cache may evict it when pfd is looked up.
  auto tdir = m_root.open_dir_rdonly(tparent);
  int rc = -1;
  int err = ENOENT;
  if (tdir) {
    rc = ::linkat(tdir->get(), tbase.c_str(), pfd, name.c_str(), 0);  // flags 0: a symlink target is not followed
    if (rc != 0 && errno == EEXIST) {
      KILN_TRY(make_room(pfd, name, false));
      rc = ::linkat(tdir->get(), tbase.c_str(), pfd, name.c_str(), 0);
    }
    err = errno;
  }
  if (rc == 0) {
    return {};
  }
  if (err == ENOENT && m_options.mode == ExtractMode::overlay_lower) {
    KILN_TRY_ASSIGN(bool copied, link_from_lower(pfd, name, path, target));
    if (copied) {
      return {};
    }
  }
  if (err == ENOENT) {
    return Error(ErrorCode::invalid_input, cat("hard link target `", raw_target, "` does not exist in the layer",
                                               m_options.mode == ExtractMode::overlay_lower ? " or its lower layers"
                                                                                            : " or the target"));
  }
  return Error(ErrorCode::syscall, cat("hard link to `", raw_target, "`"), err);
}

Result<void> Applier::copy_file_data(int from, int to, const std::string& path) {
  for (;;) {
    ssize_t n = ::copy_file_range(from, nullptr, to, nullptr, 1 << 30, 0);
    if (n == 0) {
      return {};
    }
    if (n > 0) {
      m_result.bytes_written += n;
      continue;
    }
    if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
      return Error::from_errno(cat("copy `", path, "` from a lower layer"));
    }
    // Filesystems without copy_file_range between them: sendfile.
    ssize_t m = ::sendfile(to, from, nullptr, 1 << 30);
    if (m < 0) {
      return Error::from_errno(cat("copy `", path, "` from a lower layer"));
    }
    if (m == 0) {
      return {};
    }
    m_result.bytes_written += m;
  }
}

// overlay_lower: the layer links to a file that lives in a lower layer. Two
// overlay layers cannot share an inode, so the file is copied (contents and
// metadata) to `path`; later links to the same target link to the copy.
Result<bool> Applier::link_from_lower(int pfd, const std::string& name, const std::string& path,
                                      const std::string& target) {
  auto [tparent, tbase] = split_parent(target);
  for (auto& lower : m_lowers) {
    auto ldir = lower->open_dir_rdonly(tparent);
    if (!ldir) {
      continue;
    }
    struct stat st {};
    if (::fstatat(ldir->get(), tbase.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      continue;
    }
    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
      return false;  // whited out in that lower layer: the target does not exist
    }
    Meta m;
    m.mode = st.st_mode & 07777;
    m.uid = st.st_uid;
    m.gid = st.st_gid;
    m.mtime = st.st_mtim;
    if (S_ISLNK(st.st_mode)) {
      std::string link(static_cast<size_t>(st.st_size) + 1, '\0');
      ssize_t n = ::readlinkat(ldir->get(), tbase.c_str(), link.data(), link.size());
      if (n < 0) {
        return Error::from_errno(cat("read symlink `", target, "` in lower layer `", lower->path(), "`"));
      }
      link.resize(static_cast<size_t>(n));
      KILN_TRY(symlink(pfd, name, path, link.c_str(), m));
    } else if (S_ISREG(st.st_mode)) {
      KILN_TRY_ASSIGN(UniqueFd from, open_entry(ldir->get(), tbase, false, target));
      KILN_TRY_ASSIGN(m.xattrs, layer_xattrs(from.get(), -1, tbase, nullptr));
      int fd = ::openat(pfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd < 0) {
        return Error::from_errno(cat("create `", path, "`"));
      }
      UniqueFd to(fd);
      KILN_TRY(copy_file_data(from.get(), fd, path));
      KILN_TRY(own(fd, -1, name, path, m));
      struct timespec times[2] = {m.mtime, m.mtime};
      if (::fchmod(fd, m.mode) != 0 || ::futimens(fd, times) != 0) {
        return Error::from_errno(cat("set mode and times of `", path, "`"));
      }
      set_xattrs(fd, -1, name, m.xattrs);
      ++m_result.files;
    } else {
      return Error(ErrorCode::invalid_input, cat("hard link target `", target, "` in a lower layer is not a file"));
    }
    m_copied_from_lower.emplace(target, path);
    return true;
  }
  return false;
}

// overlay_lower: a parent directory the layer does not list was created; give
// it the metadata of the same directory in the nearest lower layer, since the
// topmost layer's directory is what the overlay shows.
Result<void> Applier::copy_lower_dir_meta(const std::string& rel, int dirfd) {
  for (auto& lower : m_lowers) {
    auto ldir = lower->open_dir_rdonly(rel);
    if (!ldir) {
      continue;
    }
    struct stat st {};
    if (::fstat(ldir->get(), &st) != 0) {
      return Error::from_errno(cat("stat `", rel, "` in lower layer `", lower->path(), "`"));
    }
    Meta m;
    m.mode = st.st_mode & 07777;
    m.uid = st.st_uid;
    m.gid = st.st_gid;
    m.mtime = st.st_mtim;
    KILN_TRY_ASSIGN(m.xattrs, layer_xattrs(ldir->get(), -1, rel, nullptr));
    KILN_TRY(own(dirfd, -1, rel, rel, m));
    set_xattrs(dirfd, -1, rel, m.xattrs);
    m_dirs.push_back({rel, m.mode, m.mtime});
    return {};
  }
  return {};
}

Result<void> Applier::whiteout(const std::string& parent, const std::string& target) {
  std::string path = join_path(parent, target);
  ++m_result.whiteouts;
  // layer.md: a whiteout hides only what lower layers put there; an entry of
  // this same layer stays.
  if (m_written.count(path) != 0) {
    return {};
  }
  KILN_TRY_ASSIGN(int pfd, m_root.dir(parent, MissingDirs::create));
  if (m_options.mode == ExtractMode::merged) {
    m_root.invalidate();
    return remove_tree_at(pfd, target);
  }
  KILN_TRY(make_room(pfd, target, false));
  if (::mknodat(pfd, target.c_str(), S_IFCHR, makedev(0, 0)) != 0) {
    return Error::from_errno(cat("create whiteout `", path, "`"))
        .with_hint("overlay whiteouts are character devices 0/0, which Linux >= 5.8 lets any user create");
  }
  m_written.insert(path);
  return {};
}

Result<void> Applier::opaque(const std::string& dir) {
  ++m_result.opaque_dirs;
  KILN_TRY(m_root.dir(dir, MissingDirs::create));
  KILN_TRY_ASSIGN(UniqueFd fd, m_root.open_dir_rdonly(dir));
  if (m_options.mode == ExtractMode::overlay_lower) {
    int err = set_xattr_fd(fd.get(), "user.overlay.opaque", "y");
    if (err != 0) {
      return Error(ErrorCode::syscall, cat("mark directory `", dir.empty() ? "." : dir, "` opaque"), err)
          .with_hint("opaque directories need user xattrs on the layer store's filesystem");
    }
    return {};
  }
  // merged: remove what lower layers put in the directory, keep this layer's.
  KILN_TRY_ASSIGN(auto names, sorted_children(fd.get(), dir));
  m_root.invalidate();
  for (const auto& name : names) {
    if (m_written.count(join_path(dir, name)) == 0) {
      KILN_TRY(remove_tree_at(fd.get(), name));
    }
  }
  return {};
}

}  // namespace kiln::layers::detail
