// RUN --mount (issue 11): an Exec's MountSpecs turned into the sandbox's
// mounts, with BuildKit's options and semantics (Dockerfile reference, RUN
// --mount; BuildKit dockerfile2llb convert_runmount.go, convert_secrets.go,
// convert_ssh.go). Internal to solver/ops; exec_op.cc calls it.
//
//  bind    the `from` input's filesystem (a stage, an image or a build
//          context; the main context by default) at `source` ("/" = all of
//          it). Read-only, or with rw copy-on-write: an overlay with a
//          throw-away upper dir (or, with the vfs/fuse-overlayfs drivers or a
//          file source, a throw-away copy), so writes never reach the source.
//          A build context is bound as is when no ignore patterns apply and
//          its owner is mapped in kiln's namespace, else as a copy honouring
//          .dockerignore with files owned 0:0 (what BuildKit transfers).
//          `in_place` (kiln run's host paths): the context bound as it is,
//          read-only or rw with writes reaching it (definition.h).
//  cache   a directory of the store (cache/cache_mounts.h) keyed by id
//          (default: the target), seed (`from` + `source`) and owner
//          (uid/gid/mode of a new cache's top directory, default 0:0 0755);
//          sharing shared|private|locked; ro. Without `from`, `source` is a
//          subdirectory of the cache (created when missing). Persists across
//          builds and --no-cache; never in a layer or a key.
//  tmpfs   a fresh tmpfs, `size` bytes (0 = kernel default).
//  secret  RunnerConfig::secrets by id: a file on the sandbox's /dev tmpfs
//          (mode default 0400, uid/gid default 0) at target, and/or the
//          environment variable `env`. A missing secret is an error naming
//          the id when required, else the mount is skipped. At most 500 KiB
//          (BuildKit's limit).
//  ssh     RunnerConfig::ssh_sockets by id (default "default"): a relay socket
//          of this step's own (mode default 0600, uid/gid default 0) at target
//          (default /run/buildkit/ssh_agent.N), forwarding to the agent;
//          SSH_AUTH_SOCK points at the first one unless the step sets it.
// Every source path is resolved inside its root by the sandbox child
// (executor MountSpec::source_root: RESOLVE_IN_ROOT), so a symlink in a stage,
// a context or a cache, even one swapped in by a concurrent step, cannot lead
// outside it (CVE-2024-1753, CVE-2024-23651, CVE-2024-11218). Targets are
// made absolute against the working directory, and mounts are applied
// parents first (sorted by depth), as BuildKit does.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cache/cache_mounts.h"
#include "executor/sandbox.h"
#include "solver/ops/runner_impl.h"
#include "util/socket_forward.h"

namespace kiln::solver::ops {

/// What one RUN step's mounts need while it runs. Destroying it releases the
/// cache locks and stops the ssh relays.
struct PreparedMounts {
  std::vector<executor::MountSpec> mounts;  ///< in application order
  std::vector<std::string> env;             ///< K=V to add (secret env, SSH_AUTH_SOCK)
  std::vector<cache::CacheLease> leases;
  std::vector<std::unique_ptr<SocketForwarder>> relays;
};

/// Prepares every mount of `exec` (op `op` of `def`, run on `inputs`).
/// `step_env` is the step's environment (for SSH_AUTH_SOCK). Errors:
/// invalid_input for a bad target or option, not_found for a required
/// secret or ssh agent that was not given (naming its id), the store's
/// errors for cache dirs.
Result<PreparedMounts> prepare_run_mounts(BuildRunner::Impl& impl, const Exec& exec, const Op& op,
                                          const Definition& def, const std::vector<const OpResult*>& inputs,
                                          const std::vector<std::string>& step_env);

/// BuildKit's limit on a secret's size (500 KiB).
inline constexpr size_t k_max_secret_bytes = 500 * 1024;

}  // namespace kiln::solver::ops
