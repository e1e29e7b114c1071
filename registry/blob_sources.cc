#include "registry/blob_sources.h"

#include <algorithm>

#include "util/atomic_file.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::registry {

namespace {

constexpr size_t k_max_sources = 8;

std::string record_path(const cache::Store& store, const oci::Digest& digest) {
  return path_join(store.root(), cat("kiln/blob-sources/", digest.hex()));
}

}  // namespace

std::vector<std::string> blob_sources(const cache::Store& store, const oci::Digest& digest) {
  std::vector<std::string> out;
  auto text = read_file_if_exists(record_path(store, digest));
  if (!text || !*text) {
    return out;
  }
  for (const auto& line : split(**text, '\n')) {
    if (!trim(line).empty()) {
      out.emplace_back(trim(line));
    }
  }
  return out;
}

void record_blob_source(const cache::Store& store, const oci::Digest& digest, const std::string& repository) {
  auto sources = blob_sources(store, digest);
  if (!sources.empty() && sources.back() == repository) {
    return;  // already the newest record: no write
  }
  sources.erase(std::remove(sources.begin(), sources.end(), repository), sources.end());
  sources.push_back(repository);
  if (sources.size() > k_max_sources) {
    sources.erase(sources.begin(), sources.end() - k_max_sources);
  }
  std::string path = record_path(store, digest);
  auto r = make_dirs(path_dirname(path));
  if (r) {
    r = write_file_atomic(path, join(sources, "\n") + "\n");
  }
  log_warning_and_drop(std::move(r));
}

}  // namespace kiln::registry
