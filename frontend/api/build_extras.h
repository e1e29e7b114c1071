// Internal to frontend/api: the parts of a build after the solve that need
// solver/ops (build.cc calls them): `--squash`, `--compression` of cached
// layers and `--output type=local|tar`.
#pragma once

#include <string>
#include <vector>

#include "frontend/api/build.h"
#include "oci/image_config.h"
#include "solver/solve.h"

namespace kiln::cache {
class Store;
struct LoadedImage;
}  // namespace kiln::cache
namespace kiln::solver::ops {
class BuildRunner;
}

namespace kiln::detail {

/// --squash: replaces the layers the build added on top of its base image
/// (the first image or scratch below the target, following each step's
/// parent) with one layer holding all their changes (BuildRunner::squash).
/// `layers` (the target's chain) and `cfg` (diff_ids and history, already
/// filled) are updated: the new history entries stay, all marked
/// empty_layer except the last one that made a layer, which now stands for
/// the squashed layer.
Result<void> squash_new_layers(solver::ops::BuildRunner& runner, const solver::Definition& def, int target,
                               const solver::SolveResult& solved, std::vector<solver::LayerRef>& layers,
                               oci::ImageConfig& cfg);

/// Gives the layers this build made (all of `layers` above the base image's
/// layers: the first image below the target, following each step's parent;
/// none below for scratch) the build's --compression, cache hits included
/// (BuildRunner::convert_layers). The base image's layers keep theirs, as
/// BuildKit's exporter does without force-compression. diffIDs, and so the
/// image config, do not change.
Result<void> compress_new_layers(solver::ops::BuildRunner& runner, const solver::Definition& def, int target,
                                 const solver::SolveResult& solved, std::vector<solver::LayerRef>& layers);

/// --output type=local (a directory: the merged filesystem, merged into
/// what is there, every entry owned by container root, that is by the
/// invoking user) or type=tar (an uncompressed tar of the merged filesystem
/// with the image's owners, mtimes clamped to SOURCE_DATE_EPOCH when set),
/// written to `path`. Must run inside kiln's namespace.
Result<void> export_filesystem(const cache::Store& store, const cache::LoadedImage& image, const BuildConfig& config,
                               OutputType type, const std::string& path);

}  // namespace kiln::detail
