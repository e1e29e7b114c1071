// RUN: one command in the executor's sandbox over the parent's filesystem.
#pragma once

#include "solver/ops/runner_impl.h"

namespace kiln::solver::ops {

/// Runs `exec` over inputs[0]'s filesystem and returns the parent chain plus
/// the new layer. A non-zero exit is a failed_step error carrying the exit
/// status: `process "/bin/sh -c make" did not complete successfully: exit code: 2`.
Result<OpResult> run_exec(BuildRunner::Impl& impl, const Exec& exec, const Op& op, const Definition& def,
                          const std::vector<const OpResult*>& inputs, const CancelToken& cancel);

}  // namespace kiln::solver::ops
