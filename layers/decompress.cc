#include "layers/decompress.h"

#include <isa-l/igzip_lib.h>
#include <unistd.h>
#include <zstd.h>

#include <cstring>

#include "util/hasher.h"
#include "util/strings.h"

namespace kiln::layers::detail {

using oci::media::Compression;

namespace {

constexpr size_t k_in_chunk = 256 << 10;
// Tar bytes are handed over in small buffers: each one is written to a file
// while it is still in the caches. With 1 MiB buffers the copies into the
// page cache missed the caches and the kernel's share of a 1 GiB layer was
// 2-3x that of `tar -x` (bench/README.md, "layers"). An uncompressed blob is
// read in the size tar -x writes well; decompressors get 128 KiB (one zstd
// block) per call. The ring holds 2 MiB either way.
constexpr size_t k_plain_chunk = 64 << 10;
constexpr size_t k_decoded_chunk = 128 << 10;
constexpr size_t k_ring_bytes = 2 << 20;

Error corrupt(std::string what) { return Error(ErrorCode::cache_corrupt, std::move(what)); }

// Raw bytes from the fd, hashed as they are read.
class RawInput {
 public:
  // hash = false for an uncompressed blob, whose digest is its diffID.
  RawInput(int fd, bool hash) : m_fd(fd), m_hash(hash), m_buf(k_in_chunk) {}

  // Makes input available; false at the end of the file.
  Result<bool> fill() {
    if (m_pos < m_len) {
      return true;
    }
    for (;;) {
      ssize_t n = ::read(m_fd, m_buf.data(), m_buf.size());
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        return Error::from_errno("read layer blob");
      }
      if (m_hash) {
        m_sha.update(m_buf.data(), static_cast<size_t>(n));
      }
      m_size += n;
      m_pos = 0;
      m_len = static_cast<size_t>(n);
      return n > 0;
    }
  }
  // Reads straight into buf (no buffering): for uncompressed blobs.
  Result<size_t> read_into(uint8_t* buf, size_t cap) {
    for (;;) {
      ssize_t n = ::read(m_fd, buf, cap);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        return Error::from_errno("read layer blob");
      }
      m_size += n;
      return static_cast<size_t>(n);
    }
  }
  uint8_t* data() { return m_buf.data() + m_pos; }
  size_t avail() const { return m_len - m_pos; }
  void consume(size_t n) { m_pos += n; }

  std::string hex() { return m_sha.finish_hex(); }
  int64_t size() const { return m_size; }

 private:
  int m_fd;
  bool m_hash;
  std::vector<uint8_t> m_buf;
  size_t m_pos = 0;
  size_t m_len = 0;
  Sha256 m_sha;
  int64_t m_size = 0;
};

class Reader : public BlobReader {
 public:
  Reader(int fd, bool hash) : m_in(fd, hash) {}
  std::string compressed_hex() override { return m_in.hex(); }
  int64_t compressed_size() const override { return m_in.size(); }

 protected:
  RawInput m_in;
};

class PlainReader final : public Reader {
 public:
  explicit PlainReader(int fd) : Reader(fd, false) {}
  Result<size_t> read(uint8_t* buf, size_t cap) override { return m_in.read_into(buf, cap); }
  Compression compression() const override { return Compression::none; }
};

// gzip, including multi-member streams (RFC 1952 2.2), through ISA-L's
// inflate, which checks each member's CRC-32 and length.
class GzipReader final : public Reader {
 public:
  explicit GzipReader(int fd) : Reader(fd, true) { reset(); }
  Compression compression() const override { return Compression::gzip; }

