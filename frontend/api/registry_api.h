// Registry operations of kiln's public API (namespace kiln): the options
// `kiln pull/push/login/logout` and `bud` share, login/logout, and
// ensure_image(), which the build uses to make sure a base image is in the
// store before `FROM` uses it. pull_image/push_image (store_api.h) take the
// registry transport `docker://` (the default for a plain reference) too.
// No registry/ or third-party type appears here.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "util/redacted.h"
#include "util/result.h"

namespace kiln {

class ImageStore;

/// One progress event of a pull or push (per blob).
struct TransferEvent {
  enum class Kind { started, advanced, finished, skipped, mounted, retrying };
  Kind kind = Kind::started;
  std::string digest;  ///< "sha256:..."
  std::string what;    ///< "layer", "config"
  int64_t total = 0;   ///< bytes
  int64_t done = 0;    ///< bytes
  std::string message;
};

/// Flags shared by every command that talks to a registry.
struct RegistryOptions {
  std::optional<bool> tls_verify;  ///< --tls-verify (nullopt: verify unless registries.conf says insecure)
  std::string cert_dir;            ///< --cert-dir
  std::string auth_file;           ///< --authfile
  Redacted<std::string> creds;     ///< --creds USER:PASSWORD ("" = the auth files)
  int retries = 3;                 ///< --retry
  int64_t retry_delay_ms = 1000;   ///< --retry-delay (first backoff; doubles)
  std::string registries_conf;     ///< --registries-conf (else $CONTAINERS_REGISTRIES_CONF, the standard files)
  size_t max_parallel = 6;         ///< blobs in flight
  std::function<void(const TransferEvent&)> progress;  ///< may be empty
};

/// When ensure_image contacts the registry (`bud --pull=...`, like buildah).
enum class PullPolicy {
  always,   ///< pull every time (the registry's current image for the tag)
  missing,  ///< pull only when the store has no image by that name (default)
  never,    ///< use the store only; not_found when absent
};

struct EnsuredImage {
  std::string id;      ///< image id "sha256:..." (config digest)
  std::string digest;  ///< manifest digest "sha256:..."
  std::string name;    ///< the store name it was found or pulled as ("" when unnamed)
  bool pulled = false;
};

/// Makes sure `reference` is in the store and returns it. `reference` is a
/// name or id as the store knows it, a `docker://` reference (the default),
/// or `oci:`/`oci-archive:`/`docker-archive:` (imported). A short name is
/// looked up in the store as Store::find_image does (localhost/X,
/// docker.io/library/X) and as each unqualified-search registry would name
/// it; when absent (or with PullPolicy::always) it is pulled from the
/// registries registries.conf gives, in order. `platform` "" = the host's.
/// Errors: not_found (absent with PullPolicy::never, or on every registry),
/// auth, network, cache_corrupt, invalid_input.
Result<EnsuredImage> ensure_image(const ImageStore& store, const std::string& reference, PullPolicy policy,
                                  const RegistryOptions& options, const std::string& platform = "");

/// Parses "always|missing|never" (also buildah's "true"=always, "false"=missing,
/// "ifmissing"); nullopt otherwise.
std::optional<PullPolicy> parse_pull_policy(const std::string& text);

/// Call before open_store_in_namespace in a command that reaches registries
/// from inside kiln's namespace (bud: FROM, --push): hands the invoking
/// user's auth files (options.auth_file, then the standard files) and the
/// --cert-dir files over to the re-executed process, which may not be able
/// to read them (host root's 0600 files): registry/handover.h. Errors: io,
/// syscall.
Result<void> hand_over_credentials(const RegistryOptions& options);

/// `kiln login REGISTRY`: checks the credentials against the registry, then
/// writes them to the auth file ($REGISTRY_AUTH_FILE,
/// $XDG_RUNTIME_DIR/containers/auth.json, or --authfile) as podman does.
/// Returns the file written. Errors: auth (refused; nothing written),
/// network, invalid_input.
Result<std::string> registry_login(const std::string& registry, const std::string& username,
                                   const Redacted<std::string>& password, const RegistryOptions& options);

/// `kiln logout REGISTRY` (or every registry with `all`). Returns false when
/// there were no credentials to remove.
Result<bool> registry_logout(const std::string& registry, bool all, const RegistryOptions& options);

}  // namespace kiln
