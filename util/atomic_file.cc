#include "util/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "util/file.h"
#include "util/strings.h"

namespace kiln {

Result<AtomicFile> AtomicFile::create(const std::string& path, mode_t mode) {
  AtomicFile f;
  f.m_path = path;
  f.m_tmp = path_join(path_dirname(path), cat(k_atomic_temp_prefix, path_basename(path), "-XXXXXX"));
  int fd = ::mkostemp(f.m_tmp.data(), O_CLOEXEC);
  if (fd < 0) {
    ErrorCode code = errno == ENOENT ? ErrorCode::not_found : ErrorCode::io;
    return Error(code, cat("create temp file for `", path, "`"), errno);
  }
  f.m_fd.reset(fd);
  if (::fchmod(fd, mode) != 0) {
    return Error(ErrorCode::io, cat("chmod `", f.m_tmp, "`"), errno);
  }
  return f;
}

AtomicFile::AtomicFile(AtomicFile&& o) noexcept
    : m_fd(std::move(o.m_fd)), m_path(std::move(o.m_path)), m_tmp(std::move(o.m_tmp)) {
  o.m_tmp.clear();
}

AtomicFile& AtomicFile::operator=(AtomicFile&& o) noexcept {
  if (this != &o) {
    if (!m_tmp.empty()) {
      ::unlink(m_tmp.c_str());
    }
    m_fd = std::move(o.m_fd);
    m_path = std::move(o.m_path);
    m_tmp = std::move(o.m_tmp);
    o.m_tmp.clear();
  }
  return *this;
}

AtomicFile::~AtomicFile() {
  if (!m_tmp.empty()) {
    m_fd.reset();
    ::unlink(m_tmp.c_str());
  }
}

Result<void> AtomicFile::write(std::string_view data) {
  return write_all(m_fd.get(), data).context(cat("write `", m_tmp, "`"));
}

Result<void> AtomicFile::commit() { return commit_as(m_path); }

Result<void> AtomicFile::commit_as(const std::string& path) {
  if (::fsync(m_fd.get()) != 0) {
    return Error(ErrorCode::io, cat("fsync `", m_tmp, "`"), errno);
  }
  KILN_TRY(m_fd.close().context(cat("close `", m_tmp, "`")));
  if (::rename(m_tmp.c_str(), path.c_str()) != 0) {
    return Error(ErrorCode::io, cat("rename `", m_tmp, "` to `", path, "`"), errno);
  }
  m_tmp.clear();
  return fsync_dir(path_dirname(path));
}

Result<void> write_file_atomic(const std::string& path, std::string_view data, mode_t mode) {
  KILN_TRY_ASSIGN(auto f, AtomicFile::create(path, mode));
  KILN_TRY(f.write(data));
  return f.commit();
}

}  // namespace kiln
