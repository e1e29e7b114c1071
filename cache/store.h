// The local store: content-addressed blobs and named images in an OCI image
// layout, plus kiln's private records beside it (DESIGN.md "Store layout is
// OCI"; STYLE.md K5).
//
// On-disk layout (format version 1). ROOT is --root / $KILN_ROOT / the default.
//
//   ROOT/oci-layout              {"imageLayoutVersion":"1.0.0"}            (image-layout.md)
//   ROOT/index.json              OCI image index; one entry per (image, name):
//                                  annotations "org.opencontainers.image.ref.name" = the full
//                                  normalized reference (absent for an unnamed image) and
//                                  "io.kiln.image.id" = the config digest (the image id)
//   ROOT/blobs/sha256/<hex>      blobs, named by the SHA-256 of their bytes (no sharding, so
//                                  skopeo `oci:ROOT:NAME` and umoci read the store directly)
//   ROOT/kiln/store.json         {"format":"kiln-store","version":1}; a newer version is refused
//   ROOT/kiln/locks/index.lock   flock: held exclusively while index.json is read-modified-written
//   ROOT/kiln/locks/gc.lock      flock: shared by every writing command, exclusive for prune
//   ROOT/kiln/tmp/               temp files and directories (same filesystem as blobs/, so a
//                                  finished blob is renamed into place); prune removes leftovers
//   ROOT/kiln/layers/<hex>/diff/ an extracted layer (hex of its diffID), an overlay lower dir
//   ROOT/kiln/cache/             build-cache records (cache/key_index.h)
//   ROOT/kiln/containers/<name>/ working containers (container.json + their directories)
//   ROOT/kiln/cache-mounts/      RUN --mount=type=cache directories (cache/cache_mounts.h)
//
// Every write is a temp file + fsync + rename (util/atomic_file.h), so a kiln
// killed at any point leaves either the old or the new file, at worst an
// orphan temp file. Blobs are verified against their digest when written and
// when read for use.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "oci/descriptor.h"
#include "oci/digest.h"
#include "oci/image_config.h"
#include "oci/index.h"
#include "oci/manifest.h"
#include "oci/reference.h"
#include "util/fd.h"
#include "util/file_lock.h"
#include "util/hasher.h"
#include "util/result.h"

namespace kiln::cache {

inline constexpr int k_store_version = 1;
inline constexpr std::string_view k_image_id_annotation = "io.kiln.image.id";

struct StoreOptions {
  std::string root;  ///< store directory; created when missing
  /// Owner given to the store's directories when kiln runs as host root:
  /// the host ids container root maps to in kiln's user namespace, so the
  /// namespace can write them (DESIGN.md "One user namespace").
  std::optional<std::pair<uid_t, gid_t>> dir_owner;
};

/// One image in the store: a manifest and the names pointing at it.
struct ImageRecord {
  oci::Descriptor manifest;       ///< as listed in index.json (digest, size, media type)
  oci::Digest id;                 ///< the config digest (image id)
  std::vector<std::string> names; ///< full normalized references, sorted
};

/// An image with its manifest and config read (and verified) from blobs.
struct LoadedImage {
  ImageRecord record;
  oci::Manifest manifest;
  std::string manifest_bytes;
  oci::ImageConfig config;
  std::string config_bytes;
};

/// Writes one blob: bytes go to a temp file in ROOT/kiln/tmp (through write(),
/// which hashes them, or straight to fd() by a streaming writer that computes
/// the digest itself); commit() renames the file to blobs/sha256/<hex>.
/// Destroying an uncommitted writer removes the temp file.
class BlobWriter {
 public:
  BlobWriter(BlobWriter&&) noexcept;
  BlobWriter& operator=(BlobWriter&&) noexcept;
  ~BlobWriter();

  int fd() const { return m_fd.get(); }
  /// Appends bytes (hashed as they pass).
  Result<void> write(std::string_view data);
  /// Bytes written through write().
  uint64_t size() const { return m_size; }

  /// For bytes written through write(): finishes the hash; when `expected`
  /// is given and differs, fails with cache_corrupt and keeps nothing.
  /// Returns the blob's digest.
  Result<oci::Digest> commit(const std::optional<oci::Digest>& expected = std::nullopt);
  /// For bytes a streaming writer put into fd() while hashing them itself:
  /// checks the file size equals `size` and stores it as `digest`.
  Result<void> commit_hashed(const oci::Digest& digest, int64_t size);

