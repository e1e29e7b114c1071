// kiln from, kiln run (stepwise builds; buildah's names and flags).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>

#include "frontend/api/container.h"
#include "frontend/api/host_binds.h"
#include "frontend/api/host_inputs.h"
#include "frontend/api/namespace.h"
#include "frontend/api/registry_api.h"
#include "frontend/cli/command.h"
#include "frontend/cli/output.h"
#include "frontend/cli/registry_flags.h"
#include "frontend/cli/stepwise_flags.h"
#include "frontend/dockerfile/run_mount.h"
#include "util/atomic_file.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln::cli {

Handler setup_from(CLI::App& sub) {
  struct Opts {
    std::string image;
    std::string name;
    std::string pull = "missing";
    std::string platform;
    std::string cidfile;
    RegistryFlags registry;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("image", o->image, "Base image (name, id, docker://, oci:DIR, oci-archive:FILE, ...) or scratch")
      ->required();
  sub.add_option("--name", o->name, "Name of the working container (default: IMAGE-working-container)");
  sub.add_option("--pull", o->pull, "Pull policy: always, missing (default), never");
  sub.add_option("--platform", o->platform, "Platform to pick from an image index (default: this machine's)");
  sub.add_option("--cidfile", o->cidfile, "Write the container id to this file");
  add_registry_flags(sub, o->registry, true);
  return [o](const Globals& g) {
    auto policy = parse_pull_policy(o->pull);
    if (!policy) {
      return report_error(Error(ErrorCode::usage, cat("invalid --pull `", o->pull, "`: expected always, missing or never")));
    }
    auto ro = registry_options(o->registry);
    if (!ro) {
      return report_error(ro.error());
    }
    // Pulling happens inside the namespace, which may not read host root's auth files.
    if (auto handed = hand_over_credentials(*ro); !handed) {
      return report_error(handed.error());
    }
    auto store = open_store_in_namespace(g.root, g.argc, g.argv);
    if (!store) {
      return report_error(store.error());
    }
    FromOptions fo;
    fo.name = o->name;
    fo.pull = *policy;
    fo.platform = o->platform;
    fo.registry = std::move(*ro);
    auto c = create_container(*store, o->image, fo);
    if (!c) {
      return report_error(c.error());
    }
    if (!o->cidfile.empty()) {
      if (auto w = write_file_atomic(absolute_path(o->cidfile), c->id); !w) {
        return report_error(w.error());
      }
    }
    print_line(c->name);
    return 0;
  };
}

namespace {

struct RunOpts {
  std::string container;
  std::vector<std::string> user_cmd;
  std::string user;
  std::string workingdir;
  std::vector<std::string> env;
  std::string network = "host";
  std::vector<std::string> cap_add;
  std::vector<std::string> cap_drop;
  std::vector<std::string> add_hosts;
  std::vector<std::string> volumes;
  std::vector<std::string> mounts;
  std::vector<std::string> secrets;
  std::vector<std::string> ssh;
  SolveFlags solve;
};

// The step `kiln run` adds: RUN with the image's User, WorkingDir and Env,
// the flags overriding them for this command only.
Result<RunOptions> run_options(const RunOpts& o, const std::vector<std::string>& cmd) {
  RunOptions ro;
  ro.args = cmd;
  if (!o.user.empty()) {
    ro.user = o.user;
  }
  if (!o.workingdir.empty()) {
    ro.workdir = path_clean(o.workingdir);
  }
  for (const auto& e : o.env) {
    if (e.find('=') == std::string::npos || e.starts_with("=")) {
      return Error(ErrorCode::usage, cat("invalid --env `", e, "`: expected KEY=VALUE"));
    }
    ro.env_override.push_back(e);
  }
  if (o.network == "none") {
    ro.network = solver::NetworkMode::none;
  } else if (o.network != "host" && o.network != "default") {
    return Error(ErrorCode::usage, cat("invalid --network `", o.network, "`: expected host or none"));
  }
  ro.cap_add = o.cap_add;
  ro.cap_drop = o.cap_drop;
  ro.extra_hosts = o.add_hosts;
  // Without the mounts: their host paths are no business of the image's history.
  ro.created_by = cat("RUN ", join(cmd, " "));
  ro.origin.description = ro.created_by;
  return ro;
}

// --mount (the Dockerfile's RUN --mount syntax) and --volume as RunMounts
// of the step (host_binds.h): a bind without from= reads a host path
// (relative: to the current directory), each one a build context of its own
// (`mount.N`, `volume.N`) in `config`; from= names a working container or an
// image, whose paths stay confined to it as in `kiln bud`.
Result<std::vector<RunMount>> run_mounts(const ImageStore& store, const RunOpts& o, const BuildState& current,
                                         const RunOptions& ro, BuildConfig& config) {
  std::vector<RunMount> out;
  dockerfile::RunMountContext ctx;
  ctx.workdir = ro.workdir.value_or(current.workdir());
  ctx.resolve_from = [&store](const std::string& from) -> Result<BuildState> {
    auto state = container_state(store, from);
    if (state || state.error().code() != ErrorCode::not_found) {
      return state;
    }
    KILN_TRY_ASSIGN(ResolvedImage img, resolve_base_image(store, from).context(cat("from=", from)));
    return BuildState::image(img);
  };
  for (size_t i = 0; i < o.mounts.size(); ++i) {
    std::string name = cat("mount.", i);
    ctx.default_source = [&name]() -> Result<BuildState> { return BuildState::context(name); };
    KILN_TRY_ASSIGN(RunMount m, dockerfile::parse_run_mount(o.mounts[i], ctx));
    if (m.spec.type == "bind" && m.from && m.from->is_context()) {
      m.spec.in_place = m.spec.readonly;  // rw: copy-on-write, as in a Dockerfile
      KILN_TRY(bind_host_path(m, m.spec.source, name, config).context(cat("--mount ", o.mounts[i])));
    }
    out.push_back(std::move(m));
  }
  for (size_t i = 0; i < o.volumes.size(); ++i) {
    KILN_TRY_ASSIGN(VolumeFlag v, parse_volume_flag(o.volumes[i]));
    KILN_TRY_ASSIGN(RunMount m, volume_mount(v, cat("volume.", i), config));
    out.push_back(std::move(m));
  }
  return out;
}

int run_run(const RunOpts& o, const Globals& g) {
  std::vector<std::string> cmd = command_after(o.user_cmd);
  if (cmd.empty()) {
    return report_error(Error(ErrorCode::usage, "kiln run: name the command to run after the container")
                            .with_hint("kiln run CONTAINER -- CMD [ARG...]"));
  }
  auto ro = run_options(o, cmd);
  if (!ro) {
    return report_error(ro.error());
  }
  auto config = stepwise_config(o.solve);
  if (!config) {
    return report_error(config.error());
  }
  config->step_stdout_fd = 1;  // the command's output is kiln run's output
  config->step_output_fd = 2;
  for (const auto& v : o.volumes) {  // usage errors before entering the namespace
    if (auto parsed = parse_volume_flag(v); !parsed) {
      return report_error(parsed.error());
    }
  }
  auto inputs = prepare_host_inputs(o.secrets, o.ssh);  // before the namespace: read with the user's rights
  if (!inputs) {
    return report_error(inputs.error());
  }
  auto store = open_store_in_namespace(g.root, g.argc, g.argv);
  if (!store) {
    return report_error(store.error());
  }
  config->secrets = std::move(inputs->secrets);
  config->ssh_agents = std::move(inputs->ssh_agents);
  RunOptions run = std::move(*ro);
  auto step = [&](const BuildState& s) -> Result<BuildState> {
    KILN_TRY_ASSIGN(run.mounts, run_mounts(*store, o, s, run, *config));
    return s.run(run);
  };
  auto r = apply_container_step(*store, o.container, step, *config);
  if (!r) {
    int rc = report_error(r.error());
    // The command's own exit status passes through (buildah run does the same).
    return r.error().exit_status() != 0 ? r.error().exit_status() : rc;
  }
  if (r->steps_run == 0) {
    // Same key as an earlier step on the same filesystem (this container's,
    // another's or a bud's): its result is reused, as `kiln bud` does.
    std::fprintf(stderr, "--> Using cache: `%s` ran before on this filesystem\n", run.created_by.c_str());
  }
  return 0;
}

}  // namespace

Handler setup_run(CLI::App& sub) {
  auto o = std::make_shared<RunOpts>();
  sub.add_option("container", o->container, "Working container")->required();
  sub.add_option("command", o->user_cmd, "The command and its arguments (after `--` when they start with `-`)");
  sub.add_option("--user", o->user, "USER[:GROUP] to run as (default: the image's User)");
  sub.add_option("--workingdir", o->workingdir, "Directory to run in (default: the image's WorkingDir)");
  sub.add_option("-e,--env", o->env, "KEY=VALUE for this command (repeatable)");
  sub.add_option("--network,--net", o->network, "host (default) or none");
  sub.add_option("--cap-add", o->cap_add, "Add a capability");
  sub.add_option("--cap-drop", o->cap_drop, "Drop a capability");
  sub.add_option("--add-host", o->add_hosts, "Add NAME:IP to /etc/hosts");
  sub.add_option("-v,--volume", o->volumes,
                 "HOST-DIR:DIR[:ro|rw] bind mount; rw (the default) writes into HOST-DIR (repeatable)");
  sub.add_option("--mount", o->mounts,
                 "A mount as RUN --mount= takes it: type=bind|cache|tmpfs|secret|ssh,... (repeatable)");
  sub.add_option("--secret", o->secrets, "Secret for --mount type=secret: id=ID,src=FILE or id=ID,env=VAR");
  sub.add_option("--ssh", o->ssh, "SSH agent for --mount type=ssh: default, default=SOCKET or ID=SOCKET");
  add_storage_flag(sub, o->solve);
  return [o](const Globals& g) { return run_run(*o, g); };
}

}  // namespace kiln::cli
