// oci-archive: and docker-archive: (tar files) through libarchive.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "cache/transport_internal.h"
#include "oci/index.h"
#include "oci/json.h"
#include "oci/media_types.h"
#include "util/atomic_file.h"
#include "util/file.h"
#include "util/strings.h"
#include "util/temp_dir.h"

namespace kiln::cache::detail {

namespace {

struct ReadArchive {
  archive* a = archive_read_new();
  ~ReadArchive() { archive_read_free(a); }
};
struct WriteArchive {
  archive* a = archive_write_new();
  ~WriteArchive() { archive_write_free(a); }
};

Error archive_error(archive* a, const std::string& what) {
  const char* msg = archive_error_string(a);
  return Error(ErrorCode::io, cat(what, ": ", msg != nullptr ? msg : "unknown libarchive error"));
}

// A member name safe to place under a directory: relative, no "..".
std::optional<std::string> safe_member(std::string_view name) {
  while (name.starts_with("./")) {
    name.remove_prefix(2);
  }
  std::string clean = path_clean(name);
  if (clean == "." || clean.starts_with("/") || clean == ".." || clean.starts_with("../")) {
    return std::nullopt;
  }
  return clean;
}

// Unpacks the regular files and directories of a (possibly compressed) tar
// into dir. Anything else (links, devices) is refused: image archives hold
// plain files only. A truncated archive is an error.
Result<void> unpack_files(const std::string& archive_path, const std::string& dir) {
  ReadArchive r;
  archive_read_support_format_tar(r.a);
  archive_read_support_filter_all(r.a);
  if (archive_read_open_filename(r.a, archive_path.c_str(), 1 << 20) != ARCHIVE_OK) {
    int err = archive_errno(r.a);
    if (err == ENOENT) {
      return Error(ErrorCode::not_found, cat("archive `", archive_path, "` does not exist"));
    }
    return archive_error(r.a, cat("open archive `", archive_path, "`"));
  }
  archive_entry* e = nullptr;
  std::string buf(1 << 20, '\0');
  while (true) {
    int rc = archive_read_next_header(r.a, &e);
    if (rc == ARCHIVE_EOF) {
      break;
    }
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
      return archive_error(r.a, cat("read archive `", archive_path, "` (truncated or not a tar file?)"));
    }
    auto name = safe_member(archive_entry_pathname(e));
    if (!name) {
      return Error(ErrorCode::invalid_input, cat("archive `", archive_path, "` has an unsafe member name `",
                                                 archive_entry_pathname(e), "`"));
    }
    std::string dest = path_join(dir, *name);
    mode_t type = archive_entry_filetype(e);
    if (type == AE_IFDIR) {
      KILN_TRY(make_dirs(dest));
      continue;
    }
    if (type != AE_IFREG) {
      continue;  // image archives only need regular files
    }
    KILN_TRY(make_dirs(path_dirname(dest)));
    KILN_TRY_ASSIGN(UniqueFd out, open_file(dest, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644));
    while (true) {
      la_ssize_t n = archive_read_data(r.a, buf.data(), buf.size());
      if (n < 0) {
        return archive_error(r.a, cat("read `", *name, "` from archive `", archive_path, "` (truncated?)"));
      }
      if (n == 0) {
        break;
      }
      KILN_TRY(write_all(out.get(), std::string_view(buf.data(), static_cast<size_t>(n))));
    }
  }
  return {};
}

Result<void> add_bytes(archive* a, const std::string& name, std::string_view bytes) {
  std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(), archive_entry_free);
  archive_entry_set_pathname(e.get(), name.c_str());
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_perm(e.get(), 0644);
  archive_entry_set_size(e.get(), static_cast<la_int64_t>(bytes.size()));
  archive_entry_set_mtime(e.get(), 0, 0);
  if (archive_write_header(a, e.get()) != ARCHIVE_OK) {
    return archive_error(a, cat("write `", name, "`"));
  }
  if (!bytes.empty() && archive_write_data(a, bytes.data(), bytes.size()) < 0) {
    return archive_error(a, cat("write `", name, "`"));
  }
  return {};
}

