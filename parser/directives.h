// Parser directives (`# syntax=`, `# escape=`, `# check=`): the reader the
// main parse uses (README 1.3) and BuildKit's stand-alone look-ups that a
// builder uses before parsing (buildkit-inline-cases.md section 4).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parser/ast.h"
#include "util/result.h"

namespace kiln::parser {

/// Matches `<prefix>\s*NAME\s*=\s*VALUE\s*` (Go's `\s`: [\t\n\f\r ]) on one
/// line; NAME is lower-cased. nullopt when the line has another shape.
struct DirectiveMatch {
  std::string name;
  std::string value;
};
std::optional<DirectiveMatch> match_directive(std::string_view line, std::string_view prefix = "#");

/// The directive reader of the main parse: active until the first line that
/// is not a directive.
class DirectiveReader {
 public:
  explicit DirectiveReader(Directives& out) : m_out(out) {}
  /// Shows one line (newline stripped) to the reader. Errors: a repeated
  /// directive, an escape value other than \ or `.
  Result<void> feed(std::string_view line, int line_number);

 private:
  Directives& m_out;
  bool m_done = false;
};

/// Every leading `#` directive of text (name lower-cased, in order).
Result<std::vector<DirectiveMatch>> all_directives(std::string_view text);

/// BuildKit's DetectSyntax / check look-up: skips a BOM and a `#!` first
/// line; for `syntax` also accepts a whole-document JSON object with a string
/// `syntax` member and `//`-style directives.
struct DetectedDirective {
  std::string ref;    ///< value up to its first space
  std::string value;  ///< the whole value
  int line = 0;       ///< 1-based
};
std::optional<DetectedDirective> detect_directive(std::string_view text, std::string_view name);

/// True when a `# syntax=` value names BuildKit's Dockerfile frontend
/// (`docker/dockerfile:1...`, `docker/dockerfile-upstream`, optionally with
/// `docker.io/`), which kiln implements itself; any other frontend image is
/// ignored with a warning (kiln runs no frontend images).
bool is_builtin_syntax(std::string_view value);

}  // namespace kiln::parser
