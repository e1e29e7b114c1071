#include "solver/ops/cache_mount_archive.h"

#include <set>

#include "cache/cache_artifact.h"
#include "layers/extract.h"
#include "layers/write.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::solver::ops {

Result<oci::Descriptor> archive_directory(const cache::Store& store, const std::string& dir,
                                          oci::media::Compression compression) {
  if (!is_directory(dir)) {
    return Error(ErrorCode::not_found, cat("archive cache directory `", dir, "`: not a directory"));
  }
  layers::WriteOptions o;
  o.compression = compression == oci::media::Compression::gzip ? oci::media::Compression::gzip
                                                                : oci::media::Compression::zstd;
  KILN_TRY_ASSIGN(cache::BlobWriter blob, store.begin_blob());
  KILN_TRY_ASSIGN(layers::LayerInfo info, layers::write_layer(layers::SnapshotSource::overlay_upper(dir), o, blob.fd())
                                              .context(cat("archive cache directory `", dir, "`")));
  KILN_TRY(blob.commit_hashed(info.digest, info.size));
  return oci::make_descriptor(o.compression == oci::media::Compression::gzip ? cache::k_cache_mount_gzip_type
                                                                             : cache::k_cache_mount_type,
                              info.digest, info.size);
}

Result<void> restore_directory(const cache::Store& store, const oci::Digest& digest, const std::string& dir,
                               bool ignore_chown_errors) {
  KILN_TRY_ASSIGN(UniqueFd fd, store.open_blob(digest));
  layers::ExtractOptions o;
  o.target_dir = dir;
  o.mode = layers::ExtractMode::overlay_lower;
  o.expected_digest = digest;
  o.ownership_errors = ignore_chown_errors ? layers::OwnershipErrors::ignore : layers::OwnershipErrors::fail;
  KILN_TRY(layers::extract_layer(fd.get(), o).context(cat("restore cache directory `", dir, "`")));
  return {};
}

std::string absolute_mount_target(const std::string& target, const std::string& cwd) {
  if (target.empty()) {
    return target;
  }
  return path_clean(target[0] == '/' ? target : path_join(cwd.empty() ? "/" : cwd, target));
}

cache::CacheMountKey cache_mount_key(const MountSpec& mount, const std::string& target, const std::string& from_key) {
  cache::CacheMountKey key;
  key.id = mount.id.empty() ? target : mount.id;
  key.uid = mount.uid.value_or(0);
  key.gid = mount.gid.value_or(0);
  key.mode = mount.mode.value_or(0755);
  if (mount.from_input > 0) {
    key.from = from_key;
    key.source = mount.source;
  }
  return key;
}

std::vector<cache::CacheMountKey> build_cache_mount_keys(const Definition& def, const SolveResult& solved) {
  std::vector<cache::CacheMountKey> out;
  std::set<std::string> seen;
  for (size_t i = 0; i < def.ops.size() && i < solved.results.size(); ++i) {
    const auto* exec = std::get_if<Exec>(&def.ops[i].attrs);
    if (exec == nullptr || !solved.results[i]) {
      continue;
    }
    for (const auto& m : exec->mounts) {
      std::string target = absolute_mount_target(m.target, exec->cwd);
      if (m.type != "cache" || target.empty()) {
        continue;
      }
      std::string from_key;
      if (m.from_input > 0 && static_cast<size_t>(m.from_input) < def.ops[i].inputs.size()) {
        auto in = static_cast<size_t>(def.ops[i].inputs[static_cast<size_t>(m.from_input)]);
        if (in < solved.results.size() && solved.results[in]) {
          from_key = solved.results[in]->key;
        }
      }
      cache::CacheMountKey key = cache_mount_key(m, target, from_key);
      if (seen.insert(key.hex()).second) {
        out.push_back(std::move(key));
      }
    }
  }
  return out;
}

}  // namespace kiln::solver::ops
