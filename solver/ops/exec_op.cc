#include "solver/ops/exec_op.h"

#include "executor/capabilities.h"
#include "executor/sandbox.h"
#include "executor/user.h"
#include "solver/ops/run_mounts.h"
#include "solver/ops/snapshot.h"
#include "util/strings.h"

namespace kiln::solver::ops {

namespace {

constexpr const char* k_default_path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string quoted_command(const std::vector<std::string>& args) {
  std::string s = join(args, " ");
  return cat("\"", s, "\"");
}

Result<void> fill_security(const Exec& e, const RunnerConfig& config, executor::SandboxSpec& spec) {
  if (e.insecure) {
    spec.capabilities = executor::CapabilitySet::all();
    spec.seccomp = executor::SeccompMode::unconfined;
  } else {
    KILN_TRY_ASSIGN(spec.capabilities, executor::apply_capability_changes(executor::CapabilitySet::buildkit_default(),
                                                                          e.cap_add, e.cap_drop));
    spec.seccomp = config.seccomp;
  }
  spec.no_new_privs = e.no_new_privileges;
  for (const auto& u : e.ulimits) {
    KILN_TRY_ASSIGN(executor::Rlimit r, executor::parse_ulimit(u));
    spec.rlimits.push_back(r);
  }
  return {};
}

}  // namespace

Result<OpResult> run_exec(BuildRunner::Impl& impl, const Exec& e, const Op& op, const Definition& def,
                          const std::vector<const OpResult*>& inputs, const CancelToken& cancel) {
  const OpResult& parent = *inputs.at(0);
  KILN_TRY_ASSIGN(Snapshot snap, prepare_snapshot(impl, parent.layers, true));
  executor::SandboxSpec spec;
  if (snap.driver == executor::StorageDriver::vfs) {
    spec.rootfs_dir = snap.upper;
  } else if (snap.driver == executor::StorageDriver::fuse_overlayfs && !snap.lowers.empty()) {
    return Error(ErrorCode::unsupported, "RUN with the fuse-overlayfs driver is not wired yet; use --storage-driver vfs");
  } else {
    std::vector<std::string> lowers = snap.lowers;
    if (lowers.empty()) {
      KILN_TRY_ASSIGN(std::string empty, impl.scratch_dir("empty-"));
      lowers.push_back(empty);
    }
    spec.overlay = executor::OverlayRootfs{lowers, snap.upper, snap.work, snap.merged};
  }
  std::vector<std::string> passwd_layers = snap.lowers;
  if (snap.driver == executor::StorageDriver::vfs) {
    passwd_layers = {snap.upper};
  }
  KILN_TRY_ASSIGN(executor::ResolvedUser user, executor::resolve_user(passwd_layers, e.user.empty() ? "0" : e.user));
  spec.uid = user.uid;
  spec.gid = user.gid;
  spec.groups = user.groups;
  spec.argv = e.args;
  spec.env = e.env;
  bool has_path = false;
  bool has_home = false;
  for (const auto& kv : e.env) {
    has_path = has_path || kv.starts_with("PATH=");
    has_home = has_home || kv.starts_with("HOME=");
  }
  if (!has_path) {
    spec.env.push_back(k_default_path);
  }
  if (!has_home) {
    spec.env.push_back("HOME=" + user.home);
  }
  spec.cwd = e.cwd.empty() ? "/" : e.cwd;
  spec.hostname = e.hostname.empty() ? "kiln" : e.hostname;
  executor::NetworkMode net = e.network == NetworkMode::none ? executor::NetworkMode::none : executor::NetworkMode::host;
  spec.network = net;
  std::string hosts = executor::default_hosts(spec.hostname);
  for (const auto& h : e.extra_hosts) {
    auto kv = split_once(h, ':');
    if (kv) {
      hosts += cat(kv->second, "\t", kv->first, "\n");
    }
  }
  spec.hosts = hosts;
  KILN_TRY_ASSIGN(std::string resolv, executor::default_resolv_conf(net));
  spec.resolv_conf = resolv;
  spec.etc_hostname = spec.hostname + "\n";
  KILN_TRY(fill_security(e, impl.config, spec));
  // RUN --mount (run_mounts.h). Held until the step ends: cache locks, ssh relays.
  KILN_TRY_ASSIGN(PreparedMounts mounts, prepare_run_mounts(impl, e, op, def, inputs, spec.env));
  spec.mounts = std::move(mounts.mounts);
  for (auto& kv : mounts.env) {
    std::string name = kv.substr(0, kv.find('='));
    std::erase_if(spec.env, [&](const std::string& v) { return v.starts_with(name + "="); });
    spec.env.push_back(std::move(kv));
  }
  spec.seccomp_cache_dir = impl.config.seccomp_cache_dir;
  spec.stdout_fd = impl.config.step_stdout_fd;
  spec.stderr_fd = impl.config.step_stderr_fd;
  spec.timeout_seconds = impl.config.step_timeout_seconds;
  spec.cancel_fd = cancel.fd();
  auto ran = executor::run_sandbox(spec);
  // The sandbox's mounts come down on a background thread; the upper dir is
  // complete, but wait before moving it into the store.
  executor::wait_for_sandbox_teardown(snap.work);
  KILN_TRY_ASSIGN(int status, std::move(ran));
  if (status != 0) {
    return Error(ErrorCode::failed_step, cat("process ", quoted_command(e.args),
                                             " did not complete successfully: exit code: ", status))
        .with_exit_status(status);
  }
  OpResult r;
  r.layers = parent.layers;
  KILN_TRY_ASSIGN(r.new_layer, commit_snapshot(impl, snap));
  if (r.new_layer) {
    r.layers.push_back(*r.new_layer);
  }
  return r;
}

}  // namespace kiln::solver::ops
