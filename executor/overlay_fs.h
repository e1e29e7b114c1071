// Mounting native overlayfs, shared by kiln's own process (mounts.cc) and the
// kiln-sandbox helper (the RUN rootfs). Internal to executor/.
#pragma once

#include <string>
#include <vector>

#include "util/result.h"

namespace kiln::executor {

/// Mounts overlayfs (userxattr) on the existing directory `target`: through
/// fsopen/fsconfig(`lowerdir+` per lower)/fsmount/move_mount, or, when the
/// kernel does not know `lowerdir+`, through mount(2) with the legacy option
/// string. upper "" = read-only overlay (then work must be "" too). Errors
/// carry a hint when the kernel refuses overlay in a user namespace.
Result<void> mount_overlay_at(const std::vector<std::string>& lowers, const std::string& upper,
                              const std::string& work, const std::string& target);

}  // namespace kiln::executor
