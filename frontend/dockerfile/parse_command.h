// The logic of `kiln parse [-f Dockerfile] [--json] [--validate]`: the
// parse of a Dockerfile rendered as the conformance s-expression dump or as
// JSON (issue 3). The CLI reads the file, calls render_parse() and prints.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "parser/ast.h"
#include "util/result.h"

namespace kiln::dockerfile {

enum class ParseOutput {
  sexpr,  ///< one `(instruction ...)` line per instruction, as the conformance `result` files
  json,   ///< one JSON object (format below)
};

enum class Validate {
  yes,  ///< also type every instruction (what `bud` does): unknown
        ///< instructions, bad flags and values are errors
  no,   ///< the raw parse only
};

/// Parses dockerfile_text and renders it; the text ends with "\n".
///
/// JSON (keys sorted, compact):
///   {"directives": {"check": STR|null, "escape": "\\", "syntax": STR|null},
///    "instructions": [INSTRUCTION...]}
///   INSTRUCTION = {"args": [...raw args, ENV/LABEL as key/value/"=" triples],
///     "end_line": N, "flags": ["--from=build"...], "heredocs": [{"body": raw,
///     "delimiter": "EOF", "expand": bool, "strip_tabs": bool}...],
///     "json_form": bool, "keyword": "COPY" (as written), "original": the
///     logical line trimmed, "start_line": N, "trigger": INSTRUCTION (ONBUILD
///     only, whose "args" is then [])}
///   An ONBUILD's heredocs are listed on the ONBUILD itself (as BuildKit
///   attaches them), its trigger's "heredocs" is [].
///
/// Errors: the parse (or, with Validate::yes, typing) error, whose message is
/// already rendered for the terminal: `NAME:LINE: message`, the offending
/// line and a caret (parser::render_error), NAME being display_name. Print it
/// as is and exit 1. Warnings (empty continuation lines, an ignored
/// `# syntax=` frontend) are appended to *warnings when given, each as
/// `NAME:LINE: message`.
Result<std::string> render_parse(std::string_view dockerfile_text, std::string_view display_name,
                                 ParseOutput output, Validate validate,
                                 std::vector<std::string>* warnings = nullptr);

}  // namespace kiln::dockerfile
