#include "cache/key_index.h"

#include <unistd.h>

#include "util/atomic_file.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/time.h"

namespace kiln::cache {

namespace {
// last_used only orders LRU eviction, where an hour is fine-grained enough. A
// rewrite costs two fsyncs (file and directory) and a rename under the
// scheduler's lock, on every hit of every warm build (strace of a cached
// 5-hit build: 12 fsyncs when every record is rewritten, 2 with this).
constexpr int64_t k_touch_refresh_s = 3600;

bool valid_key(const std::string& key) { return key.size() == 64 && is_lower_hex(key); }
Error bad_key(const std::string& key) { return Error(ErrorCode::internal, cat("invalid cache key `", key, "`")); }
}  // namespace

oci::Json cache_record_to_json(const CacheRecord& r) {
  oci::Json j = oci::Json::object();
  j["key"] = r.key;
  j["result"] = r.result;
  oci::Json blobs = oci::Json::array();
  for (const auto& b : r.blobs) {
    blobs.push_back(b.str());
  }
  j["blobs"] = blobs;
  oci::Json layers = oci::Json::array();
  for (const auto& l : r.layers) {
    layers.push_back(l.str());
  }
  j["layers"] = layers;
  j["created"] = r.created;
  j["last_used"] = r.last_used;
  j["size"] = r.size;
  return j;
}

Result<CacheRecord> cache_record_from_json(const oci::Json& j) {
  oci::JsonReader rd(j, "cache record");
  CacheRecord r;
  r.key = rd.string("key");
  r.result = rd.take("result");
  auto blobs = rd.opt_strings("blobs").value_or(std::vector<std::string>{});
  auto layers = rd.opt_strings("layers").value_or(std::vector<std::string>{});
  r.created = rd.integer("created");
  r.last_used = rd.integer("last_used");
  r.size = rd.integer("size");
  KILN_TRY(rd.status());
  for (const auto& b : blobs) {
    KILN_TRY_ASSIGN(oci::Digest d, oci::Digest::parse(b));
    r.blobs.push_back(d);
  }
  for (const auto& l : layers) {
    KILN_TRY_ASSIGN(oci::Digest d, oci::Digest::parse(l));
    r.layers.push_back(d);
  }
  if (!valid_key(r.key)) {
    return Error(ErrorCode::parse, "cache record has an invalid key");
  }
  return r;
}

std::string LocalKeyIndex::path_of(const std::string& key) const { return path_join(m_dir, key + ".json"); }

Result<std::optional<CacheRecord>> LocalKeyIndex::get(const std::string& key) {
  if (!valid_key(key)) {
    return bad_key(key);
  }
  KILN_TRY_ASSIGN(auto text, read_file_if_exists(path_of(key)));
  if (!text) {
    return std::optional<CacheRecord>();
  }
  auto j = oci::parse_json(*text, cat("cache record `", key, "`"));
  auto rec = j ? cache_record_from_json(*j) : Result<CacheRecord>(j.error());
  if (!rec || rec->key != key) {
    log::warning("ignoring corrupt cache record `", path_of(key), "`");
    return std::optional<CacheRecord>();
  }
  return std::optional<CacheRecord>(std::move(*rec));
}

Result<void> LocalKeyIndex::put(const CacheRecord& record) {
  if (!valid_key(record.key)) {
    return bad_key(record.key);
  }
  return write_file_atomic(path_of(record.key), oci::dump_json(cache_record_to_json(record)), 0600)
      .context("write build-cache record");
}

Result<void> LocalKeyIndex::touch(const std::string& key) {
  KILN_TRY_ASSIGN(auto rec, get(key));
  int64_t t = now().seconds;
  if (!rec || t - rec->last_used < k_touch_refresh_s) {
    return {};
  }
  rec->last_used = t;
  return put(*rec);
}

Result<void> LocalKeyIndex::remove(const std::string& key) {
  if (!valid_key(key)) {
    return bad_key(key);
  }
  if (::unlink(path_of(key).c_str()) != 0 && errno != ENOENT) {
    return Error(ErrorCode::io, cat("remove cache record `", key, "`"), errno);
  }
  return {};
}

Result<std::vector<CacheRecord>> LocalKeyIndex::list() {
  std::vector<CacheRecord> out;
  KILN_TRY_ASSIGN(auto names, list_dir(m_dir));
  for (const auto& n : names) {
    if (n.size() != 69 || !n.ends_with(".json")) {
      continue;
    }
    KILN_TRY_ASSIGN(auto rec, get(n.substr(0, 64)));
    if (rec) {
      out.push_back(std::move(*rec));
    }
  }
  return out;
}

Result<std::optional<CacheRecord>> MemoryKeyIndex::get(const std::string& key) {
  if (!valid_key(key)) {
    return bad_key(key);
  }
  std::lock_guard<std::mutex> lock(m_mutex);
  auto it = m_records.find(key);
  if (it == m_records.end()) {
    return std::optional<CacheRecord>();
  }
  return std::optional<CacheRecord>(it->second);
}

Result<void> MemoryKeyIndex::put(const CacheRecord& record) {
  if (!valid_key(record.key)) {
    return bad_key(record.key);
  }
  std::lock_guard<std::mutex> lock(m_mutex);
  m_records[record.key] = record;
  return {};
}

Result<void> MemoryKeyIndex::touch(const std::string& key) {
  std::lock_guard<std::mutex> lock(m_mutex);
  auto it = m_records.find(key);
  if (it != m_records.end()) {
    it->second.last_used = now().seconds;
  }
  return {};
}

Result<void> MemoryKeyIndex::remove(const std::string& key) {
  std::lock_guard<std::mutex> lock(m_mutex);
  m_records.erase(key);
  return {};
}

Result<std::vector<CacheRecord>> MemoryKeyIndex::list() {
  std::lock_guard<std::mutex> lock(m_mutex);
  std::vector<CacheRecord> out;
  for (const auto& [k, v] : m_records) {
    out.push_back(v);
  }
  return out;
}

}  // namespace kiln::cache
