// The shared build cache's exchange format (`bud --cache-to/--cache-from`,
// DESIGN.md "Scaling past one machine"): an OCI artifact that carries build-
// cache records (the same records LocalKeyIndex keeps, key_index.h) and the
// blobs they need, so a cache made on one machine hits on another. Same
// format in a registry (type=registry) and in an OCI image layout directory
// (type=local).
//
// The artifact (OCI image-spec v1.1 manifest.md, "Guidelines for Artifact
// Usage"; BuildKit's registry cache is an image manifest the same way):
//
//   manifest  mediaType    application/vnd.oci.image.manifest.v1+json
//             artifactType application/vnd.kiln.build-cache.v1
//             config       the mapping (mediaType k_cache_config_type, below)
//             layers       every blob a record or cache mount needs, each once:
//                          layer blobs with their own layer media types, cache-mount
//                          archives with k_cache_mount_type (or k_cache_mount_gzip_type):
//                          a tar of the cache's data directory (solver/ops/cache_mount_archive.h)
//             annotations  io.kiln.cache.mode = min | max
//
//   mapping (JSON, compact, sorted keys):
//     {"version": 1,
//      "keyScheme": "kiln-cache-v1",          the solver's k_key_scheme: other schemes are refused
//      "mode": "min" | "max",
//      "records": [CacheRecord JSON...],      cache_record_to_json(); blobs must be artifact layers
//      "cacheMounts": [{"key": HEX,           CacheMountKey::hex() (cache/cache_mounts.h)
//                       "id": ID,             the mount's id, for messages
//                       "meta": {...},        the key fields of its meta.json (no times)
//                       "digest": DIGEST}]}   an artifact layer: tar of the cache's data dir
//
// A type=local cache is an OCI image layout (image-layout.md): DIR/oci-layout,
// DIR/blobs/sha256/<hex>, DIR/index.json whose entry for the artifact has
// org.opencontainers.image.ref.name = the tag ("latest" by default).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cache/key_index.h"
#include "cache/store.h"
#include "oci/json.h"
#include "oci/manifest.h"

namespace kiln::cache {

inline constexpr std::string_view k_cache_artifact_type = "application/vnd.kiln.build-cache.v1";
inline constexpr std::string_view k_cache_config_type = "application/vnd.kiln.build-cache.config.v1+json";
inline constexpr std::string_view k_cache_mount_type = "application/vnd.kiln.cache-mount.v1.tar+zstd";
inline constexpr std::string_view k_cache_mount_gzip_type = "application/vnd.kiln.cache-mount.v1.tar+gzip";
inline constexpr std::string_view k_cache_mode_annotation = "io.kiln.cache.mode";
inline constexpr int k_cache_mapping_version = 1;
/// Largest mapping accepted (bytes): a cache of 100,000 steps is ~60 MB.
inline constexpr int64_t k_max_cache_mapping_bytes = 256LL << 20;

struct CacheMountEntry {
  std::string key;   ///< 64 hex digits (CacheMountKey::hex())
  std::string id;    ///< the mount's id, for messages
  oci::Json meta = oci::Json::object();
  oci::Digest digest;  ///< the archive blob (an artifact layer)
};

struct CacheMapping {
  std::string key_scheme;
  std::string mode = "min";
  std::vector<CacheRecord> records;
  std::vector<CacheMountEntry> mounts;
};

/// The mapping's bytes (compact JSON, records sorted by key).
std::string serialize_cache_mapping(const CacheMapping& mapping);

/// Parses a mapping. Errors: parse naming `what` for malformed JSON (a
/// truncated document), a missing field or a malformed record or digest;
/// unsupported for another version or, when `key_scheme` is not empty, another
/// key scheme (a cache from an incompatible kiln).
Result<CacheMapping> parse_cache_mapping(std::string_view bytes, std::string_view key_scheme, std::string_view what);

/// A cache artifact ready to push or write: its manifest and mapping are
/// stored as blobs in `store`, and `image` describes it like a stored image
/// (record.manifest, manifest, manifest_bytes; config = the mapping) so
/// registry::push_image and write_cache_layout take it. `blobs` are the
/// descriptors of the layers (record and cache-mount blobs, each once, in
/// the order given).
struct CacheArtifact {
  LoadedImage image;
  std::string mapping_bytes;
};
Result<CacheArtifact> make_cache_artifact(const Store& store, const CacheMapping& mapping,
                                          const std::vector<oci::Descriptor>& blobs);

/// Checks that manifest bytes are a kiln build-cache artifact and parses
/// them. Errors: parse (not a manifest), unsupported (another artifact type
/// or a config that is not a kiln mapping), naming `what`.
Result<oci::Manifest> parse_cache_manifest(std::string_view bytes, std::string_view what);

/// Writes the artifact to the OCI layout `dir` (created when missing) under
/// `tag`: blobs that are already in dir are not copied again (so records
/// whose blobs came from dir need not be in the store), the others are
/// copied from the store and verified; then index.json names the manifest
/// `tag` (replacing an earlier entry with that name). Errors: io naming the
/// path, not_found for a blob neither in dir nor in the store.
Result<void> write_cache_layout(const Store& store, const CacheArtifact& artifact, const std::string& dir,
                                const std::string& tag);

/// A cache artifact found in an OCI layout directory.
struct LayoutCache {
  oci::Manifest manifest;
  oci::Digest manifest_digest;
  std::string mapping_bytes;  ///< verified against manifest.config
};

/// Reads the artifact named `tag` in the layout `dir`: index.json, then the
/// manifest and the mapping, each verified against its digest. nullopt when
/// dir has no index.json or no entry named tag. Errors: parse,
/// cache_corrupt (a blob that does not match its digest), unsupported (not a
/// kiln cache), io.
Result<std::optional<LayoutCache>> read_cache_layout(const std::string& dir, const std::string& tag);

/// Copies blob `d` from the layout `dir` into the store, verifying it.
/// Errors: not_found when dir lacks it, cache_corrupt when it does not
/// match its digest (nothing is kept).
Result<void> fetch_layout_blob(const Store& store, const std::string& dir, const oci::Descriptor& d);

}  // namespace kiln::cache
