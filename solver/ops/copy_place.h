// Internal to solver/ops: writing walked entries into the destination (the
// WalkVisitor behind copy_files) and the metadata helpers ADD's archive
// extraction shares with it.
#pragma once

#include <sys/stat.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "solver/ops/copy_engine.h"
#include "solver/ops/copy_mode.h"
#include "solver/ops/copy_root.h"
#include "solver/ops/copy_walk.h"

namespace kiln::solver::ops::detail {

/// Warnings given once per copy rather than once per file.
struct CopyWarnings {
  bool chown = false;
  bool xattr = false;
  bool device = false;
};

/// Gives fd (or, with name non-empty, the entry `name` in directory fd, not
/// followed) the owner uid:gid. Refused chowns (EPERM, EINVAL for an id outside
/// the namespace) fail naming `display` unless policy is ignore (one warning).
Result<void> set_owner(int fd, const std::string& name, uint32_t uid, uint32_t gid, const std::string& display,
                       ChownErrors policy, CopyWarnings& warned);

/// Copies extended attributes from src_fd to dst_fd (both regular files or
/// directories), except overlayfs' private ones. Attributes the destination
/// refuses (ENOTSUP, EPERM for security.*) are skipped with one warning.
Result<void> copy_xattrs(int src_fd, int dst_fd, const std::string& display, CopyWarnings& warned);

/// Creates (or, as a last resort for devices refused by the kernel, skips
/// with a warning) a device, fifo or socket node `name` in dirfd.
/// Returns false when skipped.
Result<bool> make_node(int dirfd, const std::string& name, mode_t mode, dev_t rdev, const std::string& display,
                       CopyWarnings& warned);

/// Removes `name` from dirfd so a non-directory can take its place; a
/// directory there is an error ("cannot replace directory ... with a file").
Result<void> clear_for_file(int dirfd, const std::string& name, const std::string& display);

class Placer final : public WalkVisitor {
 public:
  struct Options {
    std::optional<std::pair<uint32_t, uint32_t>> owner;  ///< --chown
    bool src_is_context = false;
    std::optional<ChmodSpec> chmod;
    ChownErrors chown_errors = ChownErrors::fail;
  };

  Placer(const RootDir& dest, Options options, CopyStats& stats, CopyWarnings& warned)
      : m_dest(dest), m_opts(std::move(options)), m_stats(stats), m_warned(warned) {}

  /// The next item is a directory: its entries go into target (an O_RDONLY
  /// fd of it, canonical path target_rel in the destination).
  void set_dir_target(UniqueFd target, std::string target_rel);
  /// The next item is not a directory: it becomes `name` in parent.
  void set_leaf_target(UniqueFd parent, std::string parent_rel, std::string name);

  /// For RootDir::make_dirs: the owner of directories created for dest.
  Result<void> on_created_dir(int fd, const std::string& rel);

  Result<void> enter_dir(const WalkEntry& e, int fd) override;
  Result<void> leave_dir(const WalkEntry& e, int fd) override;
  Result<void> leaf(const WalkEntry& e) override;

 private:
  struct DestDir {
    UniqueFd fd;
    std::string rel;
  };
  std::pair<uint32_t, uint32_t> owner_of(const struct stat& st) const;
  uint32_t mode_of(const struct stat& st) const;
  Result<void> place_file(const WalkEntry& e, int dirfd, const std::string& name, const std::string& rel);
  Result<bool> place_hard_link(const WalkEntry& e, int dirfd, const std::string& name, const std::string& rel);
  Result<void> place_symlink(const WalkEntry& e, int dirfd, const std::string& name, const std::string& rel);
  Result<void> finish_dir(const WalkEntry& e, int src_fd, int dst_fd, const std::string& rel);

  const RootDir& m_dest;
  Options m_opts;
  CopyStats& m_stats;
  CopyWarnings& m_warned;
  std::vector<DestDir> m_dirs;     // the destination directories of the walk's stack
  UniqueFd m_leaf_parent;          // set_leaf_target
  std::string m_leaf_parent_rel;
  std::string m_leaf_name;
  struct FirstCopy {
    std::string rel;  // in the destination
    dev_t dev = 0;
    ino_t ino = 0;
  };
  std::map<std::pair<dev_t, ino_t>, FirstCopy> m_links;  // source inode -> its first copy
};

}  // namespace kiln::solver::ops::detail
