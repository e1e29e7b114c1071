#include "frontend/api/build_extras.h"

#include "cache/store.h"
#include "executor/mounts.h"
#include "executor/user_namespace.h"
#include "layers/write.h"
#include "solver/ops/copy_engine.h"
#include "solver/ops/runner.h"
#include "util/atomic_file.h"
#include "util/file.h"
#include "util/strings.h"
#include "util/temp_dir.h"

namespace kiln::detail {

namespace {

// The op whose filesystem a stage starts from: follow input 0 (the parent
// filesystem of RUN, COPY and WORKDIR) down to an image or scratch.
int base_op(const solver::Definition& def, int target) {
  int op = target;
  while (op >= 0) {
    const solver::Op& o = def.ops[static_cast<size_t>(op)];
    if (std::holds_alternative<solver::ImageSource>(o.attrs) || std::holds_alternative<solver::ScratchSource>(o.attrs) ||
        o.inputs.empty()) {
      return op;
    }
    op = o.inputs[0];
  }
  return -1;
}

}  // namespace

Result<void> squash_new_layers(solver::ops::BuildRunner& runner, const solver::Definition& def, int target,
                               const solver::SolveResult& solved, std::vector<solver::LayerRef>& layers,
                               oci::ImageConfig& cfg) {
  int base = base_op(def, target);
  if (base < 0 || !solved.results[static_cast<size_t>(base)] || !solved.results[static_cast<size_t>(target)]) {
    return Error(ErrorCode::internal, "squash: the base of the target stage was not solved");
  }
  const solver::OpResult& base_fs = *solved.results[static_cast<size_t>(base)];
  const solver::OpResult& top_fs = *solved.results[static_cast<size_t>(target)];
  KILN_TRY_ASSIGN(std::optional<solver::LayerRef> one, runner.squash(base_fs, top_fs).context("squash the new layers"));
  layers = base_fs.layers;
  if (one) {
    layers.push_back(*one);
  }
  cfg.diff_ids.clear();
  for (const auto& l : layers) {
    cfg.diff_ids.push_back(l.diff_id);
  }
  // History: the base's layer entries stay; of the new ones only the last
  // stands for the squashed layer.
  size_t kept = base_fs.layers.size();
  int last_new = -1;
  for (size_t i = 0, seen = 0; i < cfg.history.size(); ++i) {
    if (cfg.history[i].empty_layer) {
      continue;
    }
    if (seen++ >= kept) {
      cfg.history[i].empty_layer = true;
      last_new = static_cast<int>(i);
    }
  }
  if (one && last_new >= 0) {
    cfg.history[static_cast<size_t>(last_new)].empty_layer = false;
  }
  return {};
}

Result<void> export_filesystem(const cache::Store& store, const cache::LoadedImage& image, const BuildConfig& config,
                               OutputType type, const std::string& path) {
  solver::ops::RunnerConfig rc;
  rc.store = &store;
  std::optional<executor::StorageDriver> requested;
  if (!config.storage_driver.empty()) {
    KILN_TRY_ASSIGN(requested, executor::parse_storage_driver(config.storage_driver));
  }
  KILN_TRY_ASSIGN(rc.driver, executor::select_storage_driver(requested, store.tmp_dir(), path_join(store.root(), "kiln")));
  if (auto mapping = executor::current_id_mapping()) {
    rc.ignore_chown_errors = mapping->mode == executor::MappingMode::single_id;
  }
  solver::ops::BuildRunner runner(rc);
  solver::OpResult fs;
  for (size_t i = 0; i < image.manifest.layers.size() && i < image.config.diff_ids.size(); ++i) {
    const auto& l = image.manifest.layers[i];
    fs.layers.push_back(solver::LayerRef{image.config.diff_ids[i], l.digest, l.size, l.media_type});
  }
  KILN_TRY_ASSIGN(std::string view, runner.materialize(fs).context("mount the image's filesystem"));
  if (type == OutputType::tar) {
    KILN_TRY_ASSIGN(TempDir empty, TempDir::create(store.tmp_dir(), "empty-"));
    KILN_TRY_ASSIGN(AtomicFile out, AtomicFile::create(path, 0644));
    layers::WriteOptions wo;
    wo.compression = oci::media::Compression::none;
    wo.source_date_epoch = config.source_date_epoch;
    KILN_TRY(layers::write_layer(layers::SnapshotSource::tree_pair(empty.path(), view), wo, out.fd())
                 .context(cat("write `", path, "`")));
    return out.commit();
  }
  KILN_TRY(make_dirs(path));
  solver::ops::CopyRequest req;
  req.src_root = view;
  req.spec.sources = {"."};
  req.spec.dest = "/";
  req.dest_root = path;
  req.owner = std::make_pair(0u, 0u);  // container root: the invoking user (host root: see host_outputs.h)
  req.chown_errors = rc.ignore_chown_errors ? solver::ops::ChownErrors::ignore : solver::ops::ChownErrors::fail;
  KILN_TRY(solver::ops::copy_files(req).context(cat("export to `", path, "`")));
  return {};
}

}  // namespace kiln::detail
