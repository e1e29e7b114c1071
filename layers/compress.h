// Internal: the compressing half of the layer-writing pipeline.
//
//   tar bytes -> Compressor (gzip | zstd | none) -> BlobSink (sha256 + size + write(fd))
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "oci/media_types.h"
#include "util/hasher.h"
#include "util/result.h"

namespace kiln::layers::detail {

/// The end of the pipeline: hashes, counts and writes compressed bytes to a
/// caller-owned fd.
class BlobSink {
 public:
  /// hash = false when the blob is the tar itself (no compression): its
  /// digest is the diffID, computed once by the caller.
  explicit BlobSink(int fd, bool hash = true) : m_fd(fd), m_hash(hash) {}
  Result<void> write(const void* data, size_t size);
  int64_t size() const { return m_size; }
  /// Hex sha256 of everything written.
  std::string finish_hex() { return m_sha.finish_hex(); }

 private:
  int m_fd;
  bool m_hash;
  int64_t m_size = 0;
  Sha256 m_sha;
};

/// A streaming compressor. write() takes the uncompressed stream in order;
/// finish() flushes the end of the stream. Compressed bytes go to the sink in
/// order.
class Compressor {
 public:
  virtual ~Compressor() = default;
  virtual Result<void> write(const void* data, size_t size) = 0;
  virtual Result<void> finish() = 0;
};

/// kiln's default level per codec (gzip: libdeflate 4, zstd 3).
int default_level(oci::media::Compression compression);

/// A compressor for `compression` at `level` (0 = default) with `threads`
/// workers (0 = one per CPU), writing to `sink` (borrowed; must outlive it).
/// Errors: invalid_input for a level the codec does not accept.
Result<std::unique_ptr<Compressor>> make_compressor(oci::media::Compression compression, int level, int threads,
                                                    BlobSink& sink);

/// Threads to use for `threads` (0 = hardware concurrency, at least 1).
int resolve_threads(int threads);

}  // namespace kiln::layers::detail
