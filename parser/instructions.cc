#include "parser/instructions.h"

#include <array>

#include "parser/errors.h"
#include "parser/instructions_internal.h"
#include "parser/unicode.h"
#include "parser/values.h"
#include "util/strings.h"

namespace kiln::parser {

namespace detail {

std::string upper_name(const Node& node) {
  std::string_view k = keyword_name(node.kind);
  if (!k.empty()) {
    return std::string(k);
  }
  std::string out(node.keyword);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 32);
    }
  }
  return out;
}

Error node_error(const Node& node, std::string message, std::string_view near) {
  int column = 0;
  if (!near.empty()) {
    size_t at = node.original.find(near);
    if (at != std::string::npos && at < node.first_piece) {
      column = node.column + static_cast<int>(at);
    }
  }
  return located_error(ErrorCode::invalid_input, std::move(message), node.start_line, node.end_line, column);
}

Result<FlagValues> node_flags(const Node& node, std::span<const FlagSpec> specs) {
  Result<FlagValues> r = parse_flags(node, specs);
  if (r) {
    return r;
  }
  // Point at the first flag the message names.
  const std::string& msg = r.error().message();
  size_t tick = msg.find("`--");
  std::string_view near;
  if (tick != std::string::npos) {
    size_t end = msg.find_first_of("`=", tick + 1);
    near = std::string_view(msg).substr(tick + 1, end - tick - 1);
  }
  return node_error(node, msg, near);
}

CommandLine command_line(const Node& node) {
  CommandLine cl;
  cl.args = node.args;
  cl.prepend_shell = !node.json_form;
  cl.files = node.heredocs;
  return cl;
}

}  // namespace detail

