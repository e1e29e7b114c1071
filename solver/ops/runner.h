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

  /// One layer holding every change `top` makes over `base` (top's chain must
  /// start with base's): the diff of their two merged views, whiteouts
  /// included, written to the store like any layer. For `bud --squash` and
  /// `kiln commit` (one layer per commit). nullopt when nothing changed.
  Result<std::optional<LayerRef>> squash(const OpResult& base, const OpResult& top);

  struct Impl;

 private:
  std::unique_ptr<Impl> m_impl;
};

}  // namespace kiln::solver::ops
