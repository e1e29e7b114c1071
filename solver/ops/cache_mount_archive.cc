#include "solver/ops/cache_mount_archive.h"

#include "cache/cache_artifact.h"
#include "layers/extract.h"
#include "layers/write.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::solver::ops {

Result<oci::Descriptor> archive_directory(const cache::Store& store, const std::string& dir,
                                          oci::media::Compression compression) {
  if (!is_directory(dir)) {
    return Error(ErrorCode::not_found, cat("archive cache directory `", dir, "`: not a directory"));
  }
  layers::WriteOptions o;
  o.compression = compression == oci::media::Compression::gzip ? oci::media::Compression::gzip
                                                                : oci::media::Compression::zstd;
  KILN_TRY_ASSIGN(cache::BlobWriter blob, store.begin_blob());
  KILN_TRY_ASSIGN(layers::LayerInfo info, layers::write_layer(layers::SnapshotSource::overlay_upper(dir), o, blob.fd())
                                              .context(cat("archive cache directory `", dir, "`")));
  KILN_TRY(blob.commit_hashed(info.digest, info.size));
  return oci::make_descriptor(o.compression == oci::media::Compression::gzip ? cache::k_cache_mount_gzip_type
                                                                             : cache::k_cache_mount_type,
                              info.digest, info.size);
}

Result<void> restore_directory(const cache::Store& store, const oci::Digest& digest, const std::string& dir,
                               bool ignore_chown_errors) {
  KILN_TRY_ASSIGN(UniqueFd fd, store.open_blob(digest));
  layers::ExtractOptions o;
  o.target_dir = dir;
  o.mode = layers::ExtractMode::overlay_lower;
  o.expected_digest = digest;
  o.ownership_errors = ignore_chown_errors ? layers::OwnershipErrors::ignore : layers::OwnershipErrors::fail;
  KILN_TRY(layers::extract_layer(fd.get(), o).context(cat("restore cache directory `", dir, "`")));
  return {};
}

}  // namespace kiln::solver::ops
