#include "executor/safe_path.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "executor/syscalls.h"

namespace kiln::executor {

namespace {

constexpr int k_max_symlinks = 40;  // like the kernel's MAXSYMLINKS

Error path_error(std::string_view what, std::string_view path, int err) {
  ErrorCode code = (err == ENOENT || err == ENOTDIR) ? ErrorCode::not_found : ErrorCode::syscall;
  std::string msg(what);
  msg += " `";
  msg += path;
  msg += "` in the container root";
  return Error(code, std::move(msg), err);
}

// The fallback walk. `dirs` is the stack of directories from the root; the
// last one is the current directory.
Result<UniqueFd> walk_in_root(int root_fd, std::string_view path, int flags, FollowLast follow) {
  std::vector<UniqueFd> dirs;
  int root_dup = ::fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
  if (root_dup < 0) {
    return Error::from_errno("dup the root fd");
  }
  dirs.emplace_back(root_dup);
  std::vector<std::string> todo = path_components(path);
  std::reverse(todo.begin(), todo.end());  // pop from the back
  int links = 0;
  while (!todo.empty()) {
    std::string name = std::move(todo.back());
    todo.pop_back();
    if (name == "..") {
      if (dirs.size() > 1) {
        dirs.pop_back();
      }
      continue;
    }
    bool last = todo.empty();
    int fd = ::openat(dirs.back().get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      return path_error("open", path, errno);
    }
    UniqueFd cur(fd);
    struct stat st {};
    if (::fstat(cur.get(), &st) != 0) {
      return path_error("stat", path, errno);
    }
    if (S_ISLNK(st.st_mode) && (!last || follow == FollowLast::yes)) {
      if (++links > k_max_symlinks) {
        return path_error("resolve", path, ELOOP);
      }
      std::string target(PATH_MAX, '\0');
      ssize_t n = ::readlinkat(cur.get(), "", target.data(), target.size());
      if (n < 0) {
        return path_error("read link", path, errno);
      }
      target.resize(static_cast<size_t>(n));
      if (!target.empty() && target[0] == '/') {
        dirs.resize(1);
      }
      auto parts = path_components(target);
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
        todo.push_back(*it);
      }
      continue;
    }
    if (last) {
      if ((flags & O_PATH) != 0) {
        return cur;
      }
      // Reopen through the already-verified O_PATH fd.
      std::string proc = "/proc/self/fd/" + std::to_string(cur.get());
      int real = ::open(proc.c_str(), (flags & ~O_NOFOLLOW) | O_CLOEXEC);
      if (real < 0) {
        return path_error("open", path, errno);
      }
      return UniqueFd(real);
    }
    if (!S_ISDIR(st.st_mode)) {
      return path_error("open", path, ENOTDIR);
    }
    dirs.push_back(std::move(cur));
  }
  // The path named the root itself.
  if ((flags & O_PATH) != 0) {
    return std::move(dirs.back());
  }
  int real = ::openat(dirs.back().get(), ".", (flags & ~O_NOFOLLOW) | O_CLOEXEC);
  if (real < 0) {
    return path_error("open", path, errno);
  }
  return UniqueFd(real);
}

}  // namespace

Result<UniqueFd> open_in_root_by_walk(int root_fd, std::string_view path, int flags, FollowLast follow) {
  return walk_in_root(root_fd, path, flags, follow);
}

std::vector<std::string> path_components(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) {
      j = path.size();
    }
    std::string_view part = path.substr(i, j - i);
    if (!part.empty() && part != ".") {
      out.emplace_back(part);
    }
    i = j + 1;
  }
  return out;
}

std::string relative_in_root(std::string_view path) {
  std::vector<std::string> clean;
  for (auto& part : path_components(path)) {
    if (part == "..") {
      if (!clean.empty()) {
        clean.pop_back();
      }
    } else {
      clean.push_back(std::move(part));
    }
  }
  std::string out;
  for (const auto& part : clean) {
    if (!out.empty()) {
      out += '/';
    }
    out += part;
  }
  return out;
}

Result<UniqueFd> open_in_root(int root_fd, std::string_view path, int flags, FollowLast follow) {
  std::string rel = relative_in_root(path);
  if (rel.empty()) {
    rel = ".";
  }
  int oflags = flags | O_CLOEXEC;
  if (follow == FollowLast::no) {
    oflags |= O_NOFOLLOW;
  }
  int fd = sys::openat2(root_fd, rel.c_str(), static_cast<uint64_t>(oflags), 0,
                        RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (fd >= 0) {
    return UniqueFd(fd);
  }
  if (errno == ENOSYS || errno == EPERM) {
    return open_in_root_by_walk(root_fd, path, flags, follow);
  }
  return path_error("open", path, errno);
}

Result<UniqueFd> make_dirs_in_root(int root_fd, std::string_view path, mode_t mode,
                                   std::vector<std::string>* created) {
  std::string rel = relative_in_root(path);
  auto parts = path_components(rel);
  std::string prefix;
  UniqueFd dir;
  {
    KILN_TRY_ASSIGN(dir, open_in_root(root_fd, "/", O_PATH | O_DIRECTORY));
  }
  for (const auto& part : parts) {
    prefix = prefix.empty() ? part : prefix + "/" + part;
    auto next = open_in_root(root_fd, prefix, O_PATH | O_DIRECTORY);
    if (next) {
      dir = std::move(*next);
      continue;
    }
    if (next.error().code() != ErrorCode::not_found) {
      return std::move(next).error();
    }
    // Create it in the parent we already resolved, then resolve again so a
    // racing symlink swap cannot redirect the walk.
    if (::mkdirat(dir.get(), part.c_str(), mode) == 0) {
      if (created != nullptr) {
        created->push_back(prefix);
      }
    } else if (errno != EEXIST) {
      return path_error("create directory", prefix, errno);
    }
    KILN_TRY_ASSIGN(dir, open_in_root(root_fd, prefix, O_PATH | O_DIRECTORY));
  }
  return dir;
}

}  // namespace kiln::executor
