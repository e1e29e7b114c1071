// kiln's own user namespace (DESIGN.md "One user namespace for kiln's own
// work"): the id mapping, entering it by re-executing kiln, and `kiln
// unshare`.
//
// Mapping rules:
// - Ordinary user U (uid u, gid g) with /etc/subuid and /etc/subgid ranges:
//   container 0 -> u, container 1..n -> the subordinate range (first range of
//   U, by name or uid), written by the setuid helpers newuidmap/newgidmap
//   (package `uidmap`).
// - Ordinary user without a range (or without newuidmap/newgidmap): a
//   single-id mapping 0 -> u, 0 -> g, setgroups denied, and a warning that
//   says how to add a range. Only container root exists then: USER 1000 and
//   chown to other ids fail.
// - root: container 0..n-1 -> root's own /etc/subuid (/etc/subgid) entry, or
//   else the documented default range (defaults.h k_root_range_start,
//   k_root_range_count) that overlaps no /etc/subuid or /etc/subgid range and
//   no id in /etc/passwd or /etc/group. Never host 0: a build step never holds
//   host root.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"

namespace kiln::executor {

/// One line of a uid_map/gid_map: container ids [container, container+count)
/// are host ids [host, host+count).
struct IdRange {
  uint32_t container = 0;
  uint32_t host = 0;
  uint32_t count = 0;
  bool operator==(const IdRange&) const = default;
};

enum class MappingMode {
  subordinate,  ///< ordinary user + /etc/subuid ranges via newuidmap/newgidmap
  single_id,    ///< ordinary user without ranges: only container root
  root_range,   ///< invoked as root: a subordinate range, never host 0
};

struct IdMapping {
  MappingMode mode = MappingMode::single_id;
  std::vector<IdRange> uids;
  std::vector<IdRange> gids;
  /// Why the mapping is degraded (single_id) and how to fix it; "" otherwise.
  std::string warning;

  /// Host uid/gid that container root maps to: the owner the store's
  /// directories need so kiln can write them from inside the namespace.
  uint32_t host_root_uid() const;
  uint32_t host_root_gid() const;
  /// Whether container id `id` is mapped.
  bool maps_uid(uint32_t id) const;
  bool maps_gid(uint32_t id) const;
  /// Host id of container id `id`, nullopt when unmapped.
  std::optional<uint32_t> host_uid(uint32_t id) const;
  std::optional<uint32_t> host_gid(uint32_t id) const;
  /// "0 1000 1\n1 100000 65536\n": the uid_map file format.
  static std::string format(const std::vector<IdRange>& ranges);
};

/// One /etc/subuid or /etc/subgid entry.
struct SubordinateRange {
  std::string owner;  ///< user name or numeric uid as written in the file
  uint32_t start = 0;
  uint32_t count = 0;
};

/// Parses /etc/subuid format ("name:start:count" per line; comments and
/// malformed lines skipped).
std::vector<SubordinateRange> parse_subordinate_ids(const std::string& text);

/// Everything compute_id_mapping looks at, so tests can feed fixed inputs.
struct IdMappingInputs {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string user_name;       ///< name of uid in /etc/passwd ("" if none)
  std::string subuid;          ///< contents of /etc/subuid ("" if absent)
  std::string subgid;          ///< contents of /etc/subgid
  std::vector<uint32_t> used_ids;  ///< every uid/gid in /etc/passwd and /etc/group
  bool have_newidmap = true;   ///< newuidmap and newgidmap are installed
};

/// Reads the inputs from the running system (getuid, /etc/passwd, ...).
Result<IdMappingInputs> read_id_mapping_inputs();

/// The mapping kiln uses for these inputs (rules at the top of this file).
/// Errors: invalid_input when root's own /etc/subuid entry maps host 0 or no
/// default range is free.
Result<IdMapping> compute_id_mapping(const IdMappingInputs& inputs);

/// compute_id_mapping(read_id_mapping_inputs()): what kiln would use now.
Result<IdMapping> compute_id_mapping();

/// True when this process runs inside kiln's user namespace (entered by
/// enter_user_namespace, here or in an ancestor such as `kiln unshare`).
bool in_kiln_namespace();

/// The mapping in use inside kiln's namespace, read from /proc/self/uid_map
/// and gid_map. Errors: invalid_input when not inside kiln's namespace.
Result<IdMapping> current_id_mapping();

/// Enters kiln's namespace. Outside it: computes the mapping and splits into
/// two processes. The child gets a new user + mount namespace with that
/// mapping, becomes container root and carries on; the parent forwards
/// SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH to it and
/// exits with its status (re-raising its fatal signal): it never returns.
/// A single-threaded caller is forked (fork + unshare(2)), so the child
/// returns OK with everything the caller had in memory and open; stdio
/// buffers are flushed first. When threads already run (or the environment
/// has KILN_USERNS_REEXEC set), the child instead re-executes
/// /proc/self/exe with the same argv and the environment plus a marker, and
/// the command starts over inside. Inside the namespace: returns OK at once.
/// Call it early, before starting threads.
/// Errors (outside only): sandbox with a hint when user namespaces are
/// disabled, newuidmap/newgidmap fail, or /proc/self/exe cannot be run.
Result<void> enter_user_namespace(int argc, char** argv);

/// `kiln unshare -- CMD...`: replaces this process with CMD (PATH lookup;
/// empty cmd = $SHELL or /bin/sh) inside kiln's namespace, with the
/// environment variables buildah unshare sets for scripts
/// (KILN_UNSHARE=1 plus the marker). Call after enter_user_namespace.
/// Returns only on error (not_found for an unknown command, invalid_input
/// when not inside the namespace); the exit status of CMD is that of kiln's
/// outer process because CMD replaces the inner one.
Result<void> exec_in_namespace(const std::vector<std::string>& cmd);

/// Name of the environment variable marking kiln's namespace.
inline constexpr const char* k_userns_env = "_KILN_USERNS_CONFIGURED";

}  // namespace kiln::executor
