// Removing the mount-target stubs a sandbox created, so they never reach a
// layer (sandbox.h explains the rules). Parent side; internal to executor/.
#pragma once

#include <sys/stat.h>

#include <map>
#include <string>
#include <vector>

#include "util/result.h"

namespace kiln::executor {

class MountStubCleaner {
 public:
  /// Records, before the run, what the stub root (the overlay upper dir or a
  /// plain rootfs dir) holds at each target and its ancestors. `lowers` are
  /// the overlay's lower dirs (top first; empty for a plain rootfs).
  /// `targets` are absolute paths inside the rootfs.
  static MountStubCleaner prepare(std::string stub_root, std::vector<std::string> lowers,
                                  const std::vector<std::string>& targets);

  /// After the run: removes the stubs the child reported (relative paths,
  /// outermost first as created): empty files and empty directories only,
  /// restoring each parent's timestamps; recreates a whiteout a stub had
  /// replaced; removes ancestor directories that exist in the upper dir only
  /// because a stub was created below them (absent before the run, empty now,
  /// not opaque, same mode and owner as in the lowers). Never follows a
  /// symlink: the rootfs may have been rearranged by the command.
  Result<void> cleanup(const std::vector<std::string>& created) const;

 private:
  struct Before {
    bool exists = false;
    bool whiteout = false;
  };
  std::string m_root;
  std::vector<std::string> m_lowers;
  std::map<std::string, Before> m_before;  // relative path -> state before the run
};

}  // namespace kiln::executor
