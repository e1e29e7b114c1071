#include "layers/extract_entry.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "layers/snapshot_walk.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln::layers::detail {

namespace {

constexpr std::string_view k_opaque = ".wh..wh..opq";
constexpr std::string_view k_wh = ".wh.";

Error entry_error(const std::string& what, const std::string& path, int err = errno) {
  return Error(ErrorCode::syscall, cat(what, " `", path, "`"), err);
}

}  // namespace

Applier::Applier(SafeRoot& root, const ExtractOptions& options, ExtractResult& result)
    : m_root(root), m_options(options), m_result(result) {}

Applier::~Applier() = default;

Result<void> Applier::init() {
  if (m_options.mode != ExtractMode::overlay_lower) {
    return {};
  }
  for (const auto& dir : m_options.lower_dirs) {
    KILN_TRY_ASSIGN(SafeRoot lower, SafeRoot::open(dir));
    m_lowers.push_back(std::make_unique<SafeRoot>(std::move(lower)));
  }
  m_root.set_created_hook([this](const std::string& rel, int fd) { return copy_lower_dir_meta(rel, fd); });
  return {};
}

Applier::Meta Applier::meta_of(struct archive_entry* ae) {
  Meta m;
  m.type = archive_entry_mode(ae) & S_IFMT;
  m.mode = archive_entry_mode(ae) & 07777;
  m.size = archive_entry_size(ae);
  m.uid = static_cast<uid_t>(archive_entry_uid(ae));
  m.gid = static_cast<gid_t>(archive_entry_gid(ae));
  m.mtime.tv_sec = archive_entry_mtime(ae);
  m.mtime.tv_nsec = archive_entry_mtime_nsec(ae);
  archive_entry_xattr_reset(ae);
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  while (archive_entry_xattr_next(ae, &name, &value, &size) == ARCHIVE_OK) {
    if (!is_overlay_xattr(name)) {  // a layer must not steer kiln's overlay mounts
      m.xattrs.emplace_back(name, std::string(static_cast<const char*>(value), size));
    }
  }
  return m;
}

Result<void> Applier::apply(struct archive* a, struct archive_entry* ae) {
  const char* raw = archive_entry_pathname(ae);
  if (raw == nullptr) {
    return Error(ErrorCode::cache_corrupt, "refuse a tar entry without a name");
  }
  ++m_result.entries;
  KILN_TRY_ASSIGN(std::string path, clean_entry_path(raw));
  return apply_entry(a, ae, path).context(cat("extract `", raw, "`"));
}

Result<void> Applier::apply_entry(struct archive* a, struct archive_entry* ae, const std::string& path) {
  auto [parent, base] = split_parent(path);
  for (const auto& part : split(parent, '/')) {
    if (std::string_view(part).starts_with(k_wh)) {
      return Error(ErrorCode::invalid_input, cat("refuse entry below whiteout `", part, "`"));
    }
  }
  if (base == k_opaque) {
    return opaque(parent);
  }
  if (std::string_view(base).starts_with(k_wh)) {
    std::string target = base.substr(k_wh.size());
    if (target.empty() || target == "." || target == ".." || std::string_view(target).starts_with(k_wh)) {
      return Error(ErrorCode::invalid_input, cat("refuse whiteout of `", target, "`"));
    }
    return whiteout(parent, target);
  }
  Meta m = meta_of(ae);
  mode_t type = archive_entry_filetype(ae);
  if (path.empty()) {  // the root itself ("./")
    if (type != AE_IFDIR) {
      return Error(ErrorCode::invalid_input, "refuse a non-directory entry for the root");
    }
    KILN_TRY_ASSIGN(UniqueFd fd, m_root.open_dir_rdonly(""));
    KILN_TRY(own(fd.get(), -1, "", ".", m));
    m_dirs.push_back({"", m.mode, m.mtime});
    return {};
  }
  KILN_TRY_ASSIGN(int pfd, m_root.dir(parent, MissingDirs::create));
  m_written.insert(path);
  if (const char* target = archive_entry_hardlink(ae)) {
    return hardlink(pfd, base, path, target);
  }
  switch (type) {
    case AE_IFREG: return regular(a, pfd, base, path, m);
    case AE_IFDIR: return directory(pfd, base, path, m);
    case AE_IFLNK: return symlink(pfd, base, path, archive_entry_symlink(ae), m);
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO: return special(pfd, base, path, m, archive_entry_rdev(ae));
    default:
      log::debug("layers: skip `", path, "`: unsupported tar entry type ", type);
      m_written.erase(path);
      return {};
  }
}