Result<void> add_dir(archive* a, const std::string& name) {
  std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(), archive_entry_free);
  archive_entry_set_pathname(e.get(), name.c_str());
  archive_entry_set_filetype(e.get(), AE_IFDIR);
  archive_entry_set_perm(e.get(), 0755);
  archive_entry_set_mtime(e.get(), 0, 0);
  if (archive_write_header(a, e.get()) != ARCHIVE_OK) {
    return archive_error(a, cat("write `", name, "`"));
  }
  return {};
}

// Streams a blob into the archive, verifying its digest on the way.
Result<void> add_blob(const Store& store, archive* a, const std::string& name, const oci::Digest& d) {
  KILN_TRY_ASSIGN(UniqueFd in, store.open_blob(d));
  struct stat st {};
  ::fstat(in.get(), &st);
  std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(), archive_entry_free);
  archive_entry_set_pathname(e.get(), name.c_str());
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_perm(e.get(), 0644);
  archive_entry_set_size(e.get(), st.st_size);
  archive_entry_set_mtime(e.get(), 0, 0);
  if (archive_write_header(a, e.get()) != ARCHIVE_OK) {
    return archive_error(a, cat("write `", name, "`"));
  }
  Sha256 hash;
  std::string buf(1 << 20, '\0');
  while (true) {
    KILN_TRY_ASSIGN(size_t n, read_full(in.get(), buf.data(), buf.size()));
    if (n == 0) {
      break;
    }
    hash.update(buf.data(), n);
    if (archive_write_data(a, buf.data(), n) < 0) {
      return archive_error(a, cat("write `", name, "`"));
    }
  }
  if (hash.finish_hex() != d.hex()) {
    return Error(ErrorCode::cache_corrupt, cat("blob `", d.str(), "` is corrupted in the store")).with_hint("run `kiln fsck`");
  }
  return {};
}

// Opens a tar writer onto an AtomicFile beside dest.
Result<AtomicFile> open_tar(WriteArchive& w, const std::string& dest) {
  KILN_TRY_ASSIGN(AtomicFile f, AtomicFile::create(absolute_path(dest)));
  archive_write_set_format_pax_restricted(w.a);
  archive_write_set_bytes_in_last_block(w.a, 1);
  if (archive_write_open_fd(w.a, f.fd()) != ARCHIVE_OK) {
    return archive_error(w.a, cat("open `", dest, "` for writing"));
  }
  return f;
}

Result<void> close_tar(WriteArchive& w, AtomicFile& f, const std::string& dest) {
  if (archive_write_close(w.a) != ARCHIVE_OK) {
    return archive_error(w.a, cat("finish `", dest, "`"));
  }
  return f.commit();
}

std::vector<oci::Digest> image_blobs(const LoadedImage& image) {
  std::vector<oci::Digest> out = {image.manifest.config.digest};
  for (const auto& l : image.manifest.layers) {
    out.push_back(l.digest);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string sniff_layer_type(const std::string& path) {
  auto fd = open_file(path, O_RDONLY);
  unsigned char magic[4] = {0, 0, 0, 0};
  if (fd) {
    auto n = read_full(fd->get(), reinterpret_cast<char*>(magic), 4);
    (void)n;
  }
  if (magic[0] == 0x1f && magic[1] == 0x8b) {
    return std::string(oci::media::k_oci_layer_gzip);
  }
  if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd) {
    return std::string(oci::media::k_oci_layer_zstd);
  }
  return std::string(oci::media::k_oci_layer);
}

}  // namespace

Result<ImportResult> import_oci_archive(const Store& store, const LocalRef& source, const oci::Platform& platform) {
  KILN_TRY_ASSIGN(TempDir tmp, TempDir::create(store.tmp_dir(), "import-"));
  KILN_TRY(unpack_files(source.path, tmp.path()));
  return import_layout(store, tmp.path(), source.ref, source.path, platform, Move::yes);
}

