// One step's snapshot: the parent's filesystem plus a writable layer, with
// the storage driver's mechanics hidden (overlay/fuse-overlayfs: an upper
// dir over extracted lowers; vfs: a full copy diffed against its parent).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "executor/mounts.h"
#include "solver/ops/runner_impl.h"

namespace kiln::solver::ops {

struct Snapshot {
  executor::StorageDriver driver = executor::StorageDriver::overlay;
  std::string dir;                  ///< scratch dir holding everything below
  std::vector<std::string> lowers;  ///< extracted parent layers, top first (empty: scratch)
  std::string upper;                ///< overlay upper dir (the new layer's content)
  std::string work;                 ///< overlay work dir
  std::string merged;               ///< mountpoint for the merged view
  std::string vfs_base;             ///< vfs: an untouched copy of the parent
};

/// Creates the snapshot directories for a step on `parent`. With
/// `need_parent` false (COPY --link) the parent is not extracted: the step
/// writes into an empty upper dir.
Result<Snapshot> prepare_snapshot(BuildRunner::Impl& impl, const std::vector<LayerRef>& parent, bool need_parent);

/// Mounts the merged view in kiln's own mount namespace (COPY). Overlay
/// without lowers, and --link, need no mount: the upper dir is the root.
/// Returns the root to work in; the mount lives in `mount`.
Result<std::string> mount_snapshot(Snapshot& snap, executor::UniqueMount& mount);

/// Writes the new layer from the snapshot into the store and adopts the
/// upper dir as its extracted dir. nullopt when the step changed nothing.
Result<std::optional<LayerRef>> commit_snapshot(BuildRunner::Impl& impl, Snapshot& snap);

}  // namespace kiln::solver::ops
