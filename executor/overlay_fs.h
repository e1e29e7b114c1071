// Mounting native overlayfs, shared by kiln's own process (mounts.cc) and the
// kiln-sandbox helper (the RUN rootfs). Internal to executor/.
#pragma once

#include <string>
#include <vector>

#include "util/result.h"

namespace kiln::executor {

/// Whether overlay syncs the upper dir (fsync, and a syncfs of the upper
/// filesystem at unmount). A build step's upper dir becomes a layer blob that
/// is written and fsynced on its own, and a crash discards an unfinished
/// snapshot anyway, so kiln skips overlay's syncs by default: on a busy
/// machine the unmount-time syncfs of the store's filesystem was the largest
/// single cost of a short RUN step. A volatile mount leaves
/// `<work>/work/incompat/volatile` behind; remove_volatile_marker() (mounts.h)
/// clears it
/// after a clean unmount so the work dir can be mounted again.
enum class Durability { volatile_upper, synced };

/// Mounts overlayfs (userxattr) on the existing directory `target`: through
/// fsopen/fsconfig(`lowerdir+` per lower)/fsmount/move_mount, or, when the
/// kernel does not know `lowerdir+`, through mount(2) with the legacy option
/// string. upper "" = read-only overlay (then work must be "" too). Errors
/// carry a hint when the kernel refuses overlay in a user namespace.
Result<void> mount_overlay_at(const std::vector<std::string>& lowers, const std::string& upper,
                              const std::string& work, const std::string& target,
                              Durability durability = Durability::volatile_upper);


}  // namespace kiln::executor
