// Codec measurements on one input (a tar of the benchmark tree): throughput
// per core and size of zlib (what gzip and pigz use), libdeflate and ISA-L
// igzip compressing 1 MiB independent gzip members, zstd; and gzip decoding
// with zlib vs ISA-L. Single-threaded: the layer writer runs one codec
// instance per core.
#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <zlib.h>
#include <zstd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "util/file.h"

namespace kiln::bench {

namespace {

constexpr size_t k_chunk = 1 << 20;

double seconds(const std::function<void()>& f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void report(const char* codec, int level, size_t in, size_t out, double s) {
  std::printf("%-28s level %2d  %8.1f MB/s/core  ratio %.3f  size %zu\n", codec, level, in / s / 1e6,
              static_cast<double>(out) / in, out);
}

std::string zlib_gzip(const std::string& in, int level) {
  z_stream z{};
  deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, in.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

size_t libdeflate_chunks(const std::string& in, int level) {
  libdeflate_compressor* c = libdeflate_alloc_compressor(level);
  std::vector<char> out(libdeflate_gzip_compress_bound(c, k_chunk));
  size_t total = 0;
  for (size_t off = 0; off < in.size(); off += k_chunk) {
    size_t n = std::min(k_chunk, in.size() - off);
    total += libdeflate_gzip_compress(c, in.data() + off, n, out.data(), out.size());
  }
  libdeflate_free_compressor(c);
  return total;
}

size_t isal_chunks(const std::string& in, int level) {
  static const uint32_t sizes[] = {ISAL_DEF_LVL0_DEFAULT, ISAL_DEF_LVL1_DEFAULT, ISAL_DEF_LVL2_DEFAULT,
                                   ISAL_DEF_LVL3_DEFAULT};
  std::vector<uint8_t> level_buf(sizes[level]);
  std::vector<uint8_t> out(k_chunk + k_chunk / 8 + 1024);
  size_t total = 0;
  for (size_t off = 0; off < in.size(); off += k_chunk) {
    isal_zstream s;
    isal_deflate_stateless_init(&s);
    s.level = static_cast<uint32_t>(level);
    s.level_buf = level_buf.data();
    s.level_buf_size = static_cast<uint32_t>(level_buf.size());
    s.gzip_flag = IGZIP_GZIP;
    s.end_of_stream = 1;
    s.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(in.data() + off));
    s.avail_in = static_cast<uint32_t>(std::min(k_chunk, in.size() - off));
    s.next_out = out.data();
    s.avail_out = static_cast<uint32_t>(out.size());
    isal_deflate_stateless(&s);
    total += s.total_out;
  }
  return total;
}

size_t zstd_stream(const std::string& in, int level) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  return ZSTD_compress(out.data(), out.size(), in.data(), in.size(), level);
}

size_t zlib_gunzip(const std::string& gz, std::string& out) {
  z_stream z{};
  inflateInit2(&z, 15 + 32);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  size_t total = 0;
  while (true) {
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    int rc = inflate(&z, Z_NO_FLUSH);
    total += out.size() - z.avail_out;
    if (rc == Z_STREAM_END || rc < 0) {
      break;
    }
  }
  inflateEnd(&z);
  return total;
}

size_t isal_gunzip(const std::string& gz, std::string& out) {
  inflate_state s;
  isal_inflate_init(&s);
  s.crc_flag = ISAL_GZIP;
  s.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(gz.data()));
  s.avail_in = static_cast<uint32_t>(gz.size());
  size_t total = 0;
  while (s.block_state != ISAL_BLOCK_FINISH) {
    s.next_out = reinterpret_cast<uint8_t*>(out.data());
    s.avail_out = static_cast<uint32_t>(out.size());
    if (isal_inflate(&s) < 0) {
      break;
    }
    total += out.size() - s.avail_out;
  }
  return total;
}

}  // namespace

int run_codecs(const std::string& path) {
  auto data = read_file(path);
  if (!data) {
    std::fprintf(stderr, "read %s failed\n", path.c_str());
    return 1;
  }
  const std::string& in = *data;
  std::printf("input %zu bytes\n", in.size());
  std::string gz6;
  for (int level : {1, 6}) {
    std::string gz;
    double s = seconds([&] { gz = zlib_gzip(in, level); });
    report("zlib (gzip/pigz) stream", level, in.size(), gz.size(), s);
    if (level == 6) {
      gz6 = gz;
    }
  }
  for (int level : {1, 2, 3, 4, 5, 6, 7, 9}) {
    size_t out = 0;
    double s = seconds([&] { out = libdeflate_chunks(in, level); });
    report("libdeflate 1MiB members", level, in.size(), out, s);
  }
  for (int level : {0, 1, 2, 3}) {
    size_t out = 0;
    double s = seconds([&] { out = isal_chunks(in, level); });
    report("isal igzip 1MiB members", level, in.size(), out, s);
  }
  for (int level : {1, 3}) {
    size_t out = 0;
    double s = seconds([&] { out = zstd_stream(in, level); });
    report("zstd (one thread)", level, in.size(), out, s);
  }
  std::string buf(1 << 20, '\0');
  size_t n = 0;
  double s = seconds([&] { n = zlib_gunzip(gz6, buf); });
  std::printf("%-28s %8.1f MB/s/core (output)\n", "gunzip zlib", n / s / 1e6);
  s = seconds([&] { n = isal_gunzip(gz6, buf); });
  std::printf("%-28s %8.1f MB/s/core (output)\n", "gunzip isal", n / s / 1e6);
  return 0;
}

}  // namespace kiln::bench
