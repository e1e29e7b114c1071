// Extracted layers in the store (ROOT/kiln/layers/<diffID hex>/diff): made
// on demand from blobs, shared by every build, used read-only as overlay
// lower dirs. Each is written under a temp name and renamed into place, so a
// concurrent build extracting the same layer loses nothing (the second
// rename finds the directory present and discards its copy).
#pragma once

#include <string>
#include <vector>

#include "cache/store.h"
#include "solver/solve.h"

namespace kiln::solver::ops {

class BlobFetcher;

struct ExtractPolicy {
  bool ignore_chown_errors = false;
  /// Fetches blobs the store lacks (an imported build cache's layers);
  /// nullptr: a missing blob is not_found.
  BlobFetcher* fetcher = nullptr;
};

/// Makes sure every layer of `chain` is extracted; returns their dirs top
/// (last) layer first, as overlay's lowerdir wants. Blobs the store lacks
/// are fetched first (policy.fetcher), all in one batch. Errors: not_found
/// when a blob is missing, cache_corrupt when a blob does not match its
/// digests, the fetcher's error.
Result<std::vector<std::string>> ensure_extracted(const cache::Store& store, const std::vector<LayerRef>& chain,
                                                  const ExtractPolicy& policy);

/// Moves a finished snapshot (an overlay upper dir in seam format) into the
/// store as the extracted dir of `diff_id`; a dir already there wins.
Result<void> adopt_layer_dir(const cache::Store& store, const std::string& upper_dir, const oci::Digest& diff_id);

}  // namespace kiln::solver::ops
