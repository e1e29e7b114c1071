#include "frontend/dockerfile/lower.h"

#include <algorithm>

#include "frontend/dockerfile/lower_internal.h"
#include "oci/platform.h"
#include "parser/directives.h"
#include "parser/ignore.h"
#include "util/file.h"
#include "parser/errors.h"
#include "parser/parser.h"
#include "util/strings.h"

namespace kiln::dockerfile {

solver::OpOrigin StageCtx::origin(const parser::Instruction& ins) const {
  solver::OpOrigin o;
  o.description = ins.original;
  o.stage = name;
  o.step = step;
  o.step_count = step_count;
  o.file = l.opts.dockerfile_name;
  o.line_begin = ins.start_line;
  o.line_end = ins.end_line;
  return o;
}

std::vector<std::string> StageCtx::visible_args() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : scope.args().vars()) {
    if (!scope.env().vars().count(k)) {
      out.push_back(k + "=" + v);
    }
  }
  // Proxy variables from --build-arg reach RUN even undeclared (never keys or history).
  for (const auto& [k, v] : l.opts.build_args) {
    if (parser::is_proxy_arg(k) && !scope.args().vars().count(k)) {
      out.push_back(k + "=" + v);
    }
  }
  return out;
}

std::string go_quoted_list(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) {
      out += " ";
    }
    out += "\"";
    for (char c : v[i]) {
      if (c == '"' || c == '\\') {
        out += '\\';
      }
      out += c;
    }
    out += "\"";
  }
  return out + "]";
}

int Lowering::find_stage(const std::string& name) const {
  std::string lower = to_lower(name);
  for (size_t i = 0; i < stages.stages.size(); ++i) {
    const auto& f = std::get<parser::FromInstr>(stages.stages[i].from.value);
    if (!f.stage_name.empty() && f.stage_name == lower) {
      return static_cast<int>(i);
    }
  }
  if (auto n = parse_uint(name); n && *n < stages.stages.size()) {
    return static_cast<int>(*n);
  }
  return -1;
}

Error Lowering::located(Error e, const parser::Instruction& ins) const {
  if (!e.source()) {
    e.with_source(SourceRange{opts.dockerfile_name, ins.start_line, ins.end_line, 0});
  } else if (e.source()->file.empty()) {
    SourceRange r = *e.source();
    r.file = opts.dockerfile_name;
    e.with_source(r);
  }
  return e;
}

Result<void> dispatch(StageCtx& s, parser::Instruction ins) {
  std::set<std::string> unmatched;
  auto expanded = parser::expand_instruction(ins, s.scope, s.l.ast.directives.escape, &unmatched);
  if (!expanded) {
    return s.l.located(std::move(expanded).error(), ins);
  }
  Result<void> r;
  switch (ins.kind) {
    case parser::Keyword::run: r = lower_run(s, ins); break;
    case parser::Keyword::copy:
    case parser::Keyword::add: r = lower_copy(s, ins); break;
    case parser::Keyword::from:
    case parser::Keyword::unknown:
      return s.l.located(Error(ErrorCode::invalid_input, cat("unexpected instruction `", ins.original, "`")), ins);
    default: r = lower_meta(s, ins); break;
  }
  if (!r) {
    return s.l.located(std::move(r).error(), ins);
  }
  return {};
}

Result<BuildState> Lowering::stage(int i) {
  size_t idx = static_cast<size_t>(i);
  if (done[idx]) {
    return *done[idx];
  }
  const parser::Stage& st = stages.stages[idx];
  if (in_progress[idx]) {
    return located(Error(ErrorCode::invalid_input,
                         cat("circular dependency detected on stage `", std::get<parser::FromInstr>(st.from.value).stage_name.empty() ? std::to_string(i) : std::get<parser::FromInstr>(st.from.value).stage_name, "`")),
                   st.from);
  }
  in_progress[idx] = true;
  const auto& f = std::get<parser::FromInstr>(st.from.value);
  StageCtx s{*this, i, f.stage_name.empty() ? std::to_string(i) : f.stage_name, BuildState::scratch(),
             parser::StageScope(*args), {"/bin/sh", "-c"}, 1, static_cast<int>(st.instructions.size()) + 1};
  size_t first_step = steps.size();
  steps.push_back({i, static_cast<int>(stages.stages.size()), s.name, 1, s.step_count, st.from.original, false});
  KILN_TRY(lower_from(s, st.from));
  KILN_TRY(run_onbuild_triggers(s, st.from));
  for (const auto& ins : st.instructions) {
    ++s.step;
    bool op = ins.kind == parser::Keyword::run || ins.kind == parser::Keyword::copy ||
              ins.kind == parser::Keyword::add || ins.kind == parser::Keyword::workdir;
    steps.push_back({i, static_cast<int>(stages.stages.size()), s.name, s.step, s.step_count, ins.original, op});
    KILN_TRY(dispatch(s, ins));
  }
  (void)first_step;
  in_progress[idx] = false;
  done[idx] = s.state;
  return s.state;
}

