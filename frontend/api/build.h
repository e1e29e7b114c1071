// Solving a BuildState and committing it as an image: the part of the public
// API `kiln bud` and `kiln commit` end in (one code path, STYLE.md F3).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "frontend/api/build_cache.h"
#include "frontend/api/build_state.h"
#include "frontend/api/registry_api.h"
#include "frontend/api/store_api.h"
#include "oci/media_types.h"
#include "util/redacted.h"
#include "util/result.h"

namespace kiln {

/// Progress of a solve, for reporters (frontend/cli renders them).
struct BuildEvent {
  enum class Kind { step_started, step_cached, step_finished, step_failed };
  Kind kind = Kind::step_started;
  int op = 0;
  std::string description;  ///< "RUN make"
  std::string stage;        ///< stage name ("" for stepwise)
  int step = 0;             ///< 1-based within the stage (0: not a Dockerfile step)
  int step_count = 0;
  std::string key;          ///< the step's cache key
  double seconds = 0;
  int64_t layer_bytes = 0;  ///< size of the layer blob the step made (0: none)
  std::string layer_digest;
  std::vector<std::string> explanation;  ///< cache misses with explain_cache: why
};

/// A --secret for RUN --mount=type=secret (host_inputs.h reads them). The
/// bytes never reach the definition, a cache key, a layer, the image config
/// or a log.
struct BuildSecret {
  std::string id;
  Redacted<std::string> value;
};

/// Solve-time settings: what is not part of the build's definition.
struct BuildConfig {
  std::map<std::string, std::string> contexts;  ///< build context name -> directory ("context" = main)
  int jobs = 0;                 ///< ops at once; 0 = number of CPUs
  bool no_cache = false;
  bool explain_cache = false;
  std::string storage_driver;   ///< "", overlay, fuse-overlayfs, vfs ("" = probe)
  /// Compression of the layers the build writes, and of every layer the
  /// committed image gets from the build (cache hits included: converted at
  /// commit, solver/ops/layer_convert.h); the base image's layers keep theirs.
  oci::media::Compression compression = oci::media::Compression::gzip;
  int compression_level = 0;
  std::optional<int64_t> source_date_epoch;  ///< seconds; clamps mtimes and sets created
  bool docker_format = false;   ///< Docker media types (manifest, config, layers)
  bool seccomp_unconfined = false;
  unsigned step_timeout_seconds = 0;
  int step_output_fd = 2;       ///< where RUN output goes
  int step_stdout_fd = -1;      ///< RUN stdout when >= 0 (`kiln run`: 1), else step_output_fd
  std::vector<BuildSecret> secrets;               ///< --secret (RUN --mount=type=secret)
  std::map<std::string, std::string> ssh_agents;  ///< --ssh id -> agent socket (RUN --mount=type=ssh)
  /// Names this build for --explain-cache (the Dockerfile's absolute path
  /// and the target, say), so a later build can say why a step missed.
  std::string explain_identity;
  std::function<void(const BuildEvent&)> on_event;
  std::vector<CacheSpec> cache_from;  ///< --cache-from, in order (build_cache.h)
  std::vector<CacheSpec> cache_to;    ///< --cache-to
  RegistryOptions registry;           ///< for type=registry caches
};

struct CommitOptions {
  std::vector<std::string> tags;                    ///< names (short names get localhost/)
  std::map<std::string, std::string> annotations;   ///< manifest annotations
  bool squash = false;                              ///< one layer for everything new
};

struct BuiltImage {
  std::string id;               ///< "sha256:..." (config digest)
  std::string manifest_digest;
  std::vector<std::string> names;
  int steps_run = 0;            ///< ops executed (cache misses)
  int steps_cached = 0;
};

/// One layer of a solved filesystem: an OCI layer blob in the store.
struct Layer {
  std::string diff_id;     ///< "sha256:..." digest of the uncompressed tar
  std::string digest;      ///< "sha256:..." digest of the blob
  int64_t size = 0;        ///< blob bytes
  std::string media_type;  ///< the blob's media type (compression)
};

/// What solve() made of a state.
struct SolvedState {
  std::vector<Layer> layers;  ///< the state's whole filesystem, bottom layer first
  int steps_run = 0;          ///< RUN/COPY/WORKDIR steps executed (cache misses)
  int steps_cached = 0;       ///< steps taken from the build cache
};

/// Solves `state` without making an image: every step the cache misses
/// runs (RUN output to config.step_stdout_fd/step_output_fd), results are
/// recorded in the build cache under the same keys `kiln bud` uses, so a
/// later solve or build of the same steps is a cache hit. Must run inside
/// kiln's user namespace (enter_build_namespace / open_store_in_namespace).
/// Errors: the failing step's error (failed_step with the command's exit
/// status for a RUN that exits non-zero), not_found for a missing build
/// context or base image blob, store errors.
Result<SolvedState> solve(const ImageStore& store, const BuildState& state, const BuildConfig& config);

/// Solves `state` and stores the result as an image: config (history with
/// each step's created time as recorded by the cache, so a fully cached
/// rebuild gives the same id; all equal to source_date_epoch when set),
/// manifest, names. Errors: the failing step's error (with its Dockerfile
/// lines), or store errors. A failed build names nothing and leaves earlier
/// images intact.
Result<BuiltImage> build_image(const ImageStore& store, const BuildState& state, const BuildConfig& config,
                               const CommitOptions& commit);

/// True when `reference` names its registry explicitly (a first component
/// with a '.' or ':', or `localhost`), as `bud --push` needs:
/// "reg:5000/team/app:1" yes, "app:1" and "team/app" no.
bool reference_names_registry(const std::string& reference);

enum class OutputType { local, tar, oci, docker };
struct OutputSpec {
  OutputType type = OutputType::local;
  std::string dest;
};
/// Parses --output: "type=local,dest=DIR", "type=tar,dest=FILE",
/// "type=oci,dest=FILE", "type=docker,dest=FILE", or a bare DIR (local).
Result<OutputSpec> parse_output_spec(const std::string& text);

/// Writes a built image (by id) to an output: its merged filesystem (local
/// directory, merged into what is there, every entry owned by container
/// root; or an uncompressed tar with the image's owners) or an image
/// archive (oci-archive / docker-archive, loadable by skopeo and podman).
/// output.dest is the path written (the caller maps it through
/// HostOutputs::path_for). Must run inside kiln's namespace.
Result<void> export_output(const ImageStore& store, const BuiltImage& image, const BuildConfig& config,
                           const OutputSpec& output);

/// Resolves FROM and COPY --from images for a build: ensure_image
/// (registry_api.h) with the pull policy (a registry reference the store
/// lacks, or every one with PullPolicy::always, is pulled; local transports
/// are imported), then the image as the store has it. Errors: those of
/// ensure_image (not_found naming the image, auth, network).
Result<ResolvedImage> resolve_build_image(const ImageStore& store, const std::string& reference, PullPolicy policy,
                                          const RegistryOptions& options);

/// Resolves FROM: a name or id in the store (short names as the store looks
/// them up), or an `oci:`/`oci-archive:`/`docker-archive:` reference imported
/// first. Errors: not_found naming the image, with a hint.
Result<ResolvedImage> resolve_base_image(const ImageStore& store, const std::string& reference);

}  // namespace kiln
