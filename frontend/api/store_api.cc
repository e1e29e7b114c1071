#include "frontend/api/store_api.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "cache/gc.h"
#include "cache/store.h"
#include "cache/transport.h"
#include "executor/user_namespace.h"
#include "frontend/api/registry_internal.h"
#include "oci/json.h"
#include "oci/media_types.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln {

std::string default_store_root() {
  if (const char* env = std::getenv("KILN_ROOT"); env != nullptr && *env != '\0') {
    return env;
  }
  if (::geteuid() == 0) {
    return "/var/lib/kiln";
  }
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg == '/') {
    return path_join(xdg, "kiln");
  }
  const char* home = std::getenv("HOME");
  std::string h = home != nullptr && *home != '\0' ? home : "";
  if (h.empty()) {
    if (struct passwd* pw = ::getpwuid(::getuid())) {
      h = pw->pw_dir;
    }
  }
  return path_join(h, ".local/share/kiln");
}

Result<ImageStore> ImageStore::open(const std::string& root) {
  cache::StoreOptions o;
  o.root = root.empty() ? default_store_root() : root;
  if (::geteuid() == 0 && !executor::in_kiln_namespace()) {
    // Host root: the store's directories belong to the id container root
    // maps to, so kiln can write them from inside its namespace.
    if (auto mapping = executor::compute_id_mapping()) {
      o.dir_owner = std::make_pair(mapping->host_root_uid(), mapping->host_root_gid());
    }
  }
  KILN_TRY_ASSIGN(cache::Store s, cache::Store::open(o));
  ImageStore out;
  out.m_store = std::make_shared<const cache::Store>(std::move(s));
  return out;
}

const std::string& ImageStore::root() const { return m_store->root(); }