namespace {

using detail::node_error;
using detail::node_flags;

Error count_error(const Node& node, std::string_view what) {
  return node_error(node, cat(detail::upper_name(node), " requires ", what));
}

Result<InstructionValue> type_from(const Node& node) {
  static constexpr std::array<FlagSpec, 1> k_flags{{{"platform", FlagType::string}}};
  KILN_TRY_ASSIGN(FlagValues flags, node_flags(node, k_flags));
  FromInstr f;
  const auto& a = node.args;
  if (a.size() == 3 && to_lower(a[1]) == "as") {
    f.stage_name = unicode::to_lower(a[2]);
    bool ok = !f.stage_name.empty() && f.stage_name[0] >= 'a' && f.stage_name[0] <= 'z' &&
              f.stage_name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_.") == std::string::npos;
    if (!ok) {
      return node_error(node,
                        cat("invalid name for build stage: ", unicode::quote(a[2]),
                            ", name can't start with a number or contain symbols"),
                        a[2]);
    }
  } else if (a.size() != 1) {
    return node_error(node, "FROM requires either one or three arguments (`FROM image [AS name]`)");
  }
  f.base = a[0];
  f.platform = flags.get("platform");
  return f;
}

Result<std::vector<KeyValue>> key_values(const Node& node) {
  if (node.args.empty()) {
    return count_error(node, "at least one argument");
  }
  std::vector<KeyValue> out;
  for (size_t i = 0; i + 2 < node.args.size(); i += 3) {
    if (node.args[i].empty()) {
      return node_error(node, cat(detail::upper_name(node), " names can not be blank"));
    }
    out.push_back({node.args[i], node.args[i + 1]});
  }
  return out;
}

Result<InstructionValue> type_arg(const Node& node) {
  KILN_TRY(node_flags(node, {}));
  if (node.args.empty()) {
    return count_error(node, "at least one argument");
  }
  ArgInstr a;
  for (const std::string& w : node.args) {
    ArgDecl d;
    size_t eq = w.find('=');
    d.key = w.substr(0, eq);
    if (eq != std::string::npos) {
      d.value = w.substr(eq + 1);
    }
    if (d.key.empty()) {
      return node_error(node, "ARG names can not be blank");
    }
    a.args.push_back(std::move(d));
  }
  return a;
}

Result<InstructionValue> type_onbuild(const Node& node) {
  KILN_TRY(node_flags(node, {}));
  if (!node.trigger) {
    return count_error(node, "at least one argument");
  }
  OnbuildInstr o;
  o.trigger = node.trigger->kind;
  std::string trigger = detail::upper_name(*node.trigger);
  if (o.trigger == Keyword::onbuild) {
    return node_error(node, "chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  }
  if (o.trigger == Keyword::from || o.trigger == Keyword::maintainer) {
    return node_error(node, cat(trigger, " isn't allowed as an ONBUILD trigger"));
  }
  if (o.trigger == Keyword::unknown) {
    return node_error(node, cat("unknown instruction ", unicode::quote(node.trigger->keyword), " in ONBUILD"),
                      node.trigger->keyword);
  }
  o.expression = std::string(unicode::trim(node.trigger->original));
  for (const Heredoc& h : node.heredocs) {
    o.expression += "\n" + h.content + h.name;
  }
  return o;
}

Result<std::string> exactly_one(const Node& node) {
  KILN_TRY(node_flags(node, {}));
  if (node.args.size() != 1) {
    return count_error(node, "exactly one argument");
  }
  return node.args[0];
}

Result<InstructionValue> type_simple(const Node& node) {
  switch (node.kind) {
    case Keyword::maintainer: {
      KILN_TRY_ASSIGN(std::string v, exactly_one(node));
      return MaintainerInstr{v};
    }
    case Keyword::user: {
      KILN_TRY_ASSIGN(std::string v, exactly_one(node));
      return UserInstr{v};
    }
    case Keyword::workdir: {
      KILN_TRY_ASSIGN(std::string v, exactly_one(node));
      return WorkdirInstr{v};
    }
    case Keyword::stopsignal: {
      KILN_TRY_ASSIGN(std::string v, exactly_one(node));
      if (!needs_expansion(v)) {
        if (Result<int> sig = parse_signal(v); !sig) {
          return node_error(node, sig.error().message(), v);
        }
      }
      return StopsignalInstr{v};
    }
    case Keyword::expose: {
      KILN_TRY(node_flags(node, {}));
      if (node.args.empty()) {
        return count_error(node, "at least one argument");
      }
      for (const std::string& p : node.args) {
        if (!needs_expansion(p)) {
          if (Result<PortSpec> ps = parse_port_spec(p); !ps) {
            return node_error(node, ps.error().message(), p);
          }
        }
      }
      return ExposeInstr{node.args};
    }
    case Keyword::volume: {
      KILN_TRY(node_flags(node, {}));
      if (node.args.empty()) {
        return count_error(node, "at least one argument");
      }
      VolumeInstr v;
      for (const std::string& p : node.args) {
        std::string_view t = unicode::trim(p);
        if (t.empty()) {
          return node_error(node, "VOLUME specified can not be an empty string");
        }
        v.paths.emplace_back(t);
      }
      return v;
    }
    default:
      return node_error(node, "internal: not a simple instruction");
  }
}

Result<InstructionValue> type_value(const Node& node) {
  switch (node.kind) {
    case Keyword::from:
      return type_from(node);
    case Keyword::run:
      return detail::type_run(node);
    case Keyword::cmd:
      KILN_TRY(node_flags(node, {}));
      return CmdInstr{detail::command_line(node)};
    case Keyword::entrypoint:
      KILN_TRY(node_flags(node, {}));
      return EntrypointInstr{detail::command_line(node)};
    case Keyword::shell:
      KILN_TRY(node_flags(node, {}));
      if (node.args.empty()) {
        return count_error(node, "at least one argument");
      }
      if (!node.json_form) {
        return node_error(node, "SHELL requires the arguments to be in JSON form (`SHELL [\"/bin/sh\", \"-c\"]`)");
      }
      return ShellInstr{node.args};
    case Keyword::label:
    case Keyword::env: {
      KILN_TRY(node_flags(node, {}));
      KILN_TRY_ASSIGN(std::vector<KeyValue> kvs, key_values(node));
      if (node.kind == Keyword::env) {
        return EnvInstr{std::move(kvs)};
      }
      return LabelInstr{std::move(kvs)};
    }
    case Keyword::add:
    case Keyword::copy:
      return detail::type_copy(node);
    case Keyword::arg:
      return type_arg(node);
    case Keyword::onbuild:
      return type_onbuild(node);
    case Keyword::healthcheck:
      return detail::type_healthcheck(node);
    case Keyword::unknown:
      return node_error(node, cat("unknown instruction ", unicode::quote(node.keyword)), node.keyword);
    default:
      return type_simple(node);
  }
}

}  // namespace

Result<Instruction> type_instruction(const Node& node) {
  KILN_TRY_ASSIGN(InstructionValue value, type_value(node));
  Instruction ins;
  ins.kind = node.kind;
  ins.original = std::string(unicode::trim(node.original));
  ins.start_line = node.start_line;
  ins.end_line = node.end_line;
  ins.value = std::move(value);
  return ins;
}

Result<std::vector<Instruction>> type_instructions(const Ast& ast) {
  std::vector<Instruction> out;
  out.reserve(ast.instructions.size());
  for (const Node& node : ast.instructions) {
    KILN_TRY_ASSIGN(Instruction ins, type_instruction(node));
    out.push_back(std::move(ins));
  }
  return out;
}

Result<Stages> split_stages(std::vector<Instruction> instructions) {
  Stages out;
  for (Instruction& ins : instructions) {
    if (ins.kind == Keyword::from) {
      out.stages.push_back(Stage{std::move(ins), {}});
    } else if (!out.stages.empty()) {
      out.stages.back().instructions.push_back(std::move(ins));
    } else if (ins.kind == Keyword::arg) {
      out.global_args.push_back(std::move(ins));
    } else {
      return located_error(ErrorCode::invalid_input,
                           cat(keyword_name(ins.kind), " before the first FROM: only ARG may come before FROM"),
                           ins.start_line, ins.end_line);
    }
  }
  if (out.stages.empty()) {
    return located_error(ErrorCode::invalid_input, "the Dockerfile has no FROM instruction", 0);
  }
  return out;
}

}  // namespace kiln::parser