namespace {

Result<void> check_platform(const std::string& platform) {
  if (platform.empty()) {
    return {};
  }
  KILN_TRY_ASSIGN(oci::Platform p, oci::parse_platform(platform));
  oci::Platform host = oci::host_platform();
  if (!p.matches(host)) {
    return Error(ErrorCode::unsupported, cat("--platform `", platform, "`: kiln builds only for this machine's platform `",
                                             host.str(), "`"));
  }
  return {};
}

Result<void> parse_all(Lowering& l) {
  auto ast = parser::parse(l.opts.dockerfile_text);
  if (!ast) {
    Error e = std::move(ast).error();
    if (e.source() && e.source()->file.empty()) {
      SourceRange r = *e.source();
      r.file = l.opts.dockerfile_name;
      e.with_source(r);
    }
    return e;
  }
  l.ast = std::move(*ast);
  for (const auto& w : l.ast.warnings) {
    l.warnings.push_back(cat(l.opts.dockerfile_name, ":", w.line, ": ", w.message));
  }
  if (l.ast.directives.syntax && !parser::is_builtin_syntax(*l.ast.directives.syntax)) {
    l.warnings.push_back(cat("ignoring `# syntax=", *l.ast.directives.syntax,
                             "`: kiln runs no frontend images and uses its built-in Dockerfile frontend"));
  }
  auto typed = parser::type_instructions(l.ast);
  if (!typed) {
    Error e = std::move(typed).error();
    if (e.source() && e.source()->file.empty()) {
      SourceRange r = *e.source();
      r.file = l.opts.dockerfile_name;
      e.with_source(r);
    }
    return e;
  }
  KILN_TRY_ASSIGN(l.stages, parser::split_stages(std::move(*typed)));
  return {};
}

}  // namespace

Result<LoweredBuild> lower_dockerfile(const LowerOptions& opts) {
  KILN_TRY(check_platform(opts.platform));
  Lowering l(opts);
  KILN_TRY(parse_all(l));
  std::string host = oci::host_platform().str();
  std::map<std::string, std::string, std::less<>> build_args(opts.build_args.begin(), opts.build_args.end());
  l.args = std::make_unique<parser::BuildArgs>(build_args, parser::automatic_platform_values(host, host));
  for (auto ins : l.stages.global_args) {
    KILN_TRY(parser::expand_instruction(ins, l.args->global_scope(), l.ast.directives.escape));
    for (const auto& a : std::get<parser::ArgInstr>(ins.value).args) {
      l.args->declare_global(a.key, a.value);
      l.declared_args.insert(a.key);
    }
  }
  l.done.resize(l.stages.stages.size());
  l.in_progress.assign(l.stages.stages.size(), false);
  int target = static_cast<int>(l.stages.stages.size()) - 1;
  if (!opts.target.empty()) {
    target = -1;
    std::string want = to_lower(opts.target);
    for (size_t i = 0; i < l.stages.stages.size(); ++i) {
      if (std::get<parser::FromInstr>(l.stages.stages[i].from.value).stage_name == want) {
        target = static_cast<int>(i);
      }
    }
    if (target < 0) {
      return Error(ErrorCode::invalid_input, cat("target stage `", opts.target, "` could not be found"));
    }
  }
  KILN_TRY_ASSIGN(BuildState final_state, l.stage(target));
  for (const auto& [k, v] : opts.labels) {
    final_state = final_state.with_label(k, v);
  }
  LoweredBuild out{final_state, l.steps, l.warnings, l.ast.directives.syntax.value_or("")};
  for (const auto& name : l.args->unused(l.declared_args)) {
    out.warnings.push_back(cat("build argument `", name, "` was not consumed by any ARG"));
  }
  std::stable_sort(out.steps.begin(), out.steps.end(),
                   [](const StepInfo& a, const StepInfo& b) { return a.stage_index < b.stage_index; });
  out.generated_contexts = l.generated_contexts;
  out.keep_alive = l.keep_alive;
  return out;
}

}  // namespace kiln::dockerfile

namespace kiln::dockerfile {

Result<std::vector<std::string>> load_context_ignore(const std::string& dockerfile_path, const std::string& context_dir,
                                                     const std::string& ignorefile) {
  std::vector<std::string> candidates;
  if (!ignorefile.empty()) {
    KILN_TRY_ASSIGN(std::string text, read_file(ignorefile).context("read --ignorefile"));
    return parser::read_ignore_patterns(text);
  }
  if (!dockerfile_path.empty() && dockerfile_path != "-") {
    candidates.push_back(dockerfile_path + ".containerignore");
    candidates.push_back(dockerfile_path + ".dockerignore");
  }
  candidates.push_back(path_join(context_dir, ".containerignore"));
  candidates.push_back(path_join(context_dir, ".dockerignore"));
  for (const auto& c : candidates) {
    KILN_TRY_ASSIGN(auto text, read_file_if_exists(c));
    if (text) {
      return parser::read_ignore_patterns(*text);
    }
  }
  return std::vector<std::string>{};
}

}  // namespace kiln::dockerfile
