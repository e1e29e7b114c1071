// A minimal busybox rootfs for tests that run commands in a sandbox, built
// from the busybox-static package's /bin/busybox (no kiln fixture involved).
#pragma once

#include <string>
#include <vector>

#include "util/result.h"

namespace kiln::test {

/// Path of a statically linked busybox: $KILN_TEST_BUSYBOX or /bin/busybox.
std::string busybox_path();

/// Fills the existing directory `dir` with: bin/busybox plus one symlink per
/// applet in bin/; etc/passwd (root 0, builder 1000:1000 with home
/// /home/builder, nobody 65534), etc/group (root 0, tty 5, builder 1000,
/// staff 50 listing builder, nogroup 65534); tmp (1777), home/builder (owned
/// by 1000 only when `chown_home`); and each of `extra_files` copied to the
/// rootfs root under its base name, mode 0755.
Result<void> make_busybox_rootfs(const std::string& dir, const std::vector<std::string>& extra_files = {},
                                 bool chown_home = false);

}  // namespace kiln::test
