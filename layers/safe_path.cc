#include "layers/safe_path.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/strings.h"

namespace kiln::layers::detail {

namespace {

constexpr size_t k_cache_max = 256;

long sys_openat2(int dirfd, const char* path, int flags, uint64_t resolve) {  // NOLINT(google-runtime-int)
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags);
  how.resolve = resolve;
  return ::syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

}  // namespace

Result<std::string> clean_entry_path(std::string_view name) {
  std::string out;
  size_t pos = 0;
  while (pos <= name.size()) {
    size_t slash = name.find('/', pos);
    if (slash == std::string_view::npos) {
      slash = name.size();
    }
    std::string_view part = name.substr(pos, slash - pos);
    pos = slash + 1;
    if (part.empty() || part == ".") {
      continue;
    }
    if (part == "..") {
      return Error(ErrorCode::invalid_input, cat("refuse tar entry `", name, "`: it contains `..`"));
    }
    if (!out.empty()) {
      out += '/';
    }
    out.append(part);
  }
  return out;
}

std::pair<std::string, std::string> split_parent(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    return {std::string(), path};
  }
  return {path.substr(0, slash), path.substr(slash + 1)};
}

Result<SafeRoot> SafeRoot::open(const std::string& dir, bool force_component_walk) {
  int fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return Error(err == ENOENT ? ErrorCode::not_found : ErrorCode::syscall, cat("open directory `", dir, "`"), err);
  }
  UniqueFd root(fd);
  bool walk = force_component_walk;
  if (!walk) {
    long probe = sys_openat2(root.get(), ".", O_PATH | O_DIRECTORY | O_CLOEXEC, RESOLVE_IN_ROOT);  // NOLINT
    if (probe < 0 && errno == ENOSYS) {
      walk = true;
    } else if (probe >= 0) {
      ::close(static_cast<int>(probe));
    }
  }
  return SafeRoot(std::move(root), dir, walk);
}

Result<UniqueFd> SafeRoot::resolve_walk(const std::string& rel, int flags) {
  UniqueFd cur(::dup(m_root.get()));
  std::string done;
  for (const auto& part : split(rel, '/')) {
    if (part.empty()) {
      continue;
    }
    int fd = ::openat(cur.get(), part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      struct stat st {};
      if (err == ENOTDIR && ::fstatat(cur.get(), part.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
        return Error(ErrorCode::invalid_input,
                     cat("refuse to follow symlink `", done.empty() ? part : done + "/" + part,
                         "` in a parent directory (openat2 is unavailable, so symlinks cannot be confined)"));
      }
      return Error(err == ENOENT ? ErrorCode::not_found : ErrorCode::invalid_input,
                   cat("open directory `", rel, "`"), err);
    }
    cur.reset(fd);
    done = done.empty() ? part : done + "/" + part;
  }
  if ((flags & O_PATH) == 0) {
    int fd = ::openat(cur.get(), ".", flags | O_CLOEXEC);
    if (fd < 0) {
      return Error::from_errno(cat("open directory `", rel, "`"));
    }
    cur.reset(fd);
  }
  return cur;
}

Result<UniqueFd> SafeRoot::resolve(const std::string& rel, int flags) {
  if (m_walk) {
    return resolve_walk(rel, flags);
  }
  const char* p = rel.empty() ? "." : rel.c_str();
  long fd = sys_openat2(m_root.get(), p, flags | O_DIRECTORY | O_CLOEXEC,  // NOLINT
                        RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (fd < 0) {
    int err = errno;
    return Error(err == ENOENT ? ErrorCode::not_found : ErrorCode::invalid_input, cat("open directory `", rel, "`"),
                 err);
  }
  return UniqueFd(static_cast<int>(fd));
}

Result<UniqueFd> SafeRoot::create_missing(const std::string& rel) {
  // Resolve the longest existing prefix, then create the rest one by one;
  // each new directory is reopened through the resolver.
  std::vector<std::string> parts = rel.empty() ? std::vector<std::string>() : split(rel, '/');
  std::string prefix;
  UniqueFd cur;
  KILN_TRY_ASSIGN(cur, resolve("", O_PATH));
  for (const auto& part : parts) {
    std::string next = prefix.empty() ? part : prefix + "/" + part;
    auto fd = resolve(next, O_PATH);
    if (!fd && fd.error().code() == ErrorCode::not_found) {
      if (::mkdirat(cur.get(), part.c_str(), 0755) != 0 && errno != EEXIST) {
        return Error::from_errno(cat("create directory `", next, "`"));
      }
      KILN_TRY_ASSIGN(cur, resolve(next, m_hook ? O_RDONLY : O_PATH));  // the hook needs a real fd
      if (m_hook) {
        KILN_TRY(m_hook(next, cur.get()));
      }
    } else if (!fd) {
      return std::move(fd).error();
    } else {
      cur = std::move(*fd);
    }
    prefix = next;
  }
  return cur;
}

Result<int> SafeRoot::dir(const std::string& rel, MissingDirs missing) {
  m_retired.clear();
  auto it = m_cache.find(rel);
  if (it != m_cache.end()) {
    return it->second.get();
  }
  auto fd = resolve(rel, O_PATH);
  if (!fd && fd.error().code() == ErrorCode::not_found && missing == MissingDirs::create) {
    fd = create_missing(rel);
  }
  if (!fd) {
    return std::move(fd).error();
  }
  if (m_cache.size() >= k_cache_max) {
    invalidate();
  }
  int raw = fd->get();
  m_cache.emplace(rel, std::move(*fd));
  return raw;
}

Result<UniqueFd> SafeRoot::open_dir_rdonly(const std::string& rel) { return resolve(rel, O_RDONLY); }

}  // namespace kiln::layers::detail
