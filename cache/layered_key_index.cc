#include "cache/layered_key_index.h"

#include <algorithm>

namespace kiln::cache {

void LayeredKeyIndex::add_source(const std::string& source, std::vector<CacheRecord> records) {
  std::lock_guard<std::mutex> lock(m_mutex);
  size_t index = m_sources.size();
  m_sources.push_back(source);
  for (auto& r : records) {
    std::string key = r.key;
    m_imported.emplace(std::move(key), Entry{std::move(r), index});  // multimap keeps insertion order per key
  }
}

void LayeredKeyIndex::reject_blob(const oci::Digest& blob) {
  std::lock_guard<std::mutex> lock(m_mutex);
  m_rejected.insert(blob);
}

bool LayeredKeyIndex::rejected(const oci::Digest& blob) const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_rejected.count(blob) != 0;
}

const CacheRecord* LayeredKeyIndex::find_imported(const std::string& key, bool skip_rejected) const {
  auto [begin, end] = m_imported.equal_range(key);
  for (auto it = begin; it != end; ++it) {
    const CacheRecord& r = it->second.record;
    bool bad = skip_rejected && std::any_of(r.blobs.begin(), r.blobs.end(),
                                            [&](const oci::Digest& d) { return m_rejected.count(d) != 0; });
    if (!bad) {
      return &r;
    }
  }
  return nullptr;
}

Result<std::optional<CacheRecord>> LayeredKeyIndex::get(const std::string& key) {
  KILN_TRY_ASSIGN(auto local, m_local.get(key));
  if (local) {
    return local;
  }
  std::lock_guard<std::mutex> lock(m_mutex);
  if (const CacheRecord* r = find_imported(key, true)) {
    return std::optional<CacheRecord>(*r);
  }
  return std::optional<CacheRecord>();
}

Result<void> LayeredKeyIndex::put(const CacheRecord& record) { return m_local.put(record); }

Result<void> LayeredKeyIndex::touch(const std::string& key) {
  KILN_TRY_ASSIGN(auto local, m_local.get(key));
  if (local) {
    return m_local.touch(key);
  }
  std::lock_guard<std::mutex> lock(m_mutex);
  if (find_imported(key, true) != nullptr && m_hits.insert(key).second) {
    m_hit_order.push_back(key);
  }
  return {};
}

Result<void> LayeredKeyIndex::remove(const std::string& key) { return m_local.remove(key); }

Result<std::vector<CacheRecord>> LayeredKeyIndex::list() { return m_local.list(); }

std::vector<CacheRecord> LayeredKeyIndex::imported_hits() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  std::vector<CacheRecord> out;
  for (const auto& key : m_hit_order) {
    if (const CacheRecord* r = find_imported(key, true)) {
      out.push_back(*r);
    }
  }
  return out;
}

std::optional<CacheRecord> LayeredKeyIndex::imported(const std::string& key) const {
  std::lock_guard<std::mutex> lock(m_mutex);
  const CacheRecord* r = find_imported(key, false);
  return r != nullptr ? std::optional<CacheRecord>(*r) : std::nullopt;
}

std::string LayeredKeyIndex::source_of(const std::string& key) const {
  std::lock_guard<std::mutex> lock(m_mutex);
  auto it = m_imported.find(key);
  return it == m_imported.end() ? std::string() : m_sources[it->second.source];
}

size_t LayeredKeyIndex::imported_count() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_imported.size();
}

}  // namespace kiln::cache
