#include "layers/tar_emitter.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/sysmacros.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "util/strings.h"

namespace kiln::layers::detail {

namespace {

// File data is read in 64 KiB pieces: libarchive copies each into the
// current ring buffer while it is still in this core's cache.
constexpr size_t k_read_chunk = 64 << 10;

struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using EntryPtr = std::unique_ptr<archive_entry, EntryDeleter>;

std::string parent_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

std::string base_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

TarEmitter::TarEmitter(std::optional<int64_t> source_date_epoch, Compressor& compressor)
    : m_epoch(source_date_epoch), m_compressor(compressor), m_stage(compressor) {}

TarEmitter::~TarEmitter() {
  if (m_archive != nullptr) {
    archive_write_free(m_archive);
  }
}

Error TarEmitter::archive_error(const std::string& what) {
  if (m_write_error) {
    return *m_write_error;
  }
  const char* msg = m_archive != nullptr ? archive_error_string(m_archive) : nullptr;
  return Error(ErrorCode::io, cat(what, ": ", msg != nullptr ? msg : "libarchive error"));
}

Result<void> TarEmitter::open() {
  m_archive = archive_write_new();
  if (m_archive == nullptr) {
    return Error(ErrorCode::internal, "create a libarchive writer");
  }
  // PAX ("restricted": a ustar header unless an attribute needs PAX), xattrs
  // as SCHILY.xattr only (what Go's archive/tar, so Docker and containerd,
  // read), no blocking so the end of the archive is the two zero records
  // only. Names: see utf8_locale.h.
  if (archive_write_set_format_pax_restricted(m_archive) != ARCHIVE_OK ||
      archive_write_set_format_option(m_archive, "pax", "xattrheader", "SCHILY") != ARCHIVE_OK ||
      archive_write_set_bytes_per_block(m_archive, 0) != ARCHIVE_OK) {
    return archive_error("configure the tar writer");
  }
  if (archive_write_open2(m_archive, this, nullptr, &TarEmitter::on_write, nullptr, nullptr) != ARCHIVE_OK) {
    return archive_error("open the tar writer");
  }
  return {};
}

ssize_t TarEmitter::on_write(struct archive* /*a*/, void* self, const void* buf, size_t size) {
  auto* t = static_cast<TarEmitter*>(self);
  const auto* p = static_cast<const uint8_t*>(buf);
  size_t left = size;
  while (left > 0) {
    if (t->m_filling == nullptr) {
      auto next = t->m_stage.acquire();
      if (!next) {
        t->m_write_error = std::move(next).error();
        return -1;
      }
      t->m_filling = *next;
    }
    std::vector<uint8_t>& b = *t->m_filling;
    size_t n = std::min(left, HashAndCompress::k_buffer_size - b.size());
    b.insert(b.end(), p, p + n);
    p += n;
    left -= n;
    if (b.size() == HashAndCompress::k_buffer_size) {
      t->m_stage.submit();
      t->m_filling = nullptr;
    }
  }
  t->m_tar_size += static_cast<int64_t>(size);
  return static_cast<ssize_t>(size);
}

Result<void> TarEmitter::write_header(const Entry& e, const std::string& link_target, const std::string& hardlink) {
  EntryPtr ae(archive_entry_new2(m_archive));
  archive_entry_copy_pathname(ae.get(), e.path.c_str());
  archive_entry_set_mode(ae.get(), e.st.st_mode);
  archive_entry_set_uid(ae.get(), e.st.st_uid);
  archive_entry_set_gid(ae.get(), e.st.st_gid);
  int64_t mtime = e.st.st_mtim.tv_sec;  // whole seconds: smaller headers, stable across filesystems
  if (m_epoch && mtime > *m_epoch) {
    mtime = *m_epoch;
  }
  archive_entry_set_mtime(ae.get(), mtime, 0);
  if (!hardlink.empty()) {
    archive_entry_copy_hardlink(ae.get(), hardlink.c_str());
    archive_entry_set_size(ae.get(), 0);
  } else if (S_ISREG(e.st.st_mode)) {
    archive_entry_set_size(ae.get(), e.st.st_size);
  } else if (S_ISLNK(e.st.st_mode)) {
    archive_entry_copy_symlink(ae.get(), link_target.c_str());
  } else if (S_ISCHR(e.st.st_mode) || S_ISBLK(e.st.st_mode)) {
    archive_entry_set_rdevmajor(ae.get(), major(e.st.st_rdev));
    archive_entry_set_rdevminor(ae.get(), minor(e.st.st_rdev));
  }
  for (const auto& [name, value] : e.xattrs) {
    archive_entry_xattr_add_entry(ae.get(), name.c_str(), value.data(), value.size());
  }
  // ARCHIVE_WARN: a name that is not UTF-8 was written as raw bytes with
  // `hdrcharset=BINARY`, which is what we want.
  int rc = archive_write_header(m_archive, ae.get());
  if (rc < ARCHIVE_WARN) {
    return archive_error(cat("write tar header for `", e.path, "`"));
  }
  ++m_entries;
  return {};
}

Result<void> TarEmitter::copy_data(const Entry& e) {
  if (m_read_buf.empty()) {
    m_read_buf.resize(k_read_chunk);
  }
  ::posix_fadvise(e.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  int64_t left = e.st.st_size;
  while (left > 0) {
    size_t want = static_cast<size_t>(std::min<int64_t>(left, static_cast<int64_t>(m_read_buf.size())));
    ssize_t n = ::read(e.fd, m_read_buf.data(), want);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return Error::from_errno(cat("read `", e.path, "`"));
    }
    if (n == 0) {
      return Error(ErrorCode::io, cat("read `", e.path, "`: the file shrank while the layer was written"));
    }
    if (archive_write_data(m_archive, m_read_buf.data(), static_cast<size_t>(n)) < 0) {
      return archive_error(cat("write tar data for `", e.path, "`"));
    }
    left -= n;
  }
  return {};
}

Result<void> TarEmitter::entry(const Entry& e) {
  std::string link_target;
  std::string hardlink;
  if (S_ISSOCK(e.st.st_mode)) {
    return {};  // sockets are not content (layer.md lists no socket type)
  }
  if (!S_ISDIR(e.st.st_mode) && e.st.st_nlink > 1) {
    auto [it, inserted] = m_links.try_emplace({e.st.st_dev, e.st.st_ino}, e.path);
    if (!inserted) {
      hardlink = it->second;
    }
  }
  if (S_ISLNK(e.st.st_mode) && hardlink.empty()) {
    link_target.resize(static_cast<size_t>(e.st.st_size) + 1);
    ssize_t n = ::readlinkat(e.dirfd, e.name.c_str(), link_target.data(), link_target.size());
    if (n < 0) {
      return Error::from_errno(cat("read symlink `", e.path, "`"));
    }
    link_target.resize(static_cast<size_t>(n));
  }
  KILN_TRY(write_header(e, link_target, hardlink));
  if (S_ISREG(e.st.st_mode) && hardlink.empty() && e.st.st_size > 0) {
    KILN_TRY(copy_data(e));
  }
  return {};
}

Result<void> TarEmitter::write_marker(const std::string& path) {
  Entry marker;
  marker.path = path;
  marker.st.st_mode = S_IFREG | 0644;
  marker.st.st_nlink = 1;
  // Markers carry no time of their own; a fixed one keeps layers reproducible.
  marker.st.st_mtim.tv_sec = 0;
  return write_header(marker, {}, {});
}

Result<void> TarEmitter::whiteout(const std::string& path) {
  return write_marker(cat(parent_of(path), ".wh.", base_of(path)));
}

Result<void> TarEmitter::opaque(const std::string& dir_path) {
  return write_marker(dir_path.empty() ? std::string(".wh..wh..opq") : cat(dir_path, "/.wh..wh..opq"));
}

Result<void> TarEmitter::finish() {
  if (archive_write_close(m_archive) != ARCHIVE_OK) {
    return archive_error("finish the tar stream");
  }
  if (m_filling != nullptr) {
    m_stage.submit();
    m_filling = nullptr;
  }
  KILN_TRY_ASSIGN(m_diff_id, m_stage.finish());
  return m_compressor.finish();
}

}  // namespace kiln::layers::detail
