#include "solver/ops/copy_place.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "util/log.h"
#include "util/strings.h"

namespace kiln::solver::ops::detail {

namespace {

constexpr size_t k_copy_buffer = 256 * 1024;

std::array<struct timespec, 2> times_of(const struct stat& st) { return {st.st_atim, st.st_mtim}; }

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Copies everything from src to dst: copy_file_range (in-kernel, reflinks
// where the filesystem can), read/write where it is refused.
Result<int64_t> copy_data(int src, int dst, const std::string& display) {
  int64_t total = 0;
  bool in_kernel = true;
  while (in_kernel) {
    ssize_t n = ::copy_file_range(src, nullptr, dst, nullptr, size_t{1} << 30, 0);
    if (n > 0) {
      total += n;
      continue;
    }
    if (n == 0 && total > 0) {
      return total;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP && errno != EBADF) {
      return Error::from_errno(cat("copy data to `", display, "`"));
    }
    in_kernel = false;  // refused, or 0 at the start (some filesystems): confirm with read()
  }
  thread_local std::vector<char> buf(k_copy_buffer);
  while (true) {
    ssize_t n = ::read(src, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return Error::from_errno(cat("read source of `", display, "`"));
    }
    if (n == 0) {
      return total;
    }
    for (ssize_t off = 0; off < n;) {
      ssize_t w = ::write(dst, buf.data() + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) {
        continue;
      }
      if (w < 0) {
        return Error::from_errno(cat("write `", display, "`"));
      }
      off += w;
    }
    total += n;
  }
}

Result<std::string> read_link(int dirfd, const std::string& name, size_t size_hint, const std::string& display) {
  std::string target(size_hint + 1, '\0');
  while (true) {
    ssize_t n = ::readlinkat(dirfd, name.c_str(), target.data(), target.size());
    if (n < 0) {
      return Error::from_errno(cat("read symlink `", display, "`"));
    }
    if (static_cast<size_t>(n) < target.size()) {
      target.resize(static_cast<size_t>(n));
      return target;
    }
    target.resize(target.size() * 2);
  }
}

}  // namespace

Result<void> set_owner(int fd, const std::string& name, uint32_t uid, uint32_t gid, const std::string& display,
                       ChownErrors policy, CopyWarnings& warned) {
  int rc = name.empty() ? ::fchown(fd, uid, gid) : ::fchownat(fd, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW);
  if (rc == 0) {
    return {};
  }
  int err = errno;
  if ((err == EPERM || err == EINVAL) && policy == ChownErrors::ignore) {
    if (!warned.chown) {
      warned.chown = true;
      log::warning("cannot chown `", display, "` to ", uid, ":", gid, " (", std::strerror(err),
                   "); files keep the copying user's ids (ignoring further ownership errors)");
    }
    return {};
  }
  Error e = Error::from_errno(cat("chown `", display, "` to ", uid, ":", gid), err);
  if (err == EINVAL) {
    e.with_hint("the id is not mapped in kiln's user namespace: give the user a range in /etc/subuid and /etc/subgid");
  }
  return e;
}

Result<void> copy_xattrs(int src_fd, int dst_fd, const std::string& display, CopyWarnings& warned) {
  std::vector<char> names(256);
  ssize_t n = ::flistxattr(src_fd, names.data(), names.size());
  if (n < 0 && errno == ERANGE) {
    n = ::flistxattr(src_fd, nullptr, 0);
    if (n > 0) {
      names.resize(static_cast<size_t>(n));
      n = ::flistxattr(src_fd, names.data(), names.size());
    }
  }
  if (n < 0) {
    if (errno == ENOTSUP || errno == EOPNOTSUPP) {
      return {};
    }
    return Error::from_errno(cat("list extended attributes of the source of `", display, "`"));
  }
  std::vector<char> value;
  for (size_t pos = 0; pos < static_cast<size_t>(n);) {
    std::string name(names.data() + pos);
    pos += name.size() + 1;
    if (starts_with(name, "trusted.overlay.") || starts_with(name, "user.overlay.")) {
      continue;  // overlayfs' own bookkeeping, never file content
    }
    ssize_t size = ::fgetxattr(src_fd, name.c_str(), nullptr, 0);
    if (size >= 0) {
      value.resize(static_cast<size_t>(size));
      size = ::fgetxattr(src_fd, name.c_str(), value.data(), value.size());
    }
    if (size < 0) {
      if (errno == ENODATA) {
        continue;  // removed meanwhile
      }
      return Error::from_errno(cat("read extended attribute `", name, "` of the source of `", display, "`"));
    }
    if (::fsetxattr(dst_fd, name.c_str(), value.data(), static_cast<size_t>(size), 0) != 0) {
      int err = errno;
      if (err != ENOTSUP && err != EOPNOTSUPP && err != EPERM && err != EACCES) {
        return Error::from_errno(cat("set extended attribute `", name, "` on `", display, "`"), err);
      }
      if (!warned.xattr) {
        warned.xattr = true;
        log::warning("cannot set extended attribute `", name, "` on `", display, "` (", std::strerror(err),
                     "); skipping attributes the destination refuses");
      }
    }
  }
  return {};
}

Result<bool> make_node(int dirfd, const std::string& name, mode_t mode, dev_t rdev, const std::string& display,
                       CopyWarnings& warned) {
  int rc = S_ISFIFO(mode) ? ::mkfifoat(dirfd, name.c_str(), 0600)
                          : ::mknodat(dirfd, name.c_str(), (mode & S_IFMT) | 0600, rdev);
  if (rc == 0) {
    return true;
  }
  int err = errno;
  if ((err == EPERM || err == EACCES) && (S_ISCHR(mode) || S_ISBLK(mode))) {
    if (!warned.device) {
      warned.device = true;
      log::warning("cannot create device `", display, "` (", std::strerror(err), "); skipping device nodes");
    }
    return false;
  }
  return Error::from_errno(cat("create `", display, "`"), err);
}

Result<void> clear_for_file(int dirfd, const std::string& name, const std::string& display) {
  struct stat st {};
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) {
      return {};
    }
    return Error::from_errno(cat("stat `", display, "`"));
  }
  if (S_ISDIR(st.st_mode)) {
    return Error(ErrorCode::invalid_input, cat("cannot replace directory `", display, "` with a file"), EISDIR);
  }
  if (::unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT) {
    return Error::from_errno(cat("remove `", display, "`"));
  }
  return {};
}

