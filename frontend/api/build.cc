#include "frontend/api/build.h"
#include "frontend/api/build_internal.h"

#include "frontend/api/build_extras.h"

#include <thread>

#include "cache/key_index.h"
#include "cache/store.h"
#include "cache/transport.h"
#include "executor/mounts.h"
#include "executor/user_namespace.h"
#include "frontend/api/remote_cache.h"
#include "oci/media_types.h"
#include "oci/reference.h"
#include "solver/ops/runner.h"
#include "solver/solve.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/time.h"

namespace kiln {

namespace {

std::string layer_media_type(const std::string& type, bool docker) {
  return std::string(oci::media::layer_type(oci::media::layer_compression(type), docker));
}

// History for the new entries: a layer step takes the time its result was
// first made (its cache record keeps it); a metadata step takes the time of
// the entry before it; SOURCE_DATE_EPOCH overrides all of them.
void fill_history(oci::ImageConfig& cfg, const std::vector<BuildState::PendingHistory>& pending,
                  const solver::SolveResult& solved, const BuildConfig& config) {
  std::string last = cfg.history.empty() ? cfg.created : cfg.history.back().created;
  std::string epoch = config.source_date_epoch ? format_rfc3339({*config.source_date_epoch, 0}) : "";
  for (const auto& p : pending) {
    oci::HistoryEntry e = p.entry;
    if (p.op >= 0 && solved.results[static_cast<size_t>(p.op)]) {
      const auto& r = *solved.results[static_cast<size_t>(p.op)];
      e.empty_layer = !r.new_layer.has_value();
      last = r.created;
    } else {
      e.empty_layer = true;
    }
    e.created = epoch.empty() ? last : epoch;
    cfg.history.push_back(e);
  }
  cfg.created = epoch.empty() ? last : epoch;
}

BuildEvent to_event(const solver::Definition& def, const solver::SolveEvent& ev) {
  BuildEvent out;
  const solver::Op& op = def.ops[static_cast<size_t>(ev.op)];
  switch (ev.kind) {
    case solver::SolveEvent::Kind::started: out.kind = BuildEvent::Kind::step_started; break;
    case solver::SolveEvent::Kind::cache_hit: out.kind = BuildEvent::Kind::step_cached; break;
    case solver::SolveEvent::Kind::finished: out.kind = BuildEvent::Kind::step_finished; break;
    case solver::SolveEvent::Kind::failed: out.kind = BuildEvent::Kind::step_failed; break;
  }
  out.op = ev.op;
  out.description = op.origin.description;
  out.stage = op.origin.stage;
  out.step = op.origin.step;
  out.step_count = op.origin.step_count;
  out.key = ev.key;
  out.seconds = ev.seconds;
  out.explanation = ev.explanation;
  if (ev.result != nullptr && ev.result->new_layer) {
    out.layer_bytes = ev.result->new_layer->size;
    out.layer_digest = ev.result->new_layer->digest.str();
  }
  return out;
}

bool reportable(const solver::Op& op) {
  return std::holds_alternative<solver::Exec>(op.attrs) || std::holds_alternative<solver::Copy>(op.attrs) ||
         std::holds_alternative<solver::Mkdir>(op.attrs);
}

}  // namespace

namespace detail {

Result<std::vector<std::string>> image_names(const std::vector<std::string>& tags) {
  std::vector<std::string> names;
  for (const auto& t : tags) {
    KILN_TRY_ASSIGN(oci::Reference ref, cache::Store::normalize_new_name(t));
    if (ref.digest) {
      return Error(ErrorCode::invalid_input, cat("cannot name an image with a digest: `", t, "`"));
    }
    names.push_back(ref.str());
  }
  return names;
}

Result<solver::ops::RunnerConfig> runner_config(const cache::Store& store, const BuildConfig& config) {
  solver::ops::RunnerConfig rc;
  rc.store = &store;
  rc.contexts = config.contexts;
  std::optional<executor::StorageDriver> requested;
  if (!config.storage_driver.empty()) {
    KILN_TRY_ASSIGN(requested, executor::parse_storage_driver(config.storage_driver));
  }
  KILN_TRY_ASSIGN(rc.driver, executor::select_storage_driver(requested, store.tmp_dir(), path_join(store.root(), "kiln")));
  rc.layer_options.compression = config.compression;
  rc.layer_options.level = config.compression_level;
  rc.layer_options.source_date_epoch = config.source_date_epoch;
  rc.layer_options.docker_media_types = config.docker_format;
  rc.step_stdout_fd = config.step_stdout_fd >= 0 ? config.step_stdout_fd : config.step_output_fd;
  rc.step_stderr_fd = config.step_output_fd;
  rc.seccomp_cache_dir = path_join(store.cache_dir(), "seccomp");
  rc.seccomp = config.seccomp_unconfined ? executor::SeccompMode::unconfined : executor::SeccompMode::default_policy;
  rc.step_timeout_seconds = config.step_timeout_seconds;
  for (const auto& secret : config.secrets) {
    rc.secrets.push_back({secret.id, secret.value, "", ""});
  }
  rc.ssh_sockets = config.ssh_agents;
  if (auto mapping = executor::current_id_mapping()) {
    // One id only: files of other owners cannot be chowned; keep going with a warning.
    rc.ignore_chown_errors = mapping->mode == executor::MappingMode::single_id;
  }
  return rc;
}

Result<SolvedGraph> solve_graph(const BuildState& state, solver::OpRunner& runner, cache::KeyIndex& keys,
                                const cache::Store& store, const BuildConfig& config, BuildCache* build_cache) {
  SolvedGraph out;
  out.graph = state.graph();
  solver::SolveOptions so;
  so.jobs = config.jobs > 0 ? config.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  so.no_cache = config.no_cache;
  so.keys = &keys;
  so.now = config.source_date_epoch ? format_rfc3339({*config.source_date_epoch, 0}) : format_rfc3339({now().seconds, 0});
  if (config.explain_cache) {
    so.explain_dir = path_join(store.cache_dir(), "explain");
    so.explain_identity = config.explain_identity;
  }
  if (const char* dbg = std::getenv("KILN_DEBUG_KEYS"); dbg != nullptr && *dbg != '\0') {
    so.debug_keys_dir = dbg;
  }
  const solver::Definition& def = out.graph.definition;
  so.on_event = [&](const solver::SolveEvent& ev) {
    const solver::Op& op = def.ops[static_cast<size_t>(ev.op)];
    if (!reportable(op)) {
      return;
    }
    if (ev.kind == solver::SolveEvent::Kind::cache_hit) {
      ++out.steps_cached;
    } else if (ev.kind == solver::SolveEvent::Kind::started) {
      ++out.steps_run;
    }
    if (config.on_event) {
      config.on_event(to_event(def, ev));
    }
  };
  if (build_cache != nullptr) {
    KILN_TRY_ASSIGN(out.result, build_cache->solve(def, out.graph.target, runner, so, [&] {
                      out.steps_cached = out.steps_run = 0;
                    }));
  } else {
    KILN_TRY_ASSIGN(out.result, solver::solve(def, {out.graph.target}, runner, so));
  }
  return out;
}

Result<BuiltImage> store_image(const cache::Store& store, const oci::ImageConfig& cfg,
                               const std::vector<solver::LayerRef>& layers, const BuildConfig& config,
                               const std::vector<std::string>& names,
                               const std::map<std::string, std::string>& annotations) {
  std::string cfg_bytes = oci::serialize_image_config(cfg);
  KILN_TRY_ASSIGN(oci::Digest cfg_digest, store.put_blob(cfg_bytes));
  oci::Manifest m;
  m.media_type = std::string(config.docker_format ? oci::media::k_docker_manifest : oci::media::k_oci_manifest);
  m.config = oci::make_descriptor(config.docker_format ? oci::media::k_docker_config : oci::media::k_oci_config,
                                  cfg_digest, static_cast<int64_t>(cfg_bytes.size()));
  for (const auto& l : layers) {
    m.layers.push_back(oci::make_descriptor(layer_media_type(l.media_type, config.docker_format), l.digest, l.size));
  }
  m.annotations = annotations;
  std::string m_bytes = oci::serialize_manifest(m);
  KILN_TRY_ASSIGN(oci::Digest m_digest, store.put_blob(m_bytes));
  KILN_TRY(store.add_image(oci::make_descriptor(m.media_type, m_digest, static_cast<int64_t>(m_bytes.size())), names));
  BuiltImage out;
  out.id = cfg_digest.str();
  out.manifest_digest = m_digest.str();
  out.names = names;
  return out;
}

}  // namespace detail

Result<SolvedState> solve(const ImageStore& image_store, const BuildState& state, const BuildConfig& config) {
  const cache::Store& store = image_store.store();
  KILN_TRY_ASSIGN(FileLock hold, store.hold_for_write());
  KILN_TRY_ASSIGN(solver::ops::RunnerConfig rc, detail::runner_config(store, config));
  solver::ops::BuildRunner runner(rc);
  cache::LocalKeyIndex keys(store.cache_dir());
  KILN_TRY_ASSIGN(detail::SolvedGraph solved, detail::solve_graph(state, runner, keys, store, config));
  SolvedState out;
  for (const auto& l : solved.result.results[static_cast<size_t>(solved.graph.target)]->layers) {
    out.layers.push_back(Layer{l.diff_id.str(), l.digest.str(), l.size, l.media_type});
  }
  out.steps_run = solved.steps_run;
  out.steps_cached = solved.steps_cached;
  return out;
}

Result<BuiltImage> build_image(const ImageStore& image_store, const BuildState& state, const BuildConfig& config,
                               const CommitOptions& commit) {
  detail::CacheLimitOnSuccess cache_limit(image_store);  // first: runs after everything below is gone
  const cache::Store& store = image_store.store();
  KILN_TRY_ASSIGN(std::vector<std::string> names, detail::image_names(commit.tags));
  KILN_TRY_ASSIGN(FileLock hold, store.hold_for_write());
  KILN_TRY_ASSIGN(solver::ops::RunnerConfig rc, detail::runner_config(store, config));
  detail::BuildCache build_cache(store, config);  // --cache-from / --cache-to (remote_cache.h)
  rc.blobs = build_cache.fetcher();
  rc.cache_mounts = build_cache.mount_source();
  solver::ops::BuildRunner runner(rc);
  KILN_TRY_ASSIGN(detail::SolvedGraph solved,
                  detail::solve_graph(state, runner, build_cache.keys(), store, config, &build_cache));
  const solver::OpResult& final_fs = *solved.result.results[static_cast<size_t>(solved.graph.target)];

  oci::ImageConfig cfg = state.config();
  cfg.diff_ids.clear();
  for (const auto& l : final_fs.layers) {
    cfg.diff_ids.push_back(l.diff_id);
  }
  fill_history(cfg, state.pending_history(), solved.result, config);
  std::vector<solver::LayerRef> layers = final_fs.layers;
  if (commit.squash) {
    KILN_TRY(detail::squash_new_layers(runner, solved.graph.definition, solved.graph.target, solved.result, layers, cfg));
  }
  KILN_TRY(detail::compress_new_layers(runner, solved.graph.definition, solved.graph.target, solved.result, layers));
  KILN_TRY_ASSIGN(BuiltImage out, detail::store_image(store, cfg, layers, config, names, commit.annotations));
  out.steps_run = solved.steps_run;
  out.steps_cached = solved.steps_cached;
  build_cache.finish(solved.graph.definition, solved.graph.target, solved.result);
  cache_limit.arm();
  return out;
}

Result<ResolvedImage> resolve_base_image(const ImageStore& image_store, const std::string& reference) {
  const cache::Store& store = image_store.store();
  KILN_TRY_ASSIGN(auto local, cache::parse_local_ref(reference));
  cache::ImageRecord rec;
  if (local) {
    KILN_TRY_ASSIGN(cache::ImportResult imported, cache::import_image(store, *local, oci::host_platform()));
    KILN_TRY_ASSIGN(rec, store.resolve_image(imported.manifest.digest.str()));
  } else {
    KILN_TRY_ASSIGN(rec, store.resolve_image(reference));
  }
  KILN_TRY_ASSIGN(cache::LoadedImage img, store.load_image(rec));
  ResolvedImage r;
  r.ref = rec.names.empty() ? reference : rec.names.front();
  r.manifest = rec.manifest.digest;
  r.id = img.manifest.config.digest;
  r.config = img.config;
  return r;
}

Result<ResolvedImage> resolve_build_image(const ImageStore& image_store, const std::string& reference,
                                          PullPolicy policy, const RegistryOptions& options) {
  const cache::Store& store = image_store.store();
  KILN_TRY_ASSIGN(EnsuredImage ensured, ensure_image(image_store, reference, policy, options));
  KILN_TRY_ASSIGN(cache::ImageRecord rec, store.resolve_image(ensured.digest));
  KILN_TRY_ASSIGN(cache::LoadedImage img, store.load_image(rec));
  ResolvedImage r;
  r.ref = !ensured.name.empty() ? ensured.name : (rec.names.empty() ? reference : rec.names.front());
  r.manifest = rec.manifest.digest;
  r.id = img.manifest.config.digest;
  r.config = img.config;
  return r;
}

bool reference_names_registry(const std::string& reference) {
  auto ref = oci::parse_reference(reference);
  return ref && ref->domain_given;
}

Result<OutputSpec> parse_output_spec(const std::string& text) {
  OutputSpec spec;
  if (text.find('=') == std::string::npos) {
    spec.dest = text;
    return spec;
  }
  std::string type = "local";
  for (const auto& part : split(text, ',')) {
    auto kv = split_once(part, '=');
    if (!kv) {
      return Error(ErrorCode::usage, cat("invalid --output `", text, "`: expected KEY=VALUE pairs"));
    }
    if (kv->first == "type") {
      type = kv->second;
    } else if (kv->first == "dest") {
      spec.dest = kv->second;
    } else {
      return Error(ErrorCode::usage, cat("invalid --output `", text, "`: unknown key `", kv->first, "`"));
    }
  }
  if (type == "local") {
    spec.type = OutputType::local;
  } else if (type == "tar") {
    spec.type = OutputType::tar;
  } else if (type == "oci") {
    spec.type = OutputType::oci;
  } else if (type == "docker") {
    spec.type = OutputType::docker;
  } else {
    return Error(ErrorCode::usage, cat("invalid --output type `", type, "`: expected local, tar, oci or docker"));
  }
  if (spec.dest.empty()) {
    return Error(ErrorCode::usage, cat("invalid --output `", text, "`: dest= is required"));
  }
  return spec;
}

Result<void> export_output(const ImageStore& image_store, const BuiltImage& image, const BuildConfig& config,
                           const OutputSpec& output) {
  const cache::Store& store = image_store.store();
  KILN_TRY_ASSIGN(cache::ImageRecord rec, store.resolve_image(image.manifest_digest));
  KILN_TRY_ASSIGN(cache::LoadedImage img, store.load_image(rec));
  switch (output.type) {
    case OutputType::oci:
      return cache::export_image(store, img, {cache::TransportKind::oci_archive, output.dest, ""});
    case OutputType::docker:
      return cache::export_image(store, img, {cache::TransportKind::docker_archive, output.dest, ""});
    case OutputType::local:
    case OutputType::tar:
      return detail::export_filesystem(store, img, config, output.type, output.dest);
  }
  return {};
}

}  // namespace kiln
