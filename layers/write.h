// Writing OCI layers from snapshots (OCI image-spec, layer.md "Image Layer
// Filesystem Changeset").
//
// One pass, constant memory: the snapshot is walked depth first, each entry
// becomes a PAX tar record (libarchive), the tar bytes are hashed (the diffID)
// and compressed, and the compressed bytes are hashed (the blob digest),
// counted and written to the caller's file descriptor. The caller commits the
// bytes into the store under the returned digest.
//
// Determinism: the same tree gives the same bytes, whoever writes it (root or
// rootless) and whatever the locale:
//  - entries in depth-first order, children of a directory sorted by name
//    (bytewise), whiteouts before their siblings (the opaque marker first, then
//    `.wh.NAME` entries, then the rest), as layer.md recommends;
//  - numeric uid/gid, empty uname/gname, no atime/ctime, mtimes truncated to
//    whole seconds and clamped to source_date_epoch when it is set;
//  - xattrs in name order as SCHILY.xattr records (security.capability
//    included); never `trusted.overlay.*`, `user.overlay.*` or the host's
//    `security.selinux` label;
//  - hard links within the layer become tar hard links to the first path
//    written; sockets are skipped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "oci/digest.h"
#include "oci/media_types.h"
#include "util/result.h"

namespace kiln::layers {

/// What a layer is written from.
struct SnapshotSource {
  enum class Kind {
    /// An overlayfs upper directory: exactly the changes of one step. Overlay
    /// whiteouts (character devices 0/0, or empty files with a
    /// `*.overlay.whiteout` xattr) become `.wh.NAME`; directories with
    /// `user.overlay.opaque=y` (or `trusted.overlay.opaque=y`) get a
    /// `.wh..wh..opq` entry. A `*.overlay.redirect` or `*.overlay.metacopy`
    /// xattr (overlay features kiln never enables) is an error.
    overlay_upper,
    /// The copying snapshotter: the layer is diff(lower_dir, upper_dir) (see
    /// diff.h); deleted paths become whiteouts.
    tree_pair,
  };
  Kind kind = Kind::overlay_upper;
  std::string upper_dir;  ///< the upper dir, or the new tree of a pair
  std::string lower_dir;  ///< tree_pair only: the view the new tree started from

  static SnapshotSource overlay_upper(std::string upper) {
    return SnapshotSource{Kind::overlay_upper, std::move(upper), {}};
  }
  static SnapshotSource tree_pair(std::string lower, std::string new_tree) {
    return SnapshotSource{Kind::tree_pair, std::move(new_tree), std::move(lower)};
  }
};

struct WriteOptions {
  /// gzip (default; standard multi-member gzip that gunzip, Go and libarchive
  /// read, compressed in independent 1 MiB members by libdeflate on `threads`
  /// workers), zstd (zstd's own worker threads) or none.
  oci::media::Compression compression = oci::media::Compression::gzip;
  /// Codec level; 0 = kiln's default (gzip: libdeflate level 4, measured
  /// within 2% of `gzip -6`'s size at over twice its speed; zstd: 3). gzip
  /// accepts 1..12 (libdeflate's scale; 1..9 mean what gzip's do), zstd 1..19.
  int level = 0;
  /// SOURCE_DATE_EPOCH (seconds): mtimes later than this are clamped to it.
  std::optional<int64_t> source_date_epoch;
  /// Docker media types (`application/vnd.docker.image.rootfs.diff.tar.gzip`)
  /// instead of OCI ones in LayerInfo::media_type.
  bool docker_media_types = false;
  /// Compression worker threads; 0 = one per CPU.
  int threads = 0;
};

/// What write_layer produced.
struct LayerInfo {
  oci::Digest diff_id;     ///< sha256 of the uncompressed tar
  oci::Digest digest;      ///< sha256 of the bytes written to out_fd
  int64_t size = 0;        ///< bytes written to out_fd
  std::string media_type;  ///< the layer media type for `options`
  int64_t entries = 0;     ///< tar entries written (whiteouts included)
  int64_t uncompressed_size = 0;  ///< bytes of tar
};

/// Writes the layer for `source` to `out_fd` (written sequentially from its
/// current offset; not closed, not synced). Errors: not_found when a source
/// directory is missing, unsupported for overlay redirect/metacopy entries,
/// io/syscall for read or write failures (naming the path). On error some
/// bytes may already have been written; the caller discards the file.
Result<LayerInfo> write_layer(const SnapshotSource& source, const WriteOptions& options, int out_fd);

}  // namespace kiln::layers