  Result<size_t> read(uint8_t* buf, size_t cap) override {
    for (;;) {
      if (m_state.block_state == ISAL_BLOCK_FINISH) {
        KILN_TRY_ASSIGN(bool more, m_in.fill());
        if (!more) {
          return size_t{0};
        }
        reset();  // the next member
      }
      KILN_TRY_ASSIGN(bool more, m_in.fill());
      m_state.next_in = m_in.data();
      m_state.avail_in = static_cast<uint32_t>(m_in.avail());
      m_state.next_out = buf;
      m_state.avail_out = static_cast<uint32_t>(std::min<size_t>(cap, UINT32_MAX));
      int rc = isal_inflate(&m_state);
      m_in.consume(m_in.avail() - m_state.avail_in);
      if (rc < 0) {
        return corrupt(cat("decompress gzip layer: ", rc == ISAL_INCORRECT_CHECKSUM ? "checksum mismatch"
                                                       : rc == ISAL_INVALID_WRAPPER ? "bad gzip header"
                                                                                    : "invalid deflate data"));
      }
      size_t produced = cap - m_state.avail_out;
      if (produced > 0) {
        return produced;
      }
      if (!more && m_state.block_state != ISAL_BLOCK_FINISH) {
        return corrupt("decompress gzip layer: the stream is truncated");
      }
    }
  }

 private:
  void reset() {
    isal_inflate_init(&m_state);
    m_state.crc_flag = ISAL_GZIP;
  }
  inflate_state m_state{};
};

class ZstdReader final : public Reader {
 public:
  explicit ZstdReader(int fd) : Reader(fd, true), m_dctx(ZSTD_createDCtx()) {
    // Layers come from anywhere: refuse windows above 128 MiB so a crafted
    // frame cannot make extraction allocate gigabytes (zstd CLI's default limit).
    ZSTD_DCtx_setParameter(m_dctx, ZSTD_d_windowLogMax, 27);
  }
  ~ZstdReader() override { ZSTD_freeDCtx(m_dctx); }
  Compression compression() const override { return Compression::zstd; }

  Result<size_t> read(uint8_t* buf, size_t cap) override {
    for (;;) {
      KILN_TRY_ASSIGN(bool more, m_in.fill());
      if (!more && m_last == 0) {
        return size_t{0};
      }
      ZSTD_inBuffer in{m_in.data(), m_in.avail(), 0};
      ZSTD_outBuffer out{buf, cap, 0};
      size_t rc = ZSTD_decompressStream(m_dctx, &out, &in);
      m_in.consume(in.pos);
      if (ZSTD_isError(rc)) {
        return corrupt(cat("decompress zstd layer: ", ZSTD_getErrorName(rc)));
      }
      m_last = rc;
      if (out.pos > 0) {
        return out.pos;
      }
      if (!more) {
        return corrupt("decompress zstd layer: the stream is truncated");
      }
    }
  }

 private:
  ZSTD_DCtx* m_dctx;
  size_t m_last = 0;  // 0 when the last frame was complete
};

}  // namespace

Compression detect_compression(const uint8_t* data, size_t size) {
  if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
    return Compression::gzip;
  }
  if (size >= 4 && data[0] == 0x28 && data[1] == 0xb5 && data[2] == 0x2f && data[3] == 0xfd) {
    return Compression::zstd;
  }
  return Compression::none;
}

Result<std::unique_ptr<BlobReader>> open_blob_reader(int fd) {
  // Peek at the magic without consuming: the readers start at the same offset.
  uint8_t magic[4] = {};
  off_t start = ::lseek(fd, 0, SEEK_CUR);
  ssize_t n = start < 0 ? -1 : ::pread(fd, magic, sizeof magic, start);
  if (n < 0) {
    return Error::from_errno("read layer blob (it must be a regular file)");
  }
  switch (detect_compression(magic, static_cast<size_t>(n))) {
    case Compression::gzip: return std::unique_ptr<BlobReader>(new GzipReader(fd));
    case Compression::zstd: return std::unique_ptr<BlobReader>(new ZstdReader(fd));
    case Compression::none: return std::unique_ptr<BlobReader>(new PlainReader(fd));
  }
  return Error(ErrorCode::internal, "unknown compression");
}

// ---- LayerStream ----

