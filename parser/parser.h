// The Dockerfile parser entry point: text -> Ast (ast.h). BuildKit's
// parse, byte for byte as specified in ../shared/conformance/README.md
// section 1: physical lines, BOM, CRLF, directives, comments, continuation,
// the 64 KiB line limit, flags, JSON vs shell form, ONBUILD, heredocs.
#pragma once

#include <string_view>

#include "parser/ast.h"
#include "util/result.h"

namespace kiln::parser {

/// Parses a whole Dockerfile. The Ast owns all its strings (text may be
/// freed afterwards). Errors are ErrorCode::parse with a SourceRange
/// (file empty, lines 1-based; the caller sets the file name): no
/// instructions, a line over 65535 bytes, a repeated or bad directive, a JSON
/// array with a non-string element, ENV/LABEL without a value or `=`, an
/// unterminated heredoc. Render them with render_error() (errors.h).
Result<Ast> parse(std::string_view text);

}  // namespace kiln::parser
