#include "solver/ops/layer_convert.h"

#include "layers/recompress.h"
#include "oci/json.h"
#include "util/atomic_file.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln::solver::ops {

namespace {

using oci::media::Compression;

constexpr int k_record_version = 1;

std::string record_path(const cache::Store& store, const oci::Digest& diff_id, Compression c) {
  return path_join(conversions_dir(store), cat(diff_id.hex(), ".", compression_name(c)));
}

// The blob a conversion record names, when the record is sound and the blob
// is in the store with the recorded size; nullopt otherwise (a stale or
// unreadable record is a miss).
std::optional<LayerRef> read_record(const cache::Store& store, const oci::Digest& diff_id, Compression c) {
  auto text = read_file_if_exists(record_path(store, diff_id, c));
  if (!text || !*text) {
    return std::nullopt;
  }
  auto j = oci::parse_json(**text, "conversion record");
  if (!j || !j->is_object()) {
    return std::nullopt;
  }
  oci::JsonReader r(std::move(*j), "conversion record");
  std::string format = r.string("format");
  int64_t version = r.integer("version");
  std::string recorded_diff_id = r.string("diff_id");
  auto digest = oci::Digest::parse(r.string("digest"));
  int64_t size = r.integer("size");
  if (!r.ok() || format != "kiln-conversion" || version != k_record_version || recorded_diff_id != diff_id.str() ||
      !digest || store.blob_size(*digest) != std::optional<int64_t>(size)) {
    return std::nullopt;
  }
  return LayerRef{diff_id, *digest, size, ""};
}

void write_record(const cache::Store& store, const LayerRef& layer, Compression c) {
  oci::Json j = {{"format", "kiln-conversion"},
                 {"version", k_record_version},
                 {"diff_id", layer.diff_id.str()},
                 {"compression", std::string(compression_name(c))},
                 {"digest", layer.digest.str()},
                 {"size", layer.size}};
  Result<void> done = make_dirs(conversions_dir(store));
  if (done) {
    done = write_file_atomic(record_path(store, layer.diff_id, c), oci::dump_json(j));
  }
  if (!done) {
    log::warning("record the conversion of layer ", layer.diff_id.str(), ": ", done.error().render());
  }
}

// Re-encodes the stored blob of `layer`; the new blob is committed only
// when the source matched its digest and diffID.
Result<LayerRef> reencode(const cache::Store& store, const LayerRef& layer, const layers::WriteOptions& options) {
  KILN_TRY_ASSIGN(UniqueFd source, store.open_blob(layer.digest));
  KILN_TRY_ASSIGN(cache::BlobWriter blob, store.begin_blob());
  layers::RecompressOptions ro;
  ro.output = options;
  ro.expected_diff_id = layer.diff_id;
  ro.expected_digest = layer.digest;
  KILN_TRY_ASSIGN(layers::LayerInfo info, layers::recompress_layer(source.get(), ro, blob.fd()));
  KILN_TRY(blob.commit_hashed(info.digest, info.size));
  return LayerRef{info.diff_id, info.digest, info.size, info.media_type};
}

struct Converted {
  LayerRef layer;
  bool reencoded = false;
};

Result<Converted> convert(const cache::Store& store, const LayerRef& layer, const layers::WriteOptions& options) {
  Compression from = oci::media::layer_compression(layer.media_type);
  Compression to = options.compression;
  std::string type(oci::media::layer_type(to, options.docker_media_types));
  if (from == to) {
    LayerRef same = layer;
    same.media_type = type;
    return Converted{same, false};
  }
  if (auto recorded = read_record(store, layer.diff_id, to)) {
    log::debug("layer ", layer.diff_id.str(), ": reuse its ", compression_name(to), " blob ",
               recorded->digest.str());
    recorded->media_type = type;
    return Converted{*recorded, false};
  }
  std::string what = cat("convert layer `", layer.diff_id.str(), "` from ", compression_name(from), " to ",
                         compression_name(to));
  log::debug("layer ", layer.diff_id.str(), ": re-encode ", compression_name(from), " blob ", layer.digest.str(),
             " as ", compression_name(to));
  KILN_TRY_ASSIGN(LayerRef out, reencode(store, layer, options).context(what));
  write_record(store, out, to);
  write_record(store, layer, from);  // converting back is free
  out.media_type = type;
  return Converted{out, true};
}

}  // namespace

std::string conversions_dir(const cache::Store& store) { return path_join(store.cache_dir(), "conversions"); }

std::string_view compression_name(Compression compression) {
  switch (compression) {
    case Compression::none: return "none";
    case Compression::gzip: return "gzip";
    case Compression::zstd: return "zstd";
  }
  return "none";
}

Result<LayerRef> convert_layer(const cache::Store& store, const LayerRef& layer, const layers::WriteOptions& options) {
  KILN_TRY_ASSIGN(Converted c, convert(store, layer, options));
  return c.layer;
}

Result<size_t> convert_layers(const cache::Store& store, std::vector<LayerRef>& layers, size_t first,
                              const layers::WriteOptions& options) {
  size_t reencoded = 0;
  for (size_t i = first; i < layers.size(); ++i) {
    KILN_TRY_ASSIGN(Converted c, convert(store, layers[i], options));
    layers[i] = c.layer;
    reencoded += c.reencoded ? 1 : 0;
  }
  return reencoded;
}

}  // namespace kiln::solver::ops
