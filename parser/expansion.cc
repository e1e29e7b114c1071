#include "parser/expansion.h"

#include <array>
#include <functional>

#include "parser/errors.h"
#include "parser/instructions_internal.h"
#include "parser/values.h"
#include "util/strings.h"

namespace kiln::parser {

namespace {

constexpr std::array<ExpansionRule, 28> k_rules{{
    {Keyword::from, "base", ExpandMode::word, ExpandScope::global},
    {Keyword::from, "platform", ExpandMode::word, ExpandScope::global},
    {Keyword::env, "env.key", ExpandMode::word, ExpandScope::stage},
    {Keyword::env, "env.value", ExpandMode::word, ExpandScope::stage},
    {Keyword::label, "labels.key", ExpandMode::word, ExpandScope::stage},
    {Keyword::label, "labels.value", ExpandMode::word, ExpandScope::stage},
    {Keyword::arg, "args.key", ExpandMode::word, ExpandScope::stage},
    {Keyword::arg, "args.value", ExpandMode::word, ExpandScope::stage},
    {Keyword::copy, "sources", ExpandMode::word, ExpandScope::stage},
    {Keyword::copy, "dest", ExpandMode::word, ExpandScope::stage},
    {Keyword::copy, "from", ExpandMode::word, ExpandScope::stage},
    {Keyword::copy, "chown", ExpandMode::word, ExpandScope::stage},
    {Keyword::copy, "chmod", ExpandMode::word, ExpandScope::stage},
    {Keyword::copy, "excludes", ExpandMode::word, ExpandScope::stage},
    {Keyword::copy, "contents.data", ExpandMode::raw, ExpandScope::stage},
    {Keyword::add, "sources", ExpandMode::word, ExpandScope::stage},
    {Keyword::add, "dest", ExpandMode::word, ExpandScope::stage},
    {Keyword::add, "chown", ExpandMode::word, ExpandScope::stage},
    {Keyword::add, "chmod", ExpandMode::word, ExpandScope::stage},
    {Keyword::add, "excludes", ExpandMode::word, ExpandScope::stage},
    {Keyword::add, "checksum", ExpandMode::word, ExpandScope::stage},
    {Keyword::add, "contents.data", ExpandMode::raw, ExpandScope::stage},
    {Keyword::workdir, "path", ExpandMode::word, ExpandScope::stage},
    {Keyword::user, "user", ExpandMode::word, ExpandScope::stage},
    {Keyword::volume, "paths", ExpandMode::word, ExpandScope::stage},
    {Keyword::stopsignal, "signal", ExpandMode::word, ExpandScope::stage},
    {Keyword::expose, "ports", ExpandMode::words, ExpandScope::stage},
    {Keyword::run, "mounts", ExpandMode::word, ExpandScope::stage},  // each option value
}};

constexpr std::array<std::string_view, 8> k_platform_args{
    "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
    "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT",
};
constexpr std::array<std::string_view, 10> k_proxy_args{
    "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
    "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy",
};

// Expands fields of one instruction; collects unmatched names.
class Expander {
 public:
  Expander(const EnvLookup& env, char escape, std::set<std::string>* unmatched)
      : m_env(env), m_lex(ShellOptions{escape, false, false, false, false}), m_unmatched(unmatched) {
    ShellOptions raw;
    raw.skip_process_quotes = true;
    m_raw = ShellLex(raw);
  }

  Result<void> word(std::string& s) { return run(m_lex, s); }
  Result<void> raw(std::string& s) { return run(m_raw, s); }
  Result<void> all(std::vector<std::string>& v) {
    for (std::string& s : v) {
      KILN_TRY(word(s));
    }
    return {};
  }
  Result<std::vector<std::string>> words(const std::string& s) {
    KILN_TRY_ASSIGN(ExpandResult r, m_lex.process(s, m_env));
    note(r);
    return std::move(r.words);
  }

