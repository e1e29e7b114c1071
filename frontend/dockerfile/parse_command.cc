#include "frontend/dockerfile/parse_command.h"

#include "oci/json.h"
#include "parser/errors.h"
#include "parser/instructions.h"
#include "parser/parser.h"
#include "util/strings.h"

namespace kiln::dockerfile {

namespace {

using oci::Json;

Json instruction_json(const parser::Node& node, bool with_heredocs) {
  Json j = Json::object();
  j["keyword"] = node.keyword;
  j["start_line"] = node.start_line;
  j["end_line"] = node.end_line;
  j["flags"] = node.flags;
  j["args"] = node.args;
  j["json_form"] = node.json_form;
  j["original"] = std::string(trim(node.original));
  Json docs = Json::array();
  if (with_heredocs) {
    for (const parser::Heredoc& h : node.heredocs) {
      docs.push_back(
          Json{{"delimiter", h.name}, {"body", h.content}, {"expand", h.expand}, {"strip_tabs", h.chomp}});
    }
  }
  j["heredocs"] = std::move(docs);
  if (node.trigger) {
    j["trigger"] = instruction_json(*node.trigger, false);
  }
  return j;
}

std::string render_json(const parser::Ast& ast) {
  const parser::Directives& d = ast.directives;
  Json directives = Json::object();
  directives["escape"] = std::string(1, d.escape);
  directives["syntax"] = d.syntax ? Json(*d.syntax) : Json(nullptr);
  directives["check"] = d.check ? Json(*d.check) : Json(nullptr);
  Json list = Json::array();
  for (const parser::Node& node : ast.instructions) {
    list.push_back(instruction_json(node, true));
  }
  Json root = Json::object();
  root["directives"] = std::move(directives);
  root["instructions"] = std::move(list);
  return oci::dump_json(root) + "\n";
}

Error rendered(const Error& err, std::string_view text, std::string_view name) {
  Error out(err.code(), parser::render_error(err, text, name));
  if (err.source()) {
    SourceRange range = *err.source();
    range.file = std::string(name);
    out.with_source(std::move(range));
  }
  return out;
}

}  // namespace

Result<std::string> render_parse(std::string_view text, std::string_view display_name, ParseOutput output,
                                 Validate validate, std::vector<std::string>* warnings) {
  Result<parser::Ast> ast = parser::parse(text);
  if (!ast) {
    return rendered(ast.error(), text, display_name);
  }
  if (validate == Validate::yes) {
    Result<std::vector<parser::Instruction>> typed = parser::type_instructions(*ast);
    if (!typed) {
      return rendered(typed.error(), text, display_name);
    }
    Result<parser::Stages> stages = parser::split_stages(std::move(*typed));
    if (!stages) {
      return rendered(stages.error(), text, display_name);
    }
  }
  if (warnings != nullptr) {
    for (const parser::Warning& w : ast->warnings) {
      warnings->push_back(cat(display_name, ":", w.line, ": ", w.message));
    }
  }
  if (output == ParseOutput::json) {
    return render_json(*ast);
  }
  return parser::dump(*ast) + "\n";
}

}  // namespace kiln::dockerfile