void Placer::set_dir_target(UniqueFd target, std::string target_rel) {
  m_dirs.clear();
  m_dirs.push_back(DestDir{std::move(target), std::move(target_rel)});
}

void Placer::set_leaf_target(UniqueFd parent, std::string parent_rel, std::string name) {
  m_leaf_parent = std::move(parent);
  m_leaf_parent_rel = std::move(parent_rel);
  m_leaf_name = std::move(name);
}

Result<void> Placer::on_created_dir(int fd, const std::string& rel) {
  if (!m_opts.owner) {
    return {};
  }
  return set_owner(fd, "", m_opts.owner->first, m_opts.owner->second, display_path(rel), m_opts.chown_errors,
                   m_warned);
}

std::pair<uint32_t, uint32_t> Placer::owner_of(const struct stat& st) const {
  if (m_opts.owner) {
    return *m_opts.owner;
  }
  if (m_opts.src_is_context) {
    return {0, 0};
  }
  return {st.st_uid, st.st_gid};
}

uint32_t Placer::mode_of(const struct stat& st) const {
  uint32_t perm = st.st_mode & 07777;
  return m_opts.chmod ? m_opts.chmod->apply(perm, S_ISDIR(st.st_mode)) : perm;
}

Result<void> Placer::enter_dir(const WalkEntry& e, int /*fd*/) {
  if (e.dest_rel.empty()) {
    return {};  // the item's target, opened by set_dir_target
  }
  const DestDir& parent = m_dirs.back();
  std::string rel = rel_join(parent.rel, e.name);
  struct stat st {};
  if (::fstatat(parent.fd.get(), e.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      return Error(ErrorCode::invalid_input, cat("cannot copy to non-directory: `", display_path(rel), "`"), ENOTDIR);
    }
  } else if (errno != ENOENT) {
    return Error::from_errno(cat("stat `", display_path(rel), "`"));
  } else if (::mkdirat(parent.fd.get(), e.name.c_str(), 0700) != 0) {
    return Error::from_errno(cat("create directory `", display_path(rel), "`"));
  }
  int fd = ::openat(parent.fd.get(), e.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return Error::from_errno(cat("open directory `", display_path(rel), "`"));
  }
  m_dirs.push_back(DestDir{UniqueFd(fd), std::move(rel)});
  ++m_stats.directories;
  return {};
}

