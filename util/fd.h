// UniqueFd: the one owner type for a file descriptor (STYLE.md R1).
#pragma once

#include <unistd.h>

#include <utility>

#include "util/result.h"

namespace kiln {

/// Move-only owner of a file descriptor; closes it on destruction. Every fd
/// kiln opens is O_CLOEXEC, so an exec'd child never inherits one by accident.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : m_fd(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : m_fd(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset(other.release());
    }
    return *this;
  }
  ~UniqueFd() { reset(); }

  int get() const { return m_fd; }
  bool valid() const { return m_fd >= 0; }
  explicit operator bool() const { return valid(); }

  /// Gives up ownership and returns the fd.
  int release() { return std::exchange(m_fd, -1); }

  /// Closes the current fd (errors ignored) and takes ownership of fd.
  void reset(int fd = -1) {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
    m_fd = fd;
  }

  /// Closes the fd and reports a close error (which on NFS can mean lost
  /// data); the object is empty afterwards either way.
  Result<void> close();

 private:
  int m_fd = -1;
};

}  // namespace kiln
