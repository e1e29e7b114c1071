#include "util/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "util/strings.h"

namespace kiln {

Result<void> UniqueFd::close() {
  int fd = release();
  if (fd >= 0 && ::close(fd) != 0 && errno != EINTR) {
    return Error::from_errno("close");
  }
  return {};
}

static Error file_error(const std::string& what, const std::string& path, int err) {
  ErrorCode code = err == ENOENT ? ErrorCode::not_found : ErrorCode::io;
  return Error(code, cat(what, " `", path, "`"), err);
}

Result<UniqueFd> open_file(const std::string& path, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) {
    return file_error("open", path, errno);
  }
  return UniqueFd(fd);
}

Result<std::string> read_all(int fd) {
  std::string out;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Error(ErrorCode::io, "read", errno);
    }
    if (n == 0) {
      return out;
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

Result<size_t> read_full(int fd, char* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::read(fd, buf + got, n - got);
    if (r < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Error(ErrorCode::io, "read", errno);
    }
    if (r == 0) {
      break;
    }
    got += static_cast<size_t>(r);
  }
  return got;
}

Result<void> write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Error(ErrorCode::io, "write", errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Result<std::string> read_file(const std::string& path) {
  KILN_TRY_ASSIGN(auto fd, open_file(path, O_RDONLY));
  auto r = read_all(fd.get());
  if (!r) {
    return file_error("read", path, r.error().sys_errno());
  }
  return r;
}

Result<std::optional<std::string>> read_file_if_exists(const std::string& path) {
  auto r = read_file(path);
  if (!r) {
    if (r.error().code() == ErrorCode::not_found) {
      return std::optional<std::string>();
    }
    return std::move(r).error();
  }
  return std::optional<std::string>(std::move(*r));
}

Result<void> write_file(const std::string& path, std::string_view data, mode_t mode) {
  KILN_TRY_ASSIGN(auto fd, open_file(path, O_WRONLY | O_CREAT | O_TRUNC, mode));
  KILN_TRY(write_all(fd.get(), data).context(cat("write `", path, "`")));
  return fd.close().context(cat("close `", path, "`"));
}

Result<void> make_dirs(const std::string& path, mode_t mode) {
  if (path.empty()) {
    return {};
  }
  if (::mkdir(path.c_str(), mode) == 0) {
    return {};
  }
  int err = errno;
  if (err == EEXIST) {
    if (is_directory(path)) {
      return {};
    }
    return Error(ErrorCode::io, cat("create directory `", path, "`: a non-directory is in the way"));
  }
  if (err != ENOENT) {
    return file_error("create directory", path, err);
  }
  std::string parent = path_dirname(path);
  if (parent != path) {
    KILN_TRY(make_dirs(parent, mode));
  }
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
    return file_error("create directory", path, errno);
  }
  return {};
}

static Result<void> remove_contents(int dirfd, const std::string& shown) {
  int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) {
    return Error::from_errno("dup");
  }
  DIR* dir = ::fdopendir(dup);
  if (dir == nullptr) {
    ::close(dup);
    return file_error("open directory", shown, errno);
  }
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(dir)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
      names.emplace_back(e->d_name);
    }
  }
  ::closedir(dir);
  for (const auto& name : names) {
    KILN_TRY(remove_tree_at(dirfd, name));
  }
  return {};
}

Result<void> remove_tree_at(int dirfd, const std::string& name) {
  if (::unlinkat(dirfd, name.c_str(), 0) == 0 || errno == ENOENT) {
    return {};
  }
  if (errno != EISDIR && errno != EPERM) {
    // EACCES: the parent is read-only; make it writable and retry once.
    if (errno == EACCES && ::fchmod(dirfd, 0700) == 0 && ::unlinkat(dirfd, name.c_str(), 0) == 0) {
      return {};
    }
    if (errno != EISDIR && errno != EPERM && errno != EACCES) {
      return file_error("remove", name, errno);
    }
  }
  int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == EACCES) {
    ::fchmodat(dirfd, name.c_str(), 0700, 0);
    fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd < 0) {
    return file_error("open directory", name, errno);
  }
  UniqueFd owned(fd);
  ::fchmod(fd, 0700);
  KILN_TRY(remove_contents(fd, name));
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return file_error("remove directory", name, errno);
  }
  return {};
}