Result<void> Placer::finish_dir(const WalkEntry& e, int src_fd, int dst_fd, const std::string& rel) {
  std::string display = display_path(rel);
  auto [uid, gid] = owner_of(e.st);
  KILN_TRY(set_owner(dst_fd, "", uid, gid, display, m_opts.chown_errors, m_warned));
  if (::fchmod(dst_fd, mode_of(e.st)) != 0) {
    return Error::from_errno(cat("chmod `", display, "`"));
  }
  KILN_TRY(copy_xattrs(src_fd, dst_fd, display, m_warned));
  auto times = times_of(e.st);
  if (::futimens(dst_fd, times.data()) != 0) {
    return Error::from_errno(cat("set times of `", display, "`"));
  }
  return {};
}

Result<void> Placer::leave_dir(const WalkEntry& e, int fd) {
  DestDir d = std::move(m_dirs.back());
  m_dirs.pop_back();
  if (!e.dest_rel.empty()) {
    return finish_dir(e, fd, d.fd.get(), d.rel);
  }
  // The target of a directory source keeps its mode and owner and takes the
  // source directory's times (BuildKit restores them after the copy).
  auto times = times_of(e.st);
  if (::futimens(d.fd.get(), times.data()) != 0) {
    return Error::from_errno(cat("set times of `", display_path(d.rel), "`"));
  }
  return {};
}

Result<void> Placer::leaf(const WalkEntry& e) {
  bool item = e.dest_rel.empty();
  int dirfd = item ? m_leaf_parent.get() : m_dirs.back().fd.get();
  const std::string& name = item ? m_leaf_name : e.name;
  std::string rel = rel_join(item ? m_leaf_parent_rel : m_dirs.back().rel, name);
  std::string display = display_path(rel);
  if (S_ISREG(e.st.st_mode)) {
    if (e.st.st_nlink > 1) {
      KILN_TRY_ASSIGN(bool linked, place_hard_link(e, dirfd, name, rel));
      if (linked) {
        return {};
      }
    }
    return place_file(e, dirfd, name, rel);
  }
  if (S_ISLNK(e.st.st_mode)) {
    return place_symlink(e, dirfd, name, rel);
  }
  KILN_TRY(clear_for_file(dirfd, name, display));
  KILN_TRY_ASSIGN(bool made, make_node(dirfd, name, e.st.st_mode, e.st.st_rdev, display, m_warned));
  if (!made) {
    return {};
  }
  auto [uid, gid] = owner_of(e.st);
  KILN_TRY(set_owner(dirfd, name, uid, gid, display, m_opts.chown_errors, m_warned));
  if (::fchmodat(dirfd, name.c_str(), mode_of(e.st), 0) != 0) {
    return Error::from_errno(cat("chmod `", display, "`"));
  }
  auto times = times_of(e.st);
  if (::utimensat(dirfd, name.c_str(), times.data(), AT_SYMLINK_NOFOLLOW) != 0) {
    return Error::from_errno(cat("set times of `", display, "`"));
  }
  return {};
}

