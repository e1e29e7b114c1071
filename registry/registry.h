// The registry transport (`docker://`): pull images into the local store and
// push stored images, over the OCI distribution API; `kiln login/logout`.
// This is registry/'s public surface for frontend/api and solver/ops.
//
// Specs: OCI distribution-spec v1.1 (pull, push, cross-repository mount,
// chunked uploads), OCI image-spec (manifests, indexes), Docker image
// manifest v2 schema 2 and manifest lists, Docker token authentication,
// containers-registries.conf(5), containers-auth.json(5).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cache/store.h"
#include "oci/platform.h"
#include "oci/reference.h"
#include "registry/credentials.h"
#include "registry/options.h"

namespace kiln::registry {

/// Strips a `docker://` prefix (and `//`), the registry transport's name.
std::string_view strip_transport(std::string_view text);

/// The full references a user's text may mean, in the order a pull tries
/// them (registries.conf aliases and unqualified-search-registries; see
/// RegistriesConfig::qualify). Errors: invalid_input, parse.
Result<std::vector<oci::Reference>> qualify_reference(std::string_view text, const RegistryOptions& options);

struct PulledImage {
  oci::Descriptor manifest;  ///< the stored image manifest (platform-specific)
  oci::Digest id;            ///< config digest
  std::string name;          ///< the name given in the store ("" for a digest-only pull)
  std::string source;        ///< where it came from ("mirror.example/library/busybox")
  int64_t bytes_downloaded = 0;
};

/// Pulls `ref` (a full reference) into the store: the manifest (from an
/// index: the one for `platform`), then config and layers in parallel,
/// each streamed into the store while its digest is checked, resumed with
/// Range after a broken connection; then names the image `ref` (for a tag).
/// Sources come from registries.conf (mirrors, then the location).
/// Errors: not_found (no such manifest, tag, or platform), auth (refused
/// credentials), network (after retries; naming registry, repository and
/// blob, with the server's answer), cache_corrupt (a blob or manifest that
/// does not match its digest: nothing of it is kept, the image is not named),
/// unsupported (a schema 1 manifest).
Result<PulledImage> pull_image(const cache::Store& store, const oci::Reference& ref, const oci::Platform& platform,
                               const RegistryOptions& options);

struct PushOptions {
  int64_t monolithic_max = 32LL << 20;  ///< blobs up to this size go in one PUT; larger ones in PATCH chunks
  int64_t chunk_size = 64LL << 20;      ///< bytes per PATCH
};

struct PushedImage {
  oci::Digest manifest_digest;
  std::string reference;  ///< "reg:5000/team/app:1"
  int64_t bytes_uploaded = 0;
  int blobs_uploaded = 0;
  int blobs_skipped = 0;   ///< already on the registry
  int blobs_mounted = 0;   ///< mounted from another repository
};

/// Pushes a stored image to `dest`: blobs the registry has are skipped
/// (HEAD), blobs pulled from another repository of the same registry are
/// mounted, the rest uploaded in parallel (each blob's digest verified while
/// it is read), then the manifest bytes as stored (so the digest is kept; a
/// Docker-format image goes with Docker media types), under dest's tag (or
/// digest). Errors: auth, network, cache_corrupt (a stored blob that does
/// not match its digest: its upload is abandoned), invalid_input (blocked).
Result<PushedImage> push_image(const cache::Store& store, const cache::LoadedImage& image, const oci::Reference& dest,
                               const RegistryOptions& options, const PushOptions& push_options = {});

/// Checks the credentials against `registry` (`/v2/` and, for token auth,
/// the token server), then stores them in the auth file
/// (auth_file_for_write(options.auth_file)); returns that file's path.
/// Errors: auth when the registry refuses them (nothing is written).
Result<std::string> login(std::string_view registry, const Credentials& credentials, const RegistryOptions& options);

/// Removes `registry`'s credentials from the auth file (all entries when
/// registry is ""). Returns false when there were none.
Result<bool> logout(std::string_view registry, const RegistryOptions& options);

}  // namespace kiln::registry
