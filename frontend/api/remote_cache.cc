#include "frontend/api/remote_cache.h"

#include <algorithm>

#include "frontend/api/registry_internal.h"
#include "oci/media_types.h"
#include "oci/reference.h"
#include "registry/artifact.h"
#include "registry/registry.h"
#include "solver/cache_key.h"
#include "solver/ops/cache_mount_archive.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/time.h"

namespace kiln::detail {

namespace {

class RegistrySource final : public CacheSource {
 public:
  explicit RegistrySource(std::unique_ptr<registry::ArtifactReader> reader) : m_reader(std::move(reader)) {}
  std::string name() const override { return cat("build cache `", m_reader->reference().str(), "`"); }
  Result<void> fetch(const cache::Store& store, const std::vector<oci::Descriptor>& blobs) override {
    KILN_TRY(m_reader->fetch(store, blobs));
    return {};
  }
  bool same_place(const CacheSpec& dest) const override {
    if (dest.type != CacheSpec::Type::registry) {
      return false;
    }
    auto ref = oci::parse_reference(registry::strip_transport(dest.ref));
    return ref && ref->name() == m_reader->reference().name();
  }
  registry::ArtifactReader& reader() { return *m_reader; }

 private:
  std::unique_ptr<registry::ArtifactReader> m_reader;
};

class LayoutSource final : public CacheSource {
 public:
  explicit LayoutSource(std::string dir) : m_dir(std::move(dir)) {}
  std::string name() const override { return cat("build cache `", m_dir, "`"); }
  Result<void> fetch(const cache::Store& store, const std::vector<oci::Descriptor>& blobs) override {
    for (const auto& d : blobs) {
      KILN_TRY(cache::fetch_layout_blob(store, m_dir, d));
    }
    return {};
  }
  bool same_place(const CacheSpec& dest) const override {
    return dest.type == CacheSpec::Type::local && absolute_path(dest.dir) == absolute_path(m_dir);
  }

