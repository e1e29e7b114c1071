// Content digests of build-context files for COPY/ADD cache keys (DESIGN.md
// "Cache keys are content-addressed"). A file is hashed once per (device,
// inode, size, mtime, ctime) and remembered in the store
// (ROOT/kiln/cache/context-hashes.json), so an unchanged context is not
// re-read; ctime is in the tuple because a rewrite that restores size and
// mtime still changes it. Hashing of new files runs on several threads.
#pragma once

#include <string>
#include <vector>

#include "solver/definition.h"
#include "solver/ops/copy_engine.h"

namespace kiln::solver::ops {

class ContextHasher {
 public:
  /// state_file: where remembered file digests live ("" = memory only).
  explicit ContextHasher(std::string state_file);
  ~ContextHasher();
  ContextHasher(const ContextHasher&) = delete;
  ContextHasher& operator=(const ContextHasher&) = delete;

  /// "sha256:<hex>" over the selected entries: for each, in order, its
  /// destination path, type, mode (after --chmod), owner (after --chown, or
  /// 0:0), link target and file content digest; never mtimes or the context's
  /// own path. `listing` receives "path sha256:..." lines for explanations.
  Result<std::string> digest(const std::string& src_root, const Copy& spec, const std::vector<std::string>& ignore,
                             std::vector<std::string>* listing);

  /// Writes remembered digests back to the state file (atomically).
  Result<void> save();

  struct Impl;

 private:
  std::unique_ptr<Impl> m_impl;
};

}  // namespace kiln::solver::ops
