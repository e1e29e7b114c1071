// What --cache-from/--cache-to need from the host, taken with the invoking
// user's rights before kiln enters its user namespace (build_cache.h,
// prepare_cache_access). Registry credentials travel with the build's other
// registry credentials (hand_over_credentials, registry/handover.h).
#include <unistd.h>

#include "executor/user_namespace.h"
#include "frontend/api/build_cache.h"
#include "frontend/api/registry_internal.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln {

namespace {

// A type=local export directory the id container root maps to can write.
Result<void> prepare_dest_dir(const CacheSpec& spec) {
  if (is_directory(spec.dir) || ::geteuid() != 0) {
    return {};  // an ordinary user's container root is that user
  }
  KILN_TRY(make_dirs(spec.dir));
  KILN_TRY_ASSIGN(executor::IdMapping mapping, executor::compute_id_mapping());
  if (::chown(spec.dir.c_str(), mapping.host_root_uid(), mapping.host_root_gid()) != 0) {
    return Error(ErrorCode::io, cat("hand `", spec.dir, "` to kiln's container root"), errno);
  }
  return {};
}

}  // namespace

Result<void> prepare_cache_access(const std::vector<CacheSpec>& to) {
  if (executor::in_kiln_namespace()) {
    return {};
  }
  for (const auto& s : to) {
    if (s.type == CacheSpec::Type::local) {
      KILN_TRY(prepare_dest_dir(s));
    }
  }
  return {};
}

namespace detail {

Result<registry::RegistryOptions> cache_registry_options(const RegistryOptions& options) {
  KILN_TRY_ASSIGN(registry::RegistryOptions ro, to_registry_options(options));
  ro.progress = nullptr;  // blob-by-blob progress would interleave with the build's
  return ro;
}

}  // namespace detail

}  // namespace kiln
