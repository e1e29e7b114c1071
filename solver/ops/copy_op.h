// COPY/ADD as an op: mounts the destination's snapshot, runs the copy
// engine (copy_engine.h) from the source input, commits the layer.
#pragma once

#include "solver/ops/runner_impl.h"

namespace kiln::solver::ops {

Result<OpResult> run_copy(BuildRunner::Impl& impl, const Copy& copy, const Op& op, const Definition& def,
                          const std::vector<const OpResult*>& inputs);

}  // namespace kiln::solver::ops
