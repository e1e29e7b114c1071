// Applying OCI layers to directories (OCI image-spec, layer.md "Applying
// Changesets"), safely and at disk speed.
//
// The blob is read once on a thread of its own: its compression is detected
// from the bytes (gzip, zstd or none), its digest and diffID are computed
// while streaming, and the tar entries are applied as they arrive.
//
// Safety (STYLE.md R3): every entry is placed through a directory fd resolved
// inside the target (openat2 RESOLVE_IN_ROOT, see safe_path.h):
//  - absolute names are taken relative to the target (`/etc/x` -> `etc/x`);
//  - a name or hard link target with a `..` component is refused (error
//    naming the entry), as GNU tar does;
//  - symlinks in parent directories are followed as if the target were "/",
//    so they never lead outside; the entry itself never follows a symlink;
//  - hard links resolve inside the target (a link to `/etc/passwd` links
//    `target/etc/passwd` or fails);
//  - `.wh.` names anywhere but the last component, whiteouts of `.`, `..`
//    or `.wh.*`, and overlay's private xattrs (`trusted.overlay.*`,
//    `user.overlay.*`) in a layer are refused or dropped.
//
// Ownership follows containers/storage: chown failures (an id outside the
// user namespace, or no privilege) are errors naming the file and the ids,
// with a hint about /etc/subuid, unless `ownership_errors` is `ignore` (their
// `ignore_chown_errors`, for single-id namespaces): then files keep the
// extracting user's ids and one warning is logged. Device nodes that cannot be
// created (EPERM, rootless) are skipped with one warning. xattrs that cannot be
// set (security.capability without CAP_SETFCAP, a filesystem without user
// xattrs) are skipped with one warning per name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "oci/digest.h"
#include "oci/media_types.h"
#include "util/result.h"

namespace kiln::layers {

enum class ExtractMode {
  /// Write a directory used as an overlay lower dir: whiteouts become
  /// character devices 0/0 (which Linux >= 5.8 lets unprivileged users
  /// create), opaque whiteouts become the xattr `user.overlay.opaque=y` (what
  /// overlay mounted with `userxattr` reads). Hard links to files of lower
  /// layers are materialised by copying from `lower_dirs`; parent directories
  /// the layer does not list take their metadata from `lower_dirs`.
  overlay_lower,
  /// Apply onto a full rootfs: whiteouts delete, an opaque whiteout empties
  /// its directory of everything lower layers put there, later entries win.
  merged,
};

enum class OwnershipErrors { fail, ignore };

struct ExtractOptions {
  /// overlay_lower: must not exist or be empty; it is created (mode 0755, the
  /// parent must exist). merged: must exist.
  std::string target_dir;
  ExtractMode mode = ExtractMode::overlay_lower;
  /// Checked against the sha256 of the uncompressed stream when set.
  std::optional<oci::Digest> expected_diff_id;
  /// overlay_lower: the lower layers' dirs, nearest (topmost) first, as in
  /// overlay's lowerdir= option.
  std::vector<std::string> lower_dirs;
  /// Checked against the sha256 of the blob's bytes when set.
  std::optional<oci::Digest> expected_digest;
  OwnershipErrors ownership_errors = OwnershipErrors::fail;
};

struct ExtractResult {
  oci::Digest diff_id;             ///< sha256 of the uncompressed tar
  oci::Digest digest;              ///< sha256 of the blob bytes read
  oci::media::Compression compression = oci::media::Compression::none;  ///< detected
  int64_t compressed_size = 0;     ///< blob bytes read
  int64_t uncompressed_size = 0;   ///< tar bytes
  int64_t entries = 0;             ///< tar entries read
  int64_t files = 0;               ///< regular files written (hard links not counted)
  int64_t directories = 0;
  int64_t symlinks = 0;
  int64_t hardlinks = 0;           ///< hard link entries (linked or copied from a lower layer)
  int64_t whiteouts = 0;           ///< `.wh.NAME` entries applied
  int64_t opaque_dirs = 0;         ///< `.wh..wh..opq` entries applied
  int64_t special_files = 0;       ///< devices and fifos created
  int64_t devices_skipped = 0;     ///< device nodes that could not be created
  int64_t xattrs_skipped = 0;      ///< xattrs that could not be set
  int64_t ownership_skipped = 0;   ///< chown failures ignored (OwnershipErrors::ignore)
  int64_t bytes_written = 0;       ///< regular file data written
};

/// Applies the layer blob read from `blob_fd` (borrowed; read from its
/// current offset to the end) to options.target_dir.
///
/// Errors: cache_corrupt for a corrupt or truncated stream or a digest/diffID
/// mismatch; invalid_input for an unsafe entry (named); syscall/io for
/// filesystem failures (naming the entry). On any error in overlay_lower mode
/// everything written is removed (and target_dir too when this call created
/// it). merged mode cannot undo deletions: on error the rootfs is partially
/// updated and the caller must discard it (extract into a scratch copy when
/// that matters).
Result<ExtractResult> extract_layer(int blob_fd, const ExtractOptions& options);

}  // namespace kiln::layers
