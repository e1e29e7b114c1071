// kiln parse
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <memory>

#include "frontend/cli/command.h"
#include "frontend/cli/output.h"
#include "frontend/dockerfile/parse_command.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::cli {

Handler setup_parse(CLI::App& sub) {
  struct Opts {
    std::string file = "Dockerfile";
    bool json = false;
    bool validate = false;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("-f,--file", o->file, "Dockerfile to parse (- for stdin)");
  sub.add_flag("--json", o->json, "Print JSON instead of the s-expression dump");
  sub.add_flag("--validate", o->validate, "Also check every instruction and flag as `bud` does");
  return [o](const Globals&) {
    auto text = o->file == "-" ? read_all(0) : read_file(o->file);
    if (!text) {
      return report_error(Error(ErrorCode::not_found, cat("read Dockerfile `", o->file, "`"), text.error().sys_errno()));
    }
    std::vector<std::string> warnings;
    auto r = dockerfile::render_parse(*text, o->file, o->json ? dockerfile::ParseOutput::json : dockerfile::ParseOutput::sexpr,
                                      o->validate ? dockerfile::Validate::yes : dockerfile::Validate::no, &warnings);
    for (const auto& w : warnings) {
      std::string line = cat("warning: ", w, "\n");
      ssize_t ignored = ::write(2, line.data(), line.size());
      (void)ignored;
    }
    if (!r) {
      // The message is already the rendered "file:line: message", line and caret.
      std::string msg = r.error().render() + "\n";
      ssize_t ignored = ::write(2, msg.data(), msg.size());
      (void)ignored;
      return 1;
    }
    print_line(*r);
    return 0;
  };
}

}  // namespace kiln::cli
