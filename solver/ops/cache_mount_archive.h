// RUN --mount=type=cache directories carried by the shared build cache
// (`bud --cache-to ...,cache-mounts=true`, cache/cache_artifact.h): a cache's
// data directory as a compressed tar blob in the store, and back. The tar is
// written and read by layers/ like a layer (sorted entries, PAX headers,
// owners as container ids), so it must be made and restored inside kiln's
// user namespace.
#pragma once

#include <string>
#include <vector>

#include "cache/cache_mounts.h"
#include "cache/store.h"
#include "oci/descriptor.h"
#include "oci/media_types.h"
#include "solver/definition.h"
#include "solver/solve.h"

namespace kiln::solver::ops {

/// Archives every file under `dir` (not `dir` itself) into a blob in the
/// store. Returns its descriptor (media type k_cache_mount_type for zstd,
/// k_cache_mount_gzip_type for gzip). Errors: not_found when dir is missing,
/// io/syscall naming the path.
Result<oci::Descriptor> archive_directory(const cache::Store& store, const std::string& dir,
                                          oci::media::Compression compression);

/// Extracts the archive blob `digest` (in the store; verified while read)
/// into `dir`, which must be empty or absent. With ignore_chown_errors
/// (single-id namespaces) files keep kiln's owner. Errors: not_found (no
/// blob), cache_corrupt (digest mismatch: everything written is removed),
/// invalid_input for an unsafe entry.
Result<void> restore_directory(const cache::Store& store, const oci::Digest& digest, const std::string& dir,
                               bool ignore_chown_errors);

/// A mount target made absolute against the step's working directory and
/// cleaned (BuildKit): "x" in /work -> "/work/x".
std::string absolute_mount_target(const std::string& target, const std::string& cwd);

/// The key of the cache a RUN --mount=type=cache uses (run_mounts.h): id
/// (default: `target`, already absolute), seed (`from_key`, the cache key of
/// the `from` state, "" when none, and `source` with it) and the owner and
/// mode of a new cache's top directory (default 0:0 0755).
cache::CacheMountKey cache_mount_key(const MountSpec& mount, const std::string& target, const std::string& from_key);

/// The keys of every cache the RUN steps of `def` that `solved` covers
/// mount (each once, in op order), as the runner computes them: for
/// `--cache-to ...,cache-mounts=true`. Steps that were cache hits count
/// too (their caches are the build's). Mounts without a target are skipped.
std::vector<cache::CacheMountKey> build_cache_mount_keys(const Definition& def, const SolveResult& solved);

}  // namespace kiln::solver::ops
