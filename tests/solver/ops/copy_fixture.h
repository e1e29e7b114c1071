// Shared helpers for the copy engine and context hasher tests: a scratch
// tree with a build context, a destination root and an "outside" directory
// (standing in for the host) whose contents must never change.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "solver/ops/copy_engine.h"
#include "util/temp_dir.h"

namespace kiln::solver::ops::test {

bool is_root();

/// A tree listing for before/after comparisons: path -> type, mode, owner,
/// size, mtime, content (files) or target (symlinks).
std::map<std::string, std::string> snapshot_tree(const std::string& dir);

struct TarEntry {
  std::string name;
  char type = 'f';  ///< f file, d dir, l symlink, h hard link
  std::string data;  ///< content, or the link target
  uint32_t mode = 0644;
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime = 1'600'000'000;
};
/// Writes a pax tar with libarchive; compression: "", "gzip", "bzip2", "xz", "zstd".
void write_tar(const std::string& path, const std::vector<TarEntry>& entries, const std::string& compression);

class CopyTest : public ::testing::Test {
 protected:
  void SetUp() override;
  /// Checks that the outside tree is unchanged, whatever the test did.
  void TearDown() override;

  std::string ctx(const std::string& rel = "") const;
  std::string dest(const std::string& rel = "") const;
  std::string outside(const std::string& rel = "") const;

  /// Creates a file (parents as needed) with content and mode; mtime set when given.
  void file(const std::string& path, const std::string& content, mode_t mode = 0644,
            std::optional<int64_t> mtime = 1'500'000'000);
  void dir(const std::string& path, mode_t mode = 0755, std::optional<int64_t> mtime = 1'500'000'000);
  void link(const std::string& path, const std::string& target);

  /// A request copying from the context to dest.
  CopyRequest request(std::vector<std::string> sources, const std::string& dest_path) const;
  /// Runs copy_files and asserts success.
  CopyStats copy_ok(const CopyRequest& r);
  /// Runs copy_files and returns the rendered error ("" when it succeeded).
  std::string copy_err(const CopyRequest& r);

  static std::string read(const std::string& path);
  static struct stat lstat_of(const std::string& path);
  static bool exists(const std::string& path);
  static std::string readlink_of(const std::string& path);

  std::optional<TempDir> m_tmp;
  std::map<std::string, std::string> m_outside_before;
};

}  // namespace kiln::solver::ops::test
