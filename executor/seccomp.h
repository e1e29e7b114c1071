// Compiling Docker's default seccomp policy (defaults.cc) to a classic BPF
// program with libseccomp, once per capability set, in the parent (STYLE.md
// S1). The helper only loads the bytes (seccomp(SECCOMP_SET_MODE_FILTER)).
//
// Cache (S6): compiled programs are memoized in the process and, when a cache
// directory is given, stored there as `seccomp-<key>.bpf`, where key is the
// tagged SHA-256 (util Hasher, K2) of the policy table, the capability set,
// the libseccomp version, kiln's version and the architecture. Files are
// written to a temporary name and renamed, so concurrent builds are safe.
#pragma once

#include <string>

#include "executor/capabilities.h"
#include "util/result.h"

namespace kiln::executor {

/// Returns the BPF program (an array of struct sock_filter, as bytes) that
/// enforces Docker's default policy for a process holding `caps`: anything
/// not allowed fails with EPERM, clone3 fails with ENOSYS unless
/// CAP_SYS_ADMIN is held, and capability-dependent syscalls are allowed only
/// with their capability. cache_dir "" = memoize in memory only.
/// Errors: internal when libseccomp refuses the policy, io when the cache
/// directory cannot be written (then the program is still returned: a cache
/// failure is logged and dropped, C7).
Result<std::string> default_seccomp_program(CapabilitySet caps, const std::string& cache_dir = "");

/// The cache key for (policy, caps, libseccomp version, kiln version, arch);
/// exposed for tests.
std::string seccomp_cache_key(CapabilitySet caps);

}  // namespace kiln::executor
