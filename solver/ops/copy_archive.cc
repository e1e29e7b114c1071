#include "solver/ops/copy_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <memory>
#include <vector>

#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln::solver::ops::detail {

namespace {

struct ArchiveFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<struct archive, ArchiveFree>;

Result<ArchivePtr> open_reader(int fd, const std::string& what) {
  if (::lseek(fd, 0, SEEK_SET) < 0) {
    return Error::from_errno(cat("seek `", what, "`"));
  }
  ArchivePtr a(archive_read_new());
  if (!a) {
    return Error(ErrorCode::internal, "allocate an archive reader");
  }
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_bzip2(a.get());
  archive_read_support_filter_xz(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_fd(a.get(), fd, 64 * 1024) != ARCHIVE_OK) {
    return Error(ErrorCode::io, cat("read archive `", what, "`: ", archive_error_string(a.get())));
  }
  return a;
}

// A tar entry name as a path below the extraction directory; "" is the
// directory itself. A name that leaves it is refused (Docker's breakoutError).
Result<std::string> entry_rel(const char* name, const std::string& what) {
  std::string_view n = name == nullptr ? std::string_view() : std::string_view(name);
  std::string c = path_clean(cat("./", n));
  if (c == ".." || c.rfind("../", 0) == 0) {
    return Error(ErrorCode::invalid_input,
                 cat("refuse entry `", n, "` of archive `", what, "`: it leads outside the destination"));
  }
  if (c == ".") {
    return std::string();
  }
  return c.rfind("./", 0) == 0 ? c.substr(2) : c;
}

const char* entry_name(struct archive_entry* e) {
  const char* n = archive_entry_pathname(e);
  return n != nullptr ? n : archive_entry_pathname_utf8(e);
}

std::array<struct timespec, 2> entry_times(struct archive_entry* e) {
  struct timespec m {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
  struct timespec a = m;
  if (archive_entry_atime_is_set(e) != 0) {
    a = {archive_entry_atime(e), archive_entry_atime_nsec(e)};
  }
  return {a, m};
}

Result<void> set_entry_xattrs(struct archive_entry* e, int fd, const std::string& display, CopyWarnings& warned) {
  archive_entry_xattr_reset(e);
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    std::string_view n = name;
    if (n.rfind("trusted.overlay.", 0) == 0 || n.rfind("user.overlay.", 0) == 0) {
      continue;
    }
    if (::fsetxattr(fd, name, value, size, 0) != 0) {
      int err = errno;
      if (err != ENOTSUP && err != EOPNOTSUPP && err != EPERM && err != EACCES) {
        return Error::from_errno(cat("set extended attribute `", n, "` on `", display, "`"), err);
      }
      if (!warned.xattr) {
        warned.xattr = true;
        log::warning("cannot set extended attribute `", n, "` on `", display, "`; skipping attributes refused");
      }
    }
  }
  return {};
}

// Directory metadata is applied after every entry is in place: a read-only
// mode would stop later entries, and adding entries changes the times.
struct DirMeta {
  std::string rel;
  uint32_t mode = 0;
  std::array<struct timespec, 2> times{};
};

class Extractor {
 public:
  Extractor(const RootDir& target, std::string what, ChownErrors policy, CopyStats& stats, CopyWarnings& warned)
      : m_target(target), m_what(std::move(what)), m_policy(policy), m_stats(stats), m_warned(warned) {}

  Result<void> entry(struct archive* a, struct archive_entry* e);
  Result<void> finish();

 private:
  Result<void> write_file(struct archive* a, struct archive_entry* e, int dirfd, const std::string& base,
                          const std::string& display);
  Result<void> hard_link(struct archive_entry* e, int dirfd, const std::string& base, const std::string& display);
  Result<void> owner(struct archive_entry* e, int fd, const std::string& name, const std::string& display) {
    return set_owner(fd, name, static_cast<uint32_t>(archive_entry_uid(e)), static_cast<uint32_t>(archive_entry_gid(e)),
                     display, m_policy, m_warned);
  }

