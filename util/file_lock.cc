#include "util/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>

#include "util/file.h"
#include "util/strings.h"

namespace kiln {

static Result<UniqueFd> open_lock_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 && (errno == EACCES || errno == EROFS)) {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0) {
    return Error(errno == ENOENT ? ErrorCode::not_found : ErrorCode::io, cat("open lock file `", path, "`"), errno);
  }
  return UniqueFd(fd);
}

Result<std::optional<FileLock>> FileLock::try_acquire(const std::string& path, LockMode mode) {
  KILN_TRY_ASSIGN(auto fd, open_lock_file(path));
  int op = (mode == LockMode::shared ? LOCK_SH : LOCK_EX) | LOCK_NB;
  while (::flock(fd.get(), op) != 0) {
    if (errno == EINTR) {
      continue;
    }
    if (errno == EWOULDBLOCK) {
      return std::optional<FileLock>();
    }
    return Error(ErrorCode::io, cat("lock `", path, "`"), errno);
  }
  return std::optional<FileLock>(FileLock(std::move(fd)));
}

Result<FileLock> FileLock::acquire(const std::string& path, LockMode mode) {
  KILN_TRY_ASSIGN(auto fd, open_lock_file(path));
  int op = mode == LockMode::shared ? LOCK_SH : LOCK_EX;
  while (::flock(fd.get(), op) != 0) {
    if (errno != EINTR) {
      return Error(ErrorCode::io, cat("lock `", path, "`"), errno);
    }
  }
  return FileLock(std::move(fd));
}

}  // namespace kiln
