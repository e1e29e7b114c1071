// Mounts for kiln's own process inside its user + mount namespace (the
// solver's ops mount a RUN or COPY snapshot here), and the storage-driver
// choice.
//
// The seam with layers/ is the format of directories, never a mount:
// - an overlay upper dir is read as a plain directory: a whiteout is a
//   character device 0/0 named like the deleted entry, an opaque directory
//   carries the xattr `user.overlay.opaque=y` (overlayfs in `userxattr` mode,
//   the only mode available in a user namespace);
// - layers/ extracts lower dirs in that same format;
// - with the vfs driver there is no upper dir: the rootfs is a plain copy of
//   the lowers (copy_lowers_to) and layers/ diffs it against its parent.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "executor/overlay_fs.h"
#include "util/result.h"

namespace kiln::executor {

/// How a snapshot's rootfs is assembled (`--storage-driver`).
enum class StorageDriver {
  overlay,         ///< native overlayfs in the user namespace (userxattr)
  fuse_overlayfs,  ///< the fuse-overlayfs program (needs /dev/fuse)
  vfs,             ///< copy the lowers into a plain directory
};

/// "overlay", "fuse-overlayfs", "vfs".
const char* storage_driver_name(StorageDriver driver);
/// Parses a --storage-driver value (also "overlay2" and "fuse_overlayfs").
/// Errors: invalid_input listing the accepted names.
Result<StorageDriver> parse_storage_driver(std::string_view name);

/// Picks the driver for snapshots under `scratch_dir` (a directory on the
/// store's filesystem; overlay support depends on it). `requested` (from
/// --storage-driver) wins and is not probed. Otherwise probes, once per
/// process and directory: native overlay, then fuse-overlayfs when installed
/// and /dev/fuse is usable, then vfs. With a `record_dir`, a native overlay
/// success is also remembered there (a marker file named after the kernel
/// release and the filesystem type of `scratch_dir`), so later processes
/// skip the probe. The choice and the reason are logged at
/// info level. Must run inside kiln's namespace.
Result<StorageDriver> select_storage_driver(std::optional<StorageDriver> requested,
                                            const std::string& scratch_dir, const std::string& record_dir = "");

/// A mount owned by kiln: detached (umount2 MNT_DETACH) on destruction unless
/// release()d. Only meaningful inside kiln's user + mount namespace (R1).
class UniqueMount {
 public:
  UniqueMount() = default;
  /// `volatile_work`: the work dir of a volatile overlay, whose marker is
  /// removed after unmounting ("" = none).
  explicit UniqueMount(std::string target, std::string volatile_work = "")
      : m_target(std::move(target)), m_volatile_work(std::move(volatile_work)) {}
  UniqueMount(UniqueMount&& other) noexcept
      : m_target(std::move(other.m_target)), m_volatile_work(std::move(other.m_volatile_work)) {
    other.m_target.clear();
  }
  UniqueMount& operator=(UniqueMount&& other) noexcept;
  UniqueMount(const UniqueMount&) = delete;
  UniqueMount& operator=(const UniqueMount&) = delete;
  ~UniqueMount();

  const std::string& target() const { return m_target; }
  bool active() const { return !m_target.empty(); }
  /// Keeps the mount; returns its target.
  std::string release();
  /// Unmounts now (lazily, MNT_DETACH) and reports failure.
  Result<void> unmount();

 private:
  std::string m_target;
  std::string m_volatile_work;
};

/// Options of one overlay mount.
struct OverlayMount {
  std::vector<std::string> lowers;  ///< read-only layers, top first; at least one
  std::string upper;                ///< writable layer; "" = read-only overlay
  std::string work;                 ///< overlay's work dir, same fs as upper
  std::string target;               ///< existing directory to mount on
  /// Overlay only; fuse-overlayfs always syncs. See overlay_fs.h.
  Durability durability = Durability::volatile_upper;
};

/// Mounts native overlayfs with `userxattr` through the new mount API,
/// adding each lower with fsconfig `lowerdir+` (Linux 6.8), so 100+ lowers
/// work; when the kernel does not know `lowerdir+`, falls back to the legacy
/// `lowerdir=a:b:c` option string (limited to one page). Errors: sandbox with
/// a hint when the kernel refuses overlay in a user namespace (try
/// `--storage-driver fuse-overlayfs` or `vfs`); invalid_input when the legacy
/// string would be too long or a path contains ':' or ','.
Result<UniqueMount> mount_overlay(const OverlayMount& options);
/// The same with default options (volatile upper); the agreed seam signature.
Result<UniqueMount> mount_overlay(const std::vector<std::string>& lowers, const std::string& upper,
                                  const std::string& work, const std::string& target);

/// Removes overlay's `<work>/work/incompat` marker after a volatile overlay
/// on that work dir was unmounted cleanly, so it can be mounted again.
/// Missing is fine.
Result<void> remove_volatile_marker(const std::string& work);

/// Mounts with the fuse-overlayfs program. Afterwards (once unmounted), the
/// upper dir is converted to the seam format (normalize_upper_dir).
/// Errors: not_found when fuse-overlayfs is missing; sandbox when it fails
/// (stderr included; usually /dev/fuse not accessible).
Result<UniqueMount> mount_fuse_overlayfs(const OverlayMount& options);

/// Converts fuse-overlayfs's on-disk markers in an upper dir to the seam
/// format: `.wh.NAME` files become 0/0 character devices named NAME, and
/// `.wh..wh..opq` files, `user.fuseoverlayfs.opaque` and
/// `trusted.overlay.opaque` become `user.overlay.opaque=y`. Idempotent.
Result<void> normalize_upper_dir(const std::string& upper);

/// The vfs driver: materializes the merged view of `lowers` (top first, in
/// the seam format) into the empty directory `dest`, applying whiteouts and
/// opaque dirs, preserving modes, owners, times, xattrs (except overlay's),
/// symlinks, hard links within the copy, devices, fifos and sockets.
Result<void> copy_lowers_to(const std::vector<std::string>& lowers, const std::string& dest);

/// Name of the xattr marking an opaque directory in the seam format.
inline constexpr const char* k_opaque_xattr = "user.overlay.opaque";

}  // namespace kiln::executor
