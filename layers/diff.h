// Diff of two directory trees, for the copying snapshotter (used where
// overlayfs is refused): what changed between the view a step started from
// and the tree it left. The overlay path needs no diff: its upper dir is the
// change set.
#pragma once

#include <sys/stat.h>

#include <functional>
#include <string>

#include "util/result.h"

namespace kiln::layers {

enum class ChangeKind { added, modified, deleted };

struct Change {
  ChangeKind kind = ChangeKind::added;
  std::string path;  ///< relative to the roots, no leading "/" ("etc/passwd")
  struct stat st {};  ///< lstat of the new entry (added/modified); zero for deleted
};

using ChangeVisitor = std::function<Result<void>(const Change&)>;

/// Compares `lower_dir` with `new_dir` and calls `visit` for each change in
/// layer order: depth first, within a directory deletions first, then the
/// rest by name. An entry whose type changed is reported deleted, then added.
/// Below an added directory every entry is reported added. Unchanged
/// directories that contain changes are reported modified (so a layer records
/// their metadata, as containerd's writer does).
///
/// Two entries are the same when type, mode, owner, size, device number,
/// symlink target, xattrs (minus overlay's and security.selinux) and mtime
/// (seconds and nanoseconds) agree; when both mtimes have zero nanoseconds
/// (a filesystem with coarse timestamps) the contents of regular files are
/// compared too. Like containerd, a rewrite that restores size and the exact
/// mtime is not seen. Memory is bounded by the depth of the trees. Errors:
/// not_found when a root is missing; the visitor's error stops the walk.
Result<void> diff(const std::string& lower_dir, const std::string& new_dir, const ChangeVisitor& visit);

}  // namespace kiln::layers
