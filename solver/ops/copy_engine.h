// COPY and ADD: placing files from a source tree into a destination root,
// with Docker/BuildKit semantics (Dockerfile reference, COPY and ADD):
//  - each source is a path or a wildcard pattern (Go filepath.Match syntax)
//    relative to the source root; a leading '/' means the same; `..` cannot
//    leave the source root; a source that matches nothing is an error naming
//    it (a wildcard that matches nothing is an error too, as in BuildKit);
//  - a directory source copies its contents, not the directory itself
//    (unless --parents); a file goes to dest when dest does not end with '/'
//    and is not an existing directory, else to dest/<basename>; several
//    sources (or a wildcard) need a directory dest ending with '/';
//  - --parents keeps each source's path below the source root;
//    --exclude patterns drop matches (and the contents of matched dirs);
//  - symlinks are copied as symlinks (never followed, except a source path's
//    own parents); hard links among copied files stay hard links;
//  - ownership: with chown, everything copied and every directory created is
//    owned by it; else a build-context source gives 0:0 and another stage's
//    files keep their owners; --chmod (octal or symbolic, applied like chmod(1))
//    sets the mode of files and directories copied; mtimes are kept;
//  - missing parent directories of dest are created 0755 (owned by chown);
//  - ADD with unpack: a local source that is a tar archive (plain, gzip,
//    bzip2, xz, zstd) is extracted into dest instead of copied.
// Safety (STYLE.md R3): the destination is resolved inside dest_root
// (openat2 RESOLVE_IN_ROOT): a symlink in the image pointing at `/etc` leads
// to dest_root/etc, never to the host; the source root is read the same way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "solver/definition.h"
#include "util/result.h"

namespace kiln::solver::ops {

struct CopyRequest {
  std::string src_root;                    ///< the source tree (a context dir or a stage's view)
  bool src_is_context = false;             ///< context files are owned 0:0 unless chown
  std::vector<std::string> ignore;         ///< .dockerignore patterns (context sources only)
  Copy spec;                               ///< sources, dest (absolute), chown, chmod, flags
  std::string dest_root;                   ///< the root the dest path is resolved in
  std::optional<std::pair<uint32_t, uint32_t>> owner;  ///< resolved --chown ids
};

struct CopyStats {
  int64_t files = 0;
  int64_t directories = 0;
  int64_t symlinks = 0;
  int64_t bytes = 0;
};

/// Performs the copy. Errors: not_found naming a source that matches
/// nothing; invalid_input for a multi-source copy to a non-directory dest or
/// a source escaping its root; io/syscall naming the file otherwise.
Result<CopyStats> copy_files(const CopyRequest& request);

/// The paths COPY would read from a build context, with the same rules
/// (sources, wildcards, .dockerignore, --exclude, --parents), for hashing.
/// Each entry: path relative to the context root, and whether it is the
/// root of a source (so a directory's name vs contents distinction is
/// kept in the digest).
struct SelectedEntry {
  std::string path;       ///< relative to src_root, '/'-separated
  std::string dest_path;  ///< where it lands, relative to the copy's target
};
Result<std::vector<SelectedEntry>> select_context_files(const std::string& src_root, const Copy& spec,
                                                        const std::vector<std::string>& ignore);

}  // namespace kiln::solver::ops
