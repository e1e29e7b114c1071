// Internal: the second stage of layer writing, on a thread of its own.
//
// The walking thread fills 128 KiB buffers of tar; this stage hashes each one
// (the diffID) and hands it to the compressor. Decoupled by a ring of
// buffers (2 MiB), the walk keeps producing while a compressor blocks waiting
// for its workers (zstd's flush, the oldest gzip member), so the workers never
// starve. The buffers are small so that each one is hashed, compressed or
// written while it is still in the caches: with 1 MiB buffers, writing an
// uncompressed 1 GiB layer cost 3-5x the kernel time of `tar -c` (the copies
// into the page cache missed the caches; bench/README.md, "layers").
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "layers/compress.h"
#include "util/hasher.h"
#include "util/result.h"

namespace kiln::layers::detail {

class HashAndCompress {
 public:
  static constexpr size_t k_buffer_size = 128 << 10;

  explicit HashAndCompress(Compressor& compressor);
  ~HashAndCompress();
  HashAndCompress(const HashAndCompress&) = delete;
  HashAndCompress& operator=(const HashAndCompress&) = delete;

  /// The buffer to fill next (empty, capacity k_buffer_size). Waits for one
  /// to be free; returns the stage's error if it failed.
  Result<std::vector<uint8_t>*> acquire();
  /// Queues the buffer returned by acquire() (possibly partly filled).
  void submit();
  /// Processes everything queued; returns the diffID (hex) or the first error.
  Result<std::string> finish();

 private:
  void run();

  Compressor& m_compressor;
  std::vector<std::vector<uint8_t>> m_buffers;  // a ring
  size_t m_fill = 0;     // the buffer the producer fills
  size_t m_queued = 0;   // buffers submitted and not yet processed
  size_t m_next = 0;     // the next buffer the stage processes
  bool m_stop = false;
  std::optional<Error> m_error;
  Sha256 m_sha;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::thread m_thread;
};

}  // namespace kiln::layers::detail
