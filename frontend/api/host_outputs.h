// Files `kiln bud` writes for the invoking user (--iidfile, --output): they
// must land where the user asked, owned by the user (DESIGN.md "One user
// namespace": files exported to the host are chowned back to the invoking
// user).
//
// An ordinary user is container root in kiln's namespace, so the namespace
// writes them in place (exported trees chowned to 0:0 inside = the user).
// Host root is not: container root is an unprivileged subordinate id that
// cannot reach 0700 directories such as /root and would own what it made.
// So for host root, prepare_host_outputs() (called before entering the
// namespace) forks: the child goes on to enter the namespace and build,
// writing each output into a staging directory in the store's tmp dir; the
// parent waits for it and, when it succeeded, moves every staged output to
// its destination owned by root (a directory output is merged into an
// existing directory), removes the staging directory and exits with the
// child's status. The parent forwards SIGINT, SIGTERM, SIGHUP and SIGQUIT.
// Already inside the namespace (`kiln unshare -- kiln bud ...`) outputs are
// written in place, owned by container root's host id.
#pragma once

#include <string>
#include <vector>

#include "util/result.h"

namespace kiln {

class HostOutputs {
 public:
  /// Call before open_store_in_namespace (nothing else may have started
  /// threads), with every destination path the command may write (relative
  /// paths are taken from the current directory) and the --root value. In
  /// the outer process of host root with at least one destination, forks
  /// and the parent never returns (it exits with the build's status).
  /// Errors: io/syscall when the staging directory cannot be made.
  static Result<HostOutputs> prepare(const std::string& store_root, const std::vector<std::string>& destinations);

  /// Where to write the output destined for `destination`: a staging path
  /// (absent yet) when the outer process moves it, else the destination
  /// itself (absolute).
  std::string path_for(const std::string& destination) const;

 private:
  std::string m_staging;  ///< "" = write in place
};

}  // namespace kiln