// Clears `name` for a new entry: an existing non-directory is unlinked, an
// existing directory is removed unless the new entry is one too (keep_dir).
Result<void> Applier::make_room(int pfd, const std::string& name, bool keep_dir) {
  struct stat st {};
  if (::fstatat(pfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return errno == ENOENT ? Result<void>() : entry_error("stat", name);
  }
  if (S_ISDIR(st.st_mode)) {
    if (keep_dir) {
      return {};
    }
    m_root.invalidate();
    return remove_tree_at(pfd, name);
  }
  m_root.invalidate();
  if (::unlinkat(pfd, name.c_str(), 0) != 0 && errno != ENOENT) {
    return entry_error("remove", name);
  }
  return {};
}

Result<void> Applier::own(int fd, int dirfd, const std::string& name, const std::string& path, const Meta& m) {
  int rc = fd >= 0 ? ::fchown(fd, m.uid, m.gid) : ::fchownat(dirfd, name.c_str(), m.uid, m.gid, AT_SYMLINK_NOFOLLOW);
  if (rc == 0) {
    return {};
  }
  int err = errno;
  if (err != EPERM && err != EINVAL) {
    return entry_error("change owner of", path, err);
  }
  if (m_options.ownership_errors == OwnershipErrors::fail) {
    return Error(ErrorCode::syscall, cat("change owner of `", path, "` to ", m.uid, ":", m.gid), err)
        .with_hint("the ids are probably outside the user namespace: check /etc/subuid and /etc/subgid");
  }
  ++m_result.ownership_skipped;
  if (m_warned.insert("chown").second) {
    log::warning("layers: cannot set file owners (", m.uid, ":", m.gid, " for `", path,
                 "`); files keep the extracting user's ids");
  }
  return {};
}

void Applier::set_xattrs(int fd, int dirfd, const std::string& name, const Xattrs& xattrs) {
  for (const auto& [attr, value] : xattrs) {
    int err = fd >= 0 ? set_xattr_fd(fd, attr, value) : set_xattr_at(dirfd, name, attr, value);
    if (err != 0) {
      ++m_result.xattrs_skipped;
      if (m_warned.insert("xattr " + attr).second) {
        log::warning("layers: cannot set xattr `", attr, "` on `", name, "`: ", std::strerror(err),
                     " (further failures for it are not reported)");
      }
    }
  }
}

Result<void> Applier::regular(struct archive* a, int pfd, const std::string& name, const std::string& path,
                              const Meta& m) {
  int fd = ::openat(pfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 && errno == EEXIST) {
    KILN_TRY(make_room(pfd, name, false));
    fd = ::openat(pfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  }
  if (fd < 0) {
    return entry_error("create", path);
  }
  UniqueFd file(fd);
  const void* buf = nullptr;
  size_t size = 0;
  la_int64_t offset = 0;
  int64_t end = 0;
  for (;;) {
    int rc = archive_read_data_block(a, &buf, &size, &offset);
    if (rc == ARCHIVE_EOF) {
      break;
    }
    if (rc < ARCHIVE_WARN) {
      return Error(ErrorCode::cache_corrupt, cat("read data of `", path, "`: ", archive_error_string(a)));
    }
    const char* p = static_cast<const char*>(buf);
    for (size_t done = 0; done < size;) {  // pwrite: sparse entries leave holes
      ssize_t n = ::pwrite(fd, p + done, size - done, offset + static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        return entry_error("write", path);
      }
      done += static_cast<size_t>(n);
    }
    m_result.bytes_written += static_cast<int64_t>(size);
    end = std::max<int64_t>(end, offset + static_cast<int64_t>(size));
  }
  if (end < m.size && ::ftruncate(fd, m.size) != 0) {  // a sparse file ending in a hole
    return entry_error("truncate", path);
  }
  KILN_TRY(own(fd, -1, name, path, m));
  if (::fchmod(fd, m.mode) != 0) {  // after chown, which clears setuid/setgid
    return entry_error("change mode of", path);
  }
  set_xattrs(fd, -1, name, m.xattrs);  // after chown, which clears security.capability
  struct timespec times[2] = {m.mtime, m.mtime};
  if (::futimens(fd, times) != 0) {
    return entry_error("set times of", path);
  }
  ++m_result.files;
  return {};
}

Result<void> Applier::directory(int pfd, const std::string& name, const std::string& path, const Meta& m) {
  // Created owner-writable; the real mode is set in finish().
  if (::mkdirat(pfd, name.c_str(), 0700) != 0) {
    if (errno != EEXIST) {
      return entry_error("create directory", path);
    }
    KILN_TRY(make_room(pfd, name, true));
    if (::mkdirat(pfd, name.c_str(), 0700) != 0 && errno != EEXIST) {
      return entry_error("create directory", path);
    }
  }
  int fd = ::openat(pfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return entry_error("open directory", path);
  }
  UniqueFd dir(fd);
  KILN_TRY(own(fd, -1, name, path, m));
  if ((m.mode & 0700) != 0700 && ::fchmod(fd, m.mode | 0700) != 0) {
    return entry_error("change mode of", path);
  }
  set_xattrs(fd, -1, name, m.xattrs);
  m_dirs.push_back({path, m.mode, m.mtime});
  ++m_result.directories;
  return {};
}

Result<void> Applier::symlink(int pfd, const std::string& name, const std::string& path, const char* target,
                              const Meta& m) {
  if (target == nullptr) {
    return Error(ErrorCode::cache_corrupt, "refuse a symlink entry without a target");
  }
  // The target is stored as is: it is only ever followed confined to a root.
  if (::symlinkat(target, pfd, name.c_str()) != 0) {
    if (errno != EEXIST) {
      return entry_error("create symlink", path);
    }
    KILN_TRY(make_room(pfd, name, false));
    if (::symlinkat(target, pfd, name.c_str()) != 0) {
      return entry_error("create symlink", path);
    }
  }
  KILN_TRY(own(-1, pfd, name, path, m));
  set_xattrs(-1, pfd, name, m.xattrs);
  struct timespec times[2] = {m.mtime, m.mtime};
  if (::utimensat(pfd, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    return entry_error("set times of", path);
  }
  ++m_result.symlinks;
  return {};
}

Result<void> Applier::special(int pfd, const std::string& name, const std::string& path, const Meta& m, dev_t dev) {
  mode_t type = S_ISFIFO(m.type) ? S_IFIFO : S_ISBLK(m.type) ? S_IFBLK : S_IFCHR;
  int rc = ::mknodat(pfd, name.c_str(), type | 0600, type == S_IFIFO ? 0 : dev);
  if (rc != 0 && errno == EEXIST) {
    KILN_TRY(make_room(pfd, name, false));
    rc = ::mknodat(pfd, name.c_str(), type | 0600, type == S_IFIFO ? 0 : dev);
  }
  if (rc != 0 && (errno == EPERM || errno == EACCES) && type != S_IFIFO) {
    ++m_result.devices_skipped;
    m_written.erase(path);
    if (m_warned.insert("mknod").second) {
      log::warning("layers: cannot create device node `", path, "` (", std::strerror(errno),
                   "); device nodes are skipped");
    }
    return {};
  }
  if (rc != 0) {
    return entry_error("create special file", path);
  }
  KILN_TRY(own(-1, pfd, name, path, m));
  if (::fchmodat(pfd, name.c_str(), m.mode, 0) != 0) {
    return entry_error("change mode of", path);
  }
  set_xattrs(-1, pfd, name, m.xattrs);
  struct timespec times[2] = {m.mtime, m.mtime};
  if (::utimensat(pfd, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    return entry_error("set times of", path);
  }
  ++m_result.special_files;
  return {};
}

Result<void> Applier::finish() {
  for (auto it = m_dirs.rbegin(); it != m_dirs.rend(); ++it) {
    auto fd = m_root.open_dir_rdonly(it->path);
    if (!fd) {
      continue;  // removed or replaced later in the layer
    }
    struct timespec times[2] = {it->mtime, it->mtime};
    if (::fchmod(fd->get(), it->mode) != 0 || ::futimens(fd->get(), times) != 0) {
      return entry_error("set mode and times of directory", it->path.empty() ? "." : it->path);
    }
  }
  m_dirs.clear();
  return {};
}

}  // namespace kiln::layers::detail