 private:
  friend class Store;
  BlobWriter() = default;
  Result<void> finish_into(const oci::Digest& digest);
  UniqueFd m_fd;
  std::string m_tmp_path;
  std::string m_blobs_dir;
  Sha256 m_hash;
  uint64_t m_size = 0;
};

/// The store. Cheap to open; safe to use from several processes at once
/// (index updates hold index.lock; blob writes are atomic renames). Not
/// thread-safe per object for index updates beyond what the lock gives:
/// threads may share one Store for blob reads and writes.
class Store {
 public:
  /// Opens the store at options.root, creating the layout when missing.
  /// Errors: io naming the directory (with a hint when permission is
  /// denied), cache_corrupt for a foreign or newer store format.
  static Result<Store> open(const StoreOptions& options);

  const std::string& root() const { return m_root; }
  std::string blob_path(const oci::Digest& digest) const;
  std::string tmp_dir() const;
  /// Directory of an extracted layer: ROOT/kiln/layers/<hex>/diff.
  std::string layer_dir(const oci::Digest& diff_id) const;
  std::string layers_root() const;
  std::string cache_dir() const;
  std::string containers_dir() const;
  /// ROOT/kiln/cache-mounts (cache/cache_mounts.h); created on first use.
  std::string cache_mounts_dir() const;

  // ---- blobs ----
  bool has_blob(const oci::Digest& digest) const;
  /// Size in bytes, or nullopt when absent.
  std::optional<int64_t> blob_size(const oci::Digest& digest) const;
  Result<BlobWriter> begin_blob() const;
  /// Stores bytes as a blob (no-op when present); returns its digest.
  Result<oci::Digest> put_blob(std::string_view bytes) const;
  /// Reads a whole (small) blob and verifies it: cache_corrupt naming the
  /// digest and path when the bytes do not match; not_found when absent.
  Result<std::string> read_blob(const oci::Digest& digest) const;
  /// Opens a blob for streaming; the reader verifies the digest itself.
  Result<UniqueFd> open_blob(const oci::Digest& digest) const;
  /// Streams the whole blob through SHA-256. cache_corrupt on mismatch.
  Result<void> verify_blob(const oci::Digest& digest) const;

  // ---- images (index.json) ----
  Result<std::vector<ImageRecord>> list_images() const;
  /// Finds an image by id (`sha256:HEX`, `HEX`, or a unique prefix of at
  /// least 12 hex digits), by name (a short name `X` is tried as
  /// `localhost/X` then `docker.io/library/X`), or by `name@digest`.
  /// nullopt when nothing matches; invalid_input for a malformed name or an
  /// ambiguous id prefix.
  Result<std::optional<ImageRecord>> find_image(std::string_view name_or_id) const;
  /// find_image, with a not_found error naming the image when absent.
  Result<ImageRecord> resolve_image(std::string_view name_or_id) const;
  /// Reads and verifies an image's manifest and config.
  Result<LoadedImage> load_image(const oci::Digest& manifest_digest) const;
  Result<LoadedImage> load_image(const ImageRecord& record) const { return load_image(record.manifest.digest); }

  /// Records an image whose blobs are all present: each name (a full
  /// reference) is moved to it from any image that had it; with no names it
  /// is kept unnamed. Errors: not_found when a referenced blob is missing.
  Result<void> add_image(const oci::Descriptor& manifest, const std::vector<std::string>& names) const;
  /// Adds names to an existing image.
  Result<void> tag_image(const oci::Digest& manifest_digest, const std::vector<std::string>& names) const;
  /// Removes one name (a full reference). When it was the image's last
  /// entry, the image leaves the index (its blobs are left to prune).
  /// Errors: not_found when no image has the name.
  Result<void> untag(const std::string& name) const;
  /// Removes every index entry of an image (blobs are left to prune).
  Result<void> remove_image(const oci::Digest& manifest_digest) const;

  // ---- locking ----
  /// Shared hold on gc.lock for a command that writes blobs or records;
  /// prune waits for it. Release by destroying the FileLock.
  Result<FileLock> hold_for_write() const;
  Result<FileLock> lock_for_gc() const;
  Result<FileLock> lock_index() const;

  /// Normalizes a name given by a user for storing: a short name gets
  /// `localhost/` (like buildah: `app:1` -> `localhost/app:1`).
  static Result<oci::Reference> normalize_new_name(std::string_view name);

 private:
  Result<void> init(const StoreOptions& options);
  Result<oci::Index> read_index() const;
  Result<void> write_index(const oci::Index& index) const;
  std::string m_root;
};

}  // namespace kiln::cache
