// Internal: walking an overlayfs upper directory into tar order.
#pragma once

#include <string>
#include <vector>

#include "layers/tar_emitter.h"
#include "util/fd.h"
#include "util/result.h"

namespace kiln::layers::detail {

/// A directory's children: names sorted bytewise (no "." and "..").
Result<std::vector<std::string>> sorted_children(int dirfd, const std::string& what);

/// Opens `name` in dirfd for reading without following symlinks
/// (O_NOFOLLOW), as a directory when `directory`.
Result<UniqueFd> open_entry(int dirfd, const std::string& name, bool directory, const std::string& path);

/// Reads the xattrs of an entry (through fd when >= 0) and keeps the layer
/// ones (is_layer_xattr); `all` receives the unfiltered list when non-null.
Result<Xattrs> layer_xattrs(int fd, int dirfd, const std::string& name, Xattrs* all);

/// Walks the overlay upper dir `upper` depth first in tar order (write.h),
/// translating overlay whiteouts and opaque dirs into sink calls.
Result<void> walk_overlay_upper(const std::string& upper, EntrySink& sink);

}  // namespace kiln::layers::detail

namespace kiln::layers::detail {

/// The copying snapshotter's change set, diff(lower, upper) (diff.h), into tar
/// order: deleted -> whiteout, added/modified -> entry. Defined in diff.cc.
Result<void> walk_tree_pair(const std::string& lower, const std::string& upper, EntrySink& sink);

}  // namespace kiln::layers::detail
