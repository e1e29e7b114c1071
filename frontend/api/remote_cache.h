// The shared build cache inside one build (build_cache.h has the user's
// side). Internal to frontend/api: build_image() makes one BuildCache.
//
// Import (--cache-from): each cache's manifest and mapping are read before
// the solve; their records join the store's behind a LayeredKeyIndex, and
// their blobs are offered to BuildRunner as a BlobFetcher, so a hit costs
// nothing until a step extracts its layer or the image is committed. A cache
// that is missing, unreachable or malformed is a warning; a blob that cannot
// be fetched or does not match its digest is rejected (its records become
// misses) and the build is solved again without it: the steps that needed it
// run (C7: best effort, never a failed build).
//
// Export (--cache-to): after the image is committed, the records of the
// chosen steps (mode) and their blobs go out as one artifact
// (cache/cache_artifact.h). A failed export is a warning.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cache/cache_artifact.h"
#include "cache/key_index.h"
#include "cache/layered_key_index.h"
#include "cache/store.h"
#include "frontend/api/build.h"
#include "solver/ops/runner.h"
#include "solver/solve.h"

namespace kiln::detail {

/// Where one imported cache's blobs come from.
class CacheSource {
 public:
  virtual ~CacheSource() = default;
  /// "registry cache `REF`" / "local cache `DIR`", for messages.
  virtual std::string name() const = 0;
  /// Downloads (copies) blobs into the store, verified; present ones skipped.
  virtual Result<void> fetch(const cache::Store& store, const std::vector<oci::Descriptor>& blobs) = 0;
  /// Whether a blob of this source is certainly present at an export
  /// destination (the same registry repository or layout directory), so an
  /// export there need not have it in the store.
  virtual bool same_place(const CacheSpec& dest) const = 0;
};

class BuildCache final : public solver::ops::BlobFetcher, public solver::ops::CacheMountSource {
 public:
  /// Reads each --cache-from cache (warnings for those that fail).
  BuildCache(const cache::Store& store, const BuildConfig& config);
  ~BuildCache() override;

  /// The key index the solve uses (the store's, plus imported caches).
  cache::KeyIndex& keys() { return m_keys; }
  /// The fetcher for RunnerConfig::blobs (nullptr when nothing was imported).
  solver::ops::BlobFetcher* fetcher() { return m_sources.empty() ? nullptr : this; }

  /// The source for RunnerConfig::cache_mounts (nullptr when no imported
  /// cache carries RUN --mount=type=cache contents to restore).
  solver::ops::CacheMountSource* mount_source() { return m_mount_offers.empty() ? nullptr : this; }

  /// Restores an imported cache mount into a new cache directory
  /// (cache_mount_transfer.cc): the first --cache-from that carries the key
  /// wins; a blob that cannot be fetched, verified or extracted is a warning
  /// and that cache starts empty (not tried again in this build).
  Result<bool> restore(const cache::CacheMountKey& key, const std::string& dir, bool ignore_chown_errors) override;

  bool can_fetch(const oci::Digest& digest) const override;
  Result<void> fetch(const std::vector<oci::Digest>& digests) override;

  /// After a failed solve or fetch: true when blobs were rejected since the
  /// last call, so solving again (without them) can succeed.
  bool take_rejections();

  /// Makes sure the store has every layer of `layers` (the image to commit).
  Result<void> ensure_layers(const std::vector<solver::LayerRef>& layers);

  /// solver::solve() for `target`, then the final image's layers fetched.
  /// When that fails because an imported blob was rejected, solves again
  /// without it (its steps run), calling on_retry() first; a few times at
  /// most. Errors: the solve's or the fetch's error otherwise.
  Result<solver::SolveResult> solve(const solver::Definition& def, int target, solver::OpRunner& runner,
                                    const solver::SolveOptions& options, const std::function<void()>& on_retry);

  /// After the image is committed: imported hits whose blobs are now in the
  /// store become local records; then the build's records go to each
  /// --cache-to. `target` is the final op.
  void finish(const solver::Definition& def, int target, const solver::SolveResult& solved);

  /// Counters for messages and tests.
  int blobs_fetched() const { return m_blobs_fetched; }
  int64_t bytes_fetched() const { return m_bytes_fetched; }

 private:
  struct Offer {
    CacheSource* source;
    oci::Descriptor descriptor;
  };
  void import_one(const CacheSpec& spec);
  Result<void> fetch_one(const oci::Digest& digest);
  void keep_fetched_hits();
  void export_one(const CacheSpec& spec, const std::vector<std::string>& keys,
                  const std::vector<cache::CacheMountKey>& mounts);
  // cache_mount_transfer.cc
  void offer_mounts(const CacheSpec& spec, CacheSource* source, const std::vector<cache::CacheMountEntry>& mounts,
                    const std::map<oci::Digest, const oci::Descriptor*>& listed);
  void export_mounts(const CacheSpec& spec, const std::vector<cache::CacheMountKey>& mounts,
                     cache::CacheMapping& mapping, std::vector<oci::Descriptor>& blobs, std::set<oci::Digest>& seen);
  std::vector<std::string> keys_to_export(const solver::Definition& def, int target, const solver::SolveResult& solved,
                                          bool max) const;

  const cache::Store& m_store;
  const BuildConfig& m_config;
  cache::LocalKeyIndex m_local;
  cache::LayeredKeyIndex m_keys;
  std::vector<std::unique_ptr<CacheSource>> m_sources;
  std::map<oci::Digest, std::vector<Offer>> m_offers;  // blob -> who has it, in --cache-from order
  mutable std::mutex m_mutex;
  struct MountOffer {
    std::string id;
    CacheSource* source;
    oci::Descriptor descriptor;
  };
  std::map<std::string, MountOffer> m_mount_offers;  // CacheMountKey::hex() -> the first cache carrying it
  std::set<std::string> m_mounts_failed;             // hex: restoring failed once, not tried again
  std::set<oci::Digest> m_rejected;
  bool m_new_rejections = false;
  int m_blobs_fetched = 0;
  int64_t m_bytes_fetched = 0;
};

/// Applies the store-wide build-cache limit (ROOT/kiln/config.json
/// max_cache_bytes, build_cache.h) when destroyed after arm(): declared
/// first in build_image, it runs after the build's runner and store hold are
/// gone, so eviction never races the build's own files. Best effort: a
/// failure is a warning; a store another command holds is left alone.
class CacheLimitOnSuccess {
 public:
  explicit CacheLimitOnSuccess(const ImageStore& store) : m_store(store) {}
  CacheLimitOnSuccess(const CacheLimitOnSuccess&) = delete;
  CacheLimitOnSuccess& operator=(const CacheLimitOnSuccess&) = delete;
  ~CacheLimitOnSuccess();
  void arm() { m_armed = true; }

 private:
  const ImageStore& m_store;
  bool m_armed = false;
};

}  // namespace kiln::detail
