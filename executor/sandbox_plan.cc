#include "executor/sandbox_plan.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <mutex>

#include "executor/defaults.h"
#include "executor/seccomp.h"
#include "executor/user_namespace.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::executor {

namespace {

Error invalid(std::string message) { return Error(ErrorCode::invalid_input, std::move(message)); }

Result<void> require_absolute(const std::string& path, const char* what) {
  if (path.empty() || path[0] != '/') {
    return invalid(cat(what, " `", path, "` is not an absolute path"));
  }
  return {};
}

// The mapping does not change during a process's life; read it once.
Result<IdMapping> mapping_in_use() {
  static std::mutex mutex;
  static std::optional<IdMapping> cached;
  std::lock_guard<std::mutex> lock(mutex);
  if (!cached) {
    if (!in_kiln_namespace()) {
      return Error(ErrorCode::sandbox, "start a sandbox outside kiln's user namespace")
          .with_hint("Call executor::enter_user_namespace first (kiln does at start): a build step "
                     "must never run with the invoking user's real ids.");
    }
    KILN_TRY_ASSIGN(IdMapping m, current_id_mapping());
    cached = std::move(m);
  }
  return *cached;
}

Result<void> check_ids(const SandboxSpec& spec, const IdMapping& m) {
  const char* hint = m.mode == MappingMode::single_id
                         ? "kiln runs in single-id mode (no /etc/subuid range): only container root "
                           "exists. Add a subordinate id range with `usermod --add-subuids` and `--add-subgids`."
                         : "The id is outside kiln's subordinate id range (/etc/subuid, /etc/subgid).";
  if (!m.maps_uid(spec.uid)) {
    return invalid(cat("run as uid ", spec.uid, ": not mapped in kiln's user namespace")).with_hint(hint);
  }
  if (!m.maps_gid(spec.gid)) {
    return invalid(cat("run as gid ", spec.gid, ": not mapped in kiln's user namespace")).with_hint(hint);
  }
  for (uint32_t g : spec.groups) {
    if (!m.maps_gid(g) || m.mode == MappingMode::single_id) {
      return invalid(cat("add supplementary group ", g, ": not possible in kiln's user namespace")).with_hint(hint);
    }
  }
  return {};
}

Result<void> check_rlimits(const SandboxSpec& spec) {
  for (const auto& l : spec.rlimits) {
    struct rlimit own {};
    if (::getrlimit(l.resource, &own) != 0) {
      return invalid(cat("set rlimit ", l.resource, ": unknown resource"));
    }
    if (l.soft > l.hard) {
      return invalid(cat("set rlimit ", l.resource, ": soft limit ", l.soft, " exceeds hard limit ", l.hard));
    }
    if (own.rlim_max != RLIM_INFINITY && l.hard > own.rlim_max) {
      return invalid(cat("set rlimit ", l.resource, " to ", l.hard, ": above kiln's own hard limit ", own.rlim_max))
          .with_hint("Raising a hard limit needs CAP_SYS_RESOURCE on the host, which kiln does not have; "
                     "ask for at most the current hard limit (`ulimit -H -a`).");
    }
  }
  return {};
}

Result<void> validate_mount(const MountSpec& m);

Result<void> validate(const SandboxSpec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty()) {
    return invalid("run a sandbox: empty command");
  }
  if (spec.rootfs_dir.empty() == !spec.overlay.has_value()) {
    return invalid("run a sandbox: give exactly one of a rootfs directory and an overlay");
  }
  if (spec.overlay) {
    const auto& o = *spec.overlay;
    if (o.lowers.empty()) {
      return invalid("run a sandbox: the overlay has no lower dirs");
    }
    for (const auto& l : o.lowers) {
      KILN_TRY(require_absolute(l, "overlay lower dir"));
    }
    KILN_TRY(require_absolute(o.upper, "overlay upper dir"));
    KILN_TRY(require_absolute(o.work, "overlay work dir"));
    KILN_TRY(require_absolute(o.mountpoint, "overlay mountpoint"));
  } else {
    KILN_TRY(require_absolute(spec.rootfs_dir, "rootfs"));
    if (!is_directory(spec.rootfs_dir)) {
      return Error(ErrorCode::not_found, cat("run a sandbox: rootfs `", spec.rootfs_dir, "` is not a directory"));
    }
  }
  KILN_TRY(require_absolute(spec.cwd, "working directory"));
  for (const auto& m : spec.mounts) {
    KILN_TRY(validate_mount(m));
  }
  return check_rlimits(spec);
}

