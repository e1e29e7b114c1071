// Working containers: stepwise builds (`kiln from/run/copy/add/config/commit`,
// buildah's model) on the same code path as `kiln bud` (STYLE.md F1-F3).
//
// A working container is a record in the store (frontend/api/container_record.h
// documents the format) holding a BuildState: each `run`/`copy` derives the
// next state with the same BuildState call a Dockerfile step makes and solves
// it at once (same solver, same BuildRunner, same cache keys as `kiln bud`),
// so `kiln copy c f /f` and a Dockerfile's `COPY f /f` give the same cache key
// and the same layer. `config` changes only the image config. `commit` turns
// everything changed since the last commit into ONE new layer (the diff of
// the two merged views; a single step's layer is used as it is) and stores
// the image.
//
// Every change holds the container's lock (a second command on the same
// container waits) and writes the record atomically after the step
// succeeded: a failed `run` (non-zero exit), a missing COPY source or a
// killed kiln leave the container as it was. Functions that solve, commit or
// mount must run inside kiln's user namespace (open_store_in_namespace).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "frontend/api/build.h"
#include "frontend/api/build_state.h"
#include "frontend/api/registry_api.h"
#include "frontend/api/store_api.h"
#include "util/result.h"

namespace kiln {

/// A working container as `kiln containers` shows it.
struct ContainerInfo {
  std::string name;
  std::string id;           ///< 64 hex digits (random)
  std::string image;        ///< base image name ("scratch"; its id when unnamed)
  std::string image_id;     ///< "sha256:..." config digest ("" for scratch)
  std::string created;      ///< RFC 3339
  std::string mount_point;  ///< where `kiln mount` mounted it in this mount namespace ("" = not mounted here)
  int commits = 0;          ///< images committed from it so far
};

struct FromOptions {
  std::string name;                        ///< --name; "" = IMAGE-working-container, numbered on clashes
  PullPolicy pull = PullPolicy::missing;   ///< --pull
  RegistryOptions registry;
  std::string platform;                    ///< "" = this machine's
};

/// `kiln from IMAGE|scratch`: makes the base image present (ensure_image with
/// the pull policy) and records a new working container on it. Does not
/// extract anything. Errors: whatever ensure_image returns (not_found for an
/// unknown image), invalid_input for a bad or taken --name.
Result<ContainerInfo> create_container(const ImageStore& store, const std::string& image, const FromOptions& options);

/// All working containers, sorted by name.
Result<std::vector<ContainerInfo>> list_containers(const ImageStore& store);
/// `kiln containers --json`: [{"id","builder":true,"imageid","imagename",
/// "containername","created","mountpoint","commits"}], indented (buildah's keys).
std::string containers_to_json(const std::vector<ContainerInfo>& containers);

/// `kiln inspect --type container`: {"Type":"kiln 1","name","id","created",
/// "image":{"name","id","manifest"}|null,"mountpoint","commits","config":{OCI
/// image config as it would be committed, history included},
/// "definition":{BuildState::to_definition()}} (two-space indented).
/// Errors: not_found for an unknown container.
Result<std::string> inspect_container_json(const ImageStore& store, const std::string& name);

/// The container's current state (for `copy --from CONTAINER`, and for
/// programs that want to inspect it). Errors: not_found.
Result<BuildState> container_state(const ImageStore& store, const std::string& name);

/// Derives the next state from the container's current one (a BuildState
/// call: run, copy, with_env ...). May fail (bad flag values).
using ContainerStep = std::function<Result<BuildState>(const BuildState& current)>;

/// `kiln run|copy|add`: applies `step` and solves the new state right away
/// (steps the cache has are not run again; RUN output goes to
/// config.step_stdout_fd / step_output_fd), then records it. The base image
/// must still be in the store. Errors: not_found (no such container, base
/// image removed, COPY source missing), failed_step carrying the command's
/// exit status, and every solve error; the container is unchanged then.
Result<SolvedState> apply_container_step(const ImageStore& store, const std::string& name, const ContainerStep& step,
                                         const BuildConfig& config);

/// What `kiln config` records besides the image config.
struct ContainerConfigOptions {
  /// Replaces the history text of the next commit's layer (buildah `config --created-by`).
  std::optional<std::string> created_by;
  /// Manifest annotations for every later commit (`--annotation K=V`; `K-` removes K).
  std::vector<std::string> annotations;
};

/// `kiln config`: applies a config-only `step` (no solve). Errors:
/// not_found; usage for a malformed annotation; the step's own error.
Result<void> configure_container(const ImageStore& store, const std::string& name, const ContainerStep& step,
                                 const ContainerConfigOptions& options = {});

struct ContainerCommitOptions {
  std::vector<std::string> tags;                   ///< IMAGE names (none: an unnamed image)
  std::map<std::string, std::string> annotations;  ///< manifest annotations
  bool squash = false;   ///< --squash: ONE layer for the whole filesystem, base image included
  bool remove = false;   ///< --rm: remove the container after committing
};

/// `kiln commit`: one new layer for everything the container changed since
/// its last commit (from `from` for the first), on top of the last commit's
/// layers; a history entry for every run/copy/config since then (the last
/// layer step's entry owns the layer); the current config. Stores and names
/// the image; the container then continues from it. With
/// config.source_date_epoch the created times are that and layers are
/// reproducible: a container with one `copy` gives the layer the
/// Dockerfile's COPY gives. Errors: not_found (container, or its base image
/// was removed from the store: nothing is written then), solve and store
/// errors.
Result<BuiltImage> commit_container(const ImageStore& store, const std::string& name,
                                    const ContainerCommitOptions& options, const BuildConfig& config);

/// `kiln rm`: removes the container's record and directory (unmounting its
/// view in this mount namespace first); its images stay. Errors: not_found.
Result<void> remove_container(const ImageStore& store, const std::string& name);

/// `kiln mount`: mounts a read-only merged view of the container's
/// filesystem at ROOT/kiln/containers/<name>/merged and returns that path.
/// The mount belongs to the caller's mount namespace and outlives the kiln
/// process: run it inside `kiln unshare` (whose shell keeps the namespace),
/// like `buildah mount`. Read-only because a container's filesystem is its
/// steps: change it with `kiln run` / `kiln copy`. It shows the filesystem
/// as of the mount (later steps: umount and mount again). Mounting a mounted
/// container returns the same path. Errors: invalid_input outside kiln's
/// namespace (with a hint), not_found.
Result<std::string> mount_container(const ImageStore& store, const std::string& name, const BuildConfig& config);
/// `kiln umount`: unmounts the view (no-op when not mounted here).
Result<void> unmount_container(const ImageStore& store, const std::string& name);

// Values of `kiln config` flags.

/// A `--cmd` / `--entrypoint` value: a JSON array of strings is the exec form;
/// other text is the shell form, run by `shell` (the image's SHELL; empty:
/// /bin/sh -c). Errors: invalid_input for text starting with `[` that is not
/// a JSON array of strings.
Result<std::vector<std::string>> parse_command_value(const std::string& text, const std::vector<std::string>& shell);
/// A command as history entries show it: a compact JSON array.
std::string format_command_value(const std::vector<std::string>& args);

}  // namespace kiln
