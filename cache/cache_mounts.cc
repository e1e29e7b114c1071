#include "cache/cache_mounts.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "oci/json.h"
#include "util/atomic_file.h"
#include "util/file.h"
#include "util/hasher.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/time.h"

namespace kiln::cache {

namespace {

constexpr const char* k_data = "data";
constexpr int k_max_private_dirs = 64;  // beyond that, a private user waits for `data`

std::string lock_path(const std::string& hex_dir, const std::string& name) {
  return path_join(hex_dir, name + ".lock");
}

oci::Json meta_json(const CacheMountKey& key, int64_t created, int64_t last_used) {
  return {{"version", 1},   {"id", key.id},    {"from", key.from},       {"source", key.source},
          {"uid", key.uid}, {"gid", key.gid},  {"mode", key.mode},       {"created", created},
          {"last_used", last_used}};
}

// Records the cache's identity and that it was used now (best effort: the
// record only serves listing).
void touch_meta(const std::string& hex_dir, const CacheMountKey& key) {
  std::string path = path_join(hex_dir, "meta.json");
  int64_t now_s = now().seconds;
  int64_t created = now_s;
  if (auto text = read_file_if_exists(path); text && *text) {
    if (auto j = oci::parse_json(**text, "cache mount record"); j && j->is_object()) {
      created = j->value("created", now_s);
    }
  }
  log_warning_and_drop(write_file_atomic(path, oci::dump_json(meta_json(key, created, now_s))));
}

// The directory names of one cache that hold content (data, private-N).
std::vector<std::string> content_dirs(const std::string& hex_dir) {
  std::vector<std::string> out;
  auto names = list_dir(hex_dir);
  if (!names) {
    return out;
  }
  for (const auto& n : *names) {
    if (n == k_data || n.starts_with("private-")) {
      out.push_back(n);
    }
  }
  return out;
}

// Takes every directory lock of a cache without waiting; nullopt when one
// is busy (the cache is in use).
Result<std::optional<std::vector<FileLock>>> try_lock_all(const std::string& hex_dir) {
  std::vector<FileLock> held;
  std::vector<std::string> names = content_dirs(hex_dir);
  names.emplace_back("init");
  for (const auto& n : names) {
    KILN_TRY_ASSIGN(auto lock, FileLock::try_acquire(lock_path(hex_dir, n), LockMode::exclusive));
    if (!lock) {
      return std::optional<std::vector<FileLock>>();
    }
    held.push_back(std::move(*lock));
  }
  return std::optional<std::vector<FileLock>>(std::move(held));
}

// Removes a half-made directory unless disarmed (path cleared).
struct RemoveUnlessDone {
  std::string path;
  ~RemoveUnlessDone() {
    if (!path.empty()) {
      log_warning_and_drop(remove_tree(path));
    }
  }
};

CacheMountInfo info_of(const std::string& root, const std::string& hex) {
  CacheMountInfo info;
  info.hex = hex;
  std::string hex_dir = path_join(root, hex);
  if (auto text = read_file_if_exists(path_join(hex_dir, "meta.json")); text && *text) {
    if (auto j = oci::parse_json(**text, "cache mount record"); j && j->is_object()) {
      info.id = j->value("id", std::string());
      info.last_used = j->value("last_used", int64_t{0});
    }
  }
  if (auto size = tree_size(hex_dir)) {
    info.bytes = *size;
  }
  return info;
}

}  // namespace

Result<CacheSharing> parse_cache_sharing(std::string_view name) {
  if (name == "shared" || name.empty()) {
    return CacheSharing::shared;
  }
  if (name == "private") {
    return CacheSharing::private_;
  }
  if (name == "locked") {
    return CacheSharing::locked;
  }
  return Error(ErrorCode::invalid_input, cat("unsupported cache sharing `", name, "` (use shared, private or locked)"));
}

std::string CacheMountKey::hex() const {
  return Hasher("kiln.cache-mount.v1")
      .field("id", id)
      .field("from", from)
      .field("source", source)
      .field("uid", static_cast<int64_t>(uid))
      .field("gid", static_cast<int64_t>(gid))
      .field("mode", static_cast<int64_t>(mode))
      .finish_hex();
}

Result<void> CacheMounts::ensure_dir(const std::string& hex_dir, const std::string& name, const CacheMountKey& key,
                                     const SeedFn& seed) const {
  std::string dir = path_join(hex_dir, name);
  if (is_directory(dir)) {
    return {};
  }
  KILN_TRY_ASSIGN(FileLock init, FileLock::acquire(lock_path(hex_dir, "init"), LockMode::exclusive));
  if (is_directory(dir)) {
    return {};  // another user created it while we waited
  }
  std::string tmpl = path_join(hex_dir, ".tmp-" + name + "-XXXXXX");
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return Error::from_errno(cat("create cache directory in `", hex_dir, "`"));
  }
  RemoveUnlessDone guard{tmpl};
  if (::chmod(tmpl.c_str(), key.mode & 07777) != 0 || ::chown(tmpl.c_str(), key.uid, key.gid) != 0) {
    return Error::from_errno(cat("set the owner (", key.uid, ":", key.gid, ") and mode of cache `", key.id, "`"));
  }
  if (seed) {
    KILN_TRY(seed(tmpl).context(cat("seed cache `", key.id, "`")));
  }
  if (::rename(tmpl.c_str(), dir.c_str()) != 0) {
    return Error::from_errno(cat("move cache directory into place at `", dir, "`"));
  }
  guard.path.clear();
  return {};
}

