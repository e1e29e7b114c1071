#include "executor/mount_stubs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <set>

#include "executor/mounts.h"
#include "executor/safe_path.h"
#include "util/fd.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln::executor {

namespace {

// Opens the directory `rel` below root without following any symlink.
std::optional<UniqueFd> open_dir_beneath(int root_fd, const std::string& rel) {
  UniqueFd cur(::fcntl(root_fd, F_DUPFD_CLOEXEC, 3));
  for (const auto& part : path_components(rel)) {
    if (part == "..") {
      return std::nullopt;
    }
    int fd = ::openat(cur.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      return std::nullopt;
    }
    cur.reset(fd);
  }
  return cur;
}

std::string parent_of(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? "" : rel.substr(0, slash);
}

std::string base_of(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? rel : rel.substr(slash + 1);
}

std::optional<struct stat> lstat_beneath(const std::string& root, const std::string& rel) {
  UniqueFd root_fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd) {
    return std::nullopt;
  }
  auto dir = open_dir_beneath(root_fd.get(), parent_of(rel));
  struct stat st {};
  if (!dir || ::fstatat(dir->get(), base_of(rel).c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return std::nullopt;
  }
  return st;
}

bool is_empty_dir(int dir_fd) {
  int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    ::close(fd);
    return false;
  }
  bool empty = true;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") {
      empty = false;
      break;
    }
  }
  ::closedir(d);
  return empty;
}

// Removes parent/name (an empty file or empty dir), keeping parent's times.
bool remove_keeping_times(int parent_fd, const std::string& name, bool dir) {
  struct stat pst {};
  bool have_times = ::fstat(parent_fd, &pst) == 0;
  if (::unlinkat(parent_fd, name.c_str(), dir ? AT_REMOVEDIR : 0) != 0) {
    return false;
  }
  if (have_times) {
    struct timespec times[2] = {pst.st_atim, pst.st_mtim};
    ::futimens(parent_fd, times);
  }
  return true;
}

}  // namespace

MountStubCleaner MountStubCleaner::prepare(std::string stub_root, std::vector<std::string> lowers,
                                           const std::vector<std::string>& targets) {
  MountStubCleaner c;
  c.m_root = std::move(stub_root);
  c.m_lowers = std::move(lowers);
  for (const auto& target : targets) {
    for (std::string rel = relative_in_root(target); !rel.empty(); rel = parent_of(rel)) {
      if (c.m_before.count(rel) != 0) {
        continue;
      }
      auto st = lstat_beneath(c.m_root, rel);
      Before b;
      b.exists = st.has_value();
      b.whiteout = st && S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
      c.m_before.emplace(rel, b);
    }
  }
  return c;
}

Result<void> MountStubCleaner::cleanup(const std::vector<std::string>& created) const {
  UniqueFd root(::open(m_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root) {
    return Error::from_errno(cat("open `", m_root, "` to remove mount stubs"));
  }
  std::set<std::string> ancestors;
  for (auto it = created.rbegin(); it != created.rend(); ++it) {
    const std::string& rel = *it;
    auto parent = open_dir_beneath(root.get(), parent_of(rel));
    struct stat st {};
    if (!parent || ::fstatat(parent->get(), base_of(rel).c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      continue;  // already gone
    }
    bool dir = S_ISDIR(st.st_mode);
    if (dir) {
      auto self = open_dir_beneath(root.get(), rel);
      if (!self || !is_empty_dir(self->get())) {
        log::warning("sandbox: keep mount stub `/", rel, "`: the command put files in it");
        continue;
      }
    } else if (!S_ISREG(st.st_mode) || st.st_size != 0) {
      log::warning("sandbox: keep mount stub `/", rel, "`: it is no longer an empty file");
      continue;
    }
    if (!remove_keeping_times(parent->get(), base_of(rel), dir)) {
      return Error::from_errno(cat("remove mount stub `/", rel, "`"));
    }
    auto before = m_before.find(rel);
    if (before != m_before.end() && before->second.whiteout &&
        ::mknodat(parent->get(), base_of(rel).c_str(), S_IFCHR | 0, makedev(0, 0)) != 0) {
      return Error::from_errno(cat("restore the whiteout `/", rel, "`"));
    }
    for (std::string a = parent_of(rel); !a.empty(); a = parent_of(a)) {
      ancestors.insert(a);
    }
  }
  // Ancestors copied up only for a stub, deepest first.
  std::vector<std::string> order(ancestors.begin(), ancestors.end());
  std::sort(order.begin(), order.end(), [](const std::string& a, const std::string& b) {
    return std::count(a.begin(), a.end(), '/') > std::count(b.begin(), b.end(), '/');
  });
  for (const auto& rel : order) {
    auto before = m_before.find(rel);
    if (m_lowers.empty() || before == m_before.end() || before->second.exists ||
        std::find(created.begin(), created.end(), rel) != created.end()) {
      continue;
    }
    auto self = open_dir_beneath(root.get(), rel);
    char opaque[4];
    if (!self || !is_empty_dir(self->get()) || ::fgetxattr(self->get(), k_opaque_xattr, opaque, sizeof opaque) >= 0) {
      continue;
    }
    struct stat mine {};
    ::fstat(self->get(), &mine);
    for (const auto& lower : m_lowers) {
      auto theirs = lstat_beneath(lower, rel);
      if (!theirs) {
        continue;
      }
      if (S_ISDIR(theirs->st_mode) && theirs->st_mode == mine.st_mode && theirs->st_uid == mine.st_uid &&
          theirs->st_gid == mine.st_gid) {
        auto parent = open_dir_beneath(root.get(), parent_of(rel));
        if (parent && !remove_keeping_times(parent->get(), base_of(rel), true)) {
          return Error::from_errno(cat("remove copied-up directory `/", rel, "`"));
        }
      }
      break;
    }
  }
  return {};
}

}  // namespace kiln::executor
