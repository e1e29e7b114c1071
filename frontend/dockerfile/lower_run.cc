// RUN.
#include "frontend/dockerfile/lower_internal.h"
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

Result<solver::MountSpec> mount_spec(const parser::Mount& m) {
  solver::MountSpec spec;
  static const char* types[] = {"bind", "cache", "tmpfs", "secret", "ssh"};
  static const char* sharing[] = {"shared", "private", "locked"};
  spec.type = types[static_cast<int>(m.type)];
  spec.target = m.target;
  spec.source = m.source;
  spec.readonly = m.readonly;
  spec.id = m.id;
  if (m.type == parser::MountType::cache) {
    spec.sharing = sharing[static_cast<int>(m.sharing)];
  }
  spec.mode = m.mode;
  spec.uid = m.uid;
  spec.gid = m.gid;
  spec.size = m.size ? static_cast<uint64_t>(*m.size) : 0;
  spec.required = m.required;
  spec.env = m.env.value_or("");
  return spec;
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
  for (const auto& m : r.mounts) {
    RunMount rm;
    KILN_TRY_ASSIGN(rm.spec, mount_spec(m));
    if (!m.from.empty()) {
      KILN_TRY_ASSIGN(BuildState from, from_source(s, m.from));
      rm.from = std::make_shared<const BuildState>(from);
    } else if (m.type == parser::MountType::bind) {
      rm.from = std::make_shared<const BuildState>(BuildState::context("context", o.context_ignore));
    }
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
