// RUN --mount values as the build API's RunMount (issue 11). The one place
// that applies BuildKit's defaults (dockerfile2llb convert_runmount.go,
// convert_secrets.go, convert_ssh.go), shared by the Dockerfile lowering
// (RUN --mount=...) and the stepwise CLI (`kiln run --mount ...`), so both
// give the same Definition for the same mount:
//  - a relative target is joined to the working directory; `/` is refused;
//  - bind reads `from` (a stage, image or named context; default: the
//    context source below) at `source` ("" = all of it), read-only unless rw;
//  - cache: id defaults to the cleaned target as written; `from` seeds it;
//  - secret: id = id, else source, else the target's base name; target
//    defaults to /run/secrets/<id> unless only env= is given;
//  - ssh: id defaults to "default" (the target to /run/buildkit/ssh_agent.N,
//    filled when the step runs).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "frontend/api/build_state.h"
#include "parser/instructions.h"
#include "util/result.h"

namespace kiln::dockerfile {

struct RunMountContext {
  /// The directory relative targets are joined to (the step's WORKDIR).
  std::string workdir = "/";
  /// The state a `from=` value names (a stage, an image, a named build
  /// context). Needed only when a mount has `from=`.
  std::function<Result<BuildState>(const std::string& from)> resolve_from;
  /// The state a bind mount without `from=` reads: the Dockerfile's main
  /// build context (with its ignore patterns); for `kiln run`, whatever the
  /// caller's context is. Needed only for such bind mounts.
  std::function<Result<BuildState>()> default_source;
};

/// Converts a parsed --mount (parser::Mount) into a RunMount. Errors:
/// invalid_input (a target of `/`, a secret without id, source or target,
/// ssh with source=), and those of the context's callbacks.
Result<RunMount> to_run_mount(const parser::Mount& mount, const RunMountContext& ctx);

/// Parses one --mount value as written on a command line
/// (parser::parse_mount_value: no variable expansion) and converts it. For
/// `kiln run --mount type=cache,target=/root/.cache ...`. Errors: those of
/// both, with the value quoted.
Result<RunMount> parse_run_mount(std::string_view text, const RunMountContext& ctx);

}  // namespace kiln::dockerfile
