// --cache-to: the build's records and their blobs as one artifact
// (cache/cache_artifact.h), pushed to a registry or written to a layout.
#include "frontend/api/registry_internal.h"
#include "frontend/api/remote_cache.h"
#include "oci/reference.h"
#include "registry/registry.h"
#include "solver/cache_key.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln::detail {

namespace {

// The layer a record's result names, as an artifact layer descriptor.
std::optional<oci::Descriptor> layer_descriptor(const cache::CacheRecord& rec) {
  auto r = solver::op_result_from_record(rec, nullptr);
  if (!r || !r->new_layer) {
    return std::nullopt;
  }
  return oci::make_descriptor(r->new_layer->media_type, r->new_layer->digest, r->new_layer->size);
}

bool in_layout(const std::string& dir, const oci::Digest& d) {
  return path_exists(path_join(dir, cat("blobs/", d.algorithm(), "/", d.hex())));
}

Result<std::string> write_artifact(const cache::Store& store, const CacheSpec& spec, const cache::CacheArtifact& a,
                                   const RegistryOptions& options) {
  if (spec.type == CacheSpec::Type::local) {
    KILN_TRY(cache::write_cache_layout(store, a, spec.dir, spec.tag));
    return std::string();
  }
  KILN_TRY_ASSIGN(oci::Reference ref, oci::parse_reference(registry::strip_transport(spec.ref)));
  KILN_TRY_ASSIGN(registry::RegistryOptions ro, cache_registry_options(options));
  KILN_TRY_ASSIGN(registry::PushedImage p, registry::push_image(store, a.image, ref, ro));
  return cat(", ", p.blobs_uploaded, " blob(s) uploaded (", human_size(static_cast<uint64_t>(p.bytes_uploaded)), "), ",
             p.blobs_skipped, " already there, ", p.blobs_mounted, " mounted");
}

}  // namespace

void BuildCache::export_one(const CacheSpec& spec, const std::vector<std::string>& keys,
                            const std::vector<cache::CacheMountKey>& mounts) {
  std::string what = cat(spec.type == CacheSpec::Type::registry ? spec.ref : spec.dir);
  // A blob must be in the store, or already where the export goes (a layer
  // of an imported cache that was never downloaded, exported back to it).
  auto available = [&](const oci::Digest& d) {
    if (m_store.has_blob(d) || (spec.type == CacheSpec::Type::local && in_layout(spec.dir, d))) {
      return true;
    }
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = m_offers.find(d);
    if (it == m_offers.end() || m_rejected.count(d) != 0) {
      return false;
    }
    return std::any_of(it->second.begin(), it->second.end(), [&](const Offer& o) { return o.source->same_place(spec); });
  };
  cache::CacheMapping mapping;
  mapping.key_scheme = std::string(solver::k_key_scheme);
  mapping.mode = spec.mode_max ? "max" : "min";
  std::vector<oci::Descriptor> blobs;
  std::set<oci::Digest> seen;
  size_t skipped = 0;
  for (const auto& key : keys) {
    auto rec = m_keys.get(key);
    if (!rec || !*rec) {
      continue;
    }
    auto layer = layer_descriptor(**rec);
    bool ok = std::all_of((*rec)->blobs.begin(), (*rec)->blobs.end(), [&](const oci::Digest& d) {
      return available(d) && layer && layer->digest == d;
    });
    if (!ok) {
      ++skipped;
      continue;
    }
    if (layer && seen.insert(layer->digest).second) {
      blobs.push_back(*layer);
    }
    cache::CacheRecord out = **rec;
    out.last_used = out.created;  // local use is no part of the export: the same steps give the same mapping
    mapping.records.push_back(std::move(out));
  }
  if (skipped > 0) {
    log::info("build cache `", what, "`: ", skipped, " step(s) left out: their layers were never downloaded here");
  }
  export_mounts(spec, mounts, mapping, blobs, seen);
  auto artifact = cache::make_cache_artifact(m_store, mapping, blobs);
  if (!artifact) {
    log::warning("could not export the build cache to `", what, "`: ", artifact.error().render());
    return;
  }
  auto written = write_artifact(m_store, spec, *artifact, m_config.registry);
  if (!written) {
    log::warning("could not export the build cache to `", what, "`: ", written.error().render());
    return;
  }
  log::info("exported the build cache to `", what, "`: ", mapping.records.size(), " step(s)",
            spec.cache_mounts ? cat(", ", mapping.mounts.size(), " cache mount(s)") : std::string(), *written);
}

}  // namespace kiln::detail
