#include "cache/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "oci/json.h"
#include "oci/media_types.h"
#include "util/atomic_file.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln::cache {

namespace {

std::string store_file(const std::string& root) { return path_join(root, "kiln/store.json"); }

Error permission_error(const std::string& root, int err) {
  Error e(ErrorCode::io, cat("open store `", root, "`"), err);
  if (err == EACCES || err == EPERM || err == EROFS) {
    e.with_hint("choose a store you can write with --root DIR or KILN_ROOT (the default for an ordinary "
                "user is ~/.local/share/kiln)");
  }
  return e;
}

}  // namespace

Result<Store> Store::open(const StoreOptions& options) {
  Store s;
  s.m_root = absolute_path(options.root);
  KILN_TRY(s.init(options));
  return s;
}

Result<void> Store::init(const StoreOptions& options) {
  const std::vector<std::string> dirs = {m_root,
                                         path_join(m_root, "blobs"),
                                         path_join(m_root, "blobs/sha256"),
                                         path_join(m_root, "kiln"),
                                         path_join(m_root, "kiln/locks"),
                                         tmp_dir(),
                                         layers_root(),
                                         cache_dir(),
                                         containers_dir()};
  for (const auto& d : dirs) {
    if (::mkdir(d.c_str(), 0700) != 0 && errno != EEXIST) {
      if (errno == ENOENT) {
        auto r = make_dirs(d, 0700);
        if (r) {
          continue;
        }
        return permission_error(m_root, r.error().sys_errno());
      }
      return permission_error(m_root, errno);
    }
  }
  // The root and blobs are readable by others (skopeo/umoci as another user);
  // kiln's private records stay 0700.
  ::chmod(m_root.c_str(), 0755);
  ::chmod(path_join(m_root, "blobs").c_str(), 0755);
  ::chmod(path_join(m_root, "blobs/sha256").c_str(), 0755);
  std::string layout = path_join(m_root, "oci-layout");
  if (!path_exists(layout)) {
    KILN_TRY(write_file_atomic(layout, cat(R"({"imageLayoutVersion":")", oci::media::k_oci_layout_version, "\"}"))
                 .context(cat("initialize store `", m_root, "`")));
  }
  KILN_TRY_ASSIGN(auto version_text, read_file_if_exists(store_file(m_root)));
  if (!version_text) {
    KILN_TRY(write_file_atomic(store_file(m_root), cat(R"({"format":"kiln-store","version":)", k_store_version, "}"))
                 .context(cat("initialize store `", m_root, "`")));
  } else {
    auto j = oci::parse_json(*version_text, "store.json");
    if (!j || !j->is_object() || j->value("format", "") != "kiln-store" || !(*j)["version"].is_number_integer()) {
      return Error(ErrorCode::cache_corrupt, cat("`", store_file(m_root), "` is not a kiln store description"));
    }
    int v = (*j)["version"].get<int>();
    if (v > k_store_version) {
      return Error(ErrorCode::cache_corrupt,
                   cat("store `", m_root, "` has format version ", v, "; this kiln reads up to ", k_store_version))
          .with_hint("use a newer kiln, or another --root");
    }
  }
  std::string index = path_join(m_root, "index.json");
  if (!path_exists(index)) {
    KILN_TRY(write_index(oci::Index{}));
  }
  if (options.dir_owner && ::geteuid() == 0) {
    auto [uid, gid] = *options.dir_owner;
    for (const auto& d : dirs) {
      struct stat st {};
      if (::lstat(d.c_str(), &st) == 0 && (st.st_uid != uid || st.st_gid != gid)) {
        if (::lchown(d.c_str(), uid, gid) != 0) {
          return Error(ErrorCode::io, cat("chown store directory `", d, "`"), errno);
        }
      }
    }
  }
  return {};
}

std::string Store::blob_path(const oci::Digest& digest) const {
  return path_join(m_root, cat("blobs/", digest.algorithm(), "/", digest.hex()));
}
std::string Store::tmp_dir() const { return path_join(m_root, "kiln/tmp"); }
std::string Store::layers_root() const { return path_join(m_root, "kiln/layers"); }
std::string Store::layer_dir(const oci::Digest& diff_id) const {
  return path_join(layers_root(), diff_id.hex() + "/diff");
}
std::string Store::cache_dir() const { return path_join(m_root, "kiln/cache"); }
std::string Store::containers_dir() const { return path_join(m_root, "kiln/containers"); }
std::string Store::cache_mounts_dir() const { return path_join(m_root, "kiln/cache-mounts"); }

bool Store::has_blob(const oci::Digest& digest) const { return path_exists(blob_path(digest)); }

std::optional<int64_t> Store::blob_size(const oci::Digest& digest) const {
  struct stat st {};
  if (::stat(blob_path(digest).c_str(), &st) != 0) {
    return std::nullopt;
  }
  return static_cast<int64_t>(st.st_size);
}

// ---- BlobWriter ----

BlobWriter::BlobWriter(BlobWriter&& o) noexcept
    : m_fd(std::move(o.m_fd)),
      m_tmp_path(std::move(o.m_tmp_path)),
      m_blobs_dir(std::move(o.m_blobs_dir)),
      m_hash(std::move(o.m_hash)),
      m_size(o.m_size) {
  o.m_tmp_path.clear();
}

