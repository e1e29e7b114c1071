// Internal to solver/ops: ADD's automatic extraction of local tar archives
// (libarchive), with the semantics of Docker's archive.Untar, which
// BuildKit's file op uses (solver/llbsolver/file/unpack.go).
#pragma once

#include <string>

#include "solver/ops/copy_engine.h"
#include "solver/ops/copy_place.h"
#include "solver/ops/copy_root.h"

namespace kiln::solver::ops::detail {

/// Whether the regular file open at fd is a tar archive, plain or compressed
/// with gzip, bzip2, xz or zstd: its first tar header reads (BuildKit's
/// isArchivePath). Reads from offset 0 and seeks back there. Errors: io when
/// the file cannot be read at all.
Result<bool> is_tar_archive(int fd, const std::string& what);

/// Extracts the tar archive open at fd (from offset 0) into `target`, the
/// extraction directory taken as a root: symlinks from the archive or already
/// there resolve inside it. Entries keep the archive's owners (through
/// `policy`), modes, times and extended attributes; existing entries are
/// replaced except directory onto directory (merged). Devices that cannot be
/// created are skipped with a warning. Errors: invalid_input naming an entry
/// whose name or hard link target leaves the directory; io for a corrupt
/// archive; syscall naming the entry otherwise. `what` names the archive.
Result<void> extract_archive(int fd, const RootDir& target, const std::string& what, ChownErrors policy,
                             CopyStats& stats, CopyWarnings& warned);

}  // namespace kiln::solver::ops::detail
