#include "solver/ops/snapshot.h"

#include <fcntl.h>
#include <unistd.h>

#include "layers/write.h"
#include "solver/ops/layer_cache.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln::solver::ops {

Result<Snapshot> prepare_snapshot(BuildRunner::Impl& impl, const std::vector<LayerRef>& parent, bool need_parent) {
  Snapshot s;
  s.driver = impl.config.driver;
  KILN_TRY_ASSIGN(s.dir, impl.scratch_dir("snap-"));
  s.upper = path_join(s.dir, "upper");
  s.work = path_join(s.dir, "work");
  s.merged = path_join(s.dir, "merged");
  for (const auto& d : {s.upper, s.work, s.merged}) {
    KILN_TRY(make_dirs(d, 0755));
  }
  if (need_parent && !parent.empty()) {
    KILN_TRY_ASSIGN(s.lowers, impl.lowers_of(parent));
  }
  if (s.driver == executor::StorageDriver::vfs) {
    s.vfs_base = path_join(s.dir, "base");
    KILN_TRY(make_dirs(s.vfs_base, 0755));
    if (!s.lowers.empty()) {
      KILN_TRY(executor::copy_lowers_to(s.lowers, s.vfs_base));
      KILN_TRY(executor::copy_lowers_to(s.lowers, s.upper));
    }
  }
  return s;
}

Result<std::string> mount_snapshot(Snapshot& snap, executor::UniqueMount& mount) {
  if (snap.driver == executor::StorageDriver::vfs || snap.lowers.empty()) {
    return snap.upper;
  }
  executor::OverlayMount o{snap.lowers, snap.upper, snap.work, snap.merged};
  if (snap.driver == executor::StorageDriver::fuse_overlayfs) {
    KILN_TRY_ASSIGN(mount, executor::mount_fuse_overlayfs(o));
  } else {
    KILN_TRY_ASSIGN(mount, executor::mount_overlay(o));
  }
  return snap.merged;
}

Result<std::optional<LayerRef>> commit_snapshot(BuildRunner::Impl& impl, Snapshot& snap) {
  const cache::Store& store = *impl.config.store;
  if (snap.driver == executor::StorageDriver::fuse_overlayfs && !snap.lowers.empty()) {
    KILN_TRY(executor::normalize_upper_dir(snap.upper));
  }
  layers::SnapshotSource src = snap.driver == executor::StorageDriver::vfs
                                   ? layers::SnapshotSource::tree_pair(snap.vfs_base, snap.upper)
                                   : layers::SnapshotSource::overlay_upper(snap.upper);
  KILN_TRY_ASSIGN(cache::BlobWriter blob, store.begin_blob());
  KILN_TRY_ASSIGN(layers::LayerInfo info, layers::write_layer(src, impl.config.layer_options, blob.fd()));
  if (info.entries == 0) {
    return std::optional<LayerRef>();
  }
  KILN_TRY(blob.commit_hashed(info.digest, info.size));
  LayerRef ref{info.diff_id, info.digest, info.size, info.media_type};
  if (snap.driver == executor::StorageDriver::vfs) {
    // The vfs tree is a whole rootfs, not a layer: extract the blob when needed.
    return std::optional<LayerRef>(ref);
  }
  log_warning_and_drop(adopt_layer_dir(store, snap.upper, info.diff_id));
  return std::optional<LayerRef>(ref);
}

}  // namespace kiln::solver::ops
