// The pieces build_image() is made of, shared with the stepwise commands
// (frontend/api/container*.cc) so `kiln bud` and `kiln run/copy/commit` solve
// and store images through one code path (STYLE.md F3). Internal to
// frontend/api: not installed, not part of the public API.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cache/key_index.h"
#include "cache/store.h"
#include "frontend/api/build.h"
#include "solver/ops/runner.h"
#include "solver/solve.h"

namespace kiln::detail {

/// Full store names for tags (short names get localhost/). Errors:
/// invalid_input for a malformed name or one with a digest.
Result<std::vector<std::string>> image_names(const std::vector<std::string>& tags);

/// The BuildRunner settings of a solve: storage driver (probed unless
/// config names one), layer compression and timestamps, where RUN output
/// goes, seccomp, single-id chown policy. Errors: invalid_input for an
/// unknown storage driver, sandbox when none works.
Result<solver::ops::RunnerConfig> runner_config(const cache::Store& store, const BuildConfig& config);

struct SolvedGraph {
  BuildState::Graph graph;       ///< what was solved (state.graph())
  solver::SolveResult result;    ///< per op of graph.definition
  int steps_run = 0;             ///< RUN/COPY/WORKDIR ops executed
  int steps_cached = 0;          ///< ... taken from the cache
};

class BuildCache;

/// Solves state.graph() with `runner` and `keys` (the caller holds the
/// store's write hold), reporting progress through config.on_event; through
/// `build_cache` (remote_cache.h: --cache-from blobs fetched, a rejected
/// import retried without it) when not null. Errors: the failing op's error,
/// wrapped with its origin.
Result<SolvedGraph> solve_graph(const BuildState& state, solver::OpRunner& runner, cache::KeyIndex& keys,
                                const cache::Store& store, const BuildConfig& config,
                                BuildCache* build_cache = nullptr);

/// Writes the image config and manifest (OCI or Docker media types per
/// config.docker_format) as blobs and records the image under `names` (none:
/// unnamed). The layers' blobs must be in the store.
Result<BuiltImage> store_image(const cache::Store& store, const oci::ImageConfig& cfg,
                               const std::vector<solver::LayerRef>& layers, const BuildConfig& config,
                               const std::vector<std::string>& names,
                               const std::map<std::string, std::string>& annotations);

}  // namespace kiln::detail
