// COPY and ADD: placing files from a source tree into a destination root,
// with Docker/BuildKit semantics (Dockerfile reference, COPY and ADD; BuildKit
// dockerfile2llb dispatchCopy and fsutil copy.Copy, which this follows where
// the reference is silent):
//  - each source is a path or a wildcard pattern (Go filepath.Match syntax:
//    `*`, `?`, `[a-z]`, `[^x]`, `\`) relative to the source root; a leading
//    '/' means the same; `..` cannot leave the source root (invalid_input).
//    A literal source that does not exist is a not_found error naming it; a
//    wildcard that matches nothing copies nothing (BuildKit's
//    AllowEmptyWildcard; the classic builder failed instead);
//  - the source path itself is followed if it is a symlink (and so is each
//    wildcard match), confined to the source root: a context symlink to
//    `/etc/passwd` leads to `<context>/etc/passwd`, never the host's. Below a
//    copied directory symlinks are copied as symlinks, never followed;
//  - a directory source copies its contents, not the directory itself; a
//    file goes to dest when dest does not end with '/' and is not an existing
//    directory, else to dest/<basename>; several sources, or a wildcard
//    matching several, need a dest ending with '/' (Docker's rule, error
//    "When using COPY with more than one source file, the destination must be
//    a directory and end with a /", ADD for ADD);
//  - dest is resolved in the destination with its symlinks followed (the
//    last component too), confined to dest_root; a directory source onto an
//    existing non-directory is "cannot copy to non-directory", a file onto an
//    existing directory "cannot replace directory ... with a file"; existing
//    files and symlinks are replaced;
//  - --parents keeps each source's path below the source root, or below a
//    pivot written as `pivot/./rest`; --exclude patterns (.dockerignore
//    syntax, relative to each copied source) drop matches and the contents of
//    matched directories;
//  - .dockerignore (`ignore`, context sources only): ignored paths do not
//    exist for COPY, as in BuildKit's context transfer;
//  - symlinks are copied as symlinks; hard links among copied files stay hard
//    links; devices, fifos and sockets are recreated (devices skipped with a
//    warning where mknod is refused, as rootless);
//  - ownership: with `owner` (--chown), everything copied and every directory
//    created is owned by it; else a build-context source gives 0:0 and
//    another stage's files keep their owners; directories created for dest
//    belong to the copying user (root in kiln's namespace);
//  - --chmod (octal, or symbolic applied like chmod(1): `u+x`, `go-w`,
//    `u=rwX,go=rX`) sets the mode of every file and directory copied (the
//    target directory of a directory source keeps its own); symlinks keep
//    theirs;
//  - access and modification times are kept; a directory source's target
//    directory takes the source directory's times (BuildKit); extended
//    attributes are copied where the filesystem takes them (overlayfs'
//    private `trusted.overlay.*` / `user.overlay.*` never);
//  - missing parent directories of dest are created 0755 (owned by chown);
//  - ADD with unpack: a source that is a tar archive (plain, gzip, bzip2, xz
//    or zstd; a regular file whose first tar header reads) is extracted into
//    dest, which is a directory then, instead of copied. Entries keep the
//    archive's owners, modes and times (--chown and --chmod do not apply, as
//    in BuildKit); an entry whose name or hard link target leaves the
//    extraction directory is an error; symlinks inside the archive resolve
//    inside it.
// Safety (STYLE.md R3): the destination is resolved inside dest_root
// (openat2 RESOLVE_IN_ROOT, or a component walk that confines symlinks
// where openat2 is missing): a symlink in the image pointing at `/etc` or at
// `../../..` leads to dest_root/etc or dest_root, never to the host. The
// source root is read the same way. Entries are created with *at() calls on
// directory fds that never follow the entry's own name.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "solver/definition.h"
#include "util/result.h"

namespace kiln::solver::ops {

/// What copy_files does when it cannot give an entry its owner (an id outside
/// kiln's user namespace, or no privilege to chown): fail naming the entry and
/// the ids, or keep the copying user's ids with one warning (the single-id
/// mode's `ignore_chown_errors`, as layers::OwnershipErrors).
enum class ChownErrors { fail, ignore };

struct CopyRequest {
  std::string src_root;                    ///< the source tree (a context dir or a stage's view)
  bool src_is_context = false;             ///< context files are owned 0:0 unless chown
  std::vector<std::string> ignore;         ///< .dockerignore patterns (context sources only)
  Copy spec;                               ///< sources, dest (absolute), chown, chmod, flags
  std::string dest_root;                   ///< the root the dest path is resolved in
  std::optional<std::pair<uint32_t, uint32_t>> owner;  ///< resolved --chown ids
  ChownErrors chown_errors = ChownErrors::fail;
};

struct CopyStats {
  int64_t files = 0;        ///< regular files written, hard links included
  int64_t directories = 0;  ///< directories created or copied onto
  int64_t symlinks = 0;
  int64_t bytes = 0;        ///< file data written
};

/// Performs the copy. Nothing is written before every source has been found
/// and the multi-source rule checked. Errors: not_found naming a literal
/// source that does not exist; invalid_input for a multi-source copy to a
/// dest without a trailing '/', a source escaping its root, a bad --chmod or
/// --exclude, an unsafe archive entry, or a type clash in dest (naming it);
/// syscall/io naming the file otherwise. On error the destination may hold
/// part of the copy (the caller discards the snapshot).
Result<CopyStats> copy_files(const CopyRequest& request);

/// One path COPY would read from a source tree, in copy order, with what
/// the cache key needs about it (select_context_files).
struct SelectedEntry {
  std::string path;         ///< relative to src_root, '/'-separated (symlinks of the source path resolved)
  /// Where it lands relative to the copy's target: "" for a directory
  /// source itself (its contents land in dest), the base name for a
  /// non-directory source (dest itself when dest is not a directory), the
  /// path below the source (or below the --parents pivot) otherwise.
  std::string dest_path;
  bool source_root = false;  ///< the matched source itself (not an entry below it)
  uint32_t mode = 0;         ///< st_mode of the source, type bits included
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint64_t nlink = 0;
  uint64_t rdev = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  std::string link_target;  ///< symlinks only
};

/// The paths COPY would read from a build context (or any source tree), with
/// the same rules (sources, wildcards, symlinks, .dockerignore, --exclude,
/// --parents) and errors as copy_files, for hashing.
Result<std::vector<SelectedEntry>> select_context_files(const std::string& src_root, const Copy& spec,
                                                        const std::vector<std::string>& ignore);

}  // namespace kiln::solver::ops
