// Giving a build's layers the compression the build asked for, whatever
// they were first written with (BuildKit's exporter converts layers at
// export in the same way). A cache hit keeps its original blob in the build
// cache (its key and diffID are unchanged); the committed image gets a blob
// of the same tar in the requested compression.
//
// Conversions are remembered in the store, so a second build asking for the
// same compression re-encodes nothing:
//
//   ROOT/kiln/cache/conversions/<diffID hex>.<gzip|zstd|none>
//     {"format":"kiln-conversion","version":1,"diff_id":"sha256:..",
//      "compression":"zstd","digest":"sha256:..","size":N}
//
// written atomically (util/atomic_file.h). A record is a hint: it is used
// only while its blob is in the store with that size (prune removes blobs no
// image or cache record references; the record then goes stale and the
// layer is converted again). A conversion also records the source blob under
// its own compression, so converting back costs nothing.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "cache/store.h"
#include "layers/write.h"
#include "solver/solve.h"

namespace kiln::solver::ops {

/// ROOT/kiln/cache/conversions.
std::string conversions_dir(const cache::Store& store);

/// "gzip", "zstd" or "none".
std::string_view compression_name(oci::media::Compression compression);

/// `layer` with its blob in options.compression: the layer itself when its
/// media type already says so; else the blob a conversion record names; else
/// the stored blob re-encoded in one streaming pass (layers::recompress_layer,
/// codec, level and threads from `options`), verified against the layer's
/// digest and diffID, committed to the store and recorded. The returned
/// media type is the layer type for the compression (Docker's when
/// options.docker_media_types). diff_id is never changed.
///
/// Errors: not_found when the source blob is not in the store;
/// cache_corrupt when it does not match the layer's digest or diffID
/// (nothing is committed then); io for store writes. A record that cannot
/// be written is only a warning.
Result<LayerRef> convert_layer(const cache::Store& store, const LayerRef& layer, const layers::WriteOptions& options);

/// convert_layer on layers[first..] in place (the layers below `first`, a
/// base image's, are kept as they are, as BuildKit does without
/// force-compression). Returns how many layers were re-encoded (records
/// reused and layers already in the compression do not count).
Result<size_t> convert_layers(const cache::Store& store, std::vector<LayerRef>& layers, size_t first,
                              const layers::WriteOptions& options);

}  // namespace kiln::solver::ops