Result<ImportResult> import_docker_archive(const Store& store, const LocalRef& source) {
  KILN_TRY_ASSIGN(TempDir tmp, TempDir::create(store.tmp_dir(), "import-"));
  KILN_TRY(unpack_files(source.path, tmp.path()));
  KILN_TRY_ASSIGN(std::string text, read_file(path_join(tmp.path(), "manifest.json"))
                                        .context("read `manifest.json` (is this a `docker save` archive?)"));
  KILN_TRY_ASSIGN(oci::Json list, oci::parse_json(text, "docker archive `manifest.json`"));
  if (!list.is_array() || list.empty()) {
    return Error(ErrorCode::parse, "docker archive `manifest.json` lists no image");
  }
  const oci::Json* chosen = &list[0];
  if (!source.ref.empty()) {
    chosen = nullptr;
    auto want = oci::parse_reference(source.ref);
    for (const auto& item : list) {
      for (const auto& tag : item.value("RepoTags", oci::Json::array())) {
        auto have = tag.is_string() ? oci::parse_reference(tag.get<std::string>()) : Result<oci::Reference>(Error(ErrorCode::parse, ""));
        if (want && have && want->str() == have->str()) {
          chosen = &item;
        }
      }
    }
    if (chosen == nullptr) {
      return Error(ErrorCode::not_found, cat("docker archive has no image named `", source.ref, "`"));
    }
  }
  if (!(*chosen)["Config"].is_string() || !(*chosen)["Layers"].is_array()) {
    return Error(ErrorCode::parse, "docker archive `manifest.json` entry lacks `Config` or `Layers`");
  }
  auto member = [&](const std::string& name) -> Result<std::string> {
    auto safe = safe_member(name);
    if (!safe) {
      return Error(ErrorCode::invalid_input, cat("docker archive names an unsafe path `", name, "`"));
    }
    return path_join(tmp.path(), *safe);
  };
  KILN_TRY_ASSIGN(std::string config_path, member((*chosen)["Config"].get<std::string>()));
  KILN_TRY_ASSIGN(std::string config_bytes, read_file(config_path).context("read the image config"));
  KILN_TRY_ASSIGN(oci::ImageConfig config, oci::parse_image_config(config_bytes));
  oci::Manifest m;
  m.media_type = std::string(oci::media::k_oci_manifest);
  m.config.media_type = std::string(oci::media::k_oci_config);
  KILN_TRY_ASSIGN(m.config.digest, store.put_blob(config_bytes));
  m.config.size = static_cast<int64_t>(config_bytes.size());
  size_t i = 0;
  for (const auto& layer : (*chosen)["Layers"]) {
    if (!layer.is_string()) {
      return Error(ErrorCode::parse, "docker archive `Layers` must list paths");
    }
    KILN_TRY_ASSIGN(std::string path, member(layer.get<std::string>()));
    KILN_TRY_ASSIGN(std::string hex, sha256_file_hex(path).context(cat("read layer `", layer.get<std::string>(), "`")));
    oci::Descriptor d;
    d.media_type = sniff_layer_type(path);
    d.digest = oci::Digest::from_sha256_hex(hex);
    KILN_TRY_ASSIGN(auto st, lstat_path(path));
    d.size = st ? static_cast<int64_t>(st->st_size) : 0;
    if (d.media_type == oci::media::k_oci_layer && i < config.diff_ids.size() && config.diff_ids[i] != d.digest) {
      return Error(ErrorCode::cache_corrupt, cat("layer `", layer.get<std::string>(), "` does not match diffID `",
                                                 config.diff_ids[i].str(), "` of the image config"));
    }
    KILN_TRY(copy_blob_in(store, path, d.digest, Move::yes));
    m.layers.push_back(d);
    ++i;
  }
  if (m.layers.size() != config.diff_ids.size()) {
    return Error(ErrorCode::cache_corrupt, cat("docker archive lists ", m.layers.size(), " layers but the config has ",
                                               config.diff_ids.size(), " diffIDs"));
  }
  std::string mbytes = oci::serialize_manifest(m);
  ImportResult out;
  KILN_TRY_ASSIGN(out.manifest.digest, store.put_blob(mbytes));
  out.manifest.media_type = m.media_type;
  out.manifest.size = static_cast<int64_t>(mbytes.size());
  out.id = m.config.digest;
  for (const auto& tag : chosen->value("RepoTags", oci::Json::array())) {
    if (tag.is_string()) {
      if (auto r = oci::parse_reference(tag.get<std::string>())) {
        out.names.push_back(r->str());
      }
    }
  }
  if (out.names.empty()) {
    out.names.push_back(name_for_import("", source.path));
  }
  KILN_TRY(store.add_image(out.manifest, out.names));
  return out;
}

