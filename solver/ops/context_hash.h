// Content digests of build-context files for COPY/ADD cache keys (DESIGN.md
// "Cache keys are content-addressed"). A file is hashed once per (device,
// inode, size, mtime, ctime) and remembered in the store
// (ROOT/kiln/cache/context-hashes.json), so an unchanged context is not
// re-read; ctime is in the tuple because a rewrite that restores size and
// mtime still changes it. Hashing of new files runs on several threads.
//
// The digest covers exactly what select_context_files() selects (so what
// copy_files() copies), in copy order. Its composition (K2, tagged and
// length-delimited through util's Hasher, scheme "kiln.copy.context.v1"):
//   for each selected entry:
//     "item" dest_path   (a matched source itself)  |  "path" dest_path (below one)
//     "type"  file | dir | symlink | fifo | socket | char | block
//     "mode"  octal permission bits after --chmod (e.g. "644"; symlinks "777")
//     "owner" the --chown value as written, or "0:0"
//     "sha256" hex content digest (files)   "link" target (symlinks)
//     "hardlink" dest_path of the first copy (later names of a hard-linked file)
//     "rdev" device number (devices)
//   (a matched source that is a directory has only "item" and "type": its
//   contents are copied, its own mode and owner are not)
// Never mtimes, other timestamps, inode numbers or the context's own path.
//
// State file (JSON, one line per entry, replaced atomically by save()):
//   state   = {"version":1,"entries":[entry, ...]}
//   entry   = [dev, ino, size, mtime_ns, ctime_ns, hashed_at_ns, used_s, "<64 hex sha256>"]
// hashed_at_ns is the wall clock when the file was read (a digest is trusted
// only when the file's ctime is at least 100 ms older, see context_memo.h);
// used_s the last day it was used (entries idle for 30 days are dropped). A
// missing, corrupt or other-version file means everything is hashed again.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "solver/definition.h"
#include "solver/ops/copy_engine.h"

namespace kiln::solver::ops {

class ContextHasher {
 public:
  /// state_file: where remembered file digests live ("" = memory only). It
  /// is read on the first digest() call.
  explicit ContextHasher(std::string state_file);
  ~ContextHasher();
  ContextHasher(const ContextHasher&) = delete;
  ContextHasher& operator=(const ContextHasher&) = delete;

  /// "sha256:<hex>" over the selected entries: for each, in order, its
  /// destination path, type, mode (after --chmod), owner (after --chown, or
  /// 0:0), link target and file content digest; never mtimes or the context's
  /// own path. `listing` (may be null) receives one "<source path>
  /// sha256:<hex>" line per entry, the hex covering that entry's fields, so
  /// two listings diff to the files that changed (K3). Thread-safe. Errors:
  /// those of select_context_files, invalid_input for a bad --chmod, io
  /// naming a file that cannot be read.
  Result<std::string> digest(const std::string& src_root, const Copy& spec, const std::vector<std::string>& ignore,
                             std::vector<std::string>* listing);

  /// Writes remembered digests back to the state file (atomically), if any
  /// changed.
  Result<void> save();

  struct Impl;

 private:
  std::unique_ptr<Impl> m_impl;
};

}  // namespace kiln::solver::ops
