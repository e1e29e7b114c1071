// Internal: gzip in independent members, compressed in parallel by libdeflate.
//
// The output is a standard multi-member gzip stream (RFC 1952 section 2.2:
// "a gzip file consists of a series of members"), which gunzip, pigz, Go's
// compress/gzip (multistream by default), Python and libarchive read as one
// stream. Each member holds `chunk_size` bytes of input; members are
// independent, so workers compress them in any order and the writer emits
// them in input order. Measured against zlib (pigz) and ISA-L igzip in
// bench/README.md.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "layers/compress.h"

namespace kiln::layers::detail {

class ParallelGzip final : public Compressor {
 public:
  static constexpr size_t k_default_chunk = 1 << 20;

  /// level is libdeflate's (1..12); threads >= 1 (1 = compress inline).
  static Result<std::unique_ptr<ParallelGzip>> create(int level, int threads, BlobSink& sink,
                                                      size_t chunk_size = k_default_chunk);
  ~ParallelGzip() override;

  Result<void> write(const void* data, size_t size) override;
  Result<void> finish() override;

  struct Slot;  // one member: input chunk, output buffer, state

 private:
  ParallelGzip(int level, BlobSink& sink, size_t chunk_size);
  Result<void> submit_current();
  Result<void> retire(Slot& slot);
  void worker_main();
  void stop_workers();

  int m_level;
  BlobSink& m_sink;
  size_t m_chunk_size;
  std::vector<std::unique_ptr<Slot>> m_slots;  // a ring, used in order
  size_t m_next = 0;                           // the slot being filled
  std::vector<std::thread> m_workers;
  std::mutex m_mutex;
  std::condition_variable m_work_cv;  // workers wait for jobs
  std::condition_variable m_done_cv;  // the writer waits for results
  std::vector<Slot*> m_queue;         // submitted, not yet taken by a worker
  bool m_stopping = false;
  void* m_inline_compressor = nullptr;  // threads == 1: no workers
};

}  // namespace kiln::layers::detail
