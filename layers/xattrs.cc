#include "layers/xattrs.h"

#include <sys/xattr.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "util/strings.h"

namespace kiln::layers::detail {

bool is_overlay_xattr(std::string_view name) {
  return name.starts_with("trusted.overlay.") || name.starts_with("user.overlay.");
}

bool is_layer_xattr(std::string_view name) { return !is_overlay_xattr(name) && name != "security.selinux"; }

namespace {

// A path that names `name` inside `dirfd` without resolving anything but the
// final component: the /proc magic link stands for the directory itself.
std::string proc_path(int dirfd, const std::string& name) { return cat("/proc/self/fd/", dirfd, "/", name); }

bool unsupported(int err) { return err == ENOTSUP || err == ENODATA; }

// Splits a listxattr buffer and fetches each value with get(name, buf, size).
template <typename List, typename Get>
Result<Xattrs> read_all(List list, Get get, std::string_view what) {
  Xattrs out;
  std::string names;
  for (;;) {
    ssize_t n = list(nullptr, 0);
    if (n < 0) {
      return unsupported(errno) ? Result<Xattrs>(out) : Error::from_errno(cat("list xattrs of `", what, "`"));
    }
    if (n == 0) {
      return out;
    }
    names.resize(static_cast<size_t>(n));
    n = list(names.data(), names.size());
    if (n >= 0) {
      names.resize(static_cast<size_t>(n));
      break;
    }
    if (errno != ERANGE) {
      return Error::from_errno(cat("list xattrs of `", what, "`"));
    }
  }
  for (size_t pos = 0; pos < names.size();) {
    std::string name(names.c_str() + pos);
    pos += name.size() + 1;
    std::string value;
    for (;;) {
      ssize_t n = get(name.c_str(), nullptr, 0);
      if (n < 0 && errno == ENODATA) {
        break;  // removed meanwhile
      }
      if (n < 0) {
        return Error::from_errno(cat("read xattr `", name, "` of `", what, "`"));
      }
      value.resize(static_cast<size_t>(n));
      n = get(name.c_str(), value.data(), value.size());
      if (n >= 0) {
        value.resize(static_cast<size_t>(n));
        out.emplace_back(std::move(name), std::move(value));
        break;
      }
      if (errno != ERANGE) {
        return Error::from_errno(cat("read xattr `", name, "` of `", what, "`"));
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

Result<Xattrs> read_xattrs_fd(int fd) {
  return read_all([fd](char* buf, size_t size) { return ::flistxattr(fd, buf, size); },
                  [fd](const char* name, void* buf, size_t size) { return ::fgetxattr(fd, name, buf, size); },
                  cat("fd ", fd));
}

Result<Xattrs> read_xattrs_at(int dirfd, const std::string& name) {
  std::string path = proc_path(dirfd, name);
  return read_all([&](char* buf, size_t size) { return ::llistxattr(path.c_str(), buf, size); },
                  [&](const char* attr, void* buf, size_t size) { return ::lgetxattr(path.c_str(), attr, buf, size); },
                  name);
}

Result<std::optional<std::string>> get_xattr_fd(int fd, const char* name) {
  char buf[256];
  ssize_t n = ::fgetxattr(fd, name, buf, sizeof buf);
  if (n < 0) {
    if (unsupported(errno)) {
      return std::optional<std::string>();
    }
    return Error::from_errno(cat("read xattr `", name, "`"));
  }
  return std::optional<std::string>(std::string(buf, static_cast<size_t>(n)));
}

int set_xattr_fd(int fd, const std::string& name, std::string_view value) {
  return ::fsetxattr(fd, name.c_str(), value.data(), value.size(), 0) == 0 ? 0 : errno;
}

int set_xattr_at(int dirfd, const std::string& name, const std::string& attr, std::string_view value) {
  std::string path = proc_path(dirfd, name);
  return ::lsetxattr(path.c_str(), attr.c_str(), value.data(), value.size(), 0) == 0 ? 0 : errno;
}

}  // namespace kiln::layers::detail
