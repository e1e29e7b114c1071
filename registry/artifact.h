// Reading an OCI artifact lazily from a registry: the manifest first, then
// only the blobs a caller asks for, over one session (connections, token)
// kept for the reader's lifetime. kiln's shared build cache
// (`bud --cache-from type=registry`) reads its mapping this way and fetches a
// layer only when a build needs it. Writing an artifact is push_image()
// (registry.h) with the artifact's manifest: its blobs are HEAD-skipped,
// mounted or uploaded like an image's.
//
// Specs: OCI distribution-spec v1.1 (pulling manifests and blobs), OCI
// image-spec v1.1 manifest.md (artifactType, "Guidelines for Artifact Usage").
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cache/store.h"
#include "oci/descriptor.h"
#include "oci/reference.h"
#include "registry/options.h"

namespace kiln::registry {

struct ArtifactManifest {
  std::string bytes;       ///< as the registry sent them (their digest is `digest`)
  std::string media_type;  ///< Content-Type, or the manifest's own mediaType
  oci::Digest digest;
};

class ArtifactReader {
 public:
  /// Opens a pull session with `ref`'s repository (pinging /v2/ and
  /// learning the auth challenge; insecure registries per registries.conf or
  /// options.tls_verify). Errors: network, auth, invalid_input (blocked).
  static Result<std::unique_ptr<ArtifactReader>> open(const oci::Reference& ref, const RegistryOptions& options);
  ~ArtifactReader();

  const oci::Reference& reference() const { return m_ref; }

  /// The manifest `ref` names (by tag, or by digest and then verified).
  /// nullopt when the registry has no such manifest (404). Errors: auth,
  /// network, cache_corrupt (digest mismatch).
  Result<std::optional<ArtifactManifest>> manifest();

  /// Downloads `blobs` of the repository into the store, in parallel (those
  /// already stored are skipped), each verified against its digest and
  /// size while it streams; a blob that does not match is not kept.
  /// Returns the bytes received. Errors: the first failure (cache_corrupt,
  /// not_found, auth, network, each naming the blob); blobs completed before
  /// it are kept. Thread-safe: concurrent calls are serialized.
  Result<int64_t> fetch(const cache::Store& store, const std::vector<oci::Descriptor>& blobs);

 private:
  struct Impl;
  ArtifactReader(oci::Reference ref, std::unique_ptr<Impl> impl);
  oci::Reference m_ref;
  std::unique_ptr<Impl> m_impl;
  std::mutex m_mutex;
};

}  // namespace kiln::registry
