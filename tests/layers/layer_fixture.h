// Helpers for layers/ tests: building trees, describing them, reading tars
// with an independent reader (libarchive's own gzip/zstd filters).
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "layers/extract.h"
#include "layers/write.h"
#include "util/temp_dir.h"

namespace kiln::layers::test {

/// A fixture with a fresh temporary directory, removed after the test.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override;
  /// `name` inside the temporary directory.
  std::string path(const std::string& name) const;
  std::optional<TempDir> m_tmp;
};

bool is_root();

/// Tree building; paths are relative to root. All abort the test on failure
/// (ASSERT inside), so wrap calls in ASSERT_NO_FATAL_FAILURE when it matters.
void put_file(const std::string& root, const std::string& rel, const std::string& content, mode_t mode = 0644);
void put_dir(const std::string& root, const std::string& rel, mode_t mode = 0755);
void put_symlink(const std::string& root, const std::string& rel, const std::string& target);
void put_hardlink(const std::string& root, const std::string& existing, const std::string& rel);
void put_whiteout(const std::string& root, const std::string& rel);  // char 0/0
void put_xattr(const std::string& root, const std::string& rel, const std::string& name, const std::string& value);
void set_mtime(const std::string& root, const std::string& rel, int64_t sec, int64_t nsec = 0);

enum class Describe { full, no_dir_mtimes };
/// One line per path (sorted): type, mode, owner, size, mtime, symlink target,
/// content hash, hard link group, xattrs (overlay's excluded unless asked).
std::map<std::string, std::string> describe_tree(const std::string& root, Describe how = Describe::full,
                                                 bool with_overlay_xattrs = false);

struct TarEntry {
  std::string name;
  mode_t mode = 0;  // with type bits
  int64_t uid = 0;
  int64_t gid = 0;
  std::string uname;
  std::string gname;
  int64_t mtime = 0;
  int64_t size = 0;
  std::string symlink;
  std::string hardlink;
  std::map<std::string, std::string> xattrs;
  std::string data;
  dev_t rdev = 0;
};
/// Reads every entry of a (possibly compressed) tar file.
std::vector<TarEntry> read_tar(const std::string& path);

/// write_layer into `out_path`; asserts success.
LayerInfo write_to(const SnapshotSource& source, const WriteOptions& options, const std::string& out_path);
/// extract_layer from a file.
Result<ExtractResult> extract_from(const std::string& blob_path, const ExtractOptions& options);

/// Default extract options for tests: as an ordinary user ownership cannot be
/// restored, so errors are ignored there (root tests check ownership).
ExtractOptions test_options(const std::string& target, ExtractMode mode);

std::string read_text(const std::string& path);

}  // namespace kiln::layers::test

namespace kiln::layers::test {

/// Writes a tar with libarchive (an independent writer): name, mode (with type
/// bits), uid/gid, mtime, data, symlink, hardlink and xattrs of each entry.
/// filter: "" (none), "gzip" or "zstd".
void make_tar(const std::string& path, const std::vector<TarEntry>& entries, const std::string& filter = "");

TarEntry file_entry(const std::string& name, const std::string& data, mode_t mode = 0644);
TarEntry dir_entry(const std::string& name, mode_t mode = 0755);
TarEntry symlink_entry(const std::string& name, const std::string& target);
TarEntry hardlink_entry(const std::string& name, const std::string& target);

}  // namespace kiln::layers::test
