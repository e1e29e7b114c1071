// RUN --mount=type=cache directories carried by the shared build cache
// (`bud --cache-to ...,cache-mounts=true`, cache/cache_artifact.h): a cache's
// data directory as a compressed tar blob in the store, and back. The tar is
// written and read by layers/ like a layer (sorted entries, PAX headers,
// owners as container ids), so it must be made and restored inside kiln's
// user namespace.
#pragma once

#include <string>

#include "cache/store.h"
#include "oci/descriptor.h"
#include "oci/media_types.h"

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

}  // namespace kiln::solver::ops
