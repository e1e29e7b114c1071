// Persistent directories for RUN --mount=type=cache (issue 11): they live in
// the store, survive builds (and --no-cache), are keyed by the mount's id,
// never enter a layer or a cache key, and go away only with
// `kiln prune --cache-mounts`.
//
// On-disk layout (format version 1), K5:
//   ROOT/kiln/cache-mounts/<hex>/           one cache; hex = CacheMountKey::hex()
//   ROOT/kiln/cache-mounts/<hex>/meta.json  {"version":1,"id":ID,"from":KEY,"source":PATH,
//                                            "uid":N,"gid":N,"mode":N,"created":S,"last_used":S}
//                                           (seconds since the epoch; written atomically)
//   ROOT/kiln/cache-mounts/<hex>/data/      the cache: every shared and locked user, and the
//                                           first private one
//   ROOT/kiln/cache-mounts/<hex>/private-N/ N = 1, 2, ...: one more directory per private user
//                                           that found the others busy (kept for later builds)
//   ROOT/kiln/cache-mounts/<hex>/<dir>.lock flock of <dir>: shared users hold it shared, locked
//                                           and private users exclusively (FileLock, so it also
//                                           excludes threads of one process)
//   ROOT/kiln/cache-mounts/<hex>/init.lock  held exclusively while a directory is created
//   ROOT/kiln/cache-mounts/<hex>/.tmp-*     a directory being created (removed by prune)
// Lock files sit beside the directories, never inside them: a command that
// wipes its cache never meets kiln's files (buildah learned this, PR 4349).
// The <hex> name is a digest, so no id, not even `../../x`, can name a path
// outside ROOT/kiln/cache-mounts (CVE-2024-9675 was a filepath.Join of the id).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "util/file_lock.h"
#include "util/result.h"

namespace kiln::cache {

enum class CacheSharing {
  shared,    ///< concurrent users share the directory
  private_,  ///< a concurrent user gets a directory of its own
  locked,    ///< a concurrent user waits until the directory is free
};

/// "shared", "private", "locked" -> the enum. Errors: invalid_input.
Result<CacheSharing> parse_cache_sharing(std::string_view name);

/// What identifies one cache (BuildKit keys a cache by its id and its seed;
/// buildah also by the owner, PR 5978).
struct CacheMountKey {
  std::string id;       ///< the mount's id (default: its target)
  std::string from;     ///< identity of the seed state (its cache key), "" = starts empty
  std::string source;   ///< path in the seed the cache starts from ("" = all of it)
  uint32_t uid = 0;     ///< owner and mode of a new cache's top directory
  uint32_t gid = 0;
  uint32_t mode = 0755;

  /// 64 hex digits: tagged SHA-256 ("kiln.cache-mount.v1") of every field.
  std::string hex() const;
};

/// Fills a new cache directory (an empty directory, already chmod/chowned
/// per the key). Called at most once per directory, under init.lock.
using SeedFn = std::function<Result<void>(const std::string& dir)>;

/// A cache directory in use; its lock is released on destruction.
struct CacheLease {
  std::string dir;   ///< absolute path to mount
  FileLock lock;
};

/// One cache as `kiln prune --cache-mounts` lists it.
struct CacheMountInfo {
  std::string hex;
  std::string id;
  uint64_t bytes = 0;
  int64_t last_used = 0;
  bool in_use = false;
};

class CacheMounts {
 public:
  /// root: the store's cache_mounts_dir() (created on first use).
  explicit CacheMounts(std::string root) : m_root(std::move(root)) {}

  /// Takes a directory of the cache for one RUN step, waiting when sharing
  /// says so, creating (mkdir, chmod, chown per key, then `seed`) the
  /// directory when it does not exist yet. Must run inside kiln's namespace
  /// (owners are container ids). Errors: io/syscall naming the path; the
  /// seed's error.
  Result<CacheLease> acquire(const CacheMountKey& key, CacheSharing sharing, const SeedFn& seed) const;

  /// The data directory of cache `key` when the store has it (for
  /// `bud --cache-to ...,cache-mounts=true`), held shared: shared users may
  /// write meanwhile, locked and private users wait. nullopt when the store
  /// has no such directory. Creates nothing. Errors: io/syscall.
  Result<std::optional<CacheLease>> open_existing(const CacheMountKey& key) const;

  /// Every cache, with its size and whether a build uses it now.
  Result<std::vector<CacheMountInfo>> list() const;

  /// Removes every cache not in use (each of its directories' locks taken
  /// exclusively without waiting); returns those removed. Callers hold the
  /// store's gc lock so no build starts meanwhile.
  Result<std::vector<CacheMountInfo>> prune() const;

 private:
  Result<void> ensure_dir(const std::string& hex_dir, const std::string& name, const CacheMountKey& key,
                          const SeedFn& seed) const;
  std::string m_root;
};

}  // namespace kiln::cache
