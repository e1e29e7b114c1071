// Entering kiln's user namespace (DESIGN.md "One user namespace for kiln's
// own work"): the frontend asks once, at the start of a command that touches
// layer directories (bud, from, run, copy, commit, mount, prune, unshare).
#pragma once

#include <string>
#include <vector>

#include "util/result.h"

namespace kiln {

/// Re-executes this process inside kiln's user + mount namespace unless it
/// already runs there; in the parent this never returns (it exits with the
/// child's status). Errors: sandbox with a hint when user namespaces are
/// unavailable or the id mapping cannot be written.
Result<void> enter_build_namespace(int argc, char** argv);

/// For commands that work on layer directories: opens (creating, and for
/// host root chowning) the store at `root` ("" = default_store_root() as the
/// invoking user sees it) while still outside, fixes KILN_ROOT for the
/// re-executed process, enters kiln's namespace and opens the store there.
Result<class ImageStore> open_store_in_namespace(const std::string& root, int argc, char** argv);

/// `kiln unshare -- CMD`: after enter_build_namespace, replaces this process
/// with CMD (empty: $SHELL). Returns only on error.
Result<void> exec_in_build_namespace(const std::vector<std::string>& command);

/// A one-line description of the id mapping kiln uses
/// ("uid 0 -> 165536 (65536 ids)").
Result<std::string> describe_id_mapping();

}  // namespace kiln
