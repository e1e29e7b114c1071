// Lowering a Dockerfile onto the public build API (STYLE.md F2): typed
// instructions from parser/ become BuildState calls, nothing else. ARG/ENV
// expansion happens once per instruction before dispatch (BuildKit's
// dispatch()); a dispatch table maps each instruction family to a handler in
// its own file (lower_run.cc, lower_copy.cc, lower_meta.cc, lower_from.cc).
//
// Semantics follow BuildKit's dockerfile2llb: only the stages the target
// needs are lowered; global ARGs are visible to FROM lines only until a
// stage redeclares them; `FROM stage`, `COPY --from=stage|index|image`;
// ONBUILD triggers of a base image run first in a stage FROM it; ENTRYPOINT
// resets an inherited CMD; WORKDIR is created by a (cached) step; history
// entries carry BuildKit's created_by text.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "frontend/api/build_state.h"
#include "frontend/api/store_api.h"
#include "util/result.h"

namespace kiln::dockerfile {

/// Finds a FROM / COPY --from image (store lookup, local transports, and
/// later registries per the pull policy).
using ImageResolver = std::function<Result<ResolvedImage>(const std::string& reference)>;

struct LowerOptions {
  std::string dockerfile_text;
  std::string dockerfile_name = "Dockerfile";  ///< as given to -f, for errors
  std::map<std::string, std::string> build_args;  ///< --build-arg K=V (already resolved from the env)
  std::string target;                              ///< --target stage ("" = last)
  std::string platform;                            ///< --platform ("" = host); only the host builds
  ImageResolver resolve_image;
  std::vector<std::string> context_ignore;  ///< the context's ignore patterns
  /// --build-context NAME=DIR names (the directories go to BuildConfig) and
  /// NAME=image references (resolved like FROM).
  std::map<std::string, std::string> named_context_dirs;
  std::map<std::string, std::string> named_context_images;
  // Defaults for every RUN (flags of bud).
  solver::NetworkMode network = solver::NetworkMode::host;
  std::vector<std::string> cap_add;
  std::vector<std::string> cap_drop;
  bool no_new_privileges = false;
  std::vector<std::string> extra_hosts;
  std::vector<std::string> ulimits;
  std::map<std::string, std::string> labels;  ///< --label, applied to the final image
};

/// One line of buildah-style progress: "[1/2] STEP 3/7: RUN make".
struct StepInfo {
  int stage_index = 0;      ///< 0-based among the stages built
  int stage_count = 0;
  std::string stage_name;
  int step = 0;             ///< 1-based within the stage (FROM is step 1)
  int step_count = 0;
  std::string text;         ///< "RUN make"
  bool has_op = false;      ///< RUN/COPY/ADD/WORKDIR: reported when its op starts or hits
};

struct LoweredBuild {
  BuildState state;                ///< the target stage
  std::vector<StepInfo> steps;     ///< every instruction of the stages built, in order
  std::vector<std::string> warnings;  ///< unused build args, ignored # syntax, ...
  std::string syntax;              ///< the # syntax= directive ("" when absent)
  /// Build contexts the lowering made (COPY heredoc files): name -> directory,
  /// to add to BuildConfig::contexts. The directories live as long as keep_alive.
  std::map<std::string, std::string> generated_contexts;
  std::vector<std::shared_ptr<void>> keep_alive;
};

/// The context's ignore patterns, chosen like buildah: `ignorefile` when
/// given, else <Dockerfile>.containerignore or <Dockerfile>.dockerignore
/// beside the Dockerfile, else CONTEXT/.containerignore, else
/// CONTEXT/.dockerignore; none -> no patterns. Errors: not_found when an
/// explicit ignorefile is missing; parse errors naming the file.
Result<std::vector<std::string>> load_context_ignore(const std::string& dockerfile_path, const std::string& context_dir,
                                                     const std::string& ignorefile);

/// Parses and lowers. Errors: parse errors (file:line, with the source
/// range); invalid_input for an unknown --target or --from stage, a cycle
/// between stages, a malformed value after expansion; unsupported for
/// features kiln does not have (another --platform); whatever
/// resolve_image returns for a missing base image.
Result<LoweredBuild> lower_dockerfile(const LowerOptions& options);

}  // namespace kiln::dockerfile
