// Host paths mounted into one `kiln run` step (buildah run's -v/--volume
// and `--mount type=bind` without from=). The path is handed to the solve
// as a build context of its own (BuildConfig::contexts), never written into
// the Definition, so the step is the same BuildState::run a Dockerfile's
// `RUN --mount=type=bind` makes (STYLE.md F1-F3):
//  - read-only (`--volume SRC:DST:ro`, `--mount type=bind,source=SRC`): the
//    path bound as it is (owners as they map into kiln's namespace); its
//    files are hashed into the step's key like a bud bind mount of the
//    context, and a later command keeps that digest (container pins);
//  - rw `--mount type=bind,rw`: copy-on-write, writes are discarded (BuildKit);
//  - rw `--volume SRC:DST[:rw]` (the default, as in buildah): written through,
//    writes land in the host directory. They are made as the id container
//    root maps to (an ordinary user: that user; root: the start of its
//    subordinate range), so the directory must be writable by that id. Such
//    a step is never taken from the cache (solver::MountSpec::in_place).
// Neither the mount target nor the mounted files enter the container's
// layers: a target that did not exist is removed after the step.
#pragma once

#include <string>
#include <string_view>

#include "frontend/api/build.h"
#include "frontend/api/build_state.h"
#include "util/result.h"

namespace kiln {

/// One `--volume SRC:DST[:OPTIONS]` flag. SRC is a host path (relative: to
/// the current directory), DST an absolute path in the container, OPTIONS a
/// comma-separated list of `ro` and `rw` (default rw, like buildah).
struct VolumeFlag {
  std::string source;
  std::string target;
  bool read_only = false;
};
/// Errors: usage naming the flag (a missing part, a relative DST, an option
/// other than ro/rw).
Result<VolumeFlag> parse_volume_flag(std::string_view text);

/// Points bind mount `mount` at host path `host_path` (a directory or a
/// file; relative: to the current directory): the path becomes build context
/// `context_name` of `config` (a file: its directory, the mount's source its
/// name). Errors: not_found for a missing path, invalid_input for a mount
/// that is not a bind.
Result<void> bind_host_path(RunMount& mount, const std::string& host_path, const std::string& context_name,
                            BuildConfig& config);

/// The mount of a --volume flag (see the top of this file): a bind of the
/// host path at the target, read-only or written through. Errors: those of
/// bind_host_path, syscall when no step token can be drawn.
Result<RunMount> volume_mount(const VolumeFlag& flag, const std::string& context_name, BuildConfig& config);

}  // namespace kiln
