#include "solver/ops/copy_root.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <vector>

#include "util/strings.h"

namespace kiln::solver::ops::detail {

namespace {

constexpr int k_max_symlinks = 40;  // the kernel's MAXSYMLINKS

std::atomic<bool> g_force_walk{false};  // set_force_component_walk (tests)

long sys_openat2(int dirfd, const char* path, int flags, uint64_t resolve) {  // NOLINT(google-runtime-int)
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags);
  how.resolve = resolve;
  return ::syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

// openat2 in the root; -errno on failure. EAGAIN (a concurrent rename seen
// while resolving `..`) is retried a few times, as the kernel asks.
int openat2_in_root(int root, std::string_view path, int flags) {
  std::string p(path.empty() ? std::string_view(".") : path);
  for (int attempt = 0; attempt < 8; ++attempt) {
    long fd = sys_openat2(root, p.c_str(), flags | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);  // NOLINT
    if (fd >= 0) {
      return static_cast<int>(fd);
    }
    if (errno != EAGAIN) {
      return -errno;
    }
  }
  return -EAGAIN;
}

void push_components(std::deque<std::string>& queue, std::string_view path, bool front) {
  std::vector<std::string> parts;
  for (std::string& c : split(path, '/')) {
    if (!c.empty() && c != ".") {
      parts.push_back(std::move(c));
    }
  }
  if (front) {
    queue.insert(queue.begin(), parts.begin(), parts.end());
  } else {
    queue.insert(queue.end(), parts.begin(), parts.end());
  }
}

Error not_a_directory(std::string_view rel) {
  return Error(ErrorCode::invalid_input, cat("`", display_path(rel), "` is not a directory"), ENOTDIR);
}

// One level of the walk: a component and, while it exists, an O_PATH fd of
// it when it is a directory.
struct Level {
  std::string name;
  UniqueFd fd;         // valid for existing directories
  bool exists = false;
  struct stat st {};
};

std::string join_levels(const std::vector<Level>& levels) {
  std::string out;
  for (const Level& l : levels) {
    out = rel_join(out, l.name);
  }
  return out;
}

}  // namespace

std::string rel_dirname(std::string_view rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(rel.substr(0, slash));
}

std::string rel_basename(std::string_view rel) {
  size_t slash = rel.rfind('/');
  return std::string(slash == std::string_view::npos ? rel : rel.substr(slash + 1));
}

std::string rel_join(std::string_view a, std::string_view b) {
  if (a.empty()) {
    return std::string(b);
  }
  if (b.empty()) {
    return std::string(a);
  }
  return cat(a, "/", b);
}

std::string display_path(std::string_view rel) {
  while (!rel.empty() && rel[0] == '/') {
    rel.remove_prefix(1);
  }
  return cat("/", rel);
}

Result<RootDir> RootDir::open(const std::string& dir, bool force_walk) {
  int fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return Error(err == ENOENT ? ErrorCode::not_found : ErrorCode::syscall, cat("open directory `", dir, "`"), err);
  }
  return from_fd(UniqueFd(fd), dir, force_walk);
}

void set_force_component_walk(bool force) { g_force_walk = force; }

Result<RootDir> RootDir::from_fd(UniqueFd dir, std::string display, bool force_walk) {
  bool walk = force_walk || g_force_walk;
  if (!walk) {
    int probe = openat2_in_root(dir.get(), ".", O_PATH | O_DIRECTORY);
    if (probe == -ENOSYS || probe == -E2BIG || probe == -EPERM) {
      walk = true;  // no openat2 (or a seccomp filter refusing it)
    } else if (probe >= 0) {
      ::close(probe);
    }
  }
  return RootDir(std::move(dir), std::move(display), walk);
}

Result<Resolved> RootDir::resolve(std::string_view path, FollowLast follow) const {
  std::deque<std::string> queue;
  push_components(queue, path, false);
  std::vector<Level> levels;  // the components resolved so far
  int links = 0;
  while (!queue.empty()) {
    std::string c = std::move(queue.front());
    queue.pop_front();
    if (c == "..") {
      if (!levels.empty()) {
        levels.pop_back();
      }
      continue;
    }
    bool parent_exists = levels.empty() || (levels.back().exists && levels.back().fd.valid());
    if (!levels.empty() && levels.back().exists && !levels.back().fd.valid()) {
      return not_a_directory(join_levels(levels));
    }
    Level level;
    level.name = c;
    if (parent_exists) {
      int parent = levels.empty() ? m_fd.get() : levels.back().fd.get();
      if (::fstatat(parent, c.c_str(), &level.st, AT_SYMLINK_NOFOLLOW) == 0) {
        level.exists = true;
      } else if (errno != ENOENT) {
        return Error::from_errno(cat("stat `", display_path(rel_join(join_levels(levels), c)), "` in `", m_path, "`"));
      }
      if (level.exists && S_ISLNK(level.st.st_mode) && (!queue.empty() || follow == FollowLast::yes)) {
        if (++links > k_max_symlinks) {
          return Error(ErrorCode::invalid_input,
                       cat("resolve `", display_path(path), "` in `", m_path, "`: too many levels of symbolic links"),
                       ELOOP);
        }
        std::string target(static_cast<size_t>(level.st.st_size) + 1, '\0');
        ssize_t n = ::readlinkat(parent, c.c_str(), target.data(), target.size());
        if (n < 0) {
          return Error::from_errno(cat("read symlink `", display_path(rel_join(join_levels(levels), c)), "`"));
        }
        target.resize(static_cast<size_t>(n));
        if (!target.empty() && target[0] == '/') {
          levels.clear();  // absolute: from the root, never the host's
        }
        push_components(queue, target, true);
        continue;
      }
      if (level.exists && S_ISDIR(level.st.st_mode)) {
        int fd = ::openat(parent, c.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
          return Error::from_errno(cat("open `", display_path(rel_join(join_levels(levels), c)), "`"));
        }
        level.fd.reset(fd);
      }
    }
    levels.push_back(std::move(level));
  }
  Resolved out;
  out.rel = join_levels(levels);
  if (levels.empty()) {
    out.exists = true;
    if (::fstat(m_fd.get(), &out.st) != 0) {
      return Error::from_errno(cat("stat `", m_path, "`"));
    }
  } else {
    out.exists = levels.back().exists;
    out.st = levels.back().st;
  }
  return out;
}