 private:
  std::string m_dir;
};

struct LoadedCache {
  std::unique_ptr<CacheSource> source;
  oci::Manifest manifest;
  std::string mapping_bytes;
};

Result<std::optional<LoadedCache>> load_registry_cache(const cache::Store& store, const CacheSpec& spec,
                                                       const RegistryOptions& options) {
  KILN_TRY_ASSIGN(oci::Reference ref, oci::parse_reference(registry::strip_transport(spec.ref)));
  KILN_TRY_ASSIGN(registry::RegistryOptions ro, cache_registry_options(options));
  KILN_TRY_ASSIGN(auto reader, registry::ArtifactReader::open(ref, ro));
  KILN_TRY_ASSIGN(auto m, reader->manifest());
  if (!m) {
    return std::optional<LoadedCache>();
  }
  if (oci::media::is_index(m->media_type)) {
    return Error(ErrorCode::unsupported, cat("`", ref.str(), "` is an image index, not a kiln build cache"));
  }
  LoadedCache out;
  KILN_TRY_ASSIGN(out.manifest, cache::parse_cache_manifest(m->bytes, cat("manifest `", m->digest.str(), "`")));
  KILN_TRY(reader->fetch(store, {out.manifest.config}).context("fetch the cache mapping"));
  KILN_TRY_ASSIGN(out.mapping_bytes, store.read_blob(out.manifest.config.digest));
  out.source = std::make_unique<RegistrySource>(std::move(reader));
  return std::optional<LoadedCache>(std::move(out));
}

Result<std::optional<LoadedCache>> load_layout_cache(const CacheSpec& spec) {
  KILN_TRY_ASSIGN(auto c, cache::read_cache_layout(spec.dir, spec.tag));
  if (!c) {
    return std::optional<LoadedCache>();
  }
  LoadedCache out;
  out.manifest = std::move(c->manifest);
  out.mapping_bytes = std::move(c->mapping_bytes);
  out.source = std::make_unique<LayoutSource>(spec.dir);
  return std::optional<LoadedCache>(std::move(out));
}

std::string spec_name(const CacheSpec& spec) {
  return cat("build cache `", spec.type == CacheSpec::Type::registry ? spec.ref : spec.dir, "`");
}

bool is_cached_kind(const solver::Op& op) {
  return std::holds_alternative<solver::Exec>(op.attrs) || std::holds_alternative<solver::Copy>(op.attrs) ||
         std::holds_alternative<solver::Mkdir>(op.attrs);
}

}  // namespace

BuildCache::BuildCache(const cache::Store& store, const BuildConfig& config)
    : m_store(store), m_config(config), m_local(store.cache_dir()), m_keys(m_local) {
  for (const auto& spec : config.cache_from) {
    import_one(spec);
  }
}

BuildCache::~BuildCache() = default;

void BuildCache::import_one(const CacheSpec& spec) {
  std::string what = spec_name(spec);
  auto loaded = spec.type == CacheSpec::Type::registry ? load_registry_cache(m_store, spec, m_config.registry)
                                                       : load_layout_cache(spec);
  if (!loaded) {
    log::warning("not using ", what, ": ", loaded.error().render());
    return;
  }
  if (!*loaded) {
    log::warning(what, " does not exist (yet); building without it");
    return;
  }
  LoadedCache& c = **loaded;
  auto mapping = cache::parse_cache_mapping(c.mapping_bytes, solver::k_key_scheme, "its mapping");
  if (!mapping) {
    log::warning("not using ", what, ": ", mapping.error().render());
    return;
  }
  std::map<oci::Digest, const oci::Descriptor*> listed;
  for (const auto& l : c.manifest.layers) {
    listed[l.digest] = &l;
  }
  std::vector<cache::CacheRecord> usable;
  size_t dropped = 0;
  for (auto& r : mapping->records) {
    bool ok = std::all_of(r.blobs.begin(), r.blobs.end(), [&](const oci::Digest& d) { return listed.count(d) != 0; });
    if (ok) {
      usable.push_back(std::move(r));
    } else {
      ++dropped;
    }
  }
  if (dropped > 0) {
    log::warning(what, ": ignoring ", dropped, " record(s) that name blobs the cache does not carry");
  }
  CacheSource* source = c.source.get();
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    for (const auto& [digest, desc] : listed) {
      m_offers[digest].push_back(Offer{source, *desc});
    }
  }
  offer_mounts(spec, source, mapping->mounts, listed);
  log::info("using ", what, ": ", usable.size(), " cached step(s)");
  m_keys.add_source(source->name(), std::move(usable));
  m_sources.push_back(std::move(c.source));
}

bool BuildCache::can_fetch(const oci::Digest& digest) const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_rejected.count(digest) == 0 && m_offers.count(digest) != 0;
}

Result<void> BuildCache::fetch_one(const oci::Digest& digest) {
  std::vector<Offer> offers;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = m_offers.find(digest);
    if (it != m_offers.end() && m_rejected.count(digest) == 0) {
      offers = it->second;
    }
  }
  std::optional<Error> last;
  for (const auto& o : offers) {
    auto r = o.source->fetch(m_store, {o.descriptor});
    if (r) {
      std::lock_guard<std::mutex> lock(m_mutex);
      ++m_blobs_fetched;
      m_bytes_fetched += o.descriptor.size;
      return {};
    }
    log::warning(o.source->name(), ": not using blob `", digest.str(), "`: ", r.error().render(),
                 "; the steps that need it run instead");
    last = std::move(r).error();
  }
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_rejected.insert(digest);
    m_new_rejections = true;
  }
  m_keys.reject_blob(digest);
  if (!last) {
    return Error(ErrorCode::not_found, cat("blob `", digest.str(), "` is in no imported build cache"));
  }
  return std::move(*last);
}

Result<void> BuildCache::fetch(const std::vector<oci::Digest>& digests) {
  // One batch per source (parallel downloads on one connection pool); what a
  // batch failed to bring is then fetched blob by blob, so only the blob at
  // fault is rejected.
  std::map<CacheSource*, std::vector<oci::Descriptor>> batches;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    for (const auto& d : digests) {
      auto it = m_offers.find(d);
      if (m_store.has_blob(d) || it == m_offers.end() || m_rejected.count(d) != 0) {
        continue;
      }
      batches[it->second.front().source].push_back(it->second.front().descriptor);
    }
  }
  for (auto& [source, blobs] : batches) {
    if (source->fetch(m_store, blobs)) {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_blobs_fetched += static_cast<int>(blobs.size());
      for (const auto& b : blobs) {
        m_bytes_fetched += b.size;
      }
    }
  }
  std::optional<Error> first;
  for (const auto& d : digests) {
    if (m_store.has_blob(d)) {
      continue;
    }
    auto r = fetch_one(d);
    if (!r && !first) {
      first = std::move(r).error();
    }
  }
  if (first) {
    return std::move(*first);
  }
  return {};
}