Result<void> validate_mount(const MountSpec& m) {
  KILN_TRY(require_absolute(m.destination, "mount destination"));
  if (m.type != MountSpec::Type::bind) {
    return {};
  }
  // A bind confined to source_root is resolved by the child (race-free);
  // only the root itself is a host path here.
  const std::string& host_path = m.source_root.empty() ? m.source : m.source_root;
  KILN_TRY(require_absolute(host_path, m.source_root.empty() ? "bind source" : "bind source root"));
  if (!path_exists(host_path)) {
    return Error(ErrorCode::not_found, cat("bind `", host_path, "`: no such file or directory"));
  }
  if (!m.copy_on_write_dir.empty()) {
    KILN_TRY(require_absolute(m.copy_on_write_dir, "copy-on-write dir"));
    if (m.read_only == ReadOnly::yes) {
      return invalid(cat("bind `", m.source, "` on `", m.destination, "`: read-only and copy-on-write"));
    }
  }
  return {};
}

Result<ChildMount> to_child_mount(const MountSpec& m, const IdMapping& mapping) {
  ChildMount c;
  c.kind = m.type == MountSpec::Type::tmpfs  ? ChildMount::Kind::tmpfs
           : m.type == MountSpec::Type::file ? ChildMount::Kind::file
                                             : ChildMount::Kind::bind;
  c.source = m.source;
  c.source_root = m.source_root;
  c.destination = m.destination;
  c.read_only = m.read_only == ReadOnly::yes || m.type == MountSpec::Type::file;
  c.tmpfs_size = m.tmpfs_size;
  c.tmpfs_mode = m.tmpfs_mode;
  if (!m.copy_on_write_dir.empty()) {
    // overlay wants its upper and work dirs to exist, on one filesystem.
    c.cow_upper = path_join(m.copy_on_write_dir, "upper");
    c.cow_work = path_join(m.copy_on_write_dir, "work");
    KILN_TRY(make_dirs(c.cow_upper, 0755));
    KILN_TRY(make_dirs(c.cow_work, 0755));
  }
  if (m.type == MountSpec::Type::file) {
    if (!mapping.maps_uid(m.file_uid) || !mapping.maps_gid(m.file_gid)) {
      return invalid(cat("mount a file on `", m.destination, "` owned by ", m.file_uid, ":", m.file_gid,
                         ": not mapped in kiln's user namespace"));
    }
    c.contents = m.contents.reveal();
    c.file_mode = m.file_mode & 07777;
    c.file_uid = m.file_uid;
    c.file_gid = m.file_gid;
  }
  return c;
}

}  // namespace

Result<ChildSpec> plan_child(const SandboxSpec& spec, bool trace) {
  KILN_TRY(validate(spec));
  KILN_TRY_ASSIGN(IdMapping mapping, mapping_in_use());
  KILN_TRY(check_ids(spec, mapping));
  ChildSpec c;
  if (spec.overlay) {
    c.overlay = true;
    c.lowers = spec.overlay->lowers;
    c.upper = spec.overlay->upper;
    c.work = spec.overlay->work;
    c.mountpoint = spec.overlay->mountpoint;
    c.volatile_upper = spec.overlay->durability == Durability::volatile_upper;
  } else {
    c.rootfs_dir = spec.rootfs_dir;
  }
  for (const auto& m : spec.mounts) {
    KILN_TRY_ASSIGN(ChildMount cm, to_child_mount(m, mapping));
    c.mounts.push_back(std::move(cm));
  }
  c.argv = spec.argv;
  c.env = spec.env;
  c.cwd = spec.cwd;
  c.uid = spec.uid;
  c.gid = spec.gid;
  c.groups = spec.groups;
  c.set_groups = mapping.mode != MappingMode::single_id;
  c.devpts_gid5 = mapping.maps_gid(5);
  c.hostname = spec.hostname;
  c.bind_hosts = spec.hosts.has_value();
  c.hosts = spec.hosts.value_or("");
  c.bind_resolv_conf = spec.resolv_conf.has_value();
  c.resolv_conf = spec.resolv_conf.value_or("");
  c.bind_hostname = spec.etc_hostname.has_value();
  c.etc_hostname = spec.etc_hostname.value_or("");
  c.network_none = spec.network == NetworkMode::none;
  c.capabilities = spec.capabilities.bits();
  if (spec.seccomp == SeccompMode::default_policy) {
    KILN_TRY_ASSIGN(c.seccomp_bpf, default_seccomp_program(spec.capabilities, spec.seccomp_cache_dir));
  }
  c.no_new_privs = spec.no_new_privs;
  for (const auto& l : spec.rlimits) {
    c.rlimits.push_back({l.resource, l.soft, l.hard});
  }
  c.umask = spec.umask;
  c.trace = trace;
  return c;
}

