// Registry paths of pull_image/push_image (store_api.cc calls them).
// Internal to frontend/api.
#pragma once

#include <string>

#include "cache/store.h"
#include "frontend/api/store_api.h"
#include "oci/platform.h"

namespace kiln::detail {

Result<PullSummary> pull_from_registry(const ImageStore& store, const std::string& source,
                                       const oci::Platform& platform, const RegistryOptions& options);
/// `name` is how the user named the stored image; dest "" = name's registry.
Result<PushSummary> push_to_registry(const ImageStore& store, const cache::LoadedImage& image, const std::string& name,
                                     const std::string& dest, const RegistryOptions& options);

}  // namespace kiln::detail
