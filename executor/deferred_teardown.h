// Moving a finished sandbox's mount-namespace teardown off the critical path.
// Internal to executor/.
//
// When the sandbox's pid 1 exits, the kernel unmounts its whole mount tree
// (~35 mounts: the rootfs overlay, /proc, /dev, the /sys bind, ...) before the
// parent hears of the exit; on this machine that was about half of a short
// step's wall time. run_sandbox therefore holds the sandbox's mount namespace
// open (an nsfs fd taken before the child starts its setup), so the exit is
// cheap, and hands the fd to one background thread that closes it, which is
// when the kernel tears the tree down. Nothing runs in that namespace by then:
// all its processes are dead. The overlay's upper dir is complete as soon as
// they are (overlay writes through to it), so layers/ may read it at once.
// What must wait for the overlay to be gone (removing the volatile marker,
// mounting the same work dir again) goes through wait_for_teardown().
#pragma once

#include <string>

#include "util/fd.h"

namespace kiln::executor {

/// Queues a mount namespace fd for closing; `volatile_work` (may be "") is
/// the work dir of a volatile overlay in it, whose marker is removed after.
void defer_teardown(UniqueFd mount_ns, std::string volatile_work);

/// Blocks until every queued teardown involving `work` finished.
void wait_for_teardown(const std::string& work);

}  // namespace kiln::executor
