// The sandbox's default security policy, in one place (STYLE.md S5): the
// namespaces, the default capability set, Docker's masked and read-only
// /proc and /sys paths, the /dev contents, the default seccomp policy and the
// documented id range kiln uses for root. A reviewer reads defaults.cc to see
// the whole policy; code elsewhere only iterates these tables.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string_view>

namespace kiln::executor::defaults {

/// A namespace every sandbox gets (CLONE_NEW*), with its name for logs.
struct NamespaceInfo {
  uint64_t clone_flag;
  const char* name;
};
/// mount, pid, ipc, uts. A net namespace is added unless the network mode is
/// host. No user namespace: sandboxes live in kiln's (DESIGN.md).
extern const std::span<const NamespaceInfo> k_namespaces;

/// BuildKit's default capabilities (14; the same set as containerd's and
/// Docker's defaults minus nothing): CHOWN, DAC_OVERRIDE, FSETID, FOWNER,
/// MKNOD, NET_RAW, SETGID, SETUID, SETFCAP, SETPCAP, NET_BIND_SERVICE,
/// SYS_CHROOT, KILL, AUDIT_WRITE.
extern const std::span<const int> k_capabilities;

/// Docker's masked paths (moby oci/defaults.go): files get /dev/null bound
/// over them, directories an empty read-only tmpfs.
extern const std::span<const char* const> k_masked_paths;
/// Docker's read-only paths: bound read-only onto themselves.
extern const std::span<const char* const> k_readonly_paths;

/// Host device nodes bound into the sandbox's /dev tmpfs.
extern const std::span<const char* const> k_devices;

struct DevSymlink {
  const char* name;    ///< below /dev
  const char* target;
};
extern const std::span<const DevSymlink> k_dev_symlinks;

inline constexpr uint64_t k_dev_tmpfs_size = 64ull << 20;     ///< /dev (only nodes and links)
inline constexpr uint64_t k_shm_tmpfs_size = 64ull << 20;     ///< /dev/shm, Docker's default
inline constexpr const char* k_default_path =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
inline constexpr const char* k_default_hostname = "kiln";

/// Container ids get this many subordinate ids when invoked as root and
/// /etc/subuid has no entry for root (65536: ids 0..65535, nobody included).
inline constexpr uint32_t k_root_range_count = 65536;
/// Where kiln looks for that range when invoked as root without a root entry
/// in /etc/subuid: the first block of k_root_range_count ids at or above this
/// start, in steps of k_root_range_count, that overlaps no range in
/// /etc/subuid or /etc/subgid and no id in /etc/passwd or /etc/group. useradd
/// hands out ranges from 100000 to 600100000 (Debian's SUB_UID_MAX), so the
/// first candidate is free on a normal system and stays stable.
inline constexpr uint32_t k_root_range_start = 1000000000;

// ---- seccomp: Docker's default profile (moby profiles/seccomp/default.json) --

enum class SeccompAction { allow, errno_enosys };

/// One argument comparison of a conditional rule.
struct SeccompArg {
  enum class Op { eq, ne, masked_eq };
  unsigned index;
  Op op;
  uint64_t value;  ///< masked_eq: (arg & value) == value_two
  uint64_t value_two;
};

/// One rule: `names` get `action` when the conditions hold. requires_cap /
/// excludes_cap (-1 = none) make the rule depend on the sandbox's capability
/// set, as Docker's "includes/excludes caps" do. Several args in one rule are
/// ANDed; several rules for one name are ORed (libseccomp semantics).
struct SeccompRule {
  std::span<const char* const> names;
  SeccompAction action;
  int requires_cap;
  int excludes_cap;
  std::span<const SeccompArg> args;
};

/// Default action for everything not matched: fail with EPERM (errno 1).
inline constexpr int k_seccomp_default_errno = 1;
extern const std::span<const SeccompRule> k_seccomp_rules;

/// Resource names for --ulimit (Docker's names: "nofile", "nproc", ...).
struct RlimitName {
  const char* name;
  int resource;
};
extern const std::span<const RlimitName> k_rlimit_names;

}  // namespace kiln::executor::defaults
