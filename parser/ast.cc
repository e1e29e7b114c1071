#include "parser/ast.h"

#include <array>
#include <utility>

#include "parser/unicode.h"

namespace kiln::parser {

namespace {
constexpr std::array<std::pair<std::string_view, Keyword>, 18> k_keywords{{
    {"add", Keyword::add},
    {"arg", Keyword::arg},
    {"cmd", Keyword::cmd},
    {"copy", Keyword::copy},
    {"entrypoint", Keyword::entrypoint},
    {"env", Keyword::env},
    {"expose", Keyword::expose},
    {"from", Keyword::from},
    {"healthcheck", Keyword::healthcheck},
    {"label", Keyword::label},
    {"maintainer", Keyword::maintainer},
    {"onbuild", Keyword::onbuild},
    {"run", Keyword::run},
    {"shell", Keyword::shell},
    {"stopsignal", Keyword::stopsignal},
    {"user", Keyword::user},
    {"volume", Keyword::volume},
    {"workdir", Keyword::workdir},
}};
constexpr std::array<std::string_view, 18> k_upper{
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
    "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
};

void append_dump(std::string& out, const Node& node) {
  size_t start = out.size();
  out += unicode::to_lower(node.keyword);
  if (!node.flags.empty()) {
    out += " [";
    for (size_t i = 0; i < node.flags.size(); ++i) {
      if (i > 0) {
        out.push_back(' ');
      }
      unicode::append_quoted(out, node.flags[i]);
    }
    out.push_back(']');
  }
  if (node.trigger) {
    out += " (";
    append_dump(out, *node.trigger);
    out.push_back(')');
  }
  for (const std::string& arg : node.args) {
    out.push_back(' ');
    unicode::append_quoted(out, arg);
  }
  // Go's Dump() ends with strings.TrimSpace; only an empty keyword leaves
  // leading blanks (`("")`).
  std::string_view mine(out.data() + start, out.size() - start);
  std::string_view trimmed = unicode::trim(mine);
  if (trimmed.size() != mine.size()) {
    std::string copy(trimmed);
    out.resize(start);
    out += copy;
  }
}

}  // namespace

Keyword keyword_from_lower(std::string_view lower) {
  for (const auto& [name, kind] : k_keywords) {
    if (name == lower) {
      return kind;
    }
  }
  return Keyword::unknown;
}

std::string_view keyword_name(Keyword k) {
  auto i = static_cast<size_t>(k);
  return i < k_upper.size() ? k_upper[i] : std::string_view();
}

std::string dump_node(const Node& node) {
  std::string out;
  append_dump(out, node);
  return out;
}

std::string dump(const Ast& ast) {
  std::string out;
  for (size_t i = 0; i < ast.instructions.size(); ++i) {
    if (i > 0) {
      out.push_back('\n');
    }
    out.push_back('(');
    append_dump(out, ast.instructions[i]);
    out.push_back(')');
  }
  return out;
}

std::string dump_with_heredocs(const Ast& ast) {
  std::string out;
  for (const Node& node : ast.instructions) {
    out.push_back('(');
    append_dump(out, node);
    out += ")\n";
    for (const Heredoc& h : node.heredocs) {
      out += "  (heredoc ";
      unicode::append_quoted(out, h.name);
      out += " fd=" + std::to_string(h.fd);
      out += h.expand ? " expand=true" : " expand=false";
      out += h.chomp ? " chomp=true " : " chomp=false ";
      unicode::append_quoted(out, h.content);
      out += ")\n";
    }
  }
  return out;
}

}  // namespace kiln::parser