Result<void> remove_tree(const std::string& path) {
  std::string clean = path_clean(path);
  std::string parent = path_dirname(clean);
  std::string base = path_basename(clean);
  if (base == "/" || base == "." || base == "..") {
    return Error(ErrorCode::internal, cat("refusing to remove `", path, "`"));
  }
  int pfd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (pfd < 0) {
    if (errno == ENOENT) {
      return {};
    }
    return file_error("open directory", parent, errno);
  }
  UniqueFd owned(pfd);
  return remove_tree_at(pfd, base).context(cat("remove `", path, "`"));
}

Result<std::optional<struct stat>> lstat_path(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return std::optional<struct stat>();
    }
    return file_error("stat", path, errno);
  }
  return std::optional<struct stat>(st);
}

bool path_exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<void> fsync_dir(const std::string& dir) {
  KILN_TRY_ASSIGN(auto fd, open_file(dir, O_RDONLY | O_DIRECTORY));
  if (::fsync(fd.get()) != 0) {
    return file_error("fsync", dir, errno);
  }
  return {};
}

std::string path_join(std::string_view a, std::string_view b) {
  if (a.empty()) {
    return std::string(b);
  }
  if (b.empty()) {
    return std::string(a);
  }
  std::string out(a);
  while (out.size() > 1 && out.back() == '/') {
    out.pop_back();
  }
  while (!b.empty() && b.front() == '/') {
    b.remove_prefix(1);
  }
  if (out != "/") {
    out.push_back('/');
  }
  out.append(b);
  return out;
}

std::string path_dirname(std::string_view p) {
  while (p.size() > 1 && p.back() == '/') {
    p.remove_suffix(1);
  }
  size_t pos = p.rfind('/');
  if (pos == std::string_view::npos) {
    return ".";
  }
  if (pos == 0) {
    return "/";
  }
  return std::string(p.substr(0, pos));
}

std::string path_basename(std::string_view p) {
  while (p.size() > 1 && p.back() == '/') {
    p.remove_suffix(1);
  }
  size_t pos = p.rfind('/');
  if (pos == std::string_view::npos || p == "/") {
    return std::string(p);
  }
  return std::string(p.substr(pos + 1));
}

std::string path_clean(std::string_view p) {
  if (p.empty()) {
    return ".";
  }
  bool rooted = p.front() == '/';
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) {
      j = p.size();
    }
    std::string_view comp = p.substr(i, j - i);
    if (comp.empty() || comp == ".") {
      // skip
    } else if (comp == "..") {
      if (!out.empty() && out.back() != "..") {
        out.pop_back();
      } else if (!rooted) {
        out.push_back(comp);
      }
    } else {
      out.push_back(comp);
    }
    i = j + 1;
  }
  std::string res = rooted ? "/" : "";
  for (size_t k = 0; k < out.size(); ++k) {
    if (k > 0) {
      res.push_back('/');
    }
    res.append(out[k]);
  }
  if (res.empty()) {
    return ".";
  }
  return res;
}

std::string absolute_path(const std::string& path) {
  if (!path.empty() && path.front() == '/') {
    return path_clean(path);
  }
  char buf[PATH_MAX];
  if (::getcwd(buf, sizeof buf) == nullptr) {
    return path_clean(path);
  }
  return path_clean(path_join(buf, path));
}

Result<std::vector<std::string>> list_dir(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) {
    return file_error("open directory", path, errno);
  }
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(dir)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
      names.emplace_back(e->d_name);
    }
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

static Result<uint64_t> tree_size_at(int dirfd) {
  int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  DIR* dir = dup < 0 ? nullptr : ::fdopendir(dup);
  if (dir == nullptr) {
    if (dup >= 0) {
      ::close(dup);
    }
    return Error::from_errno("open directory");
  }
  uint64_t total = 0;
  while (struct dirent* e = ::readdir(dir)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) {
      continue;
    }
    struct stat st {};
    if (::fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      continue;
    }
    if (S_ISREG(st.st_mode)) {
      total += static_cast<uint64_t>(st.st_size);
    } else if (S_ISDIR(st.st_mode)) {
      int sub = ::openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0) {
        UniqueFd owned(sub);
        auto r = tree_size_at(sub);
        if (r) {
          total += *r;
        }
      }
    }
  }
  ::closedir(dir);
  return total;
}

Result<uint64_t> tree_size(const std::string& path) {
  KILN_TRY_ASSIGN(auto fd, open_file(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  return tree_size_at(fd.get());
}

}  // namespace kiln