Result<UniqueFd> RootDir::open_dir_walk(std::string_view path, int flags) const {
  KILN_TRY_ASSIGN(Resolved r, resolve(path, FollowLast::yes));
  if (!r.exists) {
    return Error(ErrorCode::not_found, cat("`", display_path(r.rel), "` not found in `", m_path, "`"), ENOENT);
  }
  if (!S_ISDIR(r.st.st_mode)) {
    return not_a_directory(r.rel);
  }
  // The canonical path has no symlinks; O_NOFOLLOW turns a symlink swapped in
  // since resolve() into an error instead of a way out.
  UniqueFd cur(::openat(m_fd.get(), ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  std::vector<std::string> parts = r.rel.empty() ? std::vector<std::string>() : split(r.rel, '/');
  for (size_t i = 0; i < parts.size(); ++i) {
    int f = i + 1 == parts.size() ? flags : O_PATH;
    int fd = ::openat(cur.get(), parts[i].c_str(), f | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      return Error::from_errno(cat("open directory `", display_path(r.rel), "` in `", m_path, "`"));
    }
    cur.reset(fd);
  }
  if (parts.empty() && flags != O_PATH) {
    int fd = ::openat(m_fd.get(), ".", flags | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      return Error::from_errno(cat("open directory `", m_path, "`"));
    }
    cur.reset(fd);
  }
  return cur;
}

Result<UniqueFd> RootDir::open_dir(std::string_view path, int flags) const {
  if (!m_walk) {
    int fd = openat2_in_root(m_fd.get(), path, flags | O_DIRECTORY);
    if (fd >= 0) {
      return UniqueFd(fd);
    }
    if (fd == -ENOENT) {
      return Error(ErrorCode::not_found, cat("`", display_path(path), "` not found in `", m_path, "`"),
                   ENOENT);
    }
    if (fd == -ENOTDIR) {
      return not_a_directory(path);
    }
    if (fd != -ELOOP && fd != -EXDEV && fd != -EAGAIN) {
      return Error::from_errno(cat("open directory `", display_path(path), "` in `", m_path, "`"), -fd);
    }
    // ELOOP/EXDEV/EAGAIN: let the walk give the precise answer.
  }
  return open_dir_walk(path, flags);
}

Result<UniqueFd> RootDir::open_file(std::string_view path, int flags) const {
  std::string rel(path);
  while (!rel.empty() && rel[0] == '/') {
    rel.erase(0, 1);
  }
  if (!m_walk) {
    int fd = openat2_in_root(m_fd.get(), rel, flags | O_NOFOLLOW);
    if (fd >= 0) {
      return UniqueFd(fd);
    }
    if (fd != -EXDEV && fd != -EAGAIN) {
      ErrorCode code = fd == -ENOENT ? ErrorCode::not_found : ErrorCode::syscall;
      return Error(code, cat("open `", display_path(rel), "` in `", m_path, "`"), -fd);
    }
  }
  KILN_TRY_ASSIGN(UniqueFd dir, open_dir_walk(rel_dirname(rel), O_PATH));
  std::string base = rel_basename(rel);
  int fd = ::openat(dir.get(), base.c_str(), flags | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return Error(err == ENOENT ? ErrorCode::not_found : ErrorCode::syscall,
                 cat("open `", display_path(rel), "` in `", m_path, "`"), err);
  }
  return UniqueFd(fd);
}

Result<UniqueFd> RootDir::make_dirs(std::string_view path, const CreatedHook& on_created) const {
  KILN_TRY_ASSIGN(Resolved r, resolve(path, FollowLast::yes));
  if (r.exists) {
    if (!S_ISDIR(r.st.st_mode)) {
      return not_a_directory(r.rel);
    }
    return open_dir(r.rel, O_RDONLY);
  }
  UniqueFd cur(::openat(m_fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cur) {
    return Error::from_errno(cat("open directory `", m_path, "`"));
  }
  std::string done;
  for (const std::string& part : split(r.rel, '/')) {
    done = rel_join(done, part);
    bool created = false;
    int fd = ::openat(cur.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
      if (::mkdirat(cur.get(), part.c_str(), 0755) != 0 && errno != EEXIST) {
        return Error::from_errno(cat("create directory `", display_path(done), "` in `", m_path, "`"));
      }
      created = true;
      fd = ::openat(cur.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
      if (errno == ENOTDIR || errno == ELOOP) {
        return not_a_directory(done);
      }
      return Error::from_errno(cat("open directory `", display_path(done), "` in `", m_path, "`"));
    }
    cur.reset(fd);
    if (created) {
      if (::fchmod(cur.get(), 0755) != 0) {  // the umask must not decide
        return Error::from_errno(cat("chmod `", display_path(done), "`"));
      }
      if (on_created) {
        KILN_TRY(on_created(cur.get(), done));
      }
    }
  }
  return cur;
}

}  // namespace kiln::solver::ops::detail
