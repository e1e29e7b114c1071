// The build cache's key index: cache key -> result record (STYLE.md K1, K6).
// The solver core uses this interface; LocalKeyIndex keeps records in the
// store (ROOT/kiln/cache/<key>.json), MemoryKeyIndex serves tests.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "oci/digest.h"
#include "oci/json.h"
#include "util/result.h"

namespace kiln::cache {

/// What a cached step produced. `blobs` and `layers` are the store content it
/// references (kept alive by prune); `result` is the op's own description
/// (layer descriptor, config changes...), opaque here.
struct CacheRecord {
  std::string key;                 ///< 64 hex digits (the cache key)
  oci::Json result = oci::Json::object();
  std::vector<oci::Digest> blobs;  ///< blobs the result needs
  std::vector<oci::Digest> layers; ///< diffIDs of extracted layer dirs it may reuse
  int64_t created = 0;             ///< seconds since the epoch
  int64_t last_used = 0;           ///< seconds since the epoch; updated on hits (hourly)
  int64_t size = 0;                ///< bytes of the blobs it alone holds (for eviction)
};

oci::Json cache_record_to_json(const CacheRecord& r);
Result<CacheRecord> cache_record_from_json(const oci::Json& j);

class KeyIndex {
 public:
  virtual ~KeyIndex() = default;
  /// The record for key, or nullopt on a miss (C6). A corrupt record is a
  /// miss with a warning, never a failed build.
  virtual Result<std::optional<CacheRecord>> get(const std::string& key) = 0;
  /// Stores (replaces) a record atomically.
  virtual Result<void> put(const CacheRecord& record) = 0;
  /// Marks a hit (last_used = now; LocalKeyIndex rewrites a record at most
  /// hourly, since last_used only orders eviction).
  virtual Result<void> touch(const std::string& key) = 0;
  virtual Result<void> remove(const std::string& key) = 0;
  virtual Result<std::vector<CacheRecord>> list() = 0;
};

/// Records as files ROOT/kiln/cache/<key>.json, written with AtomicFile.
class LocalKeyIndex final : public KeyIndex {
 public:
  /// dir: the store's cache_dir().
  explicit LocalKeyIndex(std::string dir) : m_dir(std::move(dir)) {}
  Result<std::optional<CacheRecord>> get(const std::string& key) override;
  Result<void> put(const CacheRecord& record) override;
  Result<void> touch(const std::string& key) override;
  Result<void> remove(const std::string& key) override;
  Result<std::vector<CacheRecord>> list() override;

 private:
  std::string path_of(const std::string& key) const;
  std::string m_dir;
};

/// In-memory index for tests and for a remote cache's imported mapping.
class MemoryKeyIndex final : public KeyIndex {
 public:
  Result<std::optional<CacheRecord>> get(const std::string& key) override;
  Result<void> put(const CacheRecord& record) override;
  Result<void> touch(const std::string& key) override;
  Result<void> remove(const std::string& key) override;
  Result<std::vector<CacheRecord>> list() override;

 private:
  std::mutex m_mutex;
  std::map<std::string, CacheRecord> m_records;
};

}  // namespace kiln::cache
