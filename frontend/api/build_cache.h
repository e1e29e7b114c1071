// Sharing the build cache past one machine (DESIGN.md "Scaling past one
// machine"): `bud --cache-to` exports the build's cache records and the
// blobs they need as an OCI artifact (cache/cache_artifact.h) to a registry
// or an OCI layout directory; `bud --cache-from` imports such a cache
// lazily: only its mapping is read before the build, a layer is downloaded
// when a step must extract it or when the image is committed. The syntax is
// BuildKit's (`docker buildx build --cache-to/--cache-from`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "frontend/api/registry_api.h"
#include "oci/media_types.h"
#include "util/result.h"

namespace kiln {

class ImageStore;

struct CacheSpec {
  enum class Type { registry, local };
  Type type = Type::registry;
  std::string ref;             ///< registry: REGISTRY/REPOSITORY[:TAG][@DIGEST] (ref=)
  std::string dir;             ///< local: the OCI layout directory (dest= to export, src= to import)
  std::string tag = "latest";  ///< local: the artifact's name in the layout's index.json (tag=)
  /// Export only: mode=max exports every stage's steps; min (the default)
  /// only the steps of the final image's own chain.
  bool mode_max = false;
  /// Export only: compression= of the cache-mount archives (zstd default,
  /// or gzip). Layers are exported as the build made them (--compression),
  /// so an image rebuilt from the cache has the same digest everywhere.
  oci::media::Compression mount_compression = oci::media::Compression::zstd;
  /// cache-mounts=: on export, also export the RUN --mount=type=cache
  /// directories the build's RUN steps mount (every stage's, whatever the
  /// mode: caches mostly serve builder stages), each as one archive blob
  /// keyed by the cache's key (default false). On import, restore those the
  /// cache carries (default true): a cache is restored when a step that runs
  /// creates it, i.e. only when the store has no directory of that cache
  /// yet; an existing local cache, even an empty one, is left as it is. A
  /// blob that cannot be fetched, verified or extracted is a warning and the
  /// cache starts empty.
  bool cache_mounts = false;
  std::string text;  ///< as given, for messages
};

enum class CacheDirection { import, export_ };

/// Parses a --cache-from / --cache-to value:
///   type=registry,ref=REF[,mode=min|max][,compression=zstd|gzip][,cache-mounts=true|false]
///   type=local,dest=DIR[,tag=T][,mode=...]   (export)   type=local,src=DIR[,tag=T]   (import)
///   REF   (a bare reference: type=registry)
/// Errors: usage naming the text and the offending key or value (mode and
/// compression only on export; a registry cache needs ref=, a local one
/// dest= or src=).
Result<CacheSpec> parse_cache_spec(const std::string& text, CacheDirection direction);

/// Prepares, with the invoking user's rights and before kiln enters its
/// user namespace, each type=local --cache-to directory: invoked as root,
/// container root is an unprivileged id that cannot write into root-owned
/// directories, so a missing dest directory is created and given to the id
/// container root maps to. (Registry credentials reach the namespace with
/// the build's others: hand_over_credentials, registry_api.h.) Call before
/// open_store_in_namespace; inside the namespace it does nothing.
/// Errors: io.
Result<void> prepare_cache_access(const std::vector<CacheSpec>& to);

/// The store-wide build-cache limit: ROOT/kiln/config.json
/// {"max_cache_bytes": N} (bytes, or a size string such as "10GB"). nullopt
/// when unset. Errors: parse for a malformed file or value.
Result<std::optional<uint64_t>> store_cache_limit(const ImageStore& store);

struct CacheLimitReport {
  bool ran = false;  ///< false: another command held the store, eviction skipped
  uint64_t records_removed = 0;
  uint64_t bytes_freed = 0;
};

/// Evicts least-recently-used build-cache records until their blobs take at
/// most `max_bytes`, then removes what no longer has a reference (as
/// `kiln prune --keep-storage`). Does not wait: when another command holds
/// the store it does nothing (ran = false). Must not be called while this
/// process holds the store for a build.
Result<CacheLimitReport> enforce_cache_limit(const ImageStore& store, uint64_t max_bytes);

}  // namespace kiln
