// Internal: the reading half of layer extraction.
//
//   blob fd -> sha256 (blob digest) -> detect + decompress (gzip via ISA-L
//   igzip, zstd, or none) -> sha256 (diffID) -> tar bytes
//
// LayerStream runs this on a thread of its own and hands the tar bytes over in
// small buffers (64-128 KiB, a 2 MiB ring), so decompression and hashing
// overlap with file creation.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "oci/media_types.h"
#include "util/hasher.h"
#include "util/result.h"

namespace kiln::layers::detail {

/// Compression of a blob from its first bytes: gzip (1f 8b), zstd
/// (28 b5 2f fd), else none (a tar, checked by the tar reader).
oci::media::Compression detect_compression(const uint8_t* data, size_t size);

/// Synchronous reader: decompressed bytes of a blob. Corrupt or truncated
/// input is a cache_corrupt error.
class BlobReader {
 public:
  virtual ~BlobReader() = default;
  /// Reads up to `cap` decompressed bytes; 0 only at the end of the stream.
  virtual Result<size_t> read(uint8_t* buf, size_t cap) = 0;
  virtual oci::media::Compression compression() const = 0;
  /// sha256 (hex) and size of the compressed bytes read so far.
  virtual std::string compressed_hex() = 0;
  virtual int64_t compressed_size() const = 0;
};

/// Opens a reader over `fd` (borrowed), detecting the compression.
Result<std::unique_ptr<BlobReader>> open_blob_reader(int fd);

/// The threaded pipeline over a BlobReader.
class LayerStream {
 public:
  static Result<std::unique_ptr<LayerStream>> start(int fd);
  ~LayerStream();

  /// The next block of tar bytes (valid until the next call); size 0 at the
  /// end. An error of the reading thread is returned here.
  Result<std::pair<const uint8_t*, size_t>> next();
  /// Reads (and hashes) whatever the consumer did not take, stops the thread
  /// and returns the final hashes.
  struct Totals {
    std::string diff_id_hex;
    std::string digest_hex;
    int64_t compressed_size = 0;
    int64_t uncompressed_size = 0;
    oci::media::Compression compression = oci::media::Compression::none;
  };
  Result<Totals> finish();

 private:
  struct Buffer {
    std::vector<uint8_t> data;
    size_t size = 0;
    bool full = false;
  };
  explicit LayerStream(std::unique_ptr<BlobReader> reader);
  void run();
  void stop();

  std::unique_ptr<BlobReader> m_reader;
  // An uncompressed blob's diffID is hashed by the reading thread, right after
  // read() put the bytes in its cache (the consumer only writes files).
  // Otherwise the consumer hashes in next(), so decompression and hashing
  // run on different cores.
  bool m_hash_in_reader = false;
  std::vector<Buffer> m_buffers;  // a ring
  size_t m_produce = 0;
  size_t m_consume = 0;
  bool m_holding = false;  // the consumer holds m_buffers[m_consume]
  bool m_done = false;     // the producer reached the end (or failed)
  bool m_stopping = false;
  std::optional<Error> m_error;
  Totals m_totals;
  Sha256 m_diff_id;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::thread m_thread;
};

}  // namespace kiln::layers::detail
