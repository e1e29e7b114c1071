#include "executor/mounts.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <mutex>

#include "executor/deferred_teardown.h"
#include "executor/overlay_fs.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/subprocess.h"
#include "util/temp_dir.h"

namespace kiln::executor {

const char* storage_driver_name(StorageDriver driver) {
  switch (driver) {
    case StorageDriver::overlay: return "overlay";
    case StorageDriver::fuse_overlayfs: return "fuse-overlayfs";
    case StorageDriver::vfs: return "vfs";
  }
  return "overlay";
}

Result<StorageDriver> parse_storage_driver(std::string_view name) {
  std::string n = to_lower(trim(name));
  if (n == "overlay" || n == "overlay2" || n == "overlayfs") {
    return StorageDriver::overlay;
  }
  if (n == "fuse-overlayfs" || n == "fuse_overlayfs") {
    return StorageDriver::fuse_overlayfs;
  }
  if (n == "vfs") {
    return StorageDriver::vfs;
  }
  return Error(ErrorCode::invalid_input,
               cat("parse storage driver `", name, "`: expected overlay, fuse-overlayfs or vfs"));
}

UniqueMount& UniqueMount::operator=(UniqueMount&& other) noexcept {
  if (this != &other) {
    log_warning_and_drop(unmount());
    m_target = std::move(other.m_target);
    m_volatile_work = std::move(other.m_volatile_work);
    other.m_target.clear();
  }
  return *this;
}

UniqueMount::~UniqueMount() { log_warning_and_drop(unmount()); }

std::string UniqueMount::release() {
  std::string t = std::move(m_target);
  m_target.clear();
  return t;
}

Result<void> UniqueMount::unmount() {
  if (m_target.empty()) {
    return {};
  }
  std::string target = release();
  if (::umount2(target.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return Error::from_errno(cat("unmount `", target, "`"));
  }
  if (!m_volatile_work.empty()) {
    KILN_TRY(remove_volatile_marker(m_volatile_work));
    m_volatile_work.clear();
  }
  return {};
}

Result<void> remove_volatile_marker(const std::string& work) {
  return remove_tree(path_join(work, "work/incompat"));
}

Result<UniqueMount> mount_overlay(const OverlayMount& o) {
  if (!o.work.empty()) {
    wait_for_teardown(o.work);  // a sandbox that used this work dir
  }
  KILN_TRY(mount_overlay_at(o.lowers, o.upper, o.work, o.target, o.durability));
  log::debug("mounts: overlay on `", o.target, "` (", o.lowers.size(), " lower dirs)");
  bool marker = o.durability == Durability::volatile_upper && !o.upper.empty();
  return UniqueMount(o.target, marker ? o.work : "");
}

Result<UniqueMount> mount_overlay(const std::vector<std::string>& lowers, const std::string& upper,
                                  const std::string& work, const std::string& target) {
  OverlayMount o;
  o.lowers = lowers;
  o.upper = upper;
  o.work = work;
  o.target = target;
  return mount_overlay(o);
}

Result<UniqueMount> mount_fuse_overlayfs(const OverlayMount& o) {
  if (find_program("fuse-overlayfs").empty()) {
    return Error(ErrorCode::not_found, "mount fuse-overlayfs: program `fuse-overlayfs` not found in PATH");
  }
  std::string opts = "lowerdir=" + join(o.lowers, ":");
  if (!o.upper.empty()) {
    opts += ",upperdir=" + o.upper + ",workdir=" + o.work;
  }
  KILN_TRY_ASSIGN(ProgramResult res, run_program({"fuse-overlayfs", "-o", opts, o.target}));
  if (res.exit_status != 0) {
    return Error(ErrorCode::sandbox, cat("mount fuse-overlayfs on `", o.target, "`: exit status ",
                                         res.exit_status, ": ", trim(res.stderr_data)))
        .with_hint("fuse-overlayfs needs read-write access to /dev/fuse (on this machine it is "
                   "mode 0600 root); use `--storage-driver vfs` or make /dev/fuse accessible.");
  }
  log::debug("mounts: fuse-overlayfs on `", o.target, "` (", o.lowers.size(), " lower dirs)");
  return UniqueMount(o.target);
}

namespace {

// Mounts a one-file overlay in a scratch dir and writes through it.
Result<void> probe_driver(StorageDriver driver, const std::string& scratch_dir) {
  KILN_TRY_ASSIGN(TempDir dir, TempDir::create(scratch_dir, ".kiln-probe-"));
  OverlayMount o{{path_join(dir.path(), "lower")}, path_join(dir.path(), "upper"),
                 path_join(dir.path(), "work"), path_join(dir.path(), "merged")};
  for (const auto& d : {o.lowers[0], o.upper, o.work, o.target}) {
    KILN_TRY(make_dirs(d));
  }
  KILN_TRY(write_file(path_join(o.lowers[0], "a"), "a"));
  UniqueMount m;
  if (driver == StorageDriver::overlay) {
    KILN_TRY_ASSIGN(m, mount_overlay(o));
  } else {
    KILN_TRY_ASSIGN(m, mount_fuse_overlayfs(o));
  }
  KILN_TRY(write_file(path_join(o.target, "b"), "b"));
  return m.unmount();
}

// Where a successful native overlay probe is remembered for later
// processes: in `record_dir`, named after the kernel release and the
// filesystem type of `scratch_dir`, so a new kernel or a store moved to
// another filesystem probes again. "" when not remembered.
std::string overlay_marker(const std::string& record_dir, const std::string& scratch_dir) {
  if (record_dir.empty()) {
    return "";
  }
  struct utsname u {};
  struct statfs fs {};
  if (::uname(&u) != 0 || ::statfs(scratch_dir.c_str(), &fs) != 0) {
    return "";
  }
  return path_join(record_dir, cat("overlay-works-", u.release, "-", static_cast<unsigned long long>(fs.f_type)));
}

}  // namespace

Result<StorageDriver> select_storage_driver(std::optional<StorageDriver> requested,
                                            const std::string& scratch_dir, const std::string& record_dir) {
  if (requested) {
    log::info("storage driver: ", storage_driver_name(*requested), " (requested)");
    return *requested;
  }
  static std::mutex mutex;
  static std::map<std::string, StorageDriver> chosen;
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = chosen.find(scratch_dir); it != chosen.end()) {
    return it->second;
  }
  StorageDriver driver = StorageDriver::vfs;
  std::string reason;
  std::string marker = overlay_marker(record_dir, scratch_dir);
  if (!marker.empty() && ::access(marker.c_str(), F_OK) == 0) {
    log::debug("storage driver: overlay (probed before: `", marker, "`)");
    chosen.emplace(scratch_dir, StorageDriver::overlay);
    return StorageDriver::overlay;
  }
  auto native = probe_driver(StorageDriver::overlay, scratch_dir);
  if (native) {
    driver = StorageDriver::overlay;
    reason = "native overlay works in the user namespace";
    if (!marker.empty()) {
      (void)write_file(marker, "overlay\n");  // a lost marker only costs the next probe
    }
  } else {
    auto fuse = probe_driver(StorageDriver::fuse_overlayfs, scratch_dir);
    if (fuse) {
      driver = StorageDriver::fuse_overlayfs;
      reason = cat("native overlay refused (", native.error().render(), ")");
    } else {
      reason = cat("native overlay refused (", native.error().render(), "); fuse-overlayfs unusable (",
                   fuse.error().render(), ")");
    }
  }
  log::info("storage driver: ", storage_driver_name(driver), ": ", reason);
  chosen.emplace(scratch_dir, driver);
  return driver;
}

}  // namespace kiln::executor
