// The image half of Store: index.json entries and name resolution.
#include <algorithm>

#include "cache/store.h"
#include "oci/index.h"
#include "oci/media_types.h"
#include "util/atomic_file.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::cache {

namespace {

std::string ref_name(const oci::Descriptor& d) { return d.annotation(std::string(oci::media::k_ref_name)); }

bool is_hex_id_prefix(std::string_view s) { return s.size() >= 12 && s.size() <= 64 && is_lower_hex(s); }

}  // namespace

Result<oci::Index> Store::read_index() const {
  std::string path = path_join(m_root, "index.json");
  KILN_TRY_ASSIGN(std::string text, read_file(path).context("read the store's image index"));
  return oci::parse_index(text, cat("`", path, "`"));
}

Result<void> Store::write_index(const oci::Index& index) const {
  oci::Index out = index;
  out.schema_version = 2;
  out.media_type = std::string(oci::media::k_oci_index);
  return write_file_atomic(path_join(m_root, "index.json"), oci::serialize_index(out))
      .context("write the store's image index");
}

Result<std::vector<ImageRecord>> Store::list_images() const {
  KILN_TRY_ASSIGN(oci::Index index, read_index());
  std::vector<ImageRecord> out;
  for (const auto& d : index.manifests) {
    auto it = std::find_if(out.begin(), out.end(), [&](const ImageRecord& r) { return r.manifest.digest == d.digest; });
    if (it == out.end()) {
      ImageRecord r;
      r.manifest = d;
      r.manifest.annotations.clear();
      std::string id = d.annotation(std::string(k_image_id_annotation));
      if (auto parsed = oci::Digest::parse(id)) {
        r.id = *parsed;
      } else if (auto m = read_blob(d.digest)) {
        // An entry written by another tool: read the manifest for the id.
        if (auto man = oci::parse_manifest(*m)) {
          r.id = man->config.digest;
        }
      }
      out.push_back(std::move(r));
      it = out.end() - 1;
    }
    std::string name = ref_name(d);
    if (!name.empty()) {
      it->names.push_back(name);
    }
  }
  for (auto& r : out) {
    std::sort(r.names.begin(), r.names.end());
  }
  return out;
}

Result<oci::Reference> Store::normalize_new_name(std::string_view name) {
  return oci::parse_reference_in(trim(name), oci::k_local_domain);
}

Result<std::optional<ImageRecord>> Store::find_image(std::string_view text) const {
  std::string_view q = trim(text);
  KILN_TRY_ASSIGN(auto images, list_images());
  // 1. Image ids: sha256:HEX, HEX, or a unique prefix of at least 12 digits.
  std::string_view hex = q.starts_with("sha256:") ? q.substr(7) : q;
  if (q.starts_with("sha256:") || is_hex_id_prefix(hex)) {
    std::vector<const ImageRecord*> hits;
    for (const auto& r : images) {
      if (r.id.hex().starts_with(hex) || (q.starts_with("sha256:") && r.manifest.digest.hex() == hex)) {
        hits.push_back(&r);
      }
    }
    if (hits.size() == 1) {
      return std::optional<ImageRecord>(*hits[0]);
    }
    if (hits.size() > 1) {
      return Error(ErrorCode::invalid_input, cat("image id prefix `", q, "` is ambiguous: ", hits.size(),
                                                 " images match; give more digits"));
    }
    if (q.starts_with("sha256:")) {
      return std::optional<ImageRecord>();
    }
  }
  // 2. Names. A short name is looked up as localhost/X, then docker.io/library/X.
  KILN_TRY_ASSIGN(oci::Reference ref, oci::parse_reference(q));
  std::vector<std::string> candidates;
  if (ref.domain_given) {
    candidates.push_back(ref.str());
  } else {
    KILN_TRY_ASSIGN(oci::Reference local, oci::parse_reference_in(q, oci::k_local_domain));
    candidates.push_back(local.str());
    candidates.push_back(ref.str());
  }
  for (const auto& cand : candidates) {
    KILN_TRY_ASSIGN(oci::Reference c, oci::parse_reference(cand));
    for (const auto& r : images) {
      if (c.digest) {
        // name@digest: the digest decides; a name with a tag must match too.
        if (r.manifest.digest == *c.digest) {
          return std::optional<ImageRecord>(r);
        }
        continue;
      }
      if (std::find(r.names.begin(), r.names.end(), cand) != r.names.end()) {
        return std::optional<ImageRecord>(r);
      }
    }
  }
  return std::optional<ImageRecord>();
}

Result<ImageRecord> Store::resolve_image(std::string_view name_or_id) const {
  KILN_TRY_ASSIGN(auto found, find_image(name_or_id));
  if (!found) {
    return Error(ErrorCode::not_found, cat("image `", trim(name_or_id), "` not found in the store `", m_root, "`"))
        .with_hint("`kiln images` lists what the store holds; `kiln pull` fetches an image");
  }
  return std::move(*found);
}