Result<void> export_oci_archive(const Store& store, const LoadedImage& image, const LocalRef& dest) {
  WriteArchive w;
  KILN_TRY_ASSIGN(AtomicFile f, open_tar(w, dest.path));
  KILN_TRY(add_bytes(w.a, "oci-layout", cat(R"({"imageLayoutVersion":")", oci::media::k_oci_layout_version, "\"}")));
  oci::Index index;
  index.media_type = std::string(oci::media::k_oci_index);
  oci::Descriptor entry = image.record.manifest;
  entry.annotations.clear();
  std::string ref_name = default_ref_name(image, dest.ref);
  if (!ref_name.empty()) {
    entry.annotations[std::string(oci::media::k_ref_name)] = ref_name;
  }
  index.manifests.push_back(entry);
  KILN_TRY(add_bytes(w.a, "index.json", oci::serialize_index(index)));
  KILN_TRY(add_dir(w.a, "blobs/"));
  KILN_TRY(add_dir(w.a, "blobs/sha256/"));
  for (const auto& d : image_blobs(image)) {
    KILN_TRY(add_blob(store, w.a, "blobs/sha256/" + d.hex(), d));
  }
  KILN_TRY(add_bytes(w.a, "blobs/sha256/" + image.record.manifest.digest.hex(), image.manifest_bytes));
  return close_tar(w, f, dest.path);
}

Result<void> export_docker_archive(const Store& store, const LoadedImage& image, const LocalRef& dest) {
  WriteArchive w;
  KILN_TRY_ASSIGN(AtomicFile f, open_tar(w, dest.path));
  oci::Json entry = oci::Json::object();
  entry["Config"] = image.manifest.config.digest.hex() + ".json";
  oci::Json tags = oci::Json::array();
  std::vector<std::string> names = image.record.names;
  if (!dest.ref.empty()) {
    KILN_TRY_ASSIGN(oci::Reference r, Store::normalize_new_name(dest.ref));
    names = {r.str()};
  }
  for (const auto& n : names) {
    if (auto r = oci::parse_reference(n)) {
      tags.push_back(r->str());
    }
  }
  entry["RepoTags"] = tags;
  oci::Json layers = oci::Json::array();
  for (const auto& l : image.manifest.layers) {
    layers.push_back(l.digest.hex() + ".tar");
  }
  entry["Layers"] = layers;
  KILN_TRY(add_bytes(w.a, "manifest.json", oci::dump_json(oci::Json::array({entry}))));
  KILN_TRY(add_bytes(w.a, image.manifest.config.digest.hex() + ".json", image.config_bytes));
  std::vector<oci::Digest> done;
  for (const auto& l : image.manifest.layers) {
    if (std::find(done.begin(), done.end(), l.digest) != done.end()) {
      continue;
    }
    done.push_back(l.digest);
    KILN_TRY(add_blob(store, w.a, l.digest.hex() + ".tar", l.digest));
  }
  return close_tar(w, f, dest.path);
}

}  // namespace kiln::cache::detail
