// Internal: applying one tar entry at a time to a target root (extract.h
// states the rules).
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "layers/extract.h"
#include "layers/safe_path.h"
#include "layers/xattrs.h"

struct archive;
struct archive_entry;

namespace kiln::layers::detail {

class Applier {
 public:
  Applier(SafeRoot& root, const ExtractOptions& options, ExtractResult& result);
  ~Applier();
  /// Opens the lower dirs (overlay_lower) and installs the parent hook.
  Result<void> init();

  /// Applies the entry `ae` just read from `a` (its data is read here).
  Result<void> apply(struct archive* a, struct archive_entry* ae);
  /// Sets directory modes and mtimes, deepest first (deferred so that
  /// creating children neither changes them nor needs write permission).
  Result<void> finish();

 private:
  struct Meta {  // what an entry says about its inode
    mode_t type = 0;  // S_IFMT bits
    mode_t mode = 0;  // permission bits with setuid/setgid/sticky
    int64_t size = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    struct timespec mtime {};
    Xattrs xattrs;
  };
  struct DeferredDir {
    std::string path;
    mode_t mode;
    struct timespec mtime;
  };

  static Meta meta_of(struct archive_entry* ae);
  Result<void> apply_entry(struct archive* a, struct archive_entry* ae, const std::string& path);
  Result<void> make_room(int pfd, const std::string& name, bool keep_dir);
  Result<void> regular(struct archive* a, int pfd, const std::string& name, const std::string& path, const Meta& m);
  Result<void> directory(int pfd, const std::string& name, const std::string& path, const Meta& m);
  Result<void> symlink(int pfd, const std::string& name, const std::string& path, const char* target,
                       const Meta& m);
  Result<void> special(int pfd, const std::string& name, const std::string& path, const Meta& m, dev_t dev);
  Result<void> hardlink(int pfd, const std::string& name, const std::string& path, const char* raw_target);
  Result<bool> link_from_lower(int pfd, const std::string& name, const std::string& path, const std::string& target);
  Result<void> whiteout(const std::string& parent, const std::string& target);
  Result<void> opaque(const std::string& dir);

  Result<void> own(int fd, int dirfd, const std::string& name, const std::string& path, const Meta& m);
  void set_xattrs(int fd, int dirfd, const std::string& name, const Xattrs& xattrs);
  Result<void> copy_lower_dir_meta(const std::string& rel, int dirfd);
  Result<void> copy_file_data(int from, int to, const std::string& path);

  SafeRoot& m_root;
  const ExtractOptions& m_options;
  ExtractResult& m_result;
  std::vector<std::unique_ptr<SafeRoot>> m_lowers;
  std::unordered_set<std::string> m_written;  // every path this layer put in place
  std::map<std::string, std::string> m_copied_from_lower;  // lower target -> path it was copied to
  std::vector<DeferredDir> m_dirs;
  std::set<std::string> m_warned;  // one warning per kind
};

}  // namespace kiln::layers::detail
