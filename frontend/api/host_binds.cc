#include "frontend/api/host_binds.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "executor/user_namespace.h"
#include "frontend/api/container_record.h"
#include "util/log.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln {

Result<VolumeFlag> parse_volume_flag(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Error(ErrorCode::usage, cat("invalid --volume `", text, "`: ", why))
        .with_hint("write --volume HOST-PATH:CONTAINER-PATH[:ro|rw]");
  };
  std::vector<std::string> parts = split(std::string(text), ':');
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty()) {
    return bad("expected SRC:DST[:OPTIONS]");
  }
  VolumeFlag v;
  v.source = parts[0];
  v.target = parts[1];
  if (!v.target.starts_with("/")) {
    return bad(cat("the container path `", v.target, "` is not absolute"));
  }
  if (path_clean(v.target) == "/") {
    return bad("cannot mount on `/`");
  }
  if (parts.size() == 3) {
    for (const auto& opt : split(parts[2], ',')) {
      if (opt == "ro") {
        v.read_only = true;
      } else if (opt == "rw") {
        v.read_only = false;
      } else {
        return bad(cat("unsupported option `", opt, "` (use ro or rw)"));
      }
    }
  }
  return v;
}

Result<void> bind_host_path(RunMount& mount, const std::string& host_path, const std::string& context_name,
                            BuildConfig& config) {
  if (mount.spec.type != "bind") {
    return Error(ErrorCode::invalid_input, cat("mount host path `", host_path, "`: not a bind mount"));
  }
  std::string path = absolute_path(host_path.empty() ? "." : host_path);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    int err = errno;
    return Error::from_errno(cat("mount host path `", host_path, "`"), err)
        .with_code(err == ENOENT ? ErrorCode::not_found : ErrorCode::syscall);
  }
  bool dir = S_ISDIR(st.st_mode);
  config.contexts[context_name] = dir ? path : path_dirname(path);
  mount.spec.source = dir ? "" : path_basename(path);
  mount.from = std::make_shared<const BuildState>(BuildState::context(context_name));
  return {};
}

namespace {

// Whether container root (host uid/gid `m` maps it to) may write into
// directory `path`, from its owner, group and mode bits (ACLs and
// supplementary groups aside: this only decides whether to warn).
bool container_root_can_write(const std::string& path, const executor::IdMapping& m) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return true;
  }
  if (st.st_uid == m.host_root_uid()) {
    return (st.st_mode & S_IWUSR) != 0;
  }
  if (st.st_gid == m.host_root_gid()) {
    return (st.st_mode & S_IWGRP) != 0;
  }
  return (st.st_mode & S_IWOTH) != 0;
}

}  // namespace

Result<RunMount> volume_mount(const VolumeFlag& flag, const std::string& context_name, BuildConfig& config) {
  RunMount m;
  m.spec.type = "bind";
  m.spec.target = path_clean(flag.target);
  m.spec.readonly = flag.read_only;
  m.spec.in_place = true;
  if (!flag.read_only) {
    KILN_TRY_ASSIGN(m.spec.id, detail::random_id());
  }
  KILN_TRY(bind_host_path(m, flag.source, context_name, config).context(cat("--volume `", flag.source, ":",
                                                                           flag.target, "`")));
  std::string dir = config.contexts[context_name];
  if (!flag.read_only) {
    bool inside = executor::in_kiln_namespace();  // inside, stat shows container ids: ask the kernel
    auto mapping = inside ? executor::current_id_mapping() : executor::compute_id_mapping();
    bool writable = inside ? ::access(dir.c_str(), W_OK) == 0 : !mapping || container_root_can_write(dir, *mapping);
    if (mapping && !writable) {
      std::string who = cat("host uid ", mapping->host_root_uid());
      log::warning("--volume `", flag.source, ":", flag.target, "`: container root (", who,
                   ", never host root) cannot write to `", dir, "`, so writes there will fail; make the "
                   "directory writable for ", who, " or mount it `:ro`.");
    }
  }
  return m;
}

}  // namespace kiln
