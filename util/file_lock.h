// FileLock: an advisory lock on a lock file (flock), held while the object lives.
#pragma once

#include <optional>
#include <string>

#include "util/fd.h"
#include "util/result.h"

namespace kiln {

enum class LockMode { shared, exclusive };
enum class LockWait { yes, no };

/// flock(2) on its own open file description, so two FileLocks in one process
/// (two threads) exclude each other like two processes do. Released on
/// destruction or process death (a killed kiln never leaves a stale lock).
class FileLock {
 public:
  /// Opens (creating if needed, mode 0644) and locks path. With LockWait::no,
  /// a held lock gives nullopt rather than an error (C6).
  static Result<std::optional<FileLock>> try_acquire(const std::string& path, LockMode mode);
  /// Waits for the lock. Errors: io when the file cannot be opened.
  static Result<FileLock> acquire(const std::string& path, LockMode mode);

  FileLock(FileLock&&) = default;
  FileLock& operator=(FileLock&&) = default;
  void release() { m_fd.reset(); }

 private:
  explicit FileLock(UniqueFd fd) : m_fd(std::move(fd)) {}
  UniqueFd m_fd;
};

}  // namespace kiln
