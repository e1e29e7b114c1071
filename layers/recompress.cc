#include "layers/recompress.h"

#include "layers/compress.h"
#include "layers/decompress.h"
#include "util/strings.h"

namespace kiln::layers {

Result<LayerInfo> recompress_layer(int blob_fd, const RecompressOptions& options, int out_fd) {
  const WriteOptions& out = options.output;
  bool plain = out.compression == oci::media::Compression::none;
  detail::BlobSink sink(out_fd, /*hash=*/!plain);
  KILN_TRY_ASSIGN(auto compressor, detail::make_compressor(out.compression, out.level, out.threads, sink));
  // Decompression runs on the stream's thread; the diffID is hashed and the
  // output compressed (on the codec's own workers) here.
  KILN_TRY_ASSIGN(auto stream, detail::LayerStream::start(blob_fd));
  for (;;) {
    KILN_TRY_ASSIGN(auto block, stream->next());
    if (block.second == 0) {
      break;
    }
    KILN_TRY(compressor->write(block.first, block.second));
  }
  KILN_TRY_ASSIGN(auto totals, stream->finish());
  oci::Digest diff_id = oci::Digest::from_sha256_hex(totals.diff_id_hex);
  if (diff_id != options.expected_diff_id) {
    return Error(ErrorCode::cache_corrupt, cat("recompress layer ", options.expected_diff_id.str(),
                                               ": its blob decompresses to diffID ", diff_id.str()));
  }
  oci::Digest source = oci::Digest::from_sha256_hex(totals.digest_hex);
  if (options.expected_digest && source != *options.expected_digest) {
    return Error(ErrorCode::cache_corrupt,
                 cat("recompress layer ", options.expected_diff_id.str(), ": blob ", options.expected_digest->str(),
                     " has digest ", source.str()));
  }
  KILN_TRY(compressor->finish());
  LayerInfo info;
  info.diff_id = diff_id;
  info.digest = plain ? diff_id : oci::Digest::from_sha256_hex(sink.finish_hex());
  info.size = sink.size();
  info.media_type = std::string(oci::media::layer_type(out.compression, out.docker_media_types));
  info.uncompressed_size = totals.uncompressed_size;
  return info;
}

}  // namespace kiln::layers
