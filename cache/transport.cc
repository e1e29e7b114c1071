#include "cache/transport.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "cache/transport_internal.h"
#include "oci/index.h"
#include "oci/media_types.h"
#include "util/atomic_file.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::cache {

std::string transport_name(TransportKind kind) {
  switch (kind) {
    case TransportKind::oci_dir: return "oci";
    case TransportKind::oci_archive: return "oci-archive";
    case TransportKind::docker_archive: return "docker-archive";
  }
  return "?";
}

Result<std::optional<LocalRef>> parse_local_ref(std::string_view text) {
  static const std::pair<std::string_view, TransportKind> prefixes[] = {
      {"oci:", TransportKind::oci_dir},
      {"oci-archive:", TransportKind::oci_archive},
      {"docker-archive:", TransportKind::docker_archive}};
  for (const auto& [prefix, kind] : prefixes) {
    if (!text.starts_with(prefix)) {
      continue;
    }
    std::string_view rest = text.substr(prefix.size());
    LocalRef r;
    r.kind = kind;
    auto colon = rest.find(':');
    r.path = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) {
      r.ref = std::string(rest.substr(colon + 1));
    }
    if (r.path.empty()) {
      return Error(ErrorCode::invalid_input, cat("invalid reference `", text, "`: no path after `", prefix, "`"));
    }
    return std::optional<LocalRef>(r);
  }
  return std::optional<LocalRef>();
}

