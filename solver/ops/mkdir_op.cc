#include "solver/ops/mkdir_op.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "executor/user.h"
#include "solver/ops/snapshot.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::solver::ops {

namespace {

int open_in_root(int root_fd, const std::string& rel) {
  struct open_how how {};
  how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(::syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof how));
}

}  // namespace

Result<void> make_dirs_in_root(const std::string& root_dir, const std::string& path, uint32_t uid, uint32_t gid) {
  KILN_TRY_ASSIGN(UniqueFd root, open_file(root_dir, O_RDONLY | O_DIRECTORY));
  std::string clean = path_clean(path);
  std::string prefix;
  UniqueFd parent(::fcntl(root.get(), F_DUPFD_CLOEXEC, 0));
  for (const auto& comp : split(clean, '/')) {
    if (comp.empty()) {
      continue;
    }
    prefix = prefix.empty() ? comp : prefix + "/" + comp;
    int fd = open_in_root(root.get(), prefix);
    if (fd < 0 && errno == ENOENT) {
      if (::mkdirat(parent.get(), comp.c_str(), 0755) != 0 && errno != EEXIST) {
        return Error::from_errno(cat("create directory `/", prefix, "`"));
      }
      if (::fchownat(parent.get(), comp.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
        return Error::from_errno(cat("chown directory `/", prefix, "` to ", uid, ":", gid));
      }
      fd = open_in_root(root.get(), prefix);
    }
    if (fd < 0) {
      return Error::from_errno(cat("open directory `/", prefix, "`"));
    }
    parent.reset(fd);
  }
  return {};
}

Result<OpResult> run_mkdir(BuildRunner::Impl& impl, const Mkdir& m, const std::vector<const OpResult*>& inputs) {
  const OpResult& parent = *inputs.at(0);
  KILN_TRY_ASSIGN(Snapshot snap, prepare_snapshot(impl, parent.layers, true));
  KILN_TRY_ASSIGN(executor::ResolvedUser user, executor::resolve_user(snap.lowers, m.user.empty() ? "0" : m.user));
  executor::UniqueMount mount;
  KILN_TRY_ASSIGN(std::string root, mount_snapshot(snap, mount));
  KILN_TRY(make_dirs_in_root(root, m.path, user.uid, user.gid));
  KILN_TRY(mount.unmount());
  OpResult r;
  r.layers = parent.layers;
  KILN_TRY_ASSIGN(r.new_layer, commit_snapshot(impl, snap));
  if (r.new_layer) {
    r.layers.push_back(*r.new_layer);
  }
  return r;
}

}  // namespace kiln::solver::ops
