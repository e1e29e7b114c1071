// The build cache a build sees with `--cache-from`: the store's own records
// first, then each imported cache's records (cache_artifact.h) in the order
// the caches were given. A record from an imported cache is a hit like a
// local one; its blobs may not be in the store yet (they are fetched when a
// step needs them, solver/ops BlobFetcher). Writes go to the local index
// only: imported records are read-only and live as long as this object.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "cache/key_index.h"

namespace kiln::cache {

class LayeredKeyIndex final : public KeyIndex {
 public:
  /// `local` (not owned) must outlive this index.
  explicit LayeredKeyIndex(KeyIndex& local) : m_local(local) {}

  /// Adds an imported cache's records, consulted after the local index and
  /// after the caches added before. `source` names it in messages.
  void add_source(const std::string& source, std::vector<CacheRecord> records);

  /// From now on, every imported record that needs `blob` is a miss (the
  /// blob could not be fetched or did not match its digest).
  void reject_blob(const oci::Digest& blob);
  bool rejected(const oci::Digest& blob) const;

  /// The local record when there is one, else the first imported record for
  /// key none of whose blobs is rejected; nullopt on a miss.
  Result<std::optional<CacheRecord>> get(const std::string& key) override;
  /// Stores in the local index.
  Result<void> put(const CacheRecord& record) override;
  /// Marks a hit: a local record's last_used, or remembers that an imported
  /// record was used (imported_hits()).
  Result<void> touch(const std::string& key) override;
  /// Removes the local record (imported records stay).
  Result<void> remove(const std::string& key) override;
  /// The local records.
  Result<std::vector<CacheRecord>> list() override;

  /// Imported records touched so far (hits that came from a cache), in the
  /// order of their first hit.
  std::vector<CacheRecord> imported_hits() const;
  /// The imported record for key (first source wins), ignoring rejections.
  std::optional<CacheRecord> imported(const std::string& key) const;
  /// Name of the source an imported record came from ("" when none).
  std::string source_of(const std::string& key) const;
  /// Records imported from all sources (for diagnostics and tests).
  size_t imported_count() const;

 private:
  const CacheRecord* find_imported(const std::string& key, bool skip_rejected) const;

  KeyIndex& m_local;
  mutable std::mutex m_mutex;
  struct Entry {
    CacheRecord record;
    size_t source = 0;
  };
  std::multimap<std::string, Entry> m_imported;  // key -> records, in source order
  std::vector<std::string> m_sources;
  std::set<oci::Digest> m_rejected;
  std::vector<std::string> m_hit_order;
  std::set<std::string> m_hits;
};

}  // namespace kiln::cache