namespace detail {

Result<void> copy_blob_in(const Store& store, const std::string& src, const oci::Digest& digest, Move move) {
  if (store.has_blob(digest)) {
    return {};
  }
  if (move == Move::yes) {
    auto hex = sha256_file_hex(src);
    if (!hex) {
      return std::move(hex).error();
    }
    if (*hex != digest.hex()) {
      return Error(ErrorCode::cache_corrupt, cat("blob `", digest.str(), "` in the source does not match its digest"));
    }
    if (::rename(src.c_str(), store.blob_path(digest).c_str()) == 0) {
      return {};
    }
  }
  KILN_TRY_ASSIGN(UniqueFd in, open_file(src, O_RDONLY));
  KILN_TRY_ASSIGN(BlobWriter w, store.begin_blob());
  std::string buf(1 << 20, '\0');
  while (true) {
    KILN_TRY_ASSIGN(size_t n, read_full(in.get(), buf.data(), buf.size()));
    if (n == 0) {
      break;
    }
    KILN_TRY(w.write(std::string_view(buf.data(), n)));
  }
  auto r = w.commit(digest);
  if (!r) {
    return Error(ErrorCode::cache_corrupt, cat("blob `", digest.str(), "` in the source does not match its digest"));
  }
  return {};
}

std::string sanitize_repo(std::string_view name) {
  std::string out;
  for (char c : to_lower(name)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (ok) {
      out.push_back(c);
    } else if (!out.empty() && out.back() != '-' && (c == '-' || c == '_' || c == '.' || c == ' ')) {
      out.push_back('-');
    }
  }
  while (!out.empty() && out.back() == '-') {
    out.pop_back();
  }
  return out.empty() ? "image" : out;
}

std::string name_for_import(const std::string& ref_name, const std::string& source_path) {
  if (!ref_name.empty()) {
    auto full = oci::parse_reference(ref_name);
    if (full && full->domain_given) {
      return full->str();
    }
  }
  std::string base = path_basename(path_clean(source_path));
  for (const char* ext : {".tar.gz", ".tgz", ".tar"}) {
    if (base.size() > std::strlen(ext) && base.ends_with(ext)) {
      base.resize(base.size() - std::strlen(ext));
    }
  }
  std::string tag = !ref_name.empty() && oci::is_valid_tag(ref_name) ? ref_name : std::string(oci::k_default_tag);
  return cat(oci::k_local_domain, "/", sanitize_repo(base), ":", tag);
}

// Chooses the image manifest for `platform` out of an index (recursively).
Result<oci::Descriptor> pick_manifest(const std::string& layout_dir, const oci::Descriptor& d,
                                      const oci::Platform& platform) {
  if (!oci::media::is_index(d.media_type)) {
    return d;
  }
  std::string path = path_join(layout_dir, cat("blobs/", d.digest.algorithm(), "/", d.digest.hex()));
  KILN_TRY_ASSIGN(std::string bytes, read_file(path));
  if (sha256_hex(bytes) != d.digest.hex()) {
    return Error(ErrorCode::cache_corrupt, cat("image index `", d.digest.str(), "` does not match its digest"));
  }
  KILN_TRY_ASSIGN(oci::Index idx, oci::parse_index(bytes));
  for (const auto& m : idx.manifests) {
    if (!m.platform || m.platform->matches(platform)) {
      return pick_manifest(layout_dir, m, platform);
    }
  }
  return Error(ErrorCode::not_found, cat("the image index has no manifest for platform `", platform.str(), "`"));
}

Result<ImportResult> import_layout(const Store& store, const std::string& layout_dir, const std::string& ref,
                                   const std::string& source_path, const oci::Platform& platform, Move move) {
  std::string index_path = path_join(layout_dir, "index.json");
  KILN_TRY_ASSIGN(std::string text, read_file(index_path).context(cat("read OCI layout `", source_path, "`")));
  KILN_TRY_ASSIGN(oci::Index index, oci::parse_index(text, cat("`", index_path, "`")));
  std::vector<oci::Descriptor> picked;
  for (const auto& d : index.manifests) {
    if (ref.empty() || d.annotation(std::string(oci::media::k_ref_name)) == ref) {
      picked.push_back(d);
    }
  }
  if (picked.empty()) {
    return Error(ErrorCode::not_found, ref.empty() ? cat("OCI layout `", source_path, "` holds no image")
                                                   : cat("OCI layout `", source_path, "` has no image named `", ref, "`"));
  }
  if (picked.size() > 1 && ref.empty()) {
    return Error(ErrorCode::invalid_input, cat("OCI layout `", source_path, "` holds ", picked.size(),
                                               " images; name one as `oci:", source_path, ":REF`"));
  }
  KILN_TRY_ASSIGN(oci::Descriptor manifest_desc, pick_manifest(layout_dir, picked[0], platform));
  auto blob_src = [&](const oci::Digest& d) {
    return path_join(layout_dir, cat("blobs/", d.algorithm(), "/", d.hex()));
  };
  KILN_TRY_ASSIGN(std::string mbytes, read_file(blob_src(manifest_desc.digest)).context("read the image manifest"));
  if (sha256_hex(mbytes) != manifest_desc.digest.hex()) {
    return Error(ErrorCode::cache_corrupt, cat("manifest `", manifest_desc.digest.str(), "` does not match its digest"));
  }
  KILN_TRY_ASSIGN(oci::Manifest m, oci::parse_manifest(mbytes));
  KILN_TRY(copy_blob_in(store, blob_src(m.config.digest), m.config.digest, move).context("copy the image config"));
  for (const auto& l : m.layers) {
    KILN_TRY(copy_blob_in(store, blob_src(l.digest), l.digest, move).context(cat("copy layer `", l.digest.str(), "`")));
  }
  KILN_TRY(store.put_blob(mbytes));
  // The config must parse as an image config before the image gets a name.
  KILN_TRY_ASSIGN(std::string cbytes, store.read_blob(m.config.digest));
  KILN_TRY(oci::parse_image_config(cbytes).context("read the image config"));
  ImportResult out;
  out.manifest = manifest_desc;
  out.manifest.size = static_cast<int64_t>(mbytes.size());
  out.manifest.annotations.clear();
  out.manifest.platform.reset();
  if (out.manifest.media_type.empty()) {
    out.manifest.media_type = m.media_type.empty() ? std::string(oci::media::k_oci_manifest) : m.media_type;
  }
  out.id = m.config.digest;
  out.names.push_back(name_for_import(picked[0].annotation(std::string(oci::media::k_ref_name)), source_path));
  KILN_TRY(store.add_image(out.manifest, out.names));
  return out;
}

std::string default_ref_name(const LoadedImage& image, const std::string& ref) {
  if (!ref.empty()) {
    return ref;
  }
  return image.record.names.empty() ? std::string() : image.record.names.front();
}

Result<void> write_layout_dir(const Store& store, const LoadedImage& image, const std::string& dir,
                              const std::string& ref_name) {
  KILN_TRY(make_dirs(path_join(dir, "blobs/sha256")));
  KILN_TRY(write_file_atomic(path_join(dir, "oci-layout"),
                             cat(R"({"imageLayoutVersion":")", oci::media::k_oci_layout_version, "\"}")));
  std::vector<oci::Digest> blobs = {image.manifest.config.digest};
  for (const auto& l : image.manifest.layers) {
    blobs.push_back(l.digest);
  }
  for (const auto& d : blobs) {
    std::string dest = path_join(dir, "blobs/sha256/" + d.hex());
    if (path_exists(dest)) {
      continue;
    }
    KILN_TRY_ASSIGN(UniqueFd in, store.open_blob(d));
    KILN_TRY_ASSIGN(AtomicFile out, AtomicFile::create(dest));
    Sha256 hash;
    std::string buf(1 << 20, '\0');
    while (true) {
      KILN_TRY_ASSIGN(size_t n, read_full(in.get(), buf.data(), buf.size()));
      if (n == 0) {
        break;
      }
      hash.update(buf.data(), n);
      KILN_TRY(out.write(std::string_view(buf.data(), n)));
    }
    if (hash.finish_hex() != d.hex()) {
      return Error(ErrorCode::cache_corrupt, cat("blob `", d.str(), "` is corrupted in the store"))
          .with_hint("run `kiln fsck`");
    }
    KILN_TRY(out.commit());
  }
  KILN_TRY(write_file_atomic(path_join(dir, "blobs/sha256/" + image.record.manifest.digest.hex()), image.manifest_bytes));
  oci::Index index;
  std::string index_path = path_join(dir, "index.json");
  KILN_TRY_ASSIGN(auto existing, read_file_if_exists(index_path));
  if (existing) {
    KILN_TRY_ASSIGN(index, oci::parse_index(*existing, cat("`", index_path, "`")));
  }
  std::string key(oci::media::k_ref_name);
  std::erase_if(index.manifests, [&](const oci::Descriptor& d) {
    return ref_name.empty() ? d.digest == image.record.manifest.digest : d.annotation(key) == ref_name;
  });
  oci::Descriptor entry = image.record.manifest;
  entry.annotations.clear();
  if (!ref_name.empty()) {
    entry.annotations[key] = ref_name;
  }
  index.manifests.push_back(entry);
  index.media_type = std::string(oci::media::k_oci_index);
  return write_file_atomic(index_path, oci::serialize_index(index));
}

}  // namespace detail

