// Garbage collection and consistency checks of the local store.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cache/cache_mounts.h"
#include "cache/store.h"

namespace kiln::cache {

struct PruneOptions {
  /// Also remove build-cache records (all of them, or least recently used
  /// first until the store holds at most keep_storage bytes).
  bool build_cache = false;
  std::optional<uint64_t> keep_storage;  ///< bytes
  /// Also remove RUN --mount=type=cache directories not in use
  /// (cache/cache_mounts.h). Must run inside kiln's namespace: their files
  /// belong to container ids.
  bool cache_mounts = false;
};

struct PruneReport {
  uint64_t blobs_removed = 0;
  uint64_t layer_dirs_removed = 0;
  uint64_t temp_files_removed = 0;
  uint64_t cache_records_removed = 0;
  uint64_t bytes_freed = 0;
  /// Cache mounts removed (with cache_mounts), with their ids and sizes.
  std::vector<CacheMountInfo> cache_mounts_removed;
};

/// Removes what nothing references: blobs not reachable from index.json,
/// build-cache records or working containers; extracted layer dirs no such
/// root names; leftover temp files. Holds gc.lock exclusively, so it waits
/// for running builds (which hold it shared).
Result<PruneReport> prune(const Store& store, const PruneOptions& options);

/// prune() without waiting: nullopt when another command holds the store
/// (a build in progress), so eviction after a build never blocks on others.
Result<std::optional<PruneReport>> try_prune(const Store& store, const PruneOptions& options);

struct FsckReport {
  uint64_t blobs_checked = 0;
  uint64_t images_checked = 0;
  std::vector<std::string> problems;  ///< one line each; empty = consistent
  std::vector<std::string> notes;     ///< harmless findings (leftover temp files)
};

/// Verifies every blob against its digest and every reference (index entries,
/// manifests, configs, layers, cache records, working containers) against
/// the blobs present. Reads only; never repairs.
Result<FsckReport> fsck(const Store& store);

/// Blobs and layer diffIDs every root references (images, cache records,
/// working containers). Missing blobs are skipped (fsck reports them).
struct Roots {
  std::set<oci::Digest> blobs;
  std::set<oci::Digest> layers;
};
Result<Roots> collect_roots(const Store& store);

}  // namespace kiln::cache
