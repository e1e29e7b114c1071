// kiln_bench_layers: the helper behind bench/layers/run.sh.
//
//   kiln_bench_layers gen-tree DIR [FILES [BYTES]]     deterministic tree (20000 files, ~300 MB)
//   kiln_bench_layers gen-file PATH [BYTES]            one file (1 GiB)
//   kiln_bench_layers write SRC OUT [gzip|zstd|none] [LEVEL] [THREADS]
//   kiln_bench_layers extract BLOB DIR [lower|merged]
//   kiln_bench_layers codecs FILE                      per-codec throughput and ratio
//
// write/extract print one line: seconds, sizes and digests.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "layers/extract.h"
#include "layers/write.h"
#include "util/strings.h"

namespace kiln::bench {
int64_t generate_tree(const std::string& root, int files, int64_t total_bytes);
int64_t generate_file(const std::string& path, int64_t size);
int run_codecs(const std::string& path);
}  // namespace kiln::bench

namespace {

using namespace kiln;

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

int cmd_write(int argc, char** argv) {
  if (argc < 4) {
    return 2;
  }
  layers::WriteOptions o;
  std::string c = argc > 4 ? argv[4] : "gzip";
  o.compression = c == "zstd"   ? oci::media::Compression::zstd
                  : c == "none" ? oci::media::Compression::none
                                : oci::media::Compression::gzip;
  o.level = argc > 5 ? static_cast<int>(parse_int(argv[5]).value_or(0)) : 0;
  o.threads = argc > 6 ? static_cast<int>(parse_int(argv[6]).value_or(0)) : 0;
  int fd = ::open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::perror(argv[3]);
    return 1;
  }
  double t0 = now();
  auto info = layers::write_layer(layers::SnapshotSource::overlay_upper(argv[2]), o, fd);
  double t = now() - t0;
  ::close(fd);
  if (!info) {
    std::fprintf(stderr, "%s\n", info.error().render().c_str());
    return 1;
  }
  std::printf("write %s %.3f s, tar %lld bytes, blob %lld bytes, %lld entries, %s %s\n", c.c_str(), t,
              static_cast<long long>(info->uncompressed_size), static_cast<long long>(info->size),  // NOLINT
              static_cast<long long>(info->entries), info->diff_id.str().c_str(),  // NOLINT
              info->digest.str().c_str());
  return 0;
}

int cmd_extract(int argc, char** argv) {
  if (argc < 4) {
    return 2;
  }
  layers::ExtractOptions o;
  o.target_dir = argv[3];
  o.mode = argc > 4 && std::string(argv[4]) == "merged" ? layers::ExtractMode::merged
                                                         : layers::ExtractMode::overlay_lower;
  int fd = ::open(argv[2], O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    std::perror(argv[2]);
    return 1;
  }
  double t0 = now();
  auto r = layers::extract_layer(fd, o);
  double t = now() - t0;
  ::close(fd);
  if (!r) {
    std::fprintf(stderr, "%s\n", r.error().render().c_str());
    return 1;
  }
  std::printf("extract %.3f s, %lld entries, %lld bytes, %s\n", t, static_cast<long long>(r->entries),  // NOLINT
              static_cast<long long>(r->bytes_written), r->diff_id.str().c_str());  // NOLINT
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "gen-tree" && argc > 2) {
    int files = argc > 3 ? static_cast<int>(parse_int(argv[3]).value_or(20000)) : 20000;
    int64_t bytes = argc > 4 ? parse_int(argv[4]).value_or(0) : 300LL << 20;
    int64_t n = bench::generate_tree(argv[2], files, bytes);
    std::printf("gen-tree %d files, %lld bytes\n", files, static_cast<long long>(n));  // NOLINT
    return n < 0 ? 1 : 0;
  }
  if (cmd == "gen-file" && argc > 2) {
    int64_t bytes = argc > 3 ? parse_int(argv[3]).value_or(0) : 1LL << 30;
    return bench::generate_file(argv[2], bytes) < 0 ? 1 : 0;
  }
  if (cmd == "write") {
    return cmd_write(argc, argv);
  }
  if (cmd == "extract") {
    return cmd_extract(argc, argv);
  }
  if (cmd == "codecs" && argc > 2) {
    return bench::run_codecs(argv[2]);
  }
  std::fprintf(stderr, "usage: see the header of bench/layers/kiln_bench_layers.cc\n");
  return 2;
}