Result<ImportResult> import_image(const Store& store, const LocalRef& source, const oci::Platform& platform) {
  std::string what = cat(transport_name(source.kind), ":", source.path);
  switch (source.kind) {
    case TransportKind::oci_dir:
      return detail::import_layout(store, source.path, source.ref, source.path, platform, detail::Move::no)
          .context(cat("import `", what, "`"));
    case TransportKind::oci_archive:
      return detail::import_oci_archive(store, source, platform).context(cat("import `", what, "`"));
    case TransportKind::docker_archive:
      return detail::import_docker_archive(store, source).context(cat("import `", what, "`"));
  }
  return Error(ErrorCode::internal, "unknown transport");
}

Result<void> export_image(const Store& store, const LoadedImage& image, const LocalRef& dest) {
  std::string what = cat(transport_name(dest.kind), ":", dest.path);
  switch (dest.kind) {
    case TransportKind::oci_dir:
      return detail::write_layout_dir(store, image, dest.path, detail::default_ref_name(image, dest.ref))
          .context(cat("write `", what, "`"));
    case TransportKind::oci_archive:
      return detail::export_oci_archive(store, image, dest).context(cat("write `", what, "`"));
    case TransportKind::docker_archive:
      return detail::export_docker_archive(store, image, dest).context(cat("write `", what, "`"));
  }
  return Error(ErrorCode::internal, "unknown transport");
}

}  // namespace kiln::cache
