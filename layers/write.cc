#include "layers/write.h"

#include "layers/compress.h"
#include "layers/snapshot_walk.h"
#include "layers/tar_emitter.h"
#include "layers/utf8_locale.h"
#include "util/strings.h"

namespace kiln::layers {

Result<LayerInfo> write_layer(const SnapshotSource& source, const WriteOptions& options, int out_fd) {
  detail::ScopedUtf8Locale locale;
  bool plain = options.compression == oci::media::Compression::none;
  detail::BlobSink sink(out_fd, /*hash=*/!plain);
  KILN_TRY_ASSIGN(auto compressor, detail::make_compressor(options.compression, options.level, options.threads, sink));
  detail::TarEmitter tar(options.source_date_epoch, *compressor);
  KILN_TRY(tar.open());
  if (source.kind == SnapshotSource::Kind::overlay_upper) {
    KILN_TRY(detail::walk_overlay_upper(source.upper_dir, tar).context(
        cat("write layer from overlay upper dir `", source.upper_dir, "`")));
  } else {
    KILN_TRY(detail::walk_tree_pair(source.lower_dir, source.upper_dir, tar)
                 .context(cat("write layer from the diff of `", source.lower_dir, "` and `", source.upper_dir, "`")));
  }
  KILN_TRY(tar.finish().context("write layer"));
  LayerInfo info;
  info.diff_id = oci::Digest::from_sha256_hex(tar.diff_id_hex());
  info.digest = plain ? info.diff_id : oci::Digest::from_sha256_hex(sink.finish_hex());
  info.size = sink.size();
  info.media_type = std::string(oci::media::layer_type(options.compression, options.docker_media_types));
  info.entries = tar.entries();
  info.uncompressed_size = tar.tar_size();
  return info;
}

}  // namespace kiln::layers
