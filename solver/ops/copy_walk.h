// Internal to solver/ops: which source paths a COPY/ADD reads, in which
// order, and where under its target each lands. copy_files() and
// select_context_files() (so the cache key) both use this one walker, so
// what is hashed is exactly what is copied.
//
// Semantics (BuildKit's dockerfile2llb + fsutil copy, see copy_engine.h):
//  - a source is cleaned against "/" (`..` that would leave the root is an
//    error), split at its first component with wildcards; the literal head is
//    resolved in the root (symlinks followed, confined), the tail is matched
//    with Go's filepath.Match against paths below it, in byte order, without
//    following symlinks, not descending into a matched directory;
//  - each match (or the literal source) is followed if it is a symlink
//    (confined) and becomes one item; a directory item copies its contents;
//  - --parents: `pivot/./rest` (or `/` and the whole source) makes the pivot
//    an item whose entries are filtered by `rest` as an include pattern
//    (.dockerignore syntax: a matching directory brings all it holds);
//  - --exclude patterns (.dockerignore syntax) are matched against paths
//    relative to each item; ignore-file patterns against paths relative to
//    the source root, and ignored paths do not exist at all (the build
//    context is what remains after the ignore file);
//  - directories are reported before their entries; a directory that is not
//    selected itself but holds selected entries is reported lazily, just
//    before the first of them.
#pragma once

#include <sys/stat.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "parser/ignore.h"
#include "solver/definition.h"
#include "solver/ops/copy_root.h"
#include "util/result.h"

namespace kiln::solver::ops::detail {

/// One matched source of a COPY/ADD, after wildcards and symlinks.
struct CopyItem {
  std::string source;  ///< the source as written, for messages
  std::string base;    ///< base name of the path as written or matched
  std::string rel;     ///< canonical path in the source root ("" = the root)
  struct stat st {};   ///< lstat of rel
  /// --parents: the entries below rel that are copied (null = all).
  std::shared_ptr<const parser::IgnoreMatcher> include;
  std::string include_prefix;  ///< literal leading components of the include pattern
};

struct WalkEntry {
  std::string rel;       ///< source path relative to the source root
  std::string dest_rel;  ///< relative to the item's target; "" = the item itself
  std::string name;      ///< base name in parent_fd
  int parent_fd = -1;    ///< O_RDONLY fd of the source directory holding name (-1 for a directory item)
  struct stat st {};
};

class WalkVisitor {
 public:
  virtual ~WalkVisitor() = default;
  /// A directory, before its entries; fd is it, opened O_RDONLY. A directory
  /// item comes first, with dest_rel "".
  virtual Result<void> enter_dir(const WalkEntry& e, int fd) = 0;
  /// The same directory after its entries.
  virtual Result<void> leave_dir(const WalkEntry& e, int fd) = 0;
  /// Anything else: file, symlink, device, fifo, socket. A non-directory item
  /// comes with dest_rel "".
  virtual Result<void> leaf(const WalkEntry& e) = 0;
};

class SourceWalker {
 public:
  /// root: the source tree; ignore: ignore-file patterns ({} = none).
  /// Errors: invalid_input for a malformed --exclude or ignore pattern.
  static Result<SourceWalker> create(const RootDir& root, const Copy& spec, const std::vector<std::string>& ignore,
                                     bool is_context);

  /// The items of the spec's sources, in copy order. A wildcard that matches
  /// nothing gives no item (BuildKit). Errors: not_found naming a literal
  /// source that does not exist (or is ignored) or a wildcard whose literal
  /// head is missing; invalid_input for a source outside the root.
  Result<std::vector<CopyItem>> expand() const;

  /// Reports the entries of one item to v, depth first in byte order of
  /// names. Errors: those of v, and syscall/io naming the source path.
  Result<void> walk(const CopyItem& item, WalkVisitor& v) const;

 private:
  SourceWalker() = default;
  struct Info;
  struct Pending;
  Result<std::string> clean_source(const std::string& source) const;
  Result<CopyItem> resolve_item(const std::string& rel, const std::string& source) const;
  Result<void> expand_one(const std::string& source, std::vector<CopyItem>& out) const;
  Result<void> expand_parents(const std::string& source, std::vector<CopyItem>& out) const;
  Result<void> glob(const std::string& head_rel, int head_fd, const std::string& under, const std::string& pattern,
                    size_t depth, const parser::MatchInfo& info, std::vector<std::string>& out) const;
  Result<bool> visible(const std::string& rel, const struct stat& st) const;
  Result<bool> has_visible_descendant(const std::string& rel) const;
  Result<void> walk_dir(const CopyItem& item, std::vector<Pending>& stack, const Info& info, WalkVisitor& v) const;
  Error not_found(const std::string& source, const std::string& matched, bool ignored) const;

  const RootDir* m_root = nullptr;
  std::vector<std::string> m_sources;
  bool m_parents = false;
  bool m_context = false;
  std::shared_ptr<const parser::IgnoreMatcher> m_ignore;   // null = none
  std::shared_ptr<const parser::IgnoreMatcher> m_exclude;  // null = none
};

/// Names in directory fd (no "." and ".."), sorted bytewise. fd is not
/// consumed. Errors: syscall naming `what`.
Result<std::vector<std::string>> list_dir_fd(int fd, const std::string& what);

}  // namespace kiln::solver::ops::detail