LayerStream::LayerStream(std::unique_ptr<BlobReader> reader)
    : m_reader(std::move(reader)), m_hash_in_reader(m_reader->compression() == Compression::none) {
  size_t chunk = m_hash_in_reader ? k_plain_chunk : k_decoded_chunk;
  m_buffers.resize(k_ring_bytes / chunk);
  for (auto& b : m_buffers) {
    b.data.resize(chunk);
  }
}

Result<std::unique_ptr<LayerStream>> LayerStream::start(int fd) {
  KILN_TRY_ASSIGN(auto reader, open_blob_reader(fd));
  std::unique_ptr<LayerStream> s(new LayerStream(std::move(reader)));
  s->m_thread = std::thread([p = s.get()] { p->run(); });
  return s;
}

LayerStream::~LayerStream() { stop(); }

void LayerStream::stop() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_stopping = true;
  }
  m_cv.notify_all();
  if (m_thread.joinable()) {
    m_thread.join();
  }
}

void LayerStream::run() {
  int64_t total = 0;
  for (;;) {
    Buffer* b = nullptr;
    {
      std::unique_lock<std::mutex> lock(m_mutex);
      m_cv.wait(lock, [&] { return m_stopping || !m_buffers[m_produce].full; });
      if (m_stopping) {
        return;
      }
      b = &m_buffers[m_produce];
    }
    // Fill the buffer fully (fewer hand-overs), unless the stream ends.
    size_t filled = 0;
    std::optional<Error> error;
    while (filled < b->data.size()) {
      auto r = m_reader->read(b->data.data() + filled, b->data.size() - filled);
      if (!r) {
        error = std::move(r).error();
        break;
      }
      if (*r == 0) {
        break;
      }
      filled += *r;
    }
    total += static_cast<int64_t>(filled);
    if (m_hash_in_reader && !error) {
      m_diff_id.update(b->data.data(), filled);  // still in this core's cache
    }
    std::lock_guard<std::mutex> lock(m_mutex);
    b->size = error ? 0 : filled;  // a failed stream ends with an empty buffer carrying the error
    b->full = true;
    m_produce = (m_produce + 1) % m_buffers.size();
    if (error || filled == 0) {
      m_error = std::move(error);
      m_done = true;
      m_totals.compression = m_reader->compression();
      m_totals.digest_hex = m_totals.compression == Compression::none ? std::string() : m_reader->compressed_hex();
      m_totals.compressed_size = m_reader->compressed_size();
      m_totals.uncompressed_size = total;
      m_totals.compression = m_reader->compression();
      m_cv.notify_all();
      return;
    }
    m_cv.notify_all();
  }
}

Result<std::pair<const uint8_t*, size_t>> LayerStream::next() {
  std::unique_lock<std::mutex> lock(m_mutex);
  if (m_holding) {
    m_buffers[m_consume].full = false;
    m_consume = (m_consume + 1) % m_buffers.size();
    m_holding = false;
    m_cv.notify_all();
  }
  m_cv.wait(lock, [&] { return m_buffers[m_consume].full; });
  Buffer& b = m_buffers[m_consume];
  if (b.size == 0) {
    if (m_error) {
      return *m_error;  // the last buffer of a failed stream carries the error
    }
    return std::pair<const uint8_t*, size_t>(nullptr, 0);
  }
  m_holding = true;
  lock.unlock();
  // A decompressed stream's diffID is hashed here, on the consuming thread,
  // so the reading thread only reads and decompresses: the halves balance.
  if (!m_hash_in_reader) {
    m_diff_id.update(b.data.data(), b.size);
  }
  return std::pair<const uint8_t*, size_t>(b.data.data(), b.size);
}

Result<LayerStream::Totals> LayerStream::finish() {
  for (;;) {
    KILN_TRY_ASSIGN(auto block, next());
    if (block.second == 0) {
      break;
    }
  }
  stop();
  m_totals.diff_id_hex = m_diff_id.finish_hex();
  if (m_totals.compression == Compression::none) {
    m_totals.digest_hex = m_totals.diff_id_hex;
  }
  return m_totals;
}

}  // namespace kiln::layers::detail
