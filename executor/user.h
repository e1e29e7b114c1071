// USER resolution against the rootfs' /etc/passwd and /etc/group, with the
// semantics of runc's GetExecUser (which Docker and BuildKit use):
//   ""          -> uid 0, gid from root's passwd entry (0 without one)
//   "name"      -> passwd entry by name (error when absent)
//   "1000"      -> passwd entry by uid, or uid 1000 / gid 0 without one
//   "u:g"       -> user as above, group by name or number; no supplementary
//                  groups (they apply only in the implicit form)
// In the implicit form (no group given) the supplementary groups are every
// group in /etc/group that lists the matched user name as a member. HOME is
// the passwd entry's home, "/" without one.
//
// The files are read through safe path resolution under each layer
// (openat2 RESOLVE_IN_ROOT, safe_path.h), so a symlinked /etc/passwd cannot
// point kiln at a host file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace kiln::executor {

struct ResolvedUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> groups;  ///< supplementary groups (without gid unless listed)
  std::string home = "/";
  std::string name;              ///< passwd name, "" when not found
};

/// Resolves `user` (the USER instruction's value) from passwd/group text.
/// nullopt file contents mean "file absent". Errors: invalid_input naming the
/// user or group ("unable to find user `app`: no matching entries in passwd
/// file"), or a numeric id outside 0..2^31-1.
Result<ResolvedUser> resolve_user_from(std::string_view user, const std::optional<std::string>& passwd,
                                       const std::optional<std::string>& group);

/// Resolves `user` in a rootfs given as layer directories, top first (a
/// plain rootfs directory is one layer; an overlay is upper then lowers).
/// /etc/passwd and /etc/group are looked up as overlayfs would: the first
/// layer holding the file wins; a whiteout of the file or of a parent
/// directory, or an opaque parent directory, hides the layers below.
/// Symlinks are resolved within a layer only.
Result<ResolvedUser> resolve_user(const std::vector<std::string>& layers, std::string_view user);

/// Reads a file from a rootfs given as layers (rules above); nullopt when no
/// layer has it. Exposed for the solver (e.g. reading /etc/os-release).
Result<std::optional<std::string>> read_file_in_layers(const std::vector<std::string>& layers,
                                                       std::string_view path);

/// Appends HOME=<user.home> when env has no HOME (Docker's behaviour).
void add_home_env(std::vector<std::string>& env, const ResolvedUser& user);

}  // namespace kiln::executor