Result<void> Placer::place_file(const WalkEntry& e, int dirfd, const std::string& name, const std::string& rel) {
  std::string display = display_path(rel);
  // O_NONBLOCK: a fifo swapped in since the walk must not hang the copy.
  int sfd = ::openat(e.parent_fd, e.name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (sfd < 0) {
    return Error::from_errno(cat("open copy source `", display_path(e.rel), "`"));
  }
  UniqueFd src(sfd);
  struct stat st {};
  if (::fstat(src.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Error(ErrorCode::io, cat("copy source `", display_path(e.rel), "` changed during the copy"));
  }
  // Create first and clear the way only when something is there: one
  // syscall per file in the common case of an empty target.
  int dfd = ::openat(dirfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (dfd < 0 && errno == EEXIST) {
    KILN_TRY(clear_for_file(dirfd, name, display));
    dfd = ::openat(dirfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  }
  if (dfd < 0) {
    return Error::from_errno(cat("create `", display, "`"));
  }
  UniqueFd dst(dfd);
  KILN_TRY_ASSIGN(int64_t bytes, copy_data(src.get(), dst.get(), display));
  auto [uid, gid] = owner_of(st);
  KILN_TRY(set_owner(dst.get(), "", uid, gid, display, m_opts.chown_errors, m_warned));
  if (::fchmod(dst.get(), mode_of(st)) != 0) {
    return Error::from_errno(cat("chmod `", display, "`"));
  }
  KILN_TRY(copy_xattrs(src.get(), dst.get(), display, m_warned));
  auto times = times_of(st);
  if (::futimens(dst.get(), times.data()) != 0) {
    return Error::from_errno(cat("set times of `", display, "`"));
  }
  if (st.st_nlink > 1) {
    struct stat dst_st {};
    if (::fstat(dst.get(), &dst_st) != 0) {
      return Error::from_errno(cat("stat `", display, "`"));
    }
    m_links[std::make_pair(st.st_dev, st.st_ino)] = FirstCopy{rel, dst_st.st_dev, dst_st.st_ino};
  }
  KILN_TRY(dst.close().context(cat("write `", display, "`")));
  ++m_stats.files;
  m_stats.bytes += bytes;
  return {};
}

// A later name of a source inode becomes a hard link to its first copy,
// unless that copy has been replaced since (then it is copied again).
Result<bool> Placer::place_hard_link(const WalkEntry& e, int dirfd, const std::string& name, const std::string& rel) {
  auto it = m_links.find(std::make_pair(e.st.st_dev, e.st.st_ino));
  if (it == m_links.end()) {
    return false;
  }
  const std::string& first = it->second.rel;
  Result<UniqueFd> parent = m_dest.open_dir(rel_dirname(first), O_PATH);
  if (!parent) {
    return false;
  }
  std::string base = rel_basename(first);
  struct stat st {};
  if (::fstatat(parent->get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_dev != it->second.dev ||
      st.st_ino != it->second.ino) {
    return false;
  }
  int rc = ::linkat(parent->get(), base.c_str(), dirfd, name.c_str(), 0);
  if (rc != 0 && errno == EEXIST) {
    KILN_TRY(clear_for_file(dirfd, name, display_path(rel)));
    rc = ::linkat(parent->get(), base.c_str(), dirfd, name.c_str(), 0);
  }
  if (rc != 0) {
    return Error::from_errno(cat("hard link `", display_path(rel), "` to `", display_path(first), "`"));
  }
  ++m_stats.files;
  return true;
}

Result<void> Placer::place_symlink(const WalkEntry& e, int dirfd, const std::string& name, const std::string& rel) {
  std::string display = display_path(rel);
  KILN_TRY_ASSIGN(std::string target,
                  read_link(e.parent_fd, e.name, static_cast<size_t>(e.st.st_size), display_path(e.rel)));
  int rc = ::symlinkat(target.c_str(), dirfd, name.c_str());
  if (rc != 0 && errno == EEXIST) {
    KILN_TRY(clear_for_file(dirfd, name, display));
    rc = ::symlinkat(target.c_str(), dirfd, name.c_str());
  }
  if (rc != 0) {
    return Error::from_errno(cat("create symlink `", display, "`"));
  }
  auto [uid, gid] = owner_of(e.st);
  KILN_TRY(set_owner(dirfd, name, uid, gid, display, m_opts.chown_errors, m_warned));
  auto times = times_of(e.st);
  if (::utimensat(dirfd, name.c_str(), times.data(), AT_SYMLINK_NOFOLLOW) != 0) {
    return Error::from_errno(cat("set times of `", display, "`"));
  }
  ++m_stats.symlinks;
  return {};
}

}  // namespace kiln::solver::ops::detail
