// kiln config (stepwise builds; buildah's names and flags): the image config
// of a working container, one history entry per kind of change, written as
// the Dockerfile instruction that makes it.
#include <CLI/CLI.hpp>

#include <memory>
#include <optional>

#include "frontend/api/container.h"
#include "frontend/api/namespace.h"
#include "frontend/cli/command.h"
#include "frontend/cli/output.h"
#include "frontend/cli/registry_flags.h"
#include "frontend/cli/stepwise_flags.h"
#include "util/strings.h"

namespace kiln::cli {

namespace {

struct ConfigOpts {
  std::string container;
  std::vector<std::string> env;
  std::vector<std::string> labels;
  std::vector<std::string> annotations;
  std::vector<std::string> ports;
  std::vector<std::string> volumes;
  std::vector<std::string> onbuild;
  std::optional<std::string> cmd;
  std::optional<std::string> entrypoint;
  std::optional<std::string> workingdir;
  std::optional<std::string> user;
  std::optional<std::string> stop_signal;
  std::optional<std::string> healthcheck;
  std::string hc_interval, hc_timeout, hc_start_period;
  int hc_retries = 0;
  std::optional<std::string> shell;
  std::optional<std::string> author;
  std::optional<std::string> created_by;
};

// K=V sets, K- removes (buildah's syntax for --env and --label).
Result<BuildState> apply_pairs(BuildState s, const std::vector<std::string>& raw, const char* flag, const char* kw,
                               bool env) {
  if (raw.empty()) {
    return s;
  }
  std::vector<std::string> shown;
  for (const auto& a : raw) {
    auto kv = split_once(a, '=');
    if (kv && !kv->first.empty()) {
      s = env ? s.with_env(kv->first, kv->second) : s.with_label(kv->first, kv->second);
      shown.push_back(a);
    } else if (a.size() > 1 && a.ends_with("-")) {
      std::string key = a.substr(0, a.size() - 1);
      s = env ? s.without_env(key) : s.without_label(key);
    } else {
      return Error(ErrorCode::usage, cat("invalid ", flag, " `", a, "`: expected KEY=VALUE or KEY-"));
    }
  }
  return shown.empty() ? s : s.add_history(cat(kw, " ", join(shown, " ")));
}

Result<int64_t> duration_ns(const std::string& text, const char* flag) {
  if (text.empty()) {
    return int64_t{0};
  }
  auto ms = parse_duration_ms(text);
  if (!ms) {
    return Error(ErrorCode::usage, cat("invalid ", flag, " `", text, "`: expected a duration such as 30s"));
  }
  return *ms * 1000000;
}

Result<BuildState> apply_healthcheck(const BuildState& s, const ConfigOpts& o) {
  if (!o.healthcheck) {
    return s;
  }
  oci::Healthcheck hc;
  if (*o.healthcheck == "NONE" || o.healthcheck->empty()) {
    hc.test = {"NONE"};
  } else if (o.healthcheck->starts_with("CMD ")) {
    hc.test = {"CMD-SHELL", o.healthcheck->substr(4)};
  } else {
    hc.test = {"CMD-SHELL", *o.healthcheck};
  }
  KILN_TRY_ASSIGN(hc.interval_ns, duration_ns(o.hc_interval, "--healthcheck-interval"));
  KILN_TRY_ASSIGN(hc.timeout_ns, duration_ns(o.hc_timeout, "--healthcheck-timeout"));
  KILN_TRY_ASSIGN(hc.start_period_ns, duration_ns(o.hc_start_period, "--healthcheck-start-period"));
  hc.retries = o.hc_retries;
  return s.with_healthcheck(hc).add_history("HEALTHCHECK " + format_command_value(hc.test));
}

Result<BuildState> apply_commands(BuildState s, const ConfigOpts& o) {
  if (o.shell) {
    std::vector<std::string> sh;
    if (o.shell->starts_with("[")) {
      KILN_TRY_ASSIGN(sh, parse_command_value(*o.shell, {}));
    } else {
      for (const auto& w : split(*o.shell, ' ')) {
        if (!w.empty()) {
          sh.push_back(w);
        }
      }
    }
    s = s.with_shell(sh).add_history("SHELL " + format_command_value(sh));
  }
  // Like a Dockerfile, ENTRYPOINT resets an inherited CMD: entrypoint first.
  for (const auto* value : {&o.entrypoint, &o.cmd}) {
    if (!*value) {
      continue;
    }
    bool is_cmd = value == &o.cmd;
    std::optional<std::vector<std::string>> args;
    if (!(*value)->empty()) {
      KILN_TRY_ASSIGN(args, parse_command_value(**value, s.config().config.shell));
    }
    s = is_cmd ? s.with_cmd(args) : s.with_entrypoint(args);
    s = s.add_history(cat(is_cmd ? "CMD " : "ENTRYPOINT ", format_command_value(args.value_or(std::vector<std::string>{}))));
  }
  return s;
}

Result<BuildState> apply_config(BuildState s, const ConfigOpts& o) {
  KILN_TRY_ASSIGN(s, apply_pairs(s, o.env, "--env", "ENV", true));
  KILN_TRY_ASSIGN(s, apply_pairs(s, o.labels, "--label", "LABEL", false));
  if (o.workingdir) {
    s = s.with_workdir(*o.workingdir);
    s = s.add_history("WORKDIR " + s.workdir());
  }
  if (o.user) {
    s = s.with_user(*o.user).add_history("USER " + *o.user);
  }
  for (const auto& p : o.ports) {
    std::string port = p.find('/') == std::string::npos ? p + "/tcp" : p;
    s = s.with_exposed_port(port).add_history("EXPOSE " + port);
  }
  for (const auto& v : o.volumes) {
    s = s.with_volume(v).add_history("VOLUME [" + v + "]");
  }
  if (o.stop_signal) {
    s = s.with_stop_signal(*o.stop_signal).add_history("STOPSIGNAL " + *o.stop_signal);
  }
  KILN_TRY_ASSIGN(s, apply_healthcheck(s, o));
  for (const auto& t : o.onbuild) {
    std::vector<std::string> triggers = s.config().config.on_build;
    triggers.push_back(t);
    s = s.with_onbuild(triggers).add_history("ONBUILD " + t);
  }
  KILN_TRY_ASSIGN(s, apply_commands(s, o));
  if (o.author) {
    s = s.with_author(*o.author).add_history("MAINTAINER " + *o.author);
  }
  return s;
}

}  // namespace

Handler setup_config(CLI::App& sub) {
  auto o = std::make_shared<ConfigOpts>();
  sub.add_option("container", o->container, "Working container")->required();
  sub.add_option("-e,--env", o->env, "KEY=VALUE to set, KEY- to remove (repeatable)");
  sub.add_option("-l,--label", o->labels, "Image label KEY=VALUE, KEY- to remove (repeatable)");
  sub.add_option("-a,--annotation", o->annotations, "Manifest annotation KEY=VALUE, KEY- to remove (repeatable)");
  sub.add_option("--cmd", o->cmd, "Default command: JSON array (exec form) or text (shell form); \"\" unsets");
  sub.add_option("--entrypoint", o->entrypoint, "Entrypoint: JSON array or text (shell form); \"\" unsets");
  sub.add_option("--workingdir", o->workingdir, "Working directory");
  sub.add_option("-u,--user", o->user, "USER[:GROUP] containers run as");
  sub.add_option("-p,--port", o->ports, "Exposed port, e.g. 8080 or 53/udp (repeatable)");
  sub.add_option("-v,--volume", o->volumes, "Volume path (repeatable)");
  sub.add_option("--stop-signal", o->stop_signal, "Stop signal, e.g. SIGTERM");
  sub.add_option("--healthcheck", o->healthcheck, "Health check command (`CMD ...`), or NONE");
  sub.add_option("--healthcheck-interval", o->hc_interval, "Time between health checks, e.g. 30s");
  sub.add_option("--healthcheck-timeout", o->hc_timeout, "Time a health check may take");
  sub.add_option("--healthcheck-start-period", o->hc_start_period, "Grace period after start");
  sub.add_option("--healthcheck-retries", o->hc_retries, "Failures before unhealthy");
  sub.add_option("--onbuild", o->onbuild, "ONBUILD trigger (repeatable)");
  sub.add_option("--shell", o->shell, "Shell for shell-form commands: JSON array or words");
  sub.add_option("--author", o->author, "Image author");
  sub.add_option("--created-by", o->created_by, "History text of the next commit's layer");
  return [o](const Globals& g) {
    auto store = open_store_in_namespace(g.root, g.argc, g.argv);
    if (!store) {
      return report_error(store.error());
    }
    ContainerConfigOptions co;
    co.created_by = o->created_by;
    co.annotations = o->annotations;
    auto r = configure_container(*store, o->container, [&](const BuildState& s) { return apply_config(s, *o); }, co);
    return r ? 0 : report_error(r.error());
  };
}

}  // namespace kiln::cli
