// Planning a sandbox in the parent (STYLE.md S1): validating a SandboxSpec and
// turning it into the fully resolved ChildSpec the helper executes. Internal
// to executor/.
#pragma once

#include <string>
#include <vector>

#include "executor/sandbox.h"
#include "executor/spec_wire.h"

namespace kiln::executor {

/// Validates `spec` and resolves it: checks kiln's namespace and id mapping,
/// rlimits against kiln's own hard limits, compiles seccomp (cached).
/// `trace` asks the child to report each step.
Result<ChildSpec> plan_child(const SandboxSpec& spec, bool trace);

/// Absolute paths inside the rootfs that may receive a mount stub.
std::vector<std::string> mount_targets(const SandboxSpec& spec);

/// The clone flags for the sandbox's namespaces (defaults::k_namespaces plus
/// CLONE_NEWNET unless the network is host).
uint64_t namespace_flags(const SandboxSpec& spec);

}  // namespace kiln::executor
