// File and directory helpers that return Result instead of throwing.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/fd.h"
#include "util/result.h"

namespace kiln {

/// Opens path with flags | O_CLOEXEC. Errors: not_found for ENOENT, else syscall.
Result<UniqueFd> open_file(const std::string& path, int flags, mode_t mode = 0644);

/// Reads a whole file into memory. For small files (configs, JSON, records);
/// streams use a fd. Errors: not_found (ENOENT), io otherwise.
Result<std::string> read_file(const std::string& path);
/// As read_file, but a missing file is nullopt rather than an error (C6).
Result<std::optional<std::string>> read_file_if_exists(const std::string& path);
/// Reads everything from fd until EOF.
Result<std::string> read_all(int fd);
/// Writes all bytes, retrying on EINTR and short writes.
Result<void> write_all(int fd, std::string_view data);
/// Reads exactly n bytes or up to EOF; returns the bytes read.
Result<size_t> read_full(int fd, char* buf, size_t n);

/// Creates or truncates path and writes data (not atomic; see AtomicFile).
Result<void> write_file(const std::string& path, std::string_view data, mode_t mode = 0644);

/// mkdir -p; existing directories are fine. mode applies to created dirs.
Result<void> make_dirs(const std::string& path, mode_t mode = 0755);

/// rm -rf that never follows symlinks and makes read-only directories
/// writable as it goes (layer trees contain 0555 dirs). Missing is fine.
Result<void> remove_tree(const std::string& path);
/// remove_tree relative to a directory fd.
Result<void> remove_tree_at(int dirfd, const std::string& name);

/// lstat; nullopt when the path does not exist.
Result<std::optional<struct stat>> lstat_path(const std::string& path);
bool path_exists(const std::string& path);
bool is_directory(const std::string& path);

/// fsync of a directory, so a rename in it is durable.
Result<void> fsync_dir(const std::string& dir);

/// Joins path components with one '/' between them.
std::string path_join(std::string_view a, std::string_view b);
/// "/a/b/c" -> "/a/b"; "c" -> "."; "/" -> "/".
std::string path_dirname(std::string_view p);
/// "/a/b/c" -> "c"; "/a/b/" -> "b".
std::string path_basename(std::string_view p);
/// Lexically cleans a path (Go's path.Clean): removes ".", "..", duplicate
/// slashes; "" -> ".". Never touches the filesystem.
std::string path_clean(std::string_view p);

/// Absolute, cleaned form of path relative to the current directory.
std::string absolute_path(const std::string& path);

/// Lists a directory's entry names (no "." and ".."), sorted.
Result<std::vector<std::string>> list_dir(const std::string& path);

/// Total bytes of regular files under path (not following symlinks).
Result<uint64_t> tree_size(const std::string& path);

}  // namespace kiln
