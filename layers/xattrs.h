// Internal: reading and writing extended attributes of layer entries, and the
// rules for which ones belong in a layer.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.h"

namespace kiln::layers::detail {

using Xattrs = std::vector<std::pair<std::string, std::string>>;  // sorted by name

/// True for overlayfs' private attributes (`trusted.overlay.*`,
/// `user.overlay.*`): they describe the snapshot, not the file, and must never
/// enter a layer nor be restored from one (a crafted layer could otherwise
/// fake opaque dirs or redirects in kiln's overlay lower dirs).
bool is_overlay_xattr(std::string_view name);

/// True for attributes written into layers: everything except overlay's and
/// the host's SELinux label (`security.selinux`, host-specific, as
/// containers/storage and Docker leave it out).
bool is_layer_xattr(std::string_view name);

/// The attributes of an open file, sorted by name. Filesystems without xattr
/// support give an empty list.
Result<Xattrs> read_xattrs_fd(int fd);
/// The attributes of `name` in directory `dirfd` without following a symlink
/// (for symlinks and special files, which cannot be opened for reading).
Result<Xattrs> read_xattrs_at(int dirfd, const std::string& name);
/// One attribute's value of an open file, or nullopt when absent.
Result<std::optional<std::string>> get_xattr_fd(int fd, const char* name);

/// Sets an attribute on an open file / on `name` in `dirfd` without following
/// a symlink. Returns the errno on failure (0 on success) so callers decide
/// which failures are warnings.
int set_xattr_fd(int fd, const std::string& name, std::string_view value);
int set_xattr_at(int dirfd, const std::string& name, const std::string& attr, std::string_view value);

}  // namespace kiln::layers::detail
