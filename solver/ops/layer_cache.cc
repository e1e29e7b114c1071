#include "solver/ops/layer_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>

#include "layers/extract.h"
#include "solver/ops/runner.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/temp_dir.h"

namespace kiln::solver::ops {

namespace {

// Serializes extraction inside one process (parallel stages often share a base).
std::mutex g_extract_mutex;

Result<void> place_dir(const cache::Store& store, TempDir tmp, const oci::Digest& diff_id) {
  std::string dest = path_join(store.layers_root(), diff_id.hex());
  if (::rename(tmp.path().c_str(), dest.c_str()) != 0) {
    if (errno == EEXIST || errno == ENOTEMPTY) {
      return {};  // another build placed it first; tmp is removed
    }
    return Error(ErrorCode::io, cat("place extracted layer `", diff_id.str(), "`"), errno);
  }
  tmp.release();
  return {};
}

}  // namespace

Result<std::vector<std::string>> ensure_extracted(const cache::Store& store, const std::vector<LayerRef>& chain,
                                                  const ExtractPolicy& policy) {
  std::lock_guard<std::mutex> lock(g_extract_mutex);
  if (policy.fetcher != nullptr) {
    std::vector<oci::Digest> missing;
    for (const auto& layer : chain) {
      if (!is_directory(store.layer_dir(layer.diff_id)) && !store.has_blob(layer.digest)) {
        missing.push_back(layer.digest);
      }
    }
    if (!missing.empty()) {
      KILN_TRY(policy.fetcher->fetch(missing));
    }
  }
  std::vector<std::string> below;  // top first
  for (const auto& layer : chain) {
    std::string dir = store.layer_dir(layer.diff_id);
    if (!is_directory(dir)) {
      KILN_TRY_ASSIGN(TempDir tmp, TempDir::create(store.layers_root(), cat(".tmp-", layer.diff_id.short_hex(), "-")));
      KILN_TRY_ASSIGN(UniqueFd blob, store.open_blob(layer.digest).context(cat("extract layer `", layer.diff_id.str(), "`")));
      layers::ExtractOptions o;
      o.target_dir = path_join(tmp.path(), "diff");
      o.mode = layers::ExtractMode::overlay_lower;
      o.expected_diff_id = layer.diff_id;
      o.expected_digest = layer.digest;
      o.lower_dirs = below;
      o.ownership_errors = policy.ignore_chown_errors ? layers::OwnershipErrors::ignore : layers::OwnershipErrors::fail;
      KILN_TRY(layers::extract_layer(blob.get(), o).context(cat("extract layer `", layer.diff_id.str(), "`")));
      KILN_TRY(place_dir(store, std::move(tmp), layer.diff_id));
      log::debug("extracted layer ", layer.diff_id.str());
    }
    below.insert(below.begin(), dir);
  }
  return below;
}

Result<void> adopt_layer_dir(const cache::Store& store, const std::string& upper_dir, const oci::Digest& diff_id) {
  if (is_directory(store.layer_dir(diff_id))) {
    return remove_tree(upper_dir);
  }
  KILN_TRY_ASSIGN(TempDir tmp, TempDir::create(store.layers_root(), cat(".tmp-", diff_id.short_hex(), "-")));
  if (::rename(upper_dir.c_str(), path_join(tmp.path(), "diff").c_str()) != 0) {
    return Error(ErrorCode::io, cat("move snapshot `", upper_dir, "` into the store"), errno);
  }
  return place_dir(store, std::move(tmp), diff_id);
}

}  // namespace kiln::solver::ops
