// Registry paths of pull_image/push_image (store_api.cc calls them).
// Internal to frontend/api.
#pragma once

#include <string>

#include "cache/store.h"
#include "frontend/api/store_api.h"
#include "oci/platform.h"
#include "registry/options.h"

namespace kiln::detail {

/// The registry/ options for the API's flags. Errors: usage for a malformed --creds.
Result<registry::RegistryOptions> to_registry_options(const RegistryOptions& options);

/// The registry/ options for a registry build cache (a CacheSpec's ref):
/// the build's flags without per-blob progress. cache_access.cc.
Result<registry::RegistryOptions> cache_registry_options(const RegistryOptions& options);

Result<PullSummary> pull_from_registry(const ImageStore& store, const std::string& source,
                                       const oci::Platform& platform, const RegistryOptions& options);
/// `name` is how the user named the stored image; dest "" = name's registry.
Result<PushSummary> push_to_registry(const ImageStore& store, const cache::LoadedImage& image, const std::string& name,
                                     const std::string& dest, const RegistryOptions& options);

}  // namespace kiln::detail
