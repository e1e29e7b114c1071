#include "parser/typed_dump.h"

#include "parser/unicode.h"
#include "util/strings.h"

namespace kiln::parser {

namespace {

class Out {
 public:
  explicit Out(std::string_view head) { m_s = cat("(", head); }
  void str(std::string_view key, const std::string& v, bool always = false) {
    if (always || !v.empty()) {
      m_s += cat(" :", key, " ");
      unicode::append_quoted(m_s, v);
    }
  }
  void list(std::string_view key, const std::vector<std::string>& v, bool always = false) {
    if (!always && v.empty()) {
      return;
    }
    m_s += cat(" :", key, " (");
    for (size_t i = 0; i < v.size(); ++i) {
      if (i > 0) {
        m_s += " ";
      }
      unicode::append_quoted(m_s, v[i]);
    }
    m_s += ")";
  }
  void flag(std::string_view key, bool v) {
    if (v) {
      m_s += cat(" :", key, " true");
    }
  }
  void raw(std::string_view key, std::string_view v) { m_s += cat(" :", key, " ", v); }
  std::string done() { return m_s + ")"; }

 private:
  std::string m_s;
};

void command(Out& o, const CommandLine& c) {
  o.list("args", c.args, true);
  o.raw("form", c.prepend_shell ? "shell" : "exec");
  for (const Heredoc& h : c.files) {
    o.str("file", h.name);
  }
}

std::string mount(const Mount& m) {
  static const char* k_types[] = {"bind", "cache", "tmpfs", "secret", "ssh"};
  static const char* k_sharing[] = {"shared", "private", "locked"};
  Out o(k_types[static_cast<int>(m.type)]);
  o.str("target", m.target);
  o.str("source", m.source);
  o.str("from", m.from);
  o.str("id", m.id);
  o.raw("ro", m.readonly ? "true" : "false");
  if (m.sharing != MountSharing::shared) {
    o.raw("sharing", k_sharing[static_cast<int>(m.sharing)]);
  }
  if (m.mode) {
    std::string oct;
    for (uint32_t v = *m.mode; v != 0; v /= 8) {
      oct.insert(oct.begin(), static_cast<char>('0' + v % 8));
    }
    o.raw("mode", "0" + oct);
  }
  if (m.uid) {
    o.raw("uid", std::to_string(*m.uid));
  }
  if (m.gid) {
    o.raw("gid", std::to_string(*m.gid));
  }
  o.flag("required", m.required);
  if (m.size) {
    o.raw("size", std::to_string(*m.size));
  }
  if (m.env) {
    o.str("env", *m.env, true);
  }
  return o.done();
}

std::string dump_run(const RunInstr& r) {
  static const char* k_net[] = {"", "default", "none", "host"};
  static const char* k_sec[] = {"", "sandbox", "insecure"};
  Out o("run");
  command(o, r.cmd);
  for (const Mount& m : r.mounts) {
    o.raw("mount", mount(m));
  }
  if (r.network != NetworkMode::unset) {
    o.raw("network", k_net[static_cast<int>(r.network)]);
  }
  if (r.security != SecurityMode::unset) {
    o.raw("security", k_sec[static_cast<int>(r.security)]);
  }
  o.list("devices", r.devices);
  return o.done();
}

std::string dump_copy(const CopyInstr& c) {
  Out o(c.kind == Keyword::add ? "add" : "copy");
  o.list("sources", c.sources);
  for (const SourceContent& sc : c.contents) {
    Out content("content");
    content.str("path", sc.path, true);
    content.str("data", sc.data, true);
    content.raw("expand", sc.expand ? "true" : "false");
    o.raw("content", content.done());
  }
  o.str("dest", c.dest, true);
  o.str("from", c.from);
  o.str("chown", c.chown);
  o.str("chmod", c.chmod);
  o.flag("link", c.link);
  o.flag("parents", c.parents);
  o.flag("keep-git-dir", c.keep_git_dir);
  o.str("checksum", c.checksum);
  if (c.unpack) {
    o.raw("unpack", *c.unpack ? "true" : "false");
  }
  o.list("excludes", c.excludes);
  return o.done();
}

std::string kvs(std::string_view head, const std::vector<KeyValue>& v) {
  Out o(head);
  for (const KeyValue& kv : v) {
    o.list("pair", {kv.key, kv.value});
  }
  return o.done();
}

std::string dump_health(const HealthcheckInstr& h) {
  Out o("healthcheck");
  o.list("test", h.test, true);
  const std::pair<const char*, int64_t> d[] = {{"interval", h.interval},
                                               {"timeout", h.timeout},
                                               {"start-period", h.start_period},
                                               {"start-interval", h.start_interval}};
  for (const auto& [k, v] : d) {
    if (v != 0) {
      o.raw(k, cat(v, "ns"));
    }
  }
  if (h.retries != 0) {
    o.raw("retries", std::to_string(h.retries));
  }
  return o.done();
}

struct Visitor {
  std::string operator()(const FromInstr& f) {
    Out o("from");
    o.str("base", f.base, true);
    o.str("stage", f.stage_name);
    o.str("platform", f.platform);
    return o.done();
  }
  std::string operator()(const RunInstr& r) { return dump_run(r); }
  std::string operator()(const CmdInstr& c) {
    Out o("cmd");
    command(o, c.cmd);
    return o.done();
  }
  std::string operator()(const EntrypointInstr& c) {
    Out o("entrypoint");
    command(o, c.cmd);
    return o.done();
  }
  std::string operator()(const ShellInstr& s) {
    Out o("shell");
    o.list("shell", s.shell, true);
    return o.done();
  }
  std::string operator()(const LabelInstr& l) { return kvs("label", l.labels); }
  std::string operator()(const EnvInstr& e) { return kvs("env", e.env); }
  std::string operator()(const MaintainerInstr& m) {
    Out o("maintainer");
    o.str("name", m.maintainer, true);
    return o.done();
  }
  std::string operator()(const ExposeInstr& e) {
    Out o("expose");
    o.list("ports", e.ports, true);
    return o.done();
  }
  std::string operator()(const CopyInstr& c) { return dump_copy(c); }
  std::string operator()(const VolumeInstr& v) {
    Out o("volume");
    o.list("paths", v.paths, true);
    return o.done();
  }
  std::string operator()(const UserInstr& u) {
    Out o("user");
    o.str("user", u.user, true);
    return o.done();
  }
  std::string operator()(const WorkdirInstr& w) {
    Out o("workdir");
    o.str("path", w.path, true);
    return o.done();
  }
  std::string operator()(const ArgInstr& a) {
    Out o("arg");
    for (const ArgDecl& d : a.args) {
      if (d.value) {
        o.list("pair", {d.key, *d.value});
      } else {
        o.list("name", {d.key});
      }
    }
    return o.done();
  }
  std::string operator()(const OnbuildInstr& ob) {
    Out o("onbuild");
    o.str("expression", ob.expression, true);
    return o.done();
  }
  std::string operator()(const StopsignalInstr& s) {
    Out o("stopsignal");
    o.str("signal", s.signal, true);
    return o.done();
  }
  std::string operator()(const HealthcheckInstr& h) { return dump_health(h); }
};

}  // namespace

std::string dump_typed(const Instruction& ins) { return std::visit(Visitor{}, ins.value); }

}  // namespace kiln::parser
