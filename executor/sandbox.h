// The RUN sandbox: one command in new mount, pid, ipc, uts (and, unless the
// network mode is host, net) namespaces inside kiln's user namespace, over a
// given rootfs, started as the small static `kiln-sandbox` helper.
//
// Sequence (STYLE.md S2; sandbox_child.cc documents the child's half):
//   parent: validate the spec, compile seccomp (cached), clone3 the helper in
//           the new namespaces, send the resolved ChildSpec      -> sync 1
//   child:  mounts (rootfs, /proc, /dev, /sys, /etc/hosts ...), pivot_root,
//           hostname, rlimits, umask, cwd, capabilities + ids, close fds,
//           seccomp, then reports setup OK                       -> sync 2
//           and execs the command.
//   parent: streams nothing itself (the command writes to the fds in the
//           spec), waits, kills the sandbox's pid 1 on timeout or interrupt
//           (the kernel then kills every process in its pid namespace),
//           removes the mount-target stubs the child had to create, and
//           leaves the unmounting of the sandbox's mount tree to a background
//           thread (wait_for_sandbox_teardown).
//
// Mount stubs: a bind/tmpfs target that does not exist in the rootfs (say
// /etc/resolv.conf in a scratch image) is created by the child. After the run
// the parent removes exactly those stubs from the upper dir (overlay) or the
// rootfs dir, restores the parent directory's timestamps, removes directories
// that exist in the upper dir only because a stub needed them, and recreates
// a whiteout the stub had replaced, so stubs never reach a layer. Entries that
// exist in the lower layers are never touched through the merged view, so
// they are never turned into whiteouts. If kiln itself is killed, the stubs
// stay: such a snapshot is unfinished and must be discarded anyway. A mount
// target that is a dangling symlink in the image is refused (an error naming
// it) rather than followed.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "executor/capabilities.h"
#include "executor/overlay_fs.h"
#include "util/redacted.h"
#include "util/result.h"

namespace kiln::executor {

enum class NetworkMode {
  host,  ///< share kiln's network namespace (default; package installs)
  none,  ///< a new network namespace with only loopback up
};

enum class SeccompMode {
  default_policy,  ///< Docker's default profile (defaults.cc)
  unconfined,      ///< no filter (--security-opt seccomp=unconfined)
};

enum class ReadOnly { no, yes };

/// One extra mount (RUN --mount: the solver turns cache, secret and ssh
/// mounts into binds of directories, files and sockets it prepares, and
/// secret values into `file` mounts).
struct MountSpec {
  enum class Type {
    bind,   ///< a directory or file
    tmpfs,  ///< a fresh tmpfs
    file,   ///< `contents` in a file on the sandbox's /dev tmpfs (memory only)
  };
  Type type = Type::bind;
  /// bind: with source_root empty, an absolute path in kiln's mount
  /// namespace (a path kiln made or the user named, trusted). With
  /// source_root set, a path resolved inside source_root (below).
  std::string source;
  std::string destination;  ///< absolute path inside the rootfs
  ReadOnly read_only = ReadOnly::no;
  uint64_t tmpfs_size = 0;  ///< bytes; 0 = kernel default (half of RAM)
  uint32_t tmpfs_mode = 01777;
  /// bind: "" or an absolute directory `source` is confined to, as if it
  /// were "/": symlinks and `..` stay inside it and magic links are refused.
  /// The sandbox child resolves the source with openat2(RESOLVE_IN_ROOT)
  /// and clones the mount from the resulting fd, so a symlink swapped in at
  /// any time cannot make it reach outside source_root (CVE-2024-1753,
  /// CVE-2024-23651).
  std::string source_root;
  /// bind of a directory, writable and copy-on-write (RUN --mount rw): an
  /// overlay whose only lower dir is the source and whose upper and work
  /// dirs run_sandbox creates in this empty directory (on a filesystem that
  /// takes overlay upper dirs, the store's). Writes land there and are
  /// discarded with it; the source is never written. "" = a plain bind.
  std::string copy_on_write_dir;
  /// file: the bytes (a secret: never logged), and the file's mode and
  /// owner (container ids, mapped in kiln's namespace). The file is bound
  /// read-only over destination and unlinked from /dev, so the command sees
  /// it only there and it never reaches a layer.
  Redacted<std::string> contents;
  uint32_t file_mode = 0400;
  uint32_t file_uid = 0;
  uint32_t file_gid = 0;
};

/// An overlay rootfs, mounted by the sandbox in its own mount namespace only.
struct OverlayRootfs {
  std::vector<std::string> lowers;  ///< layer dirs, top first (seam format, mounts.h)
  std::string upper;                ///< the step's snapshot dir (becomes the layer)
  std::string work;                 ///< overlay work dir, same filesystem as upper
  std::string mountpoint;           ///< an empty dir to mount the merged view on
  /// volatile_upper (default): no overlay syncs; after a clean exit the
  /// work dir's volatile marker is removed again (overlay_fs.h explains).
  Durability durability = Durability::volatile_upper;
};

/// A resource limit (setrlimit). Never above kiln's own hard limit: kiln may
/// lack CAP_SYS_RESOURCE (root on this machine does), so run_sandbox refuses
/// such a limit up front.
struct Rlimit {
  int resource = 0;  ///< RLIMIT_*
  uint64_t soft = 0;
  uint64_t hard = 0;
};

/// Everything one sandbox needs. Plain data (STYLE.md L4): the solver's exec
/// op fills it; run_sandbox resolves nothing from the image itself except the
/// command's PATH lookup inside the rootfs.
struct SandboxSpec {
  /// Exactly one of rootfs_dir (a plain directory, e.g. the vfs driver's copy
  /// or a fuse-overlayfs mount) and overlay.
  std::string rootfs_dir;
  std::optional<OverlayRootfs> overlay;
  std::vector<MountSpec> mounts;  ///< applied in order after /proc, /dev, /sys

