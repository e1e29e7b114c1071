#include "layers/extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <memory>

#include "layers/decompress.h"
#include "layers/extract_entry.h"
#include "layers/safe_path.h"
#include "layers/utf8_locale.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln::layers {

using detail::LayerStream;

namespace {

struct ArchiveDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};

// libarchive pulls tar bytes from the LayerStream; each block stays valid
// until the next pull, which is the callback contract.
la_ssize_t read_block(struct archive* a, void* client, const void** buffer) {
  auto* stream = static_cast<LayerStream*>(client);
  auto block = stream->next();
  if (!block) {
    archive_set_error(a, EIO, "%s", block.error().render().c_str());
    return -1;
  }
  *buffer = block->first;
  return static_cast<la_ssize_t>(block->second);
}

Result<void> read_entries(LayerStream& stream, detail::Applier& applier, std::optional<Error>& stream_error) {
  std::unique_ptr<struct archive, ArchiveDeleter> a(archive_read_new());
  if (!a || archive_read_support_format_tar(a.get()) != ARCHIVE_OK) {
    return Error(ErrorCode::internal, "create a libarchive reader");
  }
  if (archive_read_open(a.get(), &stream, nullptr, read_block, nullptr) != ARCHIVE_OK) {
    return Error(ErrorCode::cache_corrupt, cat("read layer tar: ", archive_error_string(a.get())));
  }
  for (;;) {
    struct archive_entry* ae = nullptr;
    int rc = archive_read_next_header(a.get(), &ae);
    if (rc == ARCHIVE_EOF) {
      return {};
    }
    if (rc == ARCHIVE_WARN) {
      log::debug("layers: tar reader: ", archive_error_string(a.get()));
    } else if (rc != ARCHIVE_OK) {
      // A decompression error surfaces through the stream; prefer it.
      auto finished = stream.finish();
      if (!finished) {
        stream_error = std::move(finished).error();
        return *stream_error;
      }
      return Error(ErrorCode::cache_corrupt, cat("read layer tar: ", archive_error_string(a.get())));
    }
    KILN_TRY(applier.apply(a.get(), ae));
  }
}

Result<bool> prepare_target(const ExtractOptions& options) {
  if (options.mode == ExtractMode::merged) {
    if (!is_directory(options.target_dir)) {
      return Error(ErrorCode::not_found, cat("target rootfs `", options.target_dir, "` is not a directory"));
    }
    return false;
  }
  if (::mkdir(options.target_dir.c_str(), 0755) == 0) {
    return true;
  }
  if (errno != EEXIST) {
    return Error::from_errno(cat("create layer directory `", options.target_dir, "`"));
  }
  KILN_TRY_ASSIGN(auto names, list_dir(options.target_dir));
  if (!names.empty()) {
    return Error(ErrorCode::invalid_input, cat("layer directory `", options.target_dir, "` is not empty"));
  }
  return false;
}

Result<ExtractResult> run(int blob_fd, const ExtractOptions& options) {
  detail::ScopedUtf8Locale locale;
  KILN_TRY_ASSIGN(auto root, detail::SafeRoot::open(options.target_dir));
  ExtractResult result;
  detail::Applier applier(root, options, result);
  KILN_TRY(applier.init());
  KILN_TRY_ASSIGN(auto stream, LayerStream::start(blob_fd));
  std::optional<Error> stream_error;
  auto applied = read_entries(*stream, applier, stream_error);
  if (!applied) {
    return std::move(applied).error();
  }
  KILN_TRY_ASSIGN(auto totals, stream->finish());
  KILN_TRY(applier.finish());
  result.diff_id = oci::Digest::from_sha256_hex(totals.diff_id_hex);
  result.digest = oci::Digest::from_sha256_hex(totals.digest_hex);
  result.compression = totals.compression;
  result.compressed_size = totals.compressed_size;
  result.uncompressed_size = totals.uncompressed_size;
  if (options.expected_digest && *options.expected_digest != result.digest) {
    return Error(ErrorCode::cache_corrupt, cat("layer digest mismatch: expected ", options.expected_digest->str(),
                                               ", got ", result.digest.str()));
  }
  if (options.expected_diff_id && *options.expected_diff_id != result.diff_id) {
    return Error(ErrorCode::cache_corrupt, cat("layer diffID mismatch: expected ", options.expected_diff_id->str(),
                                               ", got ", result.diff_id.str()));
  }
  return result;
}

}  // namespace

Result<ExtractResult> extract_layer(int blob_fd, const ExtractOptions& options) {
  std::string what = cat("extract layer into `", options.target_dir, "`");
  KILN_TRY_ASSIGN(bool created, prepare_target(options).context(what));
  auto result = run(blob_fd, options);
  if (!result && options.mode == ExtractMode::overlay_lower) {
    // Remove what was written, so a failed layer never looks extracted.
    auto cleaned = created ? remove_tree(options.target_dir) : [&]() -> Result<void> {
      KILN_TRY_ASSIGN(auto names, list_dir(options.target_dir));
      for (const auto& name : names) {
        KILN_TRY(remove_tree(path_join(options.target_dir, name)));
      }
      return {};
    }();
    log_warning_and_drop(std::move(cleaned));
  }
  if (!result) {
    return std::move(result).error().wrap(what);
  }
  return result;
}

}  // namespace kiln::layers
