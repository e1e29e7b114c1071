// Working containers: from, list, inspect, run/copy/config steps, rm.
#include "frontend/api/container.h"

#include <algorithm>

#include "cache/store.h"
#include "frontend/api/container_record.h"
#include "frontend/api/container_solve.h"
#include "oci/json.h"
#include "oci/reference.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/time.h"

namespace kiln {

namespace {

using detail::ContainerRecord;

ContainerInfo info_of(const cache::Store& store, const ContainerRecord& r) {
  ContainerInfo i;
  i.name = r.name;
  i.id = r.id;
  i.image = r.image_manifest.empty() ? "scratch" : (r.image_name.empty() ? r.image_id : r.image_name);
  i.image_id = r.image_id;
  i.created = r.created;
  std::string merged = detail::merged_dir(store, r.name);
  i.mount_point = detail::is_mounted(merged) ? merged : "";
  i.commits = r.committed.count;
  return i;
}

// buildah's default name: the image's last path component without the tag.
std::string base_name(const std::string& image_name) {
  if (image_name.empty()) {
    return "working-container";
  }
  auto ref = oci::parse_reference(image_name);
  std::string path = ref ? ref->path : image_name;
  return path_basename(path) + "-working-container";
}

Result<std::string> allocate_name(const cache::Store& store, const std::string& wanted, const std::string& image_name) {
  if (!wanted.empty()) {
    KILN_TRY(detail::validate_container_name(wanted));
    if (path_exists(path_join(detail::container_dir(store, wanted), "container.json"))) {
      return Error(ErrorCode::invalid_input, cat("the container name `", wanted, "` is already in use"))
          .with_hint(cat("choose another --name, or remove it with `kiln rm ", wanted, "`"));
    }
    return wanted;
  }
  std::string base = base_name(image_name);
  for (int n = 0;; ++n) {
    std::string name = n == 0 ? base : cat(base, "-", n);
    if (!path_exists(path_join(detail::container_dir(store, name), "container.json"))) {
      return name;
    }
  }
}

struct Base {
  BuildState state = BuildState::scratch();
  ContainerRecord rec;
};

Result<Base> base_of(const ImageStore& image_store, const std::string& image, const FromOptions& o) {
  Base b;
  if (image == "scratch") {
    return b;
  }
  const cache::Store& store = image_store.store();
  KILN_TRY_ASSIGN(EnsuredImage e, ensure_image(image_store, image, o.pull, o.registry, o.platform));
  KILN_TRY_ASSIGN(oci::Digest manifest, oci::Digest::parse(e.digest));
  KILN_TRY_ASSIGN(cache::LoadedImage img, store.load_image(manifest).context(cat("load image `", image, "`")));
  KILN_TRY_ASSIGN(auto records, store.list_images());
  ResolvedImage r;
  for (const auto& rec : records) {
    if (rec.manifest.digest == manifest && !rec.names.empty()) {
      r.ref = rec.names.front();  // as resolve_base_image names it for FROM
      break;
    }
  }
  std::string name = r.ref.empty() ? e.name : r.ref;
  r.ref = name.empty() ? e.id : name;
  r.manifest = manifest;
  r.id = img.manifest.config.digest;
  r.config = img.config;
  if (img.manifest.layers.size() != img.config.diff_ids.size()) {
    return Error(ErrorCode::cache_corrupt, cat("image `", image, "` lists ", img.manifest.layers.size(),
                                               " layers but ", img.config.diff_ids.size(), " diffIDs"));
  }
  for (size_t i = 0; i < img.manifest.layers.size(); ++i) {
    const auto& l = img.manifest.layers[i];
    b.rec.committed.layers.push_back(solver::LayerRef{img.config.diff_ids[i], l.digest, l.size, l.media_type});
  }
  b.rec.chain = b.rec.committed.layers;
  b.rec.committed.history = img.config.history;
  b.rec.image_name = name;
  b.rec.image_id = r.id.str();
  b.rec.image_manifest = manifest.str();
  b.state = BuildState::image(r);
  return b;
}

}  // namespace

Result<ContainerInfo> create_container(const ImageStore& image_store, const std::string& image,
                                       const FromOptions& options) {
  const cache::Store& store = image_store.store();
  if (!options.name.empty()) {
    KILN_TRY(detail::validate_container_name(options.name));
  }
  KILN_TRY_ASSIGN(Base b, base_of(image_store, image, options));
  KILN_TRY_ASSIGN(FileLock hold, store.hold_for_write());
  KILN_TRY_ASSIGN(FileLock names, detail::lock_container_names(store));
  ContainerRecord& rec = b.rec;
  KILN_TRY_ASSIGN(rec.name, allocate_name(store, options.name, rec.image_name));
  KILN_TRY_ASSIGN(FileLock lock, detail::lock_container(store, rec.name));
  KILN_TRY_ASSIGN(rec.id, detail::random_id());
  rec.created = format_rfc3339(now());
  rec.definition = b.state.to_definition();
  rec.committed.definition = rec.definition;
  KILN_TRY(make_dirs(detail::container_dir(store, rec.name)));
  KILN_TRY(detail::write_container(store, rec));
  return info_of(store, rec);
}

Result<std::vector<ContainerInfo>> list_containers(const ImageStore& image_store) {
  KILN_TRY_ASSIGN(auto records, detail::all_containers(image_store.store()));
  std::vector<ContainerInfo> out;
  for (const auto& r : records) {
    out.push_back(info_of(image_store.store(), r));
  }
  return out;
}

std::string containers_to_json(const std::vector<ContainerInfo>& containers) {
  oci::Json out = oci::Json::array();
  for (const auto& c : containers) {
    out.push_back({{"id", c.id},
                   {"builder", true},
                   {"imageid", c.image_id},
                   {"imagename", c.image},
                   {"containername", c.name},
                   {"created", c.created},
                   {"mountpoint", c.mount_point},
                   {"commits", c.commits}});
  }
  return out.dump(2);
}

Result<BuildState> container_state(const ImageStore& image_store, const std::string& name) {
  KILN_TRY_ASSIGN(ContainerRecord rec, detail::load_container(image_store.store(), name));
  return BuildState::from_definition(rec.definition).context(cat("read working container `", name, "`"));
}

Result<std::string> inspect_container_json(const ImageStore& image_store, const std::string& name) {
  const cache::Store& store = image_store.store();
  KILN_TRY_ASSIGN(ContainerRecord rec, detail::load_container(store, name));
  KILN_TRY_ASSIGN(BuildState state, BuildState::from_definition(rec.definition));
  ContainerInfo info = info_of(store, rec);
  oci::ImageConfig cfg = state.config();
  cfg.history = rec.committed.history;
  auto pending = state.pending_history();
  for (size_t i = rec.committed.pending; i < pending.size(); ++i) {
    cfg.history.push_back(pending[i].entry);
  }
  cfg.diff_ids.clear();
  for (const auto& l : rec.chain) {
    cfg.diff_ids.push_back(l.diff_id);
  }
  oci::Json j = oci::Json::object();
  j["Type"] = "kiln 1";
  j["name"] = rec.name;
  j["id"] = rec.id;
  j["created"] = rec.created;
  j["image"] = rec.image_manifest.empty()
                   ? oci::Json(nullptr)
                   : oci::Json{{"name", rec.image_name}, {"id", rec.image_id}, {"manifest", rec.image_manifest}};
  j["mountpoint"] = info.mount_point;
  j["commits"] = rec.committed.count;
  j["config"] = oci::image_config_to_json(cfg);
  KILN_TRY_ASSIGN(j["definition"], oci::parse_json(rec.definition, "container definition"));
  return j.dump(2);
}

Result<SolvedState> apply_container_step(const ImageStore& image_store, const std::string& name,
                                         const ContainerStep& step, const BuildConfig& config) {
  const cache::Store& store = image_store.store();
  KILN_TRY(detail::validate_container_name(name).context("find working container"));
  KILN_TRY_ASSIGN(FileLock lock, detail::lock_container(store, name));
  KILN_TRY_ASSIGN(FileLock hold, store.hold_for_write());
  KILN_TRY_ASSIGN(ContainerRecord rec, detail::load_container(store, name));
  KILN_TRY(detail::check_base_image(store, rec));
  KILN_TRY_ASSIGN(BuildState current, BuildState::from_definition(rec.definition));
  KILN_TRY_ASSIGN(BuildState next, step(current));
  KILN_TRY_ASSIGN(auto solver, detail::ContainerSolver::open(store, rec, config));
  KILN_TRY_ASSIGN(detail::SolvedGraph solved, solver->solve(next));
  solver->record(solved, rec);
  rec.definition = next.to_definition();
  KILN_TRY(detail::write_container(store, rec));
  SolvedState out;
  for (const auto& l : rec.chain) {
    out.layers.push_back(Layer{l.diff_id.str(), l.digest.str(), l.size, l.media_type});
  }
  out.steps_run = solved.steps_run;
  out.steps_cached = solved.steps_cached;
  return out;
}

Result<void> configure_container(const ImageStore& image_store, const std::string& name, const ContainerStep& step,
                                 const ContainerConfigOptions& options) {
  const cache::Store& store = image_store.store();
  KILN_TRY(detail::validate_container_name(name).context("find working container"));
  KILN_TRY_ASSIGN(FileLock lock, detail::lock_container(store, name));
  KILN_TRY_ASSIGN(ContainerRecord rec, detail::load_container(store, name));
  KILN_TRY_ASSIGN(BuildState current, BuildState::from_definition(rec.definition));
  KILN_TRY_ASSIGN(BuildState next, step(current));
  rec.definition = next.to_definition();
  if (options.created_by) {
    rec.created_by = *options.created_by;
  }
  for (const auto& a : options.annotations) {
    auto kv = split_once(a, '=');
    if (kv && !kv->first.empty()) {
      rec.annotations[kv->first] = kv->second;
    } else if (a.size() > 1 && a.ends_with("-")) {
      rec.annotations.erase(a.substr(0, a.size() - 1));
    } else {
      return Error(ErrorCode::usage, cat("invalid --annotation `", a, "`: expected KEY=VALUE or KEY-"));
    }
  }
  return detail::write_container(store, rec);
}

Result<std::vector<std::string>> parse_command_value(const std::string& text, const std::vector<std::string>& shell) {
  std::string_view t = trim(text);
  if (t.starts_with("[")) {
    auto j = oci::parse_json(t, "command");
    bool ok = j && j->is_array();
    std::vector<std::string> args;
    for (const auto& e : ok ? *j : oci::Json::array()) {
      ok = ok && e.is_string();
      if (ok) {
        args.push_back(e.get<std::string>());
      }
    }
    if (!ok) {
      return Error(ErrorCode::invalid_input, cat("invalid command `", text, "`: expected a JSON array of strings"))
          .with_hint("write the exec form as '[\"prog\", \"arg\"]', or give plain text for the shell form");
    }
    return args;
  }
  std::vector<std::string> args = shell.empty() ? std::vector<std::string>{"/bin/sh", "-c"} : shell;
  args.push_back(text);
  return args;
}

std::string format_command_value(const std::vector<std::string>& args) { return oci::dump_json(oci::Json(args)); }

Result<void> remove_container(const ImageStore& image_store, const std::string& name) {
  const cache::Store& store = image_store.store();
  KILN_TRY(detail::validate_container_name(name).context("find working container"));
  KILN_TRY_ASSIGN(FileLock lock, detail::lock_container(store, name));
  KILN_TRY_ASSIGN(FileLock names, detail::lock_container_names(store));
  KILN_TRY(detail::load_container(store, name));
  return detail::delete_container(store, name);
}

}  // namespace kiln