namespace {

int64_t image_size(const cache::Store& s, const cache::LoadedImage& img) {
  int64_t total = static_cast<int64_t>(img.manifest_bytes.size()) + s.blob_size(img.manifest.config.digest).value_or(0);
  std::vector<oci::Digest> seen;
  for (const auto& l : img.manifest.layers) {
    if (std::find(seen.begin(), seen.end(), l.digest) == seen.end()) {
      seen.push_back(l.digest);
      total += s.blob_size(l.digest).value_or(0);
    }
  }
  return total;
}

// Working containers pin the images they were made from: their record lists
// the base manifest digest among its "blobs".
Result<bool> used_by_container(const cache::Store& s, const oci::Digest& manifest) {
  KILN_TRY_ASSIGN(auto names, list_dir(s.containers_dir()));
  for (const auto& n : names) {
    auto text = read_file_if_exists(path_join(s.containers_dir(), n + "/container.json"));
    if (!text || !*text) {
      continue;
    }
    auto j = oci::parse_json(**text, "container record");
    if (!j || !j->is_object()) {
      continue;
    }
    for (const auto& b : j->value("blobs", oci::Json::array())) {
      if (b.is_string() && b.get<std::string>() == manifest.str()) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace

Result<std::vector<ImageSummary>> list_images(const ImageStore& store) {
  const cache::Store& s = store.store();
  KILN_TRY_ASSIGN(auto records, s.list_images());
  std::vector<ImageSummary> out;
  for (const auto& r : records) {
    ImageSummary sum;
    sum.id = r.id.str();
    sum.names = r.names;
    sum.digest = r.manifest.digest.str();
    auto img = s.load_image(r);
    if (img) {
      sum.created = img->config.created;
      sum.size = image_size(s, *img);
      sum.id = img->manifest.config.digest.str();
    }
    out.push_back(std::move(sum));
  }
  return out;
}

std::string images_to_json(const std::vector<ImageSummary>& images) {
  oci::Json out = oci::Json::array();
  for (const auto& i : images) {
    out.push_back({{"id", i.id}, {"names", i.names}, {"digest", i.digest}, {"created", i.created}, {"size", i.size}});
  }
  return out.dump(2);
}

std::pair<std::string, std::string> split_repository_tag(const std::string& name) {
  auto ref = oci::parse_reference(name);
  if (!ref) {
    return {name, "<none>"};
  }
  return {ref->name(), ref->tag.empty() ? "<none>" : ref->tag};
}

Result<void> tag_image(const ImageStore& store, const std::string& source, const std::vector<std::string>& new_names) {
  const cache::Store& s = store.store();
  KILN_TRY_ASSIGN(cache::ImageRecord rec, s.resolve_image(source));
  std::vector<std::string> names;
  for (const auto& n : new_names) {
    KILN_TRY_ASSIGN(oci::Reference ref, cache::Store::normalize_new_name(n));
    if (ref.digest) {
      return Error(ErrorCode::invalid_input, cat("cannot tag with a digest reference `", n, "`"));
    }
    names.push_back(ref.str());
  }
  KILN_TRY_ASSIGN(FileLock hold, s.hold_for_write());
  return s.tag_image(rec.manifest.digest, names);
}

Result<std::vector<RemovedImage>> remove_images(const ImageStore& store, const std::vector<std::string>& queries,
                                                bool force) {
  const cache::Store& s = store.store();
  struct Plan {
    std::string query;
    cache::ImageRecord rec;
    std::string name;  // "" = remove the whole image
  };
  std::vector<Plan> plans;
  for (const auto& q : queries) {
    KILN_TRY_ASSIGN(cache::ImageRecord rec, s.resolve_image(q));
    Plan p{q, rec, ""};
    // A query that names one of the image's names removes that name only.
    for (const auto& cand : {cache::Store::normalize_new_name(q), oci::parse_reference(q)}) {
      if (cand && std::find(rec.names.begin(), rec.names.end(), cand->str()) != rec.names.end()) {
        p.name = cand->str();
        break;
      }
    }
    bool last = p.name.empty() || rec.names.size() <= 1;
    if (last && !force) {
      KILN_TRY_ASSIGN(bool used, used_by_container(s, rec.manifest.digest));
      if (used) {
        return Error(ErrorCode::invalid_input, cat("image `", q, "` is used by a working container"))
            .with_hint("remove the container with `kiln rm`, or use `kiln rmi --force`");
      }
    }
    plans.push_back(std::move(p));
  }
  KILN_TRY_ASSIGN(FileLock hold, s.hold_for_write());
  std::vector<RemovedImage> out;
  for (const auto& p : plans) {
    RemovedImage r{p.query, p.rec.id.str(), false};
    if (!p.name.empty() && p.rec.names.size() > 1) {
      KILN_TRY(s.untag(p.name));
      r.untagged_only = true;
    } else {
      auto rm = s.remove_image(p.rec.manifest.digest);
      if (!rm && rm.error().code() != ErrorCode::not_found) {
        return std::move(rm).error();
      }
    }
    out.push_back(r);
  }
  return out;
}

Result<std::string> inspect_image_json(const ImageStore& store, const std::string& name_or_id) {
  const cache::Store& s = store.store();
  KILN_TRY_ASSIGN(cache::ImageRecord rec, s.resolve_image(name_or_id));
  KILN_TRY_ASSIGN(cache::LoadedImage img, s.load_image(rec).context(cat("inspect `", name_or_id, "`")));
  oci::Json j = oci::Json::object();
  j["name"] = rec.names.empty() ? "" : rec.names.front();
  j["names"] = rec.names;
  j["id"] = img.manifest.config.digest.str();
  j["digest"] = rec.manifest.digest.str();
  KILN_TRY_ASSIGN(j["manifest"], oci::parse_json(img.manifest_bytes, "manifest"));
  KILN_TRY_ASSIGN(j["config"], oci::parse_json(img.config_bytes, "image config"));
  return j.dump(2);
}

Result<PruneSummary> prune_store(const ImageStore& store, const PruneRequest& request) {
  cache::PruneOptions o;
  o.build_cache = request.build_cache;
  o.keep_storage = request.keep_storage;
  o.cache_mounts = request.cache_mounts;
  KILN_TRY_ASSIGN(cache::PruneReport r, cache::prune(store.store(), o));
  PruneSummary out{r.blobs_removed, r.layer_dirs_removed, r.temp_files_removed, r.cache_records_removed,
                   r.bytes_freed, {}};
  for (const auto& m : r.cache_mounts_removed) {
    out.cache_mounts_removed.push_back(cat(m.id.empty() ? m.hex.substr(0, 12) : m.id, " (", human_size(m.bytes), ")"));
  }
  return out;
}

Result<FsckSummary> fsck_store(const ImageStore& store) {
  KILN_TRY_ASSIGN(cache::FsckReport r, cache::fsck(store.store()));
  return FsckSummary{r.blobs_checked, r.images_checked, r.problems, r.notes};
}

Result<PullSummary> pull_image(const ImageStore& store, const std::string& source, const PullOptions& options) {
  const cache::Store& s = store.store();
  oci::Platform platform = oci::host_platform();
  if (!options.platform.empty()) {
    KILN_TRY_ASSIGN(platform, oci::parse_platform(options.platform));
  }
  KILN_TRY_ASSIGN(auto local, cache::parse_local_ref(source));
  if (!local) {
    return detail::pull_from_registry(store, source, platform, options.registry);
  }
  KILN_TRY_ASSIGN(FileLock hold, s.hold_for_write());
  KILN_TRY_ASSIGN(cache::ImportResult r, cache::import_image(s, *local, platform));
  return PullSummary{r.id.str(), r.names};
}

Result<PushSummary> push_image(const ImageStore& store, const std::string& name, const std::string& dest,
                               const RegistryOptions& options) {
  const cache::Store& s = store.store();
  KILN_TRY_ASSIGN(cache::ImageRecord rec, s.resolve_image(name));
  KILN_TRY_ASSIGN(cache::LoadedImage img, s.load_image(rec));
  KILN_TRY_ASSIGN(auto local, cache::parse_local_ref(dest));
  if (!local) {
    return detail::push_to_registry(store, img, name, dest, options);
  }
  KILN_TRY(cache::export_image(s, img, *local).context(cat("push `", name, "`")));
  PushSummary out;
  out.digest = rec.manifest.digest.str();
  out.reference = dest;
  return out;
}

}  // namespace kiln
