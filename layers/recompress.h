// Re-encoding a stored layer blob into another compression (what BuildKit's
// exporter does with `compression=` for layers it already has: the layer's
// tar stream, and so its diffID, stays the same; only the blob changes).
#pragma once

#include <optional>

#include "layers/write.h"
#include "oci/digest.h"
#include "util/result.h"

namespace kiln::layers {

struct RecompressOptions {
  /// The target codec, level, worker threads and media-type family, as for
  /// write_layer (source_date_epoch is not used: the tar is kept byte for byte).
  WriteOptions output;
  /// The layer's diffID: the sha256 of the decompressed source must equal it.
  oci::Digest expected_diff_id;
  /// When set, the sha256 of the source blob's bytes must equal it.
  std::optional<oci::Digest> expected_digest;
};

/// Reads the layer blob from `blob_fd` (borrowed; read from its current
/// offset to the end; its compression is detected from its bytes: gzip,
/// zstd or none), decompresses it on a thread of its own and writes it,
/// compressed as options.output says, to `out_fd` (borrowed; written
/// sequentially, not synced) in one streaming pass, hashing the tar (the
/// diffID) and the output (the new digest) on the way. LayerInfo::entries is
/// 0 (the tar is not parsed).
///
/// Errors: cache_corrupt when the source is corrupt or truncated, or when
/// its diffID (or digest) differs from the expected one (both named);
/// invalid_input for a level the codec refuses; io/syscall for read or write
/// failures. On error some bytes may have been written to out_fd: the
/// caller discards them (a cache::BlobWriter is only committed on success).
Result<LayerInfo> recompress_layer(int blob_fd, const RecompressOptions& options, int out_fd);

}  // namespace kiln::layers
