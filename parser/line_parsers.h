// Turning one logical instruction line into keyword, flags and raw
// arguments (../shared/conformance/README.md sections 1.5 and 1.6). Internal
// to parser/; exposed for parser.cc and the tests.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "parser/ast.h"
#include "util/result.h"

namespace kiln::parser {

/// Splits a line into the keyword and the rest (both trimmed; rest may be "").
struct SplitLine {
  std::string_view keyword;
  std::string_view rest;
};
SplitLine split_keyword(std::string_view line);

/// Reads leading `--flag` words off rest: unquotes and unescapes them (escape
/// character `escape`) and stops at the first word not starting with `--`, or
/// after a lone `--`. Returns the remaining arguments text, trimmed.
std::string_view extract_flags(std::string_view rest, char escape, std::vector<std::string>& flags);

/// The "words" of ARG/ENV/LABEL: split at unquoted whitespace, quotes and
/// escapes kept.
std::vector<std::string> parse_words(std::string_view rest, char escape);

/// Fills node.keyword/kind/flags/args/json_form/trigger from a logical line.
/// depth counts ONBUILD nesting (more than 64 levels is refused). Errors are
/// the parse errors of README 1.9 (without a source range).
Result<void> parse_line(std::string_view line, char escape, Node& node, int depth = 0);

}  // namespace kiln::parser
