// Where blobs came from, so a push can mount a blob from another repository
// of the same registry instead of uploading it (distribution-spec
// "Mounting a blob from another repository"). A hint only: a missing or
// stale record costs an upload, never correctness.
//
// Format: ROOT/kiln/blob-sources/<hex>, one "registry/repository" per line,
// newest last, at most 8 lines; written atomically.
#pragma once

#include <string>
#include <vector>

#include "cache/store.h"

namespace kiln::registry {

/// The repositories ("registry/path") a blob is known to be in.
std::vector<std::string> blob_sources(const cache::Store& store, const oci::Digest& digest);
/// Remembers that `digest` is in `repository` ("registry/path"). Best effort:
/// a failure is logged and dropped.
void record_blob_source(const cache::Store& store, const oci::Digest& digest, const std::string& repository);

}  // namespace kiln::registry
