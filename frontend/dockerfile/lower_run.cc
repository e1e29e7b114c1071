// RUN.
#include "frontend/dockerfile/lower_internal.h"
#include "frontend/dockerfile/run_mount.h"
#include "parser/heredoc.h"
#include "util/strings.h"

namespace kiln::dockerfile {

namespace {

// The argv a RUN executes. Shell form goes through SHELL; heredocs are handed
// to the shell with the command line, which reads them natively; a RUN that
// is only a heredoc runs its body as the script (BuildKit's behaviour).
std::vector<std::string> run_args(const StageCtx& s, const parser::CommandLine& cmd) {
  if (!cmd.prepend_shell) {
    return cmd.args;
  }
  std::string script = cmd.args.empty() ? std::string() : cmd.args[0];
  if (!cmd.files.empty()) {
    const auto& first = cmd.files.front();
    std::string line(trim(script));
    bool only_heredoc = cmd.files.size() == 1 && (line.starts_with("<<") && line.find(' ') == std::string::npos);
    if (only_heredoc) {
      script = first.chomp ? parser::chomp_heredoc(first.content) : first.content;
    } else {
      for (const auto& h : cmd.files) {
        script += "\n" + h.content + h.name;
      }
    }
  }
  std::vector<std::string> argv = s.shell;
  argv.push_back(script);
  return argv;
}

}  // namespace

Result<void> lower_run(StageCtx& s, const parser::Instruction& ins) {
  const auto& r = std::get<parser::RunInstr>(ins.value);
  const LowerOptions& o = s.l.opts;
  RunOptions ro;
  ro.args = run_args(s, r.cmd);
  ro.extra_env = s.visible_args();
  ro.network = o.network;
  if (r.network == parser::NetworkMode::none) {
    ro.network = solver::NetworkMode::none;
  } else if (r.network == parser::NetworkMode::host) {
    ro.network = solver::NetworkMode::host;
  }
  ro.insecure = r.security == parser::SecurityMode::insecure;
  ro.cap_add = o.cap_add;
  ro.cap_drop = o.cap_drop;
  ro.no_new_privileges = o.no_new_privileges;
  ro.extra_hosts = o.extra_hosts;
  ro.ulimits = o.ulimits;
  RunMountContext mc;
  mc.workdir = s.state.workdir();
  mc.resolve_from = [&s](const std::string& from) { return from_source(s, from); };
  mc.default_source = [&o]() -> Result<BuildState> { return BuildState::context("context", o.context_ignore); };
  for (const auto& m : r.mounts) {
    KILN_TRY_ASSIGN(RunMount rm, to_run_mount(m, mc));
    ro.mounts.push_back(std::move(rm));
  }
  // History text as BuildKit writes it: the build args the step sees, then argv.
  std::vector<std::string> shown;
  for (const auto& kv : s.visible_args()) {
    auto p = split_once(kv, '=');
    if (p && !parser::is_proxy_arg(p->first)) {
      shown.push_back(kv);
    }
  }
  std::string prefix = shown.empty() ? "" : cat("|", shown.size(), " ", join(shown, " "), " ");
  ro.created_by = cat("RUN ", prefix, join(ro.args, " "), " # buildkit");
  ro.origin = s.origin(ins);
  s.state = s.state.run(ro);
  return {};
}

}  // namespace kiln::dockerfile
