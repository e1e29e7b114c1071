// `kiln commit`, `kiln mount` and `kiln umount` of working containers.
#include <unistd.h>

#include "cache/store.h"
#include "executor/user_namespace.h"
#include "frontend/api/container.h"
#include "frontend/api/container_record.h"
#include "frontend/api/container_solve.h"
#include "util/file.h"
#include "util/strings.h"
#include "util/time.h"

namespace kiln {

namespace {

using detail::ContainerRecord;

// History of the committed image: the last commit's entries, then one per
// run/copy/config since (all empty_layer), and the new layer given to the
// last step that made a filesystem change (or to an entry of its own).
std::vector<oci::HistoryEntry> commit_history(const BuildState& current, const ContainerRecord& rec, bool has_layer,
                                              bool squash, const std::string& created) {
  std::vector<oci::HistoryEntry> h = rec.committed.history;
  if (squash) {
    for (auto& e : h) {
      e.empty_layer = true;  // their layers are in the one squashed layer now
    }
  }
  auto pending = current.pending_history();
  int layer_entry = -1;
  for (size_t i = rec.committed.pending; i < pending.size(); ++i) {
    oci::HistoryEntry e = pending[i].entry;
    if (e.comment == "buildkit.dockerfile.v0") {
      e.comment.clear();  // BuildState's Dockerfile marker; these came from stepwise commands
    }
    e.created = created;
    e.empty_layer = true;
    if (pending[i].op >= 0) {
      layer_entry = static_cast<int>(h.size());
    }
    h.push_back(std::move(e));
  }
  if (!has_layer) {
    return h;
  }
  if (layer_entry < 0) {
    oci::HistoryEntry e;
    e.created = created;
    e.created_by = rec.created_by.empty() ? (squash ? "kiln commit --squash" : "kiln commit") : rec.created_by;
    h.push_back(std::move(e));
    return h;
  }
  auto& e = h[static_cast<size_t>(layer_entry)];
  e.empty_layer = false;
  if (!rec.created_by.empty()) {
    e.created_by = rec.created_by;
  }
  return h;
}

// The layer for everything since the last commit (with squash: since
// scratch). A single new step layer is used as it is.
Result<std::optional<solver::LayerRef>> new_layer(detail::ContainerSolver& solver, const ContainerRecord& rec,
                                                  const detail::SolvedGraph& top, bool squash) {
  solver::OpResult base;
  if (!squash) {
    KILN_TRY_ASSIGN(BuildState committed, BuildState::from_definition(rec.committed.definition));
    KILN_TRY_ASSIGN(detail::SolvedGraph solved, solver.solve(committed));
    base.layers = detail::solved_chain(solved);
  }
  solver::OpResult now;
  now.layers = detail::solved_chain(top);
  return solver.runner().squash(base, now);
}

// How many of the bottom layers are the base image's (the longest common
// prefix of diffIDs: after a squashed commit there is none): they keep their
// compression; everything the container added gets the requested one.
Result<size_t> base_layer_count(const cache::Store& store, const ContainerRecord& rec,
                                const std::vector<solver::LayerRef>& layers) {
  if (rec.image_manifest.empty()) {
    return size_t{0};  // scratch: every layer is the container's own
  }
  KILN_TRY_ASSIGN(oci::Digest manifest, oci::Digest::parse(rec.image_manifest));
  KILN_TRY_ASSIGN(cache::LoadedImage base, store.load_image(manifest));
  const auto& ids = base.config.diff_ids;
  size_t n = 0;
  while (n < layers.size() && n < ids.size() && layers[n].diff_id == ids[n]) {
    ++n;
  }
  return n;
}

}  // namespace

Result<BuiltImage> commit_container(const ImageStore& image_store, const std::string& name,
                                    const ContainerCommitOptions& options, const BuildConfig& config) {
  const cache::Store& store = image_store.store();
  KILN_TRY(detail::validate_container_name(name).context("find working container"));
  KILN_TRY_ASSIGN(std::vector<std::string> names, detail::image_names(options.tags));
  KILN_TRY_ASSIGN(FileLock lock, detail::lock_container(store, name));
  KILN_TRY_ASSIGN(FileLock hold, store.hold_for_write());
  KILN_TRY_ASSIGN(ContainerRecord rec, detail::load_container(store, name));
  std::string what = cat("commit working container `", name, "`");
  KILN_TRY(detail::check_base_image(store, rec).context(what));
  KILN_TRY_ASSIGN(BuildState current, BuildState::from_definition(rec.definition));
  KILN_TRY_ASSIGN(auto solver, detail::ContainerSolver::open(store, rec, config));
  KILN_TRY_ASSIGN(detail::SolvedGraph top, solver->solve(current).context(what));
  KILN_TRY_ASSIGN(auto layer, new_layer(*solver, rec, top, options.squash).context(what));

  std::vector<solver::LayerRef> layers = options.squash ? std::vector<solver::LayerRef>{} : rec.committed.layers;
  if (layer) {
    layers.push_back(*layer);
  }
  KILN_TRY_ASSIGN(size_t base_layers, base_layer_count(store, rec, layers).context(what));
  KILN_TRY(solver->runner().convert_layers(layers, base_layers).context(what));
  std::string created = format_rfc3339({config.source_date_epoch.value_or(now().seconds), 0});
  oci::ImageConfig cfg = current.config();
  cfg.history = commit_history(current, rec, layer.has_value(), options.squash, created);
  cfg.diff_ids.clear();
  for (const auto& l : layers) {
    cfg.diff_ids.push_back(l.diff_id);
  }
  cfg.created = created;
  std::map<std::string, std::string> annotations = rec.annotations;
  for (const auto& [k, v] : options.annotations) {
    annotations[k] = v;
  }
  KILN_TRY_ASSIGN(BuiltImage built, detail::store_image(store, cfg, layers, config, names, annotations).context(what));
  built.steps_run = top.steps_run;
  built.steps_cached = top.steps_cached;

  if (options.remove) {
    KILN_TRY_ASSIGN(FileLock names_lock, detail::lock_container_names(store));
    KILN_TRY(detail::delete_container(store, name));
    return built;
  }
  solver->record(top, rec);
  rec.committed.definition = rec.definition;
  rec.committed.layers = layers;
  rec.committed.history = cfg.history;
  rec.committed.pending = current.pending_history().size();
  rec.committed.count += 1;
  rec.created_by.clear();
  KILN_TRY(detail::write_container(store, rec).context(cat("committed ", built.id, ", but")));
  return built;
}

Result<std::string> mount_container(const ImageStore& image_store, const std::string& name, const BuildConfig& config) {
  const cache::Store& store = image_store.store();
  if (!executor::in_kiln_namespace()) {
    return Error(ErrorCode::invalid_input, cat("mount working container `", name, "`: not inside kiln's namespace"))
        .with_hint("run it in a `kiln unshare` shell, whose mount namespace keeps the mount: "
                   "kiln unshare -- sh -c 'dir=$(kiln mount c); ls $dir'");
  }
  KILN_TRY(detail::validate_container_name(name).context("find working container"));
  KILN_TRY_ASSIGN(FileLock lock, detail::lock_container(store, name));
  KILN_TRY_ASSIGN(FileLock hold, store.hold_for_write());
  KILN_TRY_ASSIGN(ContainerRecord rec, detail::load_container(store, name));
  std::string merged = detail::merged_dir(store, name);
  if (detail::is_mounted(merged)) {
    return merged;
  }
  KILN_TRY(make_dirs(merged));
  KILN_TRY_ASSIGN(auto solver, detail::ContainerSolver::open(store, rec, config));
  solver::OpResult view;
  view.layers = rec.chain;
  KILN_TRY(solver->runner()
               .mount_view_at(view, merged, path_join(detail::container_dir(store, name), "empty"))
               .context(cat("mount working container `", name, "`")));
  return merged;
}

Result<void> unmount_container(const ImageStore& image_store, const std::string& name) {
  const cache::Store& store = image_store.store();
  KILN_TRY(detail::validate_container_name(name).context("find working container"));
  KILN_TRY_ASSIGN(FileLock lock, detail::lock_container(store, name));
  KILN_TRY(detail::load_container(store, name));
  std::string merged = detail::merged_dir(store, name);
  std::string what = cat("unmount working container `", name, "`");
  if (detail::is_mounted(merged)) {
    return solver::ops::BuildRunner::unmount_view(merged).context(what);
  }
  if (is_directory(merged)) {
    // vfs: the view is a copy of the files.
    KILN_TRY(remove_tree(merged).context(what));
  }
  return {};
}

}  // namespace kiln
