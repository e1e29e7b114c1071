// Internal to solver/ops: remembered SHA-256 digests of build-context files,
// keyed by what changes when a file's content can have changed (DESIGN.md):
// (device, inode, size, mtime ns, ctime ns). The on-disk format is described
// in context_hash.h.
//
// A digest is trusted only when the file's ctime was at least
// k_racy_margin_ns older than the moment hashing started. Otherwise a second
// write within the same timestamp tick (coarse kernel clocks tick every 1-10
// ms) could leave the key unchanged with new content (git's "racily clean"
// problem); such a digest is kept but checked again next time.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "util/result.h"

namespace kiln::solver::ops::detail {

inline constexpr int64_t k_racy_margin_ns = 100'000'000;       // 100 ms
inline constexpr int64_t k_memo_max_idle_s = 30LL * 24 * 3600;  // dropped after 30 days unused

using Sha256Bytes = std::array<uint8_t, 32>;

struct MemoKey {
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  bool operator==(const MemoKey&) const = default;
};

struct MemoKeyHash {
  size_t operator()(const MemoKey& k) const {
    uint64_t h = k.ino * 0x9E3779B97F4A7C15ULL;
    h ^= (k.dev + 0x632BE59BD9B4E019ULL) + (h << 6) + (h >> 2);
    h ^= static_cast<uint64_t>(k.ctime_ns) + (h << 6) + (h >> 2);
    h ^= static_cast<uint64_t>(k.mtime_ns) + k.size + (h << 6) + (h >> 2);
    return static_cast<size_t>(h);
  }
};

/// Thread-safe map from MemoKey to file digest, persisted as JSON.
class HashMemo {
 public:
  explicit HashMemo(std::string path) : m_path(std::move(path)) {}

  /// Reads the state file once (later calls do nothing). A missing file is
  /// an empty memo; an unreadable, corrupt or newer-version file is ignored
  /// with a warning (everything is hashed again, nothing is lost).
  void load();
  /// The remembered digest, if trusted (see above).
  std::optional<Sha256Bytes> lookup(const MemoKey& key, int64_t now_s);
  /// Remembers a digest computed from content read after hashed_at_ns.
  void store(const MemoKey& key, const Sha256Bytes& sha, int64_t hashed_at_ns, int64_t now_s);
  /// Writes the memo back atomically if it changed; entries unused for 30
  /// days are dropped. A memo without a path is not saved.
  Result<void> save();

  size_t size();

 private:
  struct Value {
    Sha256Bytes sha{};
    int64_t hashed_at_ns = 0;
    int64_t used_s = 0;
  };
  std::mutex m_mutex;
  std::string m_path;
  bool m_loaded = false;
  bool m_dirty = false;
  std::unordered_map<MemoKey, Value, MemoKeyHash> m_map;
};

}  // namespace kiln::solver::ops::detail
