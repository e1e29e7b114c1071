#include "cache/gc.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "cache/key_index.h"
#include "oci/index.h"
#include "oci/json.h"
#include "oci/media_types.h"
#include "util/atomic_file.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln::cache {

namespace {

// Adds a manifest or index and everything it references.
void walk_blob(const Store& store, const oci::Descriptor& d, Roots& roots, std::vector<std::string>* problems) {
  if (!roots.blobs.insert(d.digest).second) {
    return;
  }
  auto bytes = store.read_blob(d.digest);
  if (!bytes) {
    if (problems != nullptr) {
      problems->push_back(bytes.error().render());
    }
    return;
  }
  if (oci::media::is_index(d.media_type)) {
    auto idx = oci::parse_index(*bytes);
    if (!idx) {
      if (problems != nullptr) {
        problems->push_back(idx.error().render());
      }
      return;
    }
    for (const auto& m : idx->manifests) {
      walk_blob(store, m, roots, problems);
    }
    return;
  }
  auto m = oci::parse_manifest(*bytes, cat("manifest `", d.digest.str(), "`"));
  if (!m) {
    if (problems != nullptr) {
      problems->push_back(m.error().render());
    }
    return;
  }
  roots.blobs.insert(m->config.digest);
  for (const auto& l : m->layers) {
    roots.blobs.insert(l.digest);
  }
  auto cfg = store.read_blob(m->config.digest);
  if (!cfg) {
    if (problems != nullptr) {
      problems->push_back(cat("image `", d.digest.str(), "`: ", cfg.error().render()));
    }
    return;
  }
  auto config = oci::parse_image_config(*cfg);
  if (config) {
    for (const auto& id : config->diff_ids) {
      roots.layers.insert(id);
    }
  } else if (problems != nullptr && m->config.media_type != oci::media::k_oci_empty &&
             (m->config.media_type == oci::media::k_oci_config || m->config.media_type == oci::media::k_docker_config)) {
    problems->push_back(config.error().render());
  }
  if (problems != nullptr) {
    for (const auto& l : m->layers) {
      if (!store.has_blob(l.digest)) {
        problems->push_back(cat("image `", d.digest.str(), "`: layer blob `", l.digest.str(), "` is missing"));
      }
    }
  }
}

void add_digests(const oci::Json& arr, std::set<oci::Digest>& out) {
  if (!arr.is_array()) {
    return;
  }
  for (const auto& v : arr) {
    if (v.is_string()) {
      if (auto d = oci::Digest::parse(v.get<std::string>())) {
        out.insert(*d);
      }
    }
  }
}

Result<Roots> collect(const Store& store, std::vector<std::string>* problems) {
  Roots roots;
  KILN_TRY_ASSIGN(std::string text, read_file(path_join(store.root(), "index.json")));
  KILN_TRY_ASSIGN(oci::Index index, oci::parse_index(text, "the store's index.json"));
  for (const auto& d : index.manifests) {
    walk_blob(store, d, roots, problems);
  }
  LocalKeyIndex keys(store.cache_dir());
  KILN_TRY_ASSIGN(auto records, keys.list());
  for (const auto& r : records) {
    for (const auto& b : r.blobs) {
      roots.blobs.insert(b);
      if (problems != nullptr && !store.has_blob(b)) {
        problems->push_back(cat("build-cache record `", r.key, "`: blob `", b.str(), "` is missing"));
      }
    }
    roots.layers.insert(r.layers.begin(), r.layers.end());
  }
  KILN_TRY_ASSIGN(auto containers, list_dir(store.containers_dir()));
  for (const auto& c : containers) {
    auto rec = read_file_if_exists(path_join(store.containers_dir(), c + "/container.json"));
    if (!rec || !*rec) {
      continue;
    }
    auto j = oci::parse_json(**rec, "container record");
    if (!j || !j->is_object()) {
      if (problems != nullptr) {
        problems->push_back(cat("working container `", c, "`: unreadable record"));
      }
      continue;
    }
    add_digests(j->value("blobs", oci::Json::array()), roots.blobs);
    add_digests(j->value("layers", oci::Json::array()), roots.layers);
  }
  return roots;
}

bool is_temp_name(const std::string& n) { return n.starts_with(k_atomic_temp_prefix); }

// Removes temp leftovers: everything in kiln/tmp, and AtomicFile temp files in
// the store's record directories.
uint64_t remove_temp(const Store& store, uint64_t& bytes) {
  uint64_t n = 0;
  auto drop = [&](const std::string& path) {
    auto size = tree_size(path);
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      bytes += static_cast<uint64_t>(st.st_size);
    } else if (size) {
      bytes += *size;
    }
    if (remove_tree(path)) {
      ++n;
    }
  };
  if (auto names = list_dir(store.tmp_dir())) {
    for (const auto& name : *names) {
      drop(path_join(store.tmp_dir(), name));
    }
  }
  for (const std::string& dir : {store.root(), store.cache_dir(), store.containers_dir(), store.layers_root(),
                                 path_join(store.root(), "kiln")}) {
    if (auto names = list_dir(dir)) {
      for (const auto& name : *names) {
        if (is_temp_name(name)) {
          drop(path_join(dir, name));
        }
      }
    }
  }
  return n;
}

}  // namespace

Result<Roots> collect_roots(const Store& store) { return collect(store, nullptr); }

