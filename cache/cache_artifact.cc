#include "cache/cache_artifact.h"

#include <sys/stat.h>

#include <algorithm>

#include "cache/transport_internal.h"
#include "oci/index.h"
#include "oci/media_types.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::cache {

namespace {

oci::Json mount_to_json(const CacheMountEntry& m) {
  return {{"key", m.key}, {"id", m.id}, {"meta", m.meta}, {"digest", m.digest.str()}};
}

Result<CacheMountEntry> mount_from_json(const oci::Json& j, std::string_view what) {
  if (!j.is_object()) {
    return Error(ErrorCode::parse, cat(what, ": a cache mount entry is not an object"));
  }
  oci::JsonReader rd(j, cat(what, " cache mount"));
  CacheMountEntry m;
  m.key = rd.string("key");
  m.id = rd.string("id");
  std::string digest = rd.string("digest");
  oci::Json meta = rd.take("meta");
  KILN_TRY(rd.status());
  if (m.key.size() != 64 || !is_lower_hex(m.key)) {
    return Error(ErrorCode::parse, cat(what, ": cache mount `", m.id, "` has an invalid key"));
  }
  KILN_TRY_ASSIGN(m.digest, oci::Digest::parse(digest));
  m.meta = meta.is_object() ? meta : oci::Json::object();
  return m;
}

Result<std::string> read_verified(const std::string& path, const oci::Digest& digest, int64_t max_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Error(ErrorCode::not_found, cat("read `", path, "`"), errno);
  }
  if (st.st_size > max_bytes) {
    return Error(ErrorCode::cache_corrupt, cat("blob `", path, "` is larger than ", max_bytes, " bytes"));
  }
  KILN_TRY_ASSIGN(std::string bytes, read_file(path));
  if (oci::Digest::sha256_of(bytes) != digest) {
    return Error(ErrorCode::cache_corrupt, cat("blob `", path, "` does not match its digest `", digest.str(), "`"));
  }
  return bytes;
}

std::string layout_blob_path(const std::string& dir, const oci::Digest& d) {
  return path_join(dir, cat("blobs/", d.algorithm(), "/", d.hex()));
}

}  // namespace

std::string serialize_cache_mapping(const CacheMapping& mapping) {
  std::vector<const CacheRecord*> sorted;
  for (const auto& r : mapping.records) {
    sorted.push_back(&r);
  }
  std::sort(sorted.begin(), sorted.end(), [](const CacheRecord* a, const CacheRecord* b) { return a->key < b->key; });
  oci::Json records = oci::Json::array();
  for (const CacheRecord* r : sorted) {
    records.push_back(cache_record_to_json(*r));
  }
  oci::Json mounts = oci::Json::array();
  for (const auto& m : mapping.mounts) {
    mounts.push_back(mount_to_json(m));
  }
  oci::Json j = {{"version", k_cache_mapping_version},
                 {"keyScheme", mapping.key_scheme},
                 {"mode", mapping.mode},
                 {"records", records},
                 {"cacheMounts", mounts}};
  return oci::dump_json(j);
}

Result<CacheMapping> parse_cache_mapping(std::string_view bytes, std::string_view key_scheme, std::string_view what) {
  KILN_TRY_ASSIGN(oci::Json j, oci::parse_json(bytes, what));
  if (!j.is_object()) {
    return Error(ErrorCode::parse, cat(what, ": not a JSON object"));
  }
  oci::JsonReader rd(j, std::string(what));
  int64_t version = rd.integer("version");
  CacheMapping m;
  m.key_scheme = rd.string("keyScheme");
  m.mode = rd.opt_string("mode").value_or("min");
  oci::Json records = rd.take("records");
  oci::Json mounts = rd.take("cacheMounts");
  KILN_TRY(rd.status());
  if (version != k_cache_mapping_version) {
    return Error(ErrorCode::unsupported, cat(what, ": mapping version ", version, " is not supported (this kiln reads ",
                                             k_cache_mapping_version, ")"));
  }
  if (!key_scheme.empty() && m.key_scheme != key_scheme) {
    return Error(ErrorCode::unsupported, cat(what, ": made with cache key scheme `", m.key_scheme, "`, this kiln uses `",
                                             key_scheme, "`"));
  }
  if (!records.is_array()) {
    return Error(ErrorCode::parse, cat(what, ": `records` is not an array"));
  }
  for (const auto& r : records) {
    auto rec = cache_record_from_json(r);
    if (!rec) {
      return Error(ErrorCode::parse, cat(what, ": malformed record: ", rec.error().message()));
    }
    m.records.push_back(std::move(*rec));
  }
  if (mounts.is_array()) {
    for (const auto& e : mounts) {
      KILN_TRY_ASSIGN(CacheMountEntry entry, mount_from_json(e, what));
      m.mounts.push_back(std::move(entry));
    }
  }
  return m;
}

