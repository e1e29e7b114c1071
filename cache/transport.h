// Local image transports: `oci:DIR[:REF]`, `oci-archive:FILE[:REF]` and
// `docker-archive:FILE[:NAME]`, read and written without a network. The
// registry transport `docker://` lives in registry/.
//
// Formats: OCI image-spec image-layout.md (a directory, or a tar of one);
// Docker's `docker save` archive (manifest.json listing Config, RepoTags and
// Layers paths), which `podman load` and `docker load` read.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cache/store.h"
#include "oci/platform.h"

namespace kiln::cache {

enum class TransportKind { oci_dir, oci_archive, docker_archive };

struct LocalRef {
  TransportKind kind = TransportKind::oci_dir;
  std::string path;  ///< directory or archive file
  std::string ref;   ///< the part after the path's ':' ("" when absent)
};

/// Parses "oci:DIR[:REF]", "oci-archive:FILE[:REF]", "docker-archive:FILE[:NAME]".
/// nullopt when text has none of these prefixes; invalid_input when the
/// prefix is there but the path is empty.
Result<std::optional<LocalRef>> parse_local_ref(std::string_view text);
std::string transport_name(TransportKind kind);

struct ImportResult {
  oci::Descriptor manifest;        ///< the stored manifest
  oci::Digest id;                  ///< image id (config digest)
  std::vector<std::string> names;  ///< names given to it in the store
};

/// Copies an image from a local transport into the store and names it: by
/// the source's ref.name when that is a full reference, else
/// `localhost/<dir or file name>:<ref.name or latest>`; docker archives by
/// their RepoTags. Manifest and config bytes are kept as they are, so digests
/// are preserved (a docker archive has no manifest: one is written). Blobs
/// are verified while copied; on any error nothing is named and the store
/// is unchanged (copied blobs are left to prune). An index picks `platform`.
Result<ImportResult> import_image(const Store& store, const LocalRef& source, const oci::Platform& platform);

/// Writes a stored image to a local transport. The OCI forms name it
/// ref.name = `ref` when given, else the image's first full name; the docker
/// form lists `ref` (or the image's names) as RepoTags. An existing OCI
/// directory keeps its other images; archives are replaced atomically.
Result<void> export_image(const Store& store, const LoadedImage& image, const LocalRef& dest);

}  // namespace kiln::cache