BlobWriter& BlobWriter::operator=(BlobWriter&& o) noexcept {
  if (this != &o) {
    if (!m_tmp_path.empty()) {
      ::unlink(m_tmp_path.c_str());
    }
    m_fd = std::move(o.m_fd);
    m_tmp_path = std::move(o.m_tmp_path);
    m_blobs_dir = std::move(o.m_blobs_dir);
    m_hash = std::move(o.m_hash);
    m_size = o.m_size;
    o.m_tmp_path.clear();
  }
  return *this;
}

BlobWriter::~BlobWriter() {
  if (!m_tmp_path.empty()) {
    ::unlink(m_tmp_path.c_str());
  }
}

Result<void> BlobWriter::write(std::string_view data) {
  m_hash.update(data);
  m_size += data.size();
  return write_all(m_fd.get(), data).context(cat("write blob `", m_tmp_path, "`"));
}

Result<void> BlobWriter::finish_into(const oci::Digest& digest) {
  if (::fsync(m_fd.get()) != 0) {
    return Error(ErrorCode::io, cat("fsync `", m_tmp_path, "`"), errno);
  }
  KILN_TRY(m_fd.close());
  std::string dest = path_join(m_blobs_dir, digest.hex());
  if (path_exists(dest)) {
    ::unlink(m_tmp_path.c_str());
  } else if (::rename(m_tmp_path.c_str(), dest.c_str()) != 0) {
    return Error(ErrorCode::io, cat("store blob `", digest.str(), "`"), errno);
  }
  m_tmp_path.clear();
  return {};
}

Result<oci::Digest> BlobWriter::commit(const std::optional<oci::Digest>& expected) {
  oci::Digest got = oci::Digest::from_sha256_hex(m_hash.finish_hex());
  if (expected && *expected != got) {
    m_fd.reset();
    ::unlink(m_tmp_path.c_str());
    m_tmp_path.clear();
    return Error(ErrorCode::cache_corrupt,
                 cat("blob digest mismatch: expected `", expected->str(), "`, got `", got.str(), "`"));
  }
  KILN_TRY(finish_into(got));
  return got;
}

Result<void> BlobWriter::commit_hashed(const oci::Digest& digest, int64_t size) {
  struct stat st {};
  if (::fstat(m_fd.get(), &st) != 0) {
    return Error::from_errno("fstat blob");
  }
  if (st.st_size != size) {
    return Error(ErrorCode::cache_corrupt,
                 cat("blob `", digest.str(), "`: wrote ", st.st_size, " bytes but the writer counted ", size));
  }
  return finish_into(digest);
}

Result<BlobWriter> Store::begin_blob() const {
  BlobWriter w;
  w.m_tmp_path = path_join(tmp_dir(), "blob-XXXXXX");
  int fd = ::mkostemp(w.m_tmp_path.data(), O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    w.m_tmp_path.clear();
    return Error(ErrorCode::io, cat("create temp blob in `", tmp_dir(), "`"), err);
  }
  ::fchmod(fd, 0644);
  w.m_fd.reset(fd);
  w.m_blobs_dir = path_join(m_root, "blobs/sha256");
  return w;
}

Result<oci::Digest> Store::put_blob(std::string_view bytes) const {
  oci::Digest d = oci::Digest::sha256_of(bytes);
  if (has_blob(d)) {
    return d;
  }
  KILN_TRY_ASSIGN(BlobWriter w, begin_blob());
  KILN_TRY(w.write(bytes));
  return w.commit(d);
}

static Error corrupt_blob(const oci::Digest& digest, const std::string& path) {
  return Error(ErrorCode::cache_corrupt, cat("blob `", digest.str(), "` is corrupted: its content at `", path,
                                             "` does not match the digest"))
      .with_hint("run `kiln fsck` to list damaged content, then pull or rebuild the image");
}

Result<std::string> Store::read_blob(const oci::Digest& digest) const {
  std::string path = blob_path(digest);
  auto bytes = read_file(path);
  if (!bytes) {
    if (bytes.error().code() == ErrorCode::not_found) {
      return Error(ErrorCode::not_found, cat("blob `", digest.str(), "` is missing from the store"));
    }
    return std::move(bytes).error();
  }
  if (digest.algorithm() != "sha256" || sha256_hex(*bytes) != digest.hex()) {
    return corrupt_blob(digest, path);
  }
  return bytes;
}

Result<UniqueFd> Store::open_blob(const oci::Digest& digest) const {
  auto fd = open_file(blob_path(digest), O_RDONLY);
  if (!fd && fd.error().code() == ErrorCode::not_found) {
    return Error(ErrorCode::not_found, cat("blob `", digest.str(), "` is missing from the store"));
  }
  return fd;
}

Result<void> Store::verify_blob(const oci::Digest& digest) const {
  std::string path = blob_path(digest);
  auto hex = sha256_file_hex(path);
  if (!hex) {
    if (hex.error().code() == ErrorCode::not_found) {
      return Error(ErrorCode::not_found, cat("blob `", digest.str(), "` is missing from the store"));
    }
    return std::move(hex).error();
  }
  if (*hex != digest.hex()) {
    return corrupt_blob(digest, path);
  }
  return {};
}

Result<FileLock> Store::hold_for_write() const {
  return FileLock::acquire(path_join(m_root, "kiln/locks/gc.lock"), LockMode::shared);
}

Result<FileLock> Store::lock_for_gc() const {
  return FileLock::acquire(path_join(m_root, "kiln/locks/gc.lock"), LockMode::exclusive);
}

Result<FileLock> Store::lock_index() const {
  return FileLock::acquire(path_join(m_root, "kiln/locks/index.lock"), LockMode::exclusive);
}

}  // namespace kiln::cache
