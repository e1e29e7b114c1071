// The concrete ops (STYLE.md L3): the one place that wires executor/,
// layers/, registry/ and cache/ together. BuildRunner implements the solver
// core's OpRunner for real builds.
//
// Filesystem model: an op's result is a chain of layers (solver::LayerRef).
// A step that needs the parent's filesystem (RUN, COPY without --link)
// extracts the chain's missing layers into the store (ROOT/kiln/layers/<hex>/diff,
// overlay lower format; layer_cache.h), mounts overlay with those lowers and
// a fresh upper dir, works, and turns the upper dir into the new layer
// (layers::write_layer) and then into that layer's extracted dir (renamed,
// not copied). Nothing is extracted for cache hits, FROM, metadata-only
// steps or COPY --link.
//
// Must run inside kiln's user namespace (executor::enter_user_namespace).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "cache/cache_mounts.h"
#include "cache/store.h"
#include "executor/mounts.h"
#include "executor/sandbox.h"
#include "layers/write.h"
#include "solver/solve.h"
#include "util/redacted.h"

namespace kiln::solver::ops {

/// A `--secret` for RUN --mount=type=secret. Its bytes never enter a
/// Definition, a cache key, a layer, the image config or a log line.
struct SecretSource {
  std::string id;
  std::optional<Redacted<std::string>> value;  ///< the bytes, when already read (bud reads them
                                               ///< outside kiln's namespace: frontend/api host_inputs.h)
  std::string file;   ///< else read from this file at solve time
  std::string env;    ///< or from this environment variable
};

/// Blobs an imported build cache (`bud --cache-from`) can supply on demand.
/// A cache hit may reference layers that are not in the store yet; they are
/// fetched only when a step must extract them (a RUN or COPY on top of the
/// hit) or when the image is committed. Implemented by frontend/api.
class BlobFetcher {
 public:
  virtual ~BlobFetcher() = default;
  /// True when `digest` can be fetched (an imported cache lists it and it
  /// was not rejected).
  virtual bool can_fetch(const oci::Digest& digest) const = 0;
  /// Downloads blobs into the store, each verified against its digest;
  /// those already stored are skipped. A blob that cannot be fetched or does
  /// not match is rejected: can_fetch() is false for it from then on.
  /// Errors: the first failure, naming the blob and the cache.
  virtual Result<void> fetch(const std::vector<oci::Digest>& digests) = 0;
};

/// The contents of RUN --mount=type=cache directories an imported build
/// cache carries (`bud --cache-from`, exported with `--cache-to
/// ...,cache-mounts=true`). Consulted only when a step creates a cache
/// directory the store does not have yet: an existing local cache always
/// wins, and is never merged with or replaced by an imported one.
/// Implemented by frontend/api.
class CacheMountSource {
 public:
  virtual ~CacheMountSource() = default;
  /// Fills `dir` (a new, empty cache directory not visible to any step yet,
  /// owned and moded per `key`) with the imported contents of cache `key`.
  /// True when it did. False when no imported cache carries `key`, or when
  /// fetching or extracting failed: that is logged as a warning and `dir` is
  /// left empty again (the caller then seeds it as it would have). Runs
  /// inside kiln's user namespace; thread-safe. Errors: only when `dir`
  /// could not be emptied after a failed restore (io naming it): the caller
  /// must then not use `dir`.
  virtual Result<bool> restore(const cache::CacheMountKey& key, const std::string& dir, bool ignore_chown_errors) = 0;
};

struct RunnerConfig {
  const cache::Store* store = nullptr;
  /// Build contexts by name ("context" = the main one) -> directory.
  std::map<std::string, std::string> contexts;
  executor::StorageDriver driver = executor::StorageDriver::overlay;
  layers::WriteOptions layer_options;
  /// Where RUN steps write their stdout and stderr (kiln's stderr by
  /// default: stdout carries only results).
  int step_stdout_fd = 2;
  int step_stderr_fd = 2;
  std::string seccomp_cache_dir;
  executor::SeccompMode seccomp = executor::SeccompMode::default_policy;
  /// Single-id user namespace: chown failures during extraction are ignored.
  bool ignore_chown_errors = false;
  std::vector<SecretSource> secrets;
  /// --ssh id -> agent socket path kiln can connect to (RUN --mount=type=ssh
  /// gets its own relay to it per step).
  std::map<std::string, std::string> ssh_sockets;
  unsigned step_timeout_seconds = 0;
  /// Imported build caches' blobs (nullptr: none). Not owned.
  BlobFetcher* blobs = nullptr;
  /// Imported build caches' cache-mount contents (nullptr: none). Not owned.
  CacheMountSource* cache_mounts = nullptr;
};

class BuildRunner final : public OpRunner {
 public:
  explicit BuildRunner(RunnerConfig config);
  ~BuildRunner() override;

  Result<std::string> content_digest(const Definition& def, int op, std::vector<std::string>* files) override;
  Result<std::string> mount_content_digest(const Definition& def, int op, int input) override;
  Result<OpResult> run(const Definition& def, int op, const std::vector<const OpResult*>& inputs,
                       const CancelToken& cancel) override;
  bool result_available(const OpResult& result) override;

  /// A directory holding the merged filesystem of `result` (for --output
  /// type=local/tar and COPY --from). The view lives as long as the runner.
  Result<std::string> materialize(const OpResult& result);

  /// Mounts a read-only merged view of `result` on the existing empty
  /// directory `target` and leaves it mounted when the runner goes away
  /// (`kiln mount`): the mount belongs to the calling mount namespace. With
  /// one layer, overlay needs a second (empty) lower: `empty_dir` is made for
  /// that. vfs: a copy of the files instead of a mount. Errors: extraction
  /// and mount errors.
  Result<void> mount_view_at(const OpResult& result, const std::string& target, const std::string& empty_dir);
  /// Unmounts a view mount_view_at made (lazily, MNT_DETACH).
  static Result<void> unmount_view(const std::string& target);

  /// One layer holding every change `top` makes over `base` (top's chain must
  /// start with base's): the diff of their two merged views, whiteouts
  /// included, written to the store like any layer. For `bud --squash` and
  /// `kiln commit` (one layer per commit). nullopt when nothing changed.
  Result<std::optional<LayerRef>> squash(const OpResult& base, const OpResult& top);

  /// Gives layers[first..] the compression of the runner's layer options
  /// (a cache hit keeps the compression it was first written with until
  /// here): convert_layers in layer_convert.h, with the runner's store,
  /// codec, level and media-type family. The image commits of `bud`,
  /// `bud --squash` and `kiln commit` call it on the layers the build made
  /// (never the base image's). Returns how many blobs were re-encoded.
  /// Errors: as convert_layers.
  Result<size_t> convert_layers(std::vector<LayerRef>& layers, size_t first);

  struct Impl;

 private:
  std::unique_ptr<Impl> m_impl;
};

}  // namespace kiln::solver::ops
