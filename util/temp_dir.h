// TempDir: a directory removed recursively when its owner goes away.
#pragma once

#include <string>

#include "util/result.h"

namespace kiln {

/// A fresh directory made with mkdtemp(parent/prefixXXXXXX); removed with
/// remove_tree on destruction unless release()d.
class TempDir {
 public:
  /// parent "" means $TMPDIR or /tmp. Errors: io when parent is not writable.
  static Result<TempDir> create(const std::string& parent = "", const std::string& prefix = "kiln-");

  TempDir(TempDir&& o) noexcept : m_path(std::move(o.m_path)) { o.m_path.clear(); }
  TempDir& operator=(TempDir&& o) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return m_path; }
  /// Keeps the directory; returns its path.
  std::string release();

 private:
  explicit TempDir(std::string path) : m_path(std::move(path)) {}
  std::string m_path;
};

}  // namespace kiln