Result<CacheArtifact> make_cache_artifact(const Store& store, const CacheMapping& mapping,
                                          const std::vector<oci::Descriptor>& blobs) {
  CacheArtifact a;
  a.mapping_bytes = serialize_cache_mapping(mapping);
  KILN_TRY_ASSIGN(oci::Digest mapping_digest, store.put_blob(a.mapping_bytes));
  oci::Manifest m;
  m.media_type = std::string(oci::media::k_oci_manifest);
  m.artifact_type = std::string(k_cache_artifact_type);
  m.config = oci::make_descriptor(k_cache_config_type, mapping_digest, static_cast<int64_t>(a.mapping_bytes.size()));
  m.layers = blobs;
  m.annotations[std::string(k_cache_mode_annotation)] = mapping.mode;
  a.image.manifest_bytes = oci::serialize_manifest(m);
  KILN_TRY_ASSIGN(oci::Digest manifest_digest, store.put_blob(a.image.manifest_bytes));
  a.image.manifest = std::move(m);
  a.image.record.manifest = oci::make_descriptor(oci::media::k_oci_manifest, manifest_digest,
                                                 static_cast<int64_t>(a.image.manifest_bytes.size()));
  a.image.record.manifest.artifact_type = std::string(k_cache_artifact_type);
  a.image.record.id = mapping_digest;
  a.image.config_bytes = a.mapping_bytes;
  return a;
}

Result<oci::Manifest> parse_cache_manifest(std::string_view bytes, std::string_view what) {
  KILN_TRY_ASSIGN(oci::Manifest m, oci::parse_manifest(bytes, what));
  if (m.config.media_type != k_cache_config_type) {
    std::string type = m.artifact_type.empty() ? m.config.media_type : m.artifact_type;
    return Error(ErrorCode::unsupported, cat(what, " is not a kiln build cache (its type is `", type, "`)"))
        .with_hint("--cache-from takes what `kiln bud --cache-to` wrote");
  }
  if (m.config.size < 0 || m.config.size > k_max_cache_mapping_bytes) {
    return Error(ErrorCode::unsupported, cat(what, ": the mapping is ", m.config.size, " bytes, more than kiln reads"));
  }
  return m;
}

Result<void> write_cache_layout(const Store& store, const CacheArtifact& artifact, const std::string& dir,
                                const std::string& tag) {
  return detail::write_layout_dir(store, artifact.image, dir, tag.empty() ? "latest" : tag)
      .context(cat("write the build cache to `", dir, "`"));
}

Result<std::optional<LayoutCache>> read_cache_layout(const std::string& dir, const std::string& tag) {
  std::string index_path = path_join(dir, "index.json");
  KILN_TRY_ASSIGN(auto text, read_file_if_exists(index_path));
  if (!text) {
    return std::optional<LayoutCache>();
  }
  KILN_TRY_ASSIGN(oci::Index index, oci::parse_index(*text, cat("`", index_path, "`")));
  std::string name = tag.empty() ? "latest" : tag;
  const oci::Descriptor* entry = nullptr;
  for (const auto& d : index.manifests) {
    if (d.annotation(std::string(oci::media::k_ref_name)) == name) {
      entry = &d;
    }
  }
  if (entry == nullptr) {
    return std::optional<LayoutCache>();
  }
  if (entry->size > k_max_cache_mapping_bytes) {
    return Error(ErrorCode::unsupported, cat("manifest `", entry->digest.str(), "` in `", dir, "` is too large"));
  }
  LayoutCache out;
  out.manifest_digest = entry->digest;
  KILN_TRY_ASSIGN(std::string mbytes, read_verified(layout_blob_path(dir, entry->digest), entry->digest, entry->size));
  KILN_TRY_ASSIGN(out.manifest, parse_cache_manifest(mbytes, cat("manifest `", entry->digest.str(), "` in `", dir, "`")));
  KILN_TRY_ASSIGN(out.mapping_bytes, read_verified(layout_blob_path(dir, out.manifest.config.digest),
                                                   out.manifest.config.digest, out.manifest.config.size));
  return std::optional<LayoutCache>(std::move(out));
}

Result<void> fetch_layout_blob(const Store& store, const std::string& dir, const oci::Descriptor& d) {
  std::string path = layout_blob_path(dir, d.digest);
  if (!path_exists(path)) {
    return Error(ErrorCode::not_found, cat("blob `", d.digest.str(), "` is not in `", dir, "`"));
  }
  return detail::copy_blob_in(store, path, d.digest, detail::Move::no);
}

}  // namespace kiln::cache
