// RUN --mount=type=cache contents in the shared build cache
// (`bud --cache-to ...,cache-mounts=true` / `--cache-from`; build_cache.h).
//
// Export: every cache the build's RUN steps mount (hits included: their
// caches are the build's) whose data directory is in the store goes out as
// one archive blob (solver/ops/cache_mount_archive.h), listed in the
// mapping's "cacheMounts" by its CacheMountKey::hex().
//
// Import: restored lazily, when a step that runs creates a cache directory
// the store does not have yet (solver::ops::CacheMountSource): a local cache
// always wins and is never merged with or replaced by an imported one, as a
// BuildKit builder never lets an import touch a cache mount it has. The
// archive is extracted into the new directory before it is moved into place
// (cache/cache_mounts.h), so no step ever sees a half-restored cache; on any
// failure the directory is emptied and the cache starts as it would have
// without the import (a warning, never a failed build).
#include "cache/cache_mounts.h"
#include "frontend/api/remote_cache.h"
#include "solver/ops/cache_mount_archive.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln::detail {

namespace {

// The meta.json fields that identify a cache (no times: the same cache
// gives the same mapping).
oci::Json key_meta(const cache::CacheMountKey& key) {
  return {{"version", 1}, {"id", key.id},   {"from", key.from}, {"source", key.source},
          {"uid", key.uid}, {"gid", key.gid}, {"mode", key.mode}};
}

bool is_mount_archive(const oci::Descriptor& d) {
  return d.media_type == cache::k_cache_mount_type || d.media_type == cache::k_cache_mount_gzip_type;
}

// Empties `dir` (keeps the directory itself, its owner and mode).
Result<void> empty_directory(const std::string& dir) {
  KILN_TRY_ASSIGN(auto names, list_dir(dir));
  for (const auto& n : names) {
    KILN_TRY(remove_tree(path_join(dir, n)));
  }
  return {};
}

}  // namespace

void BuildCache::offer_mounts(const CacheSpec& spec, CacheSource* source,
                              const std::vector<cache::CacheMountEntry>& mounts,
                              const std::map<oci::Digest, const oci::Descriptor*>& listed) {
  if (mounts.empty()) {
    return;
  }
  if (!spec.cache_mounts) {
    log::info(source->name(), ": leaving its ", mounts.size(), " cache mount(s) alone (cache-mounts=false)");
    return;
  }
  size_t offered = 0;
  for (const auto& m : mounts) {
    auto it = listed.find(m.digest);
    if (it == listed.end() || !is_mount_archive(*it->second)) {
      log::warning(source->name(), ": ignoring cache mount `", m.id, "`: its archive `", m.digest.str(),
                   "` is not a cache-mount layer of the cache");
      continue;
    }
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_mount_offers.emplace(m.key, MountOffer{m.id, source, *it->second}).second) {
      ++offered;
    }
  }
  log::info(source->name(), ": ", offered, " cache mount(s) to restore when first used");
}

Result<bool> BuildCache::restore(const cache::CacheMountKey& key, const std::string& dir, bool ignore_chown_errors) {
  std::string hex = key.hex();
  std::optional<MountOffer> offer;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = m_mount_offers.find(hex);
    if (it != m_mount_offers.end() && m_mounts_failed.count(hex) == 0) {
      offer = it->second;
    }
  }
  if (!offer) {
    return false;
  }
  auto done = [&]() -> Result<void> {
    KILN_TRY(offer->source->fetch(m_store, {offer->descriptor}));
    KILN_TRY(solver::ops::restore_directory(m_store, offer->descriptor.digest, dir, ignore_chown_errors));
    return {};
  }();
  if (done) {
    log::info("restored cache mount `", key.id, "` from ", offer->source->name());
    return true;
  }
  log::warning(offer->source->name(), ": not restoring cache mount `", key.id, "` (blob `",
               offer->descriptor.digest.str(), "`): ", done.error().render(), "; the cache starts empty");
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_mounts_failed.insert(hex);
  }
  // Never used half-restored. extract_layer already removes what it wrote
  // (overlay_lower mode); this also covers anything else left behind. When
  // it cannot be emptied, the new directory is dropped and the step fails
  // (cache/cache_mounts.h removes it).
  KILN_TRY(empty_directory(dir).context(cat("empty cache directory `", dir, "` after a failed restore")));
  return false;
}

void BuildCache::export_mounts(const CacheSpec& spec, const std::vector<cache::CacheMountKey>& mounts,
                               cache::CacheMapping& mapping, std::vector<oci::Descriptor>& blobs,
                               std::set<oci::Digest>& seen) {
  cache::CacheMounts caches(m_store.cache_mounts_dir());
  for (const auto& key : mounts) {
    auto archived = [&]() -> Result<std::optional<oci::Descriptor>> {
      KILN_TRY_ASSIGN(auto lease, caches.open_existing(key));
      if (!lease) {
        return std::optional<oci::Descriptor>();
      }
      KILN_TRY_ASSIGN(oci::Descriptor d, solver::ops::archive_directory(m_store, lease->dir, spec.mount_compression));
      return std::optional<oci::Descriptor>(std::move(d));
    }();
    if (!archived) {
      log::warning("not exporting cache mount `", key.id, "`: ", archived.error().render());
      continue;
    }
    if (!*archived) {
      continue;  // never created here (its steps were all cache hits on a fresh store)
    }
    const oci::Descriptor& d = **archived;
    if (seen.insert(d.digest).second) {
      blobs.push_back(d);
    }
    mapping.mounts.push_back(cache::CacheMountEntry{key.hex(), key.id, key_meta(key), d.digest});
  }
}

}  // namespace kiln::detail
