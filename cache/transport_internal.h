// Shared pieces of the local transports (transport.cc, archive.cc).
#pragma once

#include <string>

#include "cache/transport.h"

namespace kiln::cache::detail {

enum class Move { yes, no };

/// Copies (or, with Move::yes, renames: the source is a temp file on the
/// store's filesystem) a file into the store as `digest`, verifying it.
Result<void> copy_blob_in(const Store& store, const std::string& src, const oci::Digest& digest, Move move);
/// A valid repository component made from a file or directory name.
std::string sanitize_repo(std::string_view name);
std::string name_for_import(const std::string& ref_name, const std::string& source_path);
std::string default_ref_name(const LoadedImage& image, const std::string& ref);

Result<ImportResult> import_layout(const Store& store, const std::string& layout_dir, const std::string& ref,
                                   const std::string& source_path, const oci::Platform& platform, Move move);
Result<void> write_layout_dir(const Store& store, const LoadedImage& image, const std::string& dir,
                              const std::string& ref_name);

Result<ImportResult> import_oci_archive(const Store& store, const LocalRef& source, const oci::Platform& platform);
Result<ImportResult> import_docker_archive(const Store& store, const LocalRef& source);
Result<void> export_oci_archive(const Store& store, const LoadedImage& image, const LocalRef& dest);
Result<void> export_docker_archive(const Store& store, const LoadedImage& image, const LocalRef& dest);

}  // namespace kiln::cache::detail