  std::vector<std::string> argv;  ///< argv[0] without '/' is looked up in env's PATH
  std::vector<std::string> env;   ///< exact ("K=V"); nothing is added
  std::string cwd = "/";          ///< created (as container root, 0755) if missing
  uint32_t uid = 0;               ///< resolved USER (user.h)
  uint32_t gid = 0;
  std::vector<uint32_t> groups;   ///< supplementary groups

  std::string hostname = "kiln";
  /// Contents bound read-write over /etc/hosts, /etc/resolv.conf and
  /// /etc/hostname (from a tmpfs; never part of the layer); nullopt = leave
  /// the rootfs' file alone.
  std::optional<std::string> hosts;
  std::optional<std::string> resolv_conf;
  std::optional<std::string> etc_hostname;

  NetworkMode network = NetworkMode::host;
  CapabilitySet capabilities = CapabilitySet::buildkit_default();
  SeccompMode seccomp = SeccompMode::default_policy;
  std::string seccomp_cache_dir;  ///< where compiled BPF is cached ("" = memory only)
  bool no_new_privs = false;      ///< --security-opt no-new-privileges
  std::vector<Rlimit> rlimits;
  mode_t umask = 022;

  int stdin_fd = -1;   ///< -1 = /dev/null
  int stdout_fd = 1;
  int stderr_fd = 2;
  unsigned timeout_seconds = 0;  ///< 0 = none; on expiry the sandbox is killed
  /// A file descriptor that becomes readable when the build is cancelled
  /// (another step failed): the sandbox is then killed. -1 = none.
  int cancel_fd = -1;
};

/// Runs the spec and returns the command's exit status (128+N when killed by
/// signal N). Must be called inside kiln's user namespace
/// (enter_user_namespace), from a thread that lives until it returns (the
/// sandbox has PR_SET_PDEATHSIG tied to that thread).
/// Errors: invalid_input for a bad spec (relative paths, empty argv, a limit
/// above kiln's hard limit, an id the mapping lacks); sandbox for setup
/// failures, with context `sandbox step N: <name>` from the child and a hint
/// for known causes; failed_step (exit_status 137) on timeout or interrupt.
Result<int> run_sandbox(const SandboxSpec& spec);

/// The sandbox's mounts are torn down in the background after run_sandbox
/// returns (the upper dir is already complete then; deferred_teardown.h
/// explains). This blocks until that finished for every sandbox over the
/// overlay work dir `work`: the overlay is unmounted and its volatile marker
/// removed. run_sandbox and mount_overlay call it for their own work dir;
/// call it before deleting a work dir's parent filesystem or handing the work
/// dir to another tool.
void wait_for_sandbox_teardown(const std::string& work);

/// Installs SIGINT/SIGTERM/SIGHUP handlers that make every running
/// run_sandbox kill its sandbox and return an error ("interrupted by
/// SIGINT"); interrupted_by() then tells which signal arrived so the CLI can
/// exit 128+N after cleaning up. Without these handlers the signals kill kiln
/// and the kernel kills the sandboxes (parent-death signal + pid namespace):
/// no process is left behind either way.
void install_interrupt_handlers();
/// The first signal caught by the handlers above, 0 when none.
int interrupted_by();

/// Parses a --ulimit value: "nofile=1024:2048" or "nproc=512" (soft = hard),
/// "unlimited" or -1 for RLIM_INFINITY. Errors: invalid_input.
Result<Rlimit> parse_ulimit(std::string_view text);

/// Parses --network / RUN --network: "host", "none", or "default" (= host,
/// kiln's default). Errors: invalid_input naming the accepted values.
Result<NetworkMode> parse_network_mode(std::string_view text);

/// Applies one --security-opt value to spec: "no-new-privileges" (or
/// "no-new-privileges=true|false"), "seccomp=unconfined". Errors:
/// unsupported for other known options (a seccomp profile file, apparmor,
/// label), invalid_input for anything else.
Result<void> apply_security_opt(SandboxSpec& spec, std::string_view opt);

/// Where the helper is: $KILN_SANDBOX_HELPER, else `kiln-sandbox` beside
/// /proc/self/exe. Errors: not_found with a hint naming both.
Result<std::string> sandbox_helper_path();

/// A resolv.conf for the sandbox, BuildKit-style: host network gets the
/// host's /etc/resolv.conf as is; none gets the host's file without
/// nameservers (only loopback exists).
Result<std::string> default_resolv_conf(NetworkMode network);
/// "127.0.0.1 localhost\n::1 localhost ...\n127.0.1.1 <hostname>\n".
std::string default_hosts(const std::string& hostname);

}  // namespace kiln::executor