std::vector<std::string> mount_targets(const SandboxSpec& spec) {
  std::vector<std::string> t = {"/proc", "/dev", "/sys"};
  if (spec.hosts) {
    t.emplace_back("/etc/hosts");
  }
  if (spec.resolv_conf) {
    t.emplace_back("/etc/resolv.conf");
  }
  if (spec.etc_hostname) {
    t.emplace_back("/etc/hostname");
  }
  for (const auto& m : spec.mounts) {
    t.push_back(m.destination);
  }
  return t;
}

uint64_t namespace_flags(const SandboxSpec& spec) {
  uint64_t flags = 0;
  for (const auto& ns : defaults::k_namespaces) {
    flags |= ns.clone_flag;
  }
  if (spec.network == NetworkMode::none) {
    flags |= CLONE_NEWNET;
  }
  return flags;
}

Result<Rlimit> parse_ulimit(std::string_view text) {
  auto kv = split_once(text, '=');
  if (!kv) {
    return invalid(cat("parse ulimit `", text, "`: expected NAME=SOFT[:HARD]"));
  }
  const defaults::RlimitName* found = nullptr;
  for (const auto& n : defaults::k_rlimit_names) {
    if (kv->first == n.name) {
      found = &n;
    }
  }
  if (found == nullptr) {
    return invalid(cat("parse ulimit `", text, "`: unknown resource `", kv->first, "`"));
  }
  auto value = [&](std::string_view v) -> std::optional<uint64_t> {
    if (v == "unlimited" || v == "-1") {
      return RLIM_INFINITY;
    }
    return parse_uint(v);
  };
  auto parts = split_once(kv->second, ':');
  auto soft = value(parts ? parts->first : kv->second);
  auto hard = value(parts ? parts->second : kv->second);
  if (!soft || !hard || *soft > *hard) {
    return invalid(cat("parse ulimit `", text, "`: expected SOFT[:HARD] numbers with SOFT <= HARD"));
  }
  return Rlimit{found->resource, *soft, *hard};
}

Result<NetworkMode> parse_network_mode(std::string_view text) {
  std::string t = to_lower(trim(text));
  if (t == "host" || t == "default") {
    return NetworkMode::host;
  }
  if (t == "none") {
    return NetworkMode::none;
  }
  return invalid(cat("parse network mode `", text, "`: expected host, none or default"));
}

Result<void> apply_security_opt(SandboxSpec& spec, std::string_view opt) {
  std::string o(trim(opt));
  auto kv = split_once(o, '=');
  std::string key = kv ? kv->first : o;
  std::string value = kv ? kv->second : "";
  if (key == "no-new-privileges") {
    if (value.empty() || value == "true") {
      spec.no_new_privs = true;
      return {};
    }
    if (value == "false") {
      spec.no_new_privs = false;
      return {};
    }
  } else if (key == "seccomp") {
    if (value == "unconfined") {
      spec.seccomp = SeccompMode::unconfined;
      return {};
    }
    return Error(ErrorCode::unsupported,
                 cat("apply --security-opt `", opt, "`: only seccomp=unconfined is supported (kiln always "
                                                   "uses Docker's default profile otherwise)"));
  } else if (key == "apparmor" || key == "label" || key == "mask" || key == "unmask") {
    return Error(ErrorCode::unsupported, cat("apply --security-opt `", opt, "`: not supported by kiln"));
  }
  return invalid(cat("parse --security-opt `", opt, "`: expected no-new-privileges or seccomp=unconfined"));
}

Result<std::string> sandbox_helper_path() {
  if (const char* env = std::getenv("KILN_SANDBOX_HELPER"); env != nullptr && *env != '\0') {
    if (::access(env, X_OK) != 0) {
      return Error(ErrorCode::not_found, cat("find the sandbox helper `", env, "` ($KILN_SANDBOX_HELPER)"), errno);
    }
    return std::string(env);
  }
  char self[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    return Error::from_errno("read /proc/self/exe");
  }
  std::string path = path_join(path_dirname(std::string_view(self, static_cast<size_t>(n))), "kiln-sandbox");
  if (::access(path.c_str(), X_OK) != 0) {
    return Error(ErrorCode::not_found, cat("find the sandbox helper `", path, "`"), errno)
        .with_hint("kiln-sandbox is installed beside the kiln binary; set $KILN_SANDBOX_HELPER to use another.");
  }
  return path;
}

Result<std::string> default_resolv_conf(NetworkMode network) {
  KILN_TRY_ASSIGN(auto host, read_file_if_exists("/etc/resolv.conf"));
  std::string text = host.value_or("");
  if (network == NetworkMode::host) {
    return text;
  }
  std::string out;
  for (const auto& line : split(text, '\n')) {
    if (!line.empty() && trim(line).rfind("nameserver", 0) != 0) {
      out += line + "\n";
    }
  }
  return out;
}

std::string default_hosts(const std::string& hostname) {
  return cat("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t", hostname, "\n");
}

}  // namespace kiln::executor
