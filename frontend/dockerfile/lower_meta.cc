// Instructions that change only the image config (plus WORKDIR's directory).
#include <algorithm>

#include "frontend/dockerfile/lower_internal.h"
#include "parser/values.h"
#include "util/strings.h"

namespace kiln::dockerfile {

namespace {

std::vector<std::string> command_args(const StageCtx& s, const parser::CommandLine& cmd) {
  if (!cmd.prepend_shell) {
    return cmd.args;
  }
  std::vector<std::string> argv = s.shell;
  argv.insert(argv.end(), cmd.args.begin(), cmd.args.end());
  return argv;
}

Result<std::vector<std::string>> expand_ports(const std::vector<std::string>& specs) {
  std::vector<std::string> out;
  for (const auto& spec : specs) {
    KILN_TRY_ASSIGN(parser::PortSpec p, parser::parse_port_spec(spec));
    if (p.last - p.first > 10000) {
      return Error(ErrorCode::invalid_input, cat("EXPOSE range `", spec, "` is too large"));
    }
    for (uint32_t port = p.first; port <= p.last; ++port) {
      out.push_back(cat(port, "/", p.proto));
    }
  }
  return out;
}

std::string key_values(const std::vector<parser::KeyValue>& kvs) {
  std::vector<std::string> parts;
  for (const auto& kv : kvs) {
    parts.push_back(kv.key + "=" + kv.value);
  }
  return join(parts, " ");
}

}  // namespace

Result<void> lower_meta(StageCtx& s, const parser::Instruction& ins) {
  BuildState& st = s.state;
  switch (ins.kind) {
    case parser::Keyword::env: {
      const auto& e = std::get<parser::EnvInstr>(ins.value);
      for (const auto& kv : e.env) {
        st = st.with_env(kv.key, kv.value);
        s.scope.set_env(kv.key, kv.value);
      }
      st = st.add_history("ENV " + key_values(e.env));
      return {};
    }
    case parser::Keyword::arg: {
      const auto& a = std::get<parser::ArgInstr>(ins.value);
      std::vector<std::string> shown;
      for (const auto& decl : a.args) {
        s.scope.declare_arg(decl.key, decl.value);
        s.l.declared_args.insert(decl.key);
        shown.push_back(decl.value ? decl.key + "=" + *decl.value : decl.key);
      }
      st = st.add_history("ARG " + join(shown, " "));
      return {};
    }
    case parser::Keyword::label: {
      const auto& l = std::get<parser::LabelInstr>(ins.value);
      for (const auto& kv : l.labels) {
        st = st.with_label(kv.key, kv.value);
      }
      st = st.add_history("LABEL " + key_values(l.labels));
      return {};
    }
    case parser::Keyword::maintainer: {
      const auto& m = std::get<parser::MaintainerInstr>(ins.value);
      st = st.with_author(m.maintainer).add_history("MAINTAINER " + m.maintainer);
      return {};
    }
    case parser::Keyword::expose: {
      KILN_TRY_ASSIGN(auto ports, expand_ports(std::get<parser::ExposeInstr>(ins.value).ports));
      std::vector<std::string> shown;
      for (const auto& p : ports) {
        st = st.with_exposed_port(p);
        shown.push_back(p + ":{}");
      }
      std::sort(shown.begin(), shown.end());
      st = st.add_history("EXPOSE map[" + join(shown, " ") + "]");
      return {};
    }
    case parser::Keyword::volume: {
      const auto& v = std::get<parser::VolumeInstr>(ins.value);
      for (const auto& p : v.paths) {
        if (p.empty()) {
          return Error(ErrorCode::invalid_input, "VOLUME specified can not be an empty string");
        }
        st = st.with_volume(p);
      }
      st = st.add_history("VOLUME [" + join(v.paths, " ") + "]");
      return {};
    }
    case parser::Keyword::user: {
      const auto& u = std::get<parser::UserInstr>(ins.value);
      st = st.with_user(u.user).add_history("USER " + u.user);
      return {};
    }
    case parser::Keyword::workdir: {
      const auto& w = std::get<parser::WorkdirInstr>(ins.value);
      st = st.with_workdir(w.path);
      st = st.mkdir(st.workdir(), "WORKDIR " + st.workdir(), s.origin(ins));
      return {};
    }
    case parser::Keyword::cmd: {
      auto args = command_args(s, std::get<parser::CmdInstr>(ins.value).cmd);
      st = st.with_cmd(args).add_history("CMD " + go_quoted_list(args));
      s.cmd_set = true;
      return {};
    }
    case parser::Keyword::entrypoint: {
      auto args = command_args(s, std::get<parser::EntrypointInstr>(ins.value).cmd);
      // An inherited CMD is reset; one set earlier in this stage stays.
      auto cmd = st.config().config.cmd;
      st = st.with_entrypoint(args);
      if (s.cmd_set) {
        st = st.with_cmd(cmd);
      }
      st = st.add_history("ENTRYPOINT " + go_quoted_list(args));
      return {};
    }
    case parser::Keyword::stopsignal: {
      const auto& sig = std::get<parser::StopsignalInstr>(ins.value).signal;
      KILN_TRY(parser::parse_signal(sig));
      st = st.with_stop_signal(sig).add_history("STOPSIGNAL " + sig);
      return {};
    }
    case parser::Keyword::healthcheck: {
      const auto& h = std::get<parser::HealthcheckInstr>(ins.value);
      oci::Healthcheck hc;
      hc.test = h.test;
      hc.interval_ns = h.interval;
      hc.timeout_ns = h.timeout;
      hc.start_period_ns = h.start_period;
      hc.start_interval_ns = h.start_interval;
      hc.retries = h.retries;
      st = st.with_healthcheck(hc).add_history("HEALTHCHECK " + go_quoted_list(h.test));
      return {};
    }
    case parser::Keyword::shell: {
      const auto& sh = std::get<parser::ShellInstr>(ins.value).shell;
      s.shell = sh;
      st = st.with_shell(sh).add_history("SHELL " + go_quoted_list(sh));
      return {};
    }
    case parser::Keyword::onbuild: {
      const auto& o = std::get<parser::OnbuildInstr>(ins.value);
      std::vector<std::string> triggers = st.config().config.on_build;
      triggers.push_back(o.expression);
      st = st.with_onbuild(triggers).add_history("ONBUILD " + o.expression);
      return {};
    }
    default:
      return Error(ErrorCode::internal, cat("no handler for `", ins.original, "`"));
  }
}

}  // namespace kiln::dockerfile