  const RootDir& m_target;
  std::string m_what;
  ChownErrors m_policy;
  CopyStats& m_stats;
  CopyWarnings& m_warned;
  std::vector<DirMeta> m_dirs;
};

Result<void> Extractor::entry(struct archive* a, struct archive_entry* e) {
  KILN_TRY_ASSIGN(std::string rel, entry_rel(entry_name(e), m_what));
  mode_t type = archive_entry_filetype(e);
  if (rel.empty()) {
    return {};  // "./": the extraction directory itself is kept as it is
  }
  std::string display = cat(display_path(rel), " (from `", m_what, "`)");
  std::string base = rel_basename(rel);
  KILN_TRY_ASSIGN(UniqueFd parent, m_target.make_dirs(rel_dirname(rel), {}));
  struct stat st {};
  if (::fstatat(parent.get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !(S_ISDIR(st.st_mode) && type == AE_IFDIR)) {
    KILN_TRY(remove_tree_at(parent.get(), base));  // Docker's Untar replaces anything but dir onto dir
  }
  if (archive_entry_hardlink(e) != nullptr) {
    return hard_link(e, parent.get(), base, display);
  }
  if (type == AE_IFDIR) {
    if (::mkdirat(parent.get(), base.c_str(), 0700) != 0 && errno != EEXIST) {
      return Error::from_errno(cat("create directory `", display, "`"));
    }
    int fd = ::openat(parent.get(), base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      return Error::from_errno(cat("open directory `", display, "`"));
    }
    UniqueFd dir(fd);
    KILN_TRY(owner(e, dir.get(), "", display));
    KILN_TRY(set_entry_xattrs(e, dir.get(), display, m_warned));
    m_dirs.push_back(DirMeta{rel, static_cast<uint32_t>(archive_entry_perm(e)), entry_times(e)});
    ++m_stats.directories;
    return {};
  }
  if (type == AE_IFREG) {
    return write_file(a, e, parent.get(), base, display);
  }
  auto times = entry_times(e);
  if (type == AE_IFLNK) {
    const char* target = archive_entry_symlink(e);
    if (::symlinkat(target == nullptr ? "" : target, parent.get(), base.c_str()) != 0) {
      return Error::from_errno(cat("create symlink `", display, "`"));
    }
    KILN_TRY(owner(e, parent.get(), base, display));
    if (::utimensat(parent.get(), base.c_str(), times.data(), AT_SYMLINK_NOFOLLOW) != 0) {
      return Error::from_errno(cat("set times of `", display, "`"));
    }
    ++m_stats.symlinks;
    return {};
  }
  if (type != AE_IFCHR && type != AE_IFBLK && type != AE_IFIFO && type != AE_IFSOCK) {
    return {};  // nothing else can be placed
  }
  KILN_TRY_ASSIGN(bool made, make_node(parent.get(), base, type, archive_entry_rdev(e), display, m_warned));
  if (made) {
    KILN_TRY(owner(e, parent.get(), base, display));
    if (::fchmodat(parent.get(), base.c_str(), static_cast<mode_t>(archive_entry_perm(e)), 0) != 0 ||
        ::utimensat(parent.get(), base.c_str(), times.data(), AT_SYMLINK_NOFOLLOW) != 0) {
      return Error::from_errno(cat("set metadata of `", display, "`"));
    }
  }
  return {};
}

Result<void> Extractor::write_file(struct archive* a, struct archive_entry* e, int dirfd, const std::string& base,
                                   const std::string& display) {
  int fd = ::openat(dirfd, base.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error::from_errno(cat("create `", display, "`"));
  }
  UniqueFd out(fd);
  const void* buf = nullptr;
  size_t size = 0;
  la_int64_t offset = 0;
  int r = ARCHIVE_OK;
  while ((r = archive_read_data_block(a, &buf, &size, &offset)) == ARCHIVE_OK) {
    const char* p = static_cast<const char*>(buf);
    for (size_t done = 0; done < size;) {
      ssize_t w = ::pwrite(out.get(), p + done, size - done, static_cast<off_t>(offset) + static_cast<off_t>(done));
      if (w < 0 && errno == EINTR) {
        continue;
      }
      if (w < 0) {
        return Error::from_errno(cat("write `", display, "`"));
      }
      done += static_cast<size_t>(w);
    }
    m_stats.bytes += static_cast<int64_t>(size);
  }
  if (r != ARCHIVE_EOF) {
    return Error(ErrorCode::io, cat("read `", display, "`: ", archive_error_string(a)));
  }
  if (::ftruncate(out.get(), static_cast<off_t>(archive_entry_size(e))) != 0) {  // sparse tail
    return Error::from_errno(cat("write `", display, "`"));
  }
  KILN_TRY(owner(e, out.get(), "", display));
  if (::fchmod(out.get(), static_cast<mode_t>(archive_entry_perm(e))) != 0) {
    return Error::from_errno(cat("chmod `", display, "`"));
  }
  KILN_TRY(set_entry_xattrs(e, out.get(), display, m_warned));
  auto times = entry_times(e);
  if (::futimens(out.get(), times.data()) != 0) {
    return Error::from_errno(cat("set times of `", display, "`"));
  }
  KILN_TRY(out.close().context(cat("write `", display, "`")));
  ++m_stats.files;
  return {};
}

// A hard link names an earlier entry of the same archive, below the
// extraction directory; the link itself is never followed (link(2)).
Result<void> Extractor::hard_link(struct archive_entry* e, int dirfd, const std::string& base,
                                  const std::string& display) {
  KILN_TRY_ASSIGN(std::string link, entry_rel(archive_entry_hardlink(e), m_what));
  if (link.empty()) {
    return Error(ErrorCode::invalid_input, cat("refuse hard link `", display, "` to the extraction directory"));
  }
  KILN_TRY_ASSIGN(UniqueFd parent, m_target.open_dir(rel_dirname(link), O_PATH));
  std::string link_base = rel_basename(link);
  if (::linkat(parent.get(), link_base.c_str(), dirfd, base.c_str(), 0) != 0) {
    return Error::from_errno(cat("hard link `", display, "` to `", display_path(link), "`"));
  }
  ++m_stats.files;
  return {};
}

Result<void> Extractor::finish() {
  for (auto it = m_dirs.rbegin(); it != m_dirs.rend(); ++it) {
    Result<UniqueFd> parent = m_target.open_dir(rel_dirname(it->rel), O_PATH);
    if (!parent) {
      continue;  // replaced by a later entry
    }
    std::string base = rel_basename(it->rel);
    int fd = ::openat(parent->get(), base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      continue;
    }
    UniqueFd dir(fd);
    if (::fchmod(dir.get(), it->mode) != 0 || ::futimens(dir.get(), it->times.data()) != 0) {
      return Error::from_errno(cat("set metadata of `", display_path(it->rel), "` (from `", m_what, "`)"));
    }
  }
  return {};
}

}  // namespace

Result<bool> is_tar_archive(int fd, const std::string& what) {
  Result<ArchivePtr> a = open_reader(fd, what);
  if (!a && a.error().code() != ErrorCode::io) {
    return std::move(a).error();
  }
  int r = ARCHIVE_FATAL;  // libarchive refuses to open what it cannot recognise
  if (a) {
    struct archive_entry* e = nullptr;
    r = archive_read_next_header(a->get(), &e);
    a->reset();
  }
  if (::lseek(fd, 0, SEEK_SET) < 0) {
    return Error::from_errno(cat("seek `", what, "`"));
  }
  return r == ARCHIVE_OK || r == ARCHIVE_WARN;
}

Result<void> extract_archive(int fd, const RootDir& target, const std::string& what, ChownErrors policy,
                             CopyStats& stats, CopyWarnings& warned) {
  KILN_TRY_ASSIGN(ArchivePtr a, open_reader(fd, what));
  Extractor x(target, what, policy, stats, warned);
  while (true) {
    struct archive_entry* e = nullptr;
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) {
      break;
    }
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return Error(ErrorCode::io, cat("read archive `", what, "`: ", archive_error_string(a.get())));
    }
    KILN_TRY(x.entry(a.get(), e));
  }
  return x.finish();
}

}  // namespace kiln::solver::ops::detail
