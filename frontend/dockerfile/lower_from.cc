// FROM and ONBUILD triggers.
#include "frontend/dockerfile/lower_internal.h"
#include "oci/platform.h"
#include "parser/parser.h"
#include "util/strings.h"

namespace kiln::dockerfile {

namespace {

void adopt_config_scope(StageCtx& s) {
  for (const auto& kv : s.state.config().config.env) {
    auto p = split_once(kv, '=');
    s.scope.set_env(p ? p->first : kv, p ? p->second : "");
  }
  if (!s.state.config().config.shell.empty()) {
    s.shell = s.state.config().config.shell;
  }
}

}  // namespace

Result<void> lower_from(StageCtx& s, const parser::Instruction& from_ins) {
  parser::Instruction ins = from_ins;
  std::set<std::string> unmatched;
  auto ex = parser::expand_instruction(ins, s.l.args->global_scope(), s.l.ast.directives.escape, &unmatched);
  if (!ex) {
    return s.l.located(std::move(ex).error(), ins);
  }
  const auto& f = std::get<parser::FromInstr>(ins.value);
  if (!f.platform.empty()) {
    KILN_TRY_ASSIGN(oci::Platform p, oci::parse_platform(f.platform).context("FROM --platform"));
    if (!p.matches(oci::host_platform())) {
      return s.l.located(Error(ErrorCode::unsupported, cat("FROM --platform=", f.platform,
                                                           ": kiln builds only for this machine's platform `",
                                                           oci::host_platform().str(), "`")),
                         ins);
    }
  }
  if (f.base.empty()) {
    return s.l.located(Error(ErrorCode::invalid_input, "FROM needs an image or stage name"), ins);
  }
  if (to_lower(f.base) == "scratch") {
    s.state = BuildState::scratch();
    return {};
  }
  // An earlier stage by name (later names are images, as in BuildKit).
  std::string lower = to_lower(f.base);
  for (int i = 0; i < s.index; ++i) {
    const auto& other = std::get<parser::FromInstr>(s.l.stages.stages[static_cast<size_t>(i)].from.value);
    if (!other.stage_name.empty() && other.stage_name == lower) {
      KILN_TRY_ASSIGN(s.state, s.l.stage(i));
      adopt_config_scope(s);
      return {};
    }
  }
  if (s.l.opts.named_context_images.count(f.base) != 0) {
    lower = s.l.opts.named_context_images.at(f.base);
  } else {
    lower = f.base;
  }
  if (!s.l.opts.resolve_image) {
    return s.l.located(Error(ErrorCode::internal, "no image resolver"), ins);
  }
  auto img = s.l.opts.resolve_image(lower);
  if (!img) {
    return s.l.located(std::move(img).error(), ins);
  }
  s.state = BuildState::image(*img);
  adopt_config_scope(s);
  return {};
}

Result<void> run_onbuild_triggers(StageCtx& s, const parser::Instruction& from) {
  std::vector<std::string> triggers = s.state.config().config.on_build;
  if (triggers.empty()) {
    return {};
  }
  s.state = s.state.with_onbuild({});
  for (const auto& t : triggers) {
    auto ast = parser::parse(t);
    if (!ast) {
      return s.l.located(Error(ErrorCode::invalid_input, cat("ONBUILD trigger `", t, "` of the base image: ",
                                                             ast.error().render())),
                         from);
    }
    for (const auto& node : ast->instructions) {
      auto typed = parser::type_instruction(node);
      if (!typed) {
        return s.l.located(Error(ErrorCode::invalid_input, cat("ONBUILD trigger `", t, "`: ", typed.error().render())),
                           from);
      }
      if (typed->kind == parser::Keyword::from || typed->kind == parser::Keyword::onbuild ||
          typed->kind == parser::Keyword::maintainer) {
        return s.l.located(Error(ErrorCode::invalid_input, cat("ONBUILD trigger `", t, "` is not allowed")), from);
      }
      // Triggers report at the FROM line that pulled them in.
      typed->start_line = from.start_line;
      typed->end_line = from.end_line;
      KILN_TRY(dispatch(s, std::move(*typed)));
    }
  }
  return {};
}

}  // namespace kiln::dockerfile
