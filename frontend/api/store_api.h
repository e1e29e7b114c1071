// The store and image operations of kiln's public API (namespace kiln): what
// `kiln images|tag|rmi|inspect|prune|fsck|pull|push` do, for the CLI and for
// programs linking the library. Errors are kiln::Error values (util/result.h);
// no third-party types appear here.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "frontend/api/registry_api.h"
#include "util/result.h"

namespace kiln {

namespace cache {
class Store;
}

/// Where the store lives: --root, else $KILN_ROOT, else /var/lib/kiln for
/// root and $XDG_DATA_HOME/kiln (or ~/.local/share/kiln) for other users.
std::string default_store_root();

/// A handle on the local image store (cache/store.h documents the layout).
/// Cheap to copy (shared); usable from several threads.
class ImageStore {
 public:
  /// Opens (creating when missing) the store at root ("" = default_store_root()).
  /// Errors: io naming the directory with a hint on permission problems;
  /// cache_corrupt for a foreign or newer store.
  static Result<ImageStore> open(const std::string& root = "");

  const std::string& root() const;
  /// The underlying store, for kiln's own layers (solver ops, CLI internals).
  const cache::Store& store() const { return *m_store; }

 private:
  std::shared_ptr<const cache::Store> m_store;
};

/// One row of `kiln images`.
struct ImageSummary {
  std::string id;                  ///< "sha256:<64 hex>" (the config digest)
  std::vector<std::string> names;  ///< full references, sorted
  std::string digest;              ///< manifest digest
  std::string created;             ///< RFC 3339 from the config ("" when absent)
  int64_t size = 0;                ///< bytes of its blobs (manifest, config, layers) in the store
};

Result<std::vector<ImageSummary>> list_images(const ImageStore& store);
/// `kiln images --json`: [{"id","names","digest","created","size"}], indented.
std::string images_to_json(const std::vector<ImageSummary>& images);
/// Splits a full reference into repository and tag for tables
/// ("docker.io/library/busybox:latest" -> {"docker.io/library/busybox", "latest"}).
std::pair<std::string, std::string> split_repository_tag(const std::string& name);

/// Adds names to the image `source` (a name or id). A short new name gets
/// `localhost/` like buildah. Errors: not_found, invalid_input (bad name).
Result<void> tag_image(const ImageStore& store, const std::string& source, const std::vector<std::string>& new_names);

struct RemovedImage {
  std::string query;  ///< as the user named it
  std::string id;     ///< the image id
  bool untagged_only = false;  ///< a name was removed; the image keeps other names
};

/// `kiln rmi`: a name removes that name (the image goes with its last name);
/// an id removes the image with all its names. An image a working container
/// uses is refused unless force. All queries are resolved before anything is
/// removed, so an unknown name changes nothing.
Result<std::vector<RemovedImage>> remove_images(const ImageStore& store, const std::vector<std::string>& queries,
                                                bool force);

/// `kiln inspect` JSON: {"name","id","digest","manifest":{...},"config":{...}}
/// (two-space indented). Errors: not_found, cache_corrupt when a blob fails
/// verification.
Result<std::string> inspect_image_json(const ImageStore& store, const std::string& name_or_id);

struct PruneSummary {
  uint64_t blobs_removed = 0;
  uint64_t layer_dirs_removed = 0;
  uint64_t temp_files_removed = 0;
  uint64_t cache_records_removed = 0;
  uint64_t bytes_freed = 0;
  /// With cache_mounts: "ID (SIZE)" for each RUN --mount=type=cache
  /// directory removed.
  std::vector<std::string> cache_mounts_removed;
};
struct PruneRequest {
  bool build_cache = false;
  std::optional<uint64_t> keep_storage;  ///< bytes
  /// Also remove RUN --mount=type=cache directories not in use. Open the
  /// store with open_store_in_namespace first: their files belong to
  /// container ids.
  bool cache_mounts = false;
};
Result<PruneSummary> prune_store(const ImageStore& store, const PruneRequest& request);

struct FsckSummary {
  uint64_t blobs_checked = 0;
  uint64_t images_checked = 0;
  std::vector<std::string> problems;
  std::vector<std::string> notes;
};
Result<FsckSummary> fsck_store(const ImageStore& store);

struct PullOptions {
  std::string platform;      ///< "os/arch[/variant]"; "" = the host's
  RegistryOptions registry;  ///< for registry references
};
struct PullSummary {
  std::string id;                  ///< image id
  std::vector<std::string> names;  ///< names given in the store
};
/// Pulls `source` into the store: `oci:DIR[:REF]`, `oci-archive:FILE[:REF]`,
/// `docker-archive:FILE`, or a registry reference (`docker://` optional;
/// a short name is qualified through registries.conf and tried on each
/// unqualified-search registry in turn). Errors: invalid_input for a
/// malformed reference, not_found for a missing source, cache_corrupt when
/// content does not match its digest (nothing is named then), auth and
/// network for registry failures (naming registry, repository and blob).
Result<PullSummary> pull_image(const ImageStore& store, const std::string& source, const PullOptions& options);

struct PushSummary {
  std::string digest;     ///< manifest digest "sha256:..."
  std::string reference;  ///< where it went (full reference for a registry)
  int64_t bytes_uploaded = 0;
  int blobs_uploaded = 0;
  int blobs_skipped = 0;  ///< already on the registry
  int blobs_mounted = 0;  ///< cross-repository mounts
};

/// Pushes the stored image `name` to `dest`: `oci:DIR[:TAG]`,
/// `oci-archive:FILE[:TAG]`, `docker-archive:FILE[:NAME]`, or a registry
/// reference (`docker://` optional). An empty `dest` means `name` itself on
/// its registry (`kiln push reg:5000/team/app:1`); a short name has no
/// registry and is refused. Errors: not_found (no such image), auth,
/// network, cache_corrupt (a damaged blob: its upload is abandoned).
Result<PushSummary> push_image(const ImageStore& store, const std::string& name, const std::string& dest,
                               const RegistryOptions& options = {});

}  // namespace kiln
