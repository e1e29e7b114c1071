#include "executor/overlay_fs.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "util/fd.h"

namespace kiln::executor {

namespace {

const char* const k_overlay_hint =
    "The kernel refused native overlayfs in kiln's user namespace (it needs Linux >= 5.11 and a "
    "filesystem that supports overlay upper dirs with user xattrs). Use `--storage-driver "
    "fuse-overlayfs` or `--storage-driver vfs`.";

Error overlay_error(std::string what, int err) {
  Error e(ErrorCode::sandbox, std::move(what), err);
  if (err == EPERM || err == EINVAL || err == ENODEV || err == EOPNOTSUPP) {
    e.with_hint(k_overlay_hint);
  }
  return e;
}

std::string quoted(const std::string& path) { return "`" + path + "`"; }

// Ok(true) = mounted; Ok(false) = this kernel lacks `lowerdir+`.
Result<bool> mount_with_fsconfig(const std::vector<std::string>& lowers, const std::string& upper,
                                 const std::string& work, const std::string& target, bool volatile_upper) {
  int fs = ::fsopen("overlay", FSOPEN_CLOEXEC);
  if (fs < 0) {
    if (errno == ENOSYS) {
      return false;
    }
    return overlay_error("open an overlay filesystem context (fsopen)", errno);
  }
  UniqueFd fs_fd(fs);
  auto set = [&](const char* key, const std::string& value) {
    return ::fsconfig(fs_fd.get(), FSCONFIG_SET_STRING, key, value.c_str(), 0);
  };
  for (size_t i = 0; i < lowers.size(); ++i) {
    if (set("lowerdir+", lowers[i]) != 0) {
      if (i == 0 && errno == EINVAL) {
        return false;  // unknown parameter: the kernel predates 6.8
      }
      return overlay_error("add overlay lower dir " + quoted(lowers[i]), errno);
    }
  }
  if (!upper.empty()) {
    if (set("upperdir", upper) != 0) {
      return overlay_error("set overlay upper dir " + quoted(upper), errno);
    }
    if (set("workdir", work) != 0) {
      return overlay_error("set overlay work dir " + quoted(work), errno);
    }
    if (volatile_upper && ::fsconfig(fs_fd.get(), FSCONFIG_SET_FLAG, "volatile", nullptr, 0) != 0) {
      return overlay_error("set overlay option `volatile`", errno);
    }
  }
  if (::fsconfig(fs_fd.get(), FSCONFIG_SET_FLAG, "userxattr", nullptr, 0) != 0) {
    return overlay_error("set overlay option `userxattr`", errno);
  }
  if (::fsconfig(fs_fd.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
    int err = errno;
    Error e = overlay_error("create the overlay filesystem", err);
    struct stat st {};
    if (!work.empty() && ::stat((work + "/work/incompat/volatile").c_str(), &st) == 0) {
      e.with_hint("A volatile overlay on work dir " + quoted(work) +
                  " did not end cleanly (a crash?): its upper dir may be incomplete. Discard the snapshot.");
    }
    return e;
  }
  int mnt = ::fsmount(fs_fd.get(), FSMOUNT_CLOEXEC, 0);
  if (mnt < 0) {
    return overlay_error("mount the overlay filesystem (fsmount)", errno);
  }
  UniqueFd mnt_fd(mnt);
  if (::move_mount(mnt_fd.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) {
    return overlay_error("attach the overlay on " + quoted(target), errno);
  }
  return true;
}

Result<void> mount_legacy(const std::vector<std::string>& lowers, const std::string& upper,
                          const std::string& work, const std::string& target, bool volatile_upper) {
  std::string opts = "lowerdir=";
  for (size_t i = 0; i < lowers.size(); ++i) {
    if (lowers[i].find_first_of(":,") != std::string::npos) {
      return Error(ErrorCode::invalid_input,
                   "mount overlay: lower dir " + quoted(lowers[i]) + " contains ':' or ','");
    }
    opts += (i == 0 ? "" : ":") + lowers[i];
  }
  if (!upper.empty()) {
    opts += ",upperdir=" + upper + ",workdir=" + work;
    if (volatile_upper) {
      opts += ",volatile";
    }
  }
  opts += ",userxattr";
  if (opts.size() >= static_cast<size_t>(::getpagesize())) {
    return Error(ErrorCode::invalid_input,
                 "mount overlay: " + std::to_string(lowers.size()) +
                     " lower dirs exceed the legacy option string's page limit on this kernel "
                     "(fsconfig `lowerdir+` needs Linux >= 6.8)");
  }
  if (::mount("overlay", target.c_str(), "overlay", 0, opts.c_str()) != 0) {
    return overlay_error("mount overlay on " + quoted(target), errno);
  }
  return {};
}

}  // namespace

Result<void> mount_overlay_at(const std::vector<std::string>& lowers, const std::string& upper,
                              const std::string& work, const std::string& target, Durability durability) {
  bool volatile_upper = durability == Durability::volatile_upper && !upper.empty();
  if (lowers.empty()) {
    return Error(ErrorCode::invalid_input, "mount overlay on " + quoted(target) + ": no lower dirs");
  }
  if (upper.empty() != work.empty()) {
    return Error(ErrorCode::invalid_input, "mount overlay on " + quoted(target) +
                                               ": upper and work dirs go together");
  }
  KILN_TRY_ASSIGN(bool mounted, mount_with_fsconfig(lowers, upper, work, target, volatile_upper));
  if (mounted) {
    return {};
  }
  return mount_legacy(lowers, upper, work, target, volatile_upper);
}

}  // namespace kiln::executor