namespace {

// The body of prune, with gc.lock held exclusively by the caller.
Result<PruneReport> prune_locked(const Store& store, const PruneOptions& options) {
  PruneReport report;
  if (options.build_cache) {
    LocalKeyIndex keys(store.cache_dir());
    KILN_TRY_ASSIGN(auto records, keys.list());
    std::sort(records.begin(), records.end(),
              [](const CacheRecord& a, const CacheRecord& b) { return a.last_used < b.last_used; });
    uint64_t total = 0;
    for (const auto& r : records) {
      total += static_cast<uint64_t>(std::max<int64_t>(r.size, 0));
    }
    for (const auto& r : records) {
      if (options.keep_storage && total <= *options.keep_storage) {
        break;
      }
      KILN_TRY(keys.remove(r.key));
      total -= std::min<uint64_t>(total, static_cast<uint64_t>(std::max<int64_t>(r.size, 0)));
      ++report.cache_records_removed;
    }
  }
  if (options.cache_mounts) {
    KILN_TRY_ASSIGN(report.cache_mounts_removed, CacheMounts(store.cache_mounts_dir()).prune());
    for (const auto& m : report.cache_mounts_removed) {
      report.bytes_freed += m.bytes;
    }
  }
  report.temp_files_removed = remove_temp(store, report.bytes_freed);
  KILN_TRY_ASSIGN(Roots roots, collect_roots(store));
  std::string blobs_dir = path_join(store.root(), "blobs/sha256");
  KILN_TRY_ASSIGN(auto blobs, list_dir(blobs_dir));
  for (const auto& hex : blobs) {
    if (is_temp_name(hex)) {
      continue;
    }
    auto d = oci::Digest::parse("sha256:" + hex);
    if (d && roots.blobs.count(*d) != 0) {
      continue;
    }
    std::string path = path_join(blobs_dir, hex);
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && ::unlink(path.c_str()) == 0) {
      report.bytes_freed += static_cast<uint64_t>(st.st_size);
      ++report.blobs_removed;
    }
  }
  KILN_TRY_ASSIGN(auto layer_dirs, list_dir(store.layers_root()));
  for (const auto& hex : layer_dirs) {
    auto d = oci::Digest::parse("sha256:" + hex);
    if (!d || roots.layers.count(*d) != 0) {
      continue;
    }
    std::string path = path_join(store.layers_root(), hex);
    auto size = tree_size(path);
    if (remove_tree(path)) {
      report.bytes_freed += size ? *size : 0;
      ++report.layer_dirs_removed;
    }
  }
  return report;
}

}  // namespace

Result<PruneReport> prune(const Store& store, const PruneOptions& options) {
  KILN_TRY_ASSIGN(FileLock gc, store.lock_for_gc());
  return prune_locked(store, options);
}

Result<std::optional<PruneReport>> try_prune(const Store& store, const PruneOptions& options) {
  KILN_TRY_ASSIGN(auto gc, FileLock::try_acquire(path_join(store.root(), "kiln/locks/gc.lock"), LockMode::exclusive));
  if (!gc) {
    return std::optional<PruneReport>();
  }
  KILN_TRY_ASSIGN(PruneReport r, prune_locked(store, options));
  return std::optional<PruneReport>(std::move(r));
}

Result<FsckReport> fsck(const Store& store) {
  FsckReport report;
  std::string blobs_dir = path_join(store.root(), "blobs/sha256");
  KILN_TRY_ASSIGN(auto blobs, list_dir(blobs_dir));
  for (const auto& hex : blobs) {
    if (is_temp_name(hex)) {
      report.notes.push_back(cat("leftover temp file `", path_join(blobs_dir, hex), "` (`kiln prune` removes it)"));
      continue;
    }
    auto d = oci::Digest::parse("sha256:" + hex);
    if (!d) {
      report.problems.push_back(cat("unexpected file `", path_join(blobs_dir, hex), "` among the blobs"));
      continue;
    }
    ++report.blobs_checked;
    auto ok = store.verify_blob(*d);
    if (!ok) {
      report.problems.push_back(ok.error().render());
    }
  }
  auto index_text = read_file(path_join(store.root(), "index.json"));
  if (!index_text) {
    report.problems.push_back(index_text.error().render());
    return report;
  }
  auto index = oci::parse_index(*index_text, "the store's index.json");
  if (!index) {
    report.problems.push_back(index.error().render());
    return report;
  }
  report.images_checked = index->manifests.size();
  auto roots = collect(store, &report.problems);
  if (!roots) {
    report.problems.push_back(roots.error().render());
  }
  if (auto names = list_dir(store.tmp_dir()); names && !names->empty()) {
    report.notes.push_back(cat(names->size(), " leftover temp file(s) in `", store.tmp_dir(), "` (`kiln prune` removes them)"));
  }
  if (auto layer_dirs = list_dir(store.layers_root())) {
    for (const auto& hex : *layer_dirs) {
      if (is_temp_name(hex)) {
        continue;
      }
      if (!is_directory(path_join(store.layers_root(), hex + "/diff"))) {
        report.problems.push_back(cat("extracted layer `", hex, "` has no `diff` directory"));
      }
    }
  }
  std::sort(report.problems.begin(), report.problems.end());
  report.problems.erase(std::unique(report.problems.begin(), report.problems.end()), report.problems.end());
  return report;
}

}  // namespace kiln::cache