 private:
  Result<void> run(const ShellLex& lex, std::string& s) {
    if (s.find('$') == std::string::npos && s.find(lex.options().escape) == std::string::npos &&
        s.find_first_of("'\"") == std::string::npos) {
      return {};  // nothing to expand or unquote
    }
    KILN_TRY_ASSIGN(ExpandResult r, lex.process(s, m_env));
    note(r);
    s = std::move(r.word);
    return {};
  }
  void note(const ExpandResult& r) {
    if (m_unmatched != nullptr) {
      m_unmatched->insert(r.unmatched.begin(), r.unmatched.end());
    }
  }

  const EnvLookup& m_env;
  ShellLex m_lex;
  ShellLex m_raw;
  std::set<std::string>* m_unmatched;
};

Result<void> expand_copy(CopyInstr& c, Expander& ex) {
  KILN_TRY(ex.all(c.sources));
  KILN_TRY(ex.word(c.dest));
  KILN_TRY(ex.word(c.from));
  KILN_TRY(ex.word(c.chown));
  KILN_TRY(ex.word(c.chmod));
  KILN_TRY(ex.word(c.checksum));
  KILN_TRY(ex.all(c.excludes));
  for (SourceContent& sc : c.contents) {
    if (sc.expand) {
      KILN_TRY(ex.raw(sc.data));
    }
  }
  if (!c.chmod.empty()) {
    KILN_TRY(parse_chmod(c.chmod));
  }
  if (!c.checksum.empty()) {
    KILN_TRY(validate_checksum(c.checksum));
  }
  return {};
}

Result<void> expand_run(RunInstr& r, Expander& ex) {
  detail::ValueExpander fn = [&ex](std::string_view v) -> Result<std::string> {
    std::string s(v);
    KILN_TRY(ex.word(s));
    return s;
  };
  r.mounts.clear();
  for (const std::string& spec : r.mount_specs) {
    KILN_TRY_ASSIGN(Mount m, detail::parse_mount(spec, &fn).context(cat("--mount=", spec)));
    r.mounts.push_back(std::move(m));
  }
  return {};
}

Result<void> expand_value(InstructionValue& value, Expander& ex) {
  if (auto* f = std::get_if<FromInstr>(&value)) {
    KILN_TRY(ex.word(f->base));
    return ex.word(f->platform);
  }
  if (auto* e = std::get_if<EnvInstr>(&value)) {
    for (KeyValue& kv : e->env) {
      KILN_TRY(ex.word(kv.key));
      KILN_TRY(ex.word(kv.value));
    }
    return {};
  }
  if (auto* l = std::get_if<LabelInstr>(&value)) {
    for (KeyValue& kv : l->labels) {
      KILN_TRY(ex.word(kv.key));
      KILN_TRY(ex.word(kv.value));
    }
    return {};
  }
  if (auto* a = std::get_if<ArgInstr>(&value)) {
    for (ArgDecl& d : a->args) {
      KILN_TRY(ex.word(d.key));
      if (d.value) {
        KILN_TRY(ex.word(*d.value));
      }
    }
    return {};
  }
  if (auto* c = std::get_if<CopyInstr>(&value)) {
    return expand_copy(*c, ex);
  }
  if (auto* r = std::get_if<RunInstr>(&value)) {
    return expand_run(*r, ex);
  }
  if (auto* w = std::get_if<WorkdirInstr>(&value)) {
    return ex.word(w->path);
  }
  if (auto* u = std::get_if<UserInstr>(&value)) {
    return ex.word(u->user);
  }
  if (auto* v = std::get_if<VolumeInstr>(&value)) {
    return ex.all(v->paths);
  }
  if (auto* s = std::get_if<StopsignalInstr>(&value)) {
    KILN_TRY(ex.word(s->signal));
    KILN_TRY(parse_signal(s->signal));
    return {};
  }
  if (auto* p = std::get_if<ExposeInstr>(&value)) {
    std::vector<std::string> ports;
    for (const std::string& raw : p->ports) {
      KILN_TRY_ASSIGN(std::vector<std::string> split_ports, ex.words(raw));
      for (std::string& port : split_ports) {
        KILN_TRY(parse_port_spec(port));
        ports.push_back(std::move(port));
      }
    }
    p->ports = std::move(ports);
  }
  return {};
}

}  // namespace

std::span<const ExpansionRule> expansion_rules() { return k_rules; }
std::span<const std::string_view> automatic_platform_args() { return k_platform_args; }
std::span<const std::string_view> proxy_args() { return k_proxy_args; }

bool is_proxy_arg(std::string_view name) {
  for (std::string_view p : k_proxy_args) {
    if (p == name) {
      return true;
    }
  }
  return false;
}

Result<void> expand_instruction(Instruction& ins, const EnvLookup& env, char escape, std::set<std::string>* unmatched) {
  Expander ex(env, escape, unmatched);
  Result<void> r = expand_value(ins.value, ex);
  if (!r) {
    return located_error(ErrorCode::invalid_input, r.error().render(), ins.start_line, ins.end_line);
  }
  return {};
}

std::map<std::string, std::string, std::less<>> automatic_platform_values(std::string_view target,
                                                                        std::string_view build) {
  std::map<std::string, std::string, std::less<>> out;
  auto fill = [&out](std::string_view prefix, std::string_view platform) {
    std::vector<std::string> parts = split(platform, '/');
    out[cat(prefix, "PLATFORM")] = std::string(platform);
    out[cat(prefix, "OS")] = parts.size() > 0 ? parts[0] : "";
    out[cat(prefix, "ARCH")] = parts.size() > 1 ? parts[1] : "";
    out[cat(prefix, "VARIANT")] = parts.size() > 2 ? parts[2] : "";
  };
  fill("TARGET", target);
  fill("BUILD", build);
  return out;
}

BuildArgs::BuildArgs(std::map<std::string, std::string, std::less<>> build_args,
                     std::map<std::string, std::string, std::less<>> automatic)
    : m_build_args(std::move(build_args)), m_automatic(std::move(automatic)) {
  for (const auto& [k, v] : m_automatic) {
    // --build-arg may override the automatic values (BuildKit allows it).
    auto it = m_build_args.find(k);
    m_global.set(k, it != m_build_args.end() ? it->second : v);
  }
}

void BuildArgs::declare_global(const std::string& name, std::optional<std::string> default_value) {
  m_declared_globals.insert(name);
  auto it = m_build_args.find(name);
  if (it != m_build_args.end()) {
    m_global.set(name, it->second);
  } else if (default_value) {
    m_global.set(name, std::move(*default_value));
  } else if (m_automatic.find(name) == m_automatic.end()) {
    m_global.unset(name);
  }
}

std::optional<std::string> BuildArgs::global_value(std::string_view name) const {
  if (m_declared_globals.find(name) == m_declared_globals.end()) {
    return std::nullopt;
  }
  std::optional<std::string_view> v = m_global.lookup(name);
  return v ? std::optional<std::string>(*v) : std::nullopt;
}

std::optional<std::string> BuildArgs::automatic_value(std::string_view name) const {
  std::optional<std::string_view> v = m_global.lookup(name);
  if (!v || m_automatic.find(name) == m_automatic.end()) {
    return std::nullopt;
  }
  return std::string(*v);
}

std::vector<std::string> BuildArgs::unused(const std::set<std::string>& declared) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : m_build_args) {
    if (declared.count(k) == 0 && m_declared_globals.count(k) == 0 && !is_proxy_arg(k) &&
        m_automatic.count(k) == 0) {
      out.push_back(k);
    }
  }
  return out;
}

void StageScope::declare_arg(const std::string& name, std::optional<std::string> default_value) {
  auto it = m_args->build_args().find(name);
  if (it != m_args->build_args().end()) {
    m_stage_args.set(name, it->second);
  } else if (default_value) {
    m_stage_args.set(name, std::move(*default_value));
  } else if (std::optional<std::string> g = m_args->global_value(name)) {
    m_stage_args.set(name, std::move(*g));
  } else if (std::optional<std::string> a = m_args->automatic_value(name)) {
    m_stage_args.set(name, std::move(*a));
  } else {
    m_stage_args.unset(name);
  }
}

std::optional<std::string_view> StageScope::lookup(std::string_view name) const {
  if (std::optional<std::string_view> v = m_env.lookup(name)) {
    return v;
  }
  return m_stage_args.lookup(name);
}

}  // namespace kiln::parser