Result<CacheLease> CacheMounts::acquire(const CacheMountKey& key, CacheSharing sharing, const SeedFn& seed) const {
  std::string hex_dir = path_join(m_root, key.hex());
  KILN_TRY(make_dirs(hex_dir));
  touch_meta(hex_dir, key);
  if (sharing == CacheSharing::private_) {
    // The first free directory; a new one when all are busy.
    for (int i = 0; i <= k_max_private_dirs; ++i) {
      std::string name = i == 0 ? k_data : cat("private-", i);
      KILN_TRY_ASSIGN(auto lock, FileLock::try_acquire(lock_path(hex_dir, name), LockMode::exclusive));
      if (lock) {
        KILN_TRY(ensure_dir(hex_dir, name, key, seed));
        return CacheLease{path_join(hex_dir, name), std::move(*lock)};
      }
    }
  }
  LockMode mode = sharing == CacheSharing::shared ? LockMode::shared : LockMode::exclusive;
  KILN_TRY_ASSIGN(FileLock lock, FileLock::acquire(lock_path(hex_dir, k_data), mode));
  KILN_TRY(ensure_dir(hex_dir, k_data, key, seed));
  return CacheLease{path_join(hex_dir, k_data), std::move(lock)};
}

Result<std::optional<CacheLease>> CacheMounts::open_existing(const CacheMountKey& key) const {
  std::string hex_dir = path_join(m_root, key.hex());
  std::string dir = path_join(hex_dir, k_data);
  if (!is_directory(dir)) {
    return std::optional<CacheLease>();
  }
  KILN_TRY_ASSIGN(FileLock lock, FileLock::acquire(lock_path(hex_dir, k_data), LockMode::shared));
  if (!is_directory(dir)) {
    return std::optional<CacheLease>();  // pruned while we waited
  }
  return std::optional<CacheLease>(CacheLease{dir, std::move(lock)});
}

Result<std::vector<CacheMountInfo>> CacheMounts::list() const {
  std::vector<CacheMountInfo> out;
  if (!is_directory(m_root)) {
    return out;
  }
  KILN_TRY_ASSIGN(auto names, list_dir(m_root));
  for (const auto& hex : names) {
    if (!is_lower_hex(hex) || hex.size() != 64) {
      continue;
    }
    CacheMountInfo info = info_of(m_root, hex);
    KILN_TRY_ASSIGN(auto locks, try_lock_all(path_join(m_root, hex)));
    info.in_use = !locks.has_value();
    out.push_back(std::move(info));
  }
  return out;
}

Result<std::vector<CacheMountInfo>> CacheMounts::prune() const {
  std::vector<CacheMountInfo> removed;
  if (!is_directory(m_root)) {
    return removed;
  }
  KILN_TRY_ASSIGN(auto names, list_dir(m_root));
  for (const auto& hex : names) {
    std::string hex_dir = path_join(m_root, hex);
    if (!is_lower_hex(hex) || hex.size() != 64) {
      continue;
    }
    KILN_TRY_ASSIGN(auto locks, try_lock_all(hex_dir));
    if (!locks) {
      log::info("keep cache mount `", hex, "`: in use");
      continue;
    }
    CacheMountInfo info = info_of(m_root, hex);
    KILN_TRY(remove_tree(hex_dir).context(cat("remove cache mount `", info.id, "`")));
    removed.push_back(std::move(info));
  }
  return removed;
}

}  // namespace kiln::cache
