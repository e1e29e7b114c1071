// The mount steps of the sandbox setup (sandbox_child.cc lists the order).
// Everything uses the new mount API: a mount is built detached (fsopen +
// fsmount, or open_tree(OPEN_TREE_CLONE)), given its flags with
// mount_setattr, and attached with move_mount onto an O_PATH fd of the target
// resolved under the new root, so no string path under the rootfs is ever
// passed to the kernel (R3).
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "executor/defaults.h"
#include "executor/overlay_fs.h"
#include "executor/safe_path.h"
#include "executor/sandbox_child.h"
#include "executor/syscalls.h"

namespace kiln::executor {

namespace {

enum class TargetKind { dir, file };

std::string q(std::string_view path) { return "`" + std::string(path) + "`"; }

Error mount_error(const std::string& what, int err = errno) { return Error(ErrorCode::sandbox, what, err); }

// Resolves a mount target under the new root, creating it (and missing
// parents) when absent; every creation is recorded as a stub.
Result<UniqueFd> prepare_target(ChildContext& ctx, std::string_view dest, TargetKind kind) {
  auto existing = open_in_root(ctx.root_fd.get(), dest, O_PATH);
  if (existing) {
    return existing;
  }
  if (existing.error().code() != ErrorCode::not_found) {
    return std::move(existing).error();
  }
  std::string rel = relative_in_root(dest);
  if (rel.empty()) {
    return Error(ErrorCode::invalid_input, "mount on the container root " + q(dest));
  }
  if (kind == TargetKind::dir) {
    return make_dirs_in_root(ctx.root_fd.get(), rel, 0755, &ctx.created);
  }
  size_t slash = rel.rfind('/');
  std::string parent = slash == std::string::npos ? "" : rel.substr(0, slash);
  std::string name = slash == std::string::npos ? rel : rel.substr(slash + 1);
  KILN_TRY_ASSIGN(UniqueFd dir, make_dirs_in_root(ctx.root_fd.get(), parent, 0755, &ctx.created));
  // O_PATH fds cannot create; reopen the parent for real (it is resolved).
  int real_dir = ::openat(dir.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (real_dir < 0) {
    return mount_error("open the parent of mount target " + q(dest));
  }
  UniqueFd parent_fd(real_dir);
  int fd = ::openat(parent_fd.get(), name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    // EEXIST here means a dangling symlink: refuse rather than follow it.
    return mount_error("create mount target " + q(dest), errno);
  }
  ::close(fd);
  ctx.created.push_back(rel);
  return open_in_root(ctx.root_fd.get(), rel, O_PATH | O_NOFOLLOW);
}

Result<void> attach(int mount_fd, int target_fd, std::string_view what) {
  if (::move_mount(mount_fd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0) {
    return mount_error("attach " + std::string(what));
  }
  return {};
}

Result<void> set_attrs(int mount_fd, uint64_t attrs, bool recursive, std::string_view what) {
  struct mount_attr attr {};
  attr.attr_set = attrs;
  unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
  if (::mount_setattr(mount_fd, "", flags, &attr, sizeof attr) != 0) {
    return mount_error("set mount flags of " + std::string(what));
  }
  return {};
}

// A detached clone of a host path (bind source).
Result<UniqueFd> clone_tree(int dirfd, const std::string& path, bool recursive) {
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
  if (path.empty()) {
    flags |= AT_EMPTY_PATH;
  }
  int fd = ::open_tree(dirfd, path.c_str(), flags);
  if (fd < 0) {
    return mount_error("clone the mount at " + q(path.empty() ? "<fd>" : path));
  }
  return UniqueFd(fd);
}

struct FsOption {
  const char* key;
  std::string value;  // "" = a flag
};

// A detached new filesystem instance (fsopen + fsconfig + fsmount).
Result<UniqueFd> new_fs(const char* type, const std::vector<FsOption>& options, uint64_t attrs) {
  int fs = ::fsopen(type, FSOPEN_CLOEXEC);
  if (fs < 0) {
    return mount_error(std::string("open a ") + type + " filesystem context");
  }
  UniqueFd fs_fd(fs);
  for (const auto& o : options) {
    int rc = o.value.empty() ? ::fsconfig(fs_fd.get(), FSCONFIG_SET_FLAG, o.key, nullptr, 0)
                             : ::fsconfig(fs_fd.get(), FSCONFIG_SET_STRING, o.key, o.value.c_str(), 0);
    if (rc != 0) {
      return mount_error(std::string("set ") + type + " option `" + o.key + "`");
    }
  }
  if (::fsconfig(fs_fd.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
    return mount_error(std::string("create a ") + type + " filesystem");
  }
  int mnt = ::fsmount(fs_fd.get(), FSMOUNT_CLOEXEC, static_cast<unsigned>(attrs));
  if (mnt < 0) {
    return mount_error(std::string("mount a ") + type + " filesystem");
  }
  return UniqueFd(mnt);
}

std::string octal(uint32_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%o", mode);
  return buf;
}

Result<void> bind_host_file(int dev_dir, const char* name, const char* host_path) {
  int fd = ::openat(dev_dir, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0) {
    return mount_error(std::string("create /dev/") + name);
  }
  ::close(fd);
  KILN_TRY_ASSIGN(UniqueFd src, clone_tree(AT_FDCWD, host_path, false));
  int target = ::openat(dev_dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (target < 0) {
    return mount_error(std::string("open /dev/") + name);
  }
  UniqueFd target_fd(target);
  return attach(src.get(), target_fd.get(), q(host_path));
}

Result<void> mount_fs_at_dev(int dev_dir, const char* name, const char* type, const std::vector<FsOption>& options,
                             uint64_t attrs) {
  if (::mkdirat(dev_dir, name, 0755) != 0 && errno != EEXIST) {
    return mount_error(std::string("create /dev/") + name);
  }
  KILN_TRY_ASSIGN(UniqueFd mnt, new_fs(type, options, attrs));
  int target = ::openat(dev_dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (target < 0) {
    return mount_error(std::string("open /dev/") + name);
  }
  UniqueFd target_fd(target);
  return attach(mnt.get(), target_fd.get(), std::string("/dev/") + name);
}

// Writes `contents` to a file on the /dev tmpfs, binds it over `dest` and
// unlinks the source: the bind keeps the file alive, and it lives in memory
// only, so it can never reach a layer.
Result<void> bind_contents(ChildContext& ctx, const char* dest, const char* tmp_name, const std::string& contents) {
  int fd = ::openat(ctx.dev_fd.get(), tmp_name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) {
    return mount_error(std::string("create the source for ") + dest);
  }
  UniqueFd file(fd);
  if (::write(file.get(), contents.data(), contents.size()) != static_cast<ssize_t>(contents.size())) {
    return mount_error(std::string("write the source for ") + dest);
  }
  file.reset();
  KILN_TRY_ASSIGN(UniqueFd src, clone_tree(ctx.dev_fd.get(), tmp_name, false));
  KILN_TRY_ASSIGN(UniqueFd target, prepare_target(ctx, dest, TargetKind::file));
  KILN_TRY(attach(src.get(), target.get(), dest));
  // The kernel refuses to attach an unlinked source, but keeps an attached
  // one alive: unlink only now.
  if (::unlinkat(ctx.dev_fd.get(), tmp_name, 0) != 0) {
    return mount_error(std::string("remove the source for ") + dest);
  }
  return {};
}

}  // namespace

Result<void> make_mounts_private(ChildContext&) {
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return mount_error("make `/` private");
  }
  return {};
}

Result<void> mount_rootfs(ChildContext& ctx) {
  const ChildSpec& s = ctx.spec;
  if (s.overlay) {
    ctx.root_path = s.mountpoint;
    KILN_TRY(mount_overlay_at(s.lowers, s.upper, s.work, s.mountpoint,
                              s.volatile_upper ? Durability::volatile_upper : Durability::synced));
  } else {
    ctx.root_path = s.rootfs_dir;
    KILN_TRY_ASSIGN(UniqueFd src, clone_tree(AT_FDCWD, s.rootfs_dir, false));
    if (::move_mount(src.get(), "", AT_FDCWD, s.rootfs_dir.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) {
      return mount_error("bind the rootfs " + q(s.rootfs_dir) + " onto itself");
    }
  }
  int fd = ::open(ctx.root_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return mount_error("open the rootfs " + q(ctx.root_path));
  }
  ctx.root_fd.reset(fd);
  return {};
}

Result<void> mount_proc(ChildContext& ctx) {
  auto mnt = new_fs("proc", {}, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
  if (!mnt) {
    return std::move(mnt.error()).with_hint(
        "The kernel refuses a fresh /proc when the host's /proc has paths hidden by other mounts "
        "(mount_too_revealing); unmount them from /proc in kiln's environment.");
  }
  KILN_TRY_ASSIGN(UniqueFd target, prepare_target(ctx, "/proc", TargetKind::dir));
  return attach(mnt->get(), target.get(), "/proc");
}

Result<void> mount_dev(ChildContext& ctx) {
  KILN_TRY_ASSIGN(UniqueFd mnt, new_fs("tmpfs", {{"mode", "755"}, {"size", std::to_string(defaults::k_dev_tmpfs_size)}},
                                       MOUNT_ATTR_NOSUID | MOUNT_ATTR_STRICTATIME));
  KILN_TRY_ASSIGN(UniqueFd target, prepare_target(ctx, "/dev", TargetKind::dir));
  KILN_TRY(attach(mnt.get(), target.get(), "/dev"));
  int dev = ::openat(mnt.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dev < 0) {
    return mount_error("open the new /dev");
  }
  ctx.dev_fd.reset(dev);
  for (const char* host : defaults::k_devices) {
    KILN_TRY(bind_host_file(dev, host + 5, host));  // "/dev/null" -> "null"
  }
  std::vector<FsOption> pts = {{"newinstance", ""}, {"ptmxmode", "0666"}, {"mode", "0620"}};
  if (ctx.spec.devpts_gid5) {
    pts.push_back({"gid", "5"});
  }
  KILN_TRY(mount_fs_at_dev(dev, "pts", "devpts", pts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC));
  KILN_TRY(mount_fs_at_dev(dev, "shm", "tmpfs",
                           {{"mode", "1777"}, {"size", std::to_string(defaults::k_shm_tmpfs_size)}},
                           MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
  KILN_TRY(mount_fs_at_dev(dev, "mqueue", "mqueue", {}, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
  for (const auto& link : defaults::k_dev_symlinks) {
    if (::symlinkat(link.target, dev, link.name) != 0) {
      return mount_error(std::string("create /dev/") + link.name);
    }
  }
  return {};
}

Result<void> mount_sys(ChildContext& ctx) {
  KILN_TRY_ASSIGN(UniqueFd mnt, clone_tree(AT_FDCWD, "/sys", true));
  KILN_TRY(set_attrs(mnt.get(), MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, true,
                     "/sys"));
  KILN_TRY_ASSIGN(UniqueFd target, prepare_target(ctx, "/sys", TargetKind::dir));
  return attach(mnt.get(), target.get(), "/sys");
}

Result<void> bind_etc_files(ChildContext& ctx) {
  const ChildSpec& s = ctx.spec;
  if (s.bind_hosts) {
    KILN_TRY(bind_contents(ctx, "/etc/hosts", ".kiln-hosts", s.hosts));
  }
  if (s.bind_resolv_conf) {
    KILN_TRY(bind_contents(ctx, "/etc/resolv.conf", ".kiln-resolv.conf", s.resolv_conf));
  }
  if (s.bind_hostname) {
    KILN_TRY(bind_contents(ctx, "/etc/hostname", ".kiln-hostname", s.etc_hostname));
  }
  return {};
}

namespace {

// "/proc/self/fd/N": names exactly the inode fd N holds, for the few APIs
// that take only paths (overlay's layer options, legacy mount(2)). The
// kernel follows the magic link to that inode; nothing is re-resolved.
std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

// The bind source: a trusted host path, or a path confined to source_root.
Result<UniqueFd> open_bind_source(const ChildMount& m) {
  if (m.source_root.empty()) {
    int fd = ::open(m.source.c_str(), O_PATH | O_CLOEXEC);
    if (fd < 0) {
      return mount_error("open bind source " + q(m.source));
    }
    return UniqueFd(fd);
  }
  int root = ::open(m.source_root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) {
    return mount_error("open bind source root " + q(m.source_root));
  }
  UniqueFd root_fd(root);
  auto src = open_in_root(root_fd.get(), m.source, O_PATH);
  if (!src) {
    return std::move(src).error().wrap("resolve bind source " + q(m.source) + " in " + q(m.source_root));
  }
  return src;
}

Result<void> mount_tmpfs(ChildContext& ctx, const ChildMount& m) {
  std::vector<FsOption> opts = {{"mode", octal(m.tmpfs_mode)}};
  if (m.tmpfs_size != 0) {
    opts.push_back({"size", std::to_string(m.tmpfs_size)});
  }
  uint64_t attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (m.read_only ? MOUNT_ATTR_RDONLY : 0);
  KILN_TRY_ASSIGN(UniqueFd mnt, new_fs("tmpfs", opts, attrs));
  KILN_TRY_ASSIGN(UniqueFd target, prepare_target(ctx, m.destination, TargetKind::dir));
  return attach(mnt.get(), target.get(), q(m.destination));
}

Result<void> mount_bind(ChildContext& ctx, const ChildMount& m) {
  KILN_TRY_ASSIGN(UniqueFd src, open_bind_source(m));
  struct stat st {};
  if (::fstat(src.get(), &st) != 0) {
    return mount_error("stat bind source " + q(m.source));
  }
  TargetKind kind = S_ISDIR(st.st_mode) ? TargetKind::dir : TargetKind::file;
  KILN_TRY_ASSIGN(UniqueFd target, prepare_target(ctx, m.destination, kind));
  if (!m.cow_upper.empty()) {
    // Copy-on-write: the source is overlay's only lower dir, named by fd.
    if (kind != TargetKind::dir) {
      return Error(ErrorCode::invalid_input, "mount " + q(m.source) + " copy-on-write: not a directory");
    }
    return mount_overlay_at({fd_path(src.get())}, m.cow_upper, m.cow_work, fd_path(target.get()));
  }
  KILN_TRY_ASSIGN(UniqueFd mnt, clone_tree(src.get(), "", m.recursive));
  if (m.read_only) {
    KILN_TRY(set_attrs(mnt.get(), MOUNT_ATTR_RDONLY, m.recursive, q(m.source)));
  }
  return attach(mnt.get(), target.get(), q(m.destination));
}

// A file with the given bytes on the /dev tmpfs, bound read-only over the
// target and unlinked from /dev (bind_contents' pattern, with an owner).
Result<void> mount_file(ChildContext& ctx, const ChildMount& m, size_t index) {
  std::string name = ".kiln-file-" + std::to_string(index);
  int fd = ::openat(ctx.dev_fd.get(), name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) {
    return mount_error("create the file for " + q(m.destination));
  }
  UniqueFd file(fd);
  if (::write(file.get(), m.contents.data(), m.contents.size()) != static_cast<ssize_t>(m.contents.size()) ||
      ::fchown(file.get(), m.file_uid, m.file_gid) != 0 || ::fchmod(file.get(), m.file_mode) != 0) {
    return mount_error("write the file for " + q(m.destination));
  }
  file.reset();
  KILN_TRY_ASSIGN(UniqueFd src, clone_tree(ctx.dev_fd.get(), name, false));
  KILN_TRY(set_attrs(src.get(), MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, false,
                     q(m.destination)));
  KILN_TRY_ASSIGN(UniqueFd target, prepare_target(ctx, m.destination, TargetKind::file));
  KILN_TRY(attach(src.get(), target.get(), q(m.destination)));
  if (::unlinkat(ctx.dev_fd.get(), name.c_str(), 0) != 0) {
    return mount_error("remove the source of " + q(m.destination));
  }
  return {};
}

}  // namespace

Result<void> apply_spec_mounts(ChildContext& ctx) {
  for (size_t i = 0; i < ctx.spec.mounts.size(); ++i) {
    const ChildMount& m = ctx.spec.mounts[i];
    Result<void> r = m.kind == ChildMount::Kind::tmpfs ? mount_tmpfs(ctx, m)
                     : m.kind == ChildMount::Kind::file ? mount_file(ctx, m, i)
                                                        : mount_bind(ctx, m);
    KILN_TRY(std::move(r).context("mount on " + q(m.destination)));
  }
  return {};
}

Result<void> mask_paths(ChildContext& ctx) {
  for (const char* path : defaults::k_masked_paths) {
    auto target = open_in_root(ctx.root_fd.get(), path, O_PATH, FollowLast::no);
    if (!target) {
      continue;  // absent on this kernel: nothing to hide
    }
    struct stat st {};
    if (::fstat(target->get(), &st) != 0) {
      return mount_error("stat masked path " + q(path));
    }
    UniqueFd mnt;
    if (S_ISDIR(st.st_mode)) {
      KILN_TRY_ASSIGN(mnt, new_fs("tmpfs", {}, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                                                MOUNT_ATTR_NOEXEC));
    } else {
      KILN_TRY_ASSIGN(mnt, clone_tree(AT_FDCWD, "/dev/null", false));
    }
    KILN_TRY(attach(mnt.get(), target->get(), q(path)).context("mask " + q(path)));
  }
  for (const char* path : defaults::k_readonly_paths) {
    auto target = open_in_root(ctx.root_fd.get(), path, O_PATH, FollowLast::no);
    if (!target) {
      continue;
    }
    KILN_TRY_ASSIGN(UniqueFd mnt, clone_tree(target->get(), "", true));
    KILN_TRY(set_attrs(mnt.get(), MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, true,
                       q(path)));
    KILN_TRY(attach(mnt.get(), target->get(), q(path)).context("make " + q(path) + " read-only"));
  }
  return {};
}

Result<void> pivot_into_root(ChildContext& ctx) {
  // pivot_root(".", ".") stacks the old root on top of the new one at "/";
  // detaching "." then removes the old root without a temporary directory in
  // the rootfs (the runc/LXC trick, see pivot_root(2) NOTES).
  if (::fchdir(ctx.root_fd.get()) != 0) {
    return mount_error("enter the rootfs");
  }
  if (sys::pivot_root(".", ".") != 0) {
    return mount_error("pivot_root into " + q(ctx.root_path));
  }
  if (::umount2(".", MNT_DETACH) != 0) {
    return mount_error("detach the old root");
  }
  if (::chdir("/") != 0) {
    return mount_error("enter the new root");
  }
  ctx.root_fd.reset();
  ctx.dev_fd.reset();
  return {};
}

}  // namespace kiln::executor
