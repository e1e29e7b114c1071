// Rendering Dockerfile errors with their source (STYLE.md C5), like ninja's
// Lexer::Error:
//
//   Dockerfile:3: unknown flag `--foo` for COPY (COPY takes --chmod, ...)
//   COPY --foo a b
//        ^
//
// Parser errors are plain kiln::Error values with ErrorCode::parse or
// invalid_input and a SourceRange (line_begin, optional column).
#pragma once

#include <string>
#include <string_view>

#include "util/result.h"

namespace kiln::parser {

/// Builds an error located at a Dockerfile line (and optionally a 1-based
/// byte column of that line, for the caret).
Error located_error(ErrorCode code, std::string message, int line_begin, int line_end = 0, int column = 0);

/// Renders `NAME:LINE: message`, the offending physical line and a caret line.
/// NAME is the error's SourceRange.file when set, else display_name. The
/// caret sits under the given column, or under the line's first non-blank
/// character. Without a line (0), only `NAME: message`. The message is
/// Error::render() (context chain included). No trailing newline.
std::string render_error(const Error& error, std::string_view text, std::string_view display_name);

/// The 1-based physical line `line` of text, without its newline ("" when out
/// of range).
std::string_view source_line(std::string_view text, int line);

}  // namespace kiln::parser
