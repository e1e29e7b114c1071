// Internal: turns snapshot entries into a deterministic PAX tar stream
// (libarchive) and feeds it, hashed, to a Compressor. The rules are listed in
// write.h.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "layers/async_hash.h"
#include "layers/compress.h"
#include "layers/xattrs.h"
#include "util/hasher.h"
#include "util/result.h"

struct archive;

namespace kiln::layers::detail {

/// One file of a snapshot, as the walkers hand it to an EntrySink.
struct Entry {
  std::string path;  ///< path in the layer, relative, no leading "/" ("usr/bin/sh")
  struct stat st {};
  int fd = -1;       ///< regular files and directories: an open fd (borrowed)
  int dirfd = -1;    ///< the parent directory (borrowed)
  std::string name;  ///< the name in dirfd
  Xattrs xattrs;     ///< already filtered by is_layer_xattr
};

/// Receives the entries of a layer in tar order.
class EntrySink {
 public:
  virtual ~EntrySink() = default;
  virtual Result<void> entry(const Entry& e) = 0;
  /// `path` (relative) is deleted: writes `dir/.wh.name`.
  virtual Result<void> whiteout(const std::string& path) = 0;
  /// Directory `dir_path` hides everything below it in lower layers: writes
  /// `dir_path/.wh..wh..opq`.
  virtual Result<void> opaque(const std::string& dir_path) = 0;
};

class TarEmitter final : public EntrySink {
 public:
  /// source_date_epoch clamps mtimes; compressor is borrowed.
  TarEmitter(std::optional<int64_t> source_date_epoch, Compressor& compressor);
  ~TarEmitter() override;
  TarEmitter(const TarEmitter&) = delete;
  TarEmitter& operator=(const TarEmitter&) = delete;

  Result<void> open();
  Result<void> entry(const Entry& e) override;
  Result<void> whiteout(const std::string& path) override;
  Result<void> opaque(const std::string& dir_path) override;
  /// Ends the archive and the compressed stream.
  Result<void> finish();

  /// The diffID (hex), after finish().
  const std::string& diff_id_hex() const { return m_diff_id; }
  int64_t tar_size() const { return m_tar_size; }
  int64_t entries() const { return m_entries; }

 private:
  static ssize_t on_write(struct archive* a, void* self, const void* buf, size_t size);
  Result<void> write_header(const Entry& e, const std::string& link_target, const std::string& hardlink);
  Result<void> write_marker(const std::string& path);
  Result<void> copy_data(const Entry& e);
  Error archive_error(const std::string& what);

  std::optional<int64_t> m_epoch;
  Compressor& m_compressor;
  struct archive* m_archive = nullptr;
  HashAndCompress m_stage;
  std::vector<uint8_t>* m_filling = nullptr;  // from m_stage.acquire()
  std::string m_diff_id;
  std::vector<char> m_read_buf;
  std::optional<Error> m_write_error;  // from the libarchive callback
  std::map<std::pair<dev_t, ino_t>, std::string> m_links;  // first path of each multiply-linked inode
  int64_t m_tar_size = 0;
  int64_t m_entries = 0;
};

}  // namespace kiln::layers::detail