bool BuildCache::take_rejections() {
  std::lock_guard<std::mutex> lock(m_mutex);
  bool r = m_new_rejections;
  m_new_rejections = false;
  return r;
}

Result<void> BuildCache::ensure_layers(const std::vector<solver::LayerRef>& layers) {
  std::vector<oci::Digest> missing;
  for (const auto& l : layers) {
    if (!m_store.has_blob(l.digest)) {
      missing.push_back(l.digest);
    }
  }
  if (missing.empty()) {
    return {};
  }
  return fetch(missing).context("fetch the image's layers from the build cache");
}

Result<solver::SolveResult> BuildCache::solve(const solver::Definition& def, int target, solver::OpRunner& runner,
                                              const solver::SolveOptions& options,
                                              const std::function<void()>& on_retry) {
  constexpr int k_max_attempts = 5;
  for (int attempt = 1;; ++attempt) {
    auto solved = solver::solve(def, {target}, runner, options);
    Result<void> fetched;
    if (solved) {
      fetched = ensure_layers(solved->results[static_cast<size_t>(target)]->layers);
      if (fetched) {
        return solved;
      }
    }
    if (attempt >= k_max_attempts || !take_rejections()) {
      if (!solved) {
        return std::move(solved).error();
      }
      return std::move(fetched).error();
    }
    log::warning("solving the build again without the rejected build-cache blob(s)");
    if (on_retry) {
      on_retry();
    }
  }
}

void BuildCache::keep_fetched_hits() {
  int64_t t = now().seconds;
  for (auto& rec : m_keys.imported_hits()) {
    bool present = std::all_of(rec.blobs.begin(), rec.blobs.end(), [&](const oci::Digest& d) { return m_store.has_blob(d); });
    if (present) {
      rec.last_used = t;
      log_warning_and_drop(m_local.put(rec));
    }
  }
}

std::vector<std::string> BuildCache::keys_to_export(const solver::Definition& def, int target,
                                                    const solver::SolveResult& solved, bool max) const {
  std::vector<std::string> keys;
  auto add = [&](size_t i) {
    if (i < solved.keys.size() && !solved.keys[i].empty() && solved.results[i] && is_cached_kind(def.ops[i])) {
      keys.push_back(solved.keys[i]);
    }
  };
  if (max) {
    for (size_t i = 0; i < def.ops.size(); ++i) {
      add(i);
    }
  } else {
    // The final image's own chain: each op's filesystem parent is input 0.
    for (int i = target; i >= 0;) {
      add(static_cast<size_t>(i));
      const auto& inputs = def.ops[static_cast<size_t>(i)].inputs;
      i = inputs.empty() ? -1 : inputs[0];
    }
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

void BuildCache::finish(const solver::Definition& def, int target, const solver::SolveResult& solved) {
  keep_fetched_hits();
  for (const auto& spec : m_config.cache_to) {
    export_one(spec, keys_to_export(def, target, solved, spec.mode_max),
               spec.cache_mounts ? solver::ops::build_cache_mount_keys(def, solved) : std::vector<cache::CacheMountKey>());
  }
}

CacheLimitOnSuccess::~CacheLimitOnSuccess() {
  if (!m_armed) {
    return;
  }
  auto limit = store_cache_limit(m_store);
  if (!limit) {
    log_warning_and_drop(std::move(limit));
    return;
  }
  if (!*limit) {
    return;
  }
  auto r = enforce_cache_limit(m_store, **limit);
  if (!r) {
    log_warning_and_drop(std::move(r));
  } else if (!r->ran) {
    log::info("build-cache limit: the store is in use; not evicting now");
  } else if (r->records_removed > 0) {
    log::info("build-cache limit ", human_size(**limit), ": evicted ", r->records_removed, " step(s), freed ",
              human_size(r->bytes_freed));
  }
}

}  // namespace kiln::detail
