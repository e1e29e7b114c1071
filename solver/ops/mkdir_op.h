// WORKDIR's directory as an op.
#pragma once

#include "solver/ops/runner_impl.h"

namespace kiln::solver::ops {

/// Creates mkdir.path (and missing parents, 0755, owned by mkdir.user) in
/// inputs[0]'s filesystem, resolving every component inside the root
/// (RESOLVE_IN_ROOT): a symlink in the image cannot lead outside.
Result<OpResult> run_mkdir(BuildRunner::Impl& impl, const Mkdir& mkdir, const std::vector<const OpResult*>& inputs);

/// mkdir -p of `path` (absolute, inside root_dir), new directories owned by
/// uid:gid. Used by run_mkdir; exposed for tests.
Result<void> make_dirs_in_root(const std::string& root_dir, const std::string& path, uint32_t uid, uint32_t gid);

}  // namespace kiln::solver::ops
