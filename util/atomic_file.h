// AtomicFile: write a file completely or not at all (STYLE.md R1; ccache
// core/atomicfile.hpp). Every cache/ and state file goes through it.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "util/fd.h"
#include "util/result.h"

namespace kiln {

/// A temp file beside the destination (".tmp-<name>-XXXXXX" in the same
/// directory, so the rename cannot cross filesystems). commit() writes it to
/// disk (fsync), renames it over the destination and fsyncs the directory;
/// destroying an uncommitted AtomicFile removes the temp file. A process
/// killed in between leaves at most the temp file, which `kiln prune` removes.
class AtomicFile {
 public:
  /// Creates the temp file. Errors: io/not_found when the directory is
  /// missing or not writable.
  static Result<AtomicFile> create(const std::string& path, mode_t mode = 0644);

  AtomicFile(AtomicFile&&) noexcept;
  AtomicFile& operator=(AtomicFile&&) noexcept;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  Result<void> write(std::string_view data);
  /// The temp file's fd, for streaming writers.
  int fd() const { return m_fd.get(); }
  const std::string& path() const { return m_path; }
  const std::string& temp_path() const { return m_tmp; }

  /// fsync + rename + directory fsync. After success the object is empty.
  Result<void> commit();
  /// As commit(), but renames to a different destination than given at create.
  Result<void> commit_as(const std::string& path);

 private:
  AtomicFile() = default;
  UniqueFd m_fd;
  std::string m_path;
  std::string m_tmp;
};

/// Writes data to path atomically (AtomicFile in one call).
Result<void> write_file_atomic(const std::string& path, std::string_view data, mode_t mode = 0644);

/// Prefix of every temp file AtomicFile creates; prune looks for it.
inline constexpr std::string_view k_atomic_temp_prefix = ".tmp-";

}  // namespace kiln
