// Options every registry operation takes (the flags `kiln pull/push/login`
// and `bud` share), and the progress events it reports.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "registry/credentials.h"

namespace kiln::registry {

/// What happened to one blob (or manifest) of a pull or push.
struct ProgressEvent {
  enum class Kind {
    started,   ///< transfer began (total = size in bytes)
    advanced,  ///< `done` bytes of `total` moved so far
    finished,  ///< all bytes moved and verified
    skipped,   ///< already present (in the store, or on the registry: HEAD)
    mounted,   ///< cross-repository mount on the registry
    retrying,  ///< a retry after an error (`message` says which)
  };
  Kind kind = Kind::started;
  std::string digest;  ///< "sha256:..."
  std::string what;    ///< "layer", "config", "manifest"
  int64_t total = 0;   ///< bytes
  int64_t done = 0;    ///< bytes
  std::string message;
};
/// Called on the thread running the operation; must not block for long.
using ProgressFn = std::function<void(const ProgressEvent&)>;

struct RegistryOptions {
  /// --tls-verify: nullopt = verify, unless registries.conf marks the
  /// registry insecure; false also allows plain HTTP.
  std::optional<bool> tls_verify;
  std::string cert_dir;   ///< --cert-dir: CA *.crt, client *.cert/*.key ("" = /etc/containers/certs.d/HOST)
  std::string auth_file;  ///< --authfile ("" = the standard files, registry/credentials.h)
  std::optional<Credentials> credentials;  ///< --creds: used instead of the auth files
  int retries = 3;                          ///< --retry: retries after connection errors, 429 and 5xx
  std::chrono::milliseconds retry_delay{1000};  ///< --retry-delay: first backoff, doubled each retry
  std::string registries_conf;              ///< a registries.conf to use instead of the standard main file
  size_t max_parallel = 6;                  ///< blobs in flight at once
  ProgressFn progress;                      ///< may be empty
};

}  // namespace kiln::registry