Result<LoadedImage> Store::load_image(const oci::Digest& manifest_digest) const {
  LoadedImage img;
  KILN_TRY_ASSIGN(img.manifest_bytes, read_blob(manifest_digest).context("read image manifest"));
  KILN_TRY_ASSIGN(img.manifest, oci::parse_manifest(img.manifest_bytes, cat("manifest `", manifest_digest.str(), "`")));
  KILN_TRY_ASSIGN(img.config_bytes, read_blob(img.manifest.config.digest).context("read image config"));
  KILN_TRY_ASSIGN(img.config,
                  oci::parse_image_config(img.config_bytes, cat("image config `", img.manifest.config.digest.str(), "`")));
  img.record.manifest.digest = manifest_digest;
  img.record.manifest.size = static_cast<int64_t>(img.manifest_bytes.size());
  img.record.manifest.media_type =
      img.manifest.media_type.empty() ? std::string(oci::media::k_oci_manifest) : img.manifest.media_type;
  img.record.id = img.manifest.config.digest;
  KILN_TRY_ASSIGN(auto found, find_image(manifest_digest.str()));
  if (found) {
    img.record.names = found->names;
  }
  return img;
}

static oci::Descriptor index_entry(const oci::Descriptor& manifest, const oci::Digest& id, const std::string& name) {
  oci::Descriptor d;
  d.media_type = manifest.media_type;
  d.digest = manifest.digest;
  d.size = manifest.size;
  d.annotations[std::string(k_image_id_annotation)] = id.str();
  if (!name.empty()) {
    d.annotations[std::string(oci::media::k_ref_name)] = name;
  }
  return d;
}

Result<void> Store::add_image(const oci::Descriptor& manifest, const std::vector<std::string>& names) const {
  KILN_TRY_ASSIGN(std::string bytes, read_blob(manifest.digest).context("add image"));
  KILN_TRY_ASSIGN(oci::Manifest m, oci::parse_manifest(bytes));
  if (!has_blob(m.config.digest)) {
    return Error(ErrorCode::not_found, cat("add image: config blob `", m.config.digest.str(), "` is missing"));
  }
  for (const auto& l : m.layers) {
    if (!has_blob(l.digest)) {
      return Error(ErrorCode::not_found, cat("add image: layer blob `", l.digest.str(), "` is missing"));
    }
  }
  oci::Descriptor desc = manifest;
  desc.size = static_cast<int64_t>(bytes.size());
  if (desc.media_type.empty()) {
    desc.media_type = m.media_type.empty() ? std::string(oci::media::k_oci_manifest) : m.media_type;
  }
  KILN_TRY_ASSIGN(FileLock lock, lock_index());
  KILN_TRY_ASSIGN(oci::Index index, read_index());
  auto& ms = index.manifests;
  bool present = std::any_of(ms.begin(), ms.end(), [&](const oci::Descriptor& d) { return d.digest == desc.digest; });
  for (const auto& name : names) {
    for (auto& d : ms) {
      if (ref_name(d) == name && d.digest != desc.digest) {
        // The name moves; the old image stays, unnamed if this was its last name.
        d.annotations.erase(std::string(oci::media::k_ref_name));
      }
    }
    // Drop duplicate unnamed entries of the old images.
    std::vector<oci::Descriptor> kept;
    for (auto& d : ms) {
      bool dup_unnamed = ref_name(d).empty() && std::any_of(kept.begin(), kept.end(), [&](const oci::Descriptor& k) {
                           return k.digest == d.digest;
                         });
      if (!dup_unnamed) {
        kept.push_back(d);
      }
    }
    ms = std::move(kept);
    bool has = std::any_of(ms.begin(), ms.end(), [&](const oci::Descriptor& d) {
      return d.digest == desc.digest && ref_name(d) == name;
    });
    if (!has) {
      ms.push_back(index_entry(desc, m.config.digest, name));
    }
  }
  // An image with names no longer needs its unnamed entry; a new unnamed image gets one.
  bool named = std::any_of(ms.begin(), ms.end(), [&](const oci::Descriptor& d) {
    return d.digest == desc.digest && !ref_name(d).empty();
  });
  if (named) {
    std::erase_if(ms, [&](const oci::Descriptor& d) { return d.digest == desc.digest && ref_name(d).empty(); });
  } else if (!present) {
    ms.push_back(index_entry(desc, m.config.digest, ""));
  }
  return write_index(index);
}

Result<void> Store::tag_image(const oci::Digest& manifest_digest, const std::vector<std::string>& names) const {
  oci::Descriptor d;
  d.digest = manifest_digest;
  return add_image(d, names);
}

Result<void> Store::untag(const std::string& name) const {
  KILN_TRY_ASSIGN(FileLock lock, lock_index());
  KILN_TRY_ASSIGN(oci::Index index, read_index());
  auto& ms = index.manifests;
  auto it = std::find_if(ms.begin(), ms.end(), [&](const oci::Descriptor& d) { return ref_name(d) == name; });
  if (it == ms.end()) {
    return Error(ErrorCode::not_found, cat("image name `", name, "` not found"));
  }
  ms.erase(it);
  return write_index(index);
}

Result<void> Store::remove_image(const oci::Digest& manifest_digest) const {
  KILN_TRY_ASSIGN(FileLock lock, lock_index());
  KILN_TRY_ASSIGN(oci::Index index, read_index());
  size_t before = index.manifests.size();
  std::erase_if(index.manifests, [&](const oci::Descriptor& d) { return d.digest == manifest_digest; });
  if (index.manifests.size() == before) {
    return Error(ErrorCode::not_found, cat("image `", manifest_digest.str(), "` not found"));
  }
  return write_index(index);
}

}  // namespace kiln::cache
